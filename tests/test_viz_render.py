"""Real pictures: SVG from the system ``dot`` and from ``graphviz-pure``, the no-renderer fallback,
big graphs, hostile names in the SVG, and PNGs of every chapter example under tests/artifacts/.

Both renderers are installed by ``make test``. On a developer machine a missing one skips its
tests; in CI (``CI=true``) it fails them, or the pictures would quietly stop being checked.
"""
import os
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import autodiff_nb as torch
from autodiff_nb.viz import GraphWidget, RendererMissing, draw, find_renderers, render
from autodiff_nb.viz.dot import to_digraph
from autodiff_nb.viz.examples import chain, chapter_examples
from autodiff_nb.viz.steps import StepState

ARTIFACTS = Path(__file__).parent / "artifacts"
SVG = "{http://www.w3.org/2000/svg}"


def renderer_path(name):
    """The path of renderer ``name`` ("dot" or "graphviz-pure"); skip without it, fail in CI."""
    path = shutil.which(name) or render._beside_python(name)
    if path:
        return path
    message = f"{name} is not installed (make test installs it: tools/system-deps.sh / pip install graphviz-pure)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(params=["dot", "graphviz-pure"])
def renderer(request, monkeypatch):
    """Run the test once with each renderer, forced through AUTODIFF_NB_DOT."""
    path = renderer_path(request.param)
    monkeypatch.setenv(render.ENV, path)
    return request.param


def chapter_y():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    return x, y


def svg_texts(svg):
    root = ET.fromstring(svg)  # must be well-formed XML
    return root, ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


# ------------------------------------------------------------------------------ real SVG
def test_svg_of_the_chapter_example(renderer):
    x, y = chapter_y()
    d = draw(y)
    assert find_renderers()[0].name == renderer
    root, texts = svg_texts(d.to_svg())
    assert root.tag == f"{SVG}svg"
    for expected in ("x", "y", "dot", "mul", "[0, 1, 2, 3]", "28", "legend"):
        assert expected in texts, expected
    assert "grad —" in texts  # None, drawn as a dash
    bundle = d._repr_mimebundle_()
    assert bundle["image/svg+xml"] == d.to_svg() and bundle["text/plain"] == "Drawing(y: 6 nodes, 2 ops)"
    assert d._repr_svg_() == d.to_svg()


