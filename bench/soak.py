"""Soak: the live demo served for an hour while sessions come and go; is RSS / fd use flat?

    python bench/soak.py [--minutes 60] [--interval 1.0] [--tmp DIR]
    python bench/soak.py --minutes 3          # quick check

Builds the demo (``dashboard.cli demo DIR --runs 12``), serves it (defaults:
inotify + poll 0.5 s) and runs its live writer (``demo DIR --live --interval S``).
Meanwhile, until the time is up:

- sessions come and go: batches of 3–10 bokeh websocket sessions (opened as a
  browser opens them: GET the page, websocket, PULL-DOC) stay 20–40 s and close;
  each batch overlaps the next; every session must receive feed updates;
- one chromium page stays open and reloads every 2 minutes.

Every 10 s it samples the server's RSS (``VmRSS``), open file descriptors
(``/proc/<pid>/fd``) and threads; every minute it prints a line.  At the end it
closes everything, waits 40 s for the server's unused-session cleanup and
samples once more.  Verdict: flat when, over the last 10 minutes (the whole run
when shorter, minus the first minute), the least-squares slope of RSS is at
most 0.5 MiB/min and that of the fd count at most 0.5 fd/min, and the fds after
the final cleanup are within 5 of those before the first session.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    READY,
    BokehClient,
    DashboardServer,
    build_demo,
    close_clients,
    launch_chromium,
    loadavg,
    local_only,
    machine_line,
    open_clients,
    open_dashboard,
    open_fds,
    rss_mb,
    slope,
    start_live_writer,
    stop_process,
    threads,
)

SAMPLE_EVERY = 10.0
RELOAD_EVERY = 120.0
CLEANUP_WAIT = 40.0
VERDICT_MINUTES = 10.0
MAX_RSS_SLOPE = 0.5  # MiB per minute
MAX_FD_SLOPE = 0.5  # fds per minute
MAX_FD_EXCESS = 5


class Churn:
    """Batches of sessions opening and closing, overlapping; remembers what each received."""

    def __init__(self, url: str, rng: random.Random) -> None:
        self.url = url
        self.rng = rng
        self.open: list[BokehClient] = []
        self.opened = self.closed = self.starved = self.failed_opens = 0
        self.feed_counts: list[int] = []

    async def batch(self) -> None:
        try:
            clients = await open_clients(self.url, self.rng.randint(3, 10))
        except Exception:
            self.failed_opens += 1
            return
        self.opened += len(clients)
        self.open += clients
        await asyncio.sleep(self.rng.uniform(20, 40))
        for client in clients:
            self.feed_counts.append(client.feed_changes)
            self.starved += client.feed_changes == 0
            self.open.remove(client)
        await close_clients(clients)
        self.closed += len(clients)

    async def run(self, until: float) -> None:
        pending: set[asyncio.Task] = set()
        while time.monotonic() < until:
            pending.add(asyncio.create_task(self.batch()))
            pending = {t for t in pending if not t.done()}
            await asyncio.sleep(self.rng.uniform(10, 20))
        await asyncio.gather(*pending)


async def browser_loop(browser, url: str, until: float, stats: dict) -> None:
    page = await browser.new_page()
    await local_only(page)
    await open_dashboard(page, url)
    stats["loads"] = 1
    while time.monotonic() + RELOAD_EVERY < until:
        await asyncio.sleep(RELOAD_EVERY)
        try:
            await page.reload()
            await page.wait_for_function(READY, timeout=60_000)
            stats["loads"] += 1
        except Exception as err:  # report it, keep soaking
            stats.setdefault("errors", []).append(str(err)[:200])
    await page.close()


@dataclass
class Soak:
    """What one soak measured: samples (minute, RSS MiB, fds, threads) and the sessions."""

    churn: Churn
    samples: list[tuple[float, float, int, int]] = field(default_factory=list)
    browser: dict = field(default_factory=dict)
    before: tuple[float, int] = (0.0, 0)  # RSS, fds before any session
    after: tuple[float, int, int] = (0.0, 0, 0)  # RSS, fds, threads after the cleanup


async def sample(pid: int, result: Soak, until: float) -> None:
    """Every SAMPLE_EVERY s, the server's RSS, fds and threads; a line printed each minute."""
    t0, next_print = time.monotonic(), 1.0
    print(f"{'min':>5}{'RSS MiB':>10}{'fds':>6}{'threads':>9}{'sessions':>10}"
          f"{'opened':>8}{'closed':>8}{'load':>18}")
    while time.monotonic() < until:
        await asyncio.sleep(SAMPLE_EVERY)
        minute = (time.monotonic() - t0) / 60
        result.samples.append((minute, rss_mb(pid), open_fds(pid), threads(pid)))
        if minute >= next_print - 1e-6:
            next_print += 1.0
            _, rss, fds, thr = result.samples[-1]
            churn = result.churn
            print(f"{minute:>5.1f}{rss:>10.1f}{fds:>6}{thr:>9}{len(churn.open):>10}"
                  f"{churn.opened:>8}{churn.closed:>8}{loadavg():>18}", flush=True)


