"""The packages depend one way: ``lute_model`` reads and models, with no Panel, no plotting
and none of the writers; the writers and the demo sit on top of it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Imports every module of a package with some top-level packages made unimportable.
_PROBE = """
import importlib, pkgutil, sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked in this test")

BLOCKED = set(sys.argv[2].split(","))
sys.meta_path.insert(0, Block())
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(package.__path__, sys.argv[1] + "."):
    importlib.import_module(info.name)
print("imported", sys.argv[1])
"""


def _import_all(package: str, blocked: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _PROBE, package, ",".join(blocked)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_lute_model_imports_without_panel_plotting_writers_or_views() -> None:
    done = _import_all("lute_model", ["panel", "bokeh", "holoviews", "matplotlib",
                                      "lute_writers", "lute_demo", "dashboard"])
    assert done.returncode == 0, done.stderr
    assert "imported lute_model" in done.stdout


def test_the_writers_need_neither_the_demo_nor_the_dashboard() -> None:
    done = _import_all("lute_writers", ["lute_demo", "dashboard"])
    assert done.returncode == 0, done.stderr


def test_the_demo_tasks_know_nothing_of_the_demo() -> None:
    """The demo records what its Tasks return; the Tasks never reach back into the demo."""
    tree = ast.parse((ROOT / "lute_demo" / "demo_tasks.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {"lute_demo.demo", "lute_demo"} & imported


def test_the_probe_notices_a_blocked_import() -> None:
    """The check above could pass by blocking nothing: it must fail when a module needs one."""
    done = _import_all("lute_demo", ["panel"])
    assert done.returncode != 0
    assert "panel is blocked" in done.stderr
