"""Text that a page would cut, lose or choke on: NUL, lone surrogates, 300-character names.

A NUL ends a C string and is dropped by the HTML parser; a lone surrogate (a
JSON ``"\\ud800"``, a folder name's byte that is not UTF-8) cannot be encoded
as UTF-8 at all.  Both are shown spelled out (``\\x00``, ``\\ud800``) in the
Task detail, the Task filter, the grid, the CSV export and
``lute-dashboard inspect``; deep links carry them; long Task names are cut on
the grid's axis and in the table, whole on hover.

The journal delivers such text whole.  A NUL stored in ``lute.db`` is cut
before it reaches a view (SQLite's ``substr``/``length`` stop at it, in the
reader), so the database side is not shown here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from playwright.sync_api import Page, expect

from dashboard.session import SessionState
from dashboard.views.task_table import _cell
from dashboard.views.url_state import from_query, to_query
from lute_model.status import TaskStatus
from lute_writers.journal import JOURNAL_NAME, utc_now
from lute_writers.lute_schema import record_task
from tests.support.browser import GRID_CELL_CENTER_JS, GRID_CELLS_JS, open_dashboard
from tests.support.experiments import EXPERIMENT, build_experiment, inspect

NUL_TASK, NUL_MESSAGE = "Nul\x00Task", "before\x00after the NUL"
SURROGATE_TASK = "Odd\ud800Task"
SHOWN_NUL_TASK, SHOWN_MESSAGE = "Nul\\x00Task", "before\\x00after the NUL"
SHOWN_TASK = "Odd\\ud800Task"
LONG_TASK = "MergeAndRefine" + "AlongNameOfAFacilityPipelineStep" * 9  # 302 characters


def journal_line(folder: Path, **event: str) -> None:
    """An event as any JSON writer may put it: lone surrogates as ``\\ud800`` escapes."""
    with open(folder / "work_dir" / JOURNAL_NAME, "a", encoding="ascii") as handle:
        handle.write(json.dumps({"time": utc_now(), **event}) + "\n")


def odd_experiment(root: Path) -> Path:
    folder = build_experiment(root, runs=2)
    journal_line(folder, task=NUL_TASK, run="1", status="FAILED", message=NUL_MESSAGE)
    journal_line(folder, task=SURROGATE_TASK, run="2", status="RUNNING",
                 message="a lone \udc80 in the message")
    return folder


def click_cell(page: Page, task: str, run: str) -> None:
    """Click a cell of the grid as a person does; again if the layout moved under the mouse
    (an opening detail narrows the grid while it is drawn again)."""
    title = page.locator("h3.title").filter(has_text=f"{task} · run {run}")
    for _attempt in range(5):
        cell = next(c for c in page.evaluate(GRID_CELLS_JS)
                    if c["task"] == task and c["run"] == run)
        point = page.evaluate(GRID_CELL_CENTER_JS, [task, cell["y"]])
        page.mouse.click(point["x"], point["y"])
        try:
            expect(title).to_be_visible(timeout=3_000)
            return
        except AssertionError:
            continue
    expect(title).to_be_visible()


def test_nul_and_lone_surrogates_are_spelled_out_in_grid_detail_and_filter(
        serve, tmp_path: Path, page: Page):
    folder = odd_experiment(tmp_path)
    page.set_viewport_size({"width": 1400, "height": 1000})
    with serve(folder) as url:
        open_dashboard(page, f"{url}/?exp={EXPERIMENT}")
        page.wait_for_function(f"() => ({GRID_CELLS_JS})().some(c => c.task === {SHOWN_TASK!r})")
        for shown, run, text in ((SHOWN_NUL_TASK, "1", SHOWN_MESSAGE),
                                 (SHOWN_TASK, "2", "a lone \\udc80 in the message")):
            # The grid holds the name as shown; a click opens the stored name's detail
            # (and the deep link of a name UTF-8 cannot hold is made all the same).
            click_cell(page, shown, run)
            expect(page.locator("pre.summary").filter(has_text=text)).to_be_visible()
        page.wait_for_function("() => window.location.search.includes('task=Odd%ED%A0%80Task')")
        page.get_by_text("Tasks", exact=True).click()
        page.locator(".choices").first.click()
        for shown in (SHOWN_NUL_TASK, SHOWN_TASK):
            expect(page.locator(".choices__list--dropdown").get_by_text(shown, exact=True)
                   ).to_have_count(1)
        page.keyboard.press("Escape")


def test_the_csv_spells_out_a_nul_and_keeps_formulas_out():
    assert _cell(NUL_MESSAGE) == SHOWN_MESSAGE
    assert _cell("=HYPERLINK(\"x\")\x00") == "'=HYPERLINK(\"x\")\\x00"


def test_inspect_prints_a_lone_surrogate_spelled_out(tmp_path: Path):
    folder = odd_experiment(tmp_path)
    code, output = inspect(folder)
    assert code == 0, output
    assert SHOWN_TASK in output


def test_deep_links_carry_names_that_utf8_cannot_hold():
    """A summary folder whose name has a byte that is not UTF-8 (kept by Python as a lone
    surrogate), a journal's lone surrogate: the link is made and opens the same names."""
    state = SessionState(experiment=EXPERIMENT, page="bad\udcffname/r0001",
                         task=SURROGATE_TASK, run="1")
    opened = from_query(to_query(state))
    assert {key: opened[key] for key in ("experiment", "page", "task", "run")} == {
        "experiment": EXPERIMENT, "page": "bad\udcffname/r0001", "task": SURROGATE_TASK,
        "run": "1"}
    # A link made elsewhere with bytes that are no UTF-8 at all still opens something.
    assert from_query("exp=x&page=a%FF%FE/b")["page"] == "a\ufffd\ufffd/b"


