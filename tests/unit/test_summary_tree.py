"""SummaryTreeReader: every report page below stats/summary, and nothing outside it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lute_model.paths import UnsafePath, is_inside, safe_join
from lute_model.sources.summary_tree import SummaryTreeReader

DATA = Path(__file__).parents[1] / "data"
MANIFEST = json.loads((DATA / "MANIFEST.json").read_text(encoding="utf-8"))["examples"]
EXAMPLES = sorted(MANIFEST)


def _page(root: Path, name: str, body: str = "<html>page</html>") -> Path:
    report = root.joinpath(*name.split("/"), "report.html")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(body, encoding="utf-8")
    return report


def _bump(folder: Path) -> None:
    """Move a folder's mtime forward, as a later write on a coarse-clock file system would."""
    stat = folder.stat()
    os.utime(folder, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_page_of_the_examples_is_found_with_tab_page_and_bytes(name, example_copy):
    root = example_copy(name) / "stats" / "summary"
    reader = SummaryTreeReader(root)
    delta = reader.refresh()
    assert delta.problems == [] and delta.removed == []
    pages = reader.pages()
    expected = {p["display_name"]: p for p in MANIFEST[name]["summary_pages"]}
    assert sorted(pages) == sorted(expected)
    assert sorted(p.display_name for p in delta.changed) == sorted(expected)
    for display_name, info in expected.items():
        page = pages[display_name]
        assert (page.tab, page.page, page.size) == (info["tab"], info["page"], info["bytes"])
        assert page.empty == info["zero_bytes"]
        assert page.report == root.joinpath(*display_name.split("/"), "report.html")
    assert sorted({p.tab for p in pages.values()}) == sorted(MANIFEST[name]["tabs"])


def test_zero_byte_pages_and_orphans_are_included(example_copy):
    reader = SummaryTreeReader(example_copy("mfxp1001123") / "stats" / "summary")
    reader.refresh()
    pages = reader.pages()
    assert pages["detector images/r0033"].empty
    assert pages["quicklook/r0034"].empty
    assert pages["detector images/r0033"].run == 33
    assert not pages["nozzle_scan/r0035"].empty


def test_geometry_orphan_page_is_found(example_copy):
    reader = SummaryTreeReader(example_copy("cxil1005322") / "stats" / "summary")
    reader.refresh()
    orphan = reader.pages()["Geometry_Fit/r0005"]
    assert (orphan.tab, orphan.page, orphan.run, orphan.size) == (
        "Geometry_Fit", "r0005", 5, 288_526)


def test_symlink_to_a_folder_outside_the_tree_is_not_followed(tmp_path):
    root = tmp_path / "summary"
    _page(root, "scans/r1")
    outside = tmp_path / "elsewhere"
    _page(outside, "secret")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    reader = SummaryTreeReader(root)
    delta = reader.refresh()
    assert sorted(reader.pages()) == ["scans/r1"]
    assert [p.message for p in delta.problems] == [
        "symlink to a folder outside the summary tree; not followed."]
    assert delta.problems[0].path == str(root / "linked")


def test_symlink_to_a_folder_inside_the_tree_is_not_walked_twice(tmp_path):
    root = tmp_path / "summary"
    _page(root, "scans/r1")
    (root / "alias").symlink_to(root / "scans", target_is_directory=True)
    (root / "scans" / "loop").symlink_to(root, target_is_directory=True)
    reader = SummaryTreeReader(root)
    delta = reader.refresh()
    assert sorted(reader.pages()) == ["scans/r1"]
    assert delta.problems == []


def test_report_symlink_pointing_outside_is_skipped_with_a_problem(tmp_path):
    root = tmp_path / "summary"
    secret = tmp_path / "secret.html"
    secret.write_text("<html>private</html>")
    (root / "leak" / "r1").mkdir(parents=True)
    (root / "leak" / "r1" / "report.html").symlink_to(secret)
    _page(root, "good/r1")
    reader = SummaryTreeReader(root)
    delta = reader.refresh()
    assert sorted(reader.pages()) == ["good/r1"]
    (problem,) = delta.problems
    assert problem.path == str(root / "leak" / "r1" / "report.html")
    assert "symlink" in problem.message and "outside" in problem.message


def test_report_symlink_inside_the_tree_is_a_page(tmp_path):
    root = tmp_path / "summary"
    target = _page(root, "scans/r1", "<html>12345</html>")
    (root / "latest").mkdir()
    (root / "latest" / "report.html").symlink_to(target)
    reader = SummaryTreeReader(root)
    assert reader.refresh().problems == []
    assert reader.pages()["latest"].size == len("<html>12345</html>")


def test_report_html_that_is_a_folder_is_a_problem(tmp_path):
    root = tmp_path / "summary"
    (root / "scans" / "r1" / "report.html").mkdir(parents=True)
    reader = SummaryTreeReader(root)
    delta = reader.refresh()
    assert reader.pages() == {}
    (problem,) = delta.problems
    assert problem.message == "report.html is a folder, not a page; skipped."
    assert problem.path == str(root / "scans" / "r1" / "report.html")


def test_sibling_summary_old_is_not_part_of_the_summary_tree(tmp_path):
    stats = tmp_path / "stats"
    _page(stats / "summary", "scans/r1")
    _page(stats / "summary_old", "scans/r0")
    (stats / "summary" / "old").symlink_to(stats / "summary_old", target_is_directory=True)
    reader = SummaryTreeReader(stats / "summary")
    delta = reader.refresh()
    assert sorted(reader.pages()) == ["scans/r1"]
    assert [p.path for p in delta.problems] == [str(stats / "summary" / "old")]


def test_summary_old_is_not_inside_summary_although_its_name_starts_the_same(tmp_path):
    stats = tmp_path / "stats"
    _page(stats / "summary", "scans/r1")
    old = _page(stats / "summary_old", "scans/r1")
    assert not is_inside(stats / "summary", old)
    assert is_inside(stats / "summary", stats / "summary" / "scans" / "r1" / "report.html")
    with pytest.raises(UnsafePath, match=r"\.\."):
        safe_join(stats / "summary", "../summary_old/scans/r1/report.html")
    (stats / "summary" / "old").symlink_to(stats / "summary_old", target_is_directory=True)
    with pytest.raises(UnsafePath, match="leaves its root"):
        safe_join(stats / "summary", "old/scans/r1/report.html")


def test_hidden_folders_are_not_pages(tmp_path):
    root = tmp_path / "summary"
    _page(root, "scans/r1")
    _page(root, ".snapshot/scans/r1")
    _page(root, "scans/.ipynb_checkpoints")
    reader = SummaryTreeReader(root)
    reader.refresh()
    assert sorted(reader.pages()) == ["scans/r1"]


def test_report_directly_in_the_root_is_not_a_page(tmp_path):
    root = tmp_path / "summary"
    root.mkdir()
    (root / "report.html").write_text("<html/>")
    reader = SummaryTreeReader(root)
    assert reader.refresh().problems == []
    assert reader.pages() == {}


def test_folder_names_that_cannot_be_display_names_are_skipped_with_a_problem(tmp_path):
    root = tmp_path / "summary"
    _page(root, "scans/bad\\name")
    _page(root, "scans/r1")
    reader = SummaryTreeReader(root)
    delta = reader.refresh()
    assert sorted(reader.pages()) == ["scans/r1"]
    assert any("backslash" in p.message for p in delta.problems)


def test_new_page_folder_appears_on_refresh(tmp_path):
    root = tmp_path / "summary"
    _page(root, "scans/r1")
    reader = SummaryTreeReader(root)
    reader.refresh()
    _page(root, "scans/r2")
    _page(root, "Übersicht/Probenhalter r0040")
    _bump(root / "scans")
    _bump(root)
    delta = reader.refresh()
    assert sorted(p.display_name for p in delta.changed) == [
        "scans/r2", "Übersicht/Probenhalter r0040"]
    assert delta.removed == []
    assert sorted(reader.pages()) == ["scans/r1", "scans/r2", "Übersicht/Probenhalter r0040"]
    assert reader.refresh().changed == []


def test_deleted_page_is_removed_on_refresh(tmp_path):
    root = tmp_path / "summary"
    _page(root, "scans/r1")
    doomed = _page(root, "scans/r2")
    _page(root, "quicklook/r3")
    reader = SummaryTreeReader(root)
    reader.refresh()
    doomed.unlink()
    doomed.parent.rmdir()
    (root / "quicklook" / "r3" / "report.html").unlink()
    (root / "quicklook" / "r3").rmdir()
    (root / "quicklook").rmdir()
    _bump(root / "scans")
    _bump(root)
    delta = reader.refresh()
    assert delta.removed == ["quicklook/r3", "scans/r2"]
    assert delta.changed == []
    assert sorted(reader.pages()) == ["scans/r1"]


def test_page_written_into_an_existing_folder_appears(tmp_path):
    root = tmp_path / "summary"
    (root / "scans" / "r1").mkdir(parents=True)
    reader = SummaryTreeReader(root)
    reader.refresh()
    assert reader.pages() == {}
    _page(root, "scans/r1")
    _bump(root / "scans" / "r1")
    delta = reader.refresh()
    assert [p.display_name for p in delta.changed] == ["scans/r1"]


def test_missing_summary_folder_is_a_problem_and_its_pages_are_removed(tmp_path):
    root = tmp_path / "summary"
    _page(root, "scans/r1")
    reader = SummaryTreeReader(root)
    reader.refresh()
    (root / "scans" / "r1" / "report.html").unlink()
    for folder in (root / "scans" / "r1", root / "scans", root):
        folder.rmdir()
    delta = reader.refresh()
    assert delta.removed == ["scans/r1"]
    assert "no summary folder" in delta.problems[0].message
    assert reader.pages() == {}


def test_summary_folder_that_is_a_file_is_a_problem(tmp_path):
    root = tmp_path / "summary"
    root.write_text("not a folder")
    delta = SummaryTreeReader(root).refresh()
    assert delta.problems[0].message == "the summary folder is a file."


def test_walking_does_not_change_the_tree(example_copy):
    root = example_copy("mfxp1001123") / "stats" / "summary"
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    reader = SummaryTreeReader(root)
    reader.refresh()
    reader.refresh()
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before
