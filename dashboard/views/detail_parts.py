"""The building blocks of the Task detail: its CSS, key | value tables, sections.

Shared by the parts of the detail (``task_detail``, ``execution_details``) so
that every section looks alike and every value from disk goes through
:func:`markup.esc` on its way into a table.
"""

from __future__ import annotations

from typing import Any

import panel as pn

from dashboard.views.markup import esc, status_css

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


def kv_table(pairs: list[tuple[str, Any]], mono: bool = False) -> str:
    """A key | value table; both sides escaped."""
    cls = ' class="mono"' if mono else ""
    rows = "".join(f"<tr><th>{esc(k)}</th><td{cls}>{esc(v)}</td></tr>" for k, v in pairs)
    return f'<table class="kv">{rows}</table>'


def html(text: str, **params: Any) -> pn.pane.HTML:
    """Markup we built from escaped parts, with the badge and detail CSS in its shadow root."""
    params.setdefault("margin", (0, 10))
    return pn.pane.HTML(text, stylesheets=[status_css(), DETAIL_CSS], **params)


def section(title: str, *objects: Any) -> pn.Column:
    return pn.Column(pn.pane.HTML(f"<h4 style='margin:10px 0 2px 0'>{esc(title)}</h4>",
                                  margin=(0, 10)),
                     *objects, sizing_mode="stretch_width")
