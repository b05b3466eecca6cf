"""Faults around the server: no inotify, and a browser that leaves while updates stream."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from dashboard import registry as registry_module
from dashboard.registry import Registry, ServeConfig
from lute_model.status import TaskStatus
from lute_writers.journal import JOURNAL_NAME, append_event
from lute_writers.lute_schema import record_task
from tests.support.browser import READY
from tests.support.waits import wait_until


def test_when_inotify_fails_the_server_polls_and_says_so(experiment_dir: Path, monkeypatch):
    def no_watch(*_args, **_kwargs):
        raise OSError("OS file watch limit reached")

    monkeypatch.setattr(registry_module.watchfiles, "watch", no_watch)
    registry = Registry(ServeConfig(paths=(str(experiment_dir),), poll=0.05))
    registry.start()
    try:
        wait_until(lambda: registry.loaded and registry.watch_mode.startswith("polling"),
                   timeout=20)
        assert "inotify unavailable: OS file watch limit reached" in registry.watch_mode
        (experiment,) = registry.experiments.values()
        record_task(str(experiment_dir / "work_dir" / "lute.db"), task="SubmitSMD", run="9",
                    status=TaskStatus.FAILED)
        wait_until(lambda: ("SubmitSMD", 9) in experiment.latest, timeout=20)  # polling still reads
    finally:
        registry.stop()


def test_a_browser_leaving_mid_update_does_not_stop_the_others(serve, experiment_dir: Path,
                                                              browser: Browser, unchanged):
    journal = experiment_dir / "work_dir" / JOURNAL_NAME
    with serve(experiment_dir, extra=("--poll", "0.1")) as url:
        pages = [browser.new_page() for _ in range(2)]
        for page in pages:
            page.goto(url)
            page.wait_for_function(READY, timeout=30_000)
        leaving, staying = pages
        for run in range(100, 130):  # events stream while the first browser goes away
            append_event(journal, task="SubmitSMD", run=str(run), status="RUNNING")
            if run == 110:
                leaving.close()
        expect(staying.get_by_text("RUNNING 30")).to_be_visible(timeout=20_000)
        with unchanged(experiment_dir):
            staying.reload()
            staying.wait_for_function(READY, timeout=30_000)
            expect(staying.get_by_text("RUNNING 30")).to_be_visible(timeout=20_000)
        log = url.log()
        # Tornado logs the closed socket it was writing to (WebSocketClosedError): noise.
        # Our shared refresh loop and per-session callbacks must not have failed.
        assert "refreshing" not in log and "a session's update failed" not in log, log
        staying.close()
