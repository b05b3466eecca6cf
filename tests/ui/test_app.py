"""The whole dashboard as people get it: ``lute-dashboard serve`` in a subprocess, chromium.

Unlike the other UI tests, which serve one view with ``pn.serve``, these run the
real CLI server over copies of the examples LUTE wrote, so the template, the
deep links, the picker, the report routes and the problem handling are all
checked together, the way a link pasted into the eLog is opened.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from lute_model.status import ALL_STATUSES, PALETTE, TaskStatus
from tests.support.browser import ACTIVE_TAB, FRAME, detail_title, open_dashboard, query, rgb
from tests.support.browser import GRID_CELL_CENTER_JS as CELL_CENTER_JS
from tests.support.browser import GRID_CELLS_JS as CELLS_JS
from tests.support.experiments import CXI, MFX, copy_of, read_experiment

pytestmark = [pytest.mark.timeout(180), pytest.mark.usefixtures("no_traceback_shown")]

NAMED, RUNS, PAGES = ".lb-named select", ".lb-runs select", ".lb-pages select"
CHOICES = "option:not([value=''])"  # a listbox's visible options


def grid_cells(page: Page) -> list[dict[str, Any]]:
    """The grid's cells, once the browser has them."""
    page.wait_for_function(f"() => ({CELLS_JS})().length > 0")
    return page.evaluate(CELLS_JS)


def click_cell(page: Page, cell: dict[str, Any]) -> None:
    """A real mouse click in the middle of one cell of the canvas."""
    point = page.evaluate(CELL_CENTER_JS, [cell["task"], cell["y"]])
    page.mouse.click(point["x"], point["y"])


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """Both examples, writable, side by side: a folder of experiments."""
    return copy_of(tmp_path, CXI, MFX)


@pytest.mark.parametrize("name", [CXI, MFX])
def test_summary_tabs_are_the_first_parts_of_the_display_names_on_disk(
        page: Page, serve: Callable, examples: Path, name: str):
    summary = examples / name / "stats" / "summary"
    on_disk = {report.parent.relative_to(summary).parts[0]
               for report in summary.rglob("report.html")}
    if name == MFX:
        assert {"Übersicht", "Δt-Scan (fs)", "サンプル"} <= on_disk  # unicode names are tested
    with serve(examples / name) as url:
        open_dashboard(page, f"{url}/?exp={name}&view=summary")
        shown = page.locator(f"{NAMED} {CHOICES}, {RUNS} {CHOICES}")
        expect(shown).to_have_count(len(on_disk))
        assert set(shown.all_text_contents()) == on_disk


def test_a_page_link_opens_the_report_and_its_plot_renders_offline(
        page: Page, serve: Callable, examples: Path, offline: list[str]):
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    with serve(examples) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&page=r7/powders")
        expect(page.locator(ACTIVE_TAB)).to_have_text("Summary pages")
        frame = page.locator(FRAME)
        expect(frame).to_have_attribute(
            "src", re.compile(rf"/reports/{CXI}/r7/powders/report\.html$"))
        expect(page.frame_locator(FRAME).locator(".bk-Canvas").first).to_be_visible(
            timeout=30_000)
    assert offline == []  # CDN links were rewritten: nothing even tried to leave
    assert failed == []


def test_a_task_link_opens_that_tasks_detail(page: Page, serve: Callable, examples: Path):
    with serve(examples) as url:
        open_dashboard(page, f"{url}/?exp={MFX}&run=30&task=Test")
        expect(detail_title(page, "Test", "30")).to_be_visible()
        hit_rate = page.locator(".kv tr").filter(has=page.locator("th", has_text="Hit rate"))
        expect(hit_rate.locator("td")).to_have_text("0.08")


def test_the_task_filters_wrap_beside_an_open_detail_instead_of_running_under_it(
        page: Page, serve: Callable, examples: Path):
    with serve(examples) as url:
        page.set_viewport_size({"width": 1500, "height": 900})
        open_dashboard(page, f"{url}/?exp={MFX}&view=tasks&run=30&task=Test")
        expect(detail_title(page, "Test", "30")).to_be_visible()
        download = page.get_by_role("button", name="Download CSV").bounding_box()
        detail = page.locator("h3.title").bounding_box()
        assert download is not None and detail is not None
        assert download["x"] + download["width"] <= detail["x"], "the button runs under the detail"


def test_every_status_has_its_palette_color_in_grid_and_legend(
        page: Page, serve: Callable, examples: Path):
    expected = {(task, str(run)): row.status.name
                for (task, run), row in read_experiment(examples / MFX).latest.items()}
    with serve(examples) as url:
        open_dashboard(page, f"{url}/?exp={MFX}")
        cells = grid_cells(page)
        shown = {(c["task"], c["run"]): c["status"] for c in cells if c["status"]}
        assert shown == expected
        assert set(shown.values()) == {status.name for status in TaskStatus}
        for cell in cells:
            if cell["status"]:
                assert cell["color"] == PALETTE.by_name()[cell["status"]], cell
        for status in ALL_STATUSES:
            badge = page.locator(f".st-{status.name}").first
            expect(badge).to_contain_text(status.name)
            expect(badge).to_have_css("background-color", rgb(PALETTE[status]))


