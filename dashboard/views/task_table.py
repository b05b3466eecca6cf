"""Every Task execution in one table: filter, sort, search, export, open one.

The table lists history rows, not only the latest per (Task, run), so a FAILED
try and its rerun both appear.  An experiment can hold 100k executions and many
people watch it at once, so the DataFrame is built once per experiment state
and shared by every session (:func:`execution_frame`); each session only
filters and sorts its own view of it, and Tabulator's remote pagination sends
the browser one page at a time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import panel as pn
from bokeh.models.widgets.tables import HTMLTemplateFormatter, NumberFormatter

from dashboard.session import subscribe
from dashboard.views.base import SessionView
from dashboard.views.templates import HtmlTemplate, status_css, visible
from lute_model.experiment import Experiment, ExperimentChange
from lute_model.results import TaskRun
from lute_model.shared_cache import SharedCache
from lute_model.status import ALL_STATUSES, SYMBOL
from lute_model.summary_text import first_line, report_paths

PAGE_SIZE = 50
COLUMNS = ["run", "Task", "status", "time", "summary", "payload"]
TITLES = {"time": "time (UTC)", "summary": "summary (first line)", "payload": "payload (bytes)"}

#: Status names are our enum's (never a stored string), so this template may emit
#: markup; the glyph keeps the status readable without color.
_STATUS_TEMPLATE = (
    "<% var s = " + repr(SYMBOL.by_name()).replace("'", '"') + "; %>"
    '<span class="st st-<%= value %>"><%= s[value] %> <%= value %></span>'
)
#: Tabulator's "plaintext" formatter escapes: stored text that is shown whole uses it.
_PLAIN = {"type": "plaintext"}
#: Stored text that a column may cut (a Task name of 300 characters, a long first line):
#: escaped by the template (``<%- %>``), whole in the cell's tooltip.
_CUT_WITH_TOOLTIP = HTMLTemplateFormatter(template='<span title="<%- value %>"><%- value %></span>')


@dataclass(frozen=True)
class ExecutionFrame:
    """One experiment state as a table; row ``i`` of ``frame`` is ``rows[i]``."""

    change: ExperimentChange | None
    frame: pd.DataFrame
    rows: tuple[TaskRun, ...]

    def extended(self, change: ExperimentChange) -> ExecutionFrame:
        """This state plus a refresh's new rows, appended so existing row numbers stay valid."""
        added = _frame(change.rows, start=len(self.rows))
        rows = self.rows + tuple(change.rows)
        return ExecutionFrame(change, pd.concat([self.frame, added]), rows)


_OPTION = HtmlTemplate("{{ task }}")


def _task_options(tasks: list[str]) -> dict[str, str]:
    """MultiChoice options, label -> Task as the table's column holds it: Bokeh's
    MultiChoice (Choices.js, ``allowHTML`` on) renders labels as HTML, and a Task name
    is whatever the table was called."""
    return {str(_OPTION(task=task)): visible(task) for task in tasks}


def _frame(rows: list[TaskRun] | tuple[TaskRun, ...], start: int = 0) -> pd.DataFrame:
    """The shown columns of some executions; the run is numeric so that run 10 sorts after 9.

    Text is as shown (:func:`templates.visible`); a click finds the stored row by its number.
    """
    keys = [row.run_key for row in rows]
    return pd.DataFrame(
        {
            "run": np.array([k if isinstance(k, int) else np.nan for k in keys], dtype=float),
            "Task": [visible(row.task) for row in rows],
            "status": [row.status.name for row in rows],
            "time": [row.timestamp for row in rows],
            "summary": [visible(_summary_cell(row.summary)) for row in rows],
            "payload": np.array([row.payload.size for row in rows], dtype=np.int64),
        },
        columns=COLUMNS,
        index=pd.RangeIndex(start, start + len(rows)),
    )


def _summary_cell(summary: str) -> str:
    """The summary's first line without report paths (the detail links them), with a count."""
    paths = report_paths(summary)
    if not paths:
        return first_line(summary)
    rest = ";".join(part for part in summary.split(";") if part.strip() not in paths)
    return f"{first_line(rest)}  [+{len(paths)} report{'s' if len(paths) > 1 else ''}]".strip()


_FRAMES: SharedCache[ExecutionFrame] = SharedCache()


def execution_frame(experiment: Experiment) -> ExecutionFrame:
    """The table of ``experiment``'s current state, built once and shared by all sessions.

    Keyed by the identity of ``experiment.change``: a new refresh extends the
    previous frame with its rows; a reset, or a refresh that was skipped over,
    rebuilds it from ``experiment.executions``.
    """
    change = experiment.change

    def build(cached: ExecutionFrame | None) -> ExecutionFrame:
        executions = experiment.executions
        if (cached is not None and change is not None and not change.reset
                and _only_adds(cached.rows, change.rows, executions)):
            return cached.extended(change)
        return ExecutionFrame(change, _frame(executions), tuple(executions))

    return _FRAMES.get(experiment, (change,), build)


def _only_adds(shown: tuple[TaskRun, ...], added: list[TaskRun],
               executions: list[TaskRun]) -> bool:
    """Whether ``executions`` is exactly ``shown`` plus ``added``.

    A count is not enough: a refresh that replaced the database (a reset) can
    be skipped over when no session built a table for it, and the new file
    may hold as many rows as the old.  Rows are read once and kept, so the
    rows of an unchanged database are the very same objects.
    """
    if len(shown) + len(added) != len(executions):
        return False
    known = {id(row) for row in shown}
    known.update(id(row) for row in added)
    return all(id(row) in known for row in executions)


