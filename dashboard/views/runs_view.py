"""The Runs screen: one row per run, each Task's status and the values it reported.

"Is the hit rate dropping?" is answered by a table like DAMNIT's: a row per
run, a column per Task status and per value LUTE's summaries report
(``Task · value``).  The table is derived once per experiment state and shared
by every session (:func:`lute_model.run_table.run_table`); a session only
chooses columns (part of the deep link, ``cols=``), filters and sorts its view
of it, and Tabulator's remote pagination sends the browser one page at a time,
so 10,000 runs open like 10.  The first build of a big experiment takes
seconds, so it runs in a worker thread while the screen shows it is loading;
later refreshes patch only the cells they name.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pandas as pd
import panel as pn
import param

from dashboard.session import in_worker, subscribe
from dashboard.views.base import SessionView
from dashboard.views.html_pane import HTML
from dashboard.views.runs_columns import (
    RUN_TITLE,
    TABLE_CONFIGURATION,
    TABLE_CSS,
    LeanTabulator,
    column_options,
    filter_note,
    table_config,
)
from dashboard.views.task_table import _cell
from dashboard.views.templates import legend, status_css, visible
from lute_model.experiment import Experiment, ExperimentChange
from lute_model.run_table import (
    LABEL,
    NUMBER,
    RUN,
    TEXT,
    RunColumn,
    RunTable,
    link_of,
    ready_run_table,
    run_table,
)

PAGE_SIZE = 50
#: (low, high) of a range filter; either may be None (no bound).
Range = tuple[float | None, float | None]


def shared_table(experiment: Experiment) -> RunTable:
    """The shared table, text as the page shows it (NUL and lone surrogates spelled out)."""
    return run_table(experiment, visible)


class RunsView(SessionView):
    """The "runs" screen of one experiment for one session."""

    ranges = param.Dict(default={}, doc="Range filters: column key -> (low, high).")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._shown: RunTable | None = None
        self._updating = False  # a refresh is running in a worker thread
        self._again = False  # another change came meanwhile
        self._syncing = False  # widgets are being set from the state, not by the person
        # The table is made once the shared table is ready, with its frame, columns and
        # hidden columns at once: made empty and filled later, the browser sometimes
        # drew it before it heard which columns were hidden, or not at all.
        self._table: LeanTabulator | None = None
        self._slot = pn.Column(pn.indicators.LoadingSpinner(
            value=True, size=30, label="Reading the runs…"), sizing_mode="stretch_width")
        ready = ready_run_table(self.experiment, visible)
        self._count = pn.pane.Markdown("", margin=(0, 10))
        self._legend = HTML("", stylesheets=[status_css()], margin=(5, 10))
        # Many columns: the checkboxes wrap inside the screen instead of widening it.
        self._chooser = pn.widgets.CheckBoxGroup(
            inline=True, name="columns", sizing_mode="stretch_width", min_width=300,
            stylesheets=[".bk-input-group { flex-wrap: wrap; gap: 2px 14px; }"])
        self._columns_card = pn.Card(
            pn.Row(pn.widgets.Button(label="Statuses and numbers", on_click=self._default),
                   pn.widgets.Button(label="All columns", on_click=self._all)),
            self._chooser, title="Columns", collapsed=True, sizing_mode="stretch_width")
        self._filter_on = pn.widgets.Select(name="filter on", width=320)
        # Text, not FloatInput: Panel's spinner shows an emptied value as "NaN".
        self._low = pn.widgets.TextInput(name="at least", placeholder="any", width=110)
        self._high = pn.widgets.TextInput(name="at most", placeholder="any", width=110)
        self._filters = HTML("", margin=(22, 10, 0, 10))
        self._clear = pn.widgets.Button(label="Clear filters", margin=(22, 10, 0, 10),
                                        on_click=lambda _e: setattr(self, "ranges", {}))
        self._download = pn.widgets.FileDownload(
            callback=self._csv, filename=f"{self.experiment.name}-runs.csv",
            label="Download CSV", color="default", width=160, embed=False)
        self._chooser.param.watch(self._chosen, "value")
        self._filter_on.param.watch(self._filter_column, "value")
        for bound in (self._low, self._high):
            bound.param.watch(self._bound_changed, "value")
        self.param.watch(self._ranges_changed, "ranges")
        self.session.param.watch(lambda _e: self._show_columns(), "cols")
        subscribe(self.experiment, "change", lambda event: self.apply_change(event.new))
        if ready is not None:
            self._show(ready)
        else:
            pn.state.execute(self._refresh)

    # -- data ----------------------------------------------------------------

    def apply_change(self, change: ExperimentChange | None) -> None:
        """A refresh (or a resume): bring the shared table up to date off this thread."""
        if change is None:
            return
        if self._updating:
            self._again = True
            return
        pn.state.execute(self._refresh)

    async def _refresh(self) -> None:
        """Patch the shared table in a worker thread (seconds the first time, then what
        changed), then show it; changes that came meanwhile are taken in one more round."""
        self._updating = True
        try:
            while True:
                self._again = False
                table = await in_worker(shared_table, self.experiment)
                self._show(table)
                if not self._again:
                    break
        finally:
            self._updating = False

    def _make_table(self, table: RunTable) -> LeanTabulator:
        # No ``sorters``: the shared frame comes newest first.  With a default sort,
        # each session sorted the whole table twice while its page was built, and once
        # more when the browser echoed the sort back.
        widget = LeanTabulator(
            pagination="remote", page_size=PAGE_SIZE, show_index=False, disabled=True,
            selectable=False, sortable=True,
            frozen_columns=[RUN], layout="fit_data_fill", sizing_mode="stretch_width",
            height=620, min_width=300, configuration=TABLE_CONFIGURATION,
            stylesheets=[status_css(), TABLE_CSS], **self._data_params(table))
        widget.add_filter(pn.bind(self._mask, ranges=self.param.ranges))
        widget.on_click(self._open_cell)
        return widget

    def _data_params(self, table: RunTable) -> dict[str, Any]:
        """The Tabulator parameters that show ``table``: its frame and its columns' look."""
        return {"value": table.frame, "hidden_columns": self._hidden(table),
                **table_config(table.columns)}

    def _show(self, table: RunTable) -> None:
        """The table's new state; the session's sort, filters, page and scroll stay."""
        shown = self._shown
        columns_changed = shown is None or shown.columns != table.columns
        if self._table is None:
            self._shown = table
            self._table = self._make_table(table)
            self._slot.objects = [self._table]
        elif table is not shown:
            # Row i of the frame is run table.runs[i] from here on (clicks, CSV).
            self._shown = table
            self._table.param.update(**(self._data_params(table) if columns_changed
                                        else {"value": table.frame}))
        if columns_changed or not self._chooser.options:
            self._chooser.options = column_options(table.columns)
            options = {RUN_TITLE: RUN, **{
                visible(c.title): c.key for c in table.columns if c.kind == NUMBER}}
            current = self._filter_on.value
            self._filter_on.param.update(
                options=options, value=current if current in options.values() else RUN)
            self._ranges_changed()
        self._show_columns()
        self._legend.object = str(legend(self.experiment.counts))
        self._show_count()

    # -- columns -------------------------------------------------------------

    def _chosen_columns(self) -> list[RunColumn]:
        return [] if self._shown is None else self._shown.chosen(self.session.cols)

    def _hidden(self, table: RunTable) -> list[str]:
        shown = {c.key for c in table.chosen(self.session.cols)}
        return [LABEL, *(c.key for c in table.columns if c.key not in shown)]

    def _show_columns(self) -> None:
        """The session's choice (from the link or the chooser) on the table and the chooser."""
        if self._shown is None:
            return
        chosen = self._chosen_columns()
        value = [link_of([c]) for c in chosen]
        if self._chooser.value != value:
            # Not a choice: a link may name columns this state lacks yet, and it keeps them.
            self._syncing = True
            try:
                self._chooser.value = value
            finally:
                self._syncing = False
        hidden = self._hidden(self._shown)
        if self._table is not None and self._table.hidden_columns != hidden:
            self._table.hidden_columns = hidden
        self._columns_card.title = f"Columns ({len(chosen)} of {len(self._shown.columns)} shown)"

    def _chosen(self, event: param.parameterized.Event) -> None:
        if self._shown is None or self._syncing:
            return
        picked = set(event.new)
        self._choose([c for c in self._shown.columns if link_of([c]) in picked])

    def _choose(self, columns: list[RunColumn]) -> None:
        """The link keeps the choice; the default (statuses and numbers) is no ``cols`` at all."""
        default = self._shown is not None and columns == self._shown.default_columns()
        link = "" if default else link_of(columns)
        if link != self.session.cols:
            self.session.cols = link

    def _default(self, _event: Any) -> None:
        if self._shown is not None:
            self._choose(self._shown.default_columns())

    def _all(self, _event: Any) -> None:
        if self._shown is not None:
            self._choose(list(self._shown.columns))

    # -- filters -------------------------------------------------------------

    @staticmethod
    def _mask(df: pd.DataFrame, ranges: dict[str, Range]) -> pd.DataFrame:
        """Runs inside every range; a run without the value is outside.

        Returns the rows, not a mask: Panel combines masks with pandas' ``&=``, which aligns
        their indexes first (tens of ms at 10,000 runs, on every page a session opens).
        """
        applied = [(key, low, high) for key, (low, high) in ranges.items() if key in df.columns]
        if not applied:
            return df
        mask = np.ones(len(df), dtype=bool)
        for key, low, high in applied:
            values = df[key].to_numpy()
            if low is not None:
                mask &= values >= low
            if high is not None:
                mask &= values <= high
        return df[mask]

    def _filter_column(self, _event: Any = None) -> None:
        """The bounds show the chosen column's range (none: empty)."""
        low, high = self.ranges.get(self._filter_on.value, (None, None))
        self._syncing = True
        try:
            self._low.value, self._high.value = _text(low), _text(high)
        finally:
            self._syncing = False

    def _bound_changed(self, _event: Any) -> None:
        key = self._filter_on.value
        if key is None or self._syncing:
            return
        low, high = _bound(self._low.value), _bound(self._high.value)
        ranges = {k: v for k, v in self.ranges.items() if k != key}
        if low is not None or high is not None:
            ranges[key] = (low, high)
        if ranges != self.ranges:
            self.ranges = ranges

    def _ranges_changed(self, *_events: Any) -> None:
        columns = {RUN: RUN_TITLE} | ({} if self._shown is None else
                                     {c.key: c.title for c in self._shown.columns})
        self._filters.object = str(filter_note(
            [(columns[key], low, high) for key, (low, high) in self.ranges.items()
             if key in columns]))
        self._clear.visible = bool(self.ranges)
        self._filter_column()
        self._show_count()

    def _show_count(self) -> None:
        if self._shown is None:
            return
        # From the ranges themselves: the table's filter may hear of a change after this.
        shown = len(self._mask(self._shown.frame, self.ranges))
        total = len(self._shown.runs)
        self._count.object = f"{shown:,} of {total:,} runs"

    # -- actions -------------------------------------------------------------

    def _open_cell(self, event: Any) -> None:
        """A click on a Task's cell opens that Task's detail for the run (if it ran)."""
        table = self._shown
        if table is None:
            return
        column = next((c for c in table.columns if c.key == event.column), None)
        if column is None:  # the run's own cell
            return
        row = self.experiment.latest.get((column.task, table.runs[event.row]))
        if row is not None:
            self.session.param.update(task=row.task, run=row.run)

    def _csv(self) -> io.StringIO:
        """The filtered runs in the shown order and the chosen columns; numbers as numbers,
        text as the table holds it (never the start of a formula)."""
        buffer = io.StringIO()
        if self._shown is None or self._table is None:
            return buffer
        view = self._table.current_view
        out = {"run": [_cell(label) for label in view[LABEL]]}
        for column in self._chosen_columns():
            cells = view[column.key]
            out[visible(column.title)] = ([_cell(text) for text in cells] if column.kind == TEXT
                                          else list(cells))
        pd.DataFrame(out).to_csv(buffer, index=False)
        buffer.seek(0)
        return buffer

    def __panel__(self) -> pn.viewable.Viewable:
        filters = pn.FlexBox(self._filter_on, self._low, self._high, self._filters, self._clear,
                             pn.Column(pn.Spacer(height=18), self._download),
                             align_items="flex-start", sizing_mode="stretch_width")
        return pn.Column(self._legend, self._columns_card, filters, self._count, self._slot,
                         sizing_mode="stretch_width")


def _bound(text: str) -> float | None:
    """A typed bound: a number, or None (empty, or not a number: no bound)."""
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _text(value: float | None) -> str:
    return "" if value is None else format(value, "g")
