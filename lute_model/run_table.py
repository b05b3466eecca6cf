"""The Runs view's data: one row per run, one column per Task status and per value it reported.

At the beamline the question is "is the hit rate dropping?": DAMNIT's run
table answers it with a row per run and a column per variable.  Here the
variables are what LUTE's summaries report (:func:`lute_model.values.values_of`
of each cell's latest execution, ``Task · value``) beside each Task's status.

10,000 runs × 20 Tasks are watched by many people at once, so the table is
derived once per experiment state and shared (:func:`run_table`), and a
refresh patches only the cells its :class:`~lute_model.changes.ExperimentChange`
names.  Each execution is parsed once per process, for this table and the
trends alike (:class:`lute_model.trends.ValueTable`).  Columns live as numpy
arrays that grow by doubling; a state's ``frame`` is a copy of them, so a
published frame never changes under a reader, its rows in the order the Runs
view opens with (newest run on top): sorted once per state here, not by each
session that opens the table.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd

from lute_model.changes import Cell
from lute_model.experiment import Experiment
from lute_model.results import TaskRun
from lute_model.trends import value_table
from lute_model.values import TEXT_KEEP, Value

STATUS, NUMBER, TEXT = "status", "number", "text"
#: Frame columns before the Tasks': the run as a number (sorts 10 after 9; NaN for a run
#: that is a label) and the run as shown.
RUN, LABEL = "run", "label"
#: How a string from disk becomes cell text (the dashboard spells out what a page would lose).
TextOf = Callable[[str], str]
#: The named values of one cell, (Task, run) -> {name: value}, parsed elsewhere once.
ValuesOf = Callable[[str, Any], dict[str, Value]]


@dataclass(frozen=True)
class RunColumn:
    """One column: a Task's status (``value == ""``) or one value it reported.

    ``key`` names the column in the frame: a Task may be called anything, and
    Tabulator reads a ``.`` in a field name as a path into the row.
    """

    key: str
    task: str
    value: str = ""
    kind: str = STATUS

    @property
    def title(self) -> str:
        return f"{self.task} · {self.value}" if self.value else self.task

    @property
    def ref(self) -> tuple[str, str]:
        """What a link names the column by: the same in every process and session."""
        return (self.task, self.value)


@dataclass(frozen=True)
class RunTable:
    """One experiment state as runs × columns; row ``i`` of ``frame`` is run ``runs[i]``.

    Rows go newest first: the highest run number on top, runs that are labels (no
    number) below the numbered ones, ties the last seen first.
    """

    frame: pd.DataFrame
    runs: tuple[Any, ...]
    columns: tuple[RunColumn, ...]

    def default_columns(self) -> list[RunColumn]:
        """What a Runs view shows unless told otherwise: statuses and every numeric value."""
        return [c for c in self.columns if c.kind in (STATUS, NUMBER)]

    def chosen(self, link: str) -> list[RunColumn]:
        """The columns a link's ``cols`` names that this table has (the default for '')."""
        if not link:
            return self.default_columns()
        wanted = set(refs_from_link(link))
        return [c for c in self.columns if c.ref in wanted]


def link_of(columns: Iterable[RunColumn]) -> str:
    """The ``cols`` value of a deep link: ``Task`` or ``Task:value``, comma-separated.

    Each part is percent-encoded (``:`` and ``,`` included), so any name survives.
    """
    return ",".join(":".join(quote(part, safe=" ", errors="surrogatepass")
                             for part in ((c.task, c.value) if c.value else (c.task,)))
                    for c in columns)


def refs_from_link(link: str) -> list[tuple[str, str]]:
    """(Task, value) pairs of a ``cols`` value; empty parts are skipped."""
    refs = []
    for entry in link.split(","):
        task, _, value = entry.partition(":")
        if task:
            refs.append((unquote(task, errors="surrogatepass"),
                         unquote(value, errors="surrogatepass")))
    return refs


def as_text(value: Value) -> str:
    """A value as a text cell: numbers as written, arrays space-separated in brackets."""
    if isinstance(value, list):
        return ("[" + " ".join(format(v, ".10g") for v in value) + "]")[:TEXT_KEEP]
    if isinstance(value, float):
        return format(value, ".10g")
    return str(value)


