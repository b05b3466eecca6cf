"""The dashboard's routes for plain ``panel serve``, given as Panel's ``--plugins`` module.

    panel serve dashboard/app.py --plugins dashboard.plugin --liveness --args EXP

Panel imports the module once, at start, and serves its ``ROUTES`` beside the
app (Bokeh puts its ``--prefix`` in front).  The experiments are those the app
is configured with when its first session runs.  Panel serves a plugin's routes
after its own, so only these routes can check the ``Host``; ``lute-dashboard
serve`` guards every route (``guards.py``).
"""

from __future__ import annotations

from dashboard.guards import own_host_only
from dashboard.registry import summary_roots
from dashboard.server import Route, report_patterns

ROUTES: list[Route] = report_patterns(summary_roots, guard=own_host_only)
