"""The registry's inotify watch survives a folder whose name is not UTF-8.

watchfiles raises (and its watch ends) when a change happens below a path it
cannot decode; the registry must keep watching, or every later change waits
for the next poll.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from dashboard.registry import Registry, ServeConfig
from lute_model.status import TaskStatus
from lute_writers.lute_schema import record_task
from tests.support.waits import wait_until


def test_a_change_in_a_folder_named_with_bytes_that_are_not_utf8_keeps_inotify_on(
        tmp_path: Path):
    folder = tmp_path / "mfxl1000099"
    (folder / "work_dir").mkdir(parents=True)
    summary = folder / "stats" / "summary"
    (summary / "r0001" / "powders").mkdir(parents=True)
    (summary / "r0001" / "powders" / "report.html").write_text("<p>one</p>")
    record_task(str(folder / "work_dir" / "lute.db"), task="Test", run="1",
                status=TaskStatus.COMPLETED, experiment=folder.name)
    bad = os.path.join(os.fsencode(summary), b"bad\xffname")
    os.makedirs(bad)
    registry = Registry(ServeConfig(paths=(str(folder),), poll=60.0))  # only inotify wakes it
    registry.start()
    try:
        assert wait_until(lambda: registry.loaded)
        time.sleep(0.5)  # the watch is set up
        with open(os.path.join(bad, b"report.html"), "w") as handle:
            handle.write("<p>odd</p>")
        time.sleep(1.0)
        assert registry.watch_mode == "inotify + polling"
        (summary / "r0002" / "powders").mkdir(parents=True)
        (summary / "r0002" / "powders" / "report.html").write_text("<p>two</p>")
        experiment = registry.experiments[folder.name]
        assert wait_until(lambda: "r0002/powders" in experiment.pages), \
            "a change after the odd name was not seen before the next poll (60 s)"
    finally:
        registry.stop()