async def soak(demo: Path, minutes: float, interval: float, tmp: Path) -> Soak:
    """Serve the live demo for ``minutes`` while sessions and a browser come and go."""
    from playwright.async_api import async_playwright

    server = DashboardServer(demo, log=tmp / "server.log").start()
    writer = start_live_writer(demo, interval, tmp / "writer.log")
    pid = server.pid
    result = Soak(Churn(server.url, random.Random(3)))
    try:
        await asyncio.sleep(5)
        result.before = rss_mb(pid), open_fds(pid)
        print(f"# before any session: RSS {result.before[0]:.1f} MiB, {result.before[1]} fds, "
              f"{threads(pid)} threads")
        until = time.monotonic() + minutes * 60
        async with async_playwright() as pw:
            browser = await launch_chromium(pw)
            await asyncio.gather(sample(pid, result, until), result.churn.run(until),
                                 browser_loop(browser, server.url, until, result.browser))
            await browser.close()
        await asyncio.sleep(CLEANUP_WAIT)
        result.after = rss_mb(pid), open_fds(pid), threads(pid)
    finally:
        stop_process(writer)
        server.stop()
    return result


def report(result: Soak, minutes: float) -> bool:
    """Print the figures and the verdict; True when memory and fds stayed flat and every
    session was served."""
    samples, churn, (rss_start, fds_start) = result.samples, result.churn, result.before
    rss_end, fds_end, thr_end = result.after
    window = min(VERDICT_MINUTES, max(minutes - 1, minutes / 2))
    last = [s for s in samples if s[0] >= samples[-1][0] - window]
    rss_slope = slope([s[0] for s in last], [s[1] for s in last])
    fd_slope = slope([s[0] for s in last], [float(s[2]) for s in last])
    print(f"\n# after closing everything and {CLEANUP_WAIT:.0f} s of cleanup: RSS {rss_end:.1f} "
          f"MiB ({rss_end - rss_start:+.1f} vs before any session), {fds_end} fds "
          f"({fds_end - fds_start:+d}), {thr_end} threads")
    print(f"# sessions: {churn.opened} opened, {churn.closed} closed, {churn.failed_opens} "
          f"batches failed to open, {churn.starved} got no feed update; feed updates per session "
          f"min {min(churn.feed_counts, default=0)} max {max(churn.feed_counts, default=0)}")
    print(f"# chromium: {result.browser.get('loads', 0)} loads, errors: "
          f"{result.browser.get('errors', [])}")
    flat = (rss_slope <= MAX_RSS_SLOPE and fd_slope <= MAX_FD_SLOPE
            and fds_end - fds_start <= MAX_FD_EXCESS)
    healthy = churn.starved == 0 and churn.failed_opens == 0 and not result.browser.get("errors")
    print(f"# slope over the last {window:g} min ({len(last)} samples): RSS {rss_slope:+.2f} "
          f"MiB/min (max {MAX_RSS_SLOPE}), fds {fd_slope:+.2f}/min (max {MAX_FD_SLOPE})")
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    print(f"# for comparison, over the second half ({len(half)} samples): RSS "
          f"{slope([s[0] for s in half], [s[1] for s in half]):+.2f} MiB/min, from "
          f"{half[0][1]:.1f} to {half[-1][1]:.1f} MiB; peak {max(s[1] for s in samples):.1f} MiB")
    if minutes < 2 * VERDICT_MINUTES:
        print(f"# note: a {minutes:g}-minute run mixes warm-up into the slope; "
              "the verdict means most after 20+ minutes")
    print(f"VERDICT: {'FLAT' if flat else 'GROWING'}; sessions "
          f"{'all updated' if healthy else 'PROBLEMS (see above)'}")
    return flat and healthy


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=1.0, help="live writer's interval")
    parser.add_argument("--tmp", help="work folder (default: a new temporary one)")
    args = parser.parse_args()
    tmp = Path(args.tmp or tempfile.mkdtemp(prefix="lute-bench-soak-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"# bench/soak.py --minutes {args.minutes:g}  ({time.strftime('%Y-%m-%d %H:%M:%S')}, "
          f"work in {tmp})")
    print(f"# machine: {machine_line()}")
    result = await soak(build_demo(tmp / "demo", runs=12), args.minutes, args.interval, tmp)
    ok = report(result, args.minutes)
    print(f"# load at the end: {machine_line()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
