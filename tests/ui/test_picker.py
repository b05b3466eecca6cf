"""The experiment picker of a hutch's folder: recent first, a search box, compact at 300.

The real ``lute-dashboard serve`` over a folder of 300 experiments (copies of
one small experiment, each with its own last-write time) and Debian's chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dashboard.registry import ACTIVITY_EVERY
from dashboard.views.experiment_picker import SHOWN
from lute_writers.journal import JOURNAL_NAME, append_event
from tests.support.browser import open_dashboard
from tests.support.experiments import write_hutch
from tests.support.servers import dashboard_server

pytestmark = pytest.mark.timeout(240)

EXPERIMENTS = 300
ROWS = "tr.lute-experiment"
SEARCH = "input[type=search]"
#: A folder name is the experiment's name: this one must show as text, never as markup.
HOSTILE = "mfx<b>bold<b>&amp;"
#: The one whose results were written last.
NEWEST = "mfxl1000137"
HOUR = 3600.0


def name_of(index: int) -> str:
    return HOSTILE if index == 7 else f"mfxl10{index:05d}"


def age_of(index: int) -> float:
    """Seconds since experiment ``index`` last wrote: not in name order, NEWEST the youngest."""
    return 60.0 if name_of(index) == NEWEST else HOUR * (1 + (index * 7919) % EXPERIMENTS)


def write_experiments(root: Path, count: int = EXPERIMENTS) -> list[str]:
    """``count`` experiments of 3 runs × 3 Tasks; their names, most recently written first."""
    write_hutch(root, {name_of(index): age_of(index) for index in range(count)})
    return [name_of(i) for i in sorted(range(count), key=age_of)]


@pytest.fixture(scope="module")
def hutch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """One server of the 300 experiments for the tests that only look: (url, names by age)."""
    root = tmp_path_factory.mktemp("hutch") / "mfx"
    names = write_experiments(root)
    with dashboard_server(root) as url:
        yield url, names


def shown_names(page: Page) -> list[str]:
    return page.locator(f"{ROWS} td.name").all_inner_texts()


def test_the_most_recently_active_experiments_come_first(page: Page, hutch) -> None:
    url, by_age = hutch
    open_dashboard(page, f"{url}/")
    expect(page.locator(ROWS).first).to_contain_text(NEWEST)
    assert shown_names(page) == by_age[:SHOWN]
    expect(page.locator(f"{ROWS} td.when").first).to_have_text(re.compile(r"^\d+ min ago$"))


def test_the_search_box_narrows_the_list_as_one_types_and_clearing_brings_all_back(
        page: Page, hutch) -> None:
    url, by_age = hutch
    open_dashboard(page, f"{url}/")
    search = page.locator(SEARCH)
    search.fill("l100004")  # mfxl1000040 … mfxl1000049
    expect(page.locator(ROWS)).to_have_count(10)
    assert shown_names(page) == [n for n in by_age if "l100004" in n]
    expect(page.get_by_text(f"10 of {EXPERIMENTS} experiments match")).to_be_visible()
    search.fill("MFXL 0049")  # words in any case, each anywhere in the name
    assert shown_names(page) == ["mfxl1000049"]
    search.fill("no such experiment")
    expect(page.locator(ROWS)).to_have_count(0)
    search.fill("")
    expect(page.locator(ROWS)).to_have_count(SHOWN)


def test_300_experiments_are_one_component_and_one_short_line_each(page: Page, hutch) -> None:
    url, _ = hutch
    open_dashboard(page, f"{url}/")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(SHOWN)  # the first SHOWN, the search reaches the rest
    expect(page.get_by_text(f"{EXPERIMENTS} experiments · the first {SHOWN} shown")).to_be_visible()
    heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(heights) <= 32, heights[:5]
    # The page's models do not grow with the folder: 300 cards were 900 Panel models.
    models = page.evaluate("() => Bokeh.documents[0].all_models.size")
    assert models < 40, models


def test_a_name_is_shown_as_text_and_is_a_link_that_opens_the_experiment(
        page: Page, hutch) -> None:
    url, _ = hutch
    open_dashboard(page, f"{url}/")
    page.locator(SEARCH).fill("bold")
    link = page.get_by_role("link", name=HOSTILE, exact=True)
    expect(link).to_have_attribute("href", "?exp=mfx%3Cb%3Ebold%3Cb%3E%26amp%3B")
    assert page.locator(f"{ROWS} b").count() == 0  # the folder name's tags stayed text
    link.click()
    expect(page.locator(".bk-tab.bk-active")).to_have_text("Overview")
    assert "exp=mfx%3Cb%3E" in page.url


def test_an_experiment_with_new_results_moves_to_the_top(page: Page, tmp_path: Path) -> None:
    root = tmp_path / "mfx"
    names = write_experiments(root, count=12)
    with dashboard_server(root) as url:
        open_dashboard(page, f"{url}/")
        expect(page.locator(ROWS).first).to_contain_text(names[0])
        quiet = names[-1]
        append_event(root / quiet / "work_dir" / JOURNAL_NAME, task="Task00", run="3",
                     status="RUNNING")
        expect(page.locator(ROWS).first).to_contain_text(
            quiet, timeout=int((ACTIVITY_EVERY + 25) * 1000))  # slack for a loaded CI
        expect(page.locator(f"{ROWS} td.when").first).to_have_text("just now")
