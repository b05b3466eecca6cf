"""Routes that serve LUTE's summary pages and their JavaScript, offline and fenced in.

Summary pages are untrusted HTML written by whoever runs a Task.  They are
served only from inside an experiment's ``stats/summary`` folder (every name
goes through ``safe_join``), with a Content-Security-Policy that sandboxes them
into an opaque origin and lets them load nothing but our own files; their CDN
links to bokeh/panel are rewritten to ``lute-js/``, served from ``jscache``.

``report_patterns`` makes the routes for the two ways Bokeh and Panel take extra
ones: ``pn.serve(extra_patterns=...)`` (``lute-dashboard serve``) and the
``ROUTES`` of a ``panel serve --plugins`` module (``dashboard/plugin.py``).
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import stat
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from bokeh.server.views.auth_request_handler import AuthRequestHandler
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError
from tornado.web import HTTPError, RequestHandler, authenticated

from dashboard import jscache
from dashboard.cdn_rewrite import CdnRewriter, scan_versions
from dashboard.limits import Busy, Gate
from dashboard.views.templates import HtmlTemplate
from lute_model.paths import UnsafePath, is_inside, safe_join
from lute_model.sizes import size_text

Roots = Callable[[], Mapping[str, Path]]
Route = tuple[str, type[RequestHandler], dict[str, Any]]
#: Looks at a request before its handler does; answers it itself, and returns True, when it
#: must go no further (``guards.own_host_only`` under plain ``panel serve``).
Guard = Callable[[RequestHandler], bool]

#: Larger pages are not shown: a browser tab struggles with them (LUTE's largest are ~50 MB).
REPORT_SIZE_LIMIT = 64 * 2**20
#: Every file, pages included, is sent in pieces of this size, one at a time per request.
CHUNK_SIZE = 256 * 2**10
#: Bytes all requests together may hold on their way out (read, rewritten, not yet taken
#: by the client): 30 parallel reads of a 60 MB page used to take 2 GB.
BYTES_IN_FLIGHT = 32 * 2**20
#: How long a request waits for its first piece of that budget before it is told to retry.
BUDGET_WAIT_S = 20.0
#: A client that does not take a piece in this long is dropped: it holds part of the budget.
FLUSH_TIMEOUT_S = 60.0

#: The sandbox gives a page an opaque origin: no cookies, no storage, no access to the
#: dashboard around it.  BokehJS needs inline scripts/styles and eval (CustomJS).
REPORT_CSP = "; ".join([
    "sandbox allow-scripts",
    "default-src 'none'",
    # blob: scripts are ones the report itself made (Panel's ESM bundles): same sandbox.
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
    "base-uri 'none'",
])
REPORT_HEADERS = {
    "Content-Security-Policy": REPORT_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # pages are rewritten as runs arrive
}
#: lute-js paths name an exact version, so their content never changes.  The
#: sandboxed pages have an opaque origin: fonts and module scripts need CORS.
JS_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=31536000, immutable",
    "Access-Control-Allow-Origin": "*",
}

_MESSAGE_PAGE = HtmlTemplate(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{% if refresh %}'
    '<meta http-equiv="refresh" content="{{ refresh }}">{% endif %}<title>{{ title }}</title>'
    '</head><body style="font-family: sans-serif; margin: 1.5em;"><h3>{{ title }}</h3>'
    "{% for line in lines %}<p>{{ line }}</p>{% endfor %}</body></html>")


def message_page(title: str, *lines: str, refresh: int | None = None) -> bytes:
    """A small page shown in the report's frame (or the tab) instead of a blank one.

    ``refresh``: the browser loads the same address again after that many seconds.
    """
    return _MESSAGE_PAGE(title=title, lines=lines,
                         refresh=int(refresh) if refresh else None).encode()


def missing_js_page(missing: list[tuple[str, str]]) -> bytes:
    """Say which version's JavaScript is missing and the command that fetches it."""
    lines = []
    for package, version in missing:
        lines.append(f"This report was made with {package} {version}, whose JavaScript is not "
                     f"in this server's cache. Run: lute-dashboard js fetch {package} {version}")
    return message_page("This summary page cannot be shown offline yet", *lines)


EMPTY_PAGE = message_page(
    "This summary page is empty",
    "This summary page is empty (0 bytes): LUTE could not save its figure. LUTE saves only "
    "Panel objects; for a HoloViews image, a matplotlib figure or None it leaves an empty "
    "report.html behind.")


