"""The one way HTML is made: a value reaches the page escaped unless it is a template's markup."""

from __future__ import annotations

import html

import pytest
from markupsafe import Markup

from dashboard.views.templates import PARAGRAPH, HtmlTemplate, badge, for_pane, legend, visible
from lute_model.status import TaskStatus, parse_status

HOSTILE = ["<img src=x onerror=alert(1)>", "\"'><script>alert(1)</script>", "a & b"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_value_in_a_template_is_text_even_inside_an_attribute(text: str):
    page = HtmlTemplate('<b title="{{ text }}">{{ text }}</b>')(text=text)
    assert page.count("<") == 2 and page.count('"') == 2  # only the template's own
    assert html.unescape(page) == f'<b title="{text}">{text}</b>'


def test_nul_and_a_lone_surrogate_are_spelled_out_not_dropped():
    assert str(PARAGRAPH(kind="", text="a\x00b\udc80")) == "<p>a\\x00b\\udc80</p>"
    assert visible("ok\x00") == "ok\\x00"


def test_none_shows_as_nothing_and_a_missing_name_is_an_error():
    assert str(HtmlTemplate("[{{ value }}]")(value=None)) == "[]"
    with pytest.raises(Exception, match="value"):
        HtmlTemplate("[{{ value }}]")()


def test_a_templates_output_goes_into_another_as_it_is():
    inner = PARAGRAPH(kind="note", text="<x>")
    assert isinstance(inner, Markup)
    outer = HtmlTemplate("<div>{{ part }}</div>")(part=inner)
    assert outer == '<div><p class="note">&lt;x&gt;</p></div>'


def test_a_pane_gets_a_plain_str_with_plain_text_escaped():
    """Panel's HTML pane runs html.escape on its object: Markup would escape its own entities."""
    shown = for_pane(PARAGRAPH(kind="", text="a & b"))
    assert type(shown) is str and shown == "<p>a &amp; b</p>"
    assert for_pane("<b>") == "&lt;b&gt;"


def test_a_badge_names_its_status_and_an_unknown_one_keeps_its_stored_text():
    assert badge(TaskStatus.FAILED, 3) == ('<span class="st st-FAILED" title="FAILED">'
                                           "✘ FAILED 3</span>")
    odd = badge(parse_status("<weird>"))
    assert "&lt;weird&gt;" in odd and "<weird>" not in odd
    assert legend({"COMPLETED": 2}).count('class="st st-') == len(list(TaskStatus)) + 1
