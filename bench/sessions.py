"""20 and 50 sessions on the live demo: does each get every update, how fast, at what cost.

    python bench/sessions.py [--sessions 20,50] [--window 30] [--tmp DIR]

Builds the demo (``dashboard.cli demo DIR --runs 12``), serves it
(``dashboard.cli serve DIR``, defaults: inotify + poll 0.5 s) and runs its live
writer (``demo DIR --live --interval 0.5``) as a subprocess of its own.

Sessions are opened without browsers (50 chromium tabs cost ~11 GB): each is
opened as a browser opens it — GET the app page (which creates the Bokeh
session and embeds its token), websocket ``/ws`` with subprotocols
``["bokeh", token]``, ``PULL-DOC-REQ`` — and then reads every ``PATCH-DOC`` the
server pushes, counting them and the changes of the feed pane's text.  One real
chromium page (the measuring page) is open beside them.

1. RSS of the server with no session yet, then with 1, 10, 20 and 50 open in a
   warm-up cycle (→ MiB per extra session: what a session costs), then after
   they closed; then the same in two measured cycles.
2. In each measured cycle, a window of ``--window`` s with 20 sessions open,
   then one with 50: every ~second a probe (a status change of one cell with a
   unique message) is appended to the journal.  Per session: PATCH-DOC messages
   and feed changes (min / median / max), the probes it never got (target:
   none — every session gets every update), and the lag write → arrival of the
   probe in the feed's text; in the measuring page, write → the probe's text in
   the feed's DOM (a MutationObserver on its shadow root).  Targets: with 20
   sessions the page's p95 ≤ poll + LAG_MARGIN_MS; with 50, the p95 of every
   session's lag ≤ LAG_50_MS.  The server's CPU during each window is printed.
3. All closed; after the server's unused-session cleanup (the CLI's default
   ``--unused-session-lifetime 15000``: a check every 15 s drops sessions
   unused for 15 s; the bench waits 40 s) RSS is compared with the RSS before
   the cycle, that is after the warm-up cycle (target: within 5 %).  The memory
   of closed sessions is reused, not handed back to the OS (CPython's and
   glibc's allocators keep it), so the RSS after the very first sessions stays
   near their peak: what must not happen is growth from one cycle to the next.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    JOURNAL,
    BokehClient,
    DashboardServer,
    build_demo,
    close_clients,
    cpu_seconds,
    launch_chromium,
    local_only,
    machine_line,
    observe_feed,
    open_clients,
    open_dashboard,
    percentile,
    rss_mb,
    start_live_writer,
    stop_process,
)
from lute_writers.journal import append_event

#: The CLI's default: unused sessions are checked every 15 s and dropped after 15 s.
CLEANUP_WAIT = 40.0
PROBE_EVERY = 1.0
PROBE_GRACE = 10.0
SETTLE = 3.0
OPEN_TIMEOUT = 120.0
TARGET_PCT = 5.0
POLL = 0.5  # the CLI's default --poll
LAG_MARGIN_MS = 150.0
LAG_50_MS = 1000.0


def _spread(values: list[int]) -> str:
    return f"{min(values)} / {statistics.median(values):g} / {max(values)}"


def _lags(values: list[float]) -> str:
    if not values:
        return "– / – / –"
    return (f"{percentile(values, 50):.0f} / {percentile(values, 95):.0f} / "
            f"{max(values):.0f}")


async def _wait_cleanup(pid: int, seconds: float) -> list[float]:
    """RSS every 5 s while the server drops the closed sessions."""
    series = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.sleep(min(5.0, end - time.monotonic()))
        series.append(rss_mb(pid))
    return series


async def _open_to(url: str, clients: list[BokehClient], count: int, cycle: int, pid: int,
                   rss: dict[str, float], failures: list[str]) -> None:
    """Open sessions until ``count`` are open, noting the server's RSS."""
    started = time.monotonic()
    clients += await open_clients(url, count - len(clients), timeout=OPEN_TIMEOUT,
                                  failures=failures)
    await asyncio.sleep(SETTLE)
    rss[f"{count}#{cycle}"] = rss_mb(pid)
    print(f"  cycle {cycle}: {len(clients)} open ({time.monotonic() - started:.0f} s for the "
          f"last), RSS {rss[f'{count}#{cycle}']:.1f} MiB, {len(failures)} failed; "
          f"{machine_line()}", flush=True)


