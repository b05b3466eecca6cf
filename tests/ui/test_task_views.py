"""The task table and the Task detail, served for real and driven in Debian's chromium."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import panel as pn
import pytest
from playwright.sync_api import Page, expect

from dashboard.session import SessionState
from dashboard.views.task_detail import TaskDetail
from dashboard.views.task_table import TaskTable
from lute_model.experiment import Experiment
from lute_model.status import PALETTE, TaskStatus
from lute_writers.lute_schema import record_task
from tests.support.browser import open_dashboard, rgb
from tests.support.experiments import read_experiment
from tests.support.servers import panel_server
from tests.support.waits import wait_until

XSS = "<img src=x onerror=window.__xss=1> and <script>window.__xss=2</script>"


class Served:
    """One experiment served with the two views; each session's state is kept for asserts."""

    def __init__(self, experiment: Experiment, task: str = "", run: str = "") -> None:
        self.experiment = experiment
        self.sessions: list[SessionState] = []
        self.url = ""
        self._initial = {"task": task, "run": run}

    def app(self) -> pn.viewable.Viewable:
        session = SessionState(experiment=self.experiment.name, view="tasks", **self._initial)
        self.sessions.append(session)
        return pn.Column(TaskTable(experiment=self.experiment, session=session),
                         TaskDetail(experiment=self.experiment, session=session),
                         sizing_mode="stretch_width")

    def open(self, page: Page) -> None:
        page.set_viewport_size({"width": 1400, "height": 1000})
        open_dashboard(page, self.url)


@pytest.fixture
def serve(example_copy: Callable[[str], Path]) -> Iterator[Callable[..., Served]]:
    with ExitStack() as servers:

        def start(name: str, prepare: Callable[[Path], None] | None = None,
                  **initial: str) -> Served:
            folder = example_copy(name)
            if prepare is not None:
                prepare(folder)
            served = Served(read_experiment(folder), **initial)
            port = servers.enter_context(panel_server({"/": served.app}))
            served.url = f"http://127.0.0.1:{port}/"
            return served

        yield start
    pn.state.reset()


def _cells(page: Page, field: str):
    return page.locator(f".tabulator-row .tabulator-cell[tabulator-field={field}]")