def _is_number(value: Value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class RunTableBuilder:
    """The mutable table behind the published states: rows, columns, and each cell's parse.

    A value column is a number column while every value it got was a number;
    the first text (or array) turns it into a text column, numbers then shown
    as written, so nothing a Task reported is dropped.
    """

    def __init__(self, text: TextOf = str) -> None:
        self._text = text
        self._size = 0
        self._runs: list[Any] = []
        self._row_of: dict[Any, int] = {}
        self._data: dict[str, np.ndarray] = {RUN: np.empty(0, float), LABEL: np.empty(0, object)}
        self._columns: dict[tuple[str, str], RunColumn] = {}
        self._by_task: dict[str, list[tuple[str, str]]] = {}
        # Each cell's row and value names, in two dicts of shared objects: a (row, names)
        # pair per cell would be 200,000 more objects for every full garbage collection
        # of the server (Panel runs one when a session closes).
        self._rows: dict[Cell, TaskRun] = {}
        self._names: dict[Cell, tuple[str, ...]] = {}
        self._name_sets: dict[tuple[str, ...], tuple[str, ...]] = {}

    def apply(self, latest: dict[Cell, TaskRun], cells: Iterable[Cell],
              values_of: ValuesOf) -> None:
        """Bring ``cells`` to what ``latest`` says; a cell whose row is unchanged costs a lookup."""
        for cell in cells:
            row = latest.get(cell)
            if row is None or self._rows.get(cell) is row:
                continue
            values = values_of(*cell) if row.summary else {}
            index = self._row(cell[1])
            self._set(cell[0], "", index, row.status.name)
            for name in set(self._names.get(cell, ())) - values.keys():
                self._set(cell[0], name, index, None)
            for name, value in values.items():
                self._set(cell[0], name, index, value)
            names = tuple(values)
            self._rows[cell] = row
            self._names[cell] = self._name_sets.setdefault(names, names)

    def add_runs(self, runs: Iterable[Any]) -> None:
        """Rows for runs, in this order, before their cells come (a row's place is kept)."""
        for run in runs:
            self._row(run)

    def table(self, tasks: list[str]) -> RunTable:
        """The current state as a :class:`RunTable`, Tasks in ``tasks``' order (pipeline)."""
        order = [t for t in tasks if t in self._by_task]
        order += [t for t in self._by_task if t not in set(order)]
        columns = tuple(self._columns[ref] for task in order for ref in self._by_task[task])
        n = self._size
        last_seen_first = np.arange(n)[::-1]
        # A stable sort on the negated number: NaN (a label) goes last.
        rows = last_seen_first[np.argsort(-self._data[RUN][:n][last_seen_first],
                                          kind="stable")]
        # Taking rows copies them: pandas (3.x) keeps an object array it is given, and
        # the builder changes its arrays in place.
        frame = pd.DataFrame({key: self._data[key][rows]
                              for key in (RUN, LABEL, *(c.key for c in columns))})
        return RunTable(frame, tuple(self._runs[i] for i in rows), columns)

    def _row(self, run: Any) -> int:
        index = self._row_of.get(run)
        if index is not None:
            return index
        index = self._size
        if index == len(self._data[RUN]):
            self._grow(max(64, 2 * index))
        self._size += 1
        self._runs.append(run)
        self._row_of[run] = index
        self._data[RUN][index] = run if isinstance(run, int) else np.nan
        self._data[LABEL][index] = self._text(str(run))
        return index

    def _grow(self, capacity: int) -> None:
        for key, old in self._data.items():
            new = np.full(capacity, np.nan, float) if old.dtype == float else \
                np.full(capacity, "", object)
            new[:len(old)] = old
            self._data[key] = new

    def _set(self, task: str, name: str, index: int, value: Value | None) -> None:
        """One cell of one column, the column made (or turned to text) when needed."""
        column = self._columns.get((task, name))
        if column is None:
            if value is None:
                return
            kind = STATUS if not name else NUMBER if _is_number(value) else TEXT
            column = self._add(task, name, kind)
        if column.kind == NUMBER and value is not None and not _is_number(value):
            column = self._to_text(column)
        array = self._data[column.key]
        if column.kind == NUMBER:
            array[index] = np.nan if value is None else float(value)
        elif column.kind == STATUS:
            array[index] = value or ""
        else:
            array[index] = "" if value is None else self._text(as_text(value))

    def _add(self, task: str, name: str, kind: str) -> RunColumn:
        column = RunColumn(f"c{len(self._columns)}", task, name, kind)
        self._columns[(task, name)] = column
        self._by_task.setdefault(task, []).append((task, name))
        capacity = len(self._data[RUN])
        self._data[column.key] = (np.full(capacity, np.nan, float) if kind == NUMBER
                                  else np.full(capacity, "", object))
        return column

    def _to_text(self, column: RunColumn) -> RunColumn:
        numbers = self._data[column.key]
        self._data[column.key] = np.array(
            ["" if np.isnan(v) else as_text(float(v)) for v in numbers], dtype=object)
        text = RunColumn(column.key, column.task, column.value, TEXT)
        self._columns[column.ref] = text
        return text


class _Shared:
    """One experiment's builder and the cells published since its last table.

    The watcher only notes cells (cheap, on the refresh thread, under a lock
    of its own: a first build of 10,000 runs takes seconds and must not stall
    the refresh); the work is done by the first session that asks.  Noting
    cells, not changes, keeps this bounded when nobody asks for hours.
    """

    def __init__(self, text: TextOf) -> None:
        self.text = text
        self.build_lock = threading.Lock()
        self.notes_lock = threading.Lock()
        self.builder = RunTableBuilder(text)
        self.table: RunTable | None = None
        self.pending: set[Cell] = set()
        self.reset = True
        self.seen: Any = None  # the experiment's change last taken into account

    def heard(self, event: Any) -> None:
        self._note(event.new)

    def _note(self, change: Any) -> None:
        if change is None:
            return
        with self.notes_lock:
            if change.reset:
                self.reset = True
                self.pending.clear()
            elif not self.reset:
                self.pending.update(change.cells)

    def up_to_date(self, experiment: Experiment) -> bool:
        with self.notes_lock:
            return (self.table is not None and not self.reset and not self.pending
                    and experiment.change is self.seen)

    def current(self, experiment: Experiment) -> RunTable:
        with self.build_lock:
            # The change before the cells: ``latest`` is published first, so it is at
            # least as new.  A change whose watcher has not run yet is noted here; its
            # cells come again from the watcher, which then costs a lookup each.
            change = experiment.change
            if change is not self.seen:
                self._note(change)
                self.seen = change
            latest = experiment.latest
            with self.notes_lock:
                reset, cells = self.reset, self.pending
                self.reset, self.pending = False, set()
            if not (reset or cells) and self.table is not None:
                return self.table
            if reset:
                self.builder = RunTableBuilder(self.text)
                self.builder.add_runs(reversed(experiment.runs))  # rows oldest first
                cells = set(latest)
            # Asked after ``latest`` was read: its values are of these rows or newer ones,
            # which a later change names again.
            self.builder.apply(latest, cells, value_table(experiment).values)
            self.table = self.builder.table(experiment.tasks)
            return self.table


_SHARED: weakref.WeakKeyDictionary[Experiment, dict[TextOf, _Shared]] = \
    weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def _shared(experiment: Experiment, text: TextOf) -> _Shared:
    with _SHARED_LOCK:
        by_text = _SHARED.setdefault(experiment, {})
        shared = by_text.get(text)
        if shared is None:
            shared = by_text[text] = _Shared(text)
            # Watched before the first build reads the state: nothing published is missed.
            experiment.param.watch(shared.heard, "change")
        return shared


def run_table(experiment: Experiment, text: TextOf = str) -> RunTable:
    """The Runs table of ``experiment``'s current state, built once and shared by all sessions.

    The first call builds it (seconds for 10,000 runs × 20 Tasks: call it off
    the UI thread) and starts noting what each refresh changes; later calls
    apply only the cells published since.  ``text`` makes a string from disk
    cell text; each function gets its own table.
    """
    return _shared(experiment, text).current(experiment)


def ready_run_table(experiment: Experiment, text: TextOf = str) -> RunTable | None:
    """The shared table when it is current (no waiting, no work), else None."""
    shared = _shared(experiment, text)
    return shared.table if shared.up_to_date(experiment) else None
