"""The wheel carries the chapters; ``python -m autodiff_nb chapters DIR`` works installed from it and editable.

The chapters live in one real place, the top-level ``chapters/`` folder; setup.py's ``build_py`` copies
them into the wheel as ``autodiff_nb/data/chapters/``. An editable install copies nothing and reads
``chapters/`` itself. These tests build the wheel with pip from a copy of the repository (so the build's
``build/`` and ``*.egg-info`` never land in the checkout), install it, and install the copy editable,
each into a fresh venv without the system's or the .venv's packages, then run the CLI there.

pip fetches the build backend (setuptools) and numpy from PyPI, or from its cache. Without a network,
pip or venv on a developer machine these tests skip; in CI (``CI=true``) that is a failure.
"""
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy
import pytest

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(REPO.joinpath("chapters").glob("*.ipynb"))
SANITIZE = REPO / "autodiff_nb" / "data" / "nbval_sanitize.cfg"
# Not needed to build the package: left out of the copy the tests build from.
NOT_BUILT = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis",
                                   ".pytest_cache", ".ipynb_checkpoints", "tests", "benchmarks", "tools", "docs")
OFFLINE = re.compile(r"No matching distribution found|Could not find a version|NewConnectionError|"
                     r"Temporary failure in name resolution|Network is unreachable|ProxyError", re.I)


def skip_unless_ci(message):
    """Skip because something the test needs is missing; in CI (``CI=true``) fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: a missing piece is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def run(*args, cwd=None):
    # without PYTHONPATH: a test run that points it at a checkout must not hide the venv's own install
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def pip(python, *args, what):
    """Run pip; a failure to reach PyPI skips (fails in CI), any other failure fails."""
    result = run(python, "-m", "pip", "--disable-pip-version-check", *args)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        if OFFLINE.search(output):
            skip_unless_ci(f"pip could not fetch what {what} needs from PyPI:\n{output[-2000:]}")
        pytest.fail(f"{what} failed:\n{output[-4000:]}", pytrace=False)
    return result


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A copy of the repository holding everything the build reads."""
    if not CHAPTERS:
        pytest.fail(f"no notebooks in {REPO / 'chapters'}", pytrace=False)
    if run(sys.executable, "-m", "pip", "--version").returncode != 0:
        skip_unless_ci(f"pip is not available to {sys.executable}")
    root = tmp_path_factory.mktemp("source") / "autodiff_nb_repo"
    shutil.copytree(REPO, root, ignore=NOT_BUILT)
    return root


@pytest.fixture(scope="module")
def built(source, tmp_path_factory):
    """(the wheel's path, pip's verbose build log)."""
    dist = tmp_path_factory.mktemp("dist")
    result = pip(sys.executable, "wheel", "--no-deps", "-v", "-w", dist, source, what="building the wheel")
    wheels = list(dist.glob("autodiff_nb-*.whl"))
    assert len(wheels) == 1, result.stdout
    return wheels[0], result.stdout + result.stderr


def fresh_venv(folder):
    """A venv without site packages, holding numpy (the package imports it, so ``python -m`` does too)."""
    made = run(sys.executable, "-m", "venv", folder)
    if made.returncode != 0:
        skip_unless_ci(f"python -m venv failed:\n{made.stderr}")
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    pip(python, "install", "-q", f"numpy=={numpy.__version__}", what="installing numpy into the venv")
    return python


@pytest.fixture(scope="module")
def wheel_python(built, tmp_path_factory):
    python = fresh_venv(tmp_path_factory.mktemp("wheel") / "venv")
    pip(python, "install", "-q", "--no-deps", built[0], what="installing the wheel")
    return python


@pytest.fixture(scope="module")
def editable_python(source, tmp_path_factory):
    python = fresh_venv(tmp_path_factory.mktemp("editable") / "venv")
    pip(python, "install", "-q", "--no-deps", "-e", source, what="the editable install")
    return python


