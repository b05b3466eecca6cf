"""Live latency (journal write → browser DOM), idle CPU of the watcher, RSS under 10,000 events.

    python bench/live_latency.py [--events 60] [--tmp DIR]

Everything runs against real ``lute-dashboard serve`` subprocesses on 127.0.0.1
and Debian's headless chromium (Playwright); no request leaves the machine.

1. Latency, for three server configurations side by side: inotify (default,
   ``--poll 0.5``), polling 0.5 s (``--no-inotify``), polling 1 s
   (``--no-inotify --poll 1``).  Each gets a fresh copy of the test experiment
   and one chromium page.  A MutationObserver on the shadow root of the
   "Latest status changes" feed records ``Date.now()`` when an event's unique
   message first appears in the DOM; the bench appends the event to
   ``work_dir/lute_status.jsonl`` with ``append_event`` right after taking
   ``time.time()``.  Events are 0.3–0.7 s apart (uniform jitter, so the polling
   phase is sampled uniformly); each flips the status of one of four probe cells
   (a status change, so it enters the feed).  A few warm-up events are not counted.
2. Idle CPU of the refresh thread: a server watching 20 copies of the test
   experiment, no browser, no writes; (utime + stime) over 20 s, as % of one
   core, with and without inotify (poll 0.5 s).
3. RSS before and after 10,000 events (one chromium page open): 667 runs × 5
   Tasks × PENDING/RUNNING/COMPLETED (about 2 % FAILED), in batches of 200 a
   second; then after 10 s idle.  Control: a fresh server reading the same
   final files, with one page open: the RSS the final state costs anyway.

Prints the load average with every part: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    JOURNAL,
    TEST_TASKS,
    DashboardServer,
    copy_experiment,
    cpu_seconds,
    feed_observer_alive,
    launch_chromium,
    local_only,
    machine_line,
    observe_feed,
    open_dashboard,
    percentile,
    rss_mb,
)
from lute_writers.journal import append_event

CONFIGS = [  # label, serve arguments, polling interval (s)
    ("inotify, poll 0.5 s", (), 0.5),
    ("polling 0.5 s", ("--no-inotify",), 0.5),
    ("polling 1 s", ("--no-inotify", "--poll", "1"), 1.0),
]
PROBE_TASK = "Test"
PROBE_RUNS = ("900", "901", "902", "903")
TOKEN = r"BENCH-[A-Za-z0-9]+-\d+"
WARMUP = 4
SEEN_TIMEOUT = 8.0

IDLE_COPIES = 20
IDLE_SECONDS = 20.0
IDLE_SETTLE = 10.0

STREAM_EVENTS = 10_000
STREAM_BATCH = 200
STREAM_BATCH_EVERY = 1.0
STREAM_FIRST_RUN = 100


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- 1. latency ----------------------------------------------------------------

async def _wait_seen(page, tokens: list[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        seen = await page.evaluate("() => window.__seen")
        if all(t in seen for t in tokens) or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(0.1)


async def measure_latency(browser, tmp: Path, key: str, label: str, extra: tuple[str, ...],
                          events: int) -> dict:
    exp = copy_experiment(tmp / f"latency-{key}" / "mfxp1001123")
    journal = exp / JOURNAL
    status = {run: "COMPLETED" for run in PROBE_RUNS}
    writes: dict[str, float] = {}
    with DashboardServer(exp, extra=extra, log=tmp / f"latency-{key}.log") as server:
        page = await browser.new_page()
        await local_only(page)
        await open_dashboard(page, server.url)
        in_shadow = await observe_feed(page, TOKEN)
        load_before = machine_line()
        reinstalled = 0
        for i in range(WARMUP + events):
            run = PROBE_RUNS[i % len(PROBE_RUNS)]
            status[run] = "RUNNING" if status[run] == "COMPLETED" else "COMPLETED"
            token = f"BENCH-{key}-{i}"
            if i == WARMUP:  # the probe cells exist now; measure from here
                await _wait_seen(page, list(writes), SEEN_TIMEOUT)
                if not await feed_observer_alive(page):
                    reinstalled += 1
                    await observe_feed(page, TOKEN)
            wrote = time.time()
            append_event(journal, task=PROBE_TASK, run=run, status=status[run], message=token)
            writes[token] = wrote
            await asyncio.sleep(random.uniform(0.3, 0.7))
        measured = [f"BENCH-{key}-{i}" for i in range(WARMUP, WARMUP + events)]
        seen = await _wait_seen(page, measured, SEEN_TIMEOUT)
        alive = await feed_observer_alive(page)
        await page.close()
    latencies = [seen[t] - writes[t] * 1000 for t in measured if t in seen]
    return {"label": label, "n": len(latencies), "missing": len(measured) - len(latencies),
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "max": max(latencies, default=float("nan")),
            "min": min(latencies, default=float("nan")),
            "mean": statistics.fmean(latencies) if latencies else float("nan"),
            "shadow": in_shadow, "observer_alive": alive, "reinstalled": reinstalled,
            "load": load_before}


# -- 2. idle CPU ---------------------------------------------------------------

def measure_idle_cpu(tmp: Path, extra: tuple[str, ...], key: str) -> dict:
    root = tmp / "idle-experiments"
    if not root.exists():
        for n in range(IDLE_COPIES):
            copy_experiment(root / f"mfxp10011{n:02d}")
    with DashboardServer(root, extra=extra, log=tmp / f"idle-{key}.log") as server:
        time.sleep(IDLE_SETTLE)  # first read of all 20, imports
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        time.sleep(IDLE_SECONDS)
        cpu1, t1 = cpu_seconds(server.pid), time.monotonic()
        rss = rss_mb(server.pid)
    return {"cpu_s": cpu1 - cpu0, "wall_s": t1 - t0, "pct": 100 * (cpu1 - cpu0) / (t1 - t0),
            "rss": rss, "load": machine_line()}


# -- 3. RSS under 10,000 events ------------------------------------------------

def stream_events(count: int) -> list[dict]:
    """Runs advancing: each run's 5 Tasks queued, then each RUNNING and ending."""
    rng = random.Random(7)
    out: list[dict] = []
    run = STREAM_FIRST_RUN
    while len(out) < count:
        out += [{"task": t, "run": str(run), "status": "PENDING"} for t in TEST_TASKS]
        for task in TEST_TASKS:
            out.append({"task": task, "run": str(run), "status": "RUNNING"})
            end = "FAILED" if rng.random() < 0.02 else "COMPLETED"
            out.append({"task": task, "run": str(run), "status": end,
                        "message": f"run {run} {task} {end.lower()}"})
        run += 1
    out = out[:count]
    out[-1]["message"] = "BENCH-end-0"
    # The last one must be a status change of its cell, so that it reaches the feed.
    assert out[-1]["status"] != out[-2]["status"] or out[-1]["task"] != out[-2]["task"]
    return out


