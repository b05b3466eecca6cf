"""The run × Task status grid: what the beamline's pipeline did, one colored cell per Task run.

One bokeh ``rect`` glyph over one ``ColumnDataSource`` draws every cell, so
2,000 runs × 20 Tasks stay one canvas of fixed height: runs are numeric rows
(the oldest at y=0, so a new run only ever adds a row at the top), labelled
through ``major_label_overrides``; the view shows the newest runs and scrolls
along y with the mouse wheel.  The columns are dense (every run × every Task,
an empty cell where a Task never ran), so the row of a cell is arithmetic and
a refresh patches only the changed cells and streams the new runs.

The columns for one experiment state are built once and shared by every
session (cached by the identity of ``experiment.change``); each session copies
the lists into its own bokeh models, because bokeh patches and streams them in
place.

Test hook: the figure is named ``status-grid``.  In the browser,
``Bokeh.documents[0].get_model_by_name('status-grid')`` is the figure and its
first renderer's ``data_source.data`` holds one entry per cell in the columns
``task``, ``run`` (the row's label), ``status`` (a status name, ``""`` where
the Task never ran) and ``color`` (``PALETTE[status]``).  The second
renderer's source holds only the status symbols of the cells in view.
"""

from __future__ import annotations

import copy
import math
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import panel as pn
import param
from bokeh.models import (
    ColumnDataSource,
    CustomJS,
    CustomJSHover,
    FactorRange,
    HoverTool,
    Range1d,
    TapTool,
    WheelPanTool,
    WheelZoomTool,
)
from bokeh.plotting import figure

from dashboard.session import SessionState, subscribe
from dashboard.views.markup import esc, legend, status_css
from lute_model.experiment import Experiment, ExperimentChange
from lute_model.results import TaskRun
from lute_model.status import PALETTE, SYMBOL, TEXT_ON
from lute_model.summary_text import first_line

#: Rows shown before the person scrolls: the last hour or two of an experiment.
VISIBLE_ROWS = 40
#: Smallest number of rows the plot is tall, so two runs do not become two huge bars.
MIN_ROWS = 8
#: Height of one row in screen pixels at the default view (40 rows ≈ 600 px).
ROW_PX = 15
#: Widest a Task's column gets: with a few Tasks, cells stay cells rather than long bars.
MAX_COLUMN_PX = 160
#: Above this many visible rows the status symbols would overlap: show color only.
MAX_SYMBOL_ROWS = 60
#: Fill of a cell whose Task never ran for that run: a faint grey on light and dark pages.
EMPTY_COLOR = "rgba(128, 128, 128, 0.12)"

#: One entry per cell.  Every string column costs the first page load of a big
#: experiment about a second, so what can be derived in the browser (symbol,
#: text color) is not a column.
HOVER_SUMMARY = 80
#: Runs a page opens with (the newest); older ones are sent once it is shown.
FIRST_RUNS = 200
COLUMNS = ("task", "run", "y", "status", "color", "time", "summary")

Columns = dict[str, Any]

#: Fills the symbols' own small source with the cells in view: the text glyph
#: measures every string it holds, which for 40,000 cells took seconds.  Set
#: with ``sync: false``: the server does not need to hear about it.
SYMBOLS_JS = """
const data = source.data, width = x_range.factors.length;
const low = Math.max(0, Math.ceil(y_range.start - 0.5)), high = Math.floor(y_range.end + 0.5);
const pick = {task: [], y: [], symbol: [], color: []};
if (width > 0 && high - low <= max_rows) {
  const stop = Math.min(data.task.length, high * width);
  for (let i = low * width; i < stop; i++) {
    const status = data.status[i];
    if (!status) continue;
    pick.task.push(data.task[i]); pick.y.push(data.y[i]);
    pick.symbol.push(symbol_of[status]); pick.color.push(text_on[status]);
  }
}
symbols.setv({data: pick}, {sync: false});
"""

#: The hover's status line: glyph and name, or that the Task never ran (text, never HTML).
STATUS_HOVER_JS = "return value ? `${symbol_of[value]} ${value}` : 'never ran';"


def run_label(run: Any) -> str:
    """How a run key is shown on the axis and handed to the session: ``12``, ``calib``."""
    return str(run)


