"""Bursts against the real server: 200 parallel page loads, 30 parallel reads of a 60 MB page.

    python bench/burst.py [--pages 200] [--reads 30] [--page-mb 60] [--tmp DIR]

Issue 9 found that 200 parallel ``GET /`` left ``/liveness`` unanswered for
two minutes and that each parallel read of a big ``report.html`` added its size
(or more) to the server's memory.  This replays both, on ``127.0.0.1`` only,
each against a fresh ``lute-dashboard serve`` of a copy of the test
experiment (one page of ``--page-mb`` MB added, its bokeh link on the CDN so
the server has to rewrite it):

1. ``--pages`` clients open ``GET /`` at once (raw sockets, one connection
   each, every request bounded by ``REQUEST_TIMEOUT``);
2. ``--reads`` clients read the big page at once (the bytes are counted and
   dropped, so the bench itself stays small).

Meanwhile one prober asks ``/liveness`` again and again (one request at a
time, ``PROBE_EVERY`` apart) and RSS is sampled every ``SAMPLE_EVERY``.
Printed per burst: answers by status, request seconds p50/p95/max and the time
until the last one was answered, ``/liveness`` seconds p50/p95/max, RSS before,
at its peak, and ``SETTLE`` s after the burst (long enough for the server's
unused-session cleanup, ``--unused-session-lifetime`` 15 s by default, to
drop the sessions that the page loads created and no websocket ever joined).

Figures from the issue, measured on the code before the fix, are printed
beside the current ones (a run can only measure the code it runs on).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bokeh

from bench._common import copy_experiment, machine_line, percentile, rss_mb
from tests.support.servers import dashboard_server

REQUEST_TIMEOUT = 180.0
PROBE_EVERY = 0.2
SAMPLE_EVERY = 0.25
#: After the burst: the CLI's cleanup checks every 15 s and drops sessions unused for 15 s.
SETTLE = 40.0
BIG_PAGE = "big/page"
#: The code before the fix (commit 2011731), 2 cores: as issue 9 reported it, and as this
#: bench measured it there.
BEFORE = {
    "pages": ["issue: /liveness no answer within 120 s; requests p50 64 s; RSS 114 → 286 MB, stays",
              "bench: all 200 answered 200 after 117 s; requests p50 57 s, max 117 s; "
              "/liveness max 75.6 s; RSS 116 → peak 380 → 339 MB 40 s after"],
    "reads": ["issue: RSS 115 → 709 MB with 10 parallel reads of a 63 MB page; 2,085 MB with 30",
              "bench: all 30 answered after 26.9 s; /liveness max 17.2 s; "
              "RSS 116 → peak 2,037 → 117 MB 40 s after"],
}


@dataclass
class Answer:
    """One response: status (0: none came in time), headers, body size, its first/last bytes."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    size: int = 0
    head: bytes = b""
    tail: bytes = b""


@dataclass
class Burst:
    """What one burst measured."""

    answers: list[Answer] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    probes: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    rss_before: float = 0.0
    rss_after: float = 0.0
    last_answer: float = 0.0

    @property
    def statuses(self) -> Counter:
        return Counter(answer.status or "none" for answer in self.answers)


async def fetch(port: int, target: str, timeout: float = REQUEST_TIMEOUT,
                host: str | None = None) -> Answer:
    """``GET target`` on a connection of its own; the body is counted, not kept.

    HTTP/1.0: the server ends the body by closing, never in chunks to decode.
    """
    answer = Answer()

    async def go() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"GET {target} HTTP/1.0\r\nHost: {host or f'127.0.0.1:{port}'}\r\n"
                         "Connection: close\r\n\r\n".encode())
            await writer.drain()
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            answer.status = int(head[0].split(" ", 2)[1])
            answer.headers = {k.strip().lower(): v.strip() for k, _, v in
                              (line.partition(":") for line in head[1:] if line)}
            while chunk := await reader.read(1 << 20):
                answer.head = answer.head or chunk[:256]
                answer.tail = (answer.tail + chunk)[-256:]
                answer.size += len(chunk)
        finally:
            writer.close()

    try:
        await asyncio.wait_for(go(), timeout)
    except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        answer.status = 0
    return answer