async def _window(clients: list[BokehClient], seconds: float, journal: Path, label: str,
                  page, pid: int) -> dict:
    """Count what each session receives; meanwhile a probe event about every PROBE_EVERY s.

    A probe is a status change of one cell (SubmitSMD, run "probe") with a unique
    message: the time from its write to its arrival in each session's feed text
    (and in the measuring page's feed DOM) is the update lag that session sees.
    The gaps are jittered so that the probes sample every phase of the poll.
    """
    for client in clients:
        client.reset()
    mutations_before = await page.evaluate("() => window.__feedMutations")
    writes: dict[str, float] = {}
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    end = t0 + seconds
    i = 0
    while time.monotonic() < end:
        token = f"BENCH-{label}-{i}"
        writes[token] = time.time()
        append_event(journal, task="SubmitSMD", run="probe",
                     status="RUNNING" if i % 2 else "COMPLETED", message=token)
        i += 1
        gap = PROBE_EVERY * random.uniform(0.7, 1.3)
        await asyncio.sleep(min(gap, max(0.0, end - time.monotonic())))
    cpu = 100 * (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
    out = {"patches": [c.patches for c in clients], "feed": [c.feed_changes for c in clients],
           "dropped": sum(c.closed_by_server for c in clients),
           "no_feed_id": sum(c.feed_id is None for c in clients), "cpu": cpu}
    await asyncio.sleep(PROBE_GRACE)  # late probes still count as lag, not as lost
    lags, lost = [], 0
    for client in clients:
        for token, wrote in writes.items():
            if token in client.tokens:
                lags.append(1000 * (client.tokens[token] - wrote))
            else:
                lost += 1
    seen = await page.evaluate("() => window.__seen")
    page_lags = [seen[token] - 1000 * wrote for token, wrote in writes.items() if token in seen]
    out.update(probes=len(writes), lags=lags, lost=lost, page_lags=page_lags,
               page_lost=len(writes) - len(page_lags),
               page_mutations=await page.evaluate("() => window.__feedMutations")
               - mutations_before)
    return out


async def _cycle(url: str, cycle: int, steps: list[int], counts: list[int], pid: int,
                 rss: dict[str, float], failures: list[str], journal: Path, window: float,
                 browser) -> dict[int, dict]:
    """Open sessions step by step; in a measured cycle a window at each of ``counts``."""
    clients: list[BokehClient] = []
    windows: dict[int, dict] = {}
    page = None
    for step in steps:
        await _open_to(url, clients, step, cycle, pid, rss, failures)
        if browser is None or step not in counts:
            continue
        if page is None:
            page = await browser.new_page()
            await local_only(page)
            await open_dashboard(page, url)
            await observe_feed(page, r"BENCH-[A-Za-z0-9]+-\d+")
        windows[step] = await _window(clients, window, journal, f"c{cycle}n{step}", page, pid)
        w = windows[step]
        print(f"  cycle {cycle}, {step} sessions: feed changes per session {_spread(w['feed'])}, "
              f"probes lost {w['lost']}, page lag p95 {percentile(w['page_lags'], 95):.0f} ms",
              flush=True)
    if page is not None:
        await page.close()
    await close_clients(clients)
    return windows


def _report_windows(windows: dict[tuple[int, int], dict], window: float) -> bool:
    """Section 2 of the output; True when every target is met."""
    ok = True
    print(f"\n## 2. Updates per session in {window:.0f} s windows (min / median / max), "
          "probe lag write → feed in ms (p50 / p95 / max)")
    print(f"{'cycle':>5}{'sessions':>9}{'PATCH-DOC':>16}{'feed changes':>15}{'dropped':>8}"
          f"{'CPU %':>7}   every session: lag, lost        measuring page (DOM): lag, lost")
    for (cycle, n), w in sorted(windows.items()):
        lost = f"{w['lost']} of {w['probes'] * len(w['feed'])}"
        page = f"{w['page_lost']} of {w['probes']}"
        print(f"{cycle:>5}{n:>9}{_spread(w['patches']):>16}{_spread(w['feed']):>15}"
              f"{w['dropped']:>8}{w['cpu']:>7.0f}   {_lags(w['lags']):>16}, {lost:<14}"
              f"{_lags(w['page_lags']):>16}, {page}")
        ok &= not (w["lost"] or w["page_lost"] or w["dropped"] or w["no_feed_id"])
        ok &= min(w["feed"]) > 0 and w["page_mutations"] > 0
    for n, target, key in ((20, POLL * 1000 + LAG_MARGIN_MS, "page_lags"),
                           (50, LAG_50_MS, "lags")):
        p95s = [percentile(w[key], 95) for (_c, m), w in windows.items() if m == n]
        if not p95s:
            continue
        met = max(p95s) <= target
        ok &= met
        what = "the measuring page's DOM" if key == "page_lags" else "every session"
        print(f"  {n} sessions: p95 lag in {what} {' and '.join(f'{p:.0f}' for p in p95s)} ms, "
              f"target ≤ {target:.0f} ms: {'PASS' if met else 'FAIL'}")
    return ok


def _report_rss(rss: dict[str, float], steps: list[int], open_times: list[float],
                cleanup: list[list[float]], n: int) -> bool:
    """Sections 1 and 3 of the output; True when RSS came back after each cycle."""
    print("\n## 1. Server RSS (MiB) by open sessions (bokeh websocket clients, live demo)")
    header = ["before the cycle"] + [str(s) for s in steps] + ["all closed"]
    print("".join(f"{h:>18}" for h in ["cycle", *header]))
    for cycle in (0, 1, 2):
        before = rss["cold"] if cycle == 0 else rss[f"closed#{cycle - 1}"]
        cells = [before, *(rss[f"{s}#{cycle}"] for s in steps), rss[f"closed#{cycle}"]]
        label = "0 (warm-up)" if cycle == 0 else str(cycle)
        print(f"{label:>18}" + "".join(f"{c:>18.1f}" for c in cells))
    for cycle in (0, 1, 2):
        per = (rss[f"{n}#{cycle}"] - rss[f"1#{cycle}"]) / max(1, n - 1)
        print(f"  cycle {cycle}: per extra session {per:.2f} MiB (1→{n}); the cycle took "
              f"{open_times[cycle]:.0f} s")
    print("  cycle 0 is what a session costs; later cycles reuse the memory of closed ones")
    print(f"\n## 3. After closing all (waited {CLEANUP_WAIT:.0f} s for the server's unused-"
          "session cleanup; RSS every 5 s meanwhile)")
    before = rss["closed#0"]
    ok = True
    for cycle in (1, 2):
        after = rss[f"closed#{cycle}"]
        pct = 100 * (after - before) / before
        met = abs(pct) <= TARGET_PCT
        ok &= met
        series = " ".join(f"{v:.0f}" for v in cleanup[cycle - 1])
        print(f"  cycle {cycle}: before {before:.1f} → after {after:.1f} MiB ({pct:+.1f} %) "
              f"target ±{TARGET_PCT:g} % {'PASS' if met else 'FAIL'}   [{series}]")
    return ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="20,50", help="session counts measured")
    parser.add_argument("--window", type=float, default=30.0, help="counting window, seconds")
    parser.add_argument("--interval", type=float, default=0.5, help="live writer's interval")
    parser.add_argument("--tmp", help="work folder (default: a new temporary one)")
    args = parser.parse_args()
    tmp = Path(args.tmp or tempfile.mkdtemp(prefix="lute-bench-sessions-"))
    tmp.mkdir(parents=True, exist_ok=True)
    counts = sorted(int(c) for c in args.sessions.split(","))
    steps = sorted({1, 10, *counts})
    print(f"# bench/sessions.py  ({time.strftime('%Y-%m-%d %H:%M:%S')}, work in {tmp})")
    print(f"# machine: {machine_line()}")
    demo = build_demo(tmp / "demo", runs=12)
    server = DashboardServer(demo, log=tmp / "server.log").start()
    writer = start_live_writer(demo, args.interval, tmp / "writer.log")
    pid = server.pid
    rss: dict[str, float] = {}
    windows: dict[tuple[int, int], dict] = {}
    open_times: list[float] = []
    failures: list[str] = []
    cleanup: list[list[float]] = []
    loads = [machine_line()]
    try:
        await asyncio.sleep(8)  # the first read, the writer's first steps
        rss["cold"] = rss_mb(pid)
        # The probe cell's first event adds a run row: done before any counting.
        append_event(demo / JOURNAL, task="SubmitSMD", run="probe", status="RUNNING",
                     message="BENCH-warm-0")
        from playwright.async_api import async_playwright
        async with async_playwright() as pw:
            browser = await launch_chromium(pw)
            for cycle in (0, 1, 2):
                started = time.monotonic()
                measured = await _cycle(server.url, cycle, steps, counts, pid, rss, failures,
                                        demo / JOURNAL, args.window, browser if cycle else None)
                windows |= {(cycle, n): w for n, w in measured.items()}
                open_times.append(time.monotonic() - started)
                loads.append(machine_line())
                series = await _wait_cleanup(pid, CLEANUP_WAIT)
                if cycle:
                    cleanup.append(series)
                rss[f"closed#{cycle}"] = rss_mb(pid)
            await browser.close()
    finally:
        stop_process(writer)
        server.stop()

    ok = _report_rss(rss, steps, open_times, cleanup, counts[-1])
    ok &= _report_windows(windows, args.window)
    if failures:
        ok = False
        print(f"  {len(failures)} sessions failed to open within {OPEN_TIMEOUT:.0f} s: "
              f"{failures[:3]}")
    print(f"verdict: {'PASS' if ok else 'FAIL'}")
    print("\n# load: " + " | ".join(loads))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
