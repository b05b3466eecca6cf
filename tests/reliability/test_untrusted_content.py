"""Untrusted HTML and names through the real app, in chromium; and nothing is ever written.

One server and one browser session visit every screen of an experiment whose
Task names, runs, parameters, summaries, display names and reports were made
by someone hostile: nothing runs, nothing escapes the report frame, and every
file of the result directory is byte for byte (and mtime for mtime) as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, expect

from lute_model.status import TaskStatus
from lute_writers.journal import append_event
from lute_writers.lute_schema import record_task
from tests.support.browser import LISTEN_TO_REPORTS, READY
from tests.support.experiments import add_page, build_experiment
from tests.support.servers import free_port

XSS_TASK = "<img src=x onerror=window.__xss=1>"
XSS_TEXT = "<script>window.__xss=2</script><img src=x onerror=window.__xss=3>"
XSS_RUN = "<svg onload=window.__xss=4>"
XSS_TAB = "<img src=x onerror=window.__xss=5>"
QUOTE_BREAK = "q\" onload=\"window.__xss=6\" x='"
STRANGE = "a#b?c"
PARENT_SECRET = "dashboard-session-cookie-7f3a"

HOSTILE_REPORT = """<!DOCTYPE html><html><body><form id="f" method="post" target="_top"
 action="/?submitted=1"><input name="x" value="1"></form><script>
