"""One Viewer per screen part.  Each takes the shared Experiment and the SessionState."""
