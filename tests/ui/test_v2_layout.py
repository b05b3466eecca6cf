"""An experiment LUTE stored in both of its database layouts, served for real.

``xcsl1004224``'s ``lute.db`` holds runs 1-6 in LUTE's v1 layout and runs 7-14
in its v2 layout, both written by LUTE's own code.  The grid, the Task table
and the Task detail must show the v2 executions as they show v1 rows: status,
header, parameters (decoded from JSON), environment (from its own rows) and
Executor.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import GRID_CELLS_JS, detail_title, open_dashboard
from tests.support.experiments import copy_of, read_experiment

pytestmark = pytest.mark.timeout(180)

XCS = "xcsl1004224"


@pytest.fixture
def experiment_dir(tmp_path: Path) -> Path:
    return copy_of(tmp_path, XCS) / XCS


def _kv(page: Page, key: str):
    """The value cell of the key | value row named ``key`` (first match)."""
    return page.locator(".kv tr").filter(has=page.locator("th", has_text=key)).first.locator("td")


def test_grid_shows_every_cell_of_both_layouts_with_its_status(
        page: Page, serve: Callable, experiment_dir: Path):
    expected = {(task, str(run)): row.status.name
                for (task, run), row in read_experiment(experiment_dir).latest.items()}
    assert {run for _task, run in expected} == {str(r) for r in range(1, 15)}
    with serve(experiment_dir) as url:
        open_dashboard(page, f"{url}/?exp={XCS}")
        page.wait_for_function(f"() => ({GRID_CELLS_JS})().length > 0")
        shown = {(c["task"], c["run"]): c["status"] for c in page.evaluate(GRID_CELLS_JS)
                 if c["status"]}
        assert shown == expected
        assert shown[("SubmitSMD", "14")] == "RUNNING"  # a v2 execution
        assert shown[("TestWriteOutput", "10")] == "COMPLETED"  # the same-second rerun


def test_task_table_lists_every_execution_of_both_layouts(
        page: Page, serve: Callable, experiment_dir: Path):
    with serve(experiment_dir) as url:
        open_dashboard(page, f"{url}/?exp={XCS}&view=tasks")
        expect(page.get_by_text("31 of 31 executions")).to_be_visible()


def test_detail_of_a_v2_execution_shows_header_parameters_environment_and_executor(
        page: Page, serve: Callable, experiment_dir: Path):
    with serve(experiment_dir) as url:
        page.set_viewport_size({"width": 1400, "height": 2400})
        open_dashboard(page, f"{url}/?exp={XCS}&view=tasks&run=9&task=Test")
        expect(detail_title(page, "Test", "9")).to_be_visible()
        expect(_kv(page, "configuration")).to_have_text(
            "LUTE Task Configuration - XCS TR-XSS/XAS, Fe(bpy)3 in water")
        expect(_kv(page, "LUTE version")).to_have_text("0.1")
        expect(_kv(page, "Task timeout")).to_have_text("3600.0 s")
        expect(_kv(page, "stored as")).to_contain_text("v2 layout")
        expect(_kv(page, "parameters type")).to_have_text("TestParameters")
        expect(_kv(page, "Mean ipm5 (counts)")).to_have_text("2211.4")
        expect(page.get_by_text("r0009/jet_position").first).to_be_visible()
        # Read from the parameters and environment tables once the detail opened.
        expect(_kv(page, "LUTE_DB_SPEC_VERSION")).to_have_text("2")
        expect(_kv(page, "SLURM_JOB_PARTITION")).to_have_text("milano")
        expect(_kv(page, "Executor")).to_have_text("Executor")
        expect(_kv(page, "communicators")).to_contain_text("SocketCommunicator: Communicates")
        parameters = page.locator(".json-formatter-row").first
        expect(parameters).to_contain_text("str_var")
        expect(parameters).to_contain_text("jet check")
        page.screenshot(path=str(experiment_dir.parent / "v2-detail.png"), full_page=True)


def test_detail_of_an_execution_whose_environment_was_not_stored_says_so(
        page: Page, serve: Callable, experiment_dir: Path):
    with serve(experiment_dir) as url:
        open_dashboard(page, f"{url}/?exp={XCS}&view=tasks&run=8&task=SubmitSMD")
        expect(detail_title(page, "SubmitSMD", "8")).to_be_visible()
        expect(page.get_by_text("(no environment stored for this execution)")).to_be_visible()
        expect(page.locator(".json-formatter-row").first).to_contain_text("smd_producer.py")


def test_a_rerun_within_the_same_second_shows_both_tries_the_rerun_last(
        page: Page, serve: Callable, experiment_dir: Path):
    with serve(experiment_dir) as url:
        open_dashboard(page, f"{url}/?exp={XCS}&view=tasks&run=10&task=TestWriteOutput")
        expect(page.get_by_text("Tries (2)")).to_be_visible()
        tries = page.locator(".kv tr").filter(has=page.locator(".st"))
        expect(tries.nth(0)).to_contain_text("FAILED")
        expect(tries.nth(1)).to_contain_text("COMPLETED")
        expect(tries.nth(1)).to_contain_text("← shown")