def _cell(text: str) -> str:
    """Text for a spreadsheet: a leading ``=``, ``+``, ``-`` or ``@`` would make it a formula,
    and a NUL would end the cell (it is spelled out, as on screen)."""
    text = visible(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


class TaskTable(SessionView):
    """The "tasks" screen's table: every execution, filtered and sorted per session."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._shared = execution_frame(self.experiment)
        self._tasks = pn.widgets.MultiChoice(
            label="Task", options=_task_options(self.experiment.tasks), placeholder="all Tasks",
            width=260)
        self._statuses = pn.widgets.MultiChoice(
            label="status", options=[s.name for s in ALL_STATUSES], placeholder="all statuses",
            width=220)
        self._first_run = pn.widgets.IntInput(label="from run", value=None, width=90)
        self._last_run = pn.widgets.IntInput(label="to run", value=None, width=90)
        self._search = pn.widgets.TextInput(
            label="search summaries", placeholder="e.g. hit rate", width=220)
        self._table = self._make_table()
        self._count = pn.pane.Markdown("", margin=(0, 10))
        self._download = pn.widgets.FileDownload(
            callback=self._csv, filename=f"{self.experiment.name}-task-executions.csv",
            label="Download CSV", color="default", width=160, embed=False)
        for widget in (self._tasks, self._statuses, self._first_run, self._last_run):
            widget.param.watch(self._show_count, "value")
        self._search.param.watch(self._show_count, "value_input")
        self._show_count()
        subscribe(self.experiment, "change", lambda event: self.apply_change(event.new))
        if self._shared.change is not self.experiment.change:
            # A refresh published while this was built, before it subscribed: nothing of
            # this session (page, selection) is there to keep yet, so read everything again.
            self.apply_change(ExperimentChange(reset=True))

    def _make_table(self) -> pn.widgets.Tabulator:
        table = pn.widgets.Tabulator(
            self._shared.frame, pagination="remote", page_size=PAGE_SIZE, show_index=False,
            disabled=True, selectable=1, sortable=True, titles=TITLES,
            sorters=[{"field": "time", "dir": "desc"}, {"field": "run", "dir": "desc"}],
            formatters={
                "run": NumberFormatter(format="0", nan_format="–"),
                "Task": _CUT_WITH_TOOLTIP, "time": _PLAIN, "summary": _CUT_WITH_TOOLTIP,
                "status": HTMLTemplateFormatter(template=_STATUS_TEMPLATE),
                "payload": NumberFormatter(format="0,0"),
            },
            widths={"run": 70, "Task": 230, "status": 130, "time": 160, "payload": 150},
            layout="fit_columns", sizing_mode="stretch_width", min_height=300,
            stylesheets=[status_css()],
        )
        table.add_filter(self._tasks, "Task")
        table.add_filter(self._statuses, "status")
        table.add_filter(pn.bind(self._mask, first=self._first_run, last=self._last_run,
                                 text=self._search.param.value_input))
        table.on_click(self._open_row)
        return table

    def _mask(self, df: pd.DataFrame, first: int | None, last: int | None,
              text: str) -> pd.Series:
        """Run range and summary search; the search reads whole summaries, not the first line."""
        mask = pd.Series(True, index=df.index)
        if first is not None:
            mask &= df["run"] >= first
        if last is not None:
            mask &= df["run"] <= last
        if text.strip():
            needle = text.strip().lower()
            rows = self._shared.rows
            mask &= pd.Series([needle in rows[i].summary.lower() for i in df.index],
                              index=df.index, dtype=bool)
        return mask

    def _open_row(self, event: Any) -> None:
        """A click opens that execution's detail; the run keeps the label LUTE stored."""
        row = self._shared.rows[event.row]
        self.session.param.update(task=row.task, run=row.run)

    def _show_count(self, *_: Any) -> None:
        shown, total = len(self._table.current_view), len(self._shared.rows)
        self._count.object = f"{shown:,} of {total:,} executions"

    def _csv(self) -> io.StringIO:
        """The filtered rows in the shown order, with whole (kept) summaries and run labels."""
        view = self._table.current_view
        rows = [self._shared.rows[i] for i in view.index]
        out = pd.DataFrame({
            "run": [_cell(row.run) for row in rows],
            "Task": [_cell(row.task) for row in rows],
            "status": [row.status.name for row in rows],
            "time (UTC)": [row.timestamp for row in rows],
            "summary": [_cell(row.summary) for row in rows],
            "payload (bytes)": [row.payload.size for row in rows],
        })
        buffer = io.StringIO()
        out.to_csv(buffer, index=False)
        buffer.seek(0)
        return buffer

    def apply_change(self, change: ExperimentChange | None) -> None:
        """Show a refresh: new rows are appended; filters, sort, page and selection stay.

        The session's table takes the shared, extended frame instead of
        ``Tabulator.stream``-ing a private copy, so N sessions hold one frame;
        with remote pagination either way only the current page is sent.
        """
        if change is None:
            return
        self._shared = execution_frame(self.experiment)
        if change.new_tasks or change.reset:
            self._tasks.options = _task_options(self.experiment.tasks)
        selection = [] if change.reset else list(self._table.selection)
        page = 1 if change.reset else self._table.page
        self._table.value = self._shared.frame
        self._table.param.update(selection=selection, page=page)
        self._show_count()

    def __panel__(self) -> pn.viewable.Viewable:
        # A FlexBox wraps the filters onto a second line when the Task detail
        # takes the right side, instead of running under it.
        filters = pn.FlexBox(self._tasks, self._statuses, self._first_run, self._last_run,
                             self._search, pn.Column(pn.Spacer(height=18), self._download),
                             align_items="flex-start", sizing_mode="stretch_width")
        return pn.Column(filters, self._count, self._table, sizing_mode="stretch_width")
