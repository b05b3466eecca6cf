"""The problems panel: what the readers could not read, as text, never a traceback."""

from __future__ import annotations

import panel as pn
import param
from markupsafe import Markup

from dashboard.session import subscribe
from dashboard.views.html_pane import HTML
from dashboard.views.templates import HtmlTemplate
from lute_model.experiment import Experiment
from lute_model.problems import Problem
from lute_model.sources.lutedb import LAYOUT_NAMES

_PROBLEMS = HtmlTemplate(
    "{% if problems %}<p>{{ problems|length }} problem(s) found while reading. The rest of the "
    "experiment is shown as usual.</p><table class='lute-problems'>{% for p in problems %}"
    "<tr><td class='path'>{{ p.path }}</td><td>{{ p.message }}</td></tr>{% endfor %}</table>"
    "{% else %}<p class='lute-muted'>No problems: every file was read as LUTE writes it.</p>"
    "{% endif %}{% if layouts %}<table class='lute-layouts'>{% for path, names in layouts %}"
    "<tr><td class='path'>{{ path }}</td><td>read as {{ names }}</td></tr>{% endfor %}</table>"
    "{% endif %}")


def problems_html(problems: list[Problem], layouts: dict[str, list[str]]) -> Markup:
    """The problems, and which of LUTE's layouts each database was read as."""
    read_as = [(path, " and ".join(LAYOUT_NAMES[n] for n in names) or "no LUTE layout")
               for path, names in sorted(layouts.items())]
    return _PROBLEMS(problems=problems, layouts=read_as)


class ProblemsView(pn.viewable.Viewer):
    """Every Problem of one experiment, updated as files get fixed or break."""

    experiment = param.ClassSelector(class_=Experiment)

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._pane = HTML(self._html(),
                                  sizing_mode="stretch_width", disable_math=True,
                                  stylesheets=[_CSS])
        subscribe(self.experiment, "problems", self._update)
        subscribe(self.experiment, "layouts", self._update)

    def _html(self) -> str:
        return str(problems_html(self.experiment.problems, self.experiment.layouts))

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