def test_graphviz_pure_is_used_when_there_is_no_dot(monkeypatch, tmp_path):
    pure = renderer_path("graphviz-pure")
    monkeypatch.delenv(render.ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot, no graphviz-pure on PATH...
    monkeypatch.setattr(render, "_beside_python", lambda program: pure)  # ...but pip put it beside Python
    assert [r.name for r in find_renderers()] == ["graphviz-pure"]
    x, y = chapter_y()
    svg = draw(y).to_svg()
    assert "graphviz-pure" in svg and "<svg" in svg


def test_the_graphviz_package_is_left_as_it_was(renderer):
    import graphviz.backend.dot_command as dot_command

    before = dot_command.DOT_BINARY
    x, y = chapter_y()
    draw(y).to_svg()
    assert dot_command.DOT_BINARY == before


def test_save_by_extension(renderer, tmp_path):
    x, y = chapter_y()
    d = draw(y)
    assert d.save(tmp_path / "y.svg").read_text().lstrip().startswith("<?xml")
    assert d.save(tmp_path / "y.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert d.save(tmp_path / "y.dot").read_text() == d.source
    if renderer == "dot":
        assert d.save(tmp_path / "y.pdf").read_bytes()[:5] == b"%PDF-"
    else:
        with pytest.raises(RendererMissing, match="cannot write PDF"):
            d.save(tmp_path / "y.pdf")
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf or \.dot"):
        d.save(tmp_path / "y.jpg")


def test_widget_pictures_are_svg(renderer):
    x, y = chapter_y()
    w = GraphWidget(y)
    w.step = 2
    root, texts = svg_texts(w._picture.value)  # the prolog is stripped: it sits inside HTML
    assert "← [0, 2, 4, 6]" in texts  # the gradient flowing along x -> dot
    assert "grad 2" in texts  # dot's gradient, reached at step 1


# ------------------------------------------------------------------------------ no renderer
def test_without_a_renderer_jupyter_shows_the_dot_text_and_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv(render.ENV, str(tmp_path / "nothing-here"))
    assert find_renderers() == []
    x, y = chapter_y()
    d = draw(y)
    bundle = d._repr_mimebundle_()  # no exception: never a traceback in a notebook
    assert "image/svg+xml" not in bundle
    assert bundle["text/plain"] == "Drawing(y: 6 nodes, 2 ops)"  # the same on every machine
    assert "pip install graphviz-pure" in bundle["text/html"]
    assert "digraph autodiff {" in bundle["text/html"]
    assert d._repr_svg_() is None
    with pytest.raises(RendererMissing, match="pip install graphviz-pure"):
        d.to_svg()
    assert d.save(tmp_path / "y.dot").read_text() == str(d)


def test_an_empty_path_means_no_renderer(monkeypatch, tmp_path):
    monkeypatch.delenv(render.ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(render, "_beside_python", lambda program: None)
    assert find_renderers() == []
    x, y = chapter_y()
    assert "text/html" in draw(y)._repr_mimebundle_()


def test_a_broken_renderer_is_reported_not_raised(monkeypatch, tmp_path):
    broken = tmp_path / "dot"
    broken.write_text("#!/bin/sh\necho 'Format: \"svg\" not recognized' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv(render.ENV, str(broken))
    x, y = chapter_y()
    bundle = draw(y)._repr_mimebundle_()
    assert "not recognized" in bundle["text/html"] and "digraph" in bundle["text/html"]


# ------------------------------------------------------------------------------ determinism, size
def test_same_code_draws_the_same_dot_text_without_addresses():
    def source():
        x, y = chapter_y()
        return draw(y, names={"x": x, "y": y}).source

    first = source()
    assert first == source()
    assert "0x" not in first


def test_a_2000_op_graph_renders_folded(renderer):
    y, w = chain(2000)
    started = time.perf_counter()
    d = draw(y)
    svg = d.to_svg()
    seconds = time.perf_counter() - started
    assert len(d.graph.nodes) <= 200 and d.graph.hidden_ops > 1800
    _, texts = svg_texts(svg)
    assert f"{d.graph.hidden_ops:,} earlier ops folded" in texts
    assert seconds < 30, seconds


def test_hostile_names_are_text_in_the_svg(renderer):
    x = torch.arange(3.0, requires_grad=True)
    y = (x * 2).sum()
    svg = draw(y, names={"<script>alert(1)</script>": x, 'a"b': y}).to_svg()
    root, texts = svg_texts(svg)
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert "<script>alert(1)</script>" in texts and 'a"b' in texts


# ------------------------------------------------------------------------------ screenshots
def test_save_pngs_of_every_chapter_example():
    """tests/artifacts/<example>.png (and a mid-backward widget step each): look at them."""
    if not find_renderers():
        renderer_path("dot")  # skips, or fails in CI
    ARTIFACTS.mkdir(exist_ok=True)
    for key, ex in chapter_examples().items():
        d = draw(*ex.roots, names=ex.names)
        assert d.save(ARTIFACTS / f"{key}.png").stat().st_size > 1000
        w = GraphWidget(ex.roots[0], names=ex.names)
        middle = max(1, w.n_steps // 2)
        source = to_digraph(w._drawn, state=StepState(w._run, w._drawn, middle)).source
        (ARTIFACTS / f"{key}_step{middle}.png").write_bytes(render.render(source, "png"))
    y, _ = chain(2000)
    draw(y, max_nodes=60).save(ARTIFACTS / "chain_2000_ops.png")
