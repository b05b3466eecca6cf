"""The Gate: slots in order of arrival, a bounded line, a bounded wait, a rest after each turn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from dashboard.limits import Busy, Gate

T = TypeVar("T")


def _run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run`` in a thread of its own: the browser tests leave pytest-playwright's
    event loop running in the main thread, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


async def _visit(gate: Gate, name: str, log: list[str], hold_s: float = 0.05,
                 blocking: bool = False) -> str:
    """One holder: ``blocking`` holds the loop as a page build does, else it awaits."""
    try:
        async with gate.turn():
            log.append(name)
            if blocking:
                time.sleep(hold_s)
            else:
                await asyncio.sleep(hold_s)
        return "ok"
    except Busy as busy:
        assert 2 <= busy.retry_after <= 60
        return "busy"


def test_turns_come_in_order_and_the_line_is_bounded():
    async def main() -> tuple[list[str], list[str]]:
        gate, log = Gate(1, max_waiting=3), []
        results = await asyncio.gather(*(_visit(gate, str(n), log) for n in range(7)))
        return log, results

    log, results = _run(main)
    assert log == ["0", "1", "2", "3"]
    assert results == ["ok"] * 4 + ["busy"] * 3


def test_a_wait_longer_than_allowed_is_busy_and_gives_no_slot_away():
    async def main() -> tuple[list[str], int]:
        gate, log = Gate(1, wait_s=0.1), []
        results = await asyncio.gather(_visit(gate, "long", log, hold_s=0.3),
                                       _visit(gate, "late", log))
        assert await _visit(gate, "after", log) == "ok"
        return results, gate.in_use

    results, in_use = _run(main)
    assert results == ["ok", "busy"]
    assert in_use == 0


def test_the_loop_is_free_between_two_turns():
    """Two synchronous turns never run in one stretch: something else gets in between."""
    async def main() -> list[str]:
        gate, log = Gate(1, rest=0.25), []

        async def other() -> None:
            for _ in range(20):
                await asyncio.sleep(0)
                log.append("other")

        await asyncio.gather(_visit(gate, "a", log, blocking=True),
                             _visit(gate, "b", log, blocking=True), other())
        return log

    log = _run(main)
    between = log[log.index("a") + 1:log.index("b")]
    assert "other" in between
