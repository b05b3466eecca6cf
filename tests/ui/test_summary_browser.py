"""The summary browser in a real server and Debian's chromium, on copies of LUTE's examples."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import panel as pn
import pytest
from playwright.sync_api import Page, expect

from dashboard.server import report_patterns
from dashboard.session import SessionState
from dashboard.views.summary_browser import EMPTY_TEXT, ORPHAN_TEXT, SummaryBrowser
from lute_model.discovery import ExperimentSource, discover
from lute_model.experiment import Experiment
from lute_writers.summary_plots import ElogSummaryPlots
from tests.support.browser import READY
from tests.support.servers import panel_server

FRAME = "iframe[title^='Summary page']"
NAMED, RUNS, PAGES = ".lb-named select", ".lb-runs select", ".lb-pages select"
CHOICES = "option:not([value=''])"  # a listbox's visible options


def writable(root: Path) -> Path:
    """The examples are read-only on disk, and so are their copies: let the test write."""
    for folder, _dirs, _files in os.walk(root):
        os.chmod(folder, 0o755)
    return root


@dataclass
class Served:
    """One experiment served with the browser alone; its sessions, to act on from outside."""

    experiment: Experiment
    url: str
    sessions: list[tuple[object, SessionState]] = field(default_factory=list)

    def set_page(self, display_name: str) -> None:
        """Set ``session.page`` as a deep link or the Task detail would: on the session's thread."""
        for doc, state in self.sessions:
            doc.add_next_tick_callback(lambda state=state: state.param.update(page=display_name))


@pytest.fixture
def serve() -> Iterator[Callable[[ExperimentSource], Served]]:
    with ExitStack() as servers:

        def start(source: ExperimentSource) -> Served:
            experiment = Experiment(source)
            experiment.refresh()
            served = Served(experiment, "")

            def app() -> pn.viewable.Viewable:
                state = SessionState(experiment=experiment.name, view="summary")
                browser = SummaryBrowser(experiment=experiment, session=state)
                served.sessions.append((pn.state.curdoc, state))
                return pn.Column(browser, height=800, sizing_mode="stretch_width")

            roots = {experiment.name: source.summary_dir}
            port = servers.enter_context(panel_server(
                {"/": app}, extra_patterns=report_patterns(lambda: roots)))
            served.url = f"http://127.0.0.1:{port}/"
            return served

        yield start
    pn.state.reset()  # forgets the sessions of the servers stopped above


def example(example_copy, name: str) -> ExperimentSource:
    sources, problems = discover([writable(example_copy(name))])
    assert not problems and len(sources) == 1
    return sources[0]


def open_browser(page: Page, served: Served, display_name: str = "") -> None:
    page.goto(served.url)
    page.wait_for_function(READY)
    if display_name:
        served.set_page(display_name)
        page_part = display_name.partition("/")[2].split("/")[-1]
        expect(page.locator(".lb-title")).to_contain_text(page_part)
        page.wait_for_function(READY)


def _url_end(experiment: str, display_name: str) -> str:
    from dashboard.views.report_frame import report_url

    return report_url("", experiment, display_name)


def options(page: Page, selector: str) -> list[str]:
    return page.locator(f"{selector} {CHOICES}").evaluate_all("els => els.map(e => e.value)")


def test_tabs_offered_are_the_first_parts_of_the_display_names(page: Page, serve,
                                                               example_copy) -> None:
    for name in ("cxil1005322", "mfxp1001123"):
        served = serve(example(example_copy, name))
        open_browser(page, served)
        expected = {display_name.split("/")[0] for display_name in served.experiment.pages}
        assert set(options(page, NAMED)) | set(options(page, RUNS)) == expected


