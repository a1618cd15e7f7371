"""A misspelled keyword to any viz entry point is a TypeError that names it and the accepted ones."""
import pytest

import autodiff_nb as torch
from autodiff_nb import viz


def chapter_y():
    x = torch.arange(4.0, requires_grad=True)
    return 2 * torch.dot(x, x)


@pytest.mark.parametrize("entry, wrong, meant", [
    ("draw", "value", "values"),
    ("describe", "grad", "grads"),  # describe used to swallow every keyword
    ("explain", "gradients", "gradient"),
    ("tape_table", "name", "names"),
    ("GraphWidget", "shape", "shapes"),
])
def test_a_misspelled_keyword_names_itself_the_close_match_and_every_accepted_one(entry, wrong, meant, monkeypatch):
    monkeypatch.setenv("AUTODIFF_NB_DOT", "")  # no rendering needed
    function = getattr(viz, entry)
    with pytest.raises(TypeError) as raised:
        function(chapter_y(), **{wrong: False})
    first, accepted = str(raised.value).splitlines()
    assert first == f"{entry}() got an unexpected keyword argument {wrong!r}; did you mean {meant!r}?"
    assert accepted.startswith(f"{entry}() takes the keywords: ") and meant in accepted
    assert "names" in accepted


def test_several_unknown_keywords_are_all_named():
    with pytest.raises(TypeError, match="unexpected keyword arguments 'colour', 'size'\n"):
        viz.draw(chapter_y(), colour="red", size=3)


def test_describe_still_takes_draws_display_options_and_ignores_them():
    y = chapter_y()
    assert viz.describe(y, values=False, grads=False, shapes=False) == viz.describe(y)


def test_graph_widget_still_takes_its_traits_and_the_boxs_layout(monkeypatch):
    monkeypatch.setenv("AUTODIFF_NB_DOT", "")
    w = viz.GraphWidget(chapter_y(), values=False, step=1, layout={"width": "50%"})
    assert w.values is False and w.step == 1 and w.layout.width == "50%"


def test_the_checked_functions_keep_their_signatures():
    import inspect

    assert "since" in inspect.signature(viz.draw).parameters  # %%autodiff looks for it
    assert viz.draw.__doc__.startswith("Draw the graph behind")


def test_the_keywords_module_docstring_example_runs():
    import doctest

    from autodiff_nb.viz import keywords

    assert doctest.testmod(keywords).failed == 0
