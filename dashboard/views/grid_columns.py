"""The status grid's data: one dense column entry per (run, Task) cell, built once per state.

The columns are dense (every run × every Task, an empty cell where a Task
never ran), so the row of a cell is arithmetic: cell ``i`` is run ``i //
width`` and Task ``i % width``, with runs bottom-up (the oldest at y=0).  For
one experiment state they are built once and shared by every session (cached
by the identity of ``experiment.change``); sessions copy them into their own
bokeh models, because bokeh patches and streams those in place.

Names go to the browser as they are shown (:func:`templates.visible`: a NUL or
a lone surrogate spelled out); the view maps a clicked cell back to the
stored names by its position, never by its text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dashboard.views.templates import visible
from lute_model.experiment import Experiment
from lute_model.results import TaskRun
from lute_model.shared_cache import SharedCache
from lute_model.status import PALETTE, SYMBOL, TEXT_ON
from lute_model.summary_text import first_line

#: Above this many visible rows the status symbols would overlap: show color only.
MAX_SYMBOL_ROWS = 60
#: Fill of a cell whose Task never ran for that run: a faint grey on light and dark pages.
EMPTY_COLOR = "rgba(128, 128, 128, 0.12)"
#: Characters of a Task name or run on an axis: a 300-character name would push the
#: grid off the screen.  The hover shows the whole name.
LABEL_CHARS = 28

#: One entry per cell.  Every string column costs the first page load of a big
#: experiment about a second, so what can be derived in the browser (symbol,
#: text color) is not a column.
HOVER_SUMMARY = 80
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

#: A Task name on the axis, cut at ``max_chars`` characters (whole code points, not halves).
SHORT_LABEL_JS = """
const chars = Array.from(tick);
return chars.length > max_chars ? chars.slice(0, max_chars - 1).join('') + '…' : tick;
"""


def shown_name(name: Any) -> str:
    """A Task name or run as the grid shows it: ``12``, ``calib``, NUL spelled ``\\x00``."""
    return visible(str(name))


def short_label(name: Any) -> str:
    """A run on the axis: at most LABEL_CHARS characters (what SHORT_LABEL_JS does for Tasks)."""
    text = shown_name(name)
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"


def cell_values(row: TaskRun | None) -> dict[str, Any]:
    """What one cell shows for its latest execution (or for none): every column but place."""
    if row is None:
        return {"status": "", "color": EMPTY_COLOR, "time": "", "summary": ""}
    name = row.status.name
    # Every cell's text goes to every browser: the hover gets the first line, short.
    return {"status": name, "color": PALETTE[row.status], "time": row.timestamp[:19],
            "summary": visible(first_line(row.summary, HOVER_SUMMARY))}


def build_columns(experiment: Experiment, runs_bottom_up: list[Any], first_y: int = 0,
                  tasks: list[str] | None = None) -> Columns:
    """The dense columns for ``runs_bottom_up``, row by row, ``tasks`` (default: the
    experiment's) in pipeline order."""
    columns: Columns = {name: [] for name in COLUMNS if name != "y"}
    latest = experiment.latest
    tasks = experiment.tasks if tasks is None else tasks
    shown_tasks = [shown_name(task) for task in tasks]
    for run in runs_bottom_up:
        label = shown_name(run)
        for task, shown in zip(tasks, shown_tasks, strict=True):
            values = cell_values(latest.get((task, run)))
            values.update(task=shown, run=label)
            for name, column in columns.items():
                column.append(values[name])
    rows = np.arange(first_y, first_y + len(runs_bottom_up), dtype=np.int32)
    columns["y"] = np.repeat(rows, len(tasks))
    return columns


def symbols_in_view(columns: Columns, width: int, start: float, end: float) -> Columns:
    """The symbols of the cells between ``start`` and ``end``: what SYMBOLS_JS computes later."""
    low, high = max(0, math.ceil(start - 0.5)), math.floor(end + 0.5)
    picked: Columns = {"task": [], "y": [], "symbol": [], "color": []}
    symbol_of, text_on = SYMBOL.by_name(), TEXT_ON.by_name()  # the columns hold names
    if width == 0 or high - low > MAX_SYMBOL_ROWS:
        return picked
    for index in range(low * width, min(len(columns["task"]), high * width)):
        status = columns["status"][index]
        if status:
            picked["task"].append(columns["task"][index])
            picked["y"].append(int(columns["y"][index]))
            picked["symbol"].append(symbol_of[status])
            picked["color"].append(text_on[status])
    return picked


#: Grids of one experiment state, one per ``newest``: built once for every session.
_GRIDS: SharedCache[GridState] = SharedCache()


@dataclass(frozen=True)
class GridState:
    """One experiment state as grid columns, with the Tasks and runs they were built from.

    Read once, together: the refresh thread may publish while a session
    builds, and a session that took its Tasks from one state and its columns
    from the next would patch the wrong cells.
    """

    tasks: list[str]
    runs: list[Any]  # bottom-up: index == y
    columns: Columns


def _grid_state(experiment: Experiment, newest: int | None) -> GridState:
    tasks, runs = list(experiment.tasks), list(reversed(experiment.runs[:newest]))
    return GridState(tasks, runs, build_columns(experiment, runs, tasks=tasks))


def shared_grid(experiment: Experiment, newest: int | None = None) -> GridState:
    """The grid of the experiment's current state (its ``newest`` runs only, if given);
    read-only, shared by sessions."""
    # Keyed by the identity of ``experiment.change``, which is new after every refresh.
    return _GRIDS.get(experiment, (experiment.change,),
                      lambda _old: _grid_state(experiment, newest), name=newest)
