"""The work being measured (issue 6), and our engine's version of it.

Each workload has an input maker (plain float32 numpy arrays, so every implementation starts from the
same numbers) and a ``make_*(lib, inputs, ...)`` that returns ``(step, grads)``:

- ``step()`` runs the work once -- forward and backward, gradients reset first -- and returns the
  output (the loss, the chain's end ...);
- ``grads()`` returns the gradients the last step left, for checking against hand-written numpy.

``lib`` is ``autodiff_nb`` or ``torch``: our engine has PyTorch's surface, so the very same lines run
on both and the comparison is op for op. The hand-written numpy versions are in ``baselines.py``.
"""
from __future__ import annotations

import numpy as np

F32 = np.float32


# ------------------------------------------------------------------------------------- inputs
def inputs_A(rng):
    return {"x": rng.standard_normal(4).astype(F32)}


def inputs_B(rng):
    return {"x": np.arange(4, dtype=F32)}


def inputs_mlp(rng, batch, n_in, n_hidden, n_out):
    labels = rng.integers(0, n_out, batch)
    return {
        "X": rng.standard_normal((batch, n_in)).astype(F32),
        "Y": np.eye(n_out, dtype=F32)[labels],  # one-hot targets
        "W1": (rng.standard_normal((n_in, n_hidden)) * np.sqrt(2 / n_in)).astype(F32),
        "b1": np.zeros(n_hidden, F32),
        "W2": (rng.standard_normal((n_hidden, n_out)) * np.sqrt(2 / n_hidden)).astype(F32),
        "b2": np.zeros(n_out, F32),
    }


def inputs_D(rng):
    return {"x": np.array(0.5, dtype=F32)}


def inputs_E(rng, n):
    return {name: rng.standard_normal(n).astype(F32) for name in ("a", "b", "c")}


# ------------------------------------------------------------------- the work, on engine or torch
A_FACTOR = 1.01  # A multiplies by this n_ops times: 1.01**100 = 2.7, well inside float32


def make_A(lib, inputs, n_ops):
    """A: ``n_ops`` elementwise multiplies ``y = y * 1.01`` on a 4-element vector, then backward.

    Reported per op, so the fixed cost of one ``backward()`` call is shared over ``n_ops`` ops.
    """
    x = lib.tensor(inputs["x"], requires_grad=True)
    seed = lib.ones(4)

    def step():
        x.grad = None
        y = x
        for _ in range(n_ops):
            y = y * A_FACTOR
        y.backward(seed)
        return y

    return step, lambda: [x.grad]


def make_B(lib, inputs):
    """B: the chapter's cell as a student runs it, the tensor made every time:
    ``x = arange(4.0); x.requires_grad_(True); y = 2 * dot(x, x); y.backward()``."""
    last = {}

    def step():
        x = lib.arange(4.0)
        x.requires_grad_(True)
        y = 2 * lib.dot(x, x)
        y.backward()
        last["x"] = x
        return y

    return step, lambda: [last["x"].grad]


LEARNING_RATE = 1e-3
MLP_PARAMS = ("W1", "b1", "W2", "b2")


def make_mlp(lib, inputs):
    """C, C': one SGD train step of a two-layer MLP with a softmax cross-entropy loss.

    The loss is ``-(log_softmax(logits) * one_hot).sum() / batch`` on every implementation, so all
    run the same arithmetic.
    """
    X, Y = lib.tensor(inputs["X"]), lib.tensor(inputs["Y"])
    W1, b1, W2, b2 = params = [lib.tensor(inputs[name], requires_grad=True) for name in MLP_PARAMS]
    batch = inputs["X"].shape[0]

    def step():
        for p in params:
            p.grad = None
        hidden = lib.relu(X @ W1 + b1)
        logits = hidden @ W2 + b2
        loss = -(lib.log_softmax(logits, dim=1) * Y).sum() / batch
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= LEARNING_RATE * p.grad
        return loss

    return step, lambda: [p.grad for p in params]


