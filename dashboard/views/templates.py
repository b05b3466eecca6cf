"""HTML is made here: templates that escape every value unless it is marked safe.

Task names, runs, summaries, parameters and display names come from analysis
code and the file system.  An f-string escapes only where someone wrote
``esc()``, and the one hole someone forgets (a notification, a new view) is
the exploit.  So every HTML string the dashboard makes comes from a
:class:`HtmlTemplate`: jinja2 with ``autoescape=True``, where a value reaches
the page escaped unless it is already markup (what a template or
:func:`badge` returned).  The same path spells out what a page would swallow
silently: a NUL ends a C string and is dropped by the HTML parser, a lone
surrogate cannot be encoded at all, so both become visible escapes
(``\\x00``, ``\\ud800``); ``None`` shows as nothing.

A template gives :class:`~markupsafe.Markup`, so that one template's output
goes into another as it is.  A Panel pane gets ``str(markup)``: the HTML pane
runs ``html.escape`` on its object, and on ``Markup`` that escapes its own
replacements (``&amp;`` becomes ``&amp;amp;``), so the page shows garbage.

Templates are compiled once, when their module is imported; whatever is
rendered per row (a table, a feed) is a loop inside one template, which costs
less than one f-string per row.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

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
    terminal, canvas labels); templates do it to each value they put in HTML.
    """
    return _INVISIBLE.sub(_spelled, text)


def _shown(value: Any) -> Any:
    """What a ``{{ value }}`` shows before it is escaped: markup as it is, None as nothing."""
    if hasattr(value, "__html__"):
        return value
    return "" if value is None else visible(str(value))


#: The one environment: an undefined name in a template is an error, not an empty hole.
_ENVIRONMENT = Environment(autoescape=True, finalize=_shown, undefined=StrictUndefined)


class HtmlTemplate:
    """A template compiled once: ``HtmlTemplate("<b>{{ name }}</b>")(name=task)``."""

    __slots__ = ("_template",)

    def __init__(self, source: str) -> None:
        self._template = _ENVIRONMENT.from_string(source)

    def __call__(self, **values: Any) -> Markup:
        """The HTML with these values escaped; markup, so another template keeps it as it is."""
        return Markup(self._template.render(values))


#: A paragraph of text with a class (``muted``, ``note``): the most common piece of a view.
PARAGRAPH = HtmlTemplate('<p{% if kind %} class="{{ kind }}"{% endif %}>{{ text }}</p>')
#: A link that opens in a new tab and tells the page nothing of where it came from.
NEW_TAB_LINK = HtmlTemplate(
    '<a href="{{ url }}" target="_blank" rel="noopener noreferrer">{{ text }}</a>')
_CONTENT = HtmlTemplate("{{ content }}")


def for_pane(content: Any) -> str:
    """What a pane's ``object`` gets: markup as it is, anything else escaped; a plain
    ``str`` either way (see above)."""
    return str(_CONTENT(content=content))


def status_css() -> str:
    """CSS classes ``st-<NAME>`` for every status, from the one palette.

    Bokeh renders Panel components in shadow roots, so each component that
    shows a badge must carry this CSS in its own ``stylesheets``.
    """
    rules = [
        f".st-{status.name} {{ background: {fill}; color: {TEXT_ON[status]}; }}"
        for status, fill in PALETTE.items()
    ]
    # The fills as variables too, for text in a status's color: ``var(--st-FAILED)``.
    rules.append(":host, :root { " + " ".join(
        f"--st-{status.name}: {fill};" for status, fill in PALETTE.items()) + " }")
    rules.append(".st { display: inline-block; padding: 1px 8px; border-radius: 10px; "
                 "font-weight: 600; font-size: 0.85em; white-space: nowrap; }")
    return "\n".join(rules)


_BADGE = HtmlTemplate(
    '<span class="st st-{{ name }}" title="{{ title }}">{{ symbol }} {{ name }}'
    "{% if count is not none %} {{ count }}{% endif %}</span>")


def badge(status: AnyStatus, count: int | None = None) -> Markup:
    """A status badge: color, glyph and name, so it never depends on color alone.

    Templates call it too (``{{ badge(row.status) }}``).
    """
    name = status.name
    return _BADGE(name=name, title=getattr(status, "raw", "") or name, symbol=SYMBOL[status],
                  count=count)


_ENVIRONMENT.globals["badge"] = badge

_LEGEND = HtmlTemplate(
    "{% for status in statuses %}{% if not loop.first %} {% endif %}"
    "{{ badge(status, counts.get(status.name, 0)) }}{% endfor %}")


def legend(counts: dict[str, int]) -> Markup:
    """Every status with its color and how many (Task, run) cells have it."""
    return _LEGEND(statuses=ALL_STATUSES, counts=counts)
