"""Find a program that turns DOT into pictures, and run it.

Order: ``$AUTODIFF_NB_DOT`` if set (a path; an empty or missing one means "no renderer"), else
Graphviz's ``dot`` on PATH, else ``graphviz-pure`` (``pip install graphviz-pure``: a self-contained
port of ``dot``, for students without admin rights) on PATH or beside this Python.

We run the program ourselves rather than through the ``graphviz`` package's ``pipe``: the path is
explicit (no process-wide ``DOT_BINARY`` to change for everyone), there is a timeout so a huge
graph cannot hang a notebook, and nothing asks for the version line (``graphviz.version()`` cannot
parse graphviz-pure's). The ``graphviz`` package still writes the DOT text.

>>> find_renderers()[0].name  # doctest: +SKIP
'dot'
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

ENV = "AUTODIFF_NB_DOT"
TIMEOUT = 60  # seconds; a 2,000-op graph is folded to ~200 nodes and takes well under one
INSTALL_HINT = ("No Graphviz renderer found: run `pip install graphviz-pure` (no admin rights needed) or "
                "install Graphviz (`apt install graphviz`, `brew install graphviz`), then draw again.")


class RendererMissing(RuntimeError):
    """No program could draw the graph; ``str()`` is one sentence saying how to get one."""


@dataclass(frozen=True)
class Renderer:
    name: str  # "dot" or "graphviz-pure"
    path: str
    formats: frozenset

    def run(self, source: str, fmt: str) -> bytes:
        if fmt not in self.formats:
            raise RendererMissing(f"{self.name} cannot write {fmt.upper()}; save as .svg or .png, or "
                                  f"install Graphviz (`apt install graphviz`) for {fmt.upper()}.")
        proc = subprocess.run([self.path, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
                              timeout=TIMEOUT, check=False)
        if proc.returncode != 0:
            reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"{self.name} failed: {reason[0] if reason else 'exit ' + str(proc.returncode)}")
        return proc.stdout


_FORMATS = {"dot": frozenset({"svg", "png", "pdf"}), "graphviz-pure": frozenset({"svg", "png"})}


def find_renderers() -> list[Renderer]:
    """Every usable renderer, best first (empty when there is none)."""
    forced = os.environ.get(ENV)
    if forced is not None:
        if not forced or not os.access(forced, os.X_OK):
            return []
        kind = "graphviz-pure" if "graphviz-pure" in Path(forced).name else "dot"
        return [Renderer(kind, forced, _FORMATS[kind])]
    found = []
    dot = shutil.which("dot")
    if dot:
        found.append(Renderer("dot", dot, _FORMATS["dot"]))
    pure = shutil.which("graphviz-pure") or _beside_python("graphviz-pure")
    if pure:
        found.append(Renderer("graphviz-pure", pure, _FORMATS["graphviz-pure"]))
    return found


def _beside_python(program):
    # A Jupyter kernel started from a venv often lacks the venv's bin/ on PATH; pip put it there.
    for folder in {sysconfig.get_path("scripts"), str(Path(sys.executable).parent)}:
        candidate = Path(folder) / program
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def render(source: str, fmt: str = "svg") -> bytes:
    """Run the first renderer that works; RendererMissing (one sentence) when none does."""
    renderers = find_renderers()
    if not renderers:
        raise RendererMissing(INSTALL_HINT)
    problems = []
    for renderer in renderers:
        try:
            return renderer.run(source, fmt)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as err:
            problems.append(str(err).splitlines()[0] if str(err) else type(err).__name__)
    raise RendererMissing("Could not draw the graph: " + "; ".join(problems))
