"""The Runs view as people get it: ``lute-dashboard serve`` on copies of LUTE's examples.

cxil1005322 has what the beamline steers by (FindPeaksPyAlgos' hit rates,
IndexCrystFEL's indexing rates, one array: CompareHKL's CCstar); mfxp1001123
has every status.  Expected values are written out from the examples'
summaries, not computed with the code under test.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from dashboard.views.runs_columns import ROW_HEIGHT
from lute_model.status import PALETTE, TaskStatus
from lute_writers.lute_schema import record_task
from tests.support.browser import detail_title, open_dashboard, query, rgb
from tests.support.experiments import copy_of, write_big_experiment

pytestmark = [pytest.mark.timeout(180), pytest.mark.usefixtures("no_traceback_shown")]

CXI, MFX = "cxil1005322", "mfxp1001123"
HIT_RATE = "FindPeaksPyAlgos · Fractional hit rate"
EVENTS = "FindPeaksPyAlgos · Number of events processed"
INDEXING = "IndexCrystFEL · Indexing rate"
CCSTAR = "CompareHKL · CCstar"
#: Runs of cxil1005322, newest first (the default order).
CXI_RUNS = ["18", "17", "16", "15", "14", "13", "12", "11", "10", "9", "8", "7", "5", "4"]

#: Header title -> field of every shown column: "run", or "Task · value" / "Task · status"
#: (a title shows the Task above the value).  Every header is rendered; cells only in view.
FIELDS_JS = """(table) => {
  const fields = {};
  for (const col of table.querySelectorAll('.tabulator-header .tabulator-col[tabulator-field]')) {
    if (col.offsetParent === null) continue;  // a hidden column
    const lines = col.querySelector('.tabulator-col-title').innerText.trim().split('\\n');
    fields[lines.join(' · ')] = col.getAttribute('tabulator-field');
  }
  return fields;
}"""
#: Scroll the table across until one column is in view (cells out of view are not rendered).
SHOW_COLUMN_JS = """(table, field) => {
  const col = table.querySelector(`.tabulator-header .tabulator-col[tabulator-field="${field}"]`);
  table.querySelector('.tabulator-tableholder').scrollLeft = Math.max(0, col.offsetLeft - 200);
}"""


def table(page: Page) -> Locator:
    return page.locator("div.tabulator").first


def fields(page: Page) -> dict[str, str]:
    """Shown columns, title -> field, in the order they are shown."""
    return table(page).evaluate(FIELDS_JS)


def column(page: Page, title: str, timeout_ms: int = 15_000) -> Locator:
    """The cells of one column, top to bottom, scrolled into view (waits for the column)."""
    waited = 0
    while title not in (shown := fields(page)) and waited < timeout_ms:
        page.wait_for_timeout(100)
        waited += 100
    field = shown[title]
    table(page).evaluate(SHOW_COLUMN_JS, field)
    return page.locator(f".tabulator-row .tabulator-cell[tabulator-field={field}]")


def header(page: Page, value: str) -> Locator:
    """The title of a value's column (clicking it sorts)."""
    return page.locator(".tabulator-col-title span").get_by_text(value, exact=True)


def runs(page: Page) -> Locator:
    return page.locator(".tabulator-row .tabulator-cell[tabulator-field=run]")


def open_runs(page: Page, url: str, name: str = CXI, extra: str = "") -> None:
    page.set_viewport_size({"width": 1500, "height": 950})
    open_dashboard(page, f"{url}/?exp={name}&view=runs{extra}")
    expect(runs(page).first).to_be_visible(timeout=30_000)


def count(page: Page, shown: int, total: int, timeout: float = 5_000) -> None:
    expect(page.get_by_text(f"{shown:,} of {total:,} runs", exact=True)).to_be_visible(
        timeout=timeout)


def set_filter(page: Page, title: str, low: str = "", high: str = "") -> None:
    """Bounds of one column's range; a column chosen anew has none yet."""
    choice = page.get_by_label("filter on")
    if choice.locator("option:checked").inner_text() != title:
        choice.select_option(label=title)
        # The bounds show the new column's range: type once they do, as a person would.
        for label in ("at least", "at most"):
            expect(page.get_by_label(label)).to_have_value("")
    for label, value in (("at least", low), ("at most", high)):
        if value:
            page.get_by_label(label).fill(value)
            page.get_by_label(label).press("Enter")


@pytest.fixture
def cxi(tmp_path: Path) -> Path:
    return copy_of(tmp_path, CXI) / CXI


