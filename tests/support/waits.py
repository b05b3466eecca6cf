"""Wait on a condition, never for a fixed time: a sleep is too long on a fast machine and
too short on a loaded one (CI shares two cores)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.02,
               page: Any = None) -> T:
    """Poll ``condition`` until it returns something true, and return that.

    With a Playwright ``page``, the pauses are the page's (``wait_for_timeout``), so its
    event loop runs while a test waits on server-side state it changes.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout:g} s")
        if page is not None:
            page.wait_for_timeout(interval * 1000)
        else:
            time.sleep(interval)
