"""Hostile Task names and runs that arrive while a page is open: shown as text, never run.

The page is loaded first; then the names come live, through the status
journal (``lute-dashboard emit`` and the journal appender, every status) and
through new database rows.  Each name, if it were ever parsed as HTML, sets
``window.__pwned`` or opens an ``alert``; neither may happen, and every place a
name shows up (notification, feed, grid and its hover, browser tab title,
Task table and filter, Task detail) shows the name itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect

from lute_model.status import TaskStatus
from lute_writers.journal import JOURNAL_NAME, append_event
from lute_writers.lute_schema import record_task
from tests.support.browser import GRID_CELL_CENTER_JS, GRID_CELLS_JS, open_dashboard
from tests.support.experiments import EXPERIMENT, build_experiment
from tests.support.servers import REPO

#: A Task per status, each named so that it marks the page if its markup ever runs.
LIVE_TASKS = {status: f"<img src=x onerror=window.__pwned='{status.name}'>"
              for status in TaskStatus}
ALERT_TASK = "<img src=x onerror=alert(document.domain)>"
TIMEDOUT_RUN = "<svg onload=window.__pwned='timedout-run'>"
DB_TASK = "<img src=x onerror=window.__pwned='db-task'>"
DB_RUN = "<img src=x onerror=window.__pwned='db-run'>"

GRID_HAS_JS = """([task, run]) => {
  const fig = Bokeh.documents[0].get_model_by_name('status-grid');
  if (!fig) return false;  // not there yet: the page opened while the server still read
  const data = fig.renderers[0].data_source.data;
  return fig.x_range.factors.includes(task) &&
         data.task.some((t, i) => t === task && String(data.run[i]) === run && data.status[i]);
}"""


def toast(page: Page, text: str):
    """Notyf's toast (its screen-reader announcer repeats the text elsewhere)."""
    return page.locator(".notyf__toast", has_text=text)


def hover_shows(page: Page, task: str, run: str, text: str) -> None:
    """Hover one cell of the grid, as a person reading its tooltip does, until it shows ``text``.

    The view is scrolled to the cell first; a loaded machine may repaint late, so
    the mouse is moved again until the tooltip is there.
    """
    cell = next(c for c in page.evaluate(GRID_CELLS_JS) if c["task"] == task and c["run"] == run)
    page.evaluate("""([task, y]) => {
      const fig = Bokeh.documents[0].get_model_by_name('status-grid');
      fig.y_range.setv({start: y - 5, end: y + 5});
    }""", [task, cell["y"]])
    value = page.locator(".bk-Tooltip").filter(has_text=text).first
    for attempt in range(10):
        point = page.evaluate(GRID_CELL_CENTER_JS, [task, cell["y"]])
        page.mouse.move(point["x"] + attempt % 2, point["y"])
        try:
            expect(value).to_be_visible(timeout=1_000)
            return
        except AssertionError:
            continue
    expect(value).to_be_visible()