async def _probe(port: int, result: Burst, done: asyncio.Event) -> None:
    while not done.is_set():
        started = time.perf_counter()
        await fetch(port, "/liveness")
        result.probes.append(time.perf_counter() - started)
        await asyncio.sleep(PROBE_EVERY)


async def _sample(pid: int, result: Burst, done: asyncio.Event) -> None:
    while not done.is_set():
        result.rss.append(rss_mb(pid))
        await asyncio.sleep(SAMPLE_EVERY)


async def burst(pid: int, port: int, target: str, count: int, settle: float = SETTLE,
                timeout: float = REQUEST_TIMEOUT) -> Burst:
    """``count`` parallel ``GET target`` while probing ``/liveness`` and sampling RSS.

    Probing and sampling go on for ``settle`` seconds after the last answer.
    """
    result = Burst(rss_before=rss_mb(pid))
    done = asyncio.Event()
    watchers = [asyncio.create_task(_probe(port, result, done)),
                asyncio.create_task(_sample(pid, result, done))]
    started = time.perf_counter()

    async def one() -> None:
        began = time.perf_counter()
        result.answers.append(await fetch(port, target, timeout))
        result.seconds.append(time.perf_counter() - began)
        result.last_answer = max(result.last_answer, time.perf_counter() - started)

    await asyncio.gather(*(one() for _ in range(count)))
    await asyncio.sleep(settle)
    done.set()
    await asyncio.gather(*watchers)
    result.rss_after = rss_mb(pid)
    return result


def _spread(values: list[float]) -> str:
    return (f"p50 {percentile(values, 50):.2f}  p95 {percentile(values, 95):.2f}  "
            f"max {max(values):.2f}")


def report(title: str, result: Burst, before: list[str]) -> None:
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(result.statuses.items(),
                                                                 key=str))
    print(f"\n{title}")
    print(f"  answers            {statuses}; last after {result.last_answer:.1f} s")
    print(f"  request s          {_spread(result.seconds)}")
    print(f"  /liveness s        {_spread(result.probes)}  ({len(result.probes)} probes)")
    print(f"  RSS MB             before {result.rss_before:.0f}  peak {max(result.rss):.0f}  "
          f"{SETTLE:.0f} s after {result.rss_after:.0f}")
    for line in before:
        print(f"  before the fix     {line}")


def big_page(megabytes: int) -> bytes:
    """A report as LUTE writes it (bokeh from the CDN) padded with data to ``megabytes`` MB."""
    head = (f'<!DOCTYPE html><html><head><script src="https://cdn.bokeh.org/bokeh/release/'
            f'bokeh-{bokeh.__version__}.min.js"></script></head><body>'
            '<script type="application/json" id="data">').encode()
    tail = b"</script><p>big page</p></body></html>"
    return head + b"7" * (megabytes * 2**20 - len(head) - len(tail)) + tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200, help="parallel page loads")
    parser.add_argument("--reads", type=int, default=30, help="parallel reads of the big page")
    parser.add_argument("--page-mb", type=int, default=60, help="size of the big page, MB")
    parser.add_argument("--tmp", help="work folder (default: a new temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lute-bench-burst-", dir=args.tmp) as tmp:
        folder = copy_experiment(Path(tmp) / "mfxp1001123")
        page = folder / "stats" / "summary" / BIG_PAGE / "report.html"
        page.parent.mkdir(parents=True)
        page.write_bytes(big_page(args.page_mb))
        print(machine_line())
        with dashboard_server(folder) as url:
            pages = asyncio.run(burst(url.pid, url.port, "/", args.pages))
        report(f"{args.pages} parallel GET /", pages, BEFORE["pages"])
        with dashboard_server(folder) as url:
            target = f"/reports/{folder.name}/{BIG_PAGE}/report.html"
            reads = asyncio.run(burst(url.pid, url.port, target, args.reads))
        report(f"{args.reads} parallel reads of a {args.page_mb} MB report.html", reads,
               BEFORE["reads"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
