"""Problems found while reading: shown in the UI's problems panel and by the CLI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in a result directory we could not read as LUTE writes it.

    ``path`` names the file or folder; ``message`` says what is wrong and what
    the dashboard does about it, in words a beamline scientist can act on.
    """

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}
