"""Compare two runs: per Task the parameters that differ, values side by side, and the same
summary page of both runs next to each other.

``session.compare`` (``?compare=R1,R2``) is the truth; with none given the
two newest runs are compared, without writing the link.  Parameters may
have to be read from the database (v2 layout), so they are read for both
runs in a worker thread while the rest is already on screen; a newer choice
makes an older read's answer moot.  The two pages are the one sandboxed
frame each (:func:`dashboard.views.report_frame.report_iframe_html`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import panel as pn
import param

from dashboard.session import SessionState, subscribe
from dashboard.views.detail_parts import DETAIL_CSS
from dashboard.views.markup import badge, esc, status_css
from dashboard.views.report_frame import report_iframe_html, report_url
from lute_model.compare import MISSING, differences, parse_pair
from lute_model.experiment import Experiment, ExperimentChange
from lute_model.page_index import natural_key, page_index
from lute_model.results import TaskRun
from lute_model.trends import value_table

FRAME_HEIGHT = 640
_CSS = """
.cmp { border-collapse: collapse; font-size: 13px; margin: 2px 0 10px 0; width: 100%;
       table-layout: fixed; }
.cmp th:first-child { width: 26%; }
.cmp th, .cmp td { text-align: left; padding: 3px 12px 3px 0; vertical-align: top;
                   border-bottom: 1px solid rgba(127,127,127,.2); overflow-wrap: anywhere; }