def cli(python, *args, cwd):
    """``python -m autodiff_nb ...`` run outside the repository, so the checkout cannot shadow the install."""
    return run(python, "-m", "autodiff_nb", *args, cwd=cwd)


def package_folder(python, cwd):
    result = run(python, "-c", "import autodiff_nb; print(autodiff_nb.__file__)", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip()).parent


def assert_copied_every_chapter(result, out, chapters_folder):
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [c.name for c in CHAPTERS]
    for chapter in CHAPTERS:
        assert (out / chapter.name).read_bytes() == (chapters_folder / chapter.name).read_bytes()
    assert f"{len(CHAPTERS)} chapter notebooks in {out}" in result.stdout


# ============================================================================ the repository
def test_the_package_holds_no_link_to_the_chapters():
    # A symlink breaks Windows checkouts: data/chapters exists only inside a built wheel.
    assert not os.path.lexists(REPO / "autodiff_nb" / "data" / "chapters")
    assert SANITIZE.is_file()


# ============================================================================ the wheel
def test_the_wheel_carries_every_chapter_and_the_sanitize_file(built):
    wheel, _ = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for chapter in CHAPTERS:
            name = f"autodiff_nb/data/chapters/{chapter.name}"
            assert name in names, f"{chapter.name} is missing from {wheel.name}"
            assert archive.read(name) == chapter.read_bytes()
        assert archive.read("autodiff_nb/data/nbval_sanitize.cfg") == SANITIZE.read_bytes()
        shipped = {n for n in names if n.startswith("autodiff_nb/data/chapters/")}
        assert shipped == {f"autodiff_nb/data/chapters/{c.name}" for c in CHAPTERS}
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT" in metadata.splitlines()


def test_the_build_gives_no_license_or_deprecation_warning(built):
    _, log = built
    assert "BuildBackendWarning" not in log
    assert "SetuptoolsDeprecationWarning" not in log
    assert not re.search(r"project\.license.*deprecated", log)


def test_the_installed_wheel_copies_every_chapter(wheel_python, tmp_path):
    installed = package_folder(wheel_python, tmp_path)
    assert "site-packages" in installed.parts, installed
    out = tmp_path / "course"
    result = cli(wheel_python, "chapters", out, cwd=tmp_path)
    assert_copied_every_chapter(result, out, installed / "data" / "chapters")
    assert_copied_every_chapter(result, out, REPO / "chapters")


def test_the_installed_wheel_prints_its_sanitize_file(wheel_python, tmp_path):
    result = cli(wheel_python, "nbval-sanitize", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == package_folder(wheel_python, tmp_path) / "data" / "nbval_sanitize.cfg"
    assert path.read_bytes() == SANITIZE.read_bytes()


# ============================================================================ the editable install
def test_the_editable_install_reads_the_checkouts_chapters(editable_python, source, tmp_path):
    assert package_folder(editable_python, tmp_path) == source / "autodiff_nb"
    assert not os.path.lexists(source / "autodiff_nb" / "data" / "chapters"), "an editable install copies nothing"
    out = tmp_path / "course"
    result = cli(editable_python, "chapters", out, cwd=tmp_path)
    assert_copied_every_chapter(result, out, source / "chapters")


def test_the_editable_install_prints_the_checkouts_sanitize_file(editable_python, source, tmp_path):
    result = cli(editable_python, "nbval-sanitize", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == source / "autodiff_nb" / "data" / "nbval_sanitize.cfg"


def test_the_editable_install_without_chapters_says_where_it_looked(editable_python, source, tmp_path):
    hidden = tmp_path / "hidden_chapters"
    (source / "chapters").rename(hidden)
    try:
        result = cli(editable_python, "chapters", tmp_path / "course", cwd=tmp_path)
    finally:
        hidden.rename(source / "chapters")
    assert result.returncode == 1
    assert "carries no chapter notebooks" in result.stderr and "Traceback" not in result.stderr
    assert str(source / "autodiff_nb" / "data" / "chapters") in result.stderr
    assert str(source / "chapters") in result.stderr
    assert not (tmp_path / "course").exists()
