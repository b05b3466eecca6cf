"""The Runs table's Bokeh models: one formatter and one editor model, whatever the columns.

Panel's Tabulator gives each column a formatter and an editor model of its own;
at 60 columns those were half of a session's page build.  ``LeanTabulator``
shares one of each, and every column the person sees takes its look from the
table's configuration instead (the browser test in ``tests/ui/test_runs_view.py``
checks what is drawn).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import panel as pn
from bokeh.document import Document
from bokeh.models import CellEditor, CellFormatter

from dashboard.views.runs_columns import LeanTabulator, table_config
from dashboard.views.templates import visible
from lute_model.discovery import ExperimentSource
from lute_model.experiment import Experiment
from lute_model.run_table import LABEL, RUN, run_table
from tests.support.experiments import write_big_experiment


def _table(tmp_path: Path, tasks: int) -> LeanTabulator:
    root = tmp_path / "exp"
    write_big_experiment(root, 4, tasks)
    con = sqlite3.connect(root / "work_dir" / "lute.db")
    with con:
        for task in range(tasks):
            con.execute(f"""UPDATE Task{task:02d} SET "result.summary" =
                            'Number of hits found: ' || id || ';Fractional hit rate: 0.5'""")
    con.close()
    experiment = Experiment(ExperimentSource("exp", root, [root / "work_dir" / "lute.db"],
                                             root / "stats" / "summary"))
    experiment.refresh()
    table = run_table(experiment, visible)
    return LeanTabulator(value=table.frame, hidden_columns=[LABEL], disabled=True,
                         show_index=False, **table_config(table.columns))


def test_every_column_shares_one_formatter_and_one_editor(tmp_path: Path) -> None:
    widget = _table(tmp_path, tasks=20)
    model = widget.get_root(Document())
    fields = [column.field for column in model.columns]
    assert set(fields) == set(widget.value.columns)
    assert len(fields) == 2 + 20 * 3  # run, label, per Task its status and two numbers
    assert len({id(column.formatter) for column in model.columns}) == 1
    assert len({id(column.editor) for column in model.columns}) == 1
    assert isinstance(model.columns[0].formatter, CellFormatter)
    assert isinstance(model.columns[0].editor, CellEditor)
    by_field = {column.field: column for column in model.columns}
    assert by_field[RUN].title == "run" and by_field[RUN].width == 80
    assert all(by_field[key].title == title for key, title in widget.titles.items())
    assert all(by_field[key].width == width for key, width in widget.widths.items())


def test_every_shown_column_takes_its_look_from_the_configuration(tmp_path: Path) -> None:
    """Tabulator falls back to the column's formatter model only where the configuration
    names none: no column the person sees may fall back to the shared plain one."""
    widget = _table(tmp_path, tasks=3)
    model = widget.get_root(Document())
    configured = {column["field"]: column for column in model.configuration["columns"]}
    for field in widget.value.columns:
        if field == LABEL:
            continue
        assert "formatter" in configured[field], field


def test_the_table_does_not_load_font_awesome(tmp_path: Path) -> None:
    """Panel adds Font Awesome to every Tabulator; no icon of it is shown here, and each
    style recalculation in the table matched its rules."""
    plain = pn.widgets.Tabulator(value=pd.DataFrame({"a": [1]})).get_root(Document())
    lean = _table(tmp_path, tasks=1).get_root(Document())
    assert any("font-awesome" in _url(sheet) for sheet in plain.stylesheets)
    urls = [_url(sheet) for sheet in lean.stylesheets]
    assert not any("font-awesome" in url for url in urls)
    assert any("tabulator" in url for url in urls)  # the table's own theme stays


def _url(sheet: object) -> str:
    return str(getattr(sheet, "url", sheet))
