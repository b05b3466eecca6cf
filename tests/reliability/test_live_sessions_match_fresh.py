"""An open session never loses runs: after live updates it shows what a fresh session shows.

A page is opened on the 16-run example, then the status journal and
``lute.db`` grow under it (each page scrolled back to its oldest run, which
makes a session hold every run): hundreds of new runs of an existing Task (more than
the 200 runs a page opens with), a new Task, a run that sorts below the
newest (one at a time), a burst of thousands of events in one write.  After each sequence the
open session's grid (every cell), legend, title, Task table count and Task
filter must equal those of a session opened afterwards, and both must equal
the experiment as the test reads it itself.  (The 100,000-event burst of the
issue takes minutes in a browser on a shared machine; 5,000 events in one
write take the same paths.)
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from lute_model.discovery import discover
from lute_model.experiment import Experiment
from lute_model.status import TaskStatus
from lute_writers.journal import JOURNAL_NAME, append_event, event_line
from lute_writers.lute_schema import record_task
from tests.support.browser import open_dashboard
from tests.support.experiments import build_experiment

EXPERIMENT = "mfxp1001123"

#: Every cell of the grid as "task|run|status", sorted: what a person could scroll through.
GRID_JS = """() => {
  const fig = Bokeh.documents[0].get_model_by_name('status-grid');
  if (!fig) return [];  // not there yet: the page opened while the server still read
  const data = fig.renderers[0].data_source.data;
  return Array.from(data.task, (task, i) => `${task}|${data.run[i]}|${data.status[i]}`).sort();
}"""


def expected_cells(folder: Path) -> list[str]:
    """The grid a fresh reader of the files would show, as GRID_JS lists it."""
    (source,), _ = discover([folder])
    experiment = Experiment(source)
    experiment.refresh()
    return sorted(f"{task}|{run}|{row.status.name if row else ''}"
                  for run in experiment.runs for task in experiment.tasks
                  for row in [experiment.latest.get((task, run))])


#: Scrolls the grid to the oldest run it holds, as a person reading back does: a
#: session then holds older runs (``status_grid.GROWTH``), until it holds every run.
SCROLL_TO_OLDEST_JS = """() => {
  const range = Bokeh.documents[0].get_model_by_name('status-grid').y_range;
  const bottom = range.bounds[0];
  if (range.start > bottom) range.setv({start: bottom, end: bottom + range.end - range.start});
}"""


def grid_equals(page: Page, cells: list[str], timeout: float = 60_000) -> None:
    """Wait until the page's grid, scrolled back to its oldest run, holds exactly ``cells``."""
    page.wait_for_function(f"""(want) => {{
      const have = ({GRID_JS})();
      if (have.length < want.length) ({SCROLL_TO_OLDEST_JS})();
      return have.length === want.length && have.every((cell, i) => cell === want[i]);
    }}""", arg=cells, timeout=timeout)


def seen(page: Page) -> dict[str, Any]:
    """What a person reads on the overview and the Tasks screen (the overview is left open)."""
    legend = page.get_by_text("runs ×").first.text_content()
    page.get_by_text("Tasks", exact=True).click()
    count = page.locator("p", has_text="executions").first
    expect(count).to_be_visible(timeout=20_000)
    page.locator(".choices").first.click()
    options = page.locator(".choices__list--dropdown .choices__item--choice").all_text_contents()
    page.keyboard.press("Escape")
    table = sorted(page.locator(".tabulator-row").all_text_contents())
    page.get_by_text("Overview", exact=True).click()
    return {"grid": page.evaluate(GRID_JS), "legend": legend, "title": page.title(),
            "count": count.text_content(), "task filter": sorted(options), "first page": table}


def open_fresh(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    open_dashboard(page, f"{url}/?exp={EXPERIMENT}")
    return page


def test_an_open_session_shows_every_run_a_fresh_session_shows(serve, example_copy,
                                                               browser: Browser):
    folder = example_copy(EXPERIMENT)
    subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)
    work = folder / "work_dir"
    journal, db = work / JOURNAL_NAME, str(work / "lute.db")
    with serve(folder, extra=("--poll", "0.2")) as url:
        open_page = open_fresh(browser, url)
        seen(open_page)  # builds the Tasks screen too: it follows from now on
        grid_equals(open_page, expected_cells(folder))

        # 300 new runs of an existing Task, then one event of a new Task.
        for run in range(38, 338):
            append_event(journal, task="Test", run=str(run), status="RUNNING")
        append_event(journal, task="BrandNewTask", run="40", status="RUNNING")
        grid_equals(open_page, expected_cells(folder))
        # A database row of a new Task far beyond the first screen.
        record_task(db, task="DbOnlyTask", run="330", status=TaskStatus.COMPLETED,
                    experiment=EXPERIMENT)
        grid_equals(open_page, expected_cells(folder))
        # Runs older than every run shown, each in a refresh of its own: a number and a
        # label (labels sort below numbers).
        record_task(db, task="Test", run="3", status=TaskStatus.FAILED, experiment=EXPERIMENT)
        grid_equals(open_page, expected_cells(folder))
        append_event(journal, task="Test", run="calib", status="COMPLETED")
        want = expected_cells(folder)
        assert len(want) == 318 * 7
        grid_equals(open_page, want)
        fresh = open_fresh(browser, url)
        grid_equals(fresh, want)
        assert seen(open_page) == seen(fresh)
        fresh.close()

        # A burst: 5,000 events in one write, new runs and a new Task among them.
        burst = [event_line(task="Test", run=str(run), status="COMPLETED")
                 for run in range(1000, 6000)]
        burst[2500:2500] = [event_line(task="BurstTask", run="1200", status="FAILED")]
        with open(journal, "ab") as handle:
            handle.write(b"".join(burst))
        record_task(db, task="Test", run="5999", status=TaskStatus.COMPLETED,
                    experiment=EXPERIMENT)
        want = expected_cells(folder)
        assert len(want) == 5318 * 8
        grid_equals(open_page, want, timeout=120_000)
        fresh = open_fresh(browser, url)
        grid_equals(fresh, want, timeout=120_000)
        assert seen(open_page) == seen(fresh)
        fresh.close()
        open_page.close()


def test_the_shared_table_is_read_again_when_a_replaced_database_keeps_its_row_count(
        tmp_path: Path):
    """A refresh that replaced the database (same number of rows, other rows) and that no
    session built a table for, then one new row: the table must not be the old rows + 1."""
    from dashboard.views.task_table import execution_frame

    folder = build_experiment(tmp_path, runs=2)
    db = folder / "work_dir" / "lute.db"
    (source,), _ = discover([folder])
    experiment = Experiment(source)
    experiment.refresh()
    assert len(execution_frame(experiment).rows) == 4
    replacement = tmp_path / "replacement.db"
    for run in range(4):
        record_task(str(replacement), task="SubmitSMD", run=str(run), status=TaskStatus.FAILED)
    os.replace(replacement, db)
    experiment.refresh()  # the reset: no session looks at the table now
    record_task(str(db), task="SubmitSMD", run="9", status=TaskStatus.COMPLETED)
    experiment.refresh()
    table = execution_frame(experiment)
    assert sorted(table.frame["Task"]) == sorted(row.task for row in experiment.executions)
    assert list(table.frame["Task"]) == [row.task for row in table.rows]
