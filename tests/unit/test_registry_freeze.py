"""The process's registry takes its first read out of the garbage collector's view.

Bokeh and Panel run a full collection whenever a session closes; with a
10,000-run experiment loaded, walking its objects stopped the server's loop
for ~200 ms each time (``bench/first_screen.py``, ``bench/sessions.py``).
"""

from __future__ import annotations

import gc
from pathlib import Path

from dashboard.registry import Registry, ServeConfig
from tests.support.experiments import build_experiment
from tests.support.waits import wait_until


def _first_read(folder: Path, freeze: bool) -> tuple[Registry, object]:
    registry = Registry(ServeConfig(paths=(str(folder),), poll=60.0), freeze_after_load=freeze)
    registry.start()
    assert wait_until(lambda: registry.loaded)
    experiment = next(iter(registry.experiments.values()))
    assert wait_until(lambda: not freeze or gc.get_freeze_count() > 0)
    return registry, experiment


def _tracked(target: object) -> bool:
    """Whether a collection would walk ``target`` (frozen objects are not listed)."""
    return any(obj is target for obj in gc.get_objects())


def test_the_process_registry_freezes_what_its_first_read_made(tmp_path: Path):
    folder = build_experiment(tmp_path, runs=3)
    gc.unfreeze()
    registry, experiment = _first_read(folder, freeze=True)
    try:
        assert not _tracked(experiment)
    finally:
        registry.stop()
        gc.unfreeze()


def test_a_registry_made_by_hand_leaves_the_collector_alone(tmp_path: Path):
    folder = build_experiment(tmp_path, runs=3)
    gc.unfreeze()
    registry, experiment = _first_read(folder, freeze=False)
    try:
        assert gc.get_freeze_count() == 0
        assert _tracked(experiment)
    finally:
        registry.stop()
