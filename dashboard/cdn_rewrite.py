"""Point a summary page's bokeh/panel CDN links at this server's ``lute-js/`` copies.

LUTE's ``report.html`` loads BokehJS and Panel's files from CDNs that a
beamline network cannot reach; ``server.py`` sends each page through a
:class:`CdnRewriter` on its way out.  Pages reach 60 MB: they are rewritten
piece by piece as they are sent, never held whole (30 parallel reads of a
60 MB page once took 2 GB).
"""

from __future__ import annotations

import re
from typing import BinaryIO

from dashboard import jscache

_VERSION = jscache.VERSION_PATTERN.encode()
#: bokeh's and panel's CDN links, one alternative each (they never overlap).
_CDN = re.compile(
    rb"https?://cdn\.bokeh\.org/bokeh/(?:release|dev)/(?P<name>bokeh(?:-[a-z]+)*)-(?P<bokeh>"
    + _VERSION + rb")(?P<min>\.min)?\.(?P<ext>js|css)"
    rb"|https?://(?:cdn\.holoviz\.org/panel/|unpkg\.com/@holoviz/panel@"
    rb"|cdn\.jsdelivr\.net/npm/@holoviz/panel@)(?P<panel>" + _VERSION + rb")/dist/")
#: Longer than any link above: a piece is only rewritten up to this far from its end.
_OVERLAP = 1024


class CdnRewriter:
    """Point bokeh/panel CDN links at ``{js_base}lute-js/...`` in a page fed piece by piece.

    Gives the same bytes as rewriting the whole page at once, without ever
    holding it: the last ``_OVERLAP`` bytes of a piece wait for the next one, so
    a link cut in two by a piece boundary is still found.  ``versions`` lists
    each (package, version) named.  Works on bytes: a page's encoding is its
    own business, the URLs are ASCII.
    """

    def __init__(self, js_base: str) -> None:
        self.js_base = js_base
        self.versions: dict[tuple[str, str], None] = {}
        self._carry = b""

    def feed(self, piece: bytes) -> bytes:
        data = self._carry + piece
        out, done = self._rewrite(data, len(data) - _OVERLAP)
        self._carry = data[done:]
        return out

    def close(self) -> bytes:
        out, _ = self._rewrite(self._carry, len(self._carry))
        self._carry = b""
        return out

    def _rewrite(self, data: bytes, safe: int) -> tuple[bytes, int]:
        """``data`` rewritten up to ``safe`` (or the end of a link that starts before it)."""
        parts, done = [], 0
        for match in _CDN.finditer(data):
            if match.start() >= safe:
                break
            parts += [data[done:match.start()], self._link(match)]
            done = match.end()
        end = max(done, safe)
        parts.append(data[done:end])
        return b"".join(parts), end

    def _link(self, match: re.Match[bytes]) -> bytes:
        if match["bokeh"]:
            version = match["bokeh"].decode()
            self.versions["bokeh", version] = None
            name = match["name"] + (match["min"] or b"") + b"." + match["ext"]
            return f"{self.js_base}lute-js/bokeh/{version}/js/".encode() + name
        version = match["panel"].decode()
        self.versions["panel", version] = None
        return f"{self.js_base}lute-js/panel/{version}/".encode()


def rewrite_cdn_urls(page: bytes, js_base: str) -> tuple[bytes, list[tuple[str, str]]]:
    """The whole page rewritten (see ``CdnRewriter``) and the versions it names."""
    rewriter = CdnRewriter(js_base)
    page = rewriter.feed(page) + rewriter.close()
    return page, list(rewriter.versions)


def scan_versions(file: BinaryIO, piece_size: int = 256 * 2**10) -> list[tuple[str, str]]:
    """The bokeh/panel versions a page names (read through once, then rewound)."""
    rewriter = CdnRewriter("")
    while piece := file.read(piece_size):
        rewriter.feed(piece)
    rewriter.close()
    file.seek(0)
    return list(rewriter.versions)
