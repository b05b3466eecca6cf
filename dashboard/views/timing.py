"""Timing: how long Tasks waited and ran, per run and over the last runs, and runs per hour.

Three parts, from :mod:`lute_model.timing`: a timeline of one run's Tasks
(queued → started in grey, started → ended in the status color; a Task
known only by its end is a tick), with the times as a table; the median
duration per Task over the newest N runs; and how many runs began in each
hour.  ``session.run`` chooses the run (``?view=timing&run=R``), the newest
by default.  Live changes refill the figures' sources (a run's Tasks, an
hour's count), never the figures; runs per hour is computed once per
experiment state for all sessions.

Test hooks: the figures are named ``timing-timeline`` and ``timing-per-hour``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import panel as pn
import param
from bokeh.models import ColumnDataSource, DatetimeTickFormatter, FactorRange, HoverTool
from bokeh.plotting import figure

from dashboard.session import subscribe
from dashboard.views.base import SessionView
from dashboard.views.detail_parts import DETAIL_CSS
from dashboard.views.html_pane import HTML
from dashboard.views.templates import HtmlTemplate, status_css
from lute_model.experiment import ExperimentChange
from lute_model.runs import run_key
from lute_model.status import PALETTE
from lute_model.timing import Timing, median_durations, run_timeline, runs_per_hour

LAST_RUNS = 20
WAITING = "#c8c8c8"
_CSS = """
table.timing { border-collapse: collapse; font-size: 13px; margin: 4px 0 12px 0; }
table.timing th, table.timing td { text-align: left; padding: 3px 14px 3px 0;
  border-bottom: 1px solid rgba(127,127,127,.2); white-space: nowrap; }
table.timing td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""
_RUN_TABLE = HtmlTemplate(
    "{% for t in timings %}{% if loop.first %}<h4>Run {{ run }}</h4><table class='timing'>"
    "<tr><th>Task</th><th>status</th><th>queued (UTC)</th><th>started</th><th>ended</th>"
    "<th>waited</th><th>duration</th></tr>{% endif %}<tr><td>{{ t.task }}</td>"
    "<td>{{ badge(t.status) }}</td><td>{{ clock(t.queued) }}</td><td>{{ clock(t.started) }}"
    "</td><td>{{ clock(t.ended) }}</td><td class='num'>{{ seconds(t.waited) }}</td>"
    "<td class='num'>{{ seconds(t.duration) }}</td></tr>{% if loop.last %}</table>{% endif %}"
    "{% else %}<p class='muted'>No Task ran for this run yet.</p>{% endfor %}")
_MEDIANS = HtmlTemplate(
    "{% for task, median, runs in rows %}{% if loop.first %}<table class='timing'><tr>"
    "<th>Task</th><th>median duration</th><th>runs timed</th></tr>{% endif %}<tr>"
    "<td>{{ task }}</td><td class='num'>{{ seconds(median) }}</td><td class='num'>{{ runs }}"
    "</td></tr>{% if loop.last %}</table>{% endif %}{% else %}<p class='muted'>No durations "
    "yet: they need the status journal's RUNNING events (see docs/lute-journal.md).</p>"
    "{% endfor %}")


def seconds_text(seconds: float | None) -> str:
    """A duration as a person reads it: ``12.3 s``, ``4 min 05 s``, ``1 h 02 min``."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _ms(time: datetime | None) -> float:
    """Bokeh's datetime axis counts milliseconds since the epoch; NaN draws nothing."""
    return time.timestamp() * 1000 if time is not None else float("nan")


def _clock(time: datetime | None) -> str:
    return time.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if time else "–"


def timeline_columns(timings: list[Timing], now: datetime) -> dict[str, list[Any]]:
    """One entry per Task: its waiting and running spans (a queued Task waits until now, a
    running one runs until now)."""
    columns: dict[str, list[Any]] = {name: [] for name in (
        "task", "queued", "waited_until", "started", "ended", "end", "color", "status",
        "duration", "times")}
    for timing in timings:
        running_until = timing.ended or (now if timing.started is not None else None)
        columns["task"].append(timing.task)
        columns["queued"].append(_ms(timing.queued))
        columns["waited_until"].append(_ms(timing.started or timing.ended or now))
        columns["started"].append(_ms(timing.started))
        columns["ended"].append(_ms(running_until))
        columns["end"].append(_ms(timing.ended))
        columns["color"].append(PALETTE[timing.status])
        columns["status"].append(timing.status.name)
        columns["duration"].append(seconds_text(timing.duration))
        columns["times"].append(f"{_clock(timing.queued)} → {_clock(timing.started)} → "
                                f"{_clock(timing.ended)}")
    return columns


