"""The dashboard's first screen against the floor page; cold start, per-row read cost, RSS.

    python bench/first_screen.py [--repeats 9] [--baseline DIR]

(``bench/load.py`` runs it too, with the defaults, after its own cases.)

The floor page is ``panel serve bench/floor_page.py``: Panel's FastListTemplate
with one Markdown pane, whatever any Panel page costs.  In the same run,
alternating, each from a fresh browser context (cold HTTP cache), as the median
of ``--repeats`` loads after one unmeasured load of each:

- an empty experiment (LUTE's tables, no rows), 2,000 runs × 10 Tasks and
  10,000 × 20, served together (``?exp=NAME``), and the picker of a folder of
  100 experiments;
- first screen = navigation → every Bokeh document idle, and the grid drawn
  (its newest runs' cells in the figure's source, its view finished) or the
  picker's list shown;
- its ratio to the floor page (target ≤ RATIO), requests and bytes per page.

``--baseline DIR`` serves the same cases from another checkout too (a copy of
the tree before a change): before and after side by side, in one run.

Then, for the 10,000 × 20 experiment alone:

- cold start: server process started → that first screen in a browser that
  asks for the page as soon as ``/liveness`` answers (target ≤ COLD_START s);
- RSS of a server with no session, once its first read is done (CPU quiet;
  target ≤ RSS_MB);
- per-row read cost: ``Experiment.refresh()`` of a new Experiment, each size in
  a fresh process, at 20,000 and at 200,000 rows (target: the larger within
  ROW_COST_RATIO of the smaller).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    DashboardServer,
    cpu_seconds,
    machine_line,
    rss_mb,
)
from playwright.sync_api import Browser, Page, sync_playwright

from bench.load import GRID_DRAWN_JS, write_empty_experiment
from dashboard.views.status_grid import FIRST_RUNS
from tests.support.experiments import write_big_experiment, write_hutch

RATIO, COLD_START, RSS_MB, ROW_COST_RATIO = 1.3, 10.0, 250.0, 1.5
#: Loads per case: medians of 5 swung ±0.15× from run to run on this shared machine.
REPEATS = 9
IDLE_JS = ("() => window.Bokeh && Bokeh.documents.length > 0 "
           "&& Bokeh.documents.every(d => d.is_idle)")
#: (label, experiment folder, runs, Tasks); runs × Tasks rows in lute.db.
EXPERIMENTS = [("empty experiment", "emptyexp", 0, 0), ("2,000 × 10", "bigexp", 2000, 10),
               ("10,000 × 20", "hugeexp", 10_000, 20)]
PICKER_EXPERIMENTS = 100

Ready = Callable[[Page], None]


class FloorServer(DashboardServer):
    """``panel serve bench/floor_page.py`` (liveness on, localhost only)."""

    def __init__(self, log: Path) -> None:
        super().__init__(log=log)
        self.cmd = [sys.executable, "-m", "panel", "serve", str(REPO / "bench" / "floor_page.py"),
                    "--port", str(self.port), "--address", "127.0.0.1", "--liveness",
                    "--allow-websocket-origin", f"127.0.0.1:{self.port}"]
        self.page = f"{self.url}/floor_page"


def write_cases(root: Path) -> tuple[Path, Path]:
    """The experiments (one folder of three) and the picker's folder of 100."""
    many = root / "many"
    for _label, name, runs, tasks in EXPERIMENTS:
        if runs:
            write_big_experiment(many / name, runs, tasks)
        else:
            write_empty_experiment(many / name)
    hutch = root / "hutch"
    write_hutch(hutch, {f"mfxl10{i:05d}": 3600.0 * ((i * 37) % PICKER_EXPERIMENTS)
                        for i in range(PICKER_EXPERIMENTS)})
    return many, hutch


def idle(page: Page) -> None:
    page.wait_for_function(IDLE_JS, timeout=300_000, polling=20)


def grid_drawn(cells: int) -> Ready:
    def ready(page: Page) -> None:
        idle(page)
        page.wait_for_function(GRID_DRAWN_JS, arg=cells, timeout=300_000, polling=20)
    return ready


