"""How the Runs table's columns look: titles, client-side formatters, widths, the chooser.

Formatting happens in the browser (no pandas Styler: the Styler colors every
cell on the server, seconds for 10,000 runs), by JavaScript functions Tabulator
compiles once per column: Bokeh's ``HTMLTemplateFormatter`` compiles its
template again for every cell and copies the whole row into each call, which
for 60 columns made the first screen seconds slower.  Every string from disk
reaches the page escaped: titles through a template (Tabulator puts a
title in as HTML), text cells through Tabulator's ``plaintext`` formatter, run
labels as a text node.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import pandas as pd
import panel as pn
from bokeh.models import CellEditor, StringFormatter, TableColumn
from markupsafe import Markup
from panel.io.model import JSCode

from dashboard.views.templates import HtmlTemplate, visible
from lute_model.run_table import LABEL, NUMBER, RUN, STATUS, RunColumn, link_of
from lute_model.status import SYMBOL

RUN_TITLE = "run"
#: The pieces of a CamelCase name (any text: other characters stay with the piece before).
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[^A-Z]+")
WIDTHS = {STATUS: 120, NUMBER: 130}
ROW_HEIGHT = 30
TEXT_WIDTH = 220

#: A status cell: the palette's color, the status's glyph and name, or nothing where the
#: Task never ran.  Only our enum's names become an element (one per status, cloned per
#: cell): any other value shows nothing.  Cells get nodes, not HTML strings, which
#: Tabulator would give the HTML parser once per cell and redraw.
STATUS_FORMAT = JSCode("""(() => {
  const symbols = """ + json.dumps(SYMBOL.by_name()) + """;
  const spans = new Map();
  return (cell) => {
    const value = cell.getValue();
    if (!Object.prototype.hasOwnProperty.call(symbols, value)) return "";
    if (!spans.has(value)) {
      const span = document.createElement("span");
      span.className = `st st-${value}`;
      span.title = value;
      span.textContent = `${symbols[value]} ${value}`;
      spans.set(value, span);
    }
    return spans.get(value).cloneNode(true);
  };
})()""")
#: Numbers as people read them (82,634 and 0.31); very small or large ones in exponent form.
NUMBER_FORMAT = JSCode("""(() => {
  const plain = new Intl.NumberFormat("en-US", {maximumFractionDigits: 4});
  return (cell) => {
    const value = cell.getValue();
    if (typeof value !== "number" || !isFinite(value)) return "";
    const size = Math.abs(value);
    return document.createTextNode(size !== 0 && (size < 1e-3 || size >= 1e15)
                                   ? value.toExponential(3) : plain.format(value));
  };
})()""")
#: The run as LUTE labelled it, as text (never markup); its number sorts and filters.
RUN_FORMAT = JSCode("(cell) => document.createTextNode(String(cell.getData()." + LABEL +
                    " ?? ''))")

#: Tabulator options.  60 columns made the first screen slow in the browser, every
#: redraw measuring each header and row (bench/load.py, 10,000 runs × 20 Tasks): only the
#: columns and rows in view are rendered (``renderHorizontal``; a small vertical buffer),
#: rows have one height (not measured cell by cell), and the columns are not grouped by
#: Task (groups doubled the layouts and cannot be rendered virtually): each title names
#: its Task instead.
TABLE_CONFIGURATION = {"columnDefaults": {"headerWordWrap": True},
                       "renderHorizontal": "virtual", "renderVerticalBuffer": 120,
                       "rowHeight": ROW_HEIGHT}

#: Header titles wrap (a long Task name too), the Task muted above the value; the table's
#: CSS lives in its shadow root.  A row is at least ``rowHeight`` tall before its cells
#: are sized: Tabulator fills the screen with rows until their measured heights add up
#: to it, and rows measured a pixel short (29 of 30) made it render a second screenful
#: on every redraw (44 rows instead of 22).
TABLE_CSS = """
.tabulator .tabulator-header .tabulator-col .tabulator-col-content .tabulator-col-title-wrap {
  overflow-wrap: break-word; line-height: 1.25;
}
.tabulator .tabulator-header .tabulator-col .rt-task {
  font-weight: 400; opacity: 0.7; font-size: 0.9em;
}
.tabulator-row .tabulator-cell { cursor: pointer; }
""" + f".tabulator .tabulator-tableholder .tabulator-row {{ min-height: {ROW_HEIGHT}px; }}\n"


class LeanTabulator(pn.widgets.Tabulator):
    """Panel's Tabulator whose columns share one Bokeh formatter and one editor model.

    Panel gives every column a formatter and an editor model of its own: for the
    Runs view's 61 columns, 122 models more than needed that each session builds
    (a quarter of its page's build on the server), serializes and the browser
    decodes.  Here every
    column's look comes from ``configuration`` (its formatter as JavaScript or a
    Tabulator formatter name, its alignment as ``hozAlign``) and the table is never
    edited, so Tabulator reads neither model but for its type: one of each serves
    every column, and a column model carries only its field, title and width.
    """

    #: Not Panel's Font Awesome (59 kB of rules that every style recalculation in the
    #: table matched against): no icon of it is used, by Panel's table or by ours.
    _stylesheets: ClassVar[list[str]] = []

    def _get_column_definitions(self, col_names: list[str],
                                df: pd.DataFrame) -> list[TableColumn]:
        formatter, editor = StringFormatter(), CellEditor()
        widths = self.widths if isinstance(self.widths, dict) else {}
        return [TableColumn(field=str(name), title=self.titles.get(name, str(name)),
                            width=widths.get(str(name), 0), formatter=formatter, editor=editor)
                for name in col_names]


_TITLE = HtmlTemplate(
    '<span class="rt-task">{% for piece in pieces %}{% if not loop.first %}<wbr>{% endif %}'
    '{{ piece }}{% endfor %}</span><br><span>{{ value or "status" }}</span>')


def column_title(column: RunColumn) -> Markup:
    """A header: the Task (muted) over the value, or over "status"; both escaped.

    A Task name may break before each capital (``Find·Peaks·Py·Algos``): CamelCase has no
    spaces, and cut anywhere it reads badly in a narrow column.
    """
    return _TITLE(pieces=_CAMEL.findall(column.task), value=column.value)


def table_config(columns: tuple[RunColumn, ...]) -> dict[str, Any]:
    """Tabulator parameters for these columns: titles, formatters, widths and alignment."""
    formatters: dict[str, Any] = {RUN: RUN_FORMAT}
    titles, widths, align = {RUN: RUN_TITLE}, {RUN: 80}, {RUN: "right"}
    tooltips = {}
    for column in columns:
        key = column.key
        # Tabulator puts titles in as HTML; the tooltip is an attribute, set as text.
        titles[key] = str(column_title(column))
        tooltips[key] = visible(column.title)
        widths[key] = WIDTHS.get(column.kind, TEXT_WIDTH)
        if column.kind == STATUS:
            formatters[key] = STATUS_FORMAT
        elif column.kind == NUMBER:
            formatters[key] = NUMBER_FORMAT
            align[key] = "right"
        else:
            formatters[key] = {"type": "plaintext"}
    return {"titles": titles, "formatters": formatters, "widths": widths,
            "text_align": align, "header_tooltips": tooltips}


def column_options(columns: tuple[RunColumn, ...]) -> dict[str, str]:
    """The chooser's options, label -> the column's part of a link (stable across states).

    Bokeh puts a checkbox's label in as text: it is only made visible, not escaped.
    """
    return {visible(column.title): link_of([column]) for column in columns}


_FILTERS = HtmlTemplate(
    "{% for title, low, high in filters %}{% if loop.first %}<b>Filtered:</b> {% else %}; "
    "{% endif %}"
    "{% if low is not none and high is not none %}{{ number(low) }} ≤ {{ title }} ≤ "
    "{{ number(high) }}{% elif low is not none %}{{ title }} ≥ {{ number(low) }}"
    "{% else %}{{ title }} ≤ {{ number(high) }}{% endif %}{% endfor %}")


def filter_note(filters: list[tuple[str, float | None, float | None]]) -> Markup:
    """The active range filters in words, e.g. ``FindPeaksPyAlgos · Fractional hit rate ≥ 0.2``."""
    return _FILTERS(filters=filters, number=_number)


def _number(value: float | None) -> str:
    return format(value, "g") if value is not None else ""