class TimingView(SessionView):
    """Timing of one experiment for one session; follows ``session.run``."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._run = pn.widgets.Select(name="Run", width=140)
        self._last = pn.widgets.IntInput(name="Median over the newest runs", value=LAST_RUNS,
                                         start=1, width=200)
        self._spans = ColumnDataSource(timeline_columns([], datetime.now(timezone.utc)))
        self._hours = ColumnDataSource({"hour": [], "count": [], "label": []})
        self._timeline = self._timeline_figure()
        self._per_hour = self._per_hour_figure()
        self._table = HTML("", stylesheets=[status_css(), DETAIL_CSS, _CSS])
        self._medians = HTML("", stylesheets=[DETAIL_CSS, _CSS])
        self._run.param.watch(self._run_chosen, "value")
        self._last.param.watch(lambda _e: self._render_medians(), "value")
        self.session.param.watch(lambda *_e: self._render_run(), ["run", "view"])
        subscribe(self.experiment, "change", lambda event: self.apply_change(event.new))
        self.apply_change(ExperimentChange(reset=True))

    # -- figures ---------------------------------------------------------------

    def _timeline_figure(self) -> Any:
        fig = figure(name="timing-timeline", y_range=FactorRange(), x_axis_type="datetime",
                     height=260, sizing_mode="stretch_width", tools="xpan,xwheel_zoom,reset",
                     toolbar_location="right", title="")
        fig.hbar(y="task", left="queued", right="waited_until", height=0.5, color=WAITING,
                 source=self._spans, legend_label="queued, waiting")
        bars = fig.hbar(y="task", left="started", right="ended", height=0.7, color="color",
                        source=self._spans)
        ends = fig.scatter(x="end", y="task", marker="dash", size=16, angle=1.5708,
                           color="color", line_width=3, source=self._spans)
        fig.add_tools(HoverTool(renderers=[bars, ends], tooltips=[
            ("Task", "@task"), ("status", "@status"), ("duration", "@duration"),
            ("queued → started → ended (UTC)", "@times")]))
        fig.xaxis.formatter = DatetimeTickFormatter(seconds="%H:%M:%S", minsec="%H:%M:%S",
                                                    minutes="%H:%M", hours="%H:%M",
                                                    days="%m-%d %H:%M")
        fig.add_layout(fig.legend[0], "above")  # inside, it hid the last Task's bar
        return fig

    def _per_hour_figure(self) -> Any:
        fig = figure(name="timing-per-hour", x_axis_type="datetime", height=220,
                     sizing_mode="stretch_width", tools="xpan,xwheel_zoom,reset",
                     toolbar_location="right", title="")
        bars = fig.vbar(x="hour", top="count", width=3_600_000 * 0.9, source=self._hours,
                        color="#0072B2")
        fig.add_tools(HoverTool(renderers=[bars], tooltips=[("hour (UTC)", "@label"),
                                                            ("runs begun", "@count")]))
        fig.y_range.start = 0
        fig.yaxis.axis_label = "runs begun"
        return fig

    # -- what is shown ---------------------------------------------------------

    def run(self) -> Any:
        """The run shown: the link's, else the newest."""
        if self.session.run:
            return run_key(self.session.run)
        return self.experiment.runs[0] if self.experiment.runs else None

    def _run_chosen(self, event: param.parameterized.Event) -> None:
        if event.new and str(self.run()) != event.new:
            self.session.run = event.new

    def _render_run(self) -> None:
        """The chosen run's timeline and table (small: one run's Tasks)."""
        if self.session.view != "timing":
            return
        run = self.run()
        options = [str(r) for r in self.experiment.runs]
        if self._run.options != options:
            self._run.options = options
        self._run.value = str(run) if run is not None else None
        timings = run_timeline(self.experiment, run) if run is not None else []
        self._timeline.y_range.factors = [t.task for t in reversed(timings)]
        self._spans.data = timeline_columns(list(reversed(timings)), datetime.now(timezone.utc))
        self._table.object = str(_RUN_TABLE(run=run, timings=timings, clock=_clock,
                                            seconds=seconds_text))

    def _render_medians(self) -> None:
        last = self._last.value or LAST_RUNS
        medians = median_durations(self.experiment, last)
        rows = [(task, *medians[task]) for task in self.experiment.tasks if task in medians]
        self._medians.object = str(_MEDIANS(rows=rows, seconds=seconds_text))

    def _render_per_hour(self) -> None:
        per_hour = runs_per_hour(self.experiment)
        self._hours.data = {"hour": [_ms(hour) for hour in per_hour.hours],
                            "count": per_hour.counts,
                            "label": [hour.strftime("%Y-%m-%d %H:00") for hour in per_hour.hours]}

    def apply_change(self, change: ExperimentChange | None) -> None:
        """The shown run again when its cells changed; medians and hours when runs did."""
        if change is None:
            return
        run = self.run()
        if change.reset or change.new_runs or any(cell[1] == run for cell in change.cells):
            self._render_run()
        if change.reset or change.cells:
            self._render_medians()
            self._render_per_hour()

    def __panel__(self) -> pn.viewable.Viewable:
        note = HTML("<p class='muted'>Times come from the status journal (queued, "
                            "started) and the database (ended); UTC.</p>",
                            stylesheets=[DETAIL_CSS])
        return pn.Column(
            pn.Row(self._run, self._last), note, pn.pane.Bokeh(self._timeline), self._table,
            HTML("<h4>Median duration per Task</h4>"), self._medians,
            HTML("<h4>Runs per hour</h4>"), pn.pane.Bokeh(self._per_hour),
            sizing_mode="stretch_width", scroll=True)
