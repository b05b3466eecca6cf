"""The floor page: what any ``panel serve`` page of a FastListTemplate costs to open.

    panel serve bench/floor_page.py

One Markdown pane in Panel's FastListTemplate, nothing of the dashboard: the
first screen of the dashboard is measured against this page, served and opened
in the same run (``bench/first_screen.py``), so a busy machine slows both alike.
"""

import panel as pn

pn.template.FastListTemplate(title="Floor page",
                             main=[pn.pane.Markdown("# The floor page")]).servable()
