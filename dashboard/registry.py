"""The process-wide state: one Experiment per result directory, read off the UI thread.

``panel serve`` runs the app script once per browser session; this module is
imported once per process, so what it holds is shared by every session.  One
thread reads the experiments (the first page shows a loading indicator
meanwhile) and then refreshes them for the whole process: sessions never look
at the disk themselves.

At the beamline the Tasks write from batch nodes to a network file system,
where inotify sees nothing: **polling** every ``poll`` seconds is the main
mechanism (each refresh reads only what is new).  inotify (watchfiles) only
wakes the loop early for writes made on this host; when it cannot run (no
inotify, watch limit reached) the dashboard says so and polls.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import param
import watchfiles

from lute_model.discovery import ExperimentSource, discover
from lute_model.experiment import Experiment
from lute_model.sources.journal import JOURNAL_NAME

log = logging.getLogger(__name__)

#: An experiment with no change for this long is quiet: looked at every QUIET_EVERY-th poll.
QUIET_SECONDS = 600.0
QUIET_EVERY = 4
QUIET_AFTER = 8
#: Seconds between two restarts of a watch that met a path that is not UTF-8.
UNDECODABLE_PAUSE = 0.5
#: The picker's order (``Registry.activity``) is published at most this often (seconds).
ACTIVITY_EVERY = 5.0
#: How long watchfiles groups changes before waking the loop (ms): short, since
#: the loop itself batches everything that changed into one refresh per tick.
DEBOUNCE_MS = 20


@dataclass(frozen=True)
class ServeConfig:
    """What the command line named: the experiments and how often to look at them."""

    paths: tuple[str, ...] = ()
    db: tuple[str, ...] = ()
    summary_dir: str | None = None
    poll: float = 0.5
    prefix: str = ""
    inotify: bool = True


class Registry(param.Parameterized):
    """Every experiment this server shows, and the problems of paths that gave none."""

    experiments = param.Dict(default={}, doc="name -> Experiment, in the order discovered.")
    problems = param.List(default=[], doc="Paths that gave no experiment, and why.")
    loaded = param.Boolean(default=False, doc="Whether every experiment was read once.")
    watch_mode = param.String(default="polling", doc="'inotify + polling' or 'polling' (why).")
    activity = param.Dict(default={}, doc="name -> time.time() of the experiment's last "
                          "activity: its newest result file's mtime when first read, then each "
                          "refresh that changed something; published at most every "
                          "ACTIVITY_EVERY s (the picker puts recent ones first).")

    def __init__(self, config: ServeConfig, freeze_after_load: bool = False, **params) -> None:
        super().__init__(**params)
        self.config = config
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._dirty: set[str] = set()
        self._dirty_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: Whether the first read's objects leave the garbage collector's view (the
        #: process's registry; see `_run`).
        self.freeze_after_load = freeze_after_load
        self._ticks = 0
        self._changed: dict[str, float] = {}  # name -> monotonic time of its last change
        self._activity: dict[str, float] = {}  # what `activity` will say next
        self._activity_sent = 0.0

    def start(self) -> None:
        """Discover and read in the background, then keep refreshing (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="lute-refresh", daemon=True)
            self._thread.start()

    def summary_roots(self) -> dict[str, Path]:
        """Experiment name -> its summary folder: the only roots report routes serve from."""
        return {name: e.source.summary_dir for name, e in self.experiments.items()
                if e.source.summary_dir is not None}

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    # -- the refresh loop ----------------------------------------------------

    def _run(self) -> None:
        self.load()
        if self.freeze_after_load:
            # The first read is most of what the process holds for its lifetime (at
            # 10,000 runs × 20 Tasks, 360,000 objects), and every closed session makes
            # Bokeh and Panel run a full collection, which walked all of them: 200 ms
            # with the server's loop stopped, page loads and live updates waiting.
            # Frozen, they are skipped.  What the first read leaves as garbage is freed
            # by reference counting (rows and dicts hold no cycles).
            gc.freeze()
        while not self._stop.is_set():
            woken = self._wake.wait(self.config.poll)
            self._wake.clear()
            with self._dirty_lock:
                dirty, self._dirty = self._dirty, set()
            self.tick(dirty if woken else set())

    def load(self) -> None:
        """Discover the experiments and read each once (the refresh thread's first step)."""
        sources, problems = discover(list(self.config.paths), db=list(self.config.db) or None,
                                     summary_dir=self.config.summary_dir)
        experiments: dict[str, Experiment] = {}
        for source in sources:
            name, suffix = source.name, 2
            while name in experiments:  # two folders of the same name: keep both
                name, suffix = f"{source.name}-{suffix}", suffix + 1
            source.name = name
            experiments[name] = Experiment(source)
            self._activity[name] = last_written(source)
        self.param.update(experiments=experiments, problems=problems,
                          activity=dict(self._activity))
        if self.config.inotify:
            self._start_inotify(experiments)
        for experiment in experiments.values():
            self._refresh(experiment)
        self.loaded = True

    def tick(self, dirty: set[str] = frozenset()) -> list[str]:
        """One round of the loop: what inotify saw change, else every experiment that is due.

        When a server shows more than ``QUIET_AFTER`` experiments (a hutch's
        folder), one in which nothing changed for ``QUIET_SECONDS`` (a finished
        beamtime) is looked at every ``QUIET_EVERY``-th round only, so that a
        folder of a hundred experiments costs what its live ones do.  Returns
        the names refreshed.
        """
        self._ticks += 1
        now = time.monotonic()
        if dirty:
            names = [name for name in dirty if name in self.experiments]
        elif len(self.experiments) <= QUIET_AFTER:
            names = list(self.experiments)
        else:
            names = [name for index, name in enumerate(self.experiments)
                     if now - self._changed.get(name, -QUIET_SECONDS) < QUIET_SECONDS
                     or (self._ticks + index) % QUIET_EVERY == 0]
        for name in names:
            if self._refresh(self.experiments[name]):
                self._changed[name] = now
                self._activity[name] = time.time()
        if now - self._activity_sent >= ACTIVITY_EVERY and self._activity != self.activity:
            self._activity_sent = now
            self.activity = dict(self._activity)
        return names

    def _refresh(self, experiment: Experiment) -> bool:
        """One refresh, True when something changed (the first read does not count); an
        error in a reader or a subscriber must not stop the loop."""
        try:
            return bool(experiment.refresh()) and self.loaded
        except Exception:  # the loop serves every session: log and go on
            log.exception("refreshing %s failed", experiment.name)
            return False

    # -- inotify -------------------------------------------------------------

    def _start_inotify(self, experiments: dict[str, Experiment]) -> None:
        """Watch database folders (flat) and summary trees (deep) on this host."""
        flat: dict[Path, str] = {}
        deep: dict[Path, str] = {}
        for name, experiment in experiments.items():
            for db in experiment.source.databases:
                if db.parent.is_dir():
                    flat[db.parent.resolve()] = name
            summary = experiment.source.summary_dir
            if summary is not None and summary.is_dir():
                deep[summary.resolve()] = name
        self.watch_mode = "inotify + polling"
        for folders, recursive in ((flat, False), (deep, True)):
            if folders:
                threading.Thread(target=self._watch, args=(folders, recursive),
                                 name="lute-inotify", daemon=True).start()

    def _watch(self, folders: dict[Path, str], recursive: bool) -> None:
        """Wake the refresh loop on changes; a path that is not UTF-8 restarts the watch."""
        while not self._stop.is_set():
            try:
                for changes in watchfiles.watch(
                        *folders, recursive=recursive, debounce=DEBOUNCE_MS, step=10,
                        stop_event=self._stop, raise_interrupt=False,
                        ignore_permission_denied=True):
                    names = {self._owner(Path(path), folders) for _change, path in changes}
                    with self._dirty_lock:
                        self._dirty |= names - {None}
                    self._wake.set()
                return
            except Exception as err:
                if "decode path" not in str(err):  # no inotify, the watch limit: poll only
                    log.warning("inotify unavailable, polling only: %s", err)
                    self.watch_mode = f"polling (inotify unavailable: {err})"
                    return
                # watchfiles cannot name a path whose bytes are not UTF-8 (a folder of
                # that name changed): look at everything now, and watch on.
                self._wake.set()
                self._stop.wait(UNDECODABLE_PAUSE)

    @staticmethod
    def _owner(path: Path, folders: dict[Path, str]) -> str | None:
        for folder, name in folders.items():
            if path == folder or folder in path.parents:
                return name
        return None


