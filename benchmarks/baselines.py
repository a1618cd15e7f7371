"""The baselines: the same work hand-written in numpy (forward and backward), and PyTorch.

Hand-written numpy is the physical limit for an engine built on numpy: the same array arithmetic
with no graph, no Python objects per op, and a backward a person derived on paper. Each
``numpy_*`` mirrors the ``make_*`` of the same letter in ``workloads.py`` and returns
``(step, grads)`` the same way.

PyTorch runs the ``make_*`` functions themselves (our engine has its surface), pinned to one thread.
"""
from __future__ import annotations

import numpy as np

from .workloads import A_FACTOR, D_FACTOR, D_SHIFT, LEARNING_RATE, MLP_PARAMS


def load_torch():
    """PyTorch pinned to one thread, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # only allowed before PyTorch's first parallel work; the intra-op setting is what matters
    return torch


# ------------------------------------------------------------------------------ hand-written
def numpy_A(inputs, n_ops):
    x = inputs["x"].copy()
    seed = np.ones(4, np.float32)
    state = {}

    def step():
        y = x
        for _ in range(n_ops):
            y = y * A_FACTOR
        g = seed
        for _ in range(n_ops):  # d(y * c)/dy = c, once per op
            g = g * A_FACTOR
        state["gx"] = g
        return y

    return step, lambda: [state["gx"]]


def numpy_B(inputs):
    state = {}

    def step():
        x = np.arange(4.0, dtype=np.float32)
        d = np.dot(x, x)
        y = 2 * d
        g_d = 2.0  # dy/dd
        state["gx"] = g_d * x + g_d * x  # d(x.x)/dx: x from each side
        return y

    return step, lambda: [state["gx"]]


def numpy_mlp(inputs):
    X, Y = inputs["X"], inputs["Y"]
    W1, b1, W2, b2 = params = [inputs[name].copy() for name in MLP_PARAMS]
    batch = X.shape[0]
    state = {}

    def step():
        # forward
        z1 = X @ W1 + b1
        hidden = np.maximum(z1, 0)
        logits = hidden @ W2 + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -(log_probs * Y).sum() / batch
        # backward
        g_log_probs = Y * (-1 / batch)
        g_logits = g_log_probs - np.exp(log_probs) * g_log_probs.sum(axis=1, keepdims=True)
        g_W2 = hidden.T @ g_logits
        g_b2 = g_logits.sum(axis=0)
        g_z1 = (g_logits @ W2.T) * (z1 > 0)
        g_W1 = X.T @ g_z1
        g_b1 = g_z1.sum(axis=0)
        grads = state["grads"] = [g_W1, g_b1, g_W2, g_b2]
        # SGD update, in place
        for p, g in zip(params, grads):
            p -= LEARNING_RATE * g
        return loss

    return step, lambda: state["grads"]


def numpy_textbook(inputs):
    """G and G': softmax, the picked log-probability's mean, and SGD, by hand (the softmax unshifted,
    as the textbook's; CrossEntropyLoss shifts, which changes nothing at these sizes)."""
    X, y = inputs["X"], inputs["y"]
    W1, b1, W2, b2 = params = [inputs[name].copy() for name in MLP_PARAMS]
    rows = np.arange(len(y))
    state = {}

    def step():
        z1 = X @ W1 + b1
        hidden = np.maximum(z1, 0)
        exp = np.exp(hidden @ W2 + b2)
        y_hat = exp / exp.sum(axis=1, keepdims=True)
        loss = -np.log(y_hat[rows, y]).mean()
        g_logits = y_hat.copy()  # d loss / d logits = (y_hat - one_hot(y)) / batch
        g_logits[rows, y] -= 1
        g_logits /= len(y)
        g_z1 = (g_logits @ W2.T) * (z1 > 0)
        grads = state["grads"] = [X.T @ g_z1, g_z1.sum(axis=0), hidden.T @ g_logits, g_logits.sum(axis=0)]
        for p, g in zip(params, grads):
            p -= LEARNING_RATE * g
        return loss

    return step, lambda: state["grads"]


def numpy_D(inputs, n_ops):
    x = inputs["x"].copy()
    state = {}

    def step():
        y = x
        for _ in range(n_ops // 2):
            y = y * D_FACTOR
            y = y + D_SHIFT
        g = np.float32(1.0)
        for _ in range(n_ops // 2):  # the adds pass the gradient through unchanged
            g = g * D_FACTOR
        state["gx"] = g
        return y

    return step, lambda: [state["gx"]]


def numpy_E(inputs):
    """The same 10,000-scalar graph by hand, one scalar at a time (vectorised it would be trivial)."""
    a, b, c = (list(inputs[name]) for name in ("a", "b", "c"))  # numpy float32 scalars
    state = {}

    def step():
        total = a[0] * b[0] + c[0]
        for i in range(1, len(a)):
            total = total + (a[i] * b[i] + c[i])
        g = np.float32(1.0)  # every a_i*b_i + c_i reaches the total with gradient 1
        state["grads"] = ([g * bi for bi in b], [g * ai for ai in a], [g for _ in c])
        return total

    return step, lambda: [np.array(group, dtype=np.float32) for group in state["grads"]]


def numpy_H(inputs):
    """C''s forward pass and, by hand, its JVP along the parameter direction (dW1, db1, dW2, db2)."""
    X, Y = inputs["X"], inputs["Y"]
    W1, b1, W2, b2 = (inputs[name] for name in MLP_PARAMS)
    dW1, db1, dW2, db2 = (inputs["d" + name] for name in MLP_PARAMS)
    batch = X.shape[0]

    def forward():
        hidden = np.maximum(X @ W1 + b1, 0)
        logits = hidden @ W2 + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -(log_probs * Y).sum() / batch, hidden, X @ W1 + b1, log_probs

    def jvp():
        loss, hidden, z1, log_probs = forward()
        d_hidden = (X @ dW1 + db1) * (z1 > 0)
        d_logits = d_hidden @ W2 + hidden @ dW2 + db2
        d_log_probs = d_logits - (np.exp(log_probs) * d_logits).sum(axis=1, keepdims=True)
        return [loss, -(d_log_probs * Y).sum() / batch]

    return (lambda: [forward()[0]]), jvp


def numpy_J(inputs):
    """d tanh(W x) / dx = (1 - tanh(W x)²) W, the same for both modes."""
    W, x = inputs["W"], inputs["x"]

    def jacobian():
        y = np.tanh(W @ x)
        return [(1 - y * y)[:, None] * W]

    return jacobian, jacobian


NUMPY = {"A": numpy_A, "B": numpy_B, "C": numpy_mlp, "C'": numpy_mlp, "D": numpy_D, "E": numpy_E, "H": numpy_H,
         "J": numpy_J, "G": numpy_textbook, "G'": numpy_textbook}
