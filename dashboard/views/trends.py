"""Trends: any value a Task reports, against run; several overlaid; a point opens its run.

The plot is declared with HoloViews (bokeh backend): one ``Scatter`` per
value, overlaid, each value name on its own y axis (``multi_y``), hover
with run and value, tap.  It is rendered to a bokeh figure once per choice
of values; from then on a refresh only patches the points that changed and
streams the runs that are newer than every point shown, through each
series' own ``ColumnDataSource`` (a trend of 10,000 points is not sent
again because run 10,001 ended).  Ranges are ``DataRange1d`` so that
streamed points stay in view.

Values come from the experiment's shared :class:`lute_model.trends.ValueTable`.
``session.trend`` is the truth (``?trend=TASK:VALUE|…``); with none chosen
the value reported for the most runs is drawn, without writing the link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import panel as pn
import param
from bokeh.models import ColumnDataSource, DataRange1d

from dashboard.session import subscribe
from dashboard.views.base import SessionView
from dashboard.views.html_pane import HTML
from dashboard.views.templates import HtmlTemplate, visible
from lute_model.experiment import ExperimentChange
from lute_model.trends import Spec, parse_specs, specs_text, value_table

PLOT_HEIGHT = 480
#: From this many points on, smaller dots and no line: 10,000 big dots are one blue block.
DENSE = 1000
HELP = ("Ctrl-click (⌘-click) to overlay several values; each value name gets its own "
        "axis. Click a point to open that run's Task.")
NO_VALUES = ("No Task of this experiment has reported a numeric value in its summary yet "
             "(e.g. 'Fractional hit rate: 0.16').")
_NO_VALUES = str(HtmlTemplate("<p>{{ text }}</p>")(text=NO_VALUES))
_CAPTION = HtmlTemplate(
    "<div>{% for shown in shown %}{% if not loop.first %}<br>{% endif %}"
    "<b>{{ label(shown.spec) }}</b>: {{ shown.runs|length }} points, "
    "{% if shown.runs %}runs {{ shown.runs[0] }}–{{ shown.runs[-1] }}{% else %}no runs yet"
    "{% endif %}{% endfor %}</div><div style='opacity:.7'>{{ help }}</div>")


def series_label(spec: Spec) -> str:
    """How a trend is named on screen: ``Task · value``, as text (never HTML)."""
    return visible(f"{spec[0]} · {spec[1]}")  # a NUL or lone surrogate spelled out


@dataclass
class Shown:
    """One drawn series: its points as the browser has them."""

    spec: Spec
    column: str
    source: ColumnDataSource
    runs: list[int] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)

    def load(self, runs: list[int], values: list[float]) -> None:
        """Replace every point (a reset, a run that sorts between, a value that vanished)."""
        self.runs, self.index = list(runs), {run: i for i, run in enumerate(runs)}
        self.source.data = {"run": list(runs), self.column: list(values)}

    def update(self, points: list[tuple[int, float | None]]) -> bool:
        """Patch changed points and stream newer runs; False when only a reload will do."""
        patches, new_runs, new_values = [], [], []
        for run, value in sorted(points):
            position = self.index.get(run)
            if position is not None:
                if value is None:
                    return False
                patches.append((position, value))
            elif value is not None:
                last = new_runs[-1] if new_runs else (self.runs[-1] if self.runs else None)
                if last is not None and run < last:
                    return False
                new_runs.append(run)
                new_values.append(value)
        if patches:
            self.source.patch({self.column: patches})
        if new_runs:
            self.index.update((run, len(self.runs) + i) for i, run in enumerate(new_runs))
            self.runs += new_runs
            self.source.stream({"run": new_runs, self.column: new_values})
        return True


def render_trends(specs: list[Spec], data: list[tuple[list[int], list[float]]]) -> Any:
    """The bokeh figure of the overlaid trends, declared with HoloViews."""
    # Imported when the first trend is drawn: ~1 s that a server start saves.
    import holoviews as hv
    import holoviews.plotting.bokeh  # registers the backend the options are for

    axes: dict[str, str] = {}  # value name -> its y dimension (one axis per value name)
    elements = []
    for spec, (runs, values) in zip(specs, data, strict=True):
        column = axes.setdefault(spec[1], f"v{len(axes)}")
        label = series_label(spec)
        elements.append(hv.Scatter(
            {"run": runs, column: values}, kdims=[hv.Dimension("run", label="run")],
            vdims=[hv.Dimension(column, label=visible(spec[1]))], label=label,
        ).opts(tools=["hover", "tap"], size=6 if len(runs) < DENSE else 3, nonselection_alpha=0.5,
               hover_tooltips=[("run", "@{run}"), (label, f"@{{{column}}}")]))
    overlay = hv.Overlay(elements).opts(
        multi_y=len(axes) > 1, responsive=True, height=PLOT_HEIGHT, legend_position="top",
        show_grid=True, toolbar="right", title="")
    figure = hv.render(overlay, backend="bokeh")
    figure.name = "trend-plot"
    figure.xaxis.ticker.min_interval = 1  # runs are whole numbers: no tick at run 1.5
    return figure


def _follow_data(figure: Any, scatters: list[Any]) -> None:
    """Ranges that grow with streamed points (HoloViews fixes them at render time), and
    each y axis in the color of its first series, so the eye finds which axis is whose."""
    figure.x_range = DataRange1d(renderers=scatters, range_padding=0.03)
    for name in dict.fromkeys(r.y_range_name for r in scatters):
        own = [r for r in scatters if r.y_range_name == name]
        if name == "default":
            figure.y_range = DataRange1d(renderers=own, range_padding=0.08)
        else:
            figure.extra_y_ranges[name] = DataRange1d(renderers=own, range_padding=0.08)
        if len(scatters) > 1:
            for axis in figure.yaxis:
                if axis.y_range_name == name:
                    axis.axis_label_text_color = own[0].glyph.fill_color


class TrendsView(SessionView):
    """Chosen values against run, for one session; follows ``session.trend``."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._table = value_table(self.experiment)
        self._syncing = False
        self._choices: list[Spec] = []
        self._shown: list[Shown] = []
        self._filter = pn.widgets.TextInput(placeholder="Filter values…", width=380)
        self._chooser = pn.widgets.MultiSelect(size=16, width=380, name="Values")
        self._caption = HTML("", sizing_mode="stretch_width", margin=(5, 10))
        self._plot = pn.pane.Bokeh(None, sizing_mode="stretch_width", min_height=PLOT_HEIGHT)
        self._filter.param.watch(lambda _e: self._fill_chooser(), "value_input")
        self._chooser.param.watch(self._chosen, "value")
        self.session.param.watch(lambda _e: self._draw(), "trend")
        subscribe(self.experiment, "change", lambda event: self.apply_change(event.new))
        self._fill_chooser()
        self._draw()

    # -- what is drawn ---------------------------------------------------------

    def specs(self) -> list[Spec]:
        """The trends to draw: the link's, else the value reported for the most runs."""
        specs = parse_specs(self.session.trend, self.experiment.tasks)
        if specs or not self._choices:
            return specs
        return [max(self._choices, key=lambda spec: len(self._table.series(spec).runs))]

    def _fill_chooser(self) -> None:
        """The values to choose from, filtered, with the drawn ones kept selected."""
        self._choices = self._table.choices(self.experiment.tasks)
        needle = self._filter.value_input.strip().casefold()
        drawn = self.specs()
        options = {series_label(spec): specs_text([spec]) for spec in self._choices
                   if spec in drawn or needle in series_label(spec).casefold()}
        self._syncing = True
        try:
            self._chooser.options = options
            self._chooser.value = [specs_text([spec]) for spec in drawn
                                   if specs_text([spec]) in options.values()]
        finally:
            self._syncing = False

    def _chosen(self, event: param.parameterized.Event) -> None:
        if self._syncing or not event.new:
            return
        chosen = parse_specs("|".join(event.new), self.experiment.tasks)
        self.session.trend = specs_text(chosen)

    def _draw(self) -> None:
        """Render the chosen trends anew: on a new choice or a reset, never per refresh."""
        self._table.sync()
        self._fill_chooser()
        specs = self.specs()
        if not specs:
            self._shown = []
            self._plot.object = None
            self._caption.object = _NO_VALUES
            return
        series = [self._table.series(spec) for spec in specs]
        figure = render_trends(specs, [(s.runs, s.values) for s in series])
        scatters = [r for r in figure.renderers if "run" in r.data_source.data][:len(specs)]
        _follow_data(figure, scatters)
        self._shown = []
        for spec, renderer, points in zip(specs, scatters, series, strict=True):
            column = next(name for name in renderer.data_source.data if name != "run")
            shown = Shown(spec, column, renderer.data_source, points.runs,
                          {run: i for i, run in enumerate(points.runs)})
            renderer.data_source.selected.on_change("indices", partial(self._tapped, shown))
            if len(points.runs) < DENSE:  # a line through 10,000 points is ink, not a trend
                figure.line("run", column, source=renderer.data_source, line_alpha=0.45,
                            line_color=renderer.glyph.fill_color,
                            y_range_name=renderer.y_range_name, level="underlay")
            self._shown.append(shown)
        self._plot.object = figure
        self._caption_text()

    def _caption_text(self) -> None:
        self._caption.object = str(_CAPTION(shown=self._shown, label=series_label, help=HELP))

    # -- a click ---------------------------------------------------------------

    def _tapped(self, shown: Shown, _attr: str, _old: list[int], new: list[int]) -> None:
        """A point opens its run's Task detail (the point's place names the run)."""
        if not new or new[0] >= len(shown.runs):
            return
        run = shown.runs[new[0]]
        shown.source.selected.indices = []
        self.session.param.update(task=shown.spec[0], run=str(run))

    # -- live ------------------------------------------------------------------

    def apply_change(self, change: ExperimentChange | None) -> None:
        """New and changed cells of the drawn Tasks: patched and streamed, not redrawn."""
        if change is None:
            return
        self._table.sync()
        if change.reset or not self._shown:
            self._draw()
            return
        if self._table.choices(self.experiment.tasks) != self._choices:
            self._fill_chooser()
        for shown in self._shown:
            task, name = shown.spec
            runs = {run for cell_task, run in change.cells
                    if cell_task == task and isinstance(run, int)}
            if not runs:
                continue
            points = [(run, self._table.value(task, run, name)) for run in runs]
            if not shown.update(points):
                series = self._table.series(shown.spec)
                shown.load(series.runs, series.values)
        self._caption_text()

    def __panel__(self) -> pn.viewable.Viewable:
        sidebar = pn.Column(self._filter, self._chooser, width=400)
        return pn.Row(sidebar, pn.Column(self._caption, self._plot, sizing_mode="stretch_width"),
                      sizing_mode="stretch_width")

