"""Safe markup: every untrusted string reaches the page through these functions.

Task names, runs, summaries, parameters and display names come from analysis
code and the file system.  HTML is built as :class:`Html` (markupsafe's
``Markup``): a template whose holes are filled by ``Html(...).format(...)``,
``+`` or ``join`` is escaped by construction, so the one hole nobody thought
of (a notification, a new view) is escaped too.  The same path spells out
what a page would swallow silently: a NUL ends a C string and is dropped by
the HTML parser, a lone surrogate cannot be encoded at all, so both become
visible escapes (``\\x00``, ``\\ud800``).  Status names are ours (an enum), so
the badge classes built from them are safe.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup
from markupsafe import escape as _html_escape

from lute_model.status import ALL_STATUSES, PALETTE, SYMBOL, TEXT_ON, AnyStatus

#: NUL and UTF-16 surrogates: a Python string holds the latter only unpaired (a
#: JSON ``"\ud800"``, a file name's undecodable byte kept by ``surrogateescape``).
_INVISIBLE = re.compile("[\x00\ud800-\udfff]")


def _spelled(match: re.Match[str]) -> str:
    char = match.group()
    return "\\x00" if char == "\x00" else f"\\u{ord(char):04x}"


def visible(text: str) -> str:
    """``text`` with NUL and lone surrogates written out, so nothing of it is cut or lost.

    For every place text from disk is shown that is not HTML (CSV, the
    terminal, canvas labels); HTML gets it through :func:`esc`.
    """
    return _INVISIBLE.sub(_spelled, text)


class Html(Markup):
    """Markup whose every hole goes through :func:`esc`: ``Html("<b>{}</b>").format(name)``."""

    __slots__ = ()

    @classmethod
    def escape(cls, s: Any, /) -> Html:
        """Already-safe markup stays as it is; anything else is made visible, then escaped."""
        if hasattr(s, "__html__"):
            return cls(s.__html__())
        return cls(_html_escape(visible("" if s is None else str(s))))


def esc(value: object) -> Html:
    """Text as HTML, quotes included (safe inside attributes too); None is empty."""
    return Html.escape(value)


def status_css() -> str:
    """CSS classes ``st-<NAME>`` for every status, from the one palette.

    Bokeh renders Panel components in shadow roots, so each component that
    shows a badge must carry this CSS in its own ``stylesheets``.
    """
    rules = [
        f".st-{name} {{ background: {PALETTE[name]}; color: {TEXT_ON[name]}; }}"
        for name in PALETTE
    ]
    rules.append(".st { display: inline-block; padding: 1px 8px; border-radius: 10px; "
                 "font-weight: 600; font-size: 0.85em; white-space: nowrap; }")
    return "\n".join(rules)


def badge(status: AnyStatus, count: int | None = None) -> Html:
    """A status badge: color, glyph and name, so it never depends on color alone."""
    name = status.name
    label = f"{SYMBOL[name]} {name}" + ("" if count is None else f" {count}")
    return Html('<span class="st st-{}" title="{}">{}</span>').format(
        name, getattr(status, "raw", "") or name, label)


def legend(counts: dict[str, int]) -> Html:
    """Every status with its color and how many (Task, run) cells have it."""
    return Html(" ").join(badge(status, counts.get(status.name, 0)) for status in ALL_STATUSES)
