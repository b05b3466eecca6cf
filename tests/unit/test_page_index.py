"""Tabs, page kinds and previous/next run over summary pages, including 10,000 of them."""

from __future__ import annotations

import pytest

from lute_model.page_index import (
    group_tabs,
    latest_of_kind,
    natural_key,
    neighbour,
    page_index,
    page_kind,
    pages_in_tab,
)
from lute_model.summaries import DisplayName

CXI_PAGES = ["Geometry_Fit/r0004", "Geometry_Fit/r0005", "r18/CCstar",
             *(f"r{run}/powders" for run in (7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18))]


def as_pages(names: list[str]) -> dict[str, None]:
    return dict.fromkeys(names)


def test_natural_key_orders_numbers_as_numbers_ignoring_case() -> None:
    names = ["r12", "R2", "r1", "run 100", "Run 20", "a", "B"]
    assert sorted(names, key=natural_key) == ["a", "B", "r1", "R2", "r12", "Run 20", "run 100"]


def test_natural_key_sorts_any_mix_of_names() -> None:
    names = ["XAS", "0012_XAS", "12", "Δt-Scan (fs)", "サンプル", "", "r12", "r0012", "2"]
    assert sorted(names, key=natural_key) == ["", "2", "12", "0012_XAS", "r0012", "r12", "XAS",
                                              "Δt-Scan (fs)", "サンプル"]


def test_group_tabs_puts_runs_behind_named_tabs_newest_first() -> None:
    named, runs = group_tabs(["r7", "XAS", "r0012", "Geometry_Fit", "run9", "0011", "scans",
                              "0012_XAS", "r7"])
    assert named == ["0012_XAS", "Geometry_Fit", "scans", "XAS"]
    assert runs == ["r0012", "0011", "run9", "r7"]


@pytest.mark.parametrize(("name", "expected"), [
    ("r0012/powders", ("{run}/powders", 12)),
    ("Geometry_Fit/r0012", ("Geometry_Fit/{run}", 12)),
    ("XAS/0012_XAS", ("XAS/{run}_XAS", 12)),
    ("calib/jungfrau1M/gain modes/r0030", ("calib/jungfrau1M/gain modes/{run}", 30)),
    ("Übersicht/Probenhalter r0031", ("Übersicht/Probenhalter {run}", 31)),
    ("run_7/powders", ("{run}/powders", 7)),
    ("scans/my_motor_scan", None),
    ("overview", None),
])
def test_page_kind_replaces_the_run_token(name: str, expected: tuple[str, int] | None) -> None:
    assert page_kind(name) == expected


@pytest.mark.parametrize("name", ["r0012/powders", "XAS/0012_XAS", "a/r3/b/r0009",
                                  "Übersicht/Probenhalter r0031", "time_scans/0012_By_Event_XSS"])
def test_page_kind_agrees_with_display_name_run(name: str) -> None:
    kind = page_kind(name)
    assert kind is not None and kind[1] == DisplayName.parse(name).run


def test_neighbour_steps_over_missing_runs() -> None:
    pages = as_pages(CXI_PAGES)
    assert neighbour(pages, "r7/powders", +1) == "r8/powders"
    assert neighbour(pages, "r11/powders", -1) == "r9/powders"
    assert neighbour(pages, "r9/powders", +1) == "r11/powders"
    assert neighbour(pages, "r7/powders", -1) is None
    assert neighbour(pages, "r18/powders", +1) is None
    assert neighbour(pages, "r18/CCstar", +1) is None
    assert neighbour(pages, "Geometry_Fit/r0004", +1) == "Geometry_Fit/r0005"


def test_neighbour_of_a_deleted_page_leads_on_from_its_run() -> None:
    pages = as_pages(CXI_PAGES)
    assert neighbour(pages, "r10/powders", +1) == "r11/powders"
    assert neighbour(pages, "r10/powders", -1) == "r9/powders"


def test_neighbour_of_a_page_without_run_is_none() -> None:
    assert neighbour(as_pages(["scans/a", "scans/b"]), "scans/a", +1) is None


def test_latest_of_kind() -> None:
    pages = as_pages(CXI_PAGES)
    assert latest_of_kind(pages, "r7/powders") == "r18/powders"
    assert latest_of_kind(pages, "r18/CCstar") == "r18/CCstar"
    assert latest_of_kind(pages, "Geometry_Fit/r0004") == "Geometry_Fit/r0005"
    assert latest_of_kind(pages, "scans/a") is None


def test_pages_in_tab_are_in_natural_order() -> None:
    pages = as_pages(["calib/b/r10", "calib/b/r9", "calib/a", "overview", "r1/x"])
    assert pages_in_tab(pages, "calib") == ["calib/a", "calib/b/r9", "calib/b/r10"]
    assert pages_in_tab(pages, "Summary") == ["overview"]
    assert pages_in_tab(pages, "missing") == []


def test_index_is_built_once_per_pages_dict() -> None:
    pages = as_pages(CXI_PAGES)
    assert page_index(pages) is page_index(pages)
    newer = {**pages, "r19/powders": None}
    assert page_index(newer) is not page_index(pages)
    assert latest_of_kind(newer, "r7/powders") == "r19/powders"


def test_ten_thousand_pages_are_indexed_once_and_answered_from_the_index() -> None:
    pages = as_pages([f"r{run:04d}/{kind}" for run in range(1, 5001)
                      for kind in ("powders", "peaks")])
    index = page_index(pages)
    for run in range(1, 1001):
        assert neighbour(pages, f"r{run:04d}/powders", +1) == f"r{run + 1:04d}/powders"
        assert latest_of_kind(pages, f"r{run:04d}/peaks") == "r5000/peaks"
    assert page_index(pages) is index, "look-ups reuse the index, they do not rebuild it"
    assert neighbour(pages, "r5000/powders", -1) == "r4999/powders"
    named, runs = group_tabs(page_index(pages).tabs)
    assert named == [] and runs[0] == "r5000" and len(runs) == 5000
