"""``lute-dashboard``: the command line, the front door to every part of the dashboard."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

from dashboard.registry import ServeConfig
from dashboard.views.templates import visible
from lute_model.discovery import discover
from lute_model.experiment import Experiment
from lute_model.snapshot import inspect_json
from lute_model.status import ALL_STATUSES, ANSI, SYMBOL, AnyStatus

#: What ``add_subparsers`` returns.
Commands = argparse._SubParsersAction


def _add_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="experiment folders, or folders of experiment folders")
    parser.add_argument("--db", action="append", metavar="FILE",
                        help="a lute.db to read (repeat for several)")
    parser.add_argument("--summary-dir", metavar="DIR", help="the stats/summary folder")


def load_experiments(args: argparse.Namespace) -> tuple[list[Experiment], list]:
    """Discover and read every experiment the arguments name."""
    sources, problems = discover(args.paths, db=args.db, summary_dir=args.summary_dir)
    experiments = [Experiment(source) for source in sources]
    for experiment in experiments:
        experiment.refresh()
    return experiments, problems


def _paint(text: str, status: AnyStatus, color: bool) -> str:
    return f"\x1b[38;5;{ANSI[status]}m{text}\x1b[0m" if color else text


def _print_table(experiment: Experiment, color: bool, out=sys.stdout) -> None:
    def say(line: str) -> None:
        # Names from disk can hold a NUL or a lone surrogate (which no terminal
        # encoding takes): spelled out as the dashboard shows them.
        print(visible(line), file=out)

    say(f"\n{experiment.name}")
    tasks = experiment.tasks
    width = max([len(visible(t)) for t in tasks] + [4])
    for task in tasks:
        cells = []
        for run in reversed(experiment.runs):
            row = experiment.latest.get((task, run))
            cells.append(" " if row is None else _paint(SYMBOL[row.status], row.status, color))
        say(f"  {visible(task):<{width}} {''.join(cells)}")
    if experiment.runs:
        first, last = experiment.runs[-1], experiment.runs[0]
        say(f"  {'':<{width}} runs {first} … {last} ({len(experiment.runs)})")
    counts = experiment.counts
    legend = "  ".join(_paint(f"{SYMBOL[s]} {s.name} {counts[s.name]}", s, color)
                       for s in ALL_STATUSES if counts[s.name])
    say(f"  {legend}")
    pages = experiment.pages.values()
    empty = sum(1 for p in pages if p.empty)
    orphans = sum(1 for p in pages if p.display_name not in experiment.page_refs)
    tabs = len({p.tab for p in pages})
    say(f"  summary pages: {len(pages)} in {tabs} tabs ({empty} empty, {orphans} without a "
        "database row)")
    for path, layouts in sorted(experiment.layouts.items()):
        read_as = f"LUTE's {' + '.join(layouts)} database layout" if layouts else "no LUTE layout"
        say(f"  {path}: read as {read_as}")
    for problem in experiment.problems:
        say(f"  problem: {problem.path}: {problem.message}")


def cmd_inspect(args: argparse.Namespace) -> int:
    experiments, problems = load_experiments(args)
    if args.json:
        json.dump(inspect_json(experiments, problems), sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        for experiment in experiments:
            _print_table(experiment, color)
        for problem in problems:
            print(visible(f"problem: {problem.path}: {problem.message}"))
    return 0 if experiments else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Write (or resume) the demo; with --live keep it running; with --serve also serve it."""
    from lute_demo.demo import build_demo, run_live

    root = Path(args.dir)
    demo = build_demo(root, runs=args.runs, layout=args.db_layout)
    print(f"demo experiment in {root}", flush=True)
    if args.live:
        with contextlib.suppress(KeyboardInterrupt):
            run_live(demo, args.interval)
        return 0
    if not args.serve:
        return 0
    # The demo's writer is a process of its own, as LUTE is: the server only reads.
    writer = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "demo", str(root),
                               "--live", "--interval", str(args.interval),
                               "--db-layout", args.db_layout])
    try:
        serve_args = build_parser().parse_args(["serve", str(root), "--port", str(args.port)])
        return cmd_serve(serve_args)
    finally:
        writer.terminate()
        writer.wait(timeout=10)


