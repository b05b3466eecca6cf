"""The Summary pages screen: one page at a time, or a run sheet with every page of one run.

A run sheet (``?exp=E&run=R&view=sheet``) answers "how did run R go?" in one
scroll: each summary page of the run in its own sandboxed frame, in the
order of their kinds (``{run}/powders``, ``{run}/CCstar``…), so that stepping
to the next run puts the same page at the same place and the scroll
position, which is kept (only the frames are replaced), still shows it.
Frames are ``loading="lazy"`` (:func:`report_iframe`): a run of 30
pages loads the few on screen, the rest as they are scrolled to.

:class:`SummaryScreen` is what the Summary pages tab holds: the page browser
or the run sheet, as ``session.view`` says (``summary`` or ``sheet``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import panel as pn
import param

from dashboard.session import subscribe
from dashboard.views.base import SessionView
from dashboard.views.html_pane import HTML
from dashboard.views.report_frame import report_iframe, report_url
from dashboard.views.summary_browser import SummaryBrowser
from dashboard.views.templates import NEW_TAB_LINK, HtmlTemplate
from lute_model.experiment import ExperimentChange
from lute_model.page_index import natural_key, page_index
from lute_model.runs import run_key
from lute_model.shared_cache import SharedCache

FRAME_HEIGHT = 620
MODES = {"One page": "summary", "Run sheet": "sheet"}
_TITLE = HtmlTemplate("{% if run is not none %}<b>Run {{ run }}</b> · {{ count }}"
                      "{% else %}No summary pages in this experiment.{% endif %}")
#: Each slot: a page's name, link and frame (None: an empty page), or why it has none.
_PAGES = HtmlTemplate(
    "{% for missing, name, link, frame in slots %}<div class='sheet-page'>{% if missing %}"
    "<h4>&nbsp;</h4><div class='sheet-gap'>{{ missing }} Its place is kept, so pages stay "
    "where they were while you step through runs.</div>{% else %}<h4>{{ name }} · {{ link }}"
    "</h4>{% if frame %}{{ frame }}{% else %}<p class='sheet-note'>An empty page (0 bytes)."
    "</p>{% endif %}{% endif %}</div>{% else %}<p class='sheet-note'>No summary pages for run "
    "{{ run }}.</p>{% endfor %}")
_CSS = f"""
.sheet-page {{ margin: 0 0 18px 0; }}
.sheet-page h4 {{ margin: 6px 0; font-size: 1.05em; overflow-wrap: anywhere; }}
.sheet-page iframe {{ display: block; height: {FRAME_HEIGHT}px !important;
                      border: 1px solid rgba(127,127,127,.3) !important; }}
.sheet-note {{ opacity: .75; font-style: italic; margin: 4px 0 12px 0; }}
.sheet-gap {{ height: {FRAME_HEIGHT}px; border: 1px dashed rgba(127,127,127,.4);
              display: flex; align-items: center; justify-content: center; opacity: .7; }}
