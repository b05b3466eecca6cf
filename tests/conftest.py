"""The harness's fixtures (``tests/support/fixtures.py``) for every test, and the markers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

#: How long a browser assertion waits.  Playwright's 5 s default is a fast desktop's; CI runs
#: two test workers, each with a server and a browser, on two cores.
EXPECT_TIMEOUT_MS = 15_000

pytest_plugins = ["tests.support.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """``network``: needs PyPI (or the facility's mirror); CI has it, so it runs by default."""
    config.addinivalue_line("markers", "network: the test downloads from a package index")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
