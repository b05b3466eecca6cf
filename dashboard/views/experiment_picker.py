"""The experiment picker: shown when a server watches several experiments."""

from __future__ import annotations

import panel as pn
import param

from dashboard.session import SessionState
from dashboard.views.markup import esc, legend, status_css
from lute_model.experiment import Experiment


class ExperimentPicker(pn.viewable.Viewer):
    """One card per experiment with its status counts; a click opens it."""

    experiments = param.Dict(default={})
    session = param.ClassSelector(class_=SessionState)

    def _card(self, experiment: Experiment) -> pn.viewable.Viewable:
        button = pn.widgets.Button(label=f"Open {experiment.name}", color="primary",
                                   width=240)
        button.on_click(lambda _e, name=experiment.name: self.session.param.update(
            experiment=name, view="overview", task="", run="", page=""))
        runs = experiment.runs
        span = f"runs {runs[-1]} … {runs[0]} ({len(runs)})" if runs else "no runs yet"
        info = (f"<h3 style='margin:0'>{esc(experiment.name)}</h3>"
                f"<div class='lute-muted'>{esc(span)} · {len(experiment.pages)} summary pages"
                f" · {len(experiment.problems)} problems</div>"
                f"<div style='margin-top:6px'>{legend(experiment.counts)}</div>")
        return pn.Row(pn.pane.HTML(info, stylesheets=[status_css(), _MUTED_CSS],
                                   disable_math=True, sizing_mode="stretch_width"),
                      button, css_classes=["lute-card"], stylesheets=[_CARD_CSS],
                      sizing_mode="stretch_width")

    def __panel__(self) -> pn.viewable.Viewable:
        cards = [self._card(e) for e in self.experiments.values()]
        return pn.Column(pn.pane.Markdown(f"## {len(cards)} experiments"), *cards,
                         sizing_mode="stretch_width")


# Each card is its own shadow root: the template's CSS does not reach it.
_CARD_CSS = """
:host(.lute-card) { border: 1px solid rgba(127, 127, 127, 0.35); border-radius: 8px;
                    padding: 10px 14px; margin: 6px 10px; align-items: center; }
"""
_MUTED_CSS = ".lute-muted { opacity: 0.75; }"