def cell_values(row: TaskRun | None) -> dict[str, Any]:
    """What one cell shows for its latest execution (or for none): every column but place."""
    if row is None:
        return {"status": "", "color": EMPTY_COLOR, "time": "", "summary": ""}
    name = row.status.name
    # Every cell's text goes to every browser: the hover gets the first line, short.
    return {"status": name, "color": PALETTE[name], "time": row.timestamp[:19],
            "summary": first_line(row.summary, HOVER_SUMMARY)}


def build_columns(experiment: Experiment, runs_bottom_up: list[Any], first_y: int = 0) -> Columns:
    """The dense columns for ``runs_bottom_up``, row by row, Tasks in pipeline order."""
    columns: Columns = {name: [] for name in COLUMNS if name != "y"}
    latest = experiment.latest
    tasks = experiment.tasks
    for run in runs_bottom_up:
        label = run_label(run)
        for task in tasks:
            values = cell_values(latest.get((task, run)))
            values.update(task=task, run=label)
            for name, column in columns.items():
                column.append(values[name])
    rows = np.arange(first_y, first_y + len(runs_bottom_up), dtype=np.int32)
    columns["y"] = np.repeat(rows, len(tasks))
    return columns


def symbols_in_view(columns: Columns, width: int, start: float, end: float) -> Columns:
    """The symbols of the cells between ``start`` and ``end``: what SYMBOLS_JS computes later."""
    low, high = max(0, math.ceil(start - 0.5)), math.floor(end + 0.5)
    picked: Columns = {"task": [], "y": [], "symbol": [], "color": []}
    if width == 0 or high - low > MAX_SYMBOL_ROWS:
        return picked
    for index in range(low * width, min(len(columns["task"]), high * width)):
        status = columns["status"][index]
        if status:
            picked["task"].append(columns["task"][index])
            picked["y"].append(int(columns["y"][index]))
            picked["symbol"].append(SYMBOL[status])
            picked["color"].append(TEXT_ON[status])
    return picked