def cmd_emit(args: argparse.Namespace) -> int:
    """Append one status event, for shell launchers and SLURM scripts."""
    from lute_model.discovery import find_databases
    from lute_writers.journal import JOURNAL_NAME, append_event

    folder = Path(args.dir)
    if not folder.is_dir():
        print(f"lute-dashboard emit: {folder} is not a folder", file=sys.stderr)
        return 2
    databases = [] if (folder / "lute.db").exists() else find_databases(folder, depth=1)
    target = (databases[0].parent if databases else folder) / JOURNAL_NAME
    try:
        append_event(target, task=args.task, run=args.run, status=args.status,
                     message=args.message, experiment=args.experiment,
                     job=args.job or os.environ.get("SLURM_JOB_ID"))
    except (ValueError, OSError) as err:
        print(f"lute-dashboard emit: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from dashboard.serving import serve

    return serve(args)


def cmd_js(args: argparse.Namespace) -> int:
    from dashboard.jscache import js_fetch_main

    return js_fetch_main(args.js_args)


def _add_config_args(parser: argparse.ArgumentParser) -> None:
    """What a ``ServeConfig`` is made of: for ``lute-dashboard serve`` and for the ``--args``
    of plain ``panel serve dashboard/app.py`` alike."""
    _add_source_args(parser)
    parser.add_argument("--poll", type=float, default=0.5, metavar="SECONDS",
                        help="how often to look for new results (default 0.5)")
    parser.add_argument("--prefix", default="", help="URL prefix behind a proxy, e.g. /lute")
    parser.add_argument("--no-inotify", action="store_true",
                        help="poll only (inotify sees no writes made on other hosts anyway)")


def url_prefix(text: str) -> str:
    """A URL prefix as Bokeh puts it in front of every route: ``'/lute'``, or ``''`` for none."""
    return "/" + text.strip("/") if text.strip("/") else ""


def serve_config(args: argparse.Namespace) -> ServeConfig:
    """The ``ServeConfig`` of arguments parsed with :func:`_add_config_args`."""
    return ServeConfig(tuple(args.paths), tuple(args.db or ()), args.summary_dir, args.poll,
                       url_prefix(args.prefix), inotify=not args.no_inotify)


def config_from_argv(argv: list[str]) -> ServeConfig:
    """The ``--args`` of ``panel serve dashboard/app.py --args PATH... [--db F] [--poll S]``;
    Panel's own options are not in them."""
    parser = argparse.ArgumentParser(prog="dashboard/app.py")
    _add_config_args(parser)
    args, _unknown = parser.parse_known_args(argv)
    return serve_config(args)


def _add_inspect(commands: Commands) -> None:
    inspect = commands.add_parser("inspect", help="print runs × Tasks, statuses and problems")
    _add_source_args(inspect)
    inspect.add_argument("--json", action="store_true", help="print JSON instead of a table")
    inspect.set_defaults(func=cmd_inspect)


def _add_demo(commands: Commands) -> None:
    demo = commands.add_parser("demo", help="write a demo experiment into DIR")
    demo.add_argument("dir", metavar="DIR")
    demo.add_argument("--runs", type=int, default=36, help="runs of history (default 36)")
    demo.add_argument("--live", action="store_true",
                      help="keep the experiment running: new runs, Tasks starting and ending")
    demo.add_argument("--interval", type=float, default=2.0, metavar="SECONDS",
                      help="seconds between two live steps (default 2)")
    demo.add_argument("--serve", action="store_true",
                      help="serve the dashboard on it while it runs live")
    demo.add_argument("--port", type=int, default=5006)
    demo.add_argument("--db-layout", choices=("v2", "v1"), default="v2",
                      help="store executions in LUTE's v2 layout (current LUTE, the default) "
                           "or its v1 layout (one table per Task, LUTE until 2025)")
    demo.set_defaults(func=cmd_demo)


def _add_emit(commands: Commands) -> None:
    emit = commands.add_parser("emit", help="append a Task status event to the journal")
    emit.add_argument("dir", metavar="DIR", help="the folder of lute.db (or the experiment)")
    emit.add_argument("--task", required=True)
    emit.add_argument("--run", required=True)
    emit.add_argument("--status", required=True, help="a TaskStatus name, e.g. RUNNING")
    emit.add_argument("--message", default="")
    emit.add_argument("--experiment")
    emit.add_argument("--job", help="batch job id (default: $SLURM_JOB_ID)")
    emit.set_defaults(func=cmd_emit)


def _add_serve(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="serve the dashboard (Panel server)")
    _add_config_args(serve)
    serve.add_argument("--port", type=int, default=5006)
    serve.add_argument("--address", default="127.0.0.1",
                       help="address to listen on (default: this machine only)")
    serve.add_argument("--allow-websocket-origin", action="append", default=[], metavar="HOST",
                       help="host[:port] browsers reach the server as (needed off localhost)")
    serve.add_argument("--basic-auth", metavar="FILE",
                       help="JSON file of {user: password}, or a single password")
    serve.add_argument("--cookie-secret", help="secret for signed cookies (default: random)")
    serve.add_argument("--unused-session-lifetime", type=int, default=15000, metavar="MS",
                       help="drop a closed browser tab's session after this long (default 15000)")
    serve.add_argument("--num-procs", type=int, default=1, metavar="N",
                       help="server processes sharing the port, each reading the results "
                            "itself (default 1)")
    serve.add_argument("--show", action="store_true", help="open a browser")
    serve.set_defaults(func=cmd_serve)


def _add_js(commands: Commands) -> None:
    js = commands.add_parser("js", help="manage the offline cache of bokeh/panel JavaScript")
    actions = js.add_subparsers(dest="js_command", required=True, metavar="fetch")
    fetch = actions.add_parser("fetch", help="cache the JavaScript/CSS of a bokeh or panel "
                                             "version that summary pages name")
    fetch.add_argument("js_args", nargs=argparse.REMAINDER, help="[bokeh|panel] VERSION")
    fetch.set_defaults(func=cmd_js)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lute-dashboard", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (_add_inspect, _add_demo, _add_emit, _add_serve, _add_js):
        add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
