"""The fixtures every test may ask for; ``tests/conftest.py`` registers this module.

``example_report_js`` runs once per session for every test: the example
reports' JavaScript must be there before a server shows one.

Servers are stopped and copies removed when the test ends; ``unchanged`` and
``no_traceback_shown`` check what no test may leave behind: a write into a
result directory, a Python traceback on a person's screen.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import ALL_TEXT_JS, CHROMIUM, CHROMIUM_ARGS, is_local
from tests.support.experiments import DATA, build_experiment, example_versions, tree_state
from tests.support.http import PASSWORD
from tests.support.servers import REPO, Server, dashboard_server


@pytest.fixture(scope="session", autouse=True)
def example_report_js() -> list[tuple[str, str]]:
    """The JavaScript of the bokeh/panel versions the example reports name, on this machine.

    ``pyproject.toml`` allows newer bokeh/panel releases than the ones that wrote the
    examples; with one of those installed, the tests that show an example report
    offline need that report's version, and get it as a user does: ``lute-dashboard js
    fetch`` (from the package index, into the user's cache that the servers read).
    Nothing is fetched while the installed versions are the examples' (constraints.txt).
    """
    from dashboard import jscache

    named = example_versions()
    for package, version in named:
        if not jscache.available(package, version):
            subprocess.run([sys.executable, "-m", "dashboard.cli", "js", "fetch", package,
                            version], cwd=REPO, check=True, timeout=jscache.PIP_TIMEOUT_S)
    return named


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Drive Debian's chromium: Playwright's own browser build cannot be downloaded here."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[[str], Path]:
    """A private copy of one of the example experiments that LUTE's own code wrote."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(DATA / name, target)
        return target

    return copy


@pytest.fixture
def experiment_dir(tmp_path: Path) -> Path:
    """A small experiment as LUTE leaves it (3 runs, two Tasks, one FAILED)."""
    return build_experiment(tmp_path)


@pytest.fixture
def serve() -> Callable[..., AbstractContextManager[Server]]:
    """``with serve(path, ..., extra=(...)) as url:`` — the real CLI server for one test."""
    return dashboard_server


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    """A users file for ``--basic-auth``: the user ``scientist`` with ``PASSWORD``."""
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"scientist": PASSWORD}))
    return path


@pytest.fixture
def offline(page: Any) -> list[str]:
    """Block every request that would leave this machine; the list of blocked URLs."""
    blocked: list[str] = []

    def route(r: Any) -> None:
        if is_local(r.request.url):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return blocked


@pytest.fixture
def unchanged() -> Callable[..., AbstractContextManager[None]]:
    """``with unchanged(dir, ...):`` — fails if anything below the folders was written."""

    @contextmanager
    def check(*roots: Path) -> Iterator[None]:
        before = tree_state(*roots)
        yield
        after = tree_state(*roots)
        changed = sorted(set(before) ^ set(after)) + sorted(
            k for k in set(before) & set(after) if before[k] != after[k])
        assert changed == [], f"the dashboard wrote to a result directory: {changed[:10]}"

    return check


@pytest.fixture
def no_traceback_shown(page: Any) -> Iterator[None]:
    """Whatever the test did, no Python traceback reached the person's screen.

    A module asks for it with ``pytest.mark.usefixtures("no_traceback_shown")``.
    """
    yield
    text = page.evaluate(ALL_TEXT_JS)
    assert "Traceback (most recent call last)" not in text
    assert not re.search(r'File "[^"]+\.py", line \d+', text)
