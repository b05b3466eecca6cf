"""Trends in the browser: values against run, a point opens its run, new runs arrive live."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from lute_model.status import TaskStatus
from lute_model.trends import value_table
from lute_writers.journal import JOURNAL_NAME, append_event
from lute_writers.lute_schema import record_task
from tests.support.browser import ACTIVE_TAB, detail_title, open_dashboard, query
from tests.support.experiments import CXI, copy_of, read_experiment

pytestmark = pytest.mark.timeout(180)

HIT_RATE = ("FindPeaksPyAlgos", "Fractional hit rate")
INDEXING = ("IndexCrystFEL", "Indexing rate")
EVENTS = ("FindPeaksPyAlgos", "Number of events processed")
LINK = "trend=IndexCrystFEL:Indexing%20rate|FindPeaksPyAlgos:Fractional%20hit%20rate"

#: The trend figure on screen.  A redraw replaces the figure, and BokehJS keeps the
#: old model in its document (unshown), so the one with a view is the one drawn.
FIGURE_JS = """() => [...Bokeh.documents[0]._all_models.values()].find(
  m => m.name === 'trend-plot' && Bokeh.index.find_one(m))"""

#: Every drawn series as the browser holds it: [{runs, values}], in the order chosen.
SERIES_JS = f"""() => {{
  const fig = ({FIGURE_JS})();
  if (!fig) return [];
  return fig.renderers.filter(r => r.glyph && r.glyph.type === 'Scatter').map(r => {{
    const data = r.data_source.data;
    const column = Object.keys(data).find(name => name !== 'run');
    return {{runs: Array.from(data.run), values: Array.from(data[column])}};
  }});
}}"""

#: Page coordinates of one point ([series, run]) from the figure's scales.
POINT_JS = """([series, run]) => {
  const fig = Bokeh.documents[0].get_model_by_name('trend-plot');  // drawn once: only one
  const renderer = fig.renderers.filter(r => r.glyph && r.glyph.type === 'Scatter')[series];
  const data = renderer.data_source.data;
  const column = Object.keys(data).find(name => name !== 'run');
  const i = Array.from(data.run).indexOf(run);
  const view = Bokeh.index.find_one(fig);
  const box = view.canvas_view.el.getBoundingClientRect();
  const y_scale = view.frame.y_scales.get(renderer.y_range_name);
  return {x: box.left + view.frame.x_scale.compute(run),
          y: box.top + y_scale.compute(data[column][i])};
}"""


def expected(folder: Path, spec: tuple[str, str]) -> dict[str, list]:
    """What the model says a trend holds."""
    series = value_table(read_experiment(folder)).series(spec)
    return {"runs": series.runs, "values": series.values}


def drawn(page: Page, count: int) -> list[dict[str, Any]]:
    page.wait_for_function(f"() => ({SERIES_JS})().length === {count}", timeout=30_000)
    return page.evaluate(SERIES_JS)


def wait_for_point(page: Page, series: int, run: int, value: float) -> None:
    page.wait_for_function(
        f"""([s, run, value]) => {{
          const series = ({SERIES_JS})()[s];
          if (!series) return false;
          const i = series.runs.indexOf(run);
          return i >= 0 && Math.abs(series.values[i] - value) < 1e-9;
        }}""", arg=[series, run, value], timeout=20_000)


@pytest.fixture
def cxi(tmp_path: Path) -> Path:
    return copy_of(tmp_path, CXI) / CXI


def test_a_trend_link_draws_each_value_against_run(page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&{LINK}")
        expect(page.locator(ACTIVE_TAB)).to_have_text("Trends")
        assert drawn(page, 2) == [expected(cxi, INDEXING), expected(cxi, HIT_RATE)]
        expect(page.get_by_text("IndexCrystFEL · Indexing rate").first).to_be_visible()


def test_clicking_a_point_opens_that_runs_task_detail(page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        page.set_viewport_size({"width": 1600, "height": 900})
        open_dashboard(page, f"{url}/?exp={CXI}&trend=IndexCrystFEL:Indexing%20rate")
        drawn(page, 1)
        point = page.evaluate(POINT_JS, [0, 12])
        page.mouse.click(point["x"], point["y"])
        expect(detail_title(page, "IndexCrystFEL", "12")).to_be_visible()
        assert query(page)["task"] == "IndexCrystFEL" and query(page)["run"] == "12"
        expect(page.locator(ACTIVE_TAB)).to_have_text("Trends")  # the trend stays beside it


def test_new_runs_appear_in_the_open_trend_without_redrawing_it(
        page: Page, serve: Callable, cxi: Path):
    work = cxi / "work_dir"
    with serve(cxi, extra=("--poll", "0.5")) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&{LINK}")
        drawn(page, 2)
        # Marks the browser's data source: a redraw would replace it, a stream keeps it.
        page.evaluate("""() => {
          const fig = Bokeh.documents[0].get_model_by_name('trend-plot');
          fig.renderers.forEach(r => { r.data_source.__kept = true; });
        }""")
        record_task(str(work / "lute.db"), task="IndexCrystFEL", run="19",
                    status=TaskStatus.COMPLETED, layout="v2", experiment=CXI,
                    summary="Number of lattices indexed: 201;Indexing rate: 0.66")
        wait_for_point(page, 0, 19, 0.66)
        append_event(work / JOURNAL_NAME, task="FindPeaksPyAlgos", run="20",
                     status="COMPLETED", message="Number of hits found: 9077;"
                                                 "Fractional hit rate: 0.42")
        wait_for_point(page, 1, 20, 0.42)
        kept = page.evaluate("""() => Bokeh.documents[0].get_model_by_name('trend-plot')
          .renderers.filter(r => r.glyph.type === 'Scatter').every(r => r.data_source.__kept)""")
        assert kept, "the trend was redrawn instead of streamed"
        expect(page.get_by_text(re.compile(r"Indexing rate: 12 points, runs 7–19"))).to_be_visible()


def test_choosing_values_puts_them_in_the_link_and_back_returns(
        page: Page, serve: Callable, cxi: Path):
    with serve(cxi) as url:
        open_dashboard(page, f"{url}/?exp={CXI}&view=trends")
        # Nothing chosen: the (first) value of the most runs, without writing the link.
        assert drawn(page, 1) == [expected(cxi, EVENTS)]
        chooser = page.locator("select[multiple]")
        chooser.select_option(label=["FindPeaksPyAlgos · Fractional hit rate",
                                     "IndexCrystFEL · Indexing rate"])
        expect(page).to_have_url(re.compile("trend="))
        assert query(page)["trend"] == "FindPeaksPyAlgos:Fractional hit rate|" \
                                       "IndexCrystFEL:Indexing rate"
        assert drawn(page, 2)[1] == expected(cxi, INDEXING)
        page.go_back()
        assert drawn(page, 1) == [expected(cxi, EVENTS)]
        assert "trend" not in query(page)
