"""``python -m autodiff_nb``: copying the shipped chapters, and the shipped nbval sanitize file.

The CLI runs in a subprocess with the interpreter running the tests (``make test`` runs them with the
.venv's python, where autodiff_nb is installed editable). Copy behaviour is checked against a staged
copy of the package that carries two small notebooks, so it does not depend on which chapters exist:
staged as a wheel installs it (the notebooks in ``autodiff_nb/data/chapters/``) and as a checkout
(no copy in the package; the notebooks in ``chapters/`` beside it, next to ``pyproject.toml``).
tests/test_packaging.py builds and installs the real wheel.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

REPO = Path(__file__).resolve().parents[1]
PACKAGE_SOURCE = REPO / "autodiff_nb"


def run_cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "autodiff_nb", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def small_notebook(title):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"),
                nbformat.v4.new_code_cell("import autodiff_nb as torch\ntorch.arange(4.0)")]
    return nbformat.writes(nb)


def stage_package(root):
    """Copy the package into ``root``; running the CLI from ``root`` imports this copy."""
    shutil.copytree(PACKAGE_SOURCE, root / "autodiff_nb", ignore=shutil.ignore_patterns("__pycache__"))
    assert not (root / "autodiff_nb" / "data" / "chapters").exists(), "the source package carries no chapters"
    found = subprocess.run([sys.executable, "-c", "import autodiff_nb; print(autodiff_nb.__file__)"],
                           cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(found).parent == root / "autodiff_nb", "the staged package must shadow the installed one"
    return root


def write_chapters(folder, *titles):
    folder.mkdir(parents=True)
    for number, title in enumerate(titles, 1):
        (folder / f"{number:02d}_{title.lower()}.ipynb").write_text(small_notebook(title))
    (folder / "notes.txt").write_text("not a notebook")


@pytest.fixture
def staged(tmp_path):
    """The package as a wheel installs it: data/chapters holds two known notebooks. Run the CLI from its root."""
    root = stage_package(tmp_path / "staged")
    write_chapters(root / "autodiff_nb" / "data" / "chapters", "First", "Second")
    return root


@pytest.fixture
def checkout(tmp_path):
    """The package as an editable install sees it: no copy inside; chapters/ and pyproject.toml beside it."""
    root = stage_package(tmp_path / "checkout")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    write_chapters(root / "chapters", "First", "Second")
    return root


# ============================================================================ chapters DIR
def test_chapters_copies_every_shipped_notebook_into_a_new_folder(staged, tmp_path):
    target = tmp_path / "course" / "week1"
    result = run_cli("chapters", target, cwd=staged)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["01_first.ipynb", "02_second.ipynb"]
    shipped = staged / "autodiff_nb" / "data" / "chapters"
    for name in ("01_first.ipynb", "02_second.ipynb"):
        assert (target / name).read_bytes() == (shipped / name).read_bytes()
        assert f"copied {target / name}" in result.stdout
    assert f"jupyter lab {target}" in result.stdout
    assert result.stderr == ""


def test_chapters_refuses_to_overwrite_and_copies_nothing(staged, tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "02_second.ipynb").write_text("my own edits")
    result = run_cli("chapters", target, cwd=staged)
    assert result.returncode == 1
    assert "refusing to overwrite 1 existing file in" in result.stderr
    assert "02_second.ipynb" in result.stderr and "--force" in result.stderr
    assert "Nothing was copied" in result.stderr
    assert (target / "02_second.ipynb").read_text() == "my own edits"
    assert not (target / "01_first.ipynb").exists()
    assert result.stdout == ""


def test_chapters_with_force_replaces_existing_notebooks(staged, tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "01_first.ipynb").write_text("old")
    (target / "unrelated.txt").write_text("keep me")
    result = run_cli("chapters", target, "--force", cwd=staged)
    assert result.returncode == 0, result.stderr
    assert f"replaced {target / '01_first.ipynb'}" in result.stdout
    assert f"copied {target / '02_second.ipynb'}" in result.stdout
    assert nbformat.reads((target / "01_first.ipynb").read_text(), as_version=4).cells[0].source == "# First"
    assert (target / "unrelated.txt").read_text() == "keep me"


def test_chapters_into_a_path_that_is_a_file_says_so(staged, tmp_path):
    target = tmp_path / "a_file"
    target.write_text("x")
    result = run_cli("chapters", target, cwd=staged)
    assert result.returncode == 1
    assert "is not a folder" in result.stderr


def test_chapters_of_a_checkout_are_its_top_level_chapters_folder(checkout, tmp_path):
    target = tmp_path / "course"
    result = run_cli("chapters", target, cwd=checkout)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["01_first.ipynb", "02_second.ipynb"]
    for name in ("01_first.ipynb", "02_second.ipynb"):
        assert (target / name).read_bytes() == (checkout / "chapters" / name).read_bytes()
    assert not (checkout / "autodiff_nb" / "data" / "chapters").exists(), "nothing is copied into the package"


def test_chapters_inside_the_package_come_before_the_checkouts(checkout, tmp_path):
    write_chapters(checkout / "autodiff_nb" / "data" / "chapters", "Packaged")
    result = run_cli("chapters", tmp_path / "course", cwd=checkout)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "course").iterdir()) == ["01_packaged.ipynb"]


def test_a_checkout_without_chapters_says_where_it_looked(checkout, tmp_path):
    shutil.rmtree(checkout / "chapters")
    result = run_cli("chapters", tmp_path / "course", cwd=checkout)
    assert result.returncode == 1
    assert "carries no chapter notebooks" in result.stderr and "Traceback" not in result.stderr
    assert str(checkout / "autodiff_nb" / "data" / "chapters") in result.stderr
    assert str(checkout / "chapters") in result.stderr
    assert "git checkout -- chapters" in result.stderr
    assert not (tmp_path / "course").exists()


def test_an_installed_package_without_chapters_never_looks_beside_itself(tmp_path):
    # Without a pyproject.toml beside it the package is not a checkout: a chapters/ folder there
    # (another project's, in site-packages) is not ours.
    root = stage_package(tmp_path / "site-packages")
    write_chapters(root / "chapters", "Someone", "Else")
    result = run_cli("chapters", tmp_path / "course", cwd=root)
    assert result.returncode == 1
    assert "carries no chapter notebooks" in result.stderr and "Traceback" not in result.stderr
    assert str(root / "chapters") not in result.stderr
    assert "pip install --force-reinstall autodiff_nb" in result.stderr


def test_chapters_from_the_installed_package_are_the_repositorys_chapters(tmp_path):
    # make test runs the .venv's editable install: it reads the repository's chapters/ itself.
    expected = sorted((REPO / "chapters").glob("*.ipynb"))
    assert expected, f"no notebooks in {REPO / 'chapters'}"
    result = run_cli("chapters", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [p.name for p in expected]
    for chapter in expected:
        assert (tmp_path / "out" / chapter.name).read_bytes() == chapter.read_bytes()


def test_no_command_prints_usage():
    result = run_cli()
    assert result.returncode == 2
    assert "usage: python -m autodiff_nb" in result.stderr
    assert "chapters" in result.stderr and "nbval-sanitize" in result.stderr


# ============================================================================ nbval-sanitize
def sanitize_rules():
    result = run_cli("nbval-sanitize")
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.is_file()
    return path, get_sanitize_patterns(path.read_text())


def sanitize(text, rules):
    for regex, replacement in rules:
        text = re.sub(regex, replacement, text)
    return text


def test_nbval_sanitize_prints_the_shipped_file_inside_the_package():
    path, rules = sanitize_rules()
    assert path.name == "nbval_sanitize.cfg"
    assert path.parent.parent.name == "autodiff_nb"
    assert len(rules) == 2  # nbval found every rule: memory addresses, Graphviz version


def test_sanitize_rewrites_memory_addresses():
    _, rules = sanitize_rules()
    assert sanitize("<function f at 0x7f3a2c1d5e40>", rules) == "<function f at 0xADDRESS>"
    assert sanitize("<MulBackward0 object at 0x55d0c0ffee00>", rules) == "<MulBackward0 object at 0xADDRESS>"


def test_sanitize_rewrites_the_graphviz_version_comment_of_any_build():
    _, rules = sanitize_rules()
    system = '<!-- Generated by graphviz version 2.43.0 (0)\n -->\n<!-- Title: G Pages: 1 -->\n<svg width="62pt">'
    pure = ('<!-- Generated by graphviz version 16.1.0 (graphviz-pure)\n -->\n'
            '<!-- Title: G Pages: 1 -->\n<svg width="62pt">')
    assert sanitize(system, rules) == sanitize(pure, rules)
    assert sanitize(system, rules).startswith("<!-- Generated by graphviz -->\n<!-- Title: G Pages: 1 -->")


@pytest.mark.parametrize("engine_output", [
    "tensor([ 0.,  4.,  8., 12.])",
    "tensor(28., grad_fn=<MulBackward0>)",
    "tensor(-6.5193e-09, grad_fn=<MeanBackward0>)",
    "tensor([False,  True])",
    "RuntimeError: Trying to backward through the graph a second time",
    "hex(255) is 0xff",
    "GraphWidget(y: 5 nodes, step 0/3)",
])
def test_sanitize_never_touches_engine_output(engine_output):
    _, rules = sanitize_rules()
    assert sanitize(engine_output, rules) == engine_output
