"""``SGD``: stochastic gradient descent, with momentum, dampening, Nesterov and weight decay, computed
as PyTorch's single-tensor implementation computes it (so the numbers agree to float32 rounding)."""
from __future__ import annotations

from ..tensor import Tensor
from .optimizer import Optimizer, add_scaled, check_hyperparameters, move


class SGD(Optimizer):
    """``p -= lr * g`` for every parameter ``p`` with a gradient ``g``, where with momentum ``g`` is the
    running buffer ``buf = momentum * buf + (1 - dampening) * g`` (started at the first gradient)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        check_hyperparameters(lr, weight_decay, momentum=momentum)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening\n"
                             "Give momentum=0.9 (say) and leave dampening at 0.")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, param, group):
        grad = -param.grad.array if group["maximize"] else param.grad.array
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, group["weight_decay"], param.array)
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state[param]
            buf = state.get("momentum_buffer")
            if buf is None:  # the first step: the buffer starts as the gradient itself
                buf = state["momentum_buffer"] = Tensor._from_array(grad.copy())
            else:
                buf.array *= momentum
                buf.array += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf.array if group["nesterov"] else buf.array
        move(param, (-group["lr"]) * grad)
