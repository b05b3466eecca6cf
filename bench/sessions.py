"""50 concurrent sessions on the live demo: do all get the updates, what each costs, is it returned.

    python bench/sessions.py [--sessions 50] [--window 20] [--tmp DIR]

Builds the demo (``dashboard.cli demo DIR --runs 12``), serves it
(``dashboard.cli serve DIR``, defaults: inotify + poll 0.5 s) and runs its live
writer (``demo DIR --live --interval 0.5``) as a subprocess of its own.

Sessions are opened without browsers (50 chromium tabs cost ~11 GB): each is
opened as a browser opens it — GET the app page (which creates the Bokeh
session and embeds its token), websocket ``/ws`` with subprotocols
``["bokeh", token]``, ``PULL-DOC-REQ`` — and then reads every ``PATCH-DOC`` the
server pushes, counting them and the changes of the feed pane's text.

1. RSS of the server with no session yet, then with 1, 10 and 50 open in a
   warm-up cycle (→ MiB per extra session: what a session costs), then after
   they closed; then the same in two measured cycles.
2. Over a fixed window with 50 sessions open: PATCH-DOC messages and feed
   changes per session, min / median / max; every session must get feed updates.
3. All closed; after the server's unused-session cleanup (the CLI's default
   ``--unused-session-lifetime 15000``: a check every 15 s drops sessions
   unused for 15 s; the bench waits 40 s) RSS is compared with the RSS before
   the cycle, that is after the warm-up cycle; two measured open/close cycles
   (target: within 5 %).  The
   memory of closed sessions is reused, not handed back to the OS (CPython's
   and glibc's allocators keep it), so the RSS after the very first 50 sessions
   stays near their peak: what must not happen is growth from one cycle of
   sessions to the next.  The cold figure is printed beside it.
4. In the second cycle one real chromium page joins the 50: it must see the
   feed change too (MutationObserver on the feed's shadow root).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    JOURNAL,
    BokehClient,
    Server,
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
from lute_model.sources.journal import append_event

#: The CLI's default: unused sessions are checked every 15 s and dropped after 15 s.
CLEANUP_WAIT = 40.0
PROBE_EVERY = 2.0
PROBE_GRACE = 10.0
SETTLE = 3.0
OPEN_TIMEOUT = 120.0
TARGET_PCT = 5.0


def _spread(values: list[int]) -> str:
    return f"{min(values)} / {statistics.median(values):g} / {max(values)}"


async def _wait_cleanup(pid: int, seconds: float) -> list[float]:
    """RSS every 5 s while the server drops the closed sessions."""
    series = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.sleep(min(5.0, end - time.monotonic()))
        series.append(rss_mb(pid))
    return series


async def _open_in_steps(url: str, steps: list[int], cycle: int, pid: int,
                         rss: dict[str, float], failures: list[str]) -> list[BokehClient]:
    """Open sessions up to each step's count, noting the server's RSS at each."""
    clients: list[BokehClient] = []
    started = time.monotonic()
    for step in steps:
        clients += await open_clients(url, step - len(clients), timeout=OPEN_TIMEOUT,
                                      failures=failures)
        await asyncio.sleep(SETTLE)
        rss[f"{step}#{cycle}"] = rss_mb(pid)
        print(f"  cycle {cycle}: {len(clients)} open after {time.monotonic() - started:.0f} s, "
              f"RSS {rss[f'{step}#{cycle}']:.1f} MiB, {len(failures)} failed; {machine_line()}",
              flush=True)
    return clients


async def _window(clients: list[BokehClient], seconds: float, journal: Path, cycle: int,
                  page=None) -> dict:
    """Count what each session receives; meanwhile a probe event every PROBE_EVERY s.

    A probe is a status change of one cell (SubmitSMD, run "probe") with a unique
    message: the time from its write to its arrival in each session's feed text
    is the update lag that session sees.
    """
    for client in clients:
        client.reset()
    page_before = 0
    if page is not None:
        page_before = await page.evaluate("() => Object.keys(window.__seen).length")
        mutations_before = await page.evaluate("() => window.__feedMutations")
    writes: dict[str, float] = {}
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        token = f"BENCH-c{cycle}-{i}"
        writes[token] = time.time()
        append_event(journal, task="SubmitSMD", run="probe",
                     status="RUNNING" if i % 2 else "COMPLETED", message=token)
        i += 1
        await asyncio.sleep(min(PROBE_EVERY, max(0.0, end - time.monotonic())))
    out = {"patches": [c.patches for c in clients],
           "feed": [c.feed_changes for c in clients],
           "dropped": sum(c.closed_by_server for c in clients),
           "no_feed_id": sum(c.feed_id is None for c in clients)}
    await asyncio.sleep(PROBE_GRACE)  # late probes still count as lag, not as lost
    lags, lost = [], 0
    for client in clients:
        for token, wrote in writes.items():
            if token in client.tokens:
                lags.append(1000 * (client.tokens[token] - wrote))
            else:
                lost += 1
    out.update(probes=len(writes), lags=lags, lost=lost)
    if page is not None:
        out["page_messages"] = (await page.evaluate("() => Object.keys(window.__seen).length")
                                - page_before)
        out["page_mutations"] = (await page.evaluate("() => window.__feedMutations")
                                 - mutations_before)
    return out


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--window", type=float, default=20.0, help="counting window, seconds")
    parser.add_argument("--interval", type=float, default=0.5, help="live writer's interval")
    parser.add_argument("--tmp", help="work folder (default: a new temporary one)")
    args = parser.parse_args()
    tmp = Path(args.tmp or tempfile.mkdtemp(prefix="lute-bench-sessions-"))
    tmp.mkdir(parents=True, exist_ok=True)
    n = args.sessions
    steps = sorted({1, min(10, n), n})
    print(f"# bench/sessions.py  ({time.strftime('%Y-%m-%d %H:%M:%S')}, work in {tmp})")
    print(f"# machine: {machine_line()}")
    demo = build_demo(tmp / "demo", runs=12)
    server = Server(demo, log=tmp / "server.log").start()
    writer = start_live_writer(demo, args.interval, tmp / "writer.log")
    pid = server.pid
    rss: dict[str, float] = {}
    windows: list[dict] = []
    open_times: list[float] = []
    open_failures: list[str] = []
    cleanup: list[list[float]] = []
    loads: list[str] = [machine_line()]
    failed = False
    try:
        await asyncio.sleep(8)  # the first read, the writer's first steps
        rss["cold"] = rss_mb(pid)
        started = time.monotonic()
        warm = await _open_in_steps(server.url, steps, 0, pid, rss, open_failures)
        open_times.append(time.monotonic() - started)
        # The probe cell's first event adds a run row: done here, before any counting.
        append_event(demo / JOURNAL, task="SubmitSMD", run="probe", status="RUNNING",
                     message="BENCH-warm-0")
        await asyncio.sleep(SETTLE)
        await close_clients(warm)
        await _wait_cleanup(pid, CLEANUP_WAIT)
        rss["closed#0"] = rss_mb(pid)
        print(f"  RSS: no session yet {rss['cold']:.1f} MiB, {n} warm-up sessions open "
              f"{rss[f'{n}#0']:.1f} MiB, after they closed {rss['closed#0']:.1f} MiB", flush=True)

        from playwright.async_api import async_playwright
        async with async_playwright() as pw:
            browser = await launch_chromium(pw)
            for cycle in (1, 2):
                started = time.monotonic()
                clients = await _open_in_steps(server.url, steps, cycle, pid, rss, open_failures)
                open_times.append(time.monotonic() - started)
                page = None
                if cycle == 2:
                    page = await browser.new_page()
                    await local_only(page)
                    await open_dashboard(page, server.url)
                    await observe_feed(page, ".+")
                loads.append(machine_line())
                cpu0, t0 = cpu_seconds(pid), time.monotonic()
                windows.append(await _window(clients, args.window, demo / JOURNAL, cycle, page))
                windows[-1]["cpu"] = 100 * (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
                w = windows[-1]
                print(f"  cycle {cycle}: window done, feed changes per session "
                      f"{_spread(w['feed'])}, probes lost {w['lost']}", flush=True)
                if page is not None:
                    await page.close()
                await close_clients(clients)
                cleanup.append(await _wait_cleanup(pid, CLEANUP_WAIT))
                rss[f"closed#{cycle}"] = rss_mb(pid)
            await browser.close()
        loads.append(machine_line())
    finally:
        stop_process(writer)
        server.stop()

    print(f"\n## 1. Server RSS (MiB) by open sessions (bokeh websocket clients, live demo, "
          f"writer every {args.interval} s)")
    header = ["before the cycle"] + [str(s) for s in steps] + ["all closed"]
    print("".join(f"{h:>18}" for h in ["cycle", *header]))
    for cycle in (0, 1, 2):
        before = rss["cold"] if cycle == 0 else rss[f"closed#{cycle - 1}"]
        cells = [before, *(rss[f"{s}#{cycle}"] for s in steps), rss[f"closed#{cycle}"]]
        label = "0 (warm-up)" if cycle == 0 else str(cycle)
        print(f"{label:>18}" + "".join(f"{c:>18.1f}" for c in cells))
    for cycle in (0, 1, 2):
        per = (rss[f"{n}#{cycle}"] - rss[f"1#{cycle}"]) / max(1, n - 1)
        per10 = (rss[f"{min(10, n)}#{cycle}"] - rss[f"1#{cycle}"]) / max(1, min(10, n) - 1)
        print(f"  cycle {cycle}: per extra session {per:.2f} MiB (1→{n}), {per10:.2f} MiB "
              f"(1→{min(10, n)}); opening {n} took {open_times[cycle]:.1f} s")
    print("  cycle 0 is what a session costs; later cycles reuse the memory of closed ones")

    print(f"\n## 2. Updates received per session in {args.window:.0f} s with {n} open "
          "(min / median / max)")
    print(f"{'cycle':>6}{'sessions':>10}{'PATCH-DOC msgs':>18}{'feed changes':>16}"
          f"{'w/o feed':>10}{'dropped':>9}   probe lag write→feed ms (p50/p95/max, lost)")
    for cycle, w in enumerate(windows, start=1):
        none = sum(1 for f in w["feed"] if f == 0)
        lag = (f"{percentile(w['lags'], 50):.0f} / {percentile(w['lags'], 95):.0f} / "
               f"{max(w['lags'], default=float('nan')):.0f}, {w['lost']} of "
               f"{w['probes'] * len(w['feed'])} lost")
        print(f"{cycle:>6}{len(w['feed']):>10}{_spread(w['patches']):>18}{_spread(w['feed']):>16}"
              f"{none:>10}{w['dropped']:>9}   {lag}")
        print(f"{'':>6}server CPU during the window: {w['cpu']:.0f} % of one core")
        if none or w["dropped"] or w["no_feed_id"] or w["lost"]:
            failed = True
    if open_failures:
        failed = True
        print(f"  {len(open_failures)} sessions failed to open within {OPEN_TIMEOUT:.0f} s: "
              f"{open_failures[:3]}")
    browser_ok = windows[1].get("page_mutations", 0) > 0
    print(f"  chromium page (cycle 2, alongside the {n}): "
          f"{windows[1].get('page_mutations')} feed DOM "
          f"mutations, {windows[1].get('page_messages')} distinct new feed messages "
          f"→ {'gets updates' if browser_ok else 'NO UPDATES'}")
    failed |= not browser_ok
    print(f"  every session got feed updates: {'PASS' if not failed else 'FAIL'}")

    print(f"\n## 3. After closing all (waited {CLEANUP_WAIT:.0f} s for the server's unused-"
          "session cleanup; RSS every 5 s meanwhile)")
    before = rss["closed#0"]
    print(f"  warm-up: {rss['cold']:.1f} MiB with no session yet, {rss[f'{n}#0']:.1f} with {n} "
          f"open, {before:.1f} after they closed (the baseline below)")
    for cycle in (1, 2):
        after = rss[f"closed#{cycle}"]
        pct = 100 * (after - before) / before
        ok = abs(pct) <= TARGET_PCT
        failed |= not ok
        series = " ".join(f"{v:.0f}" for v in cleanup[cycle - 1])
        print(f"  cycle {cycle}: before {before:.1f} → after {after:.1f} MiB ({pct:+.1f} %) "
              f"target ±{TARGET_PCT:g} % {'PASS' if ok else 'FAIL'}   [{series}]")
    growth = rss["closed#2"] - rss["closed#1"]
    print(f"  cycle 2 vs cycle 1 after close: {growth:+.1f} MiB "
          f"({100 * growth / rss['closed#1']:+.1f} %)")
    print("  the server runs with the CLI's default --unused-session-lifetime 15000 (ms)")
    print("\n# load: " + " | ".join(loads))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
