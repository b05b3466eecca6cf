"""Safe markup: every untrusted string reaches the page through these functions.

Task names, summaries, parameters and display names come from analysis code
and the file system.  They are escaped here, once, so that ``<script>`` in a
summary is shown as text everywhere; status names are ours (an enum), so the
badge classes built from them are safe.
"""

from __future__ import annotations

import html

from lute_model.status import ALL_STATUSES, PALETTE, SYMBOL, TEXT_ON, AnyStatus


def esc(value: object) -> str:
    """Text as HTML, quotes included (safe inside attributes too)."""
    return html.escape("" if value is None else str(value), quote=True)


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


def badge(status: AnyStatus, count: int | None = None) -> str:
    """A status badge: color, glyph and name, so it never depends on color alone."""
    name = status.name
    label = f"{SYMBOL[name]} {name}" + ("" if count is None else f" {count}")
    title = esc(getattr(status, "raw", "") or name)
    return f'<span class="st st-{name}" title="{title}">{esc(label)}</span>'


def legend(counts: dict[str, int]) -> str:
    """Every status with its color and how many (Task, run) cells have it."""
    return " ".join(badge(status, counts.get(status.name, 0)) for status in ALL_STATUSES)
