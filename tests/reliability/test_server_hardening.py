"""The real ``lute-dashboard serve`` under load and attack: bursts, big pages, hosts, logins.

The bursts reuse ``bench/burst.py``'s load (raw sockets to 127.0.0.1, bounded
in count and time, ``/liveness`` probed and RSS sampled meanwhile), so the
bench and the tests measure the same thing.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import bokeh
from playwright.sync_api import Page, expect

from bench.burst import Burst, big_page, burst
from dashboard.auth import FREE_FAILURES
from lute_model.status import TaskStatus
from lute_writers.lute_schema import record_task
from tests.support.browser import READY
from tests.support.experiments import EXPERIMENT, add_page, build_experiment
from tests.support.http import PASSWORD, browser_opener, raw_get, status_of

REPORT = f"/reports/{EXPERIMENT}/r0001/powders/report.html"


def run_burst(url: Any, target: str, count: int, settle: float) -> Burst:
    """``bench.burst.burst`` against a test server, in a thread of its own (Playwright's
    sync API may own this thread's event loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, burst(url.pid, url.port, target, count, settle=settle,
                                              timeout=90)).result()


# -- 3: many page loads at once -------------------------------------------------------


def test_two_hundred_page_loads_at_once_leave_the_server_answering(serve, experiment_dir: Path):
    with serve(experiment_dir, extra=("--unused-session-lifetime", "3000")) as url:
        result = run_burst(url, "/", 200, settle=10)
    statuses = result.statuses
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[200] >= 1, statuses
    busy = [a for a in result.answers if a.status == 503]
    assert all(int(a.headers["retry-after"]) >= 1 for a in busy)
    assert max(result.probes) < 2.0, f"/liveness took {max(result.probes):.1f} s"
    assert result.last_answer < 60, f"the last page load was answered after {result.last_answer}"
    assert max(result.rss) - result.rss_before < 100, (result.rss_before, max(result.rss))
    assert result.rss_after - result.rss_before < 60, (result.rss_before, result.rss_after)


# -- 4: big pages ------------------------------------------------------------------------


def test_thirty_parallel_reads_of_a_60_mb_page_stay_within_a_memory_budget(serve,
                                                                         tmp_path: Path):
    folder = build_experiment(tmp_path)
    add_page(folder / "stats" / "summary", "big/page", big_page(60))
    with serve(folder) as url:
        result = run_burst(url, f"/reports/{EXPERIMENT}/big/page/report.html", 30, settle=1)
    assert result.statuses == {200: 30}, result.statuses
    assert {a.size for a in result.answers} == {result.answers[0].size}
    assert result.answers[0].size > 59 * 2**20
    for answer in result.answers:
        assert f"lute-js/bokeh/{bokeh.__version__}/js/bokeh".encode() in answer.head
        assert answer.tail.endswith(b"<p>big page</p></body></html>")
    growth = max(result.rss) - result.rss_before
    assert growth < 150, f"RSS grew by {growth:.0f} MB while 30 × 60 MB were read"
    assert max(result.probes) < 2.0, f"/liveness took {max(result.probes):.1f} s"


def test_a_page_named_with_a_trailing_slash_is_the_page_not_a_download(serve, tmp_path: Path):
    folder = build_experiment(tmp_path)
    huge = add_page(folder / "stats" / "summary", "huge/page", b"<html>")
    with open(huge, "r+b") as file:
        file.truncate(65 * 2**20)  # sparse: over the size limit, no disk space needed
    with serve(folder) as url:
        for target, shown in ((REPORT, b"powders of run 1"),
                              (f"/reports/{EXPERIMENT}/huge/page/report.html",
                               b"too large to show")):
            status, response = raw_get(url.port, target.encode() + b"/")
            assert status == 302, response[:300]
            assert b"\r\nLocation: ../report.html\r\n" in response
            with urllib.request.urlopen(url + target + "/", timeout=30) as page:
                body = page.read()
                assert page.url == url + target
                assert page.headers["Content-Type"] == "text/html; charset=utf-8"
                assert "sandbox" in page.headers["Content-Security-Policy"]
            assert shown in body and len(body) < 2**20


def test_a_huge_summary_shows_only_its_first_megabyte(serve, tmp_path: Path, page: Page):
    folder = build_experiment(tmp_path)
    record_task(str(folder / "work_dir" / "lute.db"), task="BigSummary", run="1",
                status=TaskStatus.COMPLETED, summary="s" * 30_000_000, experiment=EXPERIMENT)
    received: list[int] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda frame: received.append(len(frame))))
    # At 1280 px the Task table covers part of the detail (a layout matter of its own).
    page.set_viewport_size({"width": 1600, "height": 1000})
    with serve(folder) as url:
        page.goto(f"{url}/?exp={EXPERIMENT}&view=tasks&task=BigSummary&run=1")
        page.wait_for_function(READY, timeout=30_000)
        button = page.get_by_role("button", name=re.compile(r"^Show (whole summary|its first)"))
        expect(button).to_be_visible(timeout=30_000)
        before = sum(received)
        button.click()
        expect(page.get_by_text("only its first 1 MB is shown")).to_be_visible(timeout=30_000)
    sent = sum(received) - before
    assert sent < 8 * 2**20, f"{sent / 2**20:.0f} MB went to the browser"


