"""Summary pages in the browser: the newest run's page at once, and the run sheet (every
page of one run, lazily loaded, stepping runs keeps the scroll)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import ACTIVE_TAB, FRAME, open_dashboard, query
from tests.support.experiments import CXI, copy_of

pytestmark = pytest.mark.timeout(180)

EXTRA = 10  # pages added to runs 17 and 18: more than a screen holds
SHEET_FRAMES = ".sheet-page iframe"
#: How far the page and the sheet's own column are scrolled (shadow roots searched).
SCROLL_JS = """() => {
  const find = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.classList.contains('run-sheet')) return el;
      const inner = el.shadowRoot && find(el.shadowRoot);
      if (inner) return inner;
    }
    return null;
  };
  const column = find(document);
  return {page: window.scrollY, sheet: column ? column.scrollTop : -1};
}"""


@pytest.fixture
def cxi(tmp_path: Path) -> Path:
    """The crystallography example with EXTRA more pages for runs 17 and 18."""
    folder = copy_of(tmp_path, CXI) / CXI
    for run in (17, 18):
        for number in range(EXTRA):
            page = folder / "stats" / "summary" / f"r{run}" / f"extra{number:02d}"
            page.mkdir(parents=True)
            (page / "report.html").write_text(
                f"<!DOCTYPE html><html><body><h1>run {run} extra {number}</h1></body></html>")
    return folder


def test_opening_summary_pages_shows_the_newest_runs_page_at_once(
        page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&view=summary")
        expect(page.locator(FRAME)).to_have_attribute(
            "src", re.compile(rf"/reports/{CXI}/r18/[^/]+/report\.html$"))
        assert "page" not in query(page)  # shown, not chosen: the link stays as it was


def test_a_run_sheet_shows_every_page_of_its_run_and_loads_them_as_they_are_scrolled_to(
        page: Page, serve: Callable, cxi: Path):
    requested: set[str] = set()
    page.on("request", lambda r: requested.add(r.url) if "/reports/" in r.url else None)
    with serve(cxi) as url:
        page.set_viewport_size({"width": 1400, "height": 900})
        open_dashboard(page, f"{url}/?exp={CXI}&run=18&view=sheet")
        expect(page.locator(ACTIVE_TAB)).to_have_text("Summary pages")
        frames = page.locator(SHEET_FRAMES)
        on_disk = [p for p in (cxi / "stats" / "summary").rglob("report.html")
                   if p.parts[-3] == "r18"]
        expect(frames).to_have_count(len(on_disk))
        expect(page.get_by_text(f"Run 18 · {len(on_disk)} summary pages")).to_be_visible()
        expect(page.frame_locator(SHEET_FRAMES).first.locator("body")).to_be_visible()
        first_screen = len(requested)
        assert 0 < first_screen < len(on_disk), "every frame loaded before it was on screen"
        last_extra = f"iframe[title='Summary page r18/extra{EXTRA - 1:02d}']"
        page.locator(last_extra).scroll_into_view_if_needed()
        expect(page.frame_locator(last_extra).locator("h1")).to_have_text(
            f"run 18 extra {EXTRA - 1}")
        assert len(requested) > first_screen


def test_stepping_runs_in_the_sheet_keeps_the_scroll_and_back_returns(
        page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        page.set_viewport_size({"width": 1400, "height": 900})
        open_dashboard(page, f"{url}/?exp={CXI}&run=18&view=sheet")
        frames = page.locator(SHEET_FRAMES)
        frames.nth(5).scroll_into_view_if_needed()
        expect(page.frame_locator(SHEET_FRAMES).nth(5).locator("h1")).to_be_visible()
        before = page.evaluate(SCROLL_JS)
        place = page.locator("iframe[title='Summary page r18/extra04']").bounding_box()
        assert before["page"] + before["sheet"] > 0
        page.get_by_role("button", name=re.compile("Previous run")).click()
        expect(page.get_by_text(re.compile(r"Run 17 · \d+ summary pages"))).to_be_visible()
        assert query(page)["run"] == "17"
        expect(frames.nth(5)).to_have_attribute("src", re.compile("/r17/"))
        assert page.evaluate(SCROLL_JS) == before
        # Run 17 has no CCstar page: its slot stays (empty), so extra04 is where it was.
        expect(page.get_by_text("No …/CCstar page for run 17.")).to_be_attached()
        assert page.locator("iframe[title='Summary page r17/extra04']").bounding_box() == place
        page.go_back()
        expect(page.get_by_text(re.compile(r"Run 18 · \d+ summary pages"))).to_be_visible()


def test_from_the_sheet_back_to_one_page_opens_the_same_kind_of_page_of_that_run(
        page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&page=r18/powders")
        page.get_by_role("button", name="Run sheet").click()
        expect(page.get_by_text(re.compile(r"Run 18 · \d+ summary pages"))).to_be_visible()
        assert query(page)["view"] == "sheet" and query(page)["run"] == "18"
        page.get_by_role("button", name=re.compile("Previous run")).click()
        expect(page.get_by_text(re.compile(r"Run 17 · \d+ summary pages"))).to_be_visible()
        page.get_by_role("button", name="One page").click()
        # The sheet's frames run their reports' scripts in this page's process: give the
        # switch time on a loaded machine.
        expect(page).to_have_url(re.compile(r"page=r17%2Fpowders$"), timeout=30_000)
        expect(page.locator(SHEET_FRAMES)).to_have_count(0, timeout=30_000)
        expect(page.locator(FRAME)).to_have_attribute(
            "src", re.compile(rf"/reports/{CXI}/r17/powders/report\.html$"), timeout=30_000)
        assert query(page) == {"exp": CXI, "page": "r17/powders"}