def test_clicking_a_grid_cell_opens_its_task_and_puts_it_in_the_url(
        page: Page, serve: Callable, examples: Path):
    with serve(examples) as url:
        open_dashboard(page, f"{url}/?exp={MFX}")
        target = next(c for c in grid_cells(page) if c["status"] == "FAILED")
        click_cell(page, target)
        expect(detail_title(page, target["task"], target["run"])).to_be_visible()
        expect(page).to_have_url(re.compile(r"[?&]task="))
        assert query(page) == {"exp": MFX, "task": target["task"], "run": target["run"]}


def test_back_and_forward_return_to_the_previous_views(
        page: Page, serve: Callable, examples: Path):
    with serve(examples) as url:
        open_dashboard(page, f"{url}/?exp={MFX}&page=nozzle_scan/r0035")
        report = re.compile(r"/reports/mfxp1001123/nozzle_scan/r0035/report\.html$")
        expect(page.locator(FRAME)).to_have_attribute("src", report)
        page.locator(".bk-tab", has_text="Overview").click()
        expect(page).to_have_url(re.compile(r"view=overview"))
        target = next(c for c in grid_cells(page) if c["status"] == "COMPLETED")
        click_cell(page, target)
        title = detail_title(page, target["task"], target["run"])
        expect(title).to_be_visible()
        with_task = {"exp": MFX, "task": target["task"], "run": target["run"],
                     "page": "nozzle_scan/r0035"}
        assert query(page) == with_task

        page.go_back()
        expect(title).to_be_hidden()
        expect(page.locator(ACTIVE_TAB)).to_have_text("Overview")
        assert query(page) == {"exp": MFX, "page": "nozzle_scan/r0035", "view": "overview"}
        page.go_back()
        expect(page.locator(ACTIVE_TAB)).to_have_text("Summary pages")
        expect(page.locator(FRAME)).to_have_attribute("src", report)
        assert query(page) == {"exp": MFX, "page": "nozzle_scan/r0035"}

        page.go_forward()
        expect(page.locator(ACTIVE_TAB)).to_have_text("Overview")
        assert query(page) == {"exp": MFX, "page": "nozzle_scan/r0035", "view": "overview"}
        page.go_forward()
        expect(title).to_be_visible()
        assert query(page) == with_task


def test_the_picker_lists_both_experiments_with_counts_and_opens_one(
        page: Page, serve: Callable, examples: Path):
    with serve(examples) as url:
        open_dashboard(page, f"{url}/")
        rows = page.locator("tr.lute-experiment")
        expect(rows).to_have_count(2)
        for name in (CXI, MFX):
            experiment = read_experiment(examples / name)
            row = rows.filter(has=page.get_by_role("link", name=name, exact=True))
            expect(row.locator("td.runs")).to_contain_text(f"({len(experiment.runs)})")
            expect(row.locator("td.num").first).to_have_text(str(len(experiment.pages)))
            for status in ALL_STATUSES:  # a status no cell has is left out: one line each
                count = experiment.counts.get(status.name, 0)
                badge = row.locator(f".st-{status.name}")
                if count:
                    expect(badge).to_contain_text(f"{status.name} {count}")
                else:
                    expect(badge).to_have_count(0)
        page.get_by_role("link", name=CXI, exact=True).click()
        expect(page.locator(ACTIVE_TAB)).to_have_text("Overview")
        expect(page).to_have_url(re.compile(rf"[?&]exp={CXI}"))
        assert {c["task"] for c in grid_cells(page)} == set(
            read_experiment(examples / CXI).tasks)


def test_an_empty_folder_shows_the_friendly_page(page: Page, serve: Callable, tmp_path: Path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    with serve(empty) as url:
        open_dashboard(page, f"{url}/")
        expect(page.get_by_role("heading", name=re.compile("No LUTE results here"))).to_be_visible()
        expect(page.get_by_text(str(empty)).first).to_be_visible()  # where it looked


def test_a_corrupt_database_is_a_problem_and_summary_pages_still_work(
        page: Page, serve: Callable, tmp_path: Path):
    root = copy_of(tmp_path, CXI) / CXI
    database = root / "work_dir" / "lute.db"
    database.write_bytes(b"this is not SQLite\x00\xff" * 200)
    with serve(root) as url:
        open_dashboard(page, f"{url}/?exp={CXI}")
        page.locator(".bk-tab", has_text="Problems").click()
        expect(page.locator(ACTIVE_TAB)).to_have_text("Problems (1)")
        problem = page.locator(".lute-problems tr")
        expect(problem).to_have_count(1)
        expect(problem).to_contain_text("lute.db")
        expect(problem).to_contain_text("not an SQLite database")

        page.locator(".bk-tab", has_text="Summary pages").click()
        page.locator(RUNS).select_option("r7")
        expect(page.locator(FRAME)).to_have_attribute(
            "src", re.compile(rf"/reports/{CXI}/r7/powders/report\.html$"))
        expect(page.frame_locator(FRAME).locator(".bk-Canvas").first).to_be_visible(
            timeout=30_000)
