"""The package is layered one way, and its core stays readable.

- No import cycle between the package's modules (module-level imports only: an import inside a
  function runs when called, after every module is loaded). A cycle is what late binding papers over.
- No ``bind_late`` and no ``sys.getrefcount``: layers instead of late binding, ownership said
  explicitly instead of guessed from reference counts.
- Every module imports on its own in a fresh interpreter.
- No function of the core is longer than a reader can hold at once (45 lines).
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

import autodiff_nb

PACKAGE = Path(autodiff_nb.__file__).parent
CORE = ("tensor.py", "tape.py", "forward.py", "ops.py", "functions.py", "autograd/__init__.py", "autograd/forward_ad.py")
LONGEST = 45


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def module_level_imports(tree):
    """The import statements that run when the module is imported: not those inside functions, nor
    under ``if TYPE_CHECKING:``; those in class bodies, ``if`` and ``try`` blocks do run."""
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            pending.extend(node.orelse if _is_type_checking(node.test) else node.body + node.orelse)
        elif isinstance(node, (ast.Try, ast.With, ast.ClassDef)):
            for block in ("body", "handlers", "orelse", "finalbody"):
                for child in getattr(node, block, ()):
                    pending.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])


def imported_modules(name, tree):
    """The package modules ``name`` imports at module level, by their dotted names.

    ``from X import a`` runs X's ``__init__`` and then imports submodule ``X.a``, or reads ``a`` from
    X. An ancestor package of ``name`` is already being imported when ``name`` runs, so it counts only
    when a name is read from it (``from . import Tensor``: a real cycle), not for ``from . import tape``.
    """
    ancestors = {name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)}
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in module_level_imports(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                found |= {".".join(parts[:k]) for k in range(1, len(parts) + 1)} - ancestors
            continue
        source = package.rsplit(".", node.level - 1)[0] if node.level else node.module
        if node.level and node.module:
            source = f"{source}.{node.module}"
        if source not in ancestors:
            found.add(source)
        for alias in node.names:
            found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source)
    return {m for m in found if m in MODULES and m != name}


def import_graph():
    return {name: imported_modules(name, ast.parse(path.read_text(), str(path))) for name, path in MODULES.items()}


def find_cycle(graph):
    """One cycle of ``graph`` as a list of nodes (first == last), or None. Iterative depth-first search."""
    state = {}  # node -> "open" while on the current path, "done" after
    for start in graph:
        if start in state:
            continue
        path, stack = [start], [iter(graph[start])]
        state[start] = "open"
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = "done"
                stack.pop()
            elif state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = "open"
                path.append(nxt)
                stack.append(iter(graph[nxt]))
    return None


# ----------------------------------------------------------------------------------- the checker itself
def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) in (["a", "b", "c", "a"],
                                                                          ["b", "c", "a", "b"], ["c", "a", "b", "c"])
    assert find_cycle({"a": ["b", "c"], "b": ["c"], "c": []}) is None


def test_imports_resolve_to_the_modules_they_run():
    core = ast.parse("from . import tape, errors as e\nfrom .ops import RULES\nimport autodiff_nb.dtypes\n"
                     "if TYPE_CHECKING:\n    from . import func\ndef later():\n    from . import magics\n"
                     "class Later:\n    from .viz import graph\n")
    assert imported_modules("autodiff_nb.functions", core) == {
        "autodiff_nb.tape", "autodiff_nb.errors", "autodiff_nb.ops", "autodiff_nb.dtypes", "autodiff_nb.viz",
        "autodiff_nb.viz.graph"}
    viz = ast.parse("from ..tensor import Tensor\nfrom .. import Tensor\nfrom . import markup\n")
    assert imported_modules("autodiff_nb.viz.drawing", viz) == {
        "autodiff_nb.tensor", "autodiff_nb", "autodiff_nb.viz.markup"}


# ----------------------------------------------------------------------------------- the package
def test_no_import_cycle_between_the_packages_modules():
    graph = import_graph()
    assert graph["autodiff_nb.tape"], "the graph found no imports: the parser is broken"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("word", ["bind_late", "getrefcount"])
def test_no_late_binding_and_no_reference_counting(word):
    offenders = [name for name, path in MODULES.items() if word in path.read_text()]
    assert offenders == [], f"{word} in {offenders}"


def test_every_module_imports_on_its_own_in_a_fresh_interpreter():
    names = list(MODULES)
    runs = {name: subprocess.Popen([sys.executable, "-c", f"import {name}"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, cwd=PACKAGE.parent)
            for name in names}
    failed = {}
    for name, run in runs.items():
        output, _ = run.communicate(timeout=120)
        if run.returncode != 0:
            failed[name] = output.strip().splitlines()[-1]
    assert failed == {}
    assert {"autodiff_nb.magics", "autodiff_nb.viz", "autodiff_nb.viz.widget"} <= set(names)


def test_no_function_of_the_core_is_longer_than_45_lines():
    too_long = []
    for file in CORE:
        path = PACKAGE / file
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > LONGEST:
                    too_long.append(f"{file}:{node.lineno} {node.name} ({length} lines)")
    assert not too_long, "longer than 45 lines:\n" + "\n".join(too_long)
