"""The process-wide state: one Experiment per result directory, read off the UI thread.

``panel serve`` runs the app script once per browser session; this module is
imported once per process, so what it holds is shared by every session.  It
reads the experiments in a background thread (the first page shows a loading
indicator meanwhile) and then refreshes them on one timer for the whole
process: sessions never poll the disk themselves.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import param

from lute_model.discovery import discover
from lute_model.experiment import Experiment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeConfig:
    """What the command line named: the experiments and how often to look at them."""

    paths: tuple[str, ...] = ()
    db: tuple[str, ...] = ()
    summary_dir: str | None = None
    poll: float = 0.5
    prefix: str = ""


class Registry(param.Parameterized):
    """Every experiment this server shows, and the problems of paths that gave none."""

    experiments = param.Dict(default={}, doc="name -> Experiment, in the order discovered.")
    problems = param.List(default=[], doc="Paths that gave no experiment, and why.")
    loaded = param.Boolean(default=False, doc="Whether every experiment was read once.")

    def __init__(self, config: ServeConfig, **params) -> None:
        super().__init__(**params)
        self.config = config
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Discover and read in the background, then keep refreshing (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="lute-refresh", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        sources, problems = discover(list(self.config.paths), db=list(self.config.db) or None,
                                     summary_dir=self.config.summary_dir)
        experiments: dict[str, Experiment] = {}
        for source in sources:
            name = source.name
            suffix = 2
            while name in experiments:  # two folders of the same name: keep both
                name, suffix = f"{source.name}-{suffix}", suffix + 1
            source.name = name
            experiments[name] = Experiment(source)
        self.param.update(experiments=experiments, problems=problems)
        for experiment in experiments.values():
            self._refresh(experiment)
        self.loaded = True
        while not self._stop.wait(self.config.poll):
            for experiment in experiments.values():
                self._refresh(experiment)

    @staticmethod
    def _refresh(experiment: Experiment) -> None:
        """One refresh; an error in a reader or a subscriber must not stop the loop."""
        try:
            experiment.refresh()
        except Exception:  # the loop serves every session: log and go on
            log.exception("refreshing %s failed", experiment.name)


_registry: Registry | None = None
_lock = threading.Lock()


def configure(config: ServeConfig) -> Registry:
    """Create (once) and start the process's registry; later calls return the same one."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = Registry(config)
            _registry.start()
        return _registry


def get_registry() -> Registry:
    if _registry is None:
        raise RuntimeError("the dashboard was not configured: run it with `lute-dashboard serve`")
    return _registry

