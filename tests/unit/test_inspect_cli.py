"""``python -m dashboard.cli inspect``: what it prints, and that it leaves the folders untouched."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
DATA = REPO / "tests" / "data"
MANIFEST = json.loads((DATA / "MANIFEST.json").read_text(encoding="utf-8"))["examples"]
#: Every execution: rows of v1 Task tables and v2 executions alike (xcsl1004224: 13 + 18).
EXPECTED_ROWS = {"cxil1005322": 31, "mfxp1001123": 17, "xcsl1004224": 31}
EXPECTED_PAGES = {"cxil1005322": 14, "mfxp1001123": 8, "xcsl1004224": 9}

EXPERIMENT_KEYS = {"name", "databases", "summary_dir", "tasks", "pages", "problems"}
TASK_KEYS = {"task", "run", "status", "timestamp", "summary", "impl_schemas"}
PAGE_KEYS = {"display_name", "tab", "page", "bytes"}
PROBLEM_KEYS = {"path", "message"}


def _inspect(*args: str | os.PathLike) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "inspect", *map(str, args)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def _inspect_json(*args: str | os.PathLike) -> dict:
    done = _inspect(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _tree_state(root: Path) -> dict[str, tuple]:
    """Every entry below ``root`` by relative path: kind, mtime_ns and (for files) a hash."""
    state: dict[str, tuple] = {".": ("dir", root.stat().st_mtime_ns)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            stat = path.lstat()
            digest = (hashlib.sha256(path.read_bytes()).hexdigest()
                      if name in filenames and path.is_file() else None)
            state[str(path.relative_to(root))] = (
                "dir" if name in dirnames else "file", stat.st_mtime_ns, stat.st_size, digest)
    return state


def _check_shape(experiment: dict) -> None:
    assert set(experiment) >= EXPERIMENT_KEYS
    assert isinstance(experiment["name"], str)
    assert all(isinstance(db, str) for db in experiment["databases"])
    assert experiment["summary_dir"] is None or isinstance(experiment["summary_dir"], str)
    for task in experiment["tasks"]:
        assert set(task) >= TASK_KEYS
        assert all(isinstance(task[key], str) for key in TASK_KEYS - {"impl_schemas"})
        assert task["impl_schemas"] is None or isinstance(task["impl_schemas"], str)
    for page in experiment["pages"]:
        assert set(page) >= PAGE_KEYS
        assert isinstance(page["bytes"], int)
    for problem in experiment["problems"]:
        assert set(problem) >= PROBLEM_KEYS


def _check_example(name: str, experiment: dict, root: Path) -> None:
    _check_shape(experiment)
    assert experiment["name"] == name
    assert [Path(db).resolve() for db in experiment["databases"]] == [
        (root / "work_dir" / "lute.db").resolve()]
    assert Path(experiment["summary_dir"]).resolve() == (root / "stats" / "summary").resolve()
    assert experiment["problems"] == []

    tables = MANIFEST[name]["task_tables"]
    assert len(experiment["tasks"]) == EXPECTED_ROWS[name]
    expected_tasks = Counter(
        (table, row["run"], row["status"], row["summary"])
        for table, info in tables.items() for row in info["rows_detail"])
    assert Counter((t["task"], t["run"], t["status"], t["summary"])
                   for t in experiment["tasks"]) == expected_tasks

    assert len(experiment["pages"]) == EXPECTED_PAGES[name]
    expected_pages = sorted((p["display_name"], p["tab"], p["page"], p["bytes"])
                            for p in MANIFEST[name]["summary_pages"])
    assert sorted((p["display_name"], p["tab"], p["page"], p["bytes"])
                  for p in experiment["pages"]) == expected_pages


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_inspect_json_of_one_experiment_lists_every_row_and_page(name, example_copy):
    root = example_copy(name)
    before = _tree_state(root)
    document = _inspect_json(root)
    assert _tree_state(root) == before
    (experiment,) = document["experiments"]
    _check_example(name, experiment, root)


def test_inspect_json_of_a_folder_of_experiments(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(DATA, root)
    before = _tree_state(root)
    document = _inspect_json(root)
    assert _tree_state(root) == before
    assert set(document) >= {"experiments"}
    experiments = document["experiments"]
    assert [e["name"] for e in experiments] == sorted(MANIFEST)
    for experiment in experiments:
        _check_example(experiment["name"], experiment, root / experiment["name"])


def test_inspect_json_keeps_unicode_names_readable(example_copy):
    document = _inspect_json(example_copy("mfxp1001123"))
    names = {page["display_name"] for page in document["experiments"][0]["pages"]}
    assert {"Übersicht/Probenhalter r0031", "Δt-Scan (fs)/r0031", "サンプル/r0031"} <= names


def test_inspect_table_prints_the_counts(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(DATA, root)
    before = _tree_state(root)
    done = _inspect(root)
    assert _tree_state(root) == before
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b[" not in out
    cxi, mfx = out.split("\nmfxp1001123\n")
    assert "cxil1005322" in cxi
    assert "runs 4 … 18 (14)" in cxi
    assert "COMPLETED 27" in cxi and "FAILED 3" in cxi
    assert "summary pages: 14 in 12 tabs (0 empty, 1 without a database row)" in cxi
    assert "runs 21 … 37 (16)" in mfx
    for count in ("PENDING 1", "RUNNING 1", "COMPLETED 11", "FAILED 1", "STOPPED 1",
                  "CANCELLED 1", "TIMEDOUT 1"):
        assert count in mfx
    assert "summary pages: 8 in 7 tabs (2 empty, 1 without a database row)" in mfx
    assert "problem" not in out


def test_inspect_of_a_folder_without_lute_data_exits_non_zero_with_a_message(tmp_path):
    (tmp_path / "xtc").mkdir()
    (tmp_path / "notes.txt").write_text("beamtime notes")
    done = _inspect(tmp_path)
    assert done.returncode != 0
    assert "no LUTE results here" in done.stdout + done.stderr
    assert str(tmp_path) in done.stdout + done.stderr


def test_inspect_json_of_a_folder_without_lute_data_exits_non_zero_with_the_problem(tmp_path):
    done = _inspect(tmp_path, "--json")
    assert done.returncode != 0
    document = json.loads(done.stdout)
    assert document["experiments"] == []
    assert [p["path"] for p in document["problems"]] == [str(tmp_path)]


def test_inspect_of_a_missing_path_exits_non_zero(tmp_path):
    done = _inspect(tmp_path / "nope")
    assert done.returncode != 0
    assert "path does not exist" in done.stdout + done.stderr