.cmp thead th { opacity: .75; }
.cmp tr.differs td { background: rgba(230, 159, 0, .18); }
.task { margin: 14px 0 2px 0; font-size: 1.1em; }
.none { opacity: .7; font-style: italic; }
"""


def _text(value: Any) -> str:
    return repr(value) if value is MISSING else str(value)


def _table(title: str, rows: list[tuple[str, Any, Any]], runs: tuple[str, str]) -> str:
    """A name | first run | second run table; rows whose sides differ are marked."""
    body = "".join(f'<tr class="{"differs" if a != b else ""}"><th>{esc(name)}</th>'
                   f"<td>{esc(_text(a))}</td><td>{esc(_text(b))}</td></tr>"
                   for name, a, b in rows)
    return (f'<table class="cmp"><thead><tr><th>{esc(title)}</th><th>run {esc(runs[0])}</th>'
            f"<th>run {esc(runs[1])}</th></tr></thead><tbody>{body}</tbody></table>")


class CompareView(pn.viewable.Viewer):
    """Two runs of one experiment, for one session; follows ``session.compare``."""

    experiment = param.ClassSelector(class_=Experiment, doc="The shared experiment shown.")
    session = param.ClassSelector(class_=SessionState, doc="This browser session's choices.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._syncing = False
        self._pair: tuple[Any, Any] | None = None
        self._parameters: dict[tuple[str, Any], dict[str, Any]] = {}
        self._reading = 0  # the newest parameter read; older answers are dropped
        self._page_names: dict[str, dict[Any, str]] = {}  # kind -> run -> display_name
        self._first = pn.widgets.Select(name="Run", width=140)
        self._second = pn.widgets.Select(name="compared with run", width=140)
        self._kind = pn.widgets.Select(name="Summary page of both runs", width=360)
        self._tasks = pn.pane.HTML("", sizing_mode="stretch_width", disable_math=True,
                                   stylesheets=[status_css(), DETAIL_CSS, _CSS])
        self._frames = pn.pane.HTML("", sizing_mode="stretch_width", height=FRAME_HEIGHT + 40,
                                    disable_math=True, stylesheets=[DETAIL_CSS])
        for widget in (self._first, self._second):
            widget.param.watch(self._runs_chosen, "value")
        self._kind.param.watch(lambda _e: self._render_frames(), "value")
        self.session.param.watch(lambda _e: self._show(), "compare")
        subscribe(self.experiment, "change", lambda event: self.apply_change(event.new))
        self._show()

    # -- which runs --------------------------------------------------------------

    def pair(self) -> tuple[Any, Any] | None:
        """The two runs: the link's, else the two newest (None with fewer than two runs)."""
        chosen = parse_pair(self.session.compare)
        if chosen is not None:
            return chosen
        runs = self.experiment.runs
        return (runs[1], runs[0]) if len(runs) > 1 else None

    def _runs_chosen(self, _event: Any) -> None:
        if not self._syncing and self._first.value and self._second.value:
            self.session.compare = f"{self._first.value},{self._second.value}"

    def _show(self) -> None:
        """Everything for the current pair; parameters follow from a worker thread."""
        self._pair = pair = self.pair()
        options = [str(run) for run in self.experiment.runs]
        self._syncing = True
        try:
            for widget, run in zip((self._first, self._second), pair or ("", ""), strict=True):
                widget.options = options if str(run) in options else [*options, str(run)]
                widget.value = str(run)
        finally:
            self._syncing = False
        if pair is None:
            self._tasks.object = "<p class='none'>Two runs are needed for a comparison.</p>"
            self._frames.object = ""
            return
        self._parameters = {}
        self._render_tasks()
        self._fill_kinds()
        self._reading += 1
        pn.state.execute(self._read_parameters)

    # -- per Task ----------------------------------------------------------------

    def _rows(self) -> list[tuple[str, TaskRun | None, TaskRun | None]]:
        latest, pair = self.experiment.latest, self._pair or ("", "")
        rows = [(task, latest.get((task, pair[0])), latest.get((task, pair[1])))
                for task in self.experiment.tasks]
        return [row for row in rows if row[1] is not None or row[2] is not None]

    def _render_tasks(self) -> None:
        """Statuses, values and (once read) differing parameters of each Task of either run."""
        table, pair = value_table(self.experiment), self._pair or ("", "")
        names = (str(pair[0]), str(pair[1]))
        parts = []
        for task, first, second in self._rows():
            statuses = " · ".join(
                f"run {esc(run)} " + (badge(row.status) if row is not None else
                                      "<span class='none'>did not run</span>")
                for run, row in zip(names, (first, second), strict=True))
            parts.append(f"<h4 class='task'>{esc(task)} <small>{statuses}</small></h4>")
            both = (table.values(task, pair[0]), table.values(task, pair[1]))
            values = [(name, both[0].get(name, MISSING), both[1].get(name, MISSING))
                      for name in dict.fromkeys([*both[0], *both[1]])]
            if values:
                parts.append(_table("value", values, names))
            if first is not None and second is not None:  # else every parameter "differs"
                parts.append(self._parameters_html(task, names))
        header = f"<h3 class='title'>Run {esc(names[0])} compared with run {esc(names[1])}</h3>"
        body = "".join(parts) or "<p class='none'>Neither run has a Task.</p>"
        self._tasks.object = header + body

    def _parameters_html(self, task: str, names: tuple[str, str]) -> str:
        pair = self._pair or ("", "")
        if (task, pair[0]) not in self._parameters and (task, pair[1]) not in self._parameters:
            return "<p class='none'>Reading parameters…</p>"
        changed = differences(self._parameters.get((task, pair[0]), {}),
                              self._parameters.get((task, pair[1]), {}))
        if not changed:
            return "<p class='none'>Same parameters in both runs.</p>"
        return _table("parameter that differs", changed, names)

    async def _read_parameters(self) -> None:
        """Both runs' parameters of every Task, read off the session's thread."""
        reading, rows = self._reading, self._rows()
        wanted = [row for _task, *both in rows for row in both if row is not None]
        try:
            found = await asyncio.to_thread(
                lambda: {(row.task, row.run_key): self.experiment.details(row).parameters
                         for row in wanted})
        except Exception as err:  # an unreadable database: say so where parameters go
            found = {(row.task, row.run_key): {"(could not be read)": str(err)}
                     for row in wanted}
        if reading == self._reading:
            self._parameters = found
            self._render_tasks()

    # -- pages -------------------------------------------------------------------

    def _fill_kinds(self) -> None:
        """The kinds of page (``{run}/powders``) either run has, both runs' first."""
        index, pair = page_index(self.experiment.pages), self._pair or ("", "")
        kinds = {kind: {run: name for run, name in runs if run in pair}
                 for kind, runs in index.kinds.items()}
        kinds = {kind: names for kind, names in kinds.items() if names}
        order = sorted(kinds, key=lambda kind: (len(kinds[kind]) < 2, natural_key(kind)))
        self._page_names = kinds
        options = {kind.replace("{run}", "…"): kind for kind in order}
        keep = self._kind.value if self._kind.value in kinds else (order[0] if order else None)
        self._kind.options = options
        self._kind.value = keep
        self._render_frames()

    def _render_frames(self) -> None:
        """The chosen page of both runs, side by side: a frame each, or why there is none."""
        pair, kind = self._pair, self._kind.value
        if pair is None or not kind:
            self._frames.object = "<p class='muted'>Neither run has a summary page.</p>"
            return
        cells = []
        for run in pair:
            name = self._page_names.get(kind, {}).get(run)
            page = self.experiment.pages.get(name) if name else None
            if page is None or page.empty:
                why = "no such page for this run" if page is None else "an empty page"
                cells.append(f"<div class='side'><b>run {esc(run)}</b>"
                             f"<p class='muted'>{why}</p></div>")
                continue
            url = report_url(self.session.prefix, self.experiment.name, name)
            frame = report_iframe_html(url, f"Summary page {name}")
            cells.append(f"<div class='side'><b>run {esc(run)}</b> · {esc(name)}{frame}</div>")
        self._frames.object = (
            "<style>.sides { display: flex; gap: 10px; } .side { flex: 1; min-width: 0; }"
            f" .side iframe {{ height: {FRAME_HEIGHT}px !important; }}</style>"
            f"<div class='sides'>{''.join(cells)}</div>")

    # -- live --------------------------------------------------------------------

    def apply_change(self, change: ExperimentChange | None) -> None:
        """Shown again when a cell of either run changed, its pages, or the runs."""
        if change is None:
            return
        pair = self._pair or ()
        if (change.reset or change.new_runs or any(cell[1] in pair for cell in change.cells)
                or self.pair() != self._pair):
            self._show()
        elif change.pages or change.removed_pages:
            self._fill_kinds()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(self._first, self._second, self._kind), self._tasks,
                         self._frames, sizing_mode="stretch_width", scroll=True)

