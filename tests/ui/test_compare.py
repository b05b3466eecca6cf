"""Compare two runs in the browser: only the parameters that differ, values side by side,
the same summary page of both runs next to each other."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lute_model.compare import differences
from lute_model.sources.journal import JOURNAL_NAME
from lute_writers.journal import append_event
from tests.support.browser import ACTIVE_TAB, open_dashboard, query
from tests.support.experiments import CXI, copy_of, read_experiment

pytestmark = pytest.mark.timeout(180)

XCS = "xcsl1004224"
FRAMES = "iframe[title^='Summary page']"


def test_a_compare_link_shows_only_differing_parameters_and_both_runs_values(
        page: Page, serve: Callable, tmp_path: Path):
    folder = copy_of(tmp_path, CXI) / CXI
    experiment = read_experiment(folder)
    with serve(folder) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&compare=11,12")
        expect(page.locator(ACTIVE_TAB)).to_have_text("Compare")
        expect(page.get_by_text("Run 11 compared with run 12")).to_be_visible()
        for task in ("FindPeaksPyAlgos", "IndexCrystFEL"):
            rows = [experiment.latest[(task, run)] for run in (11, 12)]
            changed = differences(*(experiment.details(row).task_parameters for row in rows))
            table = page.locator("table.cmp").filter(has_text="parameter that differs").filter(
                has=page.locator("th", has_text=changed[0][0]))
            shown = table.first.locator("tbody th")
            if task == "IndexCrystFEL":  # the later table of the two that name in_file/out_file
                shown = table.last.locator("tbody th")
            expect(shown).to_have_text([name for name, _a, _b in changed])
        values = page.locator("table.cmp").filter(has_text="Indexing rate")
        expect(values.locator("tr", has_text="Indexing rate").locator("td")).to_have_text(
            ["0.43", "0.77"])
        frames = page.locator(FRAMES)
        expect(frames).to_have_count(2)
        for frame, run in zip(frames.all(), (11, 12), strict=True):
            expect(frame).to_have_attribute(
                "src", re.compile(rf"/reports/{CXI}/r{run}/powders/report\.html$"))
            expect(frame).to_have_attribute("sandbox", "allow-scripts")


def test_a_v1_row_and_a_v2_execution_with_the_same_parameters_do_not_differ(
        page: Page, serve: Callable, tmp_path: Path):
    folder = copy_of(tmp_path, XCS) / XCS
    experiment = read_experiment(folder)
    assert {experiment.latest[("Test", 1)].layout, experiment.latest[("Test", 7)].layout} == {
        "v1", "v2"}
    with serve(folder) as url:
        open_dashboard(page, f"{url}/?exp={XCS}&compare=1,7")
        heading = page.locator("h4.task", has_text="Test").first
        expect(heading).to_contain_text("run 1 ✔ COMPLETED")
        expect(page.locator("h4.task:has-text('Test') ~ p", has_text="Same parameters")
               .first).to_be_visible(timeout=20_000)
        values = page.locator("table.cmp").filter(has_text="Jet speed (m/s)")
        expect(values.locator("tr", has_text="Jet speed").locator("td")).to_have_text(
            ["(not set)", "38.5"])


def test_choosing_runs_puts_them_in_the_link_and_back_returns(
        page: Page, serve: Callable, tmp_path: Path):
    folder = copy_of(tmp_path, CXI) / CXI
    with serve(folder) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&view=compare")
        # Nothing chosen: the two newest runs, without writing the link.
        expect(page.get_by_text("Run 17 compared with run 18")).to_be_visible()
        assert "compare" not in query(page)
        page.locator("select").first.select_option("9")
        expect(page.get_by_text("Run 9 compared with run 18")).to_be_visible()
        assert query(page)["compare"] == "9,18"
        page.go_back()
        expect(page.get_by_text("Run 17 compared with run 18")).to_be_visible()
        assert "compare" not in query(page)


def test_a_run_whose_tasks_only_started_is_not_compared_by_default_and_says_why(
        page: Page, serve: Callable, tmp_path: Path):
    """Run 19 has begun (a journal event) but stored nothing: the default stays 17 and 18,
    and asked for, its Task says its parameters come when it ends (not a table of "not set")."""
    folder = copy_of(tmp_path, CXI) / CXI
    append_event(folder / "work_dir" / JOURNAL_NAME, task="FindPeaksPyAlgos", run="19",
                 status="RUNNING", message="started")
    with serve(folder) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&view=compare")
        expect(page.get_by_text("Run 17 compared with run 18")).to_be_visible()
        page.goto(f"{url}/?exp={CXI}&compare=18,19")
        expect(page.get_by_text("Run 18 compared with run 19")).to_be_visible()
        expect(page.get_by_text("Run 19: RUNNING — parameters are stored when it ends")
               ).to_be_visible()
        expect(page.locator("table.cmp").filter(has_text="parameter that differs")
               .filter(has_text="(not set)")).to_have_count(0)