# ------------------------------------------------------------ G, G': the textbook's training step
def inputs_textbook(rng, **size):
    """C''s inputs, with the labels as class indices (``y``), as the textbook's data loader gives them."""
    inputs = inputs_mlp(rng, **size)
    inputs["y"] = inputs["Y"].argmax(axis=1)
    return inputs


def make_textbook(lib, inputs):
    """G: one training step written as the textbook writes it: softmax by hand, the loss by picking
    each row's probability of its class, SGD by hand under no_grad."""
    X, y = lib.tensor(inputs["X"]), lib.tensor(inputs["y"])
    W1, b1, W2, b2 = params = [lib.tensor(inputs[name], requires_grad=True) for name in MLP_PARAMS]

    def softmax(X):
        X_exp = lib.exp(X)
        partition = X_exp.sum(1, keepdims=True)
        return X_exp / partition

    def step():
        for p in params:
            if p.grad is not None:
                p.grad.zero_()
        H = lib.relu(X @ W1 + b1)
        y_hat = softmax(H @ W2 + b2)
        loss = -lib.log(y_hat[range(len(y_hat)), y]).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= LEARNING_RATE * p.grad
        return loss

    return step, lambda: [p.grad for p in params]


def make_textbook_nn(lib, inputs):
    """G': the same model and step with ``nn.Sequential``, ``nn.CrossEntropyLoss`` and ``optim.SGD``."""
    X, y = lib.tensor(inputs["X"]), lib.tensor(inputs["y"])
    n_in, n_hidden = inputs["W1"].shape
    net = lib.nn.Sequential(lib.nn.Linear(n_in, n_hidden), lib.nn.ReLU(), lib.nn.Linear(n_hidden, inputs["W2"].shape[1]))
    with lib.no_grad():  # the same starting weights as every other implementation (Linear keeps W transposed)
        for layer, W, b in ((net[0], "W1", "b1"), (net[2], "W2", "b2")):
            layer.weight.copy_(lib.tensor(inputs[W].T))
            layer.bias.copy_(lib.tensor(inputs[b]))
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(net.parameters(), lr=LEARNING_RATE)

    def step():
        optimizer.zero_grad()
        loss = loss_fn(net(X), y)
        loss.backward()
        optimizer.step()
        return loss

    return step, lambda: [net[0].weight.grad.T, net[0].bias.grad, net[2].weight.grad.T, net[2].bias.grad]


D_FACTOR, D_SHIFT = 1.00001, 0.00001  # d(chain)/dx = 1.00001 ** (n_ops / 2): about e ** 0.5 at 100k


