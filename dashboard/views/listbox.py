"""Keyboard-friendly pickers for long lists: a native listbox and page-stepping keys.

Used by the summary browser, where a tab can hold thousands of pages: a
``<select size=N>`` holds them as plain text (nothing to render or escape) and
``[``/``]`` step through them without reaching for the mouse.
"""

from __future__ import annotations

from typing import Any

import panel as pn

#: The value of the hidden option that stands for "nothing chosen".
NO_CHOICE = ""

_LISTBOX_CSS = """
option[value=''] { display: none; }
option:checked { background: linear-gradient(#cfe0fb, #cfe0fb); color: #0b2a55; font-weight: 600; }
"""


class Listbox(pn.widgets.Select):
    """A ``<select size=N>`` that can show no choice: a hidden empty first option.

    Panel's Select selects its first option whenever its value is None, and
    its browser side builds the list as a drop-down first, which selects the
    first option too.  Either would show (or open) a tab nobody chose: the tab
    list that does not hold the open tab, or a page list filtered down to other
    pages, must show no choice.  A hidden option whose value is ``NO_CHOICE`` takes
    that place, so every visible option stays clickable.
    """

    def __init__(self, **params: Any) -> None:
        super().__init__(options=[NO_CHOICE], value=NO_CHOICE,
                         stylesheets=[_LISTBOX_CSS], **params)
        self._value_of: dict[str, str] = {}
        self._label_of: dict[str, str] = {}

    def set_items(self, items: dict[str, str]) -> None:
        """Show ``items`` (label -> value), keeping the choice if still listed.

        Only the labels go to the browser (half the bytes of label/value pairs:
        it matters for 5,000 pages), and only when they differ, since a new list
        scrolls the listbox back to the top.
        """
        chosen = self.chosen
        self._value_of = items
        self._label_of = {value: label for label, value in items.items()}
        options = [NO_CHOICE, *items]
        if options != self.options:
            self.options = options
        self.choose(chosen)

    @property
    def chosen(self) -> str:
        """The value of the selected item, ``NO_CHOICE`` when none is."""
        return self._value_of.get(self.value, NO_CHOICE)

    def choose(self, value: str) -> None:
        """Select the item of ``value`` if listed, else nothing."""
        self.value = self._label_of.get(value, NO_CHOICE)


class NavigationKeys(pn.custom.JSComponent):
    """``[``/``]`` and Alt+←/→ anywhere on the page, except while typing in a text field.

    The listener sits on the window because focus is usually in a listbox or
    nowhere; the event's first composed target is checked because Bokeh puts
    inputs inside shadow roots, where ``event.target`` is only the host.  Keys
    pressed inside the report's frame stay there: it is another origin.
    """

    _esm = """
    const TEXT_INPUTS = ["text", "search", "email", "number", "password", "url", "tel", ""];
    function typing(el) {
      if (!el || !el.tagName) return false;
      if (el.isContentEditable || el.tagName === "TEXTAREA") return true;
      return el.tagName === "INPUT" && TEXT_INPUTS.includes(el.type || "");
    }
    export function render({ model }) {
      const onKey = (event) => {
        if (event.metaKey || typing(event.composedPath()[0])) return;
        let step = 0;
        if (event.key === "[") step = -1;
        else if (event.key === "]") step = 1;
        else if (event.altKey && event.key === "ArrowLeft") step = -1;
        else if (event.altKey && event.key === "ArrowRight") step = 1;
        if (step === 0) return;
        event.preventDefault();  // Alt+Left is also the browser's Back
        model.send_msg({ step });
      };
      window.addEventListener("keydown", onKey);
      model.on("remove", () => window.removeEventListener("keydown", onKey));
      return document.createElement("span");
    }
    """