async def measure_stream_rss(browser, tmp: Path, count: int = STREAM_EVENTS) -> dict:
    exp = copy_experiment(tmp / "stream" / "mfxp1001123")
    journal = exp / JOURNAL
    events = stream_events(count)
    result: dict = {"events": count}
    with DashboardServer(exp, log=tmp / "stream.log") as server:
        page = await browser.new_page()
        await local_only(page)
        await open_dashboard(page, server.url)
        await observe_feed(page, TOKEN)
        await asyncio.sleep(5)
        result["before"] = rss_mb(server.pid)
        result["load_before"] = machine_line()
        base = datetime.now(timezone.utc)
        started = time.monotonic()
        for start in range(0, len(events), STREAM_BATCH):
            tick = time.monotonic()
            for offset, event in enumerate(events[start:start + STREAM_BATCH]):
                moment = base + timedelta(milliseconds=start + offset)
                append_event(journal, time=_iso(moment), **event)
            await asyncio.sleep(max(0.0, STREAM_BATCH_EVERY - (time.monotonic() - tick)))
        result["write_s"] = time.monotonic() - started
        seen = await _wait_seen(page, ["BENCH-end-0"], 120)
        result["end_seen"] = "BENCH-end-0" in seen
        result["after"] = rss_mb(server.pid)
        await asyncio.sleep(10)
        result["idle"] = rss_mb(server.pid)
        result["load_after"] = machine_line()
        result["grid_cells"] = await page.evaluate(
            "() => Bokeh.documents[0].get_model_by_name('status-grid')"
            ".renderers[0].data_source.data.task.length")
        await page.close()
    # Control: the same final files read by a fresh server, one page open.
    control = tmp / "stream-control" / "mfxp1001123"
    shutil.copytree(exp, control)
    with DashboardServer(control, log=tmp / "stream-control.log") as server:
        page = await browser.new_page()
        await local_only(page)
        await open_dashboard(page, server.url)
        await asyncio.sleep(5)
        result["control"] = rss_mb(server.pid)
        result["control_cells"] = await page.evaluate(
            "() => Bokeh.documents[0].get_model_by_name('status-grid')"
            ".renderers[0].data_source.data.task.length")
        await page.close()
    return result


# -- report ----------------------------------------------------------------------

def _ok(flag: bool) -> str:
    return "PASS" if flag else "FAIL"


async def measure(args: argparse.Namespace, tmp: Path) -> tuple[list[dict], dict, dict | None]:
    """The parts not skipped: latency per config and streamed RSS (in chromium), idle CPU."""
    from playwright.async_api import async_playwright

    results, idle, stream = [], {}, None
    async with async_playwright() as pw:
        browser = await launch_chromium(pw)
        if "latency" not in args.skip:
            keys = ("inotify", "poll05", "poll1")
            for key, (label, extra, _poll) in zip(keys, CONFIGS, strict=True):
                results.append(await measure_latency(browser, tmp, key, label, extra,
                                                     args.events))
                print(f"  measured {label}: n={results[-1]['n']}  ({results[-1]['load']})",
                      flush=True)
        if "rss" not in args.skip:
            stream = await measure_stream_rss(browser, tmp, args.stream_events)
        await browser.close()
    if "idle" not in args.skip:
        idle["inotify"] = measure_idle_cpu(tmp, (), "inotify")
        idle["polling"] = measure_idle_cpu(tmp, ("--no-inotify",), "polling")
    return results, idle, stream


