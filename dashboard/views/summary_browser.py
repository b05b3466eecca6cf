"""The summary-page browser: LUTE's eLog pages by tab, one report open at a time.

Many tabs stay usable because the tab list is split in two.  Named tabs
(Geometry_Fit, XAS, scans...) are few and sit in their own short listbox;
run tabs (``r0012``, one per run from FindPeaks, thousands in a long
experiment) sit in a second listbox, newest run first, which is a run picker.
One filter box above narrows both.  A tab's pages are a third listbox in
natural order (``r2`` before ``r12``), deeper paths shown nested
(``jungfrau1M › gain modes › r0030``) and marked "∅ empty" or "no DB row".

All three are native ``<select size=N>`` lists: their options are plain text
(nothing to escape, nothing to render), one widget however many pages, so a
tab of 5,000 pages opens like a tab of 5: the cost is building 5,000 short
labels from an index built once per pages dict (:mod:`lute_model.page_index`).
Only the open page's report is loaded, in the one sandboxed frame
(:func:`dashboard.views.report_frame.report_iframe_html`).

``session.page`` is the truth: choosing a page sets it, and a change from
elsewhere (deep link, Task detail) opens that page's tab and page here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import panel as pn
import param

from dashboard.session import subscribe
from dashboard.views.base import SessionView
from dashboard.views.html_pane import HTML
from dashboard.views.listbox import NO_CHOICE, Listbox, NavigationKeys
from dashboard.views.report_frame import report_iframe_html, report_url
from dashboard.views.templates import NEW_TAB_LINK, HtmlTemplate
from lute_model.experiment import ExperimentChange
from lute_model.page_index import PageIndex, page_index
from lute_model.sizes import size_text
from lute_model.sources.summary_tree import SummaryPage
from lute_model.summaries import tab_of

EMPTY_TEXT = ("This page is 0 bytes: LUTE could not save its figure (e.g. an hv.Image or "
              "matplotlib Figure given to ElogSummaryPlots).")
ORPHAN_TEXT = ("No Task row names this page: the Task that wrote it probably failed while "
               "storing its result.")
MISSING_TEXT = "This page is not on disk: there is no report.html for it in stats/summary."
DELETED_TEXT = ("This page was deleted from disk while it was open; the frame shows what was "
                "loaded before.")
CHOOSE_TEXT = "Choose a tab and a page on the left."

NESTING = " › "
_HEADER = HtmlTemplate(
    "{% if not name %}<div class='lb-title lb-muted'>{{ choose }}</div>{% else %}"
    "<div class='lb-title'>{% if rest %}<span class='lb-tab'>{{ tab }}</span>{{ nesting }}"
    "{{ rest }}{% else %}{{ name }}{% endif %}</div><div class='lb-facts'>{{ facts }}</div>"
    "{% endif %}")
_NOTES = HtmlTemplate("{% for note in notes %}<div class='lb-note'>{{ note }}</div>{% endfor %}")


def page_label(page: SummaryPage, orphan: bool) -> str:
    """The listbox text of a page: its path within the tab, nested, and what is odd about it."""
    label = NESTING.join(page.page.split("/"))
    if page.empty:
        label += "   ∅ empty"
    if orphan:
        label += "   · no DB row"
    return label


def _matches(text: str, needle: str) -> bool:
    return not needle or needle in text.casefold()


class SummaryBrowser(SessionView):
    """Browse one experiment's summary pages; follows ``session.page``."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._syncing = False
        self._shown = ""  # display_name of the open page
        self._frame_src = ""  # URL the frame holds
        self._tab = ""  # tab whose pages the page list holds
        self._deleted = False  # the open page vanished from disk after it was opened
        self._build_widgets()
        self._refresh_tabs()
        self._show(self.session.page or self.newest_page())
        self.session.param.watch(lambda event: self._show(event.new or self.newest_page()),
                                 "page")
        subscribe(self.experiment, "change", lambda event: self.apply_change(event.new))

    # -- widgets -------------------------------------------------------------

    def _build_widgets(self) -> None:
        self._tab_filter = pn.widgets.TextInput(placeholder="Filter tabs and runs…",
                                                sizing_mode="stretch_width")
        self._named = Listbox(label="Tabs", size=6,
                                        css_classes=["lb-named"],
                                        sizing_mode="stretch_width")
        self._runs = Listbox(label="Runs, newest first", size=8,
                                        css_classes=["lb-runs"],
                                       sizing_mode="stretch_width")
        self._page_filter = pn.widgets.TextInput(placeholder="Filter pages…",
                                                 sizing_mode="stretch_width")
        self._pages = Listbox(label="Pages", size=14,
                                        css_classes=["lb-pages"],
                                        sizing_mode="stretch_width")
        self._prev = pn.widgets.Button(label="◀ Previous run", disabled=True, width=150,
                                       description="Same page, previous run  ( [  or  Alt+← )")
        self._next = pn.widgets.Button(label="Next run ▶", disabled=True, width=150,
                                       description="Same page, next run  ( ]  or  Alt+→ )")
        self._follow = pn.widgets.Switch(value=False, width=40, margin=(12, 4, 0, 12))
        self._follow_label = HTML(
            "<span title='When a newer run writes this kind of page, open it'>follow latest</span>",
            margin=(10, 12, 0, 0), disable_math=True)
        self._link = HTML("", margin=(10, 10, 0, 10), disable_math=True)
        self._header = HTML("", sizing_mode="stretch_width", disable_math=True,
                                    stylesheets=[_CSS])
        self._notice = HTML("", sizing_mode="stretch_width", visible=False,
                                    disable_math=True, stylesheets=[_CSS])
        self._frame = HTML("", sizing_mode="stretch_both", min_height=400,
                                   disable_math=True, stylesheets=[_FRAME_CSS], margin=0)
        self._keys = NavigationKeys(width=0, height=0, margin=0)
        self._tab_filter.param.watch(lambda _e: self._refresh_tabs(), "value_input")
        self._page_filter.param.watch(lambda _e: self._refresh_pages(), "value_input")
        self._named.param.watch(self._tab_chosen, "value")
        self._runs.param.watch(self._tab_chosen, "value")
        self._pages.param.watch(self._page_chosen, "value")
        self._prev.on_click(lambda _e: self.step(-1))
        self._next.on_click(lambda _e: self.step(+1))
        self._follow.param.watch(lambda _e: self._follow_latest(), "value")
        self._keys.on_msg(self._key_pressed)

    @contextmanager
    def _programmatic(self) -> Iterator[None]:
        """Widget changes made here must not read as a person's choice."""
        self._syncing, before = True, self._syncing
        try:
            yield
        finally:
            self._syncing = before

    @property
    def _index(self) -> PageIndex:
        return page_index(self.experiment.pages)

    @property
    def shown(self) -> str:
        """display_name of the page on screen: the chosen one, else the newest run's."""
        return self._shown

    def newest_page(self) -> str:
        """What opens before a page is chosen: the newest run's ('' without pages), so the
        view never opens on an empty panel."""
        named, runs = self._index.grouped_tabs
        kinds = self._index.kind_of
        if runs or kinds:
            return (self._page_for_tab(runs[0]) if runs else None) or max(
                kinds, key=lambda name: kinds[name][1])
        return next(iter(self._index.tabs.get(named[0], [])), "") if named else ""

    # -- tabs and pages --------------------------------------------------------

    def _refresh_tabs(self) -> None:
        """Fill both tab lists from the index, filtered, keeping the open tab selected."""
        index = self._index
        needle = self._tab_filter.value_input.strip().casefold()
        named, runs = index.grouped_tabs

        with self._programmatic():
            self._named.set_items({tab: tab for tab in named if _matches(tab, needle)})
            self._named.size = min(max(len(named), 2), 8)  # a few named tabs: no empty rows
            self._runs.set_items({tab: tab for tab in runs if _matches(tab, needle)})
            self._runs.visible = bool(runs)
            self._named.visible = bool(named) or not runs
            self._select_tab(self._tab)

    def _select_tab(self, tab: str) -> None:
        with self._programmatic():
            self._named.choose(tab)
            self._runs.choose(tab)

    def _refresh_pages(self) -> None:
        """List the open tab's pages: O(pages in the tab), one label each, no widgets."""
        names = self._index.tabs.get(self._tab, [])
        pages, refs = self.experiment.pages, self.experiment.page_refs
        needle = self._page_filter.value_input.strip().casefold()
        options: dict[str, str] = {}
        for name in names:
            label = page_label(pages[name], not refs.get(name))
            if _matches(label, needle):
                options[label] = name
        with self._programmatic():
            self._pages.set_items(options)
            self._pages.label = f"Pages in {self._tab}   ({len(names)})" if self._tab else "Pages"
            self._pages.choose(self._shown)

    def _tab_chosen(self, event: param.parameterized.Event) -> None:
        tab = event.obj.chosen
        if self._syncing or tab == NO_CHOICE or tab == self._tab:
            return
        page = self._page_for_tab(tab)
        if page is not None:
            self.session.page = page

    def _page_for_tab(self, tab: str) -> str | None:
        """The page a tab opens on: the open page's name in it, else its newest run, else first.

        Going from run tab ``r12`` to ``r13`` thus stays on ``powders``, and a named
        tab like Geometry_Fit opens on its latest fit.
        """
        names = self._index.tabs.get(tab, [])
        if not names:
            return None
        current = self._shown.partition("/")[2]
        if current and f"{tab}/{current}" in self.experiment.pages:
            return f"{tab}/{current}"
        kinds = self._index.kind_of
        with_run = [name for name in names if name in kinds]
        return max(with_run, key=lambda n: kinds[n][1]) if with_run else names[0]

    def _page_chosen(self, event: param.parameterized.Event) -> None:
        name = event.obj.chosen
        if not self._syncing and name != NO_CHOICE:
            if self._follow.value and name != self._index.latest_of_kind(name):
                self._follow.value = False  # looking back at an older run: stop jumping ahead
            self.session.page = name

    # -- the open page -------------------------------------------------------------

    def _show(self, display_name: str, reload: bool = False) -> None:
        """Open ``display_name``: its tab and page selected, its header, notes and report."""
        if display_name != self._shown:
            self._deleted = False
        self._shown = display_name
        tab = tab_of(display_name) if display_name else self._tab
        if tab != self._tab:
            self._tab = tab
            with self._programmatic():
                self._page_filter.value = self._page_filter.value_input = ""
            self._select_tab(tab)
            self._refresh_pages()
        else:
            with self._programmatic():
                self._pages.choose(display_name)
        self._render_page(reload)

    def _render_page(self, reload: bool = False) -> None:
        name = self._shown
        page = self.experiment.pages.get(name)
        self._header.object = self._header_html(name, page)
        self._render_notes(name, page)
        self._render_navigation()

        url = report_url(self.session.prefix, self.experiment.name, name) if name else ""
        self._link.object = (str(NEW_TAB_LINK(url=url, text="open in new tab ↗"))
                             if page is not None else "")
        if page is None and self._deleted:
            return  # keep showing what was loaded; the note says it is gone
        if page is None or page.empty:
            src = ""  # nothing to load; for an empty page the note says all the frame would
        elif reload:
            src = f"{url}?v={page.mtime}"  # a new URL, so the browser loads the page again
        else:
            src = url
        if src != self._frame_src:
            self._frame_src = src
            self._frame.object = report_iframe_html(src, f"Summary page {name}") if src else ""

    def _header_html(self, name: str, page: SummaryPage | None) -> str:
        if not name:
            return str(_HEADER(name=name, choose=CHOOSE_TEXT))
        tab, _, rest = name.partition("/")
        facts = []
        if page is not None:
            facts.append(size_text(page.size, exact=False))
            facts.append("written " + time.strftime("%Y-%m-%d %H:%M", time.localtime(page.mtime)))
        tasks = sorted({str(cell[0]) for cell in self.experiment.page_refs.get(name, [])})
        if tasks:
            facts.append("by " + ", ".join(tasks))
        return str(_HEADER(name=name, tab=tab, nesting=NESTING,
                           rest=NESTING.join(rest.split("/")) if rest else "",
                           facts=" · ".join(facts)))

    def _render_notes(self, name: str, page: SummaryPage | None) -> None:
        notes = []
        if name and page is None:
            notes.append(DELETED_TEXT if self._deleted else MISSING_TEXT)
        if page is not None and page.empty:
            notes.append(EMPTY_TEXT)
        if page is not None and not self.experiment.page_refs.get(name):
            notes.append(ORPHAN_TEXT)
        self._notice.object = str(_NOTES(notes=notes))
        self._notice.visible = bool(notes)

    def _render_navigation(self) -> None:
        index, name = self._index, self._shown
        for button, step in ((self._prev, -1), (self._next, +1)):
            target = index.neighbour(name, step) if name else None
            text = "Previous run" if step < 0 else "Next run"
            if target is not None:
                text += f" ({index.kind_of[target][1]})"
            button.label = f"◀ {text}" if step < 0 else f"{text} ▶"
            button.disabled = target is None
        has_run = index.kind_of.get(name) is not None
        self._follow.disabled = not has_run
        if not has_run and self._follow.value:
            with self._programmatic():
                self._follow.value = False

    # -- navigation ------------------------------------------------------------------

    def step(self, step: int) -> None:
        """Open the same kind of page ``step`` runs away (missing runs skipped), if any."""
        target = self._index.neighbour(self._shown, step) if self._shown else None
        if target is None:
            return
        if self._follow.value and target != self._index.latest_of_kind(target):
            self._follow.value = False
        self.session.page = target

    def _key_pressed(self, event: Any) -> None:
        step = event.data.get("step") if isinstance(event.data, dict) else None
        if step in (-1, 1):
            self.step(step)

    def _follow_latest(self) -> None:
        if self._syncing or not self._follow.value or not self._shown:
            return
        latest = self._index.latest_of_kind(self._shown)
        if latest is not None and latest != self._shown:
            self.session.page = latest

    # -- live --------------------------------------------------------------------------

    def apply_change(self, change: ExperimentChange) -> None:
        """Show new and removed pages in place, keeping the selection and the filter text."""
        if not (change.pages or change.removed_pages or change.rows or change.reset):
            return
        touched = {page.tab for page in change.pages} | {tab_of(n) for n in change.removed_pages}
        if touched or change.reset:
            self._refresh_tabs()
        if self._tab in touched or change.rows or change.reset:
            self._refresh_pages()
        if not self._shown and not self.session.page:  # the first pages: open the newest
            self._show(self.newest_page())
        name = self._shown
        if name in change.removed_pages:
            self._deleted = True
        rewritten = any(page.display_name == name for page in change.pages)
        if rewritten:
            self._deleted = False
        self._render_page(reload=rewritten)
        self._follow_latest()

    def __panel__(self) -> pn.viewable.Viewable:
        sidebar = pn.Column(self._tab_filter, self._named, self._runs, self._page_filter,
                            self._pages, self._keys, width=300, sizing_mode="stretch_height",
                            scroll=True)
        toolbar = pn.Row(self._prev, self._next, self._follow, self._follow_label, self._link,
                         sizing_mode="stretch_width")
        main = pn.Column(self._header, toolbar, self._notice, self._frame,
                         sizing_mode="stretch_both")
        return pn.Row(sidebar, main, sizing_mode="stretch_both")


_CSS = """
.lb-title { font-size: 1.25em; font-weight: 600; overflow-wrap: anywhere; }
.lb-tab { opacity: .7; font-weight: 500; }
.lb-muted { opacity: .7; font-weight: 400; }
.lb-facts { opacity: .75; font-size: 0.9em; margin-top: 2px; }
.lb-note { background: #fff4d6; border-left: 4px solid #b07d00; color: #3d2c00;
           padding: 6px 10px; margin: 4px 0; border-radius: 3px; }
"""

_FRAME_CSS = """
:host { display: flex; }
:host > div, .bk-clearfix { width: 100%; height: 100%; }
iframe { display: block; min-height: 400px; background: white; }
"""
