"""Timing in the browser: a run's Tasks with queued, started, ended and duration, live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lute_model.status import TaskStatus
from lute_writers.journal import JOURNAL_NAME, append_event
from lute_writers.lute_schema import record_task
from tests.support.browser import ACTIVE_TAB, open_dashboard, query
from tests.support.experiments import CXI, copy_of, read_experiment

pytestmark = pytest.mark.timeout(180)

#: The timeline's Tasks as the browser holds them, top to bottom.
TIMELINE_TASKS_JS = """() => {
  const fig = Bokeh.documents[0].get_model_by_name('timing-timeline');
  return fig ? Array.from(fig.renderers[0].data_source.data.task).reverse() : [];
}"""


def timing_row(page: Page, task: str):
    return page.locator("table.timing tr", has=page.locator("td", has_text=task)).first


@pytest.fixture
def cxi(tmp_path: Path) -> Path:
    """The example, with the journal events LUTE's hook writes for run 18's indexing."""
    folder = copy_of(tmp_path, CXI) / CXI
    journal = folder / "work_dir" / JOURNAL_NAME
    append_event(journal, task="IndexCrystFEL", run="18", status="PENDING",
                 time="2026-11-25T12:50:00.000Z")
    append_event(journal, task="IndexCrystFEL", run="18", status="RUNNING",
                 time="2026-11-25T12:50:30.000Z")
    return folder


def test_a_timing_link_shows_each_task_of_the_run_with_its_times(
        page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&view=timing&run=18")
        expect(page.locator(ACTIVE_TAB)).to_have_text("Timing")
        row = timing_row(page, "IndexCrystFEL")
        # queued, started (journal), ended (the database row), waited, duration
        expect(row.locator("td")).to_have_text(
            ["IndexCrystFEL", "✔ COMPLETED", "2026-11-25 12:50:00", "2026-11-25 12:50:30",
             "2026-11-25 12:51:47", "30.0 s", "1 min 17 s"])
        expect(timing_row(page, "DimpleSolve").locator("td").last).to_have_text("–")
        experiment = read_experiment(cxi)
        expected = [task for task in experiment.tasks if (task, 18) in experiment.latest]
        page.wait_for_function(f"() => ({TIMELINE_TASKS_JS})().length === {len(expected)}")
        assert page.evaluate(TIMELINE_TASKS_JS) == expected  # pipeline order, top down
        median = page.locator("table.timing").nth(1).locator("tr", has_text="IndexCrystFEL")
        expect(median.locator("td")).to_have_text(["IndexCrystFEL", "1 min 17 s", "1"])


def test_a_new_run_shows_up_queued_then_timed_as_it_runs(page: Page, serve: Callable,
                                                         cxi: Path):
    work = cxi / "work_dir"
    with serve(cxi, extra=("--poll", "0.5")) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&view=timing")  # the newest run: 18
        expect(page.get_by_role("heading", name="Run 18")).to_be_visible()
        append_event(work / JOURNAL_NAME, task="FindPeaksPyAlgos", run="19", status="PENDING")
        expect(page.get_by_role("heading", name="Run 19")).to_be_visible(timeout=20_000)
        expect(timing_row(page, "FindPeaksPyAlgos").locator("td").nth(1)).to_have_text(
            "… PENDING")
        append_event(work / JOURNAL_NAME, task="FindPeaksPyAlgos", run="19", status="RUNNING")
        expect(timing_row(page, "FindPeaksPyAlgos").locator("td").nth(1)).to_have_text(
            "▶ RUNNING", timeout=20_000)
        record_task(str(work / "lute.db"), task="FindPeaksPyAlgos", run="19", layout="v2",
                    status=TaskStatus.COMPLETED, summary="Fractional hit rate: 0.2")
        expect(timing_row(page, "FindPeaksPyAlgos").locator("td").nth(1)).to_have_text(
            "✔ COMPLETED", timeout=20_000)
        assert "run" not in query(page)  # following the newest run, not a chosen one
