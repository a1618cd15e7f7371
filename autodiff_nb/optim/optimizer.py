"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, ``state_dict`` /
``load_state_dict``, and the printed form PyTorch gives.

A step changes the parameters' values in place, outside the graph (as PyTorch's steps run under
no_grad), and bumps each parameter's version counter, as any in-place change does.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from itertools import chain

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

    def state_dict(self):
        """PyTorch's form: ``{"state": {index: {...}}, "param_groups": [{...settings..., "params": [indices]}]}``,
        parameters numbered in group order. The state's tensors are the optimizer's own, not copies (as
        PyTorch's): ``copy.deepcopy(opt.state_dict())`` keeps a snapshot that later steps do not change.

        >>> opt.state_dict()["param_groups"][0]["params"]
        [0, 1, 2, 3]
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index_of[id(param)] for param in group["params"]]
            groups.append(packed)
        state = {index_of[id(key)] if isinstance(key, Tensor) else key: value for key, value in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take the settings and state of ``state_dict`` (from ``state_dict()`` of an optimizer over
        parameters in the same order), so training goes on as if it had never stopped.

        >>> opt2 = optim.Adam(model.parameters()); opt2.load_state_dict(opt.state_dict())
        """
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(self.param_groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups\nThe optimizer has "
                             f"{len(self.param_groups)} and the state dict {len(saved_groups)}: build the "
                             "optimizer with the same groups as the one that was saved.")
        ours = [len(group["params"]) for group in self.param_groups]
        theirs = [len(group["params"]) for group in saved_groups]
        if ours != theirs:
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             f"optimizer's group\nThe optimizer's groups hold {ours} parameters and the saved "
                             f"ones {theirs}: pass the same parameters (model.parameters() of the same model).")
        param_of = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                            chain.from_iterable(g["params"] for g in self.param_groups)))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                state[param_of[key]] = {name: _cast(param_of[key], name, item) for name, item in value.items()}
            else:
                state[key] = value
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            for name, default in self.defaults.items():  # a state dict from an older version
                saved.setdefault(name, default)
        self.state, self.param_groups = state, saved_groups

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


def _cast(param, name, value):
    """A loaded state value, as PyTorch casts it: tensors to the parameter's float dtype (the same
    tensor when it already has it); ``step`` kept as it is, a number made a float32 tensor."""
    if name == "step":
        return value if isinstance(value, Tensor) else Tensor._from_array(np.asarray(value, np.float32))
    if isinstance(value, Tensor) and param.is_floating_point():
        return value.to(dtype=param.dtype)
    return value


def add_scaled(a, alpha, b):
    """``a + alpha · b`` rounded once, as PyTorch's ``a.add(b, alpha=...)`` and ``lerp`` compute it (a
    fused multiply-add): float64 holds the product of two float32 numbers exactly."""
    alpha = np.asarray(alpha, b.dtype).astype(np.float64)
    return (a.astype(np.float64) + alpha * b.astype(np.float64)).astype(b.dtype)


def write(param, values):
    """Put new values into a parameter in place (a step), bumping its version counter."""
    np.copyto(param.array, values, casting="same_kind")
    param._version_counter[0] += 1


def move(param, delta):
    """``param += delta`` in place, bumping its version counter: the same sum as ``write(param, param +
    delta)``, bit for bit, without the new array (a step of SGD is most of its time in copies)."""
    np.add(param.array, delta, out=param.array, casting="same_kind")
    param._version_counter[0] += 1


def check_hyperparameters(lr=0.0, weight_decay=0.0, **others):
    """PyTorch's refusals of impossible settings, in its words (a negative learning rate ...)."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}\nA learning rate is a step size: give a positive number.")
    for name, value in dict(others, weight_decay=weight_decay).items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {name} value: {value}\n{name} must be 0 or more.")
