"""Live watching, end to end: files change on disk, every open session follows."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import panel as pn
from playwright.sync_api import Browser, Page, expect

from lute_model.status import PALETTE, TaskStatus
from lute_writers.journal import JOURNAL_NAME, append_event
from lute_writers.lute_schema import record_task
from lute_writers.summary_plots import ElogSummaryPlots
from tests.support.browser import open_dashboard

NEW_TAB = ".lb-named select option[value='live_tab']"
CELL_COLOR_JS = """([task, run]) => {
  const fig = Bokeh.documents[0].get_model_by_name('status-grid');
  if (!fig) return null;
  const data = fig.renderers[0].data_source.data;
  for (let i = 0; i < data.task.length; i++) {
    if (data.task[i] === task && String(data.run[i]) === run) return data.color[i];
  }
  return null;
}"""


def _writable_copy(example_copy, name: str) -> Path:
    folder = example_copy(name)
    subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)
    return folder


def _cell_turns(page: Page, task: str, run: str, status: str) -> None:
    page.wait_for_function(f"([t, r, c]) => ({CELL_COLOR_JS})([t, r]) === c",
                           arg=[task, run, PALETTE.by_name()[status]], timeout=15_000)


def test_two_sessions_follow_journal_events_rows_and_new_pages(browser: Browser, serve,
                                                              example_copy):
    folder = _writable_copy(example_copy, "mfxp1001123")
    work = folder / "work_dir"
    with serve(folder, extra=("--poll", "0.5")) as url:
        pages = [browser.new_page(viewport={"width": 1400, "height": 900}) for _ in range(2)]
        for page in pages:
            open_dashboard(page, f"{url}/?exp=mfxp1001123")
        # The second person is reading a summary page: that must survive the updates.
        pages[1].goto(f"{url}/?exp=mfxp1001123&page=nozzle_scan/r0035")
        pages[1].wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0")
        frame = pages[1].locator("iframe")
        expect(frame).to_have_attribute("src", re.compile("nozzle_scan/r0035"))

        append_event(work / JOURNAL_NAME, task="Test", run="40", status="RUNNING",
                     message="started on node sdfmilan042")
        _cell_turns(pages[0], "Test", "40", "RUNNING")
        expect(pages[0].get_by_text("started on node sdfmilan042")).to_be_visible()

        record_task(str(work / "lute.db"), task="Test", run="40", status=TaskStatus.COMPLETED,
                    summary="Test Finished.", experiment="mfxp1001123")
        _cell_turns(pages[0], "Test", "40", "COMPLETED")

        ElogSummaryPlots(display_name="live_tab/r0040",
                         figures=pn.pane.Markdown("# run 40")).save(
            folder / "stats" / "summary")
        pages[0].get_by_text("Summary pages", exact=True).click()
        expect(pages[0].locator(NEW_TAB)).to_have_count(1, timeout=15_000)

        # The second session: its open page stayed, and the new cell reached it too.
        expect(frame).to_have_attribute("src", re.compile("nozzle_scan/r0035"))
        pages[1].get_by_text("Overview", exact=True).click()
        _cell_turns(pages[1], "Test", "40", "COMPLETED")
        pages[1].get_by_text("Summary pages", exact=True).click()
        expect(pages[1].locator(NEW_TAB)).to_have_count(1, timeout=15_000)
        for page in pages:
            page.close()


def test_a_failed_task_raises_a_notification_and_counts_in_the_title(page: Page, serve,
                                                                     example_copy):
    folder = _writable_copy(example_copy, "mfxp1001123")
    with serve(folder) as url:
        open_dashboard(page, f"{url}/?exp=mfxp1001123")
        append_event(folder / "work_dir" / JOURNAL_NAME, task="Test", run="41", status="FAILED",
                     message="segmentation fault")
        # Notyf's toasts (its screen-reader announcer repeats the text elsewhere).
        alert = page.locator(".notyf__toast", has_text="FAILED: Test, run 41")
        expect(alert).to_have_count(1, timeout=15_000)
        # A later change announces itself only, not the FAILED again.
        append_event(folder / "work_dir" / JOURNAL_NAME, task="Test", run="42", status="RUNNING")
        page.wait_for_function(f"([t, r]) => ({CELL_COLOR_JS})([t, r]) !== null",
                               arg=["Test", "42"], timeout=15_000)
        expect(alert).to_have_count(1)
        page.wait_for_function("() => document.title.startsWith('(▶2 ✘3)')")


def test_pausing_holds_updates_back_and_resuming_catches_up(page: Page, serve, example_copy):
    folder = _writable_copy(example_copy, "mfxp1001123")
    journal = folder / "work_dir" / JOURNAL_NAME
    with serve(folder) as url:
        open_dashboard(page, f"{url}/?exp=mfxp1001123")
        expect(page.get_by_text("● live")).to_be_visible(timeout=15_000)
        page.locator(".bk-switch, .switch, [role=switch]").first.click()
        expect(page.get_by_text("⏸ paused")).to_be_visible()
        append_event(journal, task="Test", run="42", status="RUNNING")
        append_event(journal, task="Test", run="43", status="RUNNING", message="marker event")
        # The server has surely refreshed once the other session sees it; this one must not.
        other = page.context.new_page()
        open_dashboard(other, f"{url}/?exp=mfxp1001123")
        _cell_turns(other, "Test", "43", "RUNNING")
        assert page.evaluate(CELL_COLOR_JS, ["Test", "43"]) is None
        page.locator(".bk-switch, .switch, [role=switch]").first.click()
        expect(page.get_by_text("● live")).to_be_visible()
        _cell_turns(page, "Test", "43", "RUNNING")
        other.close()


def test_a_change_that_comes_while_the_page_is_still_drawn_reaches_it(page: Page, serve,
                                                                      example_copy):
    """A refresh between the browser's pull of the document and the page's load.

    Panel drops what a held change sends in that window: on a slow browser, the first
    update after opening the page never came, and later ones named models the browser
    never got.  The browser's CPU is slowed so that the window is seconds long, and the
    run is written as soon as the document has been pulled.
    """
    folder = _writable_copy(example_copy, "mfxp1001123")
    journal = folder / "work_dir" / JOURNAL_NAME
    written: list[str] = []

    def on_frame(payload: str | bytes) -> None:
        if not written and b"PULL-DOC-REPLY" in (payload if isinstance(payload, bytes)
                                                 else payload.encode()):
            append_event(journal, task="Test", run="44", status="RUNNING")
            written.append("44")

    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.on("websocket", lambda socket: socket.on("framereceived", on_frame))
    page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 20})
    with serve(folder, extra=("--poll", "0.2")) as url:
        open_dashboard(page, f"{url}/?exp=mfxp1001123", timeout=90_000)
        assert written, "the document was never pulled"
        _cell_turns(page, "Test", "44", "RUNNING")
        assert not [e for e in errors if "isn't known" in e], errors
