"""The HTML pane of live text: a change sends the new text, escaped as Panel escapes it,
and leaves the model's other properties (its stylesheets) as they were."""

from __future__ import annotations

from bokeh.document import Document

from dashboard.views.html_pane import HTML


def test_a_change_sets_the_text_alone_and_escapes_it_as_panel_does() -> None:
    pane = HTML("<b>first</b>", stylesheets=[".x { color: red; }"], margin=(5, 10))
    document = Document()
    model = pane.get_root(document)
    document.add_root(model)
    stylesheets = list(model.stylesheets)
    changed: list[str] = []
    document.on_change(lambda event: changed.append(getattr(event, "attr", "")))

    pane.object = "<b>second</b>"
    assert model.text == "&lt;b&gt;second&lt;/b&gt;"
    assert model.text == HTML(pane.object).get_root(Document()).text  # as when first built
    assert changed == ["text"], "only the text goes to the browser"
    assert list(model.stylesheets) == stylesheets

    pane.object = "<script>alert(1)</script> & $5 $6"
    assert "<script>" not in model.text and "&amp;" in model.text


def test_other_parameters_still_reach_the_model() -> None:
    pane = HTML("text")
    model = pane.get_root(Document())
    pane.visible = False
    assert model.visible is False
