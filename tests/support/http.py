"""HTTP as an attacker or a logged-in person sends it, for the route and server tests.

``raw_get`` sends a request line byte for byte (a client library would normalise
or quote the ``..`` and ``%2e`` the attacks are made of); ``hostile_targets`` are
those attacks, aimed at ``SECRET`` files beside a summary folder.
"""

from __future__ import annotations

import itertools
import re
import socket
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import bokeh
import panel

from dashboard.views.report_frame import report_url

#: Written into every file a report route must never serve.
SECRET = "LUTE-SECRET-7f3a9c"
#: The password of the ``scientist`` user in the ``auth_file`` fixture.
PASSWORD = "beamline-Pa55"


def raw_get(port: int, target: bytes) -> tuple[int, bytes]:
    """Send the request line exactly as given: no client-side normalising or quoting."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Connection: close\r\n\r\n")
        response = b"".join(iter(lambda: conn.recv(65536), b""))
    match = re.match(rb"HTTP/1\.1 (\d{3})", response)
    return (int(match[1]) if match else 0), response


def hostile_targets(tmp_path: Path) -> list[bytes]:
    """Request targets aimed at the secrets: ``..`` in every spelling, links, NUL, long names.

    ``tmp_path`` holds ``summary`` (served as experiment ``exp``), ``summary_old``
    and ``secret.txt``.  The offline-JS routes are attacked under the installed
    versions, the ones that route serves.
    """
    ups = ["..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "..%00", "%2e%2e%00",
           "%c0%ae%c0%ae", "..%c0%af", "...", "..;", "%u002e%u002e"]
    seps = ["/", "%2f", "%2F", "\\", "%5c", "%5C", "%252f", "//", "/./"]
    targets = ["secret.txt", "summary_old/secret.html"]
    starts = ["/reports/exp/", "/reports/exp/r1/page/", f"/lute-js/panel/{panel.__version__}/"]
    paths = [start + sep.join([up] * depth) + sep + target
             for start, up, sep, depth, target
             in itertools.product(starts, ups, seps, (1, 3), targets)]
    absolute = str(tmp_path / "secret.txt")
    paths += [
        f"/reports/exp/{absolute}", f"/reports/exp/{absolute.replace('/', '%2f')}",
        f"/reports/exp//{absolute}", "/reports/exp/link_out.html", "/reports/exp/hard.html",
        "/reports/exp/dir_out/secret.html", "/reports/exp/dir_out/r1/page/report.html",
        "/reports/exp/pipe.html", "/reports/%2e%2e/secret.txt", "/reports/exp%2f..%2f/secret.txt",
        "/reports/..%2fsummary_old/secret.html", "/reports/exp/" + "a" * 4096,
        "/reports/exp/" + "%2e%2e/" * 700 + "secret.txt", "/reports/exp/" + "x/" * 2000,
        "/reports/exp/r1\\..\\..\\secret.txt", "/reports/exp/r1/page/report.html/../../../..",
        "/reports/exp/%00", "/reports/exp/%ff%fe", "/reports/exp/../summary_old%2fsecret.html",
        "/reports/exp/../secret.txt%00.html",
        "/reports/exp/r1/../../summary_old/r1/page/report.html",
        f"/lute-js/bokeh/{bokeh.__version__}/js/" + "../" * 12 + absolute,
        "/reports/exp/..%ef%bc%8fsecret.txt",
        report_url("", "exp", "../../secret.txt").replace("/report.html", ""),
        report_url("", "exp", "../summary_old/r1/page"),
    ]
    raw = [p.encode() for p in paths]
    raw += [b"/reports/exp/..\x00/secret.txt", b"/reports/exp/\xff/../../secret.txt",
            b"/reports/exp/.. /secret.txt", b"http://127.0.0.1/reports/exp/../secret.txt"]
    return raw


def browser_opener() -> urllib.request.OpenerDirector:
    """A client that keeps cookies, as a browser does, and shows redirects instead of
    following them (the tests assert where a login sends people)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    return urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(CookieJar()))


def status_of(opener: urllib.request.OpenerDirector, url: str,
              data: bytes | None = None) -> tuple[int, str]:
    """The status of a GET (or POST of ``data``) and where it redirects, errors included."""
    try:
        with opener.open(url, data=data, timeout=10) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Location", "")