def _choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a MultiChoice by its label."""
    box = page.locator(".bk-input-group", has=page.locator("label", has_text=label))
    box.locator("input").first.click()
    page.locator(".choices__item--choice", has_text=option).first.click()
    page.keyboard.press("Escape")


def _count(page: Page):
    return page.locator("p", has_text="executions")


def test_table_lists_every_execution_including_retries(serve, page: Page) -> None:
    served = serve("cxil1005322")
    served.open(page)
    expect(_count(page)).to_have_text("31 of 31 executions")
    expect(_cells(page, "Task")).to_have_count(31)


def test_status_filter_shows_the_four_failed_tries(serve, page: Page) -> None:
    served = serve("cxil1005322")
    served.open(page)
    _choose(page, "status", "FAILED")
    expect(_count(page)).to_have_text("4 of 31 executions")
    expect(_cells(page, "status")).to_have_count(4)
    expect(_cells(page, "status").first).to_contain_text("FAILED")


def test_search_finds_hit_rate_in_findpeaks_summaries(serve, page: Page) -> None:
    served = serve("cxil1005322")
    served.open(page)
    page.get_by_placeholder("e.g. hit rate").fill("HIT RATE")
    expect(_count(page)).to_have_text("11 of 31 executions")
    tasks = _cells(page, "Task").all_inner_texts()
    assert set(tasks) == {"FindPeaksPyAlgos"}


def test_csv_download_holds_the_filtered_rows(serve, page: Page, tmp_path: Path) -> None:
    served = serve("cxil1005322")
    served.open(page)
    _choose(page, "status", "FAILED")
    expect(_count(page)).to_have_text("4 of 31 executions")
    with page.expect_download() as download:
        page.get_by_text("Download CSV").click()
    target = tmp_path / "rows.csv"
    download.value.save_as(target)
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 and {row["status"] for row in rows} == {"FAILED"}
    assert {row["Task"] for row in rows} == {"OptimizeAgBhGeometryExhaustive", "FindPeaksPyAlgos",
                                             "IndexCrystFEL", "DimpleSolve"}


def test_status_cells_have_the_palette_color(serve, page: Page) -> None:
    served = serve("cxil1005322")
    served.open(page)
    failed = page.locator(".tabulator-cell[tabulator-field=status] .st-FAILED").first
    done = page.locator(".tabulator-cell[tabulator-field=status] .st-COMPLETED").first
    expect(failed).to_have_css("background-color", rgb(PALETTE[TaskStatus.FAILED]))
    expect(done).to_have_css("background-color", rgb(PALETTE[TaskStatus.COMPLETED]))



def _record_xss(folder: Path) -> None:
    record_task(str(folder / "work_dir" / "lute.db"), task="FindPeaksPyAlgos", run="99",
                status=TaskStatus.COMPLETED, summary=XSS, experiment="cxil1005322")


def test_html_in_a_summary_is_shown_as_text_in_table_and_detail(serve, page: Page) -> None:
    served = serve("cxil1005322", prepare=_record_xss)
    served.open(page)
    page.get_by_placeholder("e.g. hit rate").fill("onerror")
    cell = _cells(page, "summary")
    expect(cell).to_have_count(1)
    expect(cell).to_contain_text("<img src=x onerror=window.__xss=1>")
    cell.click()
    expect(page.locator("pre.summary")).to_contain_text("<script>window.__xss=2</script>")
    assert served.sessions[-1].task == "FindPeaksPyAlgos"
    assert page.evaluate("() => window.__xss") is None


def test_clicking_a_row_opens_its_detail_with_summary_table_and_report_link(
        serve, page: Page) -> None:
    served = serve("cxil1005322")
    served.open(page)
    expect(page.get_by_text("Click a cell in the grid or a row in the table")).to_be_visible()
    page.get_by_placeholder("e.g. hit rate").fill("hits found: 20782")
    expect(_cells(page, "Task")).to_have_count(1)
    _cells(page, "Task").click()
    expect(page.locator("h3.title")).to_have_text("FindPeaksPyAlgos · run 7")
    assert (served.sessions[-1].task, served.sessions[-1].run) == ("FindPeaksPyAlgos", "7")
    row = page.locator("table.kv tr", has_text="Number of hits found")
    expect(row.locator("td")).to_have_text("20782")
    link = page.locator("a", has_text="r7/powders").first
    report = "/reports/cxil1005322/r7/powders/report.html"
    expect(link).to_have_attribute("href", re.compile(re.escape(report) + "$"))
    page.get_by_role("button", name="open in summary browser").first.click()
    wait_until(lambda: served.sessions[-1].view == "summary", timeout=5, page=page)
    assert served.sessions[-1].page == "r7/powders"
    page.get_by_role("button", name="✕ Close").click()
    expect(page.get_by_text("Click a cell in the grid or a row in the table")).to_be_visible()



def test_payload_size_shows_before_loading_and_array_summary_after(serve, page: Page) -> None:
    served = serve("mfxp1001123", task="TestSocket", run="32")
    served.open(page)
    button = page.get_by_role("button", name="Load payload (320,000 bytes)")
    expect(button).to_be_visible()
    expect(page.get_by_text("312.5 kB (320,000 bytes)")).to_be_visible()
    button.click()
    summary = page.locator(".payload-array table.kv")
    expect(summary.locator("tr", has_text="values (float64)").locator("td")).to_have_text("40,000")
    expect(summary.locator("tr", has_text="mean")).to_be_visible()


def test_new_rows_are_appended_and_filters_stay(serve, page: Page) -> None:
    served = serve("cxil1005322")
    served.open(page)
    _choose(page, "status", "FAILED")
    expect(_count(page)).to_have_text("4 of 31 executions")
    record_task(str(served.experiment.source.databases[0]), task="IndexCrystFEL", run="19",
                status=TaskStatus.FAILED, summary="Indexing rate: 0.00",
                experiment="cxil1005322")
    served.experiment.refresh()
    expect(_count(page)).to_have_text("5 of 32 executions")
    expect(_cells(page, "run")).to_contain_text(["19"])
