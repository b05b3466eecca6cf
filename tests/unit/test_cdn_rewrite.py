"""A page rewritten piece by piece is the page rewritten whole, links cut in two included."""

from __future__ import annotations

import io
import random
import re

import pytest

from dashboard.cdn_rewrite import CdnRewriter, rewrite_cdn_urls, scan_versions
from dashboard.jscache import VERSION_PATTERN

_V = VERSION_PATTERN.encode()
#: The whole-page rewrite the server did before it streamed: the oracle.
_BOKEH = re.compile(rb"https?://cdn\.bokeh\.org/bokeh/(?:release|dev)/(?P<name>bokeh(?:-[a-z]+)*)-"
                    rb"(?P<version>" + _V + rb")(?P<min>\.min)?\.(?P<ext>js|css)")
_PANEL = re.compile(rb"https?://(?:cdn\.holoviz\.org/panel/|unpkg\.com/@holoviz/panel@"
                    rb"|cdn\.jsdelivr\.net/npm/@holoviz/panel@)(?P<version>" + _V + rb")/dist/")

LINKS = [b"https://cdn.bokeh.org/bokeh/release/bokeh-3.4.2.min.js",
         b"http://cdn.bokeh.org/bokeh/dev/bokeh-widgets-3.5.0rc1.js",
         b"https://cdn.bokeh.org/bokeh/release/bokeh-gl-3.9.2.min.css",
         b"https://cdn.holoviz.org/panel/1.4.4/dist/css/loading.css",
         b"https://unpkg.com/@holoviz/panel@1.5.0/dist/panel.min.js",
         b"https://cdn.jsdelivr.net/npm/@holoviz/panel@1.9.4/dist/bundled/font.woff2",
         b"https://cdn.bokeh.org/bokeh/release/bokeh-3.4.2",  # no .js: not a link we rewrite
         b"https://example.org/bokeh-3.4.2.min.js"]


def oracle(page: bytes, base: str) -> bytes:
    def bokeh(m: re.Match[bytes]) -> bytes:
        return (f"{base}lute-js/bokeh/{m['version'].decode()}/js/".encode() + m["name"]
                + (m["min"] or b"") + b"." + m["ext"])

    def panel(m: re.Match[bytes]) -> bytes:
        return f"{base}lute-js/panel/{m['version'].decode()}/".encode()

    return _PANEL.sub(panel, _BOKEH.sub(bokeh, page))


def page_with_links(seed: int, size: int = 20_000) -> bytes:
    rng = random.Random(seed)
    parts = []
    while sum(map(len, parts)) < size:
        parts.append(bytes(rng.choice(b"abc <>/\"'\n") for _ in range(rng.randrange(0, 300))))
        parts.append(rng.choice(LINKS))
    return b"".join(parts)


@pytest.mark.parametrize("piece", [7, 100, 1023, 1024, 1025, 4096, 1 << 20])
@pytest.mark.parametrize("seed", range(4))
def test_a_page_fed_in_pieces_is_rewritten_as_the_whole_page(piece: int, seed: int):
    page = page_with_links(seed)
    rewriter = CdnRewriter("../../")
    out = b"".join(rewriter.feed(page[i:i + piece]) for i in range(0, len(page), piece))
    out += rewriter.close()
    assert out == oracle(page, "../../")
    assert set(rewriter.versions) == {("bokeh", "3.4.2"), ("bokeh", "3.5.0rc1"),
                                      ("bokeh", "3.9.2"), ("panel", "1.4.4"),
                                      ("panel", "1.5.0"), ("panel", "1.9.4")}


def test_the_versions_a_page_names_are_found_and_the_file_rewound():
    page = page_with_links(7, 300_000)
    file = io.BytesIO(page)
    assert set(scan_versions(file, piece_size=4096)) == set(rewrite_cdn_urls(page, "")[1])
    assert file.tell() == 0
