"""The run × Task status grid: what the beamline's pipeline did, one colored cell per Task run.

One bokeh ``rect`` glyph over one ``ColumnDataSource`` draws every cell, so
2,000 runs × 20 Tasks stay one canvas of fixed height: runs are numeric rows
(the oldest at y=0, so a new run only ever adds a row at the top), labelled
through ``major_label_overrides``; the view shows the newest runs and scrolls
along y with the mouse wheel.  The columns are dense (every run × every Task,
an empty cell where a Task never ran), so the row of a cell is arithmetic and
a refresh patches only the changed cells and streams the new runs.

The columns for one experiment state are built once and shared by every
session (:mod:`dashboard.views.grid_columns`).  A page opens with the newest
FIRST_RUNS runs, and a session holds more only when its person scrolls near
the oldest run it holds (each time GROWTH times as many, until every run):
what a session costs the server, the network and the browser does not grow
with the experiment unless someone scrolls back through it.  Every later
rebuild (a new Task, a run that sorts below the newest, a resume) keeps at
least as many runs: a session shows what a fresh one would, scrolled as far.

Test hook: the figure is named ``status-grid``.  In the browser,
``Bokeh.documents[0].get_model_by_name('status-grid')`` is the figure and its
first renderer's ``data_source.data`` holds one entry per cell in the columns
``task``, ``run`` (the row's label; both as shown, NUL and lone surrogates
spelled out), ``status`` (a status name, ``""`` where
the Task never ran) and ``color`` (``PALETTE[status]``).  The second
renderer's source holds only the status symbols of the cells in view.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import panel as pn
from bokeh.models import (
    ColumnDataSource,
    CustomJS,
    CustomJSHover,
    CustomJSTickFormatter,
    FactorRange,
    HoverTool,
    Range1d,
    TapTool,
    WheelPanTool,
    WheelZoomTool,
)
from bokeh.plotting import figure

from dashboard.session import subscribe
from dashboard.views.base import SessionView
from dashboard.views.grid_columns import (
    COLUMNS,
    LABEL_CHARS,
    MAX_SYMBOL_ROWS,
    SHORT_LABEL_JS,
    SYMBOLS_JS,
    build_columns,
    cell_values,
    shared_grid,
    short_label,
    shown_name,
    symbols_in_view,
)
from dashboard.views.html_pane import HTML
from dashboard.views.templates import HtmlTemplate, legend, status_css
from lute_model.experiment import ExperimentChange
from lute_model.status import SYMBOL, TEXT_ON

#: Rows shown before the person scrolls: the last hour or two of an experiment.
VISIBLE_ROWS = 40
#: Smallest number of rows the plot is tall, so two runs do not become two huge bars.
MIN_ROWS = 8
#: Height of one row in screen pixels at the default view (40 rows ≈ 600 px).
ROW_PX = 15
#: Widest a Task's column gets: with a few Tasks, cells stay cells rather than long bars.
MAX_COLUMN_PX = 160
#: Widest a tooltip's value gets before it wraps (a Task name can be 300 characters).
HOVER_WIDTH = "480px"
#: Runs a page opens with (the newest); older ones are sent as the person scrolls to them.
FIRST_RUNS = 100
#: Each time the view comes within LOAD_MARGIN rows of the oldest run held, a
#: session holds GROWTH times as many runs (100, 500, 2,500, ...).
GROWTH = 5
LOAD_MARGIN = VISIBLE_ROWS

#: The hover's status line: glyph and name, or that the Task never ran (text, never HTML).
STATUS_HOVER_JS = "return value ? `${symbol_of[value]} ${value}` : 'never ran';"
_ROW = ("<div style='color: #26aae1; text-align: right; white-space: nowrap'>{label}:</div>"
        "<div style='white-space: normal; overflow-wrap: anywhere; max-width: "
        + HOVER_WIDTH + "'>{value}</div>")
#: The hover's rows; Bokeh escapes each value it puts in (``@{status}{custom}``: STATUS_HOVER_JS).
HOVER_TEMPLATE = (
    "<div style='display: grid; grid-template-columns: auto auto; column-gap: 6px; "
    "row-gap: 2px'>" + "".join(_ROW.format(label=label, value=value) for label, value in (
        ("Run", "@{run}"), ("Task", "@{task}"), ("Status", "@{status}{custom}"),
        ("Time (UTC)", "@{time}"), ("Summary", "@{summary}"))) + "</div>")
_LEGEND = HtmlTemplate(
    '<div>{{ legend }}</div><div style="opacity: 0.7; font-size: 0.85em; margin-top: 4px">'
    "{{ runs }} runs × {{ tasks }} Tasks, newest at the top. Scroll over the grid for older "
    "runs; click a cell to open that Task.</div>")


class StatusGrid(SessionView):
    """The run × Task grid of one experiment for one session; a click opens that Task's detail."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._tasks: list[str] = []
        self._runs: list[Any] = []  # bottom-up: index == y
        self._y_of_run: dict[Any, int] = {}
        self._source = ColumnDataSource(data={name: [] for name in COLUMNS})
        self._symbols = ColumnDataSource(data={"task": [], "y": [], "symbol": [], "color": []})
        self._figure = self._make_figure()
        self._legend = HTML("", stylesheets=[status_css()], margin=(5, 10))
        self._layout = pn.Column(
            self._legend,
            pn.pane.Bokeh(self._figure, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
        # Subscribed before the first build: a refresh published while it is built
        # still reaches this session, after it (the session's thread is busy until then).
        subscribe(self.experiment, "change", lambda event: self.apply_change(event.new))
        # A page opens with the newest runs only: what a session sends must not grow
        # with the experiment.  Older runs follow as the person scrolls to them.
        self._newest: int | None = FIRST_RUNS
        self._loading = False  # older runs are asked for: sent at the next tick
        self._rebuild()
        self._figure.y_range.on_change("start", self._scrolled)
        self._source.selected.on_change("indices", self._on_tap)

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
        fig.xaxis.formatter = CustomJSTickFormatter(args={"max_chars": LABEL_CHARS},
                                                    code=SHORT_LABEL_JS)
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
        """Run, Task, status, time and summary of the cell under the mouse, all as plain text.

        Bokeh's own tooltip rows never wrap, so a 300-character Task name ran off the
        screen: the rows are an HTML template whose values wrap at HOVER_WIDTH.  A
        string template is one property, not two dozen models per session, and Bokeh
        escapes every ``@{field}`` it fills in (formatted values too).
        """
        status = CustomJSHover(args={"symbol_of": SYMBOL.by_name()}, code=STATUS_HOVER_JS)
        return HoverTool(renderers=[cells], tooltips=HOVER_TEMPLATE,
                         formatters={"@{status}": status})

    def _follow_view_with_symbols(self, fig: Any) -> None:
        """Refill the symbols in the browser whenever the view, the Tasks or the cells change."""
        callback = CustomJS(
            args={"source": self._source, "symbols": self._symbols, "x_range": fig.x_range,
                  "y_range": fig.y_range, "max_rows": MAX_SYMBOL_ROWS,
                  "symbol_of": SYMBOL.by_name(), "text_on": TEXT_ON.by_name()},
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
        sorts below the newest, or below the oldest shown) rebuilds the columns.
        """
        runs = self.experiment.runs
        fresh = 0  # runs newer than every row shown
        while fresh < len(runs) and runs[fresh] not in self._y_of_run:
            fresh += 1
        shown = runs[fresh:fresh + len(self._runs)]
        # Holding every run, the rows below the fresh ones must be all the other runs.
        older_missing = self._newest is None and fresh + len(self._runs) != len(runs)
        if (change.reset or change.new_tasks or self.experiment.tasks != self._tasks
                or list(reversed(shown)) != self._runs or older_missing):
            self._rebuild()
            return
        self._patch([cell for cell in change.cells if cell[1] in self._y_of_run])
        if fresh:
            self._stream(list(reversed(runs[:fresh])))
        self._legend.object = self._legend_html()

    def _scrolled(self, _attr: str, _old: float, start: float) -> None:
        """Near the oldest run held: hold GROWTH times as many (every run, once that is all).

        Not at once: the browser's change of ``start`` comes with its ``end``, which
        Bokeh applies after this callback and would overwrite the view set here.
        """
        document = self._figure.document
        if (self._newest is None or self._loading or start > LOAD_MARGIN - 0.5
                or document is None):
            return
        self._loading = True
        document.add_next_tick_callback(self._load_more)

    def _load_more(self) -> None:
        """Hold GROWTH times as many runs; the rebuild keeps the view on the same runs."""
        self._loading = False
        if self._newest is not None:
            self._newest = len(self._runs) * GROWTH
            self._rebuild()

    def _rebuild(self) -> None:
        """Show the experiment's current state from the shared columns, keeping the scroll."""
        top_run = self._top_visible_run()
        if self._newest is not None:
            # Never fewer rows than shown (live runs streamed on top count too).
            self._newest = max(self._newest, len(self._runs))
            if self._newest >= len(self.experiment.runs):
                self._newest = None
        grid = shared_grid(self.experiment, self._newest)
        self._tasks, self._runs = list(grid.tasks), list(grid.runs)
        self._y_of_run = {run: y for y, run in enumerate(self._runs)}
        self._source.selected.indices = []
        self._source.data = {name: copy.copy(values)  # bokeh patches these in place
                             for name, values in grid.columns.items()}
        self._figure.x_range.factors = [shown_name(task) for task in self._tasks]
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
        self._source.stream(build_columns(self.experiment, new_runs, first_y, self._tasks))
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
            y: short_label(run) for y, run in enumerate(self._runs)}

    def _set_task_labels(self) -> None:
        """Task names on the axis (cut at LABEL_CHARS): tilted when they would not fit side
        by side."""
        longest = min(max((len(task) for task in self._tasks), default=0), LABEL_CHARS)
        tilted = len(self._tasks) * longest > 90
        self._figure.xaxis.major_label_orientation = math.pi / 4 if tilted else "horizontal"
        self._figure.max_width = 80 + MAX_COLUMN_PX * max(len(self._tasks), 1)

    def _legend_html(self) -> str:
        """The status counts, and how to use the grid, as safe HTML."""
        return str(_LEGEND(legend=legend(self.experiment.counts),
                           runs=len(self.experiment.runs), tasks=len(self._tasks)))

    def _on_tap(self, _attr: str, _old: list[int], new: list[int]) -> None:
        """A clicked cell opens its Task's detail for that run; empty cells open nothing.

        The cell's place names its Task and run (its text is only how they are shown).
        """
        if not new or not self._tasks:
            return
        index = new[0]
        if not self._source.data["status"][index]:
            return
        run, task = divmod(index, len(self._tasks))
        self.session.param.update(task=self._tasks[task], run=str(self._runs[run]),
                                  view="overview")
