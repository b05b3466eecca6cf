"""Bounds on what a burst of requests may take from the one server process.

Everything a request costs here is paid on one event loop (building a page) or
in one address space (bytes of a report on their way out).  Unbounded, 200
parallel page loads kept ``/liveness`` waiting for over a minute and 30
parallel reads of a 60 MB report took 2 GB.  A :class:`Gate` lets a fixed
number of requests in at a time, queues a bounded number more for a bounded
time, and tells the rest when to come back (``Busy.retry_after``), so the
loop always has time for everyone else and memory has a ceiling.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator


class Busy(Exception):
    """The gate is full: come back in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"busy, retry after {retry_after} s")
        self.retry_after = retry_after


class Gate:
    """``slots`` holders at a time; the others wait in line (first come, first served).

    ``max_waiting`` bounds the line and ``wait_s`` the time spent in it (None:
    no bound); past either, :meth:`turn` raises :class:`Busy` with a
    ``Retry-After`` guessed from the line and the average time a holder keeps
    its slot, spread a little so that refused clients do not all return at once.

    ``rest``: after each turn the slot stays taken, with the loop free, for
    that fraction of the turn's length.  A turn that is one long stretch of
    synchronous work (building a page) otherwise runs back to back with the
    next one in the same loop iteration, and a request that needs a few
    iterations (``/liveness``) gets one per page built.
    Used from one event loop only: no locks needed, and no futures of another loop.
    """

    def __init__(self, slots: int, max_waiting: int | None = None,
                 wait_s: float | None = None, rest: float = 0.0) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self.wait_s = wait_s
        self.rest = rest
        self._free = slots
        self._line: deque[asyncio.Future[None]] = deque()
        #: Running average of how long a slot is held, seconds (for Retry-After).
        self.hold_s = 0.5

    @property
    def waiting(self) -> int:
        return len(self._line)

    @property
    def in_use(self) -> int:
        return self.slots - self._free

    def retry_after(self) -> int:
        ahead = (self.waiting + self.in_use) / self.slots
        guess = ahead * self.hold_s * random.uniform(1.0, 1.5)
        return int(min(60, max(2, math.ceil(guess))))

    async def acquire(self, wait_s: float | None = None) -> None:
        """Take a slot, waiting in line at most ``wait_s`` (default: the gate's own)."""
        if self._free > 0 and not self._line:
            self._free -= 1
            return
        if self.max_waiting is not None and len(self._line) >= self.max_waiting:
            raise Busy(self.retry_after())
        wait_s = self.wait_s if wait_s is None else wait_s
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._line.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), wait_s)
        except (asyncio.TimeoutError, asyncio.CancelledError) as err:
            if turn.done():  # handed a slot just as the wait ended: pass it on
                self.release()
            else:
                turn.cancel()
                self._line.remove(turn)
            if isinstance(err, asyncio.TimeoutError):
                raise Busy(self.retry_after()) from None
            raise

    def release(self) -> None:
        """Hand the slot to the first in line still waiting, or free it."""
        while self._line:
            turn = self._line.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1

    @contextlib.asynccontextmanager
    async def turn(self, wait_s: float | None = None) -> AsyncIterator[None]:
        """``async with gate.turn():`` hold a slot for the block; :class:`Busy` if none came."""
        await self.acquire(wait_s)
        started = time.monotonic()
        try:
            yield
            if self.rest:
                await asyncio.sleep(self.rest * (time.monotonic() - started))
        finally:
            self.hold_s = 0.8 * self.hold_s + 0.2 * (time.monotonic() - started)
            self.release()
