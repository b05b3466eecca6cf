"""The harness's fixtures (``tests/support/fixtures.py``) for every test, and the markers."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.support.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """``network``: needs PyPI (or the facility's mirror); CI has it, so it runs by default."""
    config.addinivalue_line("markers", "network: the test downloads from a package index")