def test_run_tabs_are_listed_newest_first_under_runs(page: Page, serve, example_copy) -> None:
    served = serve(example(example_copy, "cxil1005322"))
    open_browser(page, served)
    assert options(page, NAMED) == ["Geometry_Fit"]
    assert options(page, RUNS) == [f"r{run}" for run in (18, 17, 16, 15, 14, 13, 12, 11, 9, 8, 7)]


def test_deep_link_opens_the_page_in_the_sandboxed_frame(page: Page, serve, example_copy) -> None:
    served = serve(example(example_copy, "cxil1005322"))
    open_browser(page, served, "r7/powders")
    frame = page.locator(FRAME)
    expect(frame).to_have_attribute("src", _url_end("cxil1005322", "r7/powders"))
    assert frame.get_attribute("src").endswith("/reports/cxil1005322/r7/powders/report.html")
    assert frame.get_attribute("sandbox") == "allow-scripts"
    expect(page.locator(f"{RUNS}")).to_have_value("r7")
    expect(page.locator(f"{PAGES}")).to_have_value("powders")


def test_next_and_previous_run_skip_missing_runs(page: Page, serve, example_copy) -> None:
    served = serve(example(example_copy, "cxil1005322"))
    open_browser(page, served, "r7/powders")
    page.get_by_role("button", name="Next run").click()
    expect(page.locator(FRAME)).to_have_attribute("src", _url_end("cxil1005322", "r8/powders"))
    served.set_page("r11/powders")
    expect(page.locator(FRAME)).to_have_attribute("src", _url_end("cxil1005322", "r11/powders"))
    page.get_by_role("button", name="Previous run").click()
    expect(page.locator(FRAME)).to_have_attribute("src", _url_end("cxil1005322", "r9/powders"))


def test_keys_step_through_runs_but_not_while_typing(page: Page, serve, example_copy) -> None:
    served = serve(example(example_copy, "cxil1005322"))
    open_browser(page, served, "r8/powders")
    page.keyboard.press("]")
    expect(page.locator(FRAME)).to_have_attribute("src", _url_end("cxil1005322", "r9/powders"))
    page.keyboard.press("Alt+ArrowLeft")
    expect(page.locator(FRAME)).to_have_attribute("src", _url_end("cxil1005322", "r8/powders"))
    page.get_by_placeholder("Filter pages…").press("[")
    expect(page.get_by_placeholder("Filter pages…")).to_have_value("[")
    page.wait_for_function(READY)
    expect(page.locator(FRAME)).to_have_attribute("src", _url_end("cxil1005322", "r8/powders"))
    assert page.url == served.url  # Alt+Left did not go Back


def test_last_run_has_no_next_run(page: Page, serve, example_copy) -> None:
    served = serve(example(example_copy, "cxil1005322"))
    open_browser(page, served, "r18/powders")
    expect(page.get_by_role("button", name="Next run")).to_be_disabled()
    expect(page.get_by_role("button", name="Previous run (17)")).to_be_enabled()


def test_empty_page_is_explained(page: Page, serve, example_copy) -> None:
    served = serve(example(example_copy, "mfxp1001123"))
    open_browser(page, served, "quicklook/r0034")
    expect(page.get_by_text(EMPTY_TEXT)).to_be_visible()
    expect(page.get_by_text(ORPHAN_TEXT)).to_have_count(0)
    expect(page.locator(f"{PAGES} {CHOICES}")).to_have_text(["r0034   ∅ empty"])
    expect(page.locator(FRAME)).to_have_count(0)  # nothing to load: the note says it all


def test_orphan_page_is_explained(page: Page, serve, example_copy) -> None:
    served = serve(example(example_copy, "mfxp1001123"))
    open_browser(page, served, "detector images/r0033")
    expect(page.get_by_text(ORPHAN_TEXT)).to_be_visible()
    expect(page.get_by_text(EMPTY_TEXT)).to_be_visible()  # LUTE failed to save, then to store
    expect(page.locator(f"{PAGES} {CHOICES}")).to_have_text(["r0033   ∅ empty   · no DB row"])


