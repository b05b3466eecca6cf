"""Shared fixtures: the example result directories, LUTE-schema databases, Debian's chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's chromium: Playwright's own browser build cannot be downloaded here."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": CHROMIUM_ARGS}


@pytest.fixture
def example_copy(tmp_path: Path):
    """A private copy of one of the example experiments that LUTE's own code wrote."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(DATA / name, target)
        return target

    return copy


def pytest_configure(config: pytest.Config) -> None:
    """``network``: needs PyPI (or the facility's mirror); CI has it, so it runs by default."""
    config.addinivalue_line("markers", "network: the test downloads from a package index")