def test_a_row_per_run_with_each_tasks_status_and_the_numbers_its_summaries_report(
        page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        open_runs(page, url)
        expect(runs(page)).to_have_text(CXI_RUNS)
        shown = list(fields(page))
        assert shown[:9] == [
            "run", "OptimizeAgBhGeometryExhaustive · status",
            "OptimizeAgBhGeometryExhaustive · Detector distance (mm)",
            "OptimizeAgBhGeometryExhaustive · Detector edge resolution (A)",
            "FindPeaksPyAlgos · status", EVENTS, "FindPeaksPyAlgos · Number of hits found",
            HIT_RATE, "IndexCrystFEL · status"]
        assert INDEXING in shown and "DimpleSolve · status" in shown
        # Arrays are not numbers: hidden until chosen.
        assert CCSTAR not in shown
        assert "OptimizeAgBhGeometryExhaustive · Detector center (pixels)" not in shown
        expect(column(page, HIT_RATE)).to_have_text(
            ["0.1", "0.31", "0.24", "0.29", "0.21", "0.24", "0.19", "0.14", "", "0.27", "0.23",
             "0.3", "", ""])
        expect(column(page, EVENTS).nth(CXI_RUNS.index("7"))).to_have_text("69,689")
        expect(column(page, INDEXING).nth(CXI_RUNS.index("15"))).to_have_text("0")
        expect(column(page, "IndexCrystFEL · status").nth(CXI_RUNS.index("15"))).to_have_text(
            "✘ FAILED")
        count(page, 14, 14)


def test_a_page_opened_while_the_server_still_builds_the_table_gets_it_whole(
        page: Page, serve: Callable, tmp_path: Path):
    """The first visitor after a start: the table comes once it is built, with its own
    columns only (the run's label column stays hidden) and every run counted.  Of the
    page's 50 runs, only a screenful is rendered (each redraw lays out every rendered
    row; rows measured a pixel short of their height once made it two screenfuls)."""
    write_big_experiment(tmp_path / "big", runs=3000, tasks=10)
    with serve(tmp_path / "big") as url:
        open_runs(page, url, name="big")
        count(page, 3000, 3000, timeout=30_000)
        assert list(fields(page))[:3] == ["run", "Task00 · status", "Task01 · status"]
        expect(runs(page).first).to_have_text("2999")
        page.wait_for_function("Bokeh.documents[0].is_idle")
        rendered = runs(page).count()
        holder = table(page).locator(".tabulator-tableholder").evaluate("el => el.clientHeight")
        assert holder // ROW_HEIGHT <= rendered <= holder // ROW_HEIGHT + 6, (rendered, holder)


def test_the_column_choice_goes_into_the_link_and_a_reloaded_link_keeps_it(
        page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        open_runs(page, url)
        page.get_by_text("Columns (", exact=False).click()
        page.get_by_label(EVENTS, exact=True).uncheck()
        expect(page).to_have_url(re.compile(r"[?&]cols="))  # taken: the chooser's title changed
        page.get_by_label(CCSTAR, exact=True).check()
        expect(page).to_have_url(re.compile(r"[?&]cols=.*CCstar"))
        chosen = query(page)["cols"]
        assert "CompareHKL:CCstar" in chosen and "Number of events processed" not in chosen
        expect(column(page, CCSTAR).first).to_have_text("[0.945 0.9412599 4916 10.58 0.745 1.145]")
        before = list(fields(page))

        open_dashboard(page, page.url)  # the link, opened again: a new session
        expect(runs(page).first).to_be_visible()
        expect(column(page, CCSTAR).first).to_have_text("[0.945 0.9412599 4916 10.58 0.745 1.145]")
        assert list(fields(page)) == before
        assert EVENTS not in before
        assert query(page)["view"] == "runs"

        page.get_by_text("Columns (", exact=False).click()
        page.get_by_role("button", name="Statuses and numbers").click()
        expect(page).not_to_have_url(re.compile(r"[?&]cols="))
        expect(column(page, EVENTS).first).to_have_text("40,554")


def test_range_filters_keep_the_runs_inside_every_range(page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        open_runs(page, url)
        set_filter(page, HIT_RATE, low="0.25")
        count(page, 4, 14)
        expect(runs(page)).to_have_text(["17", "15", "9", "7"])
        set_filter(page, HIT_RATE, high="0.3")
        expect(runs(page)).to_have_text(["15", "9", "7"])
        set_filter(page, INDEXING, low="0.44")
        expect(runs(page)).to_have_text(["7"])
        expect(page.get_by_text(f"0.25 ≤ {HIT_RATE} ≤ 0.3; {INDEXING} ≥ 0.44")).to_be_visible()
        page.get_by_role("button", name="Clear filters").click()
        count(page, 14, 14)


def test_sorting_by_a_value_orders_the_runs_and_puts_runs_without_it_last(
        page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        open_runs(page, url)
        title = header(page, "Indexing rate")
        title.click()
        rates = ["0", "0.41", "0.43", "0.45", "0.45", "0.52", "0.56", "0.71", "0.76", "0.77",
                 "0.78", "", "", ""]
        expect(column(page, INDEXING)).to_have_text(rates)
        title.click()
        expect(column(page, INDEXING)).to_have_text(
            [r for r in reversed(rates) if r] + ["", "", ""])
        expect(runs(page).first).to_have_text("17")


def test_csv_holds_the_filtered_runs_in_the_shown_order_with_the_chosen_columns(
        page: Page, serve: Callable, cxi: Path, tmp_path: Path):
    record_task(str(cxi / "work_dir" / "lute.db"), task="FindPeaksPyAlgos", run="19",
                status=TaskStatus.COMPLETED, experiment=CXI,
                summary="Fractional hit rate: 0.5;Operator note: =HYPERLINK(\"http://x\")")
    with serve(cxi) as url:
        open_runs(page, url, extra="&cols=FindPeaksPyAlgos,FindPeaksPyAlgos%3AFractional+hit"
                                   "+rate,FindPeaksPyAlgos%3AOperator+note,NotYet%3Aran")
        set_filter(page, HIT_RATE, low="0.29")
        assert query(page)["cols"].endswith(",NotYet:ran")  # a link keeps what is to come
        count(page, 4, 15)
        with page.expect_download() as download:
            page.get_by_role("button", name="Download CSV").click()
        target = tmp_path / "runs.csv"
        download.value.save_as(target)
        with target.open(newline="") as handle:
            rows = list(csv.reader(handle))
    assert rows[0] == ["run", "FindPeaksPyAlgos", HIT_RATE, "FindPeaksPyAlgos · Operator note"]
    assert rows[1:] == [["19", "COMPLETED", "0.5", "'=HYPERLINK(\"http://x\")"],
                        ["17", "COMPLETED", "0.31", ""], ["15", "COMPLETED", "0.29", ""],
                        ["7", "COMPLETED", "0.3", ""]]


def test_live_runs_append_and_change_in_place_keeping_sort_filter_and_scroll(
        page: Page, serve: Callable, cxi: Path):
    database = str(cxi / "work_dir" / "lute.db")
    with serve(cxi, extra=("--poll", "0.5")) as url:
        open_runs(page, url)
        page.set_viewport_size({"width": 1000, "height": 950})
        title = header(page, "Fractional hit rate")
        title.click()
        expect(column(page, HIT_RATE).nth(1)).to_have_text("0.14")  # ascending: the sort is in
        title.click()
        set_filter(page, HIT_RATE, low="0.2")
        rates = ["0.31", "0.3", "0.29", "0.27", "0.24", "0.24", "0.23", "0.21"]
        expect(column(page, HIT_RATE)).to_have_text(rates)
        holder = page.locator(".tabulator-tableholder").first
        holder.evaluate("(el) => { el.scrollLeft = 250 }")

        for run, rate in (("19", "0.35"), ("20", "0.05")):  # a new run in, one filtered out
            record_task(database, layout="v2", task="FindPeaksPyAlgos", run=run,
                        status=TaskStatus.COMPLETED, experiment=CXI,
                        summary=f"Number of hits found: 100;Fractional hit rate: {rate}")
        count(page, 9, 16, timeout=15_000)
        expect(runs(page).first).to_have_text("19")
        expect(holder).to_have_js_property("scrollLeft", 250)  # the scroll stayed
        expect(column(page, HIT_RATE)).to_have_text(["0.35", *rates])
        # A rerun changes its row in place; the order follows the new value.
        record_task(database, layout="v2", task="FindPeaksPyAlgos", run="12",
                    status=TaskStatus.COMPLETED, experiment=CXI,
                    summary="Fractional hit rate: 0.9")
        expect(runs(page).first).to_have_text("12", timeout=15_000)
        expect(column(page, HIT_RATE)).to_have_text(["0.9", "0.35", *rates])
        count(page, 10, 16)
        expect(page.locator(".tabulator-col[aria-sort=descending]")).to_contain_text(
            "Fractional hit rate")
        # Rows moved and came: a click still opens the run it shows.
        column(page, "FindPeaksPyAlgos · status").nth(1).click()
        expect(detail_title(page, "FindPeaksPyAlgos", "19")).to_be_visible()


def test_status_cells_have_the_palette_colors_and_open_the_tasks_detail(
        page: Page, serve: Callable, tmp_path: Path):
    root = copy_of(tmp_path, MFX) / MFX
    with serve(root) as url:
        open_runs(page, url, name=MFX)
        for status in TaskStatus:
            badge = page.locator(f".tabulator-cell .st-{status.name}").first
            expect(badge).to_have_css("background-color", rgb(PALETTE[status]))
        failed = page.locator(".tabulator-cell .st-FAILED")
        expect(failed).to_have_count(1)
        expect(failed).to_have_text("✘ FAILED")
        failed.click()
        expect(detail_title(page, "Test", "24")).to_be_visible()
        assert query(page) == {"exp": MFX, "view": "runs", "task": "Test", "run": "24"}


def test_html_in_value_names_and_text_values_is_shown_as_text(
        page: Page, serve: Callable, cxi: Path):
    name = "<img src=x onerror=window.__xss=1>"
    record_task(str(cxi / "work_dir" / "lute.db"), task="FindPeaksPyAlgos", run="19",
                status=TaskStatus.COMPLETED, experiment=CXI,
                summary=f"{name}: 7;Note: <script>window.__xss=2</script>")
    with serve(cxi) as url:
        open_runs(page, url)
        page.get_by_text("Columns (", exact=False).click()
        page.get_by_role("button", name="All columns").click()
        expect(column(page, f"FindPeaksPyAlgos · {name}").first).to_have_text("7")
        expect(column(page, "FindPeaksPyAlgos · Note").first).to_have_text(
            "<script>window.__xss=2</script>")
    assert page.evaluate("() => window.__xss") is None
