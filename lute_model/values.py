"""The named values a Task reported in its summary: numbers, text and arrays, per execution.

LUTE's summaries already carry the numbers a beamline steers by
(``Number of hits found: 9077;Fractional hit rate: 0.16;…``,
``Rsplit: [1.089 0.922 2782 9.18 0.889 1.289]``); newer LUTE may store a dict
(as JSON).  This is the one parser that turns a summary into ``{name: value}``
for the runs table, trends and comparisons; report paths stay what
:func:`lute_model.summary_text.report_paths` makes of them.  It never raises:
a summary is whatever a Task wrote.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from lute_model.summary_text import split_summary

Value = int | float | str | list[float]

#: A number as LUTE's summaries print them (Python and numpy reprs).
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
#: ``[1 2 3]``, ``[1.0, 2.0]`` or ``(70.4, 69.1)``: a flat sequence of numbers.
_SEQUENCE = re.compile(r"^\s*[\[(](?P<body>[^\[\]()]*)[\])]\s*$", re.DOTALL)
#: Longer text values are cut: a value is a cell of a table, not a document.
TEXT_KEEP = 200
#: Longer arrays are not values (a printed image is no column).
ARRAY_KEEP = 10_000


def parse_value(text: str) -> Value:
    """One value: an int or a float when the whole text is a number, a list of floats for a
    flat printed sequence of numbers, else the text itself (cut at :data:`TEXT_KEEP`)."""
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        number = _number(stripped)
        if number is not None:
            return number
    match = _SEQUENCE.match(stripped)
    if match:
        items = [item for item in re.split(r"[\s,]+", match.group("body").strip()) if item]
        if 0 < len(items) <= ARRAY_KEEP and all(_NUMBER.fullmatch(item) for item in items):
            numbers = [float(item) for item in items]
            if all(math.isfinite(n) for n in numbers):
                return numbers
    return stripped[:TEXT_KEEP]


def _number(text: str) -> int | float | None:
    """The number, or None when it is too large to be one (``1e999``)."""
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text) if len(text) <= 18 else None
    number = float(text)
    return number if math.isfinite(number) else None


def values_of(summary: str) -> dict[str, Value]:
    """The named values of a summary, in their order; a repeated name gets `` (2)``, …"""
    found: dict[str, Value] = {}
    for name, value in _pairs(summary):
        name = " ".join(name.split())[:TEXT_KEEP]
        if not name:
            continue
        unique, n = name, 2
        while unique in found:
            unique, n = f"{name} ({n})", n + 1
        found[unique] = value
    return found


def _pairs(summary: str) -> list[tuple[str, Value]]:
    """(name, value) pairs of a ``key: value;…`` summary or of one stored as JSON."""
    if summary.lstrip().startswith("{"):
        try:
            document = json.loads(summary)
        except ValueError:
            document = None
        if isinstance(document, dict):
            return [(str(key), _json_value(item)) for key, item in document.items()]
    return [(item.key, parse_value(item.value)) for item in split_summary(summary)
            if item.kind == "pair"]


def _json_value(item: Any) -> Value:
    """A JSON value as a :data:`Value`: numbers stay numbers, flat number lists arrays."""
    if isinstance(item, bool):
        return str(item).lower()
    if isinstance(item, int):
        return item if abs(item) < 10**18 else str(item)
    if isinstance(item, float):
        return item if math.isfinite(item) else str(item)
    if isinstance(item, str):
        return parse_value(item)
    if (isinstance(item, list) and 0 < len(item) <= ARRAY_KEEP
            and all(isinstance(n, (int, float)) and not isinstance(n, bool)
                    and math.isfinite(n) for n in item)):
        return [float(n) for n in item]
    return json.dumps(item, ensure_ascii=False)[:TEXT_KEEP]


def numeric_names(values: dict[str, Value]) -> list[str]:
    """The names whose value is a number: what a table column or a trend can show."""
    return [name for name, value in values.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)]
