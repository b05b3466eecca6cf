"""What every screen of an experiment is made of: the shared experiment and one session."""

from __future__ import annotations

import panel as pn
import param

from dashboard.session import SessionState
from lute_model.experiment import Experiment


class SessionView(pn.viewable.Viewer):
    """A view of the one shared, process-wide ``Experiment`` for one browser session.

    The experiment is read by the registry's thread and shared by every session; the
    session state (``SessionState``: the link's choices) is this browser tab's own.
    """

    experiment = param.ClassSelector(class_=Experiment, doc="The shared experiment shown.")
    session = param.ClassSelector(class_=SessionState, doc="This browser session's choices.")
