"""Payload previews: the detail view shows these, so each kind of payload LUTE stores is here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from lute_model.discovery import discover
from lute_model.experiment import Experiment
from lute_model.payloads import FIRST_VALUES, HEX_BYTES, preview

DATA = Path(__file__).parent.parent / "data"
REPORT = "/sdf/data/lcls/ds/mfx/mfxp1001123/stats/summary/quicklook/r0034/report.html"


def test_no_payload_is_said_plainly() -> None:
    shown = preview(None, "null", 100)
    assert shown.empty and shown.note == "no payload."


def test_text_is_cut_at_the_limit_and_says_so() -> None:
    shown = preview("x" * 50, "text", 10)
    assert shown.text == "x" * 10 and shown.truncated and shown.size == 50


def test_size_counts_bytes_not_characters() -> None:
    assert preview("Δt", "text", 10).size == 3


def test_json_object_is_pretty_printed() -> None:
    shown = preview(json.dumps({"a": [1, 2], "b": "ü"}), "text", 1000)
    assert shown.json is not None and '"a": [' in shown.json and "ü" in shown.json


def test_bare_json_number_and_broken_json_stay_text() -> None:
    assert preview("42", "text", 100).json is None
    assert preview("{not json", "text", 100).json is None


def test_report_paths_in_a_payload_are_found() -> None:
    shown = preview(f"{REPORT};/elsewhere/notes.txt", "text", 1000)
    assert shown.reports == [REPORT]


def test_float64_blob_is_summarized_as_an_array() -> None:
    values = np.arange(100, dtype="<f8") - 10.0
    shown = preview(values.tobytes(), "blob", 1000)
    assert shown.array is not None
    assert shown.array.count == 100 and shown.array.minimum == -10.0
    assert shown.array.maximum == 89.0 and shown.array.mean == float(values.mean())
    assert shown.array.first == tuple(values[:FIRST_VALUES]) and shown.size == 800


def test_array_of_zeros_is_an_array_not_text_of_nuls() -> None:
    shown = preview(bytes(64), "blob", 1000)
    assert shown.array is not None and shown.array.count == 8 and shown.text == ""


def test_nan_and_inf_are_counted_but_left_out_of_the_statistics() -> None:
    shown = preview(np.array([np.nan, 1.0, np.inf, 3.0]).tobytes(), "blob", 100)
    assert shown.array.count == 4 and shown.array.finite == 2 and shown.array.mean == 2.0


def test_all_nan_array_has_no_statistics() -> None:
    shown = preview(np.full(3, np.nan).tobytes(), "blob", 100)
    assert shown.array.minimum is None and shown.array.mean is None


def test_partial_read_keeps_the_stored_size() -> None:
    shown = preview(np.ones(4).tobytes(), "blob", 100, size=10_000)
    assert shown.size == 10_000 and "first 32 bytes" in shown.note


def test_blob_holding_utf8_text_is_shown_as_text() -> None:
    shown = preview(REPORT.encode(), "blob", 1000)
    assert shown.text == REPORT and shown.reports == [REPORT] and shown.array is None


def test_odd_sized_binary_is_shown_as_hex_and_a_pickle_is_never_loaded() -> None:
    pickled = b"\x80\x04\x95" + bytes(range(200))
    shown = preview(pickled[:101], "blob", 1000)
    assert shown.array is None and "pickle" in shown.note
    assert shown.text.startswith("80 04 95") and len(shown.text.split()) == HEX_BYTES


def test_testsocket_payload_of_the_example_is_an_array(tmp_path: Path) -> None:
    shutil.copytree(DATA / "mfxp1001123", tmp_path / "mfxp1001123")
    (source,), _ = discover([tmp_path / "mfxp1001123"])
    experiment = Experiment(source)
    experiment.refresh()
    row = experiment.latest[("TestSocket", 32)]
    value = experiment.reader_for(row).read_value(row.task, row.rowid, "result.payload")
    shown = preview(value, row.payload.kind, 1000)
    assert shown.size == 320_000 and shown.array is not None and shown.array.count == 40_000
