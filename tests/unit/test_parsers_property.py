"""Our text parsers against any input (hypothesis): none raises an unexpected error or hangs.

Summaries, display names, journal lines and status strings are written by
analysis code and people; whatever they hold, the dashboard must go on.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lute_model.sources.journal import JournalReader
from lute_model.status import TaskStatus, UnknownStatus, parse_status
from lute_model.summaries import DisplayName, InvalidDisplayName
from lute_model.summary_text import report_paths, split_summary
from lute_model.values import parse_value, values_of

#: Text shaped like LUTE's summaries: pairs, numbers, arrays, paths, separators.
_PIECES = st.sampled_from([
    "Hit rate: ", "0.16", ";", ": ", "\n", "[1.0 2.0\n 3.0]", "(70.4, 69.1)", "1e999", "-",
    "nan", "/sdf/data/lcls/ds/mfx/mfx1/stats/summary/r1/p/report.html", "{", "}", "[", "]",
    '"k": ', ",", "\x00", "\ud800", "Rsplit: ", " ", "12", "e5", ".",
])
SUMMARIES = st.one_of(st.text(), st.lists(_PIECES, max_size=40).map("".join))
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _is_value(value: object) -> bool:
    if isinstance(value, (int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, list) and all(isinstance(v, float) and math.isfinite(v)
                                           for v in value)


@FAST
@given(SUMMARIES)
def test_values_of_any_summary_are_named_numbers_texts_or_arrays(summary: str):
    values = values_of(summary)
    assert all(isinstance(name, str) and name for name in values)
    assert all(_is_value(value) for value in values.values())
    json.dumps(values)  # what inspect --json prints


@FAST
@given(st.dictionaries(st.text(max_size=20), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3), max_leaves=10)))
def test_values_of_a_json_summary_keep_its_numbers(document: dict):
    values = values_of(json.dumps(document))
    assert all(_is_value(value) for value in values.values())
    for key, item in document.items():
        name = " ".join(key.split())
        if (name and isinstance(item, int) and not isinstance(item, bool)
                and abs(item) < 10**18 and list(document).count(key) == 1):
            assert values.get(name) == item or name not in values or any(
                other != key and " ".join(other.split()) == name for other in document)


@FAST
@given(SUMMARIES)
def test_split_summary_and_report_paths_never_raise(summary: str):
    items = split_summary(summary)
    assert all(item.kind in ("pair", "report", "text") for item in items)
    assert all(path.endswith("/report.html") for path in report_paths(summary, summary))


@FAST
@given(st.text())
def test_parse_value_is_a_value(text: str):
    assert _is_value(parse_value(text))


def test_parse_value_reads_what_lute_prints():
    assert parse_value(" 57345 ") == 57345
    assert parse_value("0.16") == 0.16
    assert parse_value("[1.089 0.922 2782 9.18 0.889 1.289]") == [
        1.089, 0.922, 2782.0, 9.18, 0.889, 1.289]
    assert parse_value("[9.450000e-01 9.412599e-01\n 1.145000e+00]") == [0.945, 0.9412599, 1.145]
    assert parse_value("(70.4, 69.1)") == [70.4, 69.1]
    assert parse_value("1e999") == "1e999" and parse_value("nan") == "nan"
    assert parse_value("yes") == "yes"


@FAST
@given(st.text(max_size=300))
def test_display_names_parse_or_say_why(raw: str):
    try:
        name = DisplayName.parse(raw)
    except InvalidDisplayName:
        return
    assert name.path and name.tab and "/" not in name.tab


@FAST
@given(st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.binary(),
                 st.booleans()))
def test_any_status_value_is_a_status_or_unknown(raw: object):
    assert isinstance(parse_status(raw), (TaskStatus, UnknownStatus))


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.one_of(
    st.binary(max_size=200),
    st.builds(lambda task, run, status, time: json.dumps(
        {"task": task, "run": run, "status": status, "time": time}).encode(),
        st.text(max_size=20), st.one_of(st.text(max_size=5), st.integers()),
        st.text(max_size=12), st.sampled_from(["2030-01-01T00:00:00Z", "x", ""]))),
    max_size=20))
def test_any_journal_content_is_rows_or_problems(tmp_path_factory, lines: list[bytes]):
    journal = Path(tmp_path_factory.mktemp("journal")) / "lute_status.jsonl"
    content = b"\n".join(lines) + b"\n"
    journal.write_bytes(content)
    delta = JournalReader(journal).refresh()
    assert len(delta.rows) <= content.count(b"\n")  # a row may come with a problem too
    assert all(isinstance(row.status, (TaskStatus, UnknownStatus)) for row in delta.rows)
