"""The building blocks of the Task detail: its CSS, key | value tables, sections.

Shared by the parts of the detail (``task_detail``, ``execution_details``) so
that every section looks alike.  Every value from disk reaches the page
through a template (:mod:`dashboard.views.templates`): :func:`html` escapes
whatever is not already markup.
"""

from __future__ import annotations

from typing import Any

import panel as pn
from markupsafe import Markup

from dashboard.views.html_pane import HTML
from dashboard.views.templates import PARAGRAPH, HtmlTemplate, for_pane, status_css

DETAIL_CSS = """
.kv { border-collapse: collapse; font-size: 13px; margin: 2px 0 6px 0; }
.kv th { text-align: left; font-weight: 600; padding: 2px 12px 2px 0; vertical-align: top;
         opacity: .75; white-space: nowrap; }
.kv td { padding: 2px 0; vertical-align: top; word-break: break-word; white-space: pre-wrap; }
.mono, pre.summary { font-family: ui-monospace, Menlo, Consolas, monospace; }
pre.summary { white-space: pre-wrap; background: rgba(127,127,127,.12); padding: 6px 8px;
              margin: 4px 0;
              border-radius: 4px; max-height: 24em; overflow: auto; }
h3.title { display: inline-block; margin: 0 12px 4px 0; font-size: 1.2em; }
.muted { opacity: .7; font-size: 0.9em; }
.note { color: #b35c00; font-size: 0.9em; }
a { word-break: break-all; }
ul.links { margin: 2px 0; padding-left: 18px; }
"""


_KV_TABLE = HtmlTemplate(
    '<table class="kv">{% for key, value in pairs %}<tr><th>{{ key }}</th>'
    '<td{% if mono %} class="mono"{% endif %}>{{ value }}</td></tr>{% endfor %}</table>')
_SECTION_TITLE = HtmlTemplate("<h4 style='margin:10px 0 2px 0'>{{ title }}</h4>")


def kv_table(pairs: list[tuple[str, Any]], mono: bool = False) -> Markup:
    """A key | value table; both sides escaped."""
    return _KV_TABLE(pairs=pairs, mono=mono)


def html(content: Any, **params: Any) -> pn.pane.HTML:
    """A pane of markup (a template's), or of text (escaped), with the badge and detail CSS
    in its shadow root."""
    params.setdefault("margin", (0, 10))
    return HTML(for_pane(content), stylesheets=[status_css(), DETAIL_CSS], **params)


def paragraph(kind: str, text: str, **params: Any) -> pn.pane.HTML:
    """A pane of one paragraph of text: ``muted`` for an absence, ``note`` for a warning."""
    return html(PARAGRAPH(kind=kind, text=text), **params)


def section(title: str, *objects: Any) -> pn.Column:
    """A titled part of the detail; every part looks alike."""
    return pn.Column(HTML(str(_SECTION_TITLE(title=title)), margin=(0, 10)),
                     *objects, sizing_mode="stretch_width")
