"""Names for tensors: from ``names=``, else from the variables of the code that called us.

A drawing is only useful if ``x`` is labelled ``x``; a parameter of a module held in ``model`` is
labelled by its path, ``model.0.weight``. The caller's frame is the first one outside the
``autodiff_nb`` package (so ``%autodiff`` magics resolve names in the user's notebook, not in the
magic's own code); its locals come first, then its globals, then the IPython user namespace.

>>> x = tensor([1.0])
>>> book = NameBook.from_caller({"w": x})
>>> book.name_of(x)
'w'
"""
from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from ..nn.module import Module
from ..tensor import Tensor

_PACKAGE = __name__.split(".")[0]  # "autodiff_nb"


class NameBook:
    """``id(tensor) -> name`` for tensors, and ``id(grad_fn) -> name`` for the ops that made them."""

    def __init__(self):
        self._by_tensor = {}
        self._by_node = {}
        self._keep = []  # hold the tensors so their ids stay theirs while the book is in use

    def add(self, name, tensor):
        if not isinstance(tensor, Tensor) or not isinstance(name, str):
            return
        # First name wins: explicit names are added first, then locals, then globals.
        if id(tensor) not in self._by_tensor:
            self._by_tensor[id(tensor)] = name
            self._keep.append(tensor)
        node = tensor.grad_fn
        if node is not None and id(node) not in self._by_node:
            self._by_node[id(node)] = name

    def name_of(self, tensor):
        return self._by_tensor.get(id(tensor))

    def name_of_output(self, node):
        """The name of the tensor ``node`` produced, if the caller still holds it."""
        return self._by_node.get(id(node))

    def tensors(self):
        return list(self._keep)

    @classmethod
    def from_caller(cls, explicit=None, roots=()):
        """Explicit ``names`` first, then the variables of the caller's frame and of IPython."""
        book = cls()
        for name, tensor in _explicit_pairs(explicit, roots):
            book.add(name, tensor)
        for namespace in _caller_namespaces():
            for name, value in list(namespace.items()):
                if isinstance(value, Tensor) and _is_user_name(name):
                    book.add(name, value)
                elif isinstance(value, Module) and _is_user_name(name):
                    # a model's parameters by their paths: model.0.weight, as state_dict names them
                    for path, param in value.named_parameters():
                        book.add(f"{name}.{path}", param)
        return book


def _explicit_pairs(explicit, roots):
    """``names`` may be {"x": x}, {x: "x"}, or a list of names for the tensors drawn, in order."""
    if explicit is None:
        return []
    if isinstance(explicit, Mapping):
        pairs = []
        for key, value in explicit.items():
            pairs.append((key, value) if isinstance(key, str) else (value, key))
        return pairs
    if isinstance(explicit, Sequence) and not isinstance(explicit, str):
        return list(zip(explicit, roots))
    raise TypeError("names must be a dict such as {'x': x} or a list of names for the tensors drawn, "
                    f"not {type(explicit).__name__}")


def _is_user_name(name):
    # IPython keeps outputs in _, __, _3, Out ...: those are not names a learner gave.
    return isinstance(name, str) and not name.startswith("_") and name not in ("In", "Out")


def _caller_namespaces():
    frame = sys._getframe(1)
    try:
        while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == _PACKAGE:
            frame = frame.f_back
        spaces = []
        if frame is not None:
            spaces.append(frame.f_locals)
            if frame.f_globals is not frame.f_locals:
                spaces.append(frame.f_globals)
    finally:
        del frame  # frames in locals make reference cycles
    shell = _ipython_user_ns()
    if shell is not None and all(shell is not s for s in spaces):
        spaces.append(shell)
    return spaces


def _ipython_user_ns():
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    return getattr(shell, "user_ns", None)
