"""Hostile names print as text everywhere: DOT labels, the tape table, the widget's panels."""
import pytest

import autodiff_nb as torch
from autodiff_nb.viz import GraphWidget, draw, explain, tape_table

HOSTILE = ['<script>alert(1)</script>', 'a"b', "back\\slash \\N \\G", "x & y &amp;", "<<b>>", "line\nbreak",
           "{curly} [square]; -> edge", "tab\tand\x07bell", "é ∂ ✓"]


def graph_named(name):
    x = torch.arange(3.0, requires_grad=True)
    y = (x * 2).sum()
    return y, {name: x, "out" + name: y}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_escaped_in_dot(name):
    y, names = graph_named(name)
    source = draw(y, names=names).source
    assert "<script>" not in source and "</script>" not in source
    assert 'a"b' not in source  # a raw quote would end the DOT string
    assert "<<b>>" not in source
    if name == "<script>alert(1)</script>":
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    if name == 'a"b':
        assert "a&quot;b" in source
    if name.startswith("back"):
        # inside an HTML-like label backslashes are plain characters: \N cannot become the node id
        assert "back\\slash \\N \\G" in source
    assert "\x07" not in source  # control characters are dropped


@pytest.mark.parametrize("name", ['<img src=x onerror=alert(1)>', 'a"b'])
def test_hostile_names_are_escaped_in_tables_and_panels(monkeypatch, name):
    monkeypatch.setenv("AUTODIFF_NB_DOT", "")  # the fallback panel shows DOT text: escaped too
    y, names = graph_named(name)
    html = tape_table(y, names=names)._repr_html_()
    assert "<img" not in html
    w = GraphWidget(y, names=names)
    w.step = w.n_steps
    for value in (w._picture.value, w._panel.value, w._tape.value):
        assert "<img" not in value and 'a"b' not in value
    assert name in w.explanation  # the plain text keeps the name as it is
    assert name in repr(explain(y, names=names))


def test_a_hostile_name_cannot_inject_dot_attributes():
    y, names = graph_named('x" color="red')
    source = draw(y, names=names).source
    assert 'color="red"' not in source