class _SharedCache:
    """Values derived from one experiment state, built once for every session that asks.

    Keyed by the experiment (weakly, so a closed experiment is freed) and by
    the identity of ``experiment.change``, which is new after every refresh.
    """

    def __init__(self) -> None:
        self._entries: weakref.WeakKeyDictionary[Experiment, dict[str, tuple[Any, Any]]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()

    def get(self, experiment: Experiment, name: str, build: Callable[[Experiment], Any]) -> Any:
        change = experiment.change
        with self._lock:
            entries = self._entries.setdefault(experiment, {})
            cached = entries.get(name)
            if cached is not None and cached[0] is change:
                return cached[1]
            value = build(experiment)
            entries[name] = (change, value)
            return value


_shared = _SharedCache()


def shared_columns(experiment: Experiment, newest: int | None = None) -> Columns:
    """The grid's columns for the experiment's current state (its ``newest`` runs only, if
    given); read-only, shared by sessions."""
    return _shared.get(experiment, f"columns-{newest}",
                       lambda exp: build_columns(exp, list(reversed(exp.runs[:newest]))))


class StatusGrid(pn.viewable.Viewer):
    """The run × Task grid of one experiment for one session; a click opens that Task's detail."""

    experiment = param.ClassSelector(class_=Experiment, doc="The shared experiment shown.")
    session = param.ClassSelector(class_=SessionState,
                                  doc="This browser session's state: a click sets task and run.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._tasks: list[str] = []
        self._runs: list[Any] = []  # bottom-up: index == y
        self._y_of_run: dict[Any, int] = {}
        self._source = ColumnDataSource(data={name: [] for name in COLUMNS})
        self._symbols = ColumnDataSource(data={"task": [], "y": [], "symbol": [], "color": []})
        self._figure = self._make_figure()
        self._legend = pn.pane.HTML("", stylesheets=[status_css()], margin=(5, 10))
        self._layout = pn.Column(
            self._legend,
            pn.pane.Bokeh(self._figure, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
        # A page opens with the newest runs only: what a session sends first must not
        # grow with the experiment.  The rest follows once the page is shown.
        self._newest: int | None = FIRST_RUNS
        self._rebuild()
        if len(self.experiment.runs) > FIRST_RUNS:
            pn.state.onload(self._load_all)
        self._source.selected.on_change("indices", self._on_tap)
        subscribe(self.experiment, "change", lambda event: self.apply_change(event.new))

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout

    def _make_figure(self) -> Any:
        """The figure and its glyphs, with no data yet: ranges are set by :meth:`_rebuild`."""
        fig = figure(
            name="status-grid", x_range=FactorRange(), y_range=Range1d(-0.5, VISIBLE_ROWS - 0.5),
            x_axis_location="above", sizing_mode="stretch_width",
            frame_height=VISIBLE_ROWS * ROW_PX, tools="ypan,reset", toolbar_location="right",
            background_fill_color=None, border_fill_color=None, outline_line_color=None,
            min_border_left=50, lod_threshold=None,  # decimating while scrolling hid 9 of 10 cells
        )
        cells = fig.rect(
            x="task", y="y", width=0.94, height=0.88, source=self._source, fill_color="color",
            line_color=None, nonselection_fill_alpha=1.0, selection_line_color="#000000",
            selection_line_width=2,
        )
        fig.text(x="task", y="y", text="symbol", source=self._symbols, text_color="color",
                 text_align="center", text_baseline="middle", text_font_size="11px")
        wheel = WheelPanTool(dimension="height")
        fig.add_tools(wheel, WheelZoomTool(dimensions="height"), TapTool(renderers=[cells]),
                      self._hover(cells))
        fig.toolbar.active_scroll = wheel
        fig.toolbar.autohide = True
        fig.grid.visible = False
        fig.axis.axis_line_color = None
        fig.axis.major_tick_line_color = None
        fig.axis.minor_tick_line_color = None
        fig.yaxis.axis_label = "run"
        fig.axis.major_label_text_color = self._label_color()
        fig.axis.axis_label_text_color = self._label_color()
        fig.yaxis.ticker.min_interval = 1
        fig.yaxis.ticker.desired_num_ticks = VISIBLE_ROWS
        self._follow_view_with_symbols(fig)
        return fig

    @staticmethod
    def _label_color() -> str:
        """Axis text drawn on the canvas cannot follow CSS: pick it for the session's theme."""
        return "#e0e0e0" if pn.config.theme == "dark" else "#444444"

    @staticmethod
    def _hover(cells: Any) -> HoverTool:
        """Run, Task, status, time and summary of the cell under the mouse, all as plain text."""
        status = CustomJSHover(args={"symbol_of": SYMBOL}, code=STATUS_HOVER_JS)
        return HoverTool(renderers=[cells], formatters={"@status": status}, tooltips=[
            ("Run", "@run"), ("Task", "@task"), ("Status", "@status{custom}"),
            ("Time (UTC)", "@time"),
            ("Summary", "@summary")])

    def _follow_view_with_symbols(self, fig: Any) -> None:
        """Refill the symbols in the browser whenever the view, the Tasks or the cells change."""
        callback = CustomJS(
            args={"source": self._source, "symbols": self._symbols, "x_range": fig.x_range,
                  "y_range": fig.y_range, "max_rows": MAX_SYMBOL_ROWS, "symbol_of": SYMBOL,
                  "text_on": TEXT_ON},
            code=SYMBOLS_JS)
        fig.y_range.js_on_change("start", callback)
        fig.y_range.js_on_change("end", callback)
        fig.x_range.js_on_change("factors", callback)
        self._source.js_on_change("data", callback)
        self._source.js_on_change("patching", callback)
        self._source.js_on_change("streaming", callback)

    def apply_change(self, change: ExperimentChange) -> None:
        """Bring this session's grid to the experiment's state after ``change``.

        Runs on the session's thread, maybe after later refreshes were already
        published, so it works from the experiment's current state: cells
        named by ``change`` are patched, runs newer than every row shown are
        streamed on top, and anything else (a reset, new Tasks, a run that
        sorts below the newest) rebuilds the columns.
        """
        runs = self.experiment.runs
        fresh = 0  # runs newer than every row shown
        while fresh < len(runs) and runs[fresh] not in self._y_of_run:
            fresh += 1
        shown = runs[fresh:fresh + len(self._runs)]
        if (change.reset or change.new_tasks or self.experiment.tasks != self._tasks
                or list(reversed(shown)) != self._runs):
            self._rebuild()
            return
        self._patch([cell for cell in change.cells if cell[1] in self._y_of_run])
        if fresh:
            self._stream(list(reversed(runs[:fresh])))
        self._legend.object = self._legend_html()

    def _load_all(self) -> None:
        self._newest = None
        self._rebuild()

    def _rebuild(self) -> None:
        """Show the experiment's current state from the shared columns, keeping the scroll."""
        top_run = self._top_visible_run()
        self._tasks = list(self.experiment.tasks)
        self._runs = list(reversed(self.experiment.runs[:self._newest]))
        self._y_of_run = {run: y for y, run in enumerate(self._runs)}
        self._source.selected.indices = []
        self._source.data = {name: copy.copy(values)  # bokeh patches these in place
                             for name, values in shared_columns(self.experiment,
                                                                self._newest).items()}
        self._figure.x_range.factors = self._tasks
        self._set_task_labels()
        self._set_rows(top_y=self._y_of_run.get(top_run))
        self._show_symbols()
        self._legend.object = self._legend_html()

    def _patch(self, cells: list[tuple[str, Any]]) -> None:
        """Send only the changed cells to the browser."""
        if not cells:
            return
        patches: dict[str, list[tuple[int, Any]]] = {}
        width = len(self._tasks)
        for task, run in cells:
            index = self._y_of_run[run] * width + self._tasks.index(task)
            for name, value in cell_values(self.experiment.latest.get((task, run))).items():
                patches.setdefault(name, []).append((index, value))
        self._source.patch(patches)

    def _stream(self, new_runs: list[Any]) -> None:
        """Add rows for runs newer than every row shown; follow them if the view was at the top."""
        was_at_top = self._at_top()
        first_y = len(self._runs)
        self._runs.extend(new_runs)
        self._y_of_run.update((run, y) for y, run in enumerate(new_runs, start=first_y))
        self._source.stream(build_columns(self.experiment, new_runs, first_y))
        top = len(self._runs) - 1 if was_at_top else None
        self._set_rows(top_y=top, keep=not was_at_top)
        self._show_symbols()

    def _show_symbols(self) -> None:
        """The symbols for the view as it is now; the browser keeps them current while scrolling."""
        y_range = self._figure.y_range
        self._symbols.data = symbols_in_view(self._source.data, len(self._tasks), y_range.start,
                                             y_range.end)

    def _at_top(self) -> bool:
        """Whether the view shows the newest row: then it keeps showing the newest."""
        return self._figure.y_range.end >= len(self._runs) - 1

    def _top_visible_run(self) -> Any:
        """The run at the top of the view, or None when the view is at the newest run."""
        if not self._runs or self._at_top():
            return None
        y = math.floor(self._figure.y_range.end - 0.5)
        return self._runs[max(0, min(y, len(self._runs) - 1))]

    def _set_rows(self, top_y: int | None, keep: bool = False) -> None:
        """Row labels, plot height, scroll bounds; view ends at ``top_y`` (None: the newest)."""
        count = len(self._runs)
        visible = min(max(count, MIN_ROWS), VISIBLE_ROWS)
        y_range = self._figure.y_range
        bottom = min(-0.5, count - 0.5 - visible)
        y_range.bounds = (bottom, count - 0.5)  # first: the browser clamps start/end to them
        if not keep:
            end = (count - 1 if top_y is None else top_y) + 0.5
            start = max(bottom, end - visible)
            y_range.update(start=start, end=start + visible)
        self._figure.frame_height = visible * ROW_PX
        self._figure.yaxis.major_label_overrides = {
            y: run_label(run) for y, run in enumerate(self._runs)}

    def _set_task_labels(self) -> None:
        """Task names on the axis: tilted when they would not fit side by side."""
        longest = max((len(task) for task in self._tasks), default=0)
        tilted = len(self._tasks) * longest > 90
        self._figure.xaxis.major_label_orientation = math.pi / 4 if tilted else "horizontal"
        self._figure.max_width = 80 + MAX_COLUMN_PX * max(len(self._tasks), 1)

    def _legend_html(self) -> str:
        """The status counts, and how to use the grid, as safe HTML."""
        hint = (f"{len(self._runs)} runs × {len(self._tasks)} Tasks, newest at the top. "
                "Scroll over the grid for older runs; click a cell to open that Task.")
        return (f"<div>{legend(self.experiment.counts)}</div>"
                f'<div style="opacity: 0.7; font-size: 0.85em; margin-top: 4px">{esc(hint)}</div>')

    def _on_tap(self, _attr: str, _old: list[int], new: list[int]) -> None:
        """A clicked cell opens its Task's detail for that run; empty cells open nothing."""
        if not new:
            return
        data = self._source.data
        index = new[0]
        if not data["status"][index]:
            return
        self.session.param.update(task=data["task"][index], run=data["run"][index],
                                  view="overview")
