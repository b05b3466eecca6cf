"""The status grid in a real browser: colors, legend, a click, a live change, 2,000 runs.

Each test serves the grid alone with ``pn.serve(threaded=True)`` on a free
port and reads the cells through the figure named ``status-grid`` (the hook
documented in ``dashboard.views.status_grid``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import panel as pn
import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dashboard.session import SessionState
from dashboard.views.status_grid import FIRST_RUNS, GROWTH, LOAD_MARGIN, StatusGrid
from lute_model.discovery import ExperimentSource
from lute_model.experiment import Experiment
from lute_model.status import ALL_STATUSES, PALETTE, TaskStatus
from lute_writers.lute_schema import record_task
from tests.support.browser import GRID_CELL_CENTER_JS as CELL_CENTER_JS
from tests.support.browser import GRID_CELLS_JS as CELLS_JS
from tests.support.browser import READY, rgb
from tests.support.experiments import write_big_experiment
from tests.support.servers import panel_server
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(120)

EXPERIMENT = "mfxp1001123"

#: Rows the figure's y range shows, bottom and top, as the browser has them.
Y_RANGE_JS = """() => {
  const fig = Bokeh.documents[0].get_model_by_name('status-grid');
  return [fig.y_range.start, fig.y_range.end];
}"""

#: The run at the top of the view, as a number (the grid's runs are numbers here).
TOP_RUN_JS = """() => {
  const fig = Bokeh.documents[0].get_model_by_name('status-grid');
  const data = fig.renderers[0].data_source.data, width = fig.x_range.factors.length;
  return Number(data.run[Math.floor(fig.y_range.end - 0.5) * width]);
}"""

Session = tuple[Experiment, list[StatusGrid]]


@pytest.fixture
def serve_grid() -> Iterator[Callable[[Experiment], tuple[str, list[StatusGrid]]]]:
    """Serve a StatusGrid per session on a free port; the grids are kept for assertions."""
    with ExitStack() as servers:

        def serve(experiment: Experiment) -> tuple[str, list[StatusGrid]]:
            grids: list[StatusGrid] = []

            def app() -> StatusGrid:
                grids.append(StatusGrid(experiment=experiment, session=SessionState()))
                return grids[-1]

            port = servers.enter_context(panel_server({"/": app}))
            return f"http://127.0.0.1:{port}", grids

        yield serve
    pn.state.reset()


def open_experiment(root: Path) -> Experiment:
    experiment = Experiment(ExperimentSource(root.name, root, [root / "work_dir" / "lute.db"],
                                             root / "stats" / "summary"))
    experiment.refresh()
    return experiment


@pytest.fixture
def example(example_copy: Callable[[str], Path]) -> Experiment:
    """mfxp1001123: 16 runs, 5 Tasks, every status LUTE has."""
    return open_experiment(example_copy(EXPERIMENT))


def open_grid(page: Page, url: str) -> list[dict[str, Any]]:
    page.goto(url)
    page.wait_for_function(READY)
    return page.evaluate(CELLS_JS)


def test_every_status_has_its_palette_color(page: Page, serve_grid, example: Experiment):
    url, _ = serve_grid(example)
    cells = open_grid(page, url)
    shown = {cell["status"] for cell in cells if cell["status"]}
    assert shown == {status.name for status in TaskStatus}
    for cell in cells:
        if cell["status"]:
            assert cell["color"] == PALETTE.by_name()[cell["status"]], cell
    expected = {(task, str(run)): row.status.name for (task, run), row in example.latest.items()}
    assert {(c["task"], c["run"]): c["status"] for c in cells if c["status"]} == expected


def test_legend_shows_each_status_color_and_count(page: Page, serve_grid, example: Experiment):
    url, _ = serve_grid(example)
    open_grid(page, url)
    for status in ALL_STATUSES:
        badge = page.locator(f".st-{status.name}")
        expect(badge).to_contain_text(f"{status.name} {example.counts[status.name]}")
        expect(badge).to_have_css("background-color", rgb(PALETTE[status]))


def test_clicking_a_cell_opens_that_task_and_run(page: Page, serve_grid, example: Experiment):
    url, grids = serve_grid(example)
    cells = open_grid(page, url)
    target = next(c for c in cells if c["status"] == "FAILED")
    point = page.evaluate(CELL_CENTER_JS, [target["task"], target["y"]])
    page.mouse.click(point["x"], point["y"])
    session = grids[0].session
    wait_until(lambda: session.task == target["task"] and session.run == target["run"])
    assert session.view == "overview"


def test_new_execution_turns_its_cell_color_without_reload(page: Page, serve_grid,
                                                          example: Experiment):
    url, _ = serve_grid(example)
    open_grid(page, url)
    db = str(example.source.databases[0])
    record_task(db, task="TestBinary", run="38", status=TaskStatus.RUNNING, experiment=EXPERIMENT)
    record_task(db, task="Test", run="37", status=TaskStatus.FAILED, experiment=EXPERIMENT)
    example.refresh()
    page.wait_for_function(f"""() => {{
      const cells = ({CELLS_JS})();
      const color = (task, run) => cells.find(c => c.task == task && c.run == run)?.color;
      return color('TestBinary', '38') == '{PALETTE[TaskStatus.RUNNING]}'
          && color('Test', '37') == '{PALETTE[TaskStatus.FAILED]}';
    }}""")
    start, end = page.evaluate(Y_RANGE_JS)
    newest = max(c["y"] for c in page.evaluate(CELLS_JS))
    assert start < newest < end, "the view at the top keeps showing the newest run"


def test_two_thousand_runs_render_with_the_newest_on_top(page: Page, serve_grid, tmp_path: Path):
    write_big_experiment(tmp_path / "big", runs=2000, tasks=20)
    experiment = open_experiment(tmp_path / "big")
    url, grids = serve_grid(experiment)
    page.goto(url)
    page.wait_for_function(READY)
    # The page opens with the newest runs only; the legend counts every run.
    page.wait_for_function(f"() => ({CELLS_JS})().length === {FIRST_RUNS * 20}")
    expect(page.get_by_text("2000 runs × 20 Tasks")).to_be_visible()
    cells = page.evaluate(CELLS_JS)
    top = max(cells, key=lambda c: c["y"])
    assert top["run"] == "1999"
    assert min(int(c["run"]) for c in cells) == 2000 - FIRST_RUNS
    start, end = page.evaluate(Y_RANGE_JS)
    assert end == pytest.approx(top["y"] + 0.5)
    assert end - start <= 60, "the default view shows only the newest few dozen runs"
    page.wait_for_timeout(1000)
    assert len(page.evaluate(CELLS_JS)) == FIRST_RUNS * 20, "nothing more unless scrolled"

    # Scrolling down to the oldest run held brings older ones, the view where it was.
    def view_runs() -> tuple[int, int] | None:
        """The runs at the bottom and top of the view, once the server has the same view."""
        low, high = page.evaluate(Y_RANGE_JS)
        figure = grids[0]._figure
        if [figure.y_range.start, figure.y_range.end] != [low, high]:
            return None
        runs = grids[0]._runs
        return int(runs[round(low + 0.5)]), int(runs[round(high - 0.5)])

    point = page.evaluate(CELL_CENTER_JS, [cells[0]["task"], top["y"] - 5])
    page.mouse.move(point["x"], point["y"])
    for _wheel in range(100):  # one wheel at a time, each heard by the server
        if len(page.evaluate(CELLS_JS)) > FIRST_RUNS * 20:
            break
        page.mouse.wheel(0, 300)
        wait_until(view_runs, timeout=30)
        page.wait_for_timeout(100)
    page.wait_for_function(f"() => ({CELLS_JS})().length === {FIRST_RUNS * GROWTH * 20}")
    bottom, _shown_top = wait_until(view_runs, timeout=30)
    assert 2000 - FIRST_RUNS - 2 * LOAD_MARGIN <= bottom <= 2000 - FIRST_RUNS + LOAD_MARGIN, (
        "the view stays on the runs it showed when the older ones came")


def test_scrolling_to_older_runs_keeps_symbols_and_position(page: Page, serve_grid,
                                                           tmp_path: Path):
    write_big_experiment(tmp_path / "big", runs=2000, tasks=20)
    experiment = open_experiment(tmp_path / "big")
    url, grids = serve_grid(experiment)
    cells = open_grid(page, url)
    near_top = max(cell["y"] for cell in cells) - 9
    point = page.evaluate(CELL_CENTER_JS, [cells[0]["task"], near_top])
    page.mouse.move(point["x"], point["y"])
    for _attempt in range(5):  # a busy machine can drop a wheel event sent too early
        page.mouse.wheel(0, 600)
        try:
            # By run, not by row: a scroll that reaches the oldest run held brings older
            # runs, and the rows are numbered anew (the view stays on the same runs).
            page.wait_for_function(f"() => ({TOP_RUN_JS})() < 1990", timeout=6000)
            break
        except PlaywrightTimeoutError:
            continue
    else:
        raise AssertionError("the grid never scrolled")

    def view() -> tuple[int, int] | None:
        """The runs at the bottom and top of the view, once the server has the same view
        and the older runs the scroll may have asked for have come."""
        low, high = page.evaluate(Y_RANGE_JS)
        grid = grids[0]
        if [grid._figure.y_range.start, grid._figure.y_range.end] != [low, high] or grid._loading:
            return None
        return int(grid._runs[round(low + 0.5)]), int(grid._runs[round(high - 0.5)])

    def settled() -> tuple[int, int] | None:
        """The view, read twice a moment apart with the same runs (not mid-rebuild)."""
        first = view()
        page.wait_for_timeout(300)
        return first if first is not None and view() == first else None

    shown = wait_until(settled, timeout=30)
    page.wait_for_function("""() => {
      const fig = Bokeh.documents[0].get_model_by_name('status-grid');
      const ys = fig.renderers[1].data_source.data.y;
      const start = fig.y_range.start, end = fig.y_range.end;
      return ys.length > 0 && Math.min(...ys) >= start - 0.5 && Math.max(...ys) <= end + 0.5;
    }""")
    record_task(str(experiment.source.databases[0]), task="Task00", run="2000",
                status=TaskStatus.RUNNING)
    experiment.refresh()
    page.wait_for_function(f"() => ({CELLS_JS})().some(c => c.run == '2000')")
    wait_until(lambda: settled() == shown, timeout=30)  # no jump while reading: the same runs