def test_deeper_pages_are_shown_nested(page: Page, serve, example_copy) -> None:
    served = serve(example(example_copy, "mfxp1001123"))
    open_browser(page, served, "calib/jungfrau1M/gain modes/r0030")
    expect(page.locator(f"{PAGES} {CHOICES}").first).to_contain_text(
        "jungfrau1M › gain modes › r0030")


def test_new_page_appears_without_reload_keeping_selection_and_filter(page: Page, serve,
                                                                      example_copy) -> None:
    source = example(example_copy, "cxil1005322")
    served = serve(source)
    open_browser(page, served, "r18/powders")
    page.get_by_placeholder("Filter tabs and runs…").fill("r1")
    expect(page.locator(f"{RUNS} {CHOICES}")).to_have_count(8)  # r11 ... r18
    ElogSummaryPlots(display_name="r19/powders",
                     figures=pn.pane.Markdown("x")).save(source.summary_dir)
    served.experiment.refresh()
    expect(page.locator(f"{RUNS} {CHOICES}").first).to_have_text("r19")
    expect(page.locator(RUNS)).to_have_value("r18")
    expect(page.get_by_placeholder("Filter tabs and runs…")).to_have_value("r1")
    expect(page.get_by_role("button", name="Next run (19)")).to_be_enabled()
    expect(page.locator(FRAME)).to_have_attribute("src", _url_end("cxil1005322", "r18/powders"))


def test_follow_latest_jumps_to_the_new_run(page: Page, serve, example_copy) -> None:
    source = example(example_copy, "cxil1005322")
    served = serve(source)
    open_browser(page, served, "r17/powders")
    page.locator(".bk-panel-models-widgets-Switch, .bk-Switch").first.click()
    expect(page.locator(FRAME)).to_have_attribute("src", _url_end("cxil1005322", "r18/powders"))
    ElogSummaryPlots(display_name="r19/powders",
                     figures=pn.pane.Markdown("x")).save(source.summary_dir)
    served.experiment.refresh()
    expect(page.locator(FRAME)).to_have_attribute("src", _url_end("cxil1005322", "r19/powders"))


def test_deleted_open_page_says_so(page: Page, serve, example_copy) -> None:
    source = example(example_copy, "cxil1005322")
    served = serve(source)
    open_browser(page, served, "r9/powders")
    (source.summary_dir / "r9" / "powders" / "report.html").unlink()
    # An old run's folder is looked at by the slow sweep, within a few polls (issue 10).
    for _poll in range(200):
        served.experiment.refresh()
        if "r9/powders" not in served.experiment.pages:
            break
    expect(page.get_by_text("This page was deleted from disk")).to_be_visible()
    expect(page.locator(f"{RUNS} {CHOICES}", has_text="r9")).to_have_count(0)


def test_tab_of_5000_pages_lists_them_all_and_opens_the_first(page: Page, serve,
                                                              tmp_path: Path) -> None:
    """How fast is measured by ``bench/load.py``; here, that switching tabs works at 5,000."""
    summary = tmp_path / "bigexp" / "stats" / "summary"
    for tab, count in (("big", 5000), ("small", 5), ("start", 1)):
        for number in range(1, count + 1):
            folder = summary / tab / f"p{number:04d}"
            folder.mkdir(parents=True)
            (folder / "report.html").write_text(f"<p>{tab} {number}</p>")
    served = serve(ExperimentSource("bigexp", tmp_path / "bigexp", [], summary))
    open_browser(page, served, "start/p0001")
    for tab, count in (("small", 5), ("big", 5000), ("small", 5)):
        page.locator(NAMED).select_option(tab)
        expect(page.locator(FRAME)).to_have_attribute("src", _url_end("bigexp", f"{tab}/p0001"))
        # <select>.length counts its options: one query, however many there are.
        expect(page.locator(PAGES)).to_have_js_property("length", count + 1)
