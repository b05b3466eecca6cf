"""The problems panel: what the readers could not read, as text, never a traceback."""

from __future__ import annotations

import panel as pn
import param

from dashboard.session import subscribe
from dashboard.views.markup import esc
from lute_model.experiment import Experiment
from lute_model.problems import Problem


def problems_html(problems: list[Problem]) -> str:
    if not problems:
        return "<p class='lute-muted'>No problems: every file was read as LUTE writes it.</p>"
    rows = "".join(f"<tr><td class='path'>{esc(p.path)}</td><td>{esc(p.message)}</td></tr>"
                   for p in problems)
    return (f"<p>{len(problems)} problem(s) found while reading. The rest of the experiment is "
            f"shown as usual.</p><table class='lute-problems'>{rows}</table>")


class ProblemsView(pn.viewable.Viewer):
    """Every Problem of one experiment, updated as files get fixed or break."""

    experiment = param.ClassSelector(class_=Experiment)

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._pane = pn.pane.HTML(problems_html(self.experiment.problems),
                                  sizing_mode="stretch_width", disable_math=True,
                                  stylesheets=[_CSS])
        subscribe(self.experiment, "problems", self._update)

    def _update(self, event: param.parameterized.Event) -> None:
        self._pane.object = problems_html(event.new)

    def __panel__(self) -> pn.viewable.Viewable:
        return self._pane


_CSS = """
table { border-collapse: collapse; }
td { padding: 3px 12px 3px 0; vertical-align: top; }
.lute-muted { opacity: 0.75; }
td.path { font-family: ui-monospace, monospace; word-break: break-all; max-width: 45vw; }
"""