def report_latency(results: list[dict]) -> bool:
    """Part 1's table and targets; True when a target (not an "(info)" one) was missed."""
    print("\n## 1. Journal write → feed text in the browser DOM (ms)")
    width = 22
    print(f"{'':<24}" + "".join(f"{r['label']:>{width}}" for r in results))
    for name in ("n", "missing", "min", "p50", "mean", "p95", "max"):
        cells = "".join(f"{r[name]:>{width}.0f}" if isinstance(r[name], float)
                        else f"{r[name]:>{width}}" for r in results)
        print(f"{name:<24}{cells}")
    inotify, poll05, poll1 = results
    targets = [
        ("inotify p50 <= 150 ms", inotify["p50"] <= 150),
        ("inotify p95 <= 300 ms", inotify["p95"] <= 300),
        ("polling 0.5 s p95 <= 500 + 150 = 650 ms", poll05["p95"] <= 650),
        ("(info) polling 1 s p95 <= 1000 + 150 = 1150 ms", poll1["p95"] <= 1150),
    ]
    targets += [(f"every event seen ({r['label']})", r["missing"] == 0) for r in results]
    failed = False
    for name, ok in targets:
        print(f"  target {name:<48} {_ok(ok)}")
        failed |= not ok and not name.startswith("(info)")
    print("  feed found in a shadow root: "
          + ", ".join(f"{r['label']}={r['shadow']}" for r in results)
          + "; observer still attached at the end: "
          + ", ".join(f"{r['observer_alive']}" for r in results))
    return failed


def report_idle(idle: dict) -> None:
    """Part 2: the refresh thread's CPU with nothing happening, inotify vs polling only."""
    print(f"\n## 2. Idle CPU, {IDLE_COPIES} experiments, poll 0.5 s, no browser, no writes"
          f" ({IDLE_SECONDS:.0f} s)")
    print(f"{'':<24}{'inotify + polling':>22}{'polling only':>22}")
    a, b = idle["inotify"], idle["polling"]
    print(f"{'CPU seconds':<24}{a['cpu_s']:>22.2f}{b['cpu_s']:>22.2f}")
    print(f"{'% of one core':<24}{a['pct']:>21.1f}%{b['pct']:>21.1f}%")
    print(f"{'RSS (MiB)':<24}{a['rss']:>22.1f}{b['rss']:>22.1f}")
    print(f"  load: {a['load']} / {b['load']}")


def report_stream(s: dict) -> None:
    """Part 3: the server's memory after a long stream, against a fresh server's."""
    print(f"\n## 3. Server RSS, {s['events']:,} events streamed (one chromium page open)")
    print(f"{'before':>12}{'after':>12}{'after +10 s':>14}{'growth':>12}"
          f"{'control':>12}")
    print(f"{s['before']:>11.1f}M{s['after']:>11.1f}M{s['idle']:>13.1f}M"
          f"{s['idle'] - s['before']:>+11.1f}M{s['control']:>11.1f}M")
    print(f"  written in {s['write_s']:.1f} s; last event in the browser's feed: "
          f"{s['end_seen']}; grid cells in the page: {s['grid_cells']:,} after the stream, "
          f"{s['control_cells']:,} in the control page")
    print("  control = a fresh server reading the same final files, one page open: what "
          "the final state costs without the streaming history")
    excess = s["idle"] - s["control"]
    print(f"  streamed server vs control: {excess:+.1f} MiB "
          f"({100 * excess / s['control']:+.1f} %)")
    print(f"  load: before {s['load_before']}; after {s['load_after']}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60, help="measured events per config")
    parser.add_argument("--stream-events", type=int, default=STREAM_EVENTS,
                        help="events streamed for the RSS part (default 10,000)")
    parser.add_argument("--tmp", help="work folder (default: a new temporary one)")
    parser.add_argument("--skip", action="append", default=[], choices=["latency", "idle", "rss"])
    args = parser.parse_args()
    tmp = Path(args.tmp or tempfile.mkdtemp(prefix="lute-bench-latency-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"# bench/live_latency.py  ({time.strftime('%Y-%m-%d %H:%M:%S')}, work in {tmp})")
    print(f"# machine: {machine_line()}")
    random.seed(1)
    results, idle, stream = await measure(args, tmp)
    failed = report_latency(results) if results else False
    if idle:
        report_idle(idle)
    if stream:
        report_stream(stream)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
