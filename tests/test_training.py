"""The course past the chapter: models written from scratch with this engine's tensors only, trained by
hand-written SGD under ``no_grad``, reach a low loss on synthetic data. Each takes well under a second or
two; the tests assert on the loss (and what was learned), not on time.
"""
import autodiff_nb as torch


def synthetic_regression(w, b, n):
    """y = Xw + b + noise, as in the linear-regression chapter."""
    X = torch.normal(0, 1, (n, len(w)))
    y = X @ w + b + torch.normal(0, 0.01, (n,))
    return X, y.reshape(-1, 1)


def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()


def sgd_through_data(params, lr):
    """The older textbooks' step: through ``.data``, which autograd does not see, so no ``no_grad``."""
    for p in params:
        p.data -= lr * p.grad
        p.grad.data.zero_()


def cross_entropy(logits, labels):
    log_probs = torch.log_softmax(logits, dim=1)
    return -log_probs[torch.arange(len(labels)), labels].mean()


def accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).float().mean().item()


def test_linear_regression_recovers_the_true_weights():
    torch.manual_seed(0)
    true_w, true_b = torch.tensor([2, -3.4]), 4.2
    X, y = synthetic_regression(true_w, true_b, 1000)
    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    batch_size, lr = 10, 0.03
    for epoch in range(3):
        order = torch.randint(0, 1000, (1000,)) if epoch else torch.arange(1000)
        for i in range(0, 1000, batch_size):
            idx = order[i:i + batch_size]
            loss = ((X[idx] @ w + b - y[idx]) ** 2 / 2).mean()
            loss.backward()
            sgd([w, b], lr)
    with torch.no_grad():
        final = ((X @ w + b - y) ** 2 / 2).mean().item()
    assert final < 1e-3  # the noise alone gives 5e-5
    assert (w.reshape(-1) - true_w).abs().max().item() < 0.01
    assert abs(b.item() - true_b) < 0.01
    assert w.is_leaf and w.grad_fn is None and w.dtype is torch.float32


def test_sgd_through_data_trains_exactly_like_sgd_under_no_grad():
    torch.manual_seed(4)
    X, y = synthetic_regression(torch.tensor([1.5, -0.5]), 0.3, 200)
    start = torch.zeros(2, 1)
    start.data.normal_(0, 0.01)  # the older books' initialisation, through .data as well
    trained = []
    for step_rule in (sgd, sgd_through_data):
        w = start.clone().requires_grad_(True)
        b = torch.zeros(1, requires_grad=True)
        for _ in range(50):
            ((X @ w + b - y) ** 2 / 2).mean().backward()
            step_rule([w, b], 0.1)
        assert w.is_leaf and w.requires_grad and w.grad.abs().max().item() == 0.0
        trained.append((w.tolist(), b.tolist()))
    assert trained[0] == trained[1]
    assert abs(trained[0][0][0][0] - 1.5) < 0.05 and abs(trained[0][1][0] - 0.3) < 0.05


def test_softmax_regression_separates_three_classes():
    torch.manual_seed(1)
    centers = torch.tensor([[2., 0., 0., 1.], [-2., 2., 0., -1.], [0., -2., 2., 0.]])
    labels = torch.randint(0, 3, (600,))
    X = centers[labels] + torch.normal(0, 0.7, (600, 4))
    W = torch.normal(0, 0.01, size=(4, 3), requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    first = None
    for step in range(150):
        loss = cross_entropy(X @ W + b, labels)
        first = loss.item() if first is None else first
        loss.backward()
        sgd([W, b], 0.5)
    with torch.no_grad():
        logits = X @ W + b
        final = cross_entropy(logits, labels).item()
    assert first > 1.0  # about log 3 at the start
    assert final < 0.1
    assert accuracy(logits, labels) > 0.97


def test_two_layer_mlp_learns_xor_which_no_linear_model_can():
    torch.manual_seed(2)
    corners = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    which = torch.randint(0, 4, (400,))
    X = corners[which] + torch.normal(0, 0.1, (400, 2))
    labels = (corners[which].sum(dim=1) == 1).long()  # XOR of the two coordinates
    hidden = 16
    W1 = torch.normal(0, 1.0, size=(2, hidden), requires_grad=True)
    b1 = torch.zeros(hidden, requires_grad=True)
    W2 = torch.normal(0, 0.1, size=(hidden, 2), requires_grad=True)
    b2 = torch.zeros(2, requires_grad=True)
    params = [W1, b1, W2, b2]

    def net(inputs):
        return torch.relu(inputs @ W1 + b1) @ W2 + b2

    for step in range(400):
        loss = cross_entropy(net(X), labels)
        loss.backward()
        sgd(params, 0.5)
    with torch.no_grad():
        logits = net(X)
        final = cross_entropy(logits, labels).item()
    assert final < 0.1
    assert accuracy(logits, labels) > 0.98


def test_mlp_regression_with_mean_squared_error_fits_a_sine():
    torch.manual_seed(3)
    x = torch.linspace(-3, 3, 200).reshape(-1, 1)
    y = torch.sin(x)
    W1 = torch.normal(0, 1.0, size=(1, 32), requires_grad=True)
    b1 = torch.normal(0, 1.0, size=(32,), requires_grad=True)
    W2 = torch.normal(0, 0.1, size=(32, 1), requires_grad=True)
    b2 = torch.zeros(1, requires_grad=True)
    params = [W1, b1, W2, b2]
    for step in range(2000):
        loss = ((torch.tanh(x @ W1 + b1) @ W2 + b2 - y) ** 2).mean()
        loss.backward()
        sgd(params, 0.05)
    assert loss.item() < 5e-3