def make_D(lib, inputs, n_ops):
    """D: a chain of ``n_ops`` ops on a 0-d tensor, alternating ``y * 1.00001`` and ``y + 0.00001``."""
    x = lib.tensor(inputs["x"], requires_grad=True)

    def step():
        x.grad = None
        y = x
        for _ in range(n_ops // 2):
            y = y * D_FACTOR
            y = y + D_SHIFT
        y.backward()
        return y

    return step, lambda: [x.grad]


def make_E(lib, inputs):
    """E: ``sum(a_i * b_i + c_i)`` over ``n`` scalar (0-d) leaves each: 3n - 1 recorded ops."""
    a, b, c = ([lib.tensor(v, requires_grad=True) for v in inputs[name]] for name in ("a", "b", "c"))
    leaves = a + b + c

    def step():
        for leaf in leaves:
            leaf.grad = None
        total = a[0] * b[0] + c[0]
        for i in range(1, len(a)):
            total = total + (a[i] * b[i] + c[i])
        total.backward()
        return total

    def grads():
        return [np.array([float(t.grad) for t in group]) for group in (a, b, c)]

    return step, grads


# ----------------------------------------------------------------------- F: graphs to draw
def training_graph_of(lib, n_ops, seed=0):
    """A loss whose graph has about ``n_ops`` ops, made by modules: a deep ``nn.Sequential`` of
    ``Linear(8, 8)`` and ``Tanh`` (three ops per pair: permute, addmm, tanh) and an MSE loss. Returns
    ``(loss, model)`` for ``draw(loss, modules=model)``."""
    lib.manual_seed(seed)
    layers = []
    for _ in range(max(1, (n_ops - 1) // 3)):
        layers += [lib.nn.Linear(8, 8), lib.nn.Tanh()]
    model = lib.nn.Sequential(*layers)
    x = lib.tensor(np.random.default_rng(seed).standard_normal((4, 8)).astype(F32))
    return lib.nn.functional.mse_loss(model(x), lib.zeros(4, 8)), model


def graph_of(lib, n_ops, seed=0):
    """An output whose recorded graph has exactly ``n_ops`` ops: a chain that keeps pulling in leaves.

    The ops cycle through mul (by a leaf), add (a leaf), tanh and mul by a constant, with a fresh pair
    of leaves every 16 ops, so the drawing has branches and shared inputs like a small network.
    """
    rng = np.random.default_rng(seed)

    def leaf():
        return lib.tensor(rng.standard_normal(3).astype(F32), requires_grad=True)

    y = leaf()
    w = b = None
    for i in range(n_ops):
        if i % 16 == 0:
            w, b = leaf(), leaf()
        kind = i % 4
        if kind == 0:
            y = y * w
        elif kind == 1:
            y = y + b
        elif kind == 2:
            y = lib.tanh(y)
        else:
            y = y * 0.5
    return y


# ----------------------------------------------------------------------------- H, J: forward mode
def mlp_loss(lib, X, Y, W1, b1, W2, b2):
    """The forward pass of C and C': the loss of a two-layer MLP, as a function of its parameters."""
    hidden = lib.relu(X @ W1 + b1)
    logits = hidden @ W2 + b2
    return -(lib.log_softmax(logits, dim=1) * Y).sum() / X.shape[0]


def inputs_H(rng, **size):
    inputs = inputs_mlp(rng, **size)
    for name in MLP_PARAMS:  # a direction in parameter space, one per parameter
        inputs["d" + name] = rng.standard_normal(inputs[name].shape).astype(F32)
    return inputs


def make_H(lib, inputs):
    """H: C''s forward pass, plain and as a jvp along a direction in parameter space (``func.jvp``,
    the same call on ``torch.func``). Returns ``(forward, jvp)``: each runs once and returns the loss,
    the jvp also the directional derivative."""
    X, Y = lib.tensor(inputs["X"]), lib.tensor(inputs["Y"])
    params = tuple(lib.tensor(inputs[name]) for name in MLP_PARAMS)
    directions = tuple(lib.tensor(inputs["d" + name]) for name in MLP_PARAMS)

    def loss(*p):
        return mlp_loss(lib, X, Y, *p)

    return (lambda: [loss(*params)]), (lambda: list(lib.func.jvp(loss, params, directions)))


def inputs_J(rng, n_out, n_in):
    return {"W": rng.standard_normal((n_out, n_in)).astype(F32), "x": rng.standard_normal(n_in).astype(F32)}


def make_J(lib, inputs):
    """J: the Jacobian of ``tanh(W @ x)`` (few inputs, many outputs) by ``jacfwd`` and by ``jacrev``.
    Returns ``(jacfwd step, jacrev step)``, each giving ``[jacobian]``."""
    W, x = lib.tensor(inputs["W"]), lib.tensor(inputs["x"])

    def f(v):
        return lib.tanh(W @ v)

    return (lambda: [lib.func.jacfwd(f)(x)]), (lambda: [lib.func.jacrev(f)(x)])


# ----------------------------------------------------------------------------- the catalogue
# size: full run; smoke: the tiny size the smoke test uses. Targets: issue 9 (A, B, C, C', E), issue 6 (D),
# issue 13 (F), issue 11 (H, J: forward mode) and issue 12 (G, G': the textbook's step).
SMALL_MLP = {"batch": 32, "n_in": 784, "n_hidden": 64, "n_out": 10}  # C', G, G', H: the textbook's MLP
SMALL_MLP_SMOKE = {"batch": 3, "n_in": 10, "n_hidden": 5, "n_out": 4}
WORKLOADS = {
    "A": dict(title="elementwise op on a 4-vector, fwd+bwd", unit="per op",
              size={"n_ops": 100}, smoke={"n_ops": 5},
              target=("torch", 0.75), anchor="numpy 1.3 µs, PyTorch 7.2 µs"),
    "B": dict(title="chapter example 2*dot(x,x), backward", unit="per step",
              size={}, smoke={}, target=("torch", 0.6), anchor="numpy 2 µs, PyTorch 46 µs"),
    "C": dict(title="MLP 784-256-10, batch 256, train step", unit="per step",
              size={"batch": 256, "n_in": 784, "n_hidden": 256, "n_out": 10},
              smoke={"batch": 4, "n_in": 12, "n_hidden": 6, "n_out": 3},
              target=("numpy", 1.10), anchor="numpy 2.4 ms, PyTorch 1.30x numpy"),
    "C'": dict(title="MLP 784-64-10, batch 32, train step", unit="per step",
               size=SMALL_MLP,
               smoke=SMALL_MLP_SMOKE,
               target=("numpy", 1.8), anchor="numpy 0.15 ms, PyTorch 2.7x numpy"),
    "D": dict(title="chain of ops on a 0-d tensor, fwd+bwd", unit="per op",
              size={"short": 10_000, "long": 100_000}, smoke={"short": 100, "long": 1_000},
              target=("linear", 1.3), anchor="linear within 1.3x; memory back to start"),
    "E": dict(title="sum(a_i*b_i + c_i), 10,000 scalar nodes", unit="per step",
              size={"n": 10_000}, smoke={"n": 50}, target=("torch", 1.0), anchor="≤ 1.0x PyTorch"),
    "F": dict(title="draw graph to SVG (viz.draw().to_svg())", unit="per drawing",
              size={"n_ops": (100, 500, 2000), "clustered": 2000}, smoke={"n_ops": (10,), "clustered": 30},
              target=("seconds", 0.2, 500), anchor="500 ops < 0.2 s; 2,000-op training graph in clusters < 0.5 s (issue 13)",
              clustered_limit=0.5),
    "H": dict(title="jvp of the C' MLP forward pass, along all 4 params", unit="per call",
              size=SMALL_MLP,
              smoke=SMALL_MLP_SMOKE,
              target=("jvp/forward", 2.5), anchor="jvp ≤ 2.5x the plain forward pass"),
    "J": dict(title="Jacobian of tanh(W @ x), 2 inputs, 200 outputs", unit="per Jacobian",
              size={"n_out": 200, "n_in": 2}, smoke={"n_out": 7, "n_in": 2},
              target=("jacrev/jacfwd", 10.0), anchor="jacfwd ≥ 10x faster than jacrev"),
    "G": dict(title="textbook train step 784-64-10, batch 32: softmax by hand, SGD by hand", unit="per step",
              size=SMALL_MLP,
              smoke=SMALL_MLP_SMOKE,
              target=("torch", 0.8), anchor="≤ 0.8x PyTorch (issue 12)"),
    "G'": dict(title="the same with nn.Sequential, CrossEntropyLoss, optim.SGD", unit="per step",
               size=SMALL_MLP,
               smoke=SMALL_MLP_SMOKE,
               target=("torch", 0.8), anchor="≤ 0.8x PyTorch (issue 12)"),
    "K": dict(title="chapter 1 executed headless (nbclient)", unit="per run",
              size={"repeats": 3}, smoke={"repeats": 1}, target=None, anchor="runs end to end"),
}
