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
        button = pn.widgets.Button(name=f"Open {experiment.name}", button_type="primary",
                                   width=240)
        button.on_click(lambda _e, name=experiment.name: self.session.param.update(
            experiment=name, view="overview", task="", run="", page=""))
        runs = experiment.runs
        span = f"runs {runs[-1]} … {runs[0]} ({len(runs)})" if runs else "no runs yet"
        info = (f"<h3 style='margin:0'>{esc(experiment.name)}</h3>"
                f"<div class='lute-muted'>{esc(span)} · {len(experiment.pages)} summary pages"
                f" · {len(experiment.problems)} problems</div>"
                f"<div style='margin-top:6px'>{legend(experiment.counts)}</div>")
        return pn.Row(pn.pane.HTML(info, stylesheets=[status_css()], disable_math=True,
                                   sizing_mode="stretch_width"),
                      button, css_classes=["lute-card"], sizing_mode="stretch_width")

    def __panel__(self) -> pn.viewable.Viewable:
        cards = [self._card(e) for e in self.experiments.values()]
        return pn.Column(pn.pane.Markdown(f"## {len(cards)} experiments"), *cards,
                         sizing_mode="stretch_width")
