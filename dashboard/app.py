"""What ``panel serve`` runs: one page per browser session, no logic here.

``lute-dashboard serve PATH...`` configures the process first; plain
``panel serve dashboard/app.py --args PATH...`` is configured from its arguments.
"""

import sys

from dashboard.main import config_from_argv, create_app
from dashboard.registry import configure
from dashboard.server import install_report_routes

registry = configure(config_from_argv(sys.argv[1:]))
install_report_routes(registry.summary_roots)  # plain `panel serve` takes no extra routes
create_app().servable(title="LUTE dashboard")
