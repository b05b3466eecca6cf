"""The report routes against a real Panel server: hostile paths, headers, message pages, jscache."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urljoin
from urllib.request import urlopen

import pytest

from dashboard import jscache
from dashboard.cli import main as cli_main
from dashboard.server import REPORT_SIZE_LIMIT, report_patterns
from dashboard.views.report_frame import report_iframe_html, report_url
from tests.support.http import SECRET, hostile_targets, raw_get
from tests.support.servers import panel_server

DATA = Path(__file__).parents[1] / "data"
REPORT = DATA / "cxil1005322" / "stats" / "summary" / "r7" / "powders" / "report.html"


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """An ordinary GET; error statuses are returned, not raised."""
    try:
        with urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except OSError as err:  # HTTPError is both an error and a response
        if not hasattr(err, "code"):
            raise
        return err.code, dict(err.headers), err.read()


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    """A summary folder full of traps, with secrets beside it that must never be served."""
    (tmp_path / "secret.txt").write_text(SECRET)
    old = tmp_path / "summary_old" / "r1" / "page"
    old.mkdir(parents=True)
    (old / "report.html").write_text(f"<p>{SECRET}</p>")
    (tmp_path / "summary_old" / "secret.html").write_text(SECRET)
    summary = tmp_path / "summary"
    page = summary / "r1" / "page"
    page.mkdir(parents=True)
    (page / "report.html").write_text("<p>run 1 powders</p>")
    (page / "data.csv").write_text("a,b\n1,2\n")
    (summary / "empty" / "page").mkdir(parents=True)
    (summary / "empty" / "page" / "report.html").write_bytes(b"")
    (summary / "old" / "page").mkdir(parents=True)
    (summary / "old" / "page" / "report.html").write_text(
        '<script src="https://cdn.bokeh.org/bokeh/release/bokeh-0.0.1.min.js"></script>')
    (summary / "link_out.html").symlink_to(tmp_path / "secret.txt")
    (summary / "dir_out").symlink_to(tmp_path / "summary_old")
    (summary / "inside_link").symlink_to(page)
    os.link(tmp_path / "secret.txt", summary / "hard.html")
    os.mkfifo(summary / "pipe.html")
    return summary


@pytest.fixture
def port(experiment: Path) -> Iterator[int]:
    roots = {"exp": experiment}
    with panel_server(extra_patterns=report_patterns(lambda: roots)) as port:
        yield port


def test_no_hostile_path_reaches_a_file_outside_the_summary_folder(port: int, tmp_path: Path):
    targets = hostile_targets(tmp_path)
    assert len(targets) >= 1000
    escapes, wrong_status = [], []
    for target in targets:
        status, response = raw_get(port, target)
        if SECRET.encode() in response:
            escapes.append(target[:120])
        # tornado's HTTP parser refuses a raw NUL or space before any route sees it
        expected = 400 if re.search(rb"[\x00 ]", target) else 404
        if status != expected:
            wrong_status.append((target[:120], status))
    assert escapes == []
    assert wrong_status == []


def test_a_summary_page_and_the_files_beside_it_are_served(port: int):
    status, headers, body = get(port, report_url("", "exp", "r1/page"))
    assert (status, body) == (200, b"<p>run 1 powders</p>")
    assert headers["Content-Type"].startswith("text/html")
    status, headers, body = get(port, "/reports/exp/r1/page/data.csv")
    assert (status, body) == (200, b"a,b\n1,2\n")
    assert headers["Content-Type"] == "text/csv"
    status, _, body = get(port, "/reports/exp/inside_link/report.html")
    assert (status, body) == (200, b"<p>run 1 powders</p>")


def test_every_report_response_carries_a_sandboxing_csp(port: int):
    for path in ["/reports/exp/r1/page/report.html", "/reports/exp/empty/page/report.html",
                 "/reports/exp/nothing/report.html", "/reports/exp/r1/page/data.csv"]:
        _, headers, _ = get(port, path)
        csp = headers["Content-Security-Policy"]
        directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
        assert directives["sandbox"] == ["allow-scripts"]
        assert directives["connect-src"] == ["'none'"]
        assert directives["form-action"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'self'"]
        assert directives["base-uri"] == ["'none'"]
        assert directives["default-src"] == ["'none'"]
        assert "https:" not in csp and "*" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-cache"


def test_an_empty_summary_page_says_why_it_is_empty(port: int):
    status, _, body = get(port, "/reports/exp/empty/page/report.html")
    assert status == 200
    assert b"This summary page is empty (0 bytes): LUTE could not save its figure" in body


def test_a_page_made_with_an_uncached_bokeh_says_how_to_fetch_it(port: int, monkeypatch,
                                                                   tmp_path: Path):
    monkeypatch.setenv("LUTE_DASHBOARD_JS_CACHE", str(tmp_path / "js-cache"))
    status, _, body = get(port, "/reports/exp/old/page/report.html")
    assert status == 200
    assert ("This report was made with bokeh 0.0.1, whose JavaScript is not in this "
            "server's cache. Run: lute-dashboard js fetch bokeh 0.0.1") in html.unescape(
                body.decode())
    assert b"<script" not in body


def test_a_huge_page_is_refused_not_loaded(port: int, experiment: Path):
    huge = experiment / "huge" / "report.html"
    huge.parent.mkdir()
    with open(huge, "wb") as file:
        file.truncate(REPORT_SIZE_LIMIT + 1)  # sparse: no disk space needed
    status, _, body = get(port, "/reports/exp/huge/report.html")
    assert status == 200
    assert b"too large" in body


def test_a_lute_report_gets_every_script_and_style_from_this_server():
    """Also behind a prefix: the rewritten links are relative to the page."""
    roots = {"cxil1005322": REPORT.parents[2]}
    with panel_server(prefix="/beamline", extra_patterns=report_patterns(lambda: roots)) as port:
        url = report_url("/beamline", "cxil1005322", "r7/powders")
        status, _, body = get(port, url)
        assert status == 200
        assert b"cdn.bokeh.org" not in body and b"cdn.holoviz.org" not in body
        local = sorted(set(re.findall(rb'"([^"]*lute-js/[^"]+)"', body)))
        assert len(local) >= 10
        for link in local:
            absolute = urljoin(f"http://127.0.0.1:{port}{url}", link.decode())
            status, headers, content = get(port, absolute.split(str(port), 1)[1])
            assert status == 200, link
            assert headers["Content-Type"].split(";")[0] in (
                "text/javascript", "application/javascript", "text/css", "image/png",
                "image/vnd.microsoft.icon")
            assert "immutable" in headers["Cache-Control"]
            assert content


@pytest.mark.parametrize(("title", "display_name"), [
    ('"><script>alert(1)</script>', 'tab/"><img src=x onerror=alert(1)>'),
    ("Δt-Scan (fs)", "Δt-Scan (fs)/r0031"),
    ("100% done?", "scans/100% done?#x"),
])
def test_the_report_frame_quotes_untrusted_names(title: str, display_name: str):
    url = report_url("/prefix", "mfx p100", display_name)
    assert url.startswith("/prefix/reports/mfx%20p100/") and url.endswith("/report.html")
    assert not set(url) & set("\"'<> ?#")
    frame = report_iframe_html(url, title)
    assert frame.count("<") == 2 and frame.count(">") == 2
    assert 'sandbox="allow-scripts"' in frame and "allow-same-origin" not in frame
    assert 'referrerpolicy="no-referrer"' in frame and 'loading="lazy"' in frame


def test_the_report_frame_refuses_script_urls():
    with pytest.raises(ValueError):
        report_iframe_html(" javascript:alert(1)", "x")


def test_the_installed_bokeh_and_panel_are_served_without_a_cache(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("LUTE_DASHBOARD_JS_CACHE", str(tmp_path / "js-cache"))
    bokeh, panel = version("bokeh"), version("panel")  # whatever is installed
    bokeh_js = jscache.locate("bokeh", bokeh, "js/bokeh.min.js")
    assert bokeh_js is not None and bokeh_js.name == "bokeh.min.js"
    assert jscache.locate("panel", panel, "panel.min.js") is not None
    assert jscache.available("bokeh", bokeh) and not jscache.available("bokeh", "0.0.1")
    for relpath in ["../__init__.py", "js/../../../__init__.py", "/etc/passwd", "js\\x", "js"]:
        assert jscache.locate("bokeh", bokeh, relpath) is None
    assert jscache.locate("bokeh", f"../{bokeh}", "js/bokeh.min.js") is None
    assert jscache.locate("numpy", "1.0.0", "x") is None
    # As the README and the server's message tell people to type it.
    assert cli_main(["js", "fetch", "bokeh", bokeh]) == 0
    assert cli_main(["js", "fetch", bokeh]) == 0  # bokeh unless told otherwise
    assert cli_main(["js", "fetch", "panel", f"{panel};rm"]) == 1
    assert not (tmp_path / "js-cache").exists()


@pytest.mark.network
def test_fetch_caches_an_old_bokeh_from_its_wheel(monkeypatch, tmp_path: Path):
    cache = tmp_path / "js-cache"
    monkeypatch.setenv("LUTE_DASHBOARD_JS_CACHE", str(cache))
    assert not jscache.available("bokeh", "3.4.2")
    folder = jscache.fetch("bokeh", "3.4.2")
    assert folder == cache / "bokeh" / "3.4.2"
    bokeh_js = jscache.locate("bokeh", "3.4.2", "js/bokeh.min.js")
    assert bokeh_js is not None and b"3.4.2" in bokeh_js.read_bytes()
    assert sorted(p.name for p in (cache / "bokeh").iterdir()) == ["3.4.2"]  # no temp left
    assert jscache.fetch("bokeh", "3.4.2") == folder

