"""Summary pages in a real browser: they render with no internet, and cannot touch the dashboard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import panel as pn
import pytest
from playwright.sync_api import Page, Route, expect

from dashboard.server import report_patterns
from dashboard.views.report_frame import report_iframe_html, report_url
from tests.support.browser import LISTEN_TO_REPORTS
from tests.support.servers import panel_server

DATA = Path(__file__).parents[1] / "data"
PARENT_SECRET = "s3cret-session-token"

HOSTILE_REPORT = """<!DOCTYPE html><html><body><script>
const tries = {
  own_cookie: () => document.cookie,
  parent_cookie: () => parent.document.cookie,
  parent_page: () => parent.document.body.innerHTML,
  parent_url: () => parent.location.href,
  storage: () => localStorage.getItem("x"),
};
const said = {};
for (const [name, attempt] of Object.entries(tries)) {
  try { said[name] = "read: " + attempt(); } catch (err) { said[name] = "blocked: " + err.name; }
}
fetch("/reports/evil/page/report.html").then(
  () => { said.fetch = "read"; }, (err) => { said.fetch = "blocked: " + err.name; }
).finally(() => parent.postMessage(JSON.stringify(said), "*"));
</script></body></html>"""

#: Installed in every frame; only the top page keeps what is posted to it (as text:
#: the page's own es-module-shims posts arrays).
def _framed(experiment: str, display_name: str):
    """The dashboard's way of showing a summary page, as a tiny Panel app."""
    url = report_url("", experiment, display_name)
    return lambda: pn.pane.HTML(report_iframe_html(url, display_name),
                                sizing_mode="stretch_width", height=700)


@pytest.fixture(scope="module")
def base_url_of_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    evil = tmp_path_factory.mktemp("evil") / "summary"
    (evil / "page").mkdir(parents=True)
    (evil / "page" / "report.html").write_text(HOSTILE_REPORT)
    roots = {"cxil1005322": DATA / "cxil1005322" / "stats" / "summary", "evil": evil}
    apps = {"lute": _framed("cxil1005322", "r7/powders"), "hostile": _framed("evil", "page")}
    with panel_server(apps, extra_patterns=report_patterns(lambda: roots)) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def offline_page(page: Page) -> Iterator[tuple[Page, list[str]]]:
    """The browser as on the beamline network: every request to another host fails."""
    aborted: list[str] = []

    def only_this_machine(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_machine)
    yield page, aborted


def test_a_lute_report_renders_its_plots_with_no_internet(
        offline_page: tuple[Page, list[str]], base_url_of_dashboard: str):
    page, aborted = offline_page
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(f"{base_url_of_dashboard}/lute")
    report = page.frame_locator("iframe")
    expect(report.locator(".bk-Canvas").first).to_be_visible(timeout=30_000)
    frame = next(f for f in page.frames if f.url.endswith("/r7/powders/report.html"))
    frame.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0")
    assert aborted == []  # the CDN links were rewritten: nothing even tried to leave
    assert failed == []


def test_a_hostile_report_cannot_read_the_dashboard(
        offline_page: tuple[Page, list[str]], base_url_of_dashboard: str):
    page, aborted = offline_page
    page.context.add_cookies([{"name": "session", "value": PARENT_SECRET,
                               "url": base_url_of_dashboard}])
    page.add_init_script(LISTEN_TO_REPORTS)
    page.goto(f"{base_url_of_dashboard}/hostile")
    assert PARENT_SECRET in page.evaluate("document.cookie")  # there is something to steal
    page.wait_for_function("() => window.reportSaid.length > 0")
    origin, message = page.evaluate("window.reportSaid[0]")
    assert origin == "null"  # the report runs in an opaque origin, not the dashboard's
    said = json.loads(message)
    assert set(said) == {"own_cookie", "parent_cookie", "parent_page", "parent_url", "storage",
                         "fetch"}
    assert all(value.startswith("blocked") for value in said.values()), said
    assert PARENT_SECRET not in json.dumps(said)
    assert aborted == []