def picker_shown(page: Page) -> None:
    """The list of experiments (today's rows, or the cards of a checkout before them)."""
    idle(page)
    page.locator("tr.lute-experiment, .lute-card").first.wait_for(timeout=300_000)


def load(browser: Browser, url: str, ready: Ready) -> tuple[float, int, int]:
    """Seconds from navigation to ``ready``, requests and bytes, in a fresh context."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        finished: list = []
        page.on("requestfinished", lambda request: finished.append(request))
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        ready(page)
        seconds = time.perf_counter() - started
        size = sum(max(0, request.sizes()["responseBodySize"]) for request in finished)
        return seconds, len(finished), size
    finally:
        context.close()


def measure_pages(browser: Browser, cases: dict[str, tuple[str, Ready]],
                  repeats: int) -> dict[str, tuple[float, int, int]]:
    """Median seconds (and requests, bytes of the last load) per case, cases in turn."""
    for url, ready in cases.values():
        load(browser, url, ready)  # unmeasured: the server reads, the OS caches
    times: dict[str, list[float]] = {name: [] for name in cases}
    last: dict[str, tuple[int, int]] = {}
    for _ in range(repeats):
        for name, (url, ready) in cases.items():
            seconds, requests, size = load(browser, url, ready)
            times[name].append(seconds)
            last[name] = (requests, size)
    return {name: (statistics.median(times[name]), *last[name]) for name in cases}


def page_cases(many: str, hutch: str) -> dict[str, tuple[str, Ready]]:
    cases = {label: (f"{many}/?exp={name}", grid_drawn(min(runs, FIRST_RUNS) * tasks))
             for label, name, runs, tasks in EXPERIMENTS}
    cases[f"picker of {PICKER_EXPERIMENTS}"] = (f"{hutch}/", picker_shown)
    return cases


def first_screens(browser: Browser, many: Path, hutch: Path, tmp: Path, repeats: int,
                  baseline: Path | None) -> bool:
    """Prints the table of first screens; True when every case is within RATIO."""
    servers = [FloorServer(tmp / "floor.log"), DashboardServer(many, log=tmp / "many.log"),
               DashboardServer(hutch, log=tmp / "hutch.log")]
    if baseline is not None:
        servers += [DashboardServer(many, log=tmp / "many-before.log", cwd=baseline),
                    DashboardServer(hutch, log=tmp / "hutch-before.log", cwd=baseline)]
    try:
        for server in servers:
            server.start(timeout=300)
        floor = servers[0]
        cases = {"floor page": (floor.page, idle), **page_cases(servers[1].url, servers[2].url)}
        if baseline is not None:
            cases |= {f"before: {k}": v for k, v in page_cases(servers[3].url,
                                                                servers[4].url).items()}
        results = measure_pages(browser, cases, repeats)
    finally:
        for server in servers:
            server.stop()
    base = results["floor page"][0]
    print(f"\nfirst screen, median of {repeats} fresh-context loads, cases in turn "
          f"({machine_line()})")
    print(f"{'':28}{'seconds':>9}{'× floor':>9}{'requests':>10}{'MB':>7}   target")
    ok = True
    for name, (seconds, requests, size) in results.items():
        ratio = seconds / base
        mine = name != "floor page" and not name.startswith("before")
        verdict = ("PASS" if ratio <= RATIO else "FAIL") if mine else ""
        ok &= ratio <= RATIO or not mine
        print(f"{name:28}{seconds:9.2f}{ratio:9.2f}{requests:10}{size / 1e6:7.2f}   "
              f"{f'≤ {RATIO}× ' + verdict if mine else ''}")
    return ok


def cold_start(browser: Browser, huge: Path, tmp: Path) -> float:
    """Seconds from starting a server of ``huge`` to its first screen in a browser."""
    started = time.perf_counter()
    server = DashboardServer(huge, log=tmp / "cold.log")
    try:
        server.start(timeout=300)
        _label, _name, runs, tasks = EXPERIMENTS[-1]
        load(browser, f"{server.url}/", grid_drawn(min(runs, FIRST_RUNS) * tasks))
        return time.perf_counter() - started
    finally:
        server.stop()


def rss_after_read(huge: Path, tmp: Path) -> tuple[float, float]:
    """(seconds until the first read is over, RSS MB) of a server no one opened."""
    started = time.perf_counter()
    with DashboardServer(huge, log=tmp / "rss.log") as server:
        last = cpu_seconds(server.pid)
        while True:  # the read keeps a core busy: over when 2 s use under 0.1 s
            time.sleep(2)
            now = cpu_seconds(server.pid)
            if now - last < 0.1:
                return time.perf_counter() - started - 2, rss_mb(server.pid)
            last = now


def read_cost(path: Path, repeats: int = 3) -> tuple[int, float]:
    """(rows, median seconds) of the first read of ``path``, each in a fresh process."""
    seconds = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, __file__, "--read", str(path)], cwd=REPO,
                             check=True, capture_output=True, text=True).stdout
        rows, taken = json.loads(out.splitlines()[-1])
        seconds.append(taken)
    return rows, statistics.median(seconds)


def _read_once(path: str) -> None:
    from lute_model.discovery import discover
    from lute_model.experiment import Experiment

    (source,), _problems = discover([path])
    experiment = Experiment(source)
    started = time.perf_counter()
    experiment.refresh()
    print(json.dumps([len(experiment.executions), time.perf_counter() - started]))


def cold_start_and_reads(browser: Browser, root: Path, tmp: Path) -> bool:
    """Prints cold start, RSS and per-row cost of the 10,000 × 20 case; True when on target."""
    huge = root / "alone" / "hugeexp"
    write_big_experiment(huge, EXPERIMENTS[-1][2], EXPERIMENTS[-1][3])
    read_seconds, rss = rss_after_read(huge, tmp)
    cold = cold_start(browser, huge, tmp)
    small_rows, small = read_cost(root / "many" / "bigexp")
    big_rows, big = read_cost(huge)
    per_small, per_big = 1e6 * small / small_rows, 1e6 * big / big_rows
    growth = per_big / per_small
    checks = [cold <= COLD_START, rss <= RSS_MB, growth <= ROW_COST_RATIO]
    print(f"\n10,000 × 20 alone ({machine_line()})")
    print(f"  cold start, server start → first screen: {cold:6.2f} s   target ≤ {COLD_START:g} s "
          f"{'PASS' if checks[0] else 'FAIL'}")
    print(f"  RSS with no session after the first read ({read_seconds:.1f} s): {rss:6.1f} MB   "
          f"target ≤ {RSS_MB:g} MB {'PASS' if checks[1] else 'FAIL'}")
    print(f"  first read, Experiment.refresh(): {small_rows:,} rows {small:.2f} s "
          f"({per_small:.1f} µs/row), {big_rows:,} rows {big:.2f} s ({per_big:.1f} µs/row): "
          f"{growth:.2f}×   target ≤ {ROW_COST_RATIO}× {'PASS' if checks[2] else 'FAIL'}")
    return all(checks)


def bench_first_screen(browser: Browser, repeats: int = REPEATS,
                       baseline: Path | None = None) -> bool:
    """Everything above, in a temporary folder; True when every target is met."""
    with tempfile.TemporaryDirectory(prefix="lute-bench-first-") as folder:
        tmp = Path(folder)
        started = time.perf_counter()
        many, hutch = write_cases(tmp)
        print(f"first-screen cases written in {time.perf_counter() - started:.1f} s", flush=True)
        pages_ok = first_screens(browser, many, hutch, tmp, repeats, baseline)
        return cold_start_and_reads(browser, tmp, tmp) and pages_ok


def run(repeats: int = REPEATS, baseline: Path | None = None) -> bool:
    """The whole bench in a browser of its own; prints its verdict, True when it passes."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ok = bench_first_screen(browser, repeats, baseline)
        browser.close()
    print(f"first screen, cold start, read cost, RSS: {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--baseline", type=Path, help="another checkout, served side by side")
    parser.add_argument("--read", help=argparse.SUPPRESS)  # one first read, in this process
    args = parser.parse_args()
    if args.read:
        _read_once(args.read)
        return 0
    return 0 if run(args.repeats, args.baseline) else 1


if __name__ == "__main__":
    sys.exit(main())
