"""The real ``lute-dashboard serve`` (and plain ``panel serve`` with our plugin): hostile
report paths, websocket origins, listening, auth."""

from __future__ import annotations

import asyncio
import http.client
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

from playwright.sync_api import Page, expect
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.support.browser import READY, open_dashboard
from tests.support.experiments import add_page, build_experiment
from tests.support.http import PASSWORD, SECRET, browser_opener, hostile_targets, raw_get, status_of
from tests.support.servers import REPO, ServerProcess, free_port
from tests.support.waits import wait_until

#: The installed bokeh: its JavaScript is served whatever the reports name.
BOKEH = version("bokeh")


def trap_experiment(root: Path) -> tuple[Path, Path]:
    """An experiment named ``exp`` whose summary folder is full of ways out, secrets around it.

    Laid out as ``hostile_targets`` expects: its ``tmp_path`` is the folder
    holding ``summary``, ``summary_old`` and ``secret.txt``.
    """
    folder = build_experiment(root, name="exp", runs=1)
    stats = folder / "stats"
    summary = stats / "summary"
    (stats / "secret.txt").write_text(SECRET)
    (folder / "work_dir" / "secret.html").write_text(SECRET)
    add_page(stats / "summary_old", "r1/page", f"<p>{SECRET}</p>")
    (stats / "summary_old" / "secret.html").write_text(SECRET)
    add_page(summary, "r1/page", "<p>run 1 powders</p>")
    (summary / "link_out.html").symlink_to(stats / "secret.txt")
    (summary / "dir_out").symlink_to(stats / "summary_old")
    os.link(stats / "secret.txt", summary / "hard.html")
    os.mkfifo(summary / "pipe.html")
    return folder, stats


def test_a_thousand_hostile_paths_get_nothing_out_of_the_real_server(serve, tmp_path: Path,
                                                                      unchanged):
    folder, stats = trap_experiment(tmp_path)
    targets = hostile_targets(stats)
    targets += [b"/reports/exp/../../work_dir/secret.html",
                b"/reports/exp/%2e%2e%2f%2e%2e%2fwork_dir%2fsecret.html",
                b"/reports/exp/..%2f..%2fwork_dir/secret.html",
                b"/static/..%2f..%2f..%2f..%2f" + str(stats / "secret.txt").encode(),
                f"/lute-js/bokeh/{BOKEH}/{'..%2f' * 12}{stats / 'secret.txt'}".encode()]
    assert len(targets) >= 1000
    with unchanged(folder), serve(folder) as url:
        port = url.port
        assert raw_get(port, b"/reports/exp/r1/page/report.html")[0] == 200  # the route is there
        escapes, statuses = [], {}
        for target in targets:
            status, response = raw_get(port, target)
            if SECRET.encode() in response:
                escapes.append(target[:120])
            statuses[status] = statuses.get(status, 0) + 1
    assert escapes == []
    assert set(statuses) <= {400, 403, 404}, statuses


async def _ws_status(port: int, origin: str) -> int:
    request = HTTPRequest(f"ws://127.0.0.1:{port}/ws", headers={"Origin": origin},
                          request_timeout=10)
    try:
        conn = await websocket_connect(request)
    except HTTPClientError as err:
        return err.code
    conn.close()
    return 101


def test_a_websocket_from_a_foreign_origin_is_refused(serve, experiment_dir: Path):
    with serve(experiment_dir) as url:
        port = url.port
        # In a thread of its own: Playwright's sync API may own this thread's event loop.
        with ThreadPoolExecutor(1) as pool:
            for origin in ("http://evil.example", f"http://evil.example:{port}", "null"):
                assert pool.submit(asyncio.run, _ws_status(port, origin)).result() == 403
            assert pool.submit(asyncio.run, _ws_status(port, url)).result() == 101