def last_written(source: ExperimentSource) -> float:
    """mtime of an experiment's newest result file (databases, journals, summary folder);
    0 when none can be looked at.  A few stat calls, once per experiment at start."""
    paths = [source.summary_dir] if source.summary_dir is not None else []
    for db in source.databases:
        paths += [db, db.with_name(db.name + "-wal"), db.parent / JOURNAL_NAME]
    newest = 0.0
    for path in paths:
        try:
            newest = max(newest, os.stat(path).st_mtime)
        except OSError:
            continue
    return newest


_registry: Registry | None = None
_lock = threading.Lock()


def configure(config: ServeConfig, start: bool = True) -> Registry:
    """Create (once) and start the process's registry; later calls return the same one.

    ``start=False`` makes it without its thread: a server that forks into several
    processes (``--num-procs``) starts it in each process after the fork, since a
    thread does not survive one.
    """
    global _registry
    with _lock:
        if _registry is None:
            _registry = Registry(config, freeze_after_load=True)
        if start:
            _registry.start()
        return _registry


def get_registry() -> Registry:
    if _registry is None:
        raise RuntimeError("the dashboard was not configured: run it with `lute-dashboard serve`")
    return _registry


def summary_roots() -> dict[str, Path]:
    """The process's report roots (``Registry.summary_roots``); none before it is configured.

    For routes made before the app configures the registry: ``panel serve``
    imports its ``--plugins`` before the first session runs ``app.py``.
    """
    return _registry.summary_roots() if _registry is not None else {}