def test_a_summary_folder_name_that_is_not_utf8_is_listed(serve, tmp_path: Path, page: Page):
    folder = build_experiment(tmp_path, runs=1)
    report = os.path.join(os.fsencode(folder / "stats" / "summary"), b"bad\xffname", b"r0001")
    os.makedirs(report)
    with open(os.path.join(report, b"report.html"), "w") as handle:
        handle.write("<p>a page in a folder whose name is not UTF-8</p>")
    with serve(folder) as url:
        open_dashboard(page, f"{url}/?exp={EXPERIMENT}&view=summary")
        tab = page.locator(".lb-named select option").filter(has_text="bad")
        expect(tab).to_have_count(1, timeout=20_000)
        assert tab.text_content() == "bad\udcffname"  # the browser shows its replacement char
        page.locator(".lb-named select").select_option(tab.get_attribute("value"))
        page.locator(".lb-pages select").select_option(
            page.locator(".lb-pages select option").filter(has_text="r0001").get_attribute(
                "value"))
        page.wait_for_function("() => window.location.search.includes('page=bad%ED%B3%BFname')")
        # ... and its page opens: the report's URL carries the folder's own bytes.
        frame = page.frame_locator("iframe[title^='Summary page']")
        expect(frame.get_by_text("a page in a folder whose name is not UTF-8")).to_be_visible(
            timeout=20_000)


def test_long_task_names_are_cut_on_the_axis_and_in_the_table_whole_on_hover(
        serve, tmp_path: Path, page: Page):
    folder = build_experiment(tmp_path, runs=2)
    db = str(folder / "work_dir" / "lute.db")
    for run in ("1", "2"):
        record_task(db, task=LONG_TASK, run=run, status=TaskStatus.COMPLETED,
                    experiment=EXPERIMENT)
        record_task(db, task=LONG_TASK[:200], run=run, status=TaskStatus.FAILED,
                    experiment=EXPERIMENT)
    page.set_viewport_size({"width": 1400, "height": 900})
    with serve(folder) as url:
        open_dashboard(page, f"{url}/?exp={EXPERIMENT}")
        # The cells start near the top left, whatever the names: the axis labels are short.
        frame = page.evaluate("""() => {
          const fig = Bokeh.documents[0].get_model_by_name('status-grid');
          const view = Bokeh.index.find_one(fig);
          const box = view.el.getBoundingClientRect();
          return {top: box.top + view.frame.bbox.top, left: box.left + view.frame.bbox.left,
                  right: box.left + view.frame.bbox.right};
        }""")
        assert frame["top"] < 450 and frame["left"] < 200, frame
        assert frame["right"] <= 1400, frame
        cells = page.evaluate(GRID_CELLS_JS)
        assert {LONG_TASK, LONG_TASK[:200]} <= {c["task"] for c in cells}  # the whole names
        page.get_by_text("Tasks", exact=True).click()
        name = page.locator(f".tabulator-cell[tabulator-field=Task] span[title='{LONG_TASK}']")
        expect(name).to_have_count(2, timeout=20_000)
        width = name.first.evaluate("span => span.closest('.tabulator-cell').offsetWidth")
        assert width < 400, width