def test_listening_beyond_localhost_needs_the_allowed_origins(experiment_dir: Path):
    proc = subprocess.run([sys.executable, "-m", "dashboard.cli", "serve", str(experiment_dir),
                           "--address", "0.0.0.0", "--port", str(free_port())],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 2
    assert "needs --allow-websocket-origin" in proc.stderr


def test_sessions_work_without_a_cookie_secret(serve, experiment_dir: Path, page: Page):
    with serve(experiment_dir) as url:
        open_dashboard(page, url)
        expect(page.get_by_text("3 runs × 2 Tasks")).to_be_visible(timeout=30_000)


def test_basic_auth_guards_the_app_and_the_reports(serve, experiment_dir: Path,
                                                         auth_file: Path, page: Page):
    report = "/reports/mfxp1001123/r0001/powders/report.html"
    with serve(experiment_dir, extra=("--basic-auth", str(auth_file))) as url:
        anonymous = browser_opener()
        status, location = status_of(anonymous, url + "/")
        assert status in (302, 303) and "login" in location
        status, location = status_of(anonymous, url + report)
        assert status in (302, 303) and "login" in location
        # The JavaScript is public, as Bokeh's /static/ is: the sandboxed report
        # frame that loads it has an opaque origin and sends no login cookie.
        assert status_of(anonymous, url + f"/lute-js/bokeh/{BOKEH}/js/bokeh.min.js")[0] == 200
        assert status_of(anonymous, url + "/static/js/bokeh.min.js")[0] == 200
        # A forged user cookie is not a login.
        forged = browser_opener()
        forged.addheaders = [("Cookie", "user=scientist")]
        assert status_of(forged, url + report)[0] in (302, 303, 403)

        page.goto(url + "/")
        page.fill("input[name=username]", "scientist")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_function(READY, timeout=30_000)
        expect(page.get_by_text("3 runs × 2 Tasks")).to_be_visible(timeout=30_000)
        response = page.request.get(url + report)
        assert response.status == 200 and b"powders of run 1" in response.body()
        js = page.request.get(url + f"/lute-js/bokeh/{BOKEH}/js/bokeh.min.js")
        assert js.status == 200


def test_wrong_password_is_refused(serve, experiment_dir: Path, auth_file: Path):
    with serve(experiment_dir, extra=("--basic-auth", str(auth_file))) as url:
        opener = browser_opener()
        status_of(opener, url + "/login")
        status, location = status_of(opener, url + "/login",
                                     b"username=scientist&password=nope")
        assert "error" in location or status >= 400
        assert status_of(opener, url + "/reports/mfxp1001123/r0001/powders/report.html")[0] != 200


def test_a_logged_in_user_sees_a_lute_report_render_offline(serve, example_copy, tmp_path: Path,
                                                            auth_file: Path, page: Page):
    """The report frame and the scripts it loads from /lute-js/ carry the login too."""
    folder = example_copy("cxil1005322")
    blocked: list[str] = []
    failed: list[str] = []
    page.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url
               else (blocked.append(r.request.url), r.abort()))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    with serve(folder, extra=("--basic-auth", str(auth_file))) as url:
        page.goto(url + "/?page=r7/powders")
        page.fill("input[name=username]", "scientist")
        page.fill("input[name=password]", PASSWORD)
        # Panel's login page shows its logo from cdn.holoviz.org (broken offline): not ours.
        assert all("cdn.holoviz.org" in u for u in blocked)
        blocked.clear()
        page.click("button[type=submit], input[type=submit]")
        frame = page.frame_locator("iframe[title^='Summary page']")
        expect(frame.locator(".bk-Canvas").first).to_be_visible(timeout=30_000)
    assert blocked == []
    assert failed == []


def test_plain_panel_serve_with_the_plugin_serves_reports_and_nothing_else(tmp_path: Path,
                                                                          unchanged):
    folder, stats = trap_experiment(tmp_path)
    report = b"/reports/exp/r1/page/report.html"
    server = ServerProcess(lambda port: [
        "panel", "serve", "dashboard/app.py", "--plugins", "dashboard.plugin", "--port",
        str(port), "--liveness", "--warm", "--args", str(folder)])
    with unchanged(folder), server:
        # The experiment is read in the background after the start.
        _status, response = wait_until(lambda: (got := raw_get(server.port, report))[0] == 200
                                      and got, timeout=30)
        assert b"run 1 powders" in response and b"sandbox allow-scripts" in response
        targets = hostile_targets(stats)[::10]  # the full set is run on lute-dashboard serve
        assert [t for t in targets if SECRET.encode() in raw_get(server.port, t)[1]] == []
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", report.decode(), headers={"Host": f"evil.example:{server.port}"})
        assert conn.getresponse().status == 400  # a rebound name gets no report
        conn.close()