"""

_BY_RUN: SharedCache[dict[int, list[str]]] = SharedCache(size=8)


def pages_by_run(pages: Mapping[str, Any]) -> dict[int, list[str]]:
    """run -> its pages, ordered by kind; built once per pages dict, shared by sessions
    (``Experiment`` publishes a new dict on every change, never changing one)."""
    return _BY_RUN.get(pages, (), lambda _old: _pages_by_run(pages))


def _pages_by_run(pages: Mapping[str, Any]) -> dict[int, list[str]]:
    kinds = page_index(pages).kind_of
    by_run: dict[int, list[str]] = {}
    for name in sorted(kinds, key=lambda name: natural_key(kinds[name][0])):
        by_run.setdefault(kinds[name][1], []).append(name)
    return by_run


class RunSheet(SessionView):
    """Every summary page of ``session.run``, one under the other; steps through runs."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._prev = pn.widgets.Button(label="◀ Previous run", width=170)
        self._next = pn.widgets.Button(label="Next run ▶", width=170)
        self._title = HTML("", margin=(8, 10), sizing_mode="stretch_width")
        self._pages = HTML("", sizing_mode="stretch_width", disable_math=True,
                                   stylesheets=[_CSS])
        # The scroll container stays while runs change, so the scroll position does too.
        self._scroller = pn.Column(self._pages, scroll=True, sizing_mode="stretch_both",
                                   min_height=500, css_classes=["run-sheet"])
        self._prev.on_click(lambda _e: self.step(-1))
        self._next.on_click(lambda _e: self.step(+1))
        self._shown: tuple[Any, tuple[str, ...]] | None = None
        self._slots: list[str] = []  # page kinds in the sheet's order, missing ones included
        self.session.param.watch(lambda *_events: self.render(), ["run", "view"])
        subscribe(self.experiment, "change", lambda event: self.apply_change(event.new))
        self.render()

    def runs(self) -> list[int]:
        """Runs that have summary pages, oldest first."""
        return sorted(pages_by_run(self.experiment.pages))

    def run(self) -> Any:
        """The run shown: the link's, else the newest with pages (None without any)."""
        if self.session.run:
            return run_key(self.session.run)
        runs = self.runs()
        return runs[-1] if runs else None

    def neighbour(self, step: int) -> int | None:
        """The previous (-1) or next (+1) run that has pages, if any."""
        run = self.run()
        if not isinstance(run, int):
            return None
        runs = [r for r in self.runs() if (r > run if step > 0 else r < run)]
        return (runs[0] if step > 0 else runs[-1]) if runs else None

    def step(self, step: int) -> None:
        target = self.neighbour(step)
        if target is not None:
            self.session.run = str(target)

    def render(self) -> None:
        """The run's pages as frames; nothing is sent when the run and its pages are as shown."""
        if self.session.view != "sheet":
            self._shown, self._slots = None, []  # a new visit starts a new layout
            return
        run = self.run()
        names = tuple(pages_by_run(self.experiment.pages).get(run, []))
        for button, step, text in ((self._prev, -1, "◀ Previous run"), (self._next, 1, "Next run")):
            target = self.neighbour(step)
            button.disabled = target is None
            label = text if target is None else f"{text} ({target})"
            button.label = label if step < 0 else f"{label} ▶"
        count = f"{len(names)} summary page" + ("" if len(names) == 1 else "s")
        self._title.object = str(_TITLE(run=run, count=count))
        if self._shown == (run, names):
            return
        self._shown = (run, names)
        kind_of = page_index(self.experiment.pages).kind_of
        own = {kind_of[name][0]: name for name in names}
        # Kinds the runs stepped through before keep their slot (an empty box of a
        # frame's height), so the page that was in view is in view again.
        self._slots = sorted({*own, *self._slots}, key=natural_key) if names else []
        slots = []
        for kind in self._slots:
            name = own.get(kind)
            if name is None:
                slots.append((f"No {kind.replace('{run}', '…')} page for run {run}.", "", "",
                              None))
                continue
            url = report_url(self.session.prefix, self.experiment.name, name)
            frame = (None if self.experiment.pages[name].empty
                     else report_iframe(url, f"Summary page {name}"))
            slots.append(("", name, NEW_TAB_LINK(url=url, text="open in new tab ↗"), frame))
        self._pages.object = str(_PAGES(slots=slots, run=run))

    def apply_change(self, change: ExperimentChange | None) -> None:
        """New or removed pages of the shown run: drawn again (only then)."""
        if change is not None and (change.pages or change.removed_pages or change.reset):
            self.render()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(self._prev, self._next, self._title), self._scroller,
                         sizing_mode="stretch_both")


class SummaryScreen(SessionView):
    """The Summary pages tab: the page browser, or the run sheet of one run."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._browser = SummaryBrowser(experiment=self.experiment, session=self.session)
        self._sheet = RunSheet(experiment=self.experiment, session=self.session)
        self._mode = pn.widgets.RadioButtonGroup(options=MODES, value=self._view(),
                                                 button_type="primary", button_style="outline")
        self._mode.param.watch(self._mode_chosen, "value")
        self.session.param.watch(self._view_changed, "view")
        # Each part is laid out once: a Viewer put into a layout again is laid out anew,
        # and its widgets' old models go with the old layout (seen: an empty tab).
        self._parts = {"summary": pn.panel(self._browser), "sheet": pn.panel(self._sheet)}
        self._body = pn.Column(sizing_mode="stretch_both")
        self._view_changed()

    def _view(self) -> str:
        return "sheet" if self.session.view == "sheet" else "summary"

    def _mode_chosen(self, event: param.parameterized.Event) -> None:
        """To the sheet of the page's run; back to the same kind of page of the sheet's run."""
        if event.new == self._view():
            return
        index = page_index(self.experiment.pages)
        kind = index.kind_of.get(self._browser.shown)
        if event.new == "sheet":
            run = kind[1] if kind else self._sheet.run()
            self.session.param.update(view="sheet", run="" if run is None else str(run))
            return
        run = self._sheet.run()
        same = dict(index.kinds.get(kind[0], [])).get(run) if kind else None
        self.session.param.update(view="summary", run="",
                                  **({"page": same} if same else {}))

    def _view_changed(self, *_events: object) -> None:
        self._mode.value = self._view()
        shown = self._parts[self._view()]
        if self._body.objects != [shown]:
            self._body.objects = [shown]

    def apply_change(self, change: ExperimentChange) -> None:
        """Both parts follow a resume (each is subscribed to live changes itself)."""
        self._browser.apply_change(change)
        self._sheet.apply_change(change)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._mode, self._body, sizing_mode="stretch_both")
