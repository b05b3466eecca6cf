"""``ElogSummaryPlots.save``: every figure type LUTE accepts becomes a standalone page.

LUTE itself leaves a 0-byte page for an ``hv.Image`` or a matplotlib ``Figure``;
ours must write a real page for each, and write nothing at all for an object
it cannot save.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import pytest
from matplotlib.figure import Figure

from lute_writers.summary_plots import ElogSummaryPlots

hv.renderer("bokeh")


def _image() -> hv.Image:
    rng = np.random.default_rng(0)
    return hv.Image(rng.poisson(5, (16, 16)).astype(float), vdims=["ADU"])


def _tabs() -> pn.Tabs:
    return pn.Tabs(("Powder", _image()), ("Hit rate", hv.Bars([("0k", 0.3), ("10k", 0.28)])))


def _figure() -> Figure:
    figure = Figure(figsize=(3, 2))
    figure.subplots().plot([0.1, 0.2, 0.3], [1.0, 3.0, 2.0])
    return figure


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.mark.parametrize(
    ("figures", "marker"),
    [(_tabs, '"name":"TabPanel"'), (_image, '"name":"Image"'), (_figure, "svg xmlns")],
    ids=["panel-tabs", "holoviews-image", "matplotlib-figure"],
)
def test_each_figure_type_becomes_a_standalone_page(tmp_path: Path, figures, marker: str) -> None:
    target = ElogSummaryPlots(display_name="r0012/powders", figures=figures()).save(tmp_path)

    assert target == tmp_path / "r0012" / "powders" / "report.html"
    html = target.read_text(encoding="utf-8")
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "<html" in html and "Bokeh" in html
    assert marker in html
    assert _files(tmp_path) == [target]


@pytest.mark.parametrize("name", [
    "calib/jungfrau4M/gain modes/r0010",
    "scans/0005 jet x scan",
    "Übersicht/Probenhalter r0031",
    "Δt-Scan (fs)/r0031",
    "サンプル/r0031",
    "quicklook",
])
def test_deep_spaced_and_unicode_names_are_folders_below_the_root(tmp_path: Path,
                                                                   name: str) -> None:
    target = ElogSummaryPlots(display_name=name, figures=_image()).save(tmp_path)

    assert target == tmp_path.joinpath(*name.split("/"), "report.html")
    assert target.stat().st_size > 0


@pytest.mark.parametrize("figures", [None, 42], ids=["none", "int"])
def test_unsupported_figures_raise_and_leave_no_file(tmp_path: Path, figures: Any) -> None:
    with pytest.raises(TypeError):
        ElogSummaryPlots(display_name="quicklook/r0034", figures=figures).save(tmp_path)

    assert _files(tmp_path) == []


def test_unsupported_figures_leave_no_folder(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        ElogSummaryPlots(display_name="quicklook/r0034", figures=None).save(tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_keeps_the_previous_page(tmp_path: Path) -> None:
    page = ElogSummaryPlots(display_name="indexing/r0012", figures=_image())
    target = page.save(tmp_path)
    before = target.read_bytes()

    with pytest.raises(TypeError):
        ElogSummaryPlots(display_name="indexing/r0012", figures=None).save(tmp_path)

    assert target.read_bytes() == before
    assert _files(tmp_path) == [target]
