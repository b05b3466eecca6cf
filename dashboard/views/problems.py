"""The problems panel: what the readers could not read, as text, never a traceback."""

from __future__ import annotations

import panel as pn
import param

from dashboard.session import subscribe
from dashboard.views.markup import esc
from lute_model.experiment import Experiment
from lute_model.problems import Problem
from lute_model.sources.lutedb import LAYOUT_NAMES


def problems_html(problems: list[Problem], layouts: dict[str, list[str]]) -> str:
    """The problems, and which of LUTE's layouts each database was read as."""
    read_as = "".join(
        f"<tr><td class='path'>{esc(path)}</td><td>read as "
        f"{esc(' and '.join(LAYOUT_NAMES[n] for n in names) or 'no LUTE layout')}</td></tr>"
        for path, names in sorted(layouts.items()))
    databases = f"<table class='lute-layouts'>{read_as}</table>" if read_as else ""
    if not problems:
        return ("<p class='lute-muted'>No problems: every file was read as LUTE writes it.</p>"
                + databases)
    rows = "".join(f"<tr><td class='path'>{esc(p.path)}</td><td>{esc(p.message)}</td></tr>"
                   for p in problems)
    return (f"<p>{len(problems)} problem(s) found while reading. The rest of the experiment is "
            f"shown as usual.</p><table class='lute-problems'>{rows}</table>{databases}")


class ProblemsView(pn.viewable.Viewer):
    """Every Problem of one experiment, updated as files get fixed or break."""

    experiment = param.ClassSelector(class_=Experiment)

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._pane = pn.pane.HTML(self._html(),
                                  sizing_mode="stretch_width", disable_math=True,
                                  stylesheets=[_CSS])
        subscribe(self.experiment, "problems", self._update)
        subscribe(self.experiment, "layouts", self._update)

    def _html(self) -> str:
        return problems_html(self.experiment.problems, self.experiment.layouts)

    def _update(self, _event: param.parameterized.Event) -> None:
        self._pane.object = self._html()

    def __panel__(self) -> pn.viewable.Viewable:
        return self._pane


_CSS = """
table { border-collapse: collapse; }
table.lute-layouts { margin-top: 10px; opacity: 0.8; }
td { padding: 3px 12px 3px 0; vertical-align: top; }
.lute-muted { opacity: 0.75; }
td.path { font-family: ui-monospace, monospace; word-break: break-all; max-width: 45vw; }
"""
