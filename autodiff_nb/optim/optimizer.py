"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, and the printed form PyTorch gives.

A step changes the parameters' values in place, outside the graph (as PyTorch's steps run under
no_grad), and bumps each parameter's version counter, as any in-place change does.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..grad_mode import enable_grad
from ..nn.module import typename
from ..tensor import Tensor


class Optimizer:
    """Subclasses set ``defaults`` (lr, momentum ...) and write ``step``; every group gets the defaults
    it does not set itself: ``SGD([{"params": a}, {"params": b, "lr": 0.01}], lr=0.1)``."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)  # per parameter: momentum buffers, Adam's averages, its step count
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, but "
                            f"got {typename(params)}\nPass model.parameters(), or a list: [w, b].")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list\nmodel.parameters() was empty or already "
                             "used up (it is a generator: call it again for each optimizer).")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        param_group = dict(param_group, params=list(params))
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {typename(param)}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor\nOptimise the leaves (the weights you made), "
                                 "not a result computed from them.")
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient: None by default (PyTorch's default), or zeros."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    if set_to_none:
                        param.grad = None
                    else:
                        param.grad.zero_()

    def step(self, closure=None):
        """One update of every parameter that has a gradient (each optimizer's own ``_update``)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    self._update(param, group)
        return loss

    def _update(self, param, group):
        raise NotImplementedError(f"{type(self).__name__} has no update rule: define _update(param, group).")

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


def write(param, values):
    """Put new values into a parameter in place (a step), bumping its version counter."""
    np.copyto(param.array, values, casting="same_kind")
    param._version_counter[0] += 1



def check_hyperparameters(lr=0.0, weight_decay=0.0, **others):
    """PyTorch's refusals of impossible settings, in its words (a negative learning rate ...)."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}\nA learning rate is a step size: give a positive number.")
    for name, value in dict(others, weight_decay=weight_decay).items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {name} value: {value}\n{name} must be 0 or more.")
