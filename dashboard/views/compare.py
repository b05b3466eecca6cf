"""Compare two runs: per Task the parameters that differ, values side by side, and the same
summary page of both runs next to each other.

``session.compare`` (``?compare=R1,R2``) is the truth; with none given the
two newest runs are compared, without writing the link.  Parameters may
have to be read from the database (v2 layout), so they are read for both
runs in a worker thread while the rest is already on screen; a newer choice
makes an older read's answer moot.  The two pages are the one sandboxed
frame each (:func:`dashboard.views.report_frame.report_iframe`).
"""

from __future__ import annotations

from typing import Any

import panel as pn
from markupsafe import Markup

from dashboard.session import in_worker, subscribe
from dashboard.views.base import SessionView
from dashboard.views.detail_parts import DETAIL_CSS
from dashboard.views.html_pane import HTML
from dashboard.views.report_frame import report_iframe, report_url
from dashboard.views.templates import PARAGRAPH, HtmlTemplate, status_css
from lute_model.compare import MISSING, differences, parse_pair
from lute_model.experiment import ExperimentChange
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


_TABLE = HtmlTemplate(
    '<table class="cmp"><thead><tr><th>{{ title }}</th><th>run {{ runs[0] }}</th>'
    "<th>run {{ runs[1] }}</th></tr></thead><tbody>"
    "{% for name, a, b, differs in rows %}"
    '<tr class="{{ "differs" if differs else "" }}"><th>{{ name }}</th>'
    "<td>{{ a }}</td><td>{{ b }}</td></tr>{% endfor %}</tbody></table>")
_TASK = HtmlTemplate(
    "<h4 class='task'>{{ task }} <small>{% for run, row in sides %}"
    "{% if not loop.first %} · {% endif %}run {{ run }} "
    "{% if row is not none %}{{ badge(row.status) }}{% else %}"
    "<span class='none'>did not run</span>{% endif %}{% endfor %}</small></h4>")
_TASKS = HtmlTemplate(
    "<h3 class='title'>Run {{ names[0] }} compared with run {{ names[1] }}</h3>"
    "{% for part in parts %}{{ part }}{% else %}"
    "<p class='none'>Neither run has a Task.</p>{% endfor %}")
_NO_PAIR = str(PARAGRAPH(kind="none", text="Two runs are needed for a comparison."))
_NO_PAGE = str(PARAGRAPH(kind="muted", text="Neither run has a summary page."))
_SIDES = HtmlTemplate(
    "<style>.sides { display: flex; gap: 10px; } .side { flex: 1; min-width: 0; }"
    " .side iframe { height: {{ height }}px !important; }</style><div class='sides'>"
    "{% for run, name, frame, why in cells %}<div class='side'><b>run {{ run }}</b>"
    "{% if frame %} · {{ name }}{{ frame }}{% else %}<p class='muted'>{{ why }}</p>{% endif %}"
    "</div>{% endfor %}</div>")


def _table(title: str, rows: list[tuple[str, Any, Any]], runs: tuple[str, str]) -> Markup:
    """A name | first run | second run table; rows whose sides differ are marked."""
    shown = [(name, _text(a), _text(b), a != b) for name, a, b in rows]
    return _TABLE(title=title, rows=shown, runs=runs)


class CompareView(SessionView):
    """Two runs of one experiment, for one session; follows ``session.compare``."""

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
        self._tasks = HTML("", sizing_mode="stretch_width", disable_math=True,
                                   stylesheets=[status_css(), DETAIL_CSS, _CSS])
        self._frames = HTML("", sizing_mode="stretch_width", height=FRAME_HEIGHT + 40,
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
        stored = self._stored_runs(2)
        return (stored[1], stored[0]) if len(stored) > 1 else None

    def _stored_runs(self, count: int) -> list[Any]:
        """The newest ``count`` runs with a stored execution: a run whose Tasks only started
        (journal events) has no parameters or values yet to compare."""
        latest, tasks, found = self.experiment.latest, self.experiment.tasks, []
        for run in self.experiment.runs:  # newest first; stops after ``count``
            if any((row := latest.get((task, run))) is not None and row.rowid is not None
                   for task in tasks):
                found.append(run)
                if len(found) == count:
                    break
        return found

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
            self._tasks.object = _NO_PAIR
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
            parts.append(_TASK(task=task, sides=zip(names, (first, second), strict=True)))
            both = (table.values(task, pair[0]), table.values(task, pair[1]))
            values = [(name, both[0].get(name, MISSING), both[1].get(name, MISSING))
                      for name in dict.fromkeys([*both[0], *both[1]])]
            if values:
                parts.append(_table("value", values, names))
            unstored = [(run, row) for run, row in zip(names, (first, second), strict=True)
                        if row is not None and row.rowid is None]
            if unstored:  # a Task still running: LUTE stores its parameters when it ends
                parts.append(PARAGRAPH(kind="none", text="; ".join(
                    f"Run {run}: {row.status.name} — parameters are stored when it ends"
                    for run, row in unstored)))
            elif first is not None and second is not None:  # else every parameter "differs"
                parts.append(self._parameters_html(task, names))
        self._tasks.object = str(_TASKS(names=names, parts=parts))

    def _parameters_html(self, task: str, names: tuple[str, str]) -> Markup:
        pair = self._pair or ("", "")
        if (task, pair[0]) not in self._parameters and (task, pair[1]) not in self._parameters:
            return PARAGRAPH(kind="none", text="Reading parameters…")
        changed = differences(self._parameters.get((task, pair[0]), {}),
                              self._parameters.get((task, pair[1]), {}))
        if not changed:
            return PARAGRAPH(kind="none", text="Same parameters in both runs.")
        return _table("parameter that differs", changed, names)

    async def _read_parameters(self) -> None:
        """Both runs' parameters of every Task, read off the session's thread."""
        reading, rows = self._reading, self._rows()
        wanted = [row for _task, *both in rows for row in both if row is not None]
        try:
            found = await in_worker(
                lambda: {(row.task, row.run_key): self.experiment.details(row).task_parameters
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
            self._frames.object = _NO_PAGE
            return
        cells = []
        for run in pair:
            name = self._page_names.get(kind, {}).get(run)
            page = self.experiment.pages.get(name) if name else None
            if page is None or page.empty:
                why = "no such page for this run" if page is None else "an empty page"
                cells.append((run, name, None, why))
                continue
            url = report_url(self.session.prefix, self.experiment.name, name)
            cells.append((run, name, report_iframe(url, f"Summary page {name}"), None))
        self._frames.object = str(_SIDES(height=FRAME_HEIGHT, cells=cells))

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