const said = {};
const tryit = (name, attempt) => {
  try { said[name] = "read: " + attempt(); } catch (err) { said[name] = "blocked: " + err.name; }
};
tryit("own_cookie", () => document.cookie);
tryit("parent_cookie", () => parent.document.cookie);
tryit("parent_page", () => parent.document.body.innerHTML.length);
tryit("top_navigation", () => { top.location = "/?navigated=1"; return "assigned"; });
tryit("form_submit", () => { document.getElementById("f").submit(); return "submitted"; });
const socket = new Promise((done) => {
  try {
    const ws = new WebSocket("ws://" + "127.0.0.1:PORT" + "/ws");
    ws.onopen = () => done("read: open");
    ws.onerror = () => done("blocked: error");
  } catch (err) { done("blocked: " + err.name); }
});
socket.then((result) => {
  said.websocket = result;
  parent.postMessage(JSON.stringify(said), "*");
});
</script></body></html>"""


def hostile_experiment(root: Path, port: int) -> Path:
    folder = build_experiment(root, runs=2)
    db = str(folder / "work_dir" / "lute.db")
    summary = folder / "stats" / "summary"
    facility = "/sdf/data/lcls/ds/mfx/mfxp1001123/stats/summary"
    add_page(summary, "hostile/page", HOSTILE_REPORT.replace("PORT", str(port)))
    add_page(summary, f"{XSS_TAB}/{XSS_TAB}", "<p>odd names</p>")
    add_page(summary, f"quotes/{QUOTE_BREAK}", "<p>quotes</p>")
    add_page(summary, f"named/{STRANGE}", "<p>hash and question mark</p>")
    (summary / XSS_TASK).symlink_to("/tmp")  # a problem whose path is markup
    record_task(db, task=XSS_TASK, run="1", status=TaskStatus.FAILED, summary=XSS_TEXT,
                parameters={"<b>param</b>": XSS_TEXT}, experiment="mfxp1001123")
    record_task(db, task="SubmitSMD", run="1", status=TaskStatus.COMPLETED,
                summary=f"{facility}/hostile/page/report.html", experiment="mfxp1001123")
    record_task(db, task="SubmitSMD", run=XSS_RUN, status=TaskStatus.COMPLETED,
                summary=XSS_TEXT, experiment="mfxp1001123")
    record_task(db, task="BigPayload", run="1", status=TaskStatus.COMPLETED,
                payload=b"P" * 100_000_000, experiment="mfxp1001123")
    journal = folder / "work_dir" / "lute_status.jsonl"
    append_event(journal, task="FindPeaksPyAlgos", run="3", status="RUNNING", message=XSS_TEXT)
    with open(journal, "ab") as handle:
        handle.write(b"not json " + XSS_TEXT.encode() + b"\n")
    return folder


def goto(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(READY, timeout=30_000)


def open_page(page: Page, display_name: str) -> None:
    """Choose a summary page as a person does: its tab, then the page, in the listboxes."""
    tab, name = display_name.split("/", 1)
    page.locator(".lb-named select").select_option(tab)
    # A page's label can carry a note ("no database row"): pick it by its text.
    option = page.locator(".lb-pages select option").filter(has_text=name).first
    page.locator(".lb-pages select").select_option(option.get_attribute("value"))


def test_hostile_content_is_text_everywhere_and_nothing_is_written(
        serve, tmp_path: Path, unchanged, page: Page):
    port_hint = free_port()
    folder = hostile_experiment(tmp_path, port_hint)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.context.add_cookies([{"name": "session", "value": PARENT_SECRET,
                               "url": "http://127.0.0.1"}])
    page.add_init_script(LISTEN_TO_REPORTS)
    with unchanged(folder), serve(folder) as url:
        # The hostile report knows the server's real websocket URL.
        page_html = (folder / "stats/summary/hostile/page/report.html")
        assert str(port_hint) in page_html.read_text()
        base = f"{url}/?exp=mfxp1001123"
        frame = page.frame_locator("iframe[title^='Summary page']")
        # Task table and the Task detail of the hostile Task: one page load for everything.
        goto(page, f"{base}&view=tasks&task={quote(XSS_TASK)}&run=1")
        expect(page.locator("h3.title").filter(has_text=XSS_TASK)).to_be_visible(timeout=20_000)
        expect(page.locator(".tabulator-cell").filter(has_text=XSS_TASK).first).to_be_visible()
        expect(page.locator(".tabulator-cell").filter(has_text=XSS_TEXT[:30]).first
               ).to_be_visible()
        # The Task filter (Bokeh's MultiChoice renders its labels as HTML) lists it as text.
        page.locator(".choices").first.click()
        expect(page.locator(".choices__list--dropdown").get_by_text(XSS_TASK)).to_be_visible()
        page.keyboard.press("Escape")
        # Overview: hover every part of the grid.
        page.get_by_text("Overview", exact=True).click()
        grid = page.locator(".bk-Canvas").first
        expect(grid).to_be_visible()
        box = grid.bounding_box()
        for i in range(1, 6):
            for j in range(1, 6):
                page.mouse.move(box["x"] + box["width"] * i / 6, box["y"] + box["height"] * j / 6)
        # Summary pages: the odd names are listed and open by their quoted URL.
        page.get_by_text("Summary pages", exact=True).click()
        for display_name, text in ((f"{XSS_TAB}/{XSS_TAB}", "odd names"),
                                   (f"quotes/{QUOTE_BREAK}", "quotes"),
                                   (f"named/{STRANGE}", "hash and question mark")):
            open_page(page, display_name)
            expect(frame.locator("p")).to_have_text(text, timeout=20_000)
        # The hostile report, in the app's own frame.
        open_page(page, "hostile/page")
        page.wait_for_function("() => window.reportSaid && window.reportSaid.length > 0",
                               timeout=20_000)
        origin, message = page.evaluate("window.reportSaid[0]")
        top_url = page.url
        # Problems.
        page.get_by_text("Problems (", exact=False).first.click()
        expect(page.get_by_text("not followed").first).to_be_visible(timeout=20_000)
        # A 100 MB payload: its size is shown, its bytes never sent unless asked for.
        received: list[int] = []
        page.on("websocket", lambda ws: ws.on(
            "framereceived", lambda frame: received.append(len(frame))))
        goto(page, f"{base}&view=tasks&task=BigPayload&run=1")
        expect(page.get_by_text("100,000,000 bytes").first).to_be_visible(timeout=20_000)
        assert sum(received) < 10 * 2**20, sum(received)
        assert len(page.content()) < 2**20
        xss = page.evaluate("() => window.__xss")
    assert xss is None
    assert origin == "null"
    said = json.loads(message)
    assert set(said) == {"own_cookie", "parent_cookie", "parent_page", "top_navigation",
                         "form_submit", "websocket"}, said
    assert said["own_cookie"] in ("read: ", "blocked: SecurityError"), said
    assert said["parent_cookie"].startswith("blocked"), said
    assert said["parent_page"].startswith("blocked"), said
    assert said["websocket"].startswith("blocked"), said
    assert PARENT_SECRET not in message
    # Navigation and form submission may "succeed" in script, but the browser never goes.
    assert "navigated" not in top_url and "submitted" not in top_url
    assert not [u for u in requests if "navigated=1" in u or "submitted=1" in u]


def test_a_display_name_cannot_break_out_of_the_frame_markup():
    """Quotes crafted to close an attribute (and open ``srcdoc``/``onload``) stay text."""
    from html.parser import HTMLParser

    from dashboard.views.report_frame import report_iframe_html, report_url

    class Frames(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, dict]] = []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))

    for name in (f"quotes/{QUOTE_BREAK}", "a/\"><script>window.__xss=1</script>",
                 "a/' srcdoc='<script>x</script>", "a/\" srcdoc=\"<script>x</script>"):
        parser = Frames()
        parser.feed(report_iframe_html(report_url("", "exp", name), name))
        assert [tag for tag, _ in parser.tags] == ["iframe"]
        attrs = parser.tags[0][1]
        assert set(attrs) == {"src", "title", "sandbox", "referrerpolicy", "loading", "style"}
        assert attrs["title"] == name and attrs["sandbox"] == "allow-scripts"
