"""DisplayName: LUTE's display_name as tab and page, validated before it names a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from lute_model.summaries import (
    DEFAULT_TAB,
    MAX_NAME_BYTES,
    DisplayName,
    InvalidDisplayName,
    display_name_of_report,
)


def test_scans_my_motor_scan_is_page_my_motor_scan_in_tab_scans():
    name = DisplayName.parse("scans/my_motor_scan")
    assert (name.tab, name.page) == ("scans", "my_motor_scan")
    assert name.report_path("/root/summary") == Path(
        "/root/summary/scans/my_motor_scan/report.html")


def test_deeper_names_keep_their_nesting_in_the_page():
    name = DisplayName.parse("a/b/c")
    assert (name.tab, name.page, name.parts) == ("a", "b/c", ("a", "b", "c"))
    deep = DisplayName.parse("calib/jungfrau1M/gain modes/r0030")
    assert (deep.tab, deep.page) == ("calib", "jungfrau1M/gain modes/r0030")
    assert deep.run == 30


def test_single_part_name_is_a_page_in_the_summary_tab():
    name = DisplayName.parse("overview")
    assert DEFAULT_TAB == "Summary"
    assert (name.tab, name.page) == ("Summary", "overview")
    assert name.report_path("/s") == Path("/s/overview/report.html")


@pytest.mark.parametrize(("raw", "tab", "page", "run"), [
    ("detector images/r0033", "detector images", "r0033", 33),
    ("Übersicht/Probenhalter r0031", "Übersicht", "Probenhalter r0031", 31),
    ("Δt-Scan (fs)/r0031", "Δt-Scan (fs)", "r0031", 31),
    ("サンプル/r0031", "サンプル", "r0031", 31),
    ("r0012/powders", "r0012", "powders", 12),
    ("Geometry_Fit/r0012", "Geometry_Fit", "r0012", 12),
    ("XAS/0012_XAS", "XAS", "0012_XAS", 12),
    ("r7/powders", "r7", "powders", 7),
    ("time_scans/0012_By_Event_XSS", "time_scans", "0012_By_Event_XSS", 12),
    ("scans/my_motor_scan", "scans", "my_motor_scan", None),
    ("calib/jungfrau1M", "calib", "jungfrau1M", None),
])
def test_tab_page_and_run_of_real_display_names(raw, tab, page, run):
    name = DisplayName.parse(raw)
    assert (name.tab, name.page, name.run) == (tab, page, run)
    assert str(name) == raw


@pytest.mark.parametrize(("raw", "reason"), [
    ("..", "'..'"),
    ("a/../b", "'..'"),
    ("./a", "'.'"),
    ("/etc/passwd", "absolute"),
    ("a\\b", "backslash"),
    ("..\\..\\windows", "backslash"),
    ("a\x00b", "NUL"),
    ("", "empty"),
    ("a//b", "empty part"),
    ("a/", "empty part"),
    ("/", "absolute"),
    ("a/ /b", "empty part"),
    ("a/b\nc", "control character"),
    ("tab\x1b[31m/red", "control character"),
    ("a/\x7f", "control character"),
    ("x" * 2048, "longer than"),
    ("ü" * 600, "longer than"),
])
def test_unsafe_display_names_are_rejected_with_the_reason(raw, reason):
    with pytest.raises(InvalidDisplayName, match=reason.replace("(", r"\(")):
        DisplayName.parse(raw)


def test_rejection_message_shows_the_name_but_not_2kb_of_it():
    with pytest.raises(InvalidDisplayName) as err:
        DisplayName.parse("a" * 300 + "//b")
    assert len(str(err.value)) < 300


def test_name_at_the_length_limit_is_accepted():
    assert DisplayName.parse("x" * MAX_NAME_BYTES).page == "x" * MAX_NAME_BYTES


def test_non_text_display_name_is_rejected():
    with pytest.raises(InvalidDisplayName, match="must be text"):
        DisplayName.parse(b"scans/x")  # type: ignore[arg-type]


def test_invalid_display_name_is_a_value_error():
    assert issubclass(InvalidDisplayName, ValueError)


SDF = "/sdf/data/lcls/ds"


@pytest.mark.parametrize(("path", "experiment", "expected"), [
    (f"{SDF}/cxi/cxil1005322/stats/summary/r7/powders/report.html", None, "r7/powders"),
    (f"{SDF}/cxi/cxil1005322/stats/summary/r7/powders/report.html", "cxil1005322", "r7/powders"),
    (f"{SDF}/cxi/cxil1005322/stats/summary/r7/powders/report.html", "mfxp1001123", None),
    (f"{SDF}/mfx/mfxp1001123/stats/summary/calib/jungfrau1M/gain modes/r0030/report.html",
     "mfxp1001123", "calib/jungfrau1M/gain modes/r0030"),
    (f"{SDF}/mfx/mfxp1001123/stats/summary/サンプル/r0031/report.html", None, "サンプル/r0031"),
    (f" {SDF}/mfx/mfxp1001123/stats/summary/quicklook/r0034/report.html\n", None,
     "quicklook/r0034"),
    (f"{SDF}/mfx/mfxp1001123/stats/summary/overview/report.html", None, "overview"),
    (f"{SDF}/mfx/mfxp1001123/stats/summary/report.html", None, None),
    (f"{SDF}/mfx/mfxp1001123/stats/summary/a/../../b/report.html", None, None),
    (f"{SDF}/mfx/mfxp1001123/stats/summary/r1/plot.png", None, None),
    (f"{SDF}/mfx/mfxp1001123/work_dir/r1/report.html", None, None),
    ("/sdf/data/lcls/ds/cxi/cxil1005322/thermo_CCstar_n12.dat", None, None),
    ("report.html", None, None),
    ("", None, None),
])
def test_display_name_of_report_reads_facility_paths(path, experiment, expected):
    assert display_name_of_report(path, experiment) == expected