# -- 6: hosts, logins ------------------------------------------------------------------


def host_status(port: int, target: str, host: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", target, headers={"Host": host})
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_host_name_the_server_was_not_given_is_refused_on_every_route(serve,
                                                                        experiment_dir: Path):
    targets = ["/", "/liveness", REPORT, "/ws", "/static/js/bokeh.min.js",
               f"/lute-js/bokeh/{bokeh.__version__}/js/bokeh.min.js", "/no/such/route"]
    with serve(experiment_dir, extra=("--allow-websocket-origin", "dash.example:5006")) as url:
        port = url.port
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}",
                     f"dash.example.evil.example:{port}", f"localhost.:{port}"):
            assert {target: host_status(port, target, host) for target in targets} == dict.fromkeys(
                targets, 400), host
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "dash.example:5006",
                     f"DASH.example:{port}"):
            assert host_status(port, "/liveness", host) == 200, host
            assert host_status(port, REPORT, host) == 200, host
        assert host_status(port, "/", f"localhost:{port}") == 200


def _login(opener: urllib.request.OpenerDirector, url: str,
           password: str) -> tuple[int, dict[str, str]]:
    data = f"username=scientist&password={password}".encode()
    try:
        with opener.open(url + "/login", data=data, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers)


def test_a_login_cookie_stops_working_after_logout(serve, experiment_dir: Path, auth_file: Path):
    with serve(experiment_dir, extra=("--basic-auth", str(auth_file))) as url:
        browser = browser_opener()
        status_of(browser, url + "/login")
        status, headers = _login(browser, url, PASSWORD)
        assert status == 302 and "error" not in headers["Location"]
        assert status_of(browser, url + REPORT)[0] == 200
        jar = next(h.cookiejar for h in browser.handlers
                   if isinstance(h, urllib.request.HTTPCookieProcessor))
        copied = "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)
        assert status_of(browser, url + "/logout")[0] == 200
        thief = browser_opener()
        thief.addheaders = [("Cookie", copied)]
        status, location = status_of(thief, url + REPORT)
        assert status in (302, 303) and "login" in location
        status, location = status_of(thief, url + "/")
        assert status in (302, 303) and "login" in location


def test_failed_logins_make_the_next_attempts_wait(serve, experiment_dir: Path,
                                                   auth_file: Path):
    with serve(experiment_dir, extra=("--basic-auth", str(auth_file))) as url:
        guesser = browser_opener()
        status_of(guesser, url + "/login")
        answers = [_login(guesser, url, f"guess{n}") for n in range(FREE_FAILURES + 10)]
        assert all(status == 302 and "error" in headers["Location"]
                   for status, headers in answers[:FREE_FAILURES]), answers[:FREE_FAILURES]
        assert [status for status, _ in answers[FREE_FAILURES:]] == [429] * 10
        assert all(int(headers["Retry-After"]) >= 1 for _, headers in answers[FREE_FAILURES:])
        # While the wait lasts, not even the right password is looked at...
        assert _login(guesser, url, PASSWORD)[0] == 429
        assert status_of(guesser, url + REPORT)[0] in (302, 303)
        # ... and the server does not wait with it: everything else is answered at once.
        started = time.perf_counter()
        assert status_of(browser_opener(), url + "/liveness")[0] == 200
        assert time.perf_counter() - started < 1.0
        # After the wait the right password logs in.
        deadline = time.monotonic() + 10
        while (status := _login(guesser, url, PASSWORD)[0]) == 429:
            assert time.monotonic() < deadline, "still refused after 10 s"
            time.sleep(0.2)
        assert status == 302
        assert status_of(guesser, url + REPORT)[0] == 200


def test_autoload_js_without_a_login_is_refused_without_a_traceback(serve, experiment_dir: Path,
                                                                    auth_file: Path):
    with serve(experiment_dir, extra=("--basic-auth", str(auth_file))) as url:
        target = (f"/autoload.js?bokeh-autoload-element=el&bokeh-app-path=/"
                  f"&bokeh-absolute-url={url}")
        for _ in range(3):
            assert status_of(browser_opener(), url + target)[0] in (401, 403)
        assert status_of(browser_opener(), url + "/liveness")[0] == 200  # the log is written by now
        log = url.log()
    assert "Traceback" not in log and "Uncaught exception" not in log, log[-3000:]
