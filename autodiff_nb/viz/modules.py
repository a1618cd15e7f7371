"""Which module call made which op: the duck-typed protocol behind ``draw(loss, modules=net)``.

viz does not import ``autodiff_nb.nn``; it reads two things, PyTorch's way:

=============================  ===========================================================================
``net.named_modules()``        ``(path, module)`` pairs, the root first with path ``""``; children are
                               ``"0"``, ``"0.fc"`` ... (PyTorch's dotted paths)
``net.named_parameters()``     ``(path, tensor)`` pairs: ``("0.weight", W)``; optional. Parameters are
                               then named by path in every drawing, table and explanation
``node.module``                the innermost module whose ``__call__`` was running when the node was made
                               (a module, or its path as a string). Optional: without it, and when
                               ``autodiff_nb.nn`` is in use, ``nn.calls.module_of(node)`` says it
=============================  ===========================================================================

A module's label is its class name, with ``(in→out)`` when it has ``in_features`` and
``out_features`` (``Linear(5→8)``), else its ``extra_repr()`` when it has a short one.

>>> tree = ModuleTree.of(net)            # net = Sequential(Linear(5, 8), ReLU(), Linear(8, 1))
>>> tree.labels                          # doctest: +SKIP
{'0': 'Linear(5→8)', '1': 'ReLU', '2': 'Linear(8→1)'}
>>> tree.path_of(loss.grad_fn.next_functions[0][0])   # doctest: +SKIP
'2'
"""
from __future__ import annotations

import sys

from .preview import shape_text

MAX_EXTRA = 24  # characters of extra_repr() worth a cluster label


class ModuleTree:
    """The module paths, labels and parameters of one ``modules=`` object."""

    def __init__(self, named_modules, named_parameters):
        self.labels = {}  # path -> "Linear(5→8)"; parents before children, in named_modules() order
        self._path_by_id = {}
        self._keep = []  # the modules, so their ids stay theirs while the tree is in use
        for path, module in named_modules:
            if id(module) in self._path_by_id:
                continue  # a module reachable twice keeps its first path, as PyTorch's named_modules
            self._path_by_id[id(module)] = path
            self._keep.append(module)
            if path:
                self.labels[path] = module_label(module)
        self._find_call = None  # nn.calls.finder(), made at the first node asked about
        self.parameters = {}  # path -> [(parameter path, shape)]
        self.parameter_names = []  # (parameter path, tensor)
        for name, tensor in named_parameters:
            owner = name.rpartition(".")[0]
            self.parameters.setdefault(owner, []).append((name, tuple(tensor.shape)))
            self.parameter_names.append((name, tensor))

    @classmethod
    def of(cls, modules) -> "ModuleTree":
        if not hasattr(modules, "named_modules"):
            raise TypeError("modules= takes a module with named_modules() (e.g. an nn.Sequential), "
                            f"not {type(modules).__name__}")
        params = modules.named_parameters() if hasattr(modules, "named_parameters") else ()
        return cls(list(modules.named_modules()), list(params))

    def path_of(self, node) -> str | None:
        """The path of the module call that made ``node``: None outside every module of this tree."""
        module = getattr(node, "module", None)
        if module is None:
            module = self._recorded_call_path(node)
        if module is None:
            return None
        path = module if isinstance(module, str) else self._path_by_id.get(id(module))
        return path or None  # the root module itself draws no cluster

    def _recorded_call_path(self, node):
        """The path autodiff_nb.nn remembers for the module call that recorded ``node``, if nn is in
        use (looked up, not imported: viz works the same for any module tree that follows the
        protocol). The calls are indexed once per tree, not once per node."""
        if self._find_call is None:
            calls = sys.modules.get("autodiff_nb.nn.calls")
            self._find_call = calls.finder() if calls is not None else (lambda node: None)
        call = self._find_call(node)
        return None if call is None else call.path

    def title(self, path) -> str:
        """``0: Linear(5→8)``: the cluster's label."""
        return f"{path}: {self.labels.get(path, '?')}"

    def parameter_rows(self, path) -> list[str]:
        """``0.weight 8×5`` per parameter of the module at ``path`` (its own, not its children's)."""
        return [f"{name} {shape_text(shape)}" for name, shape in self.parameters.get(path, [])]


def module_label(module) -> str:
    name = type(module).__name__
    n_in, n_out = getattr(module, "in_features", None), getattr(module, "out_features", None)
    if n_in is not None and n_out is not None:
        return f"{name}({n_in}→{n_out})"
    extra = module.extra_repr() if hasattr(module, "extra_repr") else ""
    if extra and len(extra) <= MAX_EXTRA:
        return f"{name}({extra})"
    return name


def parents(path) -> list[str]:
    """``"a.b.c"`` -> ``["a", "a.b", "a.b.c"]``: the clusters a node of ``path`` sits in."""
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
