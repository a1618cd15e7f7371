"""``Adam`` and ``AdamW``: running averages of the gradient and of its square, bias-corrected, computed as
PyTorch's single-tensor implementation computes them (so the numbers agree to float32 rounding)."""
from __future__ import annotations

import numpy as np

from ..creation import tensor, zeros_like
from .optimizer import Optimizer, add_scaled, check_hyperparameters, write


class Adam(Optimizer):
    """Per parameter: ``m = β1 m + (1-β1) g``, ``v = β2 v + (1-β2) g²``, then
    ``p -= lr / (1-β1^t) · m / (sqrt(v) / sqrt(1-β2^t) + eps)``. ``weight_decay`` adds ``wd · p`` to g
    (AdamW instead shrinks p by ``lr · wd`` first); ``amsgrad`` divides by the largest ``v`` so far."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        check_hyperparameters(lr, weight_decay, epsilon=eps)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}\nEach beta is a decay rate in "
                                 "[0, 1), e.g. betas=(0.9, 0.999).")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _state(self, param, amsgrad):
        state = self.state[param]
        if not state:
            state["step"] = tensor(0.0)
            state["exp_avg"] = zeros_like(param)
            state["exp_avg_sq"] = zeros_like(param)
            if amsgrad:
                state["max_exp_avg_sq"] = zeros_like(param)
        return state

    def _update(self, param, group):
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        state = self._state(param, group["amsgrad"])
        grad = -param.grad.array if group["maximize"] else param.grad.array
        state["step"].array += 1
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                write(param, param.array * (1 - lr * weight_decay))
            else:
                grad = add_scaled(grad, weight_decay, param.array)
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        m[...] = add_scaled(m, 1 - beta1, grad - m)  # PyTorch's lerp_(grad, 1 - beta1): one fused multiply-add
        v *= beta2
        v += (1 - beta2) * grad * grad
        step = float(state["step"].array)
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        if group["amsgrad"]:
            top = state["max_exp_avg_sq"].array
            np.maximum(top, v, out=top)
            v = top
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
        write(param, param.array + (-step_size) * m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay: each step first shrinks the parameters by ``lr · weight_decay``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