def test_hostile_names_delivered_live_are_text_everywhere(serve, tmp_path: Path, page: Page):
    folder = build_experiment(tmp_path, runs=2)
    work = folder / "work_dir"
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_viewport_size({"width": 1400, "height": 1000})
    with serve(folder, extra=("--poll", "0.2")) as url:
        open_dashboard(page, f"{url}/?exp={EXPERIMENT}")
        expect(page.get_by_text("● live")).to_be_visible(timeout=15_000)

        # The journal: what `lute-dashboard emit` writes from a SLURM script ...
        subprocess.run([sys.executable, "-m", "dashboard.cli", "emit", str(work), "--task",
                        ALERT_TASK, "--run", "1", "--status", "FAILED"], check=True, cwd=REPO)
        # ... and the Executor hook: a Task of each status, and a run label that is markup.
        for status, task in LIVE_TASKS.items():
            append_event(work / JOURNAL_NAME, task=task, run="5", status=status.name,
                         message=f"{task} said {status.name}")
        append_event(work / JOURNAL_NAME, task="FindPeaksPyAlgos", run=TIMEDOUT_RUN,
                     status="TIMEDOUT")
        expect(toast(page, f"FAILED: {ALERT_TASK}, run 1")).to_have_count(1, timeout=20_000)
        expect(toast(page, f"FAILED: {LIVE_TASKS[TaskStatus.FAILED]}, run 5")).to_have_count(1)
        expect(toast(page, f"TIMEDOUT: {LIVE_TASKS[TaskStatus.TIMEDOUT]}, run 5")
               ).to_have_count(1)
        expect(toast(page, f"TIMEDOUT: FindPeaksPyAlgos, run {TIMEDOUT_RUN}")).to_have_count(1)

        # New database rows: a FAILED Task whose name is markup, and one whose run is.
        db = str(work / "lute.db")
        record_task(db, task=DB_TASK, run="6", status=TaskStatus.FAILED, summary=DB_TASK,
                    experiment=EXPERIMENT)
        record_task(db, task="IndexCrystFEL", run=DB_RUN, status=TaskStatus.FAILED,
                    summary="its run label is markup", experiment=EXPERIMENT)
        expect(toast(page, f"FAILED: {DB_TASK}, run 6")).to_have_count(1, timeout=20_000)
        expect(toast(page, f"FAILED: IndexCrystFEL, run {DB_RUN}")).to_have_count(1)

        # The feed lists every change, names as written.
        feed = page.locator(".feed li")
        for status, task in LIVE_TASKS.items():
            expect(feed.filter(has_text=f"run 5 · {task}").filter(has_text=status.name)
                   ).to_have_count(1)
        expect(feed.filter(has_text=f"run {TIMEDOUT_RUN} · FindPeaksPyAlgos")).to_have_count(1)
        expect(feed.filter(has_text=f"run {DB_RUN} · IndexCrystFEL")).to_have_count(1)

        # The grid holds the names as its Tasks (axis) and runs, and its hover shows them.
        for task, run in [*((t, "5") for t in LIVE_TASKS.values()), (ALERT_TASK, "1"),
                          ("FindPeaksPyAlgos", TIMEDOUT_RUN), (DB_TASK, "6"),
                          ("IndexCrystFEL", DB_RUN)]:
            page.wait_for_function(GRID_HAS_JS, arg=[task, run], timeout=20_000)
        hover_shows(page, DB_TASK, "6", DB_TASK)
        hover_shows(page, "IndexCrystFEL", DB_RUN, DB_RUN)

        # The browser tab's title counts them (it never carries a name).
        page.wait_for_function("() => document.title.startsWith('(▶1 ✘7) ')", timeout=20_000)

        # The Task table lists the new rows, its filter offers every Task by name.
        page.get_by_text("Tasks", exact=True).click()
        task_cells = page.locator(".tabulator-cell[tabulator-field=Task]")
        expect(task_cells.filter(has_text=DB_TASK)).to_have_count(1, timeout=20_000)
        page.locator(".choices").first.click()
        for task in [*LIVE_TASKS.values(), ALERT_TASK, DB_TASK]:
            expect(page.locator(".choices__list--dropdown").get_by_text(task, exact=True)
                   ).to_have_count(1)
        page.keyboard.press("Escape")

        # The Task detail of each, opened from the table.
        task_cells.filter(has_text=DB_TASK).click()
        expect(page.locator("h3.title").filter(has_text=f"{DB_TASK} · run 6")).to_be_visible(
            timeout=20_000)
        expect(page.locator("pre.summary").filter(has_text=DB_TASK)).to_be_visible()
        page.locator(".tabulator-row").filter(has_text="its run label is markup").click()
        expect(page.locator("h3.title").filter(has_text=f"IndexCrystFEL · run {DB_RUN}")
               ).to_be_visible(timeout=20_000)

        pwned = page.evaluate("() => window.__pwned")
    assert pwned is None, f"the markup of a name ran: {pwned}"
    assert dialogs == []
