"""What ``panel serve`` runs: one page per browser session, no logic here.

``lute-dashboard serve PATH...`` configures the process first; plain
``panel serve dashboard/app.py --plugins dashboard.plugin --args PATH...`` is
configured from its arguments (the plugin adds the report routes).
"""

import sys

from dashboard.cli import config_from_argv
from dashboard.main import create_app
from dashboard.registry import configure

configure(config_from_argv(sys.argv[1:]))
create_app().servable(title="LUTE dashboard")
