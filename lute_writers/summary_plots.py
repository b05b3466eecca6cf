"""``ElogSummaryPlots``: what a Task hands LUTE to publish, and how it is saved to disk.

The writer side of a summary page: the dashboard reads pages through
:mod:`lute_model.sources.summary_tree`; Tasks (and the demo, and the tests) write them
here, where the page lands whole or not at all.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import param

from lute_model.summaries import DisplayName


def _save_html(figures: Any, target: Path) -> None:
    """Write ``figures`` as one standalone HTML page (resources from the CDN, as LUTE does).

    Panel objects save themselves; HoloViews objects and matplotlib figures are
    wrapped in the Panel pane made for them, so that no figure type LUTE accepts
    leaves an empty page behind.
    """
    import panel as pn

    if figures is None:
        raise TypeError("figures is None: there is nothing to save")
    try:
        import holoviews as hv

        is_holoviews = isinstance(figures, hv.core.Dimensioned)
    except ImportError:
        is_holoviews = False
    try:
        from matplotlib.figure import Figure

        is_matplotlib = isinstance(figures, Figure)
    except ImportError:
        is_matplotlib = False
    if is_holoviews:
        viewable = pn.pane.HoloViews(figures)
    elif is_matplotlib:
        viewable = pn.pane.Matplotlib(figures, format="svg", sizing_mode="stretch_width")
    elif isinstance(figures, pn.viewable.Viewable):
        viewable = figures
    elif hasattr(figures, "save"):
        figures.save(str(target))
        return
    else:
        raise TypeError(f"cannot save figures of type {type(figures).__name__}")
    viewable.save(str(target), title=target.parent.name, resources="cdn")


class ElogSummaryPlots(param.Parameterized):
    """A graphical summary for the eLog: LUTE's ``ElogSummaryPlots``, field by field."""

    display_name = param.String(
        default="", doc="Path and eLog location, e.g. 'scans/my_motor_scan' (tab 'scans').")
    figures = param.Parameter(
        default=None,
        doc="A Panel object (e.g. pn.Tabs), a HoloViews object or a matplotlib Figure.")

    @property
    def name_parts(self) -> DisplayName:
        return DisplayName.parse(self.display_name)

    def save(self, root: str | os.PathLike) -> Path:
        """Write ``{root}/{display_name}/report.html`` and return its path.

        The page is written to a temporary file and renamed into place, so a
        reader never sees half a page; an unsupported figure raises instead of
        leaving the 0-byte page LUTE leaves today.
        """
        target = self.name_parts.report_path(root)
        created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=target.parent)
        os.close(fd)
        try:
            _save_html(self.figures, Path(tmp))
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            for folder in created:  # deepest first: leave no empty page folder behind
                folder.rmdir()
            raise
        return target