def too_large_page(size: int) -> bytes:
    """Refuse to load a huge page into the server's memory, and say so."""
    return message_page(
        "This summary page is too large to show",
        f"This summary page is {size_text(size, exact=False)}; this server shows pages up to "
        f"{size_text(REPORT_SIZE_LIMIT, exact=False)}.")


def open_inside(root: Path, relpath: str) -> BinaryIO:
    """Open the regular file ``root/relpath`` for reading, or raise ``UnsafePath``.

    ``safe_join`` checks the name; this checks the file actually opened: the last
    component is not followed if it became a symlink since, the descriptor's real
    path is still inside ``root`` (a directory swapped for a symlink meanwhile),
    it is a regular file (a FIFO would hang us: opened non-blocking), and it has
    one name only: a hard link can bring any file the linker can name into the
    tree, and LUTE never makes them.
    """
    path = safe_join(root, relpath)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise UnsafePath(f"cannot open: {err.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise UnsafePath("not a regular file with a single name")
        proc_link = f"/proc/self/fd/{fd}"
        if os.path.islink(proc_link) and not is_inside(root, os.readlink(proc_link)):
            raise UnsafePath("file left its root while being opened")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def answer_busy(handler: RequestHandler, retry_after: int, what: str) -> None:
    """503 with ``Retry-After``; a browser shows why and tries again by itself."""
    handler.clear()
    handler.set_status(503)
    handler.set_header("Retry-After", str(retry_after))
    handler.set_header("Cache-Control", "no-store")
    handler.set_header("Content-Type", "text/html; charset=utf-8")
    handler.finish(message_page(
        "The dashboard is busy", f"The dashboard server is busy {what}. This page tries again "
        f"in {retry_after} s.", refresh=retry_after))


#: ``BYTES_IN_FLIGHT`` in pieces of ``CHUNK_SIZE``, shared by every file sent by this process.
BUDGET = Gate(BYTES_IN_FLIGHT // CHUNK_SIZE)


def _next_piece(file: BinaryIO, rewriter: CdnRewriter | None) -> tuple[bytes, bool]:
    """The next piece to send (rewritten if asked) and whether the file has ended.

    Run in a worker thread: summary folders often sit on a network file system,
    and rewriting a piece takes a moment the event loop owes to others.
    """
    piece = file.read(CHUNK_SIZE)
    if rewriter is not None:
        return (rewriter.feed(piece) if piece else rewriter.close()), not piece
    return piece, not piece


async def _flush(handler: RequestHandler) -> None:
    """Wait until the client took what was written; drop a client that stalls."""
    try:
        await asyncio.wait_for(handler.flush(), FLUSH_TIMEOUT_S)
    except asyncio.TimeoutError:
        handler.request.connection.close()  # frees the bytes it would not take
        raise StreamClosedError() from None


async def _stream(handler: RequestHandler, file: BinaryIO,
                  rewriter: CdnRewriter | None = None) -> None:
    """Send a file piece by piece, so that it never sits whole in memory.

    Each piece holds its share of the process's ``BUDGET`` from being read
    until the client has taken it: however many requests, at most
    ``BYTES_IN_FLIGHT`` bytes wait to go out.  A request that finds no budget
    in ``BUDGET_WAIT_S`` gets a 503 before its first byte.
    """
    loop = IOLoop.current()
    wait_s: float | None = BUDGET_WAIT_S
    try:
        while True:
            async with BUDGET.turn(wait_s):
                piece, last = await loop.run_in_executor(None, _next_piece, file, rewriter)
                if piece:
                    handler.write(piece)
                    await _flush(handler)
            if last:
                return
            wait_s = None  # once started, a request waits its turn for each piece
    except Busy as busy:
        answer_busy(handler, busy.retry_after, "sending other large files")
    except StreamClosedError:
        pass  # the client went away (or was dropped): nothing left to send to


def _content_type(path: str) -> str:
    kind, _ = mimetypes.guess_type(path)
    return kind or "application/octet-stream"


class _DecodedPathHandler(AuthRequestHandler):
    """Shared by our routes: undecodable names are simply not found.

    The server's auth provider (``--basic-auth``, OAuth) guards these routes as
    it guards the app: ``AuthRequestHandler`` asks it for the user, exactly as
    Bokeh's and Panel's own handlers do, and ``@authenticated`` sends anyone
    without one to the login page.  With no auth configured everyone is a user.
    """

    def initialize(self, guard: Guard | None = None) -> None:
        self.guard = guard

    async def prepare(self) -> None:
        """The guard first: a request it answered is not looked at any further."""
        if self.guard is not None and self.guard(self):
            return
        await super().prepare()

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        """Path parts were URL-decoded once by tornado; bytes that are not UTF-8 become the
        lone surrogates a folder of that name has in Python (``report_frame._quote``), so
        the guarded join finds that folder and nothing else."""
        return value.decode("utf-8", "surrogateescape")


class ReportHandler(_DecodedPathHandler):
    """``GET {prefix}/reports/<experiment>/<path>``: a summary page or a file beside it."""

    def initialize(self, roots: Roots, route: re.Pattern[str],  # type: ignore[override]
                   guard: Guard | None = None) -> None:
        super().initialize(guard)
        self.roots = roots
        self.route = route

    def set_default_headers(self) -> None:
        """Also on errors: tornado calls this again when it clears a failed response."""
        for name, value in REPORT_HEADERS.items():
            self.set_header(name, value)

    def _js_base(self) -> str:
        """``../`` up to the folder holding ``reports/``, whatever proxy prefix is in front."""
        match = self.route.search(self.request.path)
        depth = match.group(2).count("/") + 2 if match else 0
        return "../" * depth

    @authenticated
    async def get(self, experiment: str, relpath: str) -> None:
        root = self.roots().get(experiment)
        if root is None:
            raise HTTPError(404)
        try:
            file = open_inside(Path(root), relpath)
        except (UnsafePath, OSError):
            raise HTTPError(404) from None
        with file:
            if relpath.endswith("/"):
                self._to_name_without_slash(relpath)
            elif relpath.lower().endswith((".html", ".htm")):
                await self._send_page(file)
            else:
                self.set_header("Content-Type", _content_type(relpath))
                await _stream(self, file)

    def _to_name_without_slash(self, relpath: str) -> None:
        """``…/report.html/`` names the file ``…/report.html``: send the browser there.

        Served under that name a page would skip its size limit and rewriting
        (the name does not end in ``.html``), and the links beside it would
        resolve one folder too deep.  One slash is undone by ``../`` in every
        browser; for more, browsers disagree, and no link of ours has them.
        """
        name = relpath[:-1].rsplit("/", 1)[-1]
        if not name:
            raise HTTPError(404)
        self.redirect("../" + urllib.parse.quote(name))

    async def _send_page(self, file: BinaryIO) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        size = os.fstat(file.fileno()).st_size
        if size == 0:
            self.finish(EMPTY_PAGE)
        elif size > REPORT_SIZE_LIMIT:
            self.finish(too_large_page(size))
        else:
            versions = await IOLoop.current().run_in_executor(None, scan_versions, file)
            missing = [(p, v) for p, v in versions if not jscache.available(p, v)]
            if missing:
                self.finish(missing_js_page(missing))
            else:
                await _stream(self, file, CdnRewriter(self._js_base()))


class LuteJsHandler(_DecodedPathHandler):
    """``GET {prefix}/lute-js/<package>/<version>/<path>``: bokeh/panel files from jscache."""

    def set_default_headers(self) -> None:
        for name, value in JS_HEADERS.items():
            self.set_header(name, value)

    # Not @authenticated: these are the public bokeh/panel files Bokeh's own /static/
    # serves to anyone, and they are requested from the report's sandboxed (opaque)
    # origin, which carries no cookies: behind a login every report would stay blank.
    async def get(self, package: str, version: str, relpath: str) -> None:
        path = jscache.locate(package, version, relpath)
        if path is None:
            raise HTTPError(404)
        self.set_header("Content-Type", _content_type(relpath))
        with open(path, "rb") as file:
            await _stream(self, file)


def report_patterns(roots: Roots, guard: Guard | None = None) -> list[Route]:
    """The routes, as ``(pattern, handler, kwargs)``: ``extra_patterns`` or ``ROUTES``.

    ``roots()`` maps an experiment's name to its ``stats/summary`` folder; it is
    called on each request, so experiments can come and go.  Bokeh puts its own
    ``--prefix`` in front of every pattern.  ``guard`` looks at each request first.
    """
    report_route = r"/reports/([^/]+)/(.+)$"
    return [
        (report_route, ReportHandler,
         {"roots": roots, "route": re.compile(report_route), "guard": guard}),
        (r"/lute-js/([a-z]+)/([^/]+)/(.+)$", LuteJsHandler, {"guard": guard}),
    ]
