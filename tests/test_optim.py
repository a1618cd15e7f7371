"""autodiff_nb.optim against torch.optim: from the same weights (load_state_dict), 30+ steps of each
optimizer give the same losses and weights to float32 rounding; settings PyTorch refuses are refused
in its words; param_groups, state and the printed form are PyTorch's."""
import numpy as np
import pytest

import autodiff_nb as ad

pytestmark = pytest.mark.torch

STEPS = 30
RNG = np.random.default_rng(0)
X = RNG.standard_normal((32, 5)).astype(np.float32)
LABELS = RNG.integers(0, 3, 32)
TARGETS = RNG.standard_normal((32, 3)).astype(np.float32)


def model(lib):
    n = lib.nn
    return n.Sequential(n.Linear(5, 8), n.Tanh(), n.Linear(8, 3))


def train(lib, net, make_optimizer, loss_name):
    opt = make_optimizer(lib.optim, net.parameters())
    loss_fn = getattr(lib.nn, loss_name)()
    target = lib.tensor(LABELS) if loss_name == "CrossEntropyLoss" else lib.tensor(TARGETS)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(net(lib.tensor(X)), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), opt


OPTIMIZERS = {
    "SGD": lambda o, p: o.SGD(p, lr=0.1),
    "SGD momentum + weight decay": lambda o, p: o.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
    "SGD nesterov": lambda o, p: o.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True),
    "SGD dampening": lambda o, p: o.SGD(p, lr=0.02, momentum=0.5, dampening=0.3),
    "Adam": lambda o, p: o.Adam(p, lr=0.01),
    "Adam weight decay amsgrad": lambda o, p: o.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True),
    "AdamW": lambda o, p: o.AdamW(p, lr=0.01),
    "AdamW amsgrad": lambda o, p: o.AdamW(p, lr=0.02, weight_decay=0.05, amsgrad=True, eps=1e-6),
}


@pytest.mark.parametrize("loss_name", ["CrossEntropyLoss", "MSELoss"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_training_matches_pytorch_step_for_step(torch, name, loss_name):
    theirs, ours = model(torch), model(ad)
    ours.load_state_dict({k: ad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    losses_t, _ = train(torch, theirs, OPTIMIZERS[name], loss_name)
    losses_a, _ = train(ad, ours, OPTIMIZERS[name], loss_name)
    assert losses_t[-1] < losses_t[0]  # it trained: the comparison is not of two still models
    np.testing.assert_allclose(losses_a, losses_t, rtol=2e-5, atol=1e-6)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-4, atol=2e-6, err_msg=key)


def test_maximize_climbs(torch):
    for lib in (ad, torch):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1, maximize=True)
        (w * w).sum().backward()
        opt.step()
        assert np.allclose(w.detach().numpy(), [1.2, -2.4])


def test_param_groups_state_and_repr_are_pytorchs(torch):
    for make in [lambda o, p: o.SGD(p, lr=0.1, momentum=0.9), lambda o, p: o.Adam(p), lambda o, p: o.AdamW(p)]:
        net_t, net_a = model(torch), model(ad)
        net_a.load_state_dict({k: ad.tensor(v.numpy()) for k, v in net_t.state_dict().items()})
        opt_t, opt_a = make(torch.optim, net_t.parameters()), make(ad.optim, net_a.parameters())
        assert repr(opt_a) == repr(opt_t)
        assert list(opt_a.param_groups[0]) == list(opt_t.param_groups[0])
        for opt, net, lib in ((opt_t, net_t, torch), (opt_a, net_a, ad)):
            net(lib.ones(2, 5)).sum().backward()
            opt.step()
        first_t, first_a = opt_t.state[next(net_t.parameters())], opt_a.state[next(net_a.parameters())]
        assert list(first_a) == list(first_t)
        for key in first_t:
            np.testing.assert_allclose(first_a[key].numpy(), first_t[key].numpy(), rtol=1e-5, atol=1e-7)


def test_groups_take_their_own_settings_and_zero_grad_forgets(torch):
    a, b = ad.ones(2, requires_grad=True), ad.ones(2, requires_grad=True)
    opt = ad.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (a.sum() + b.sum()).backward()
    opt.step()
    assert a.equal(ad.full((2,), 0.9)) and b.equal(ad.full((2,), 0.5))
    opt.zero_grad(set_to_none=False)
    assert a.grad.equal(ad.zeros(2))
    opt.zero_grad()
    assert a.grad is None


def test_a_step_bumps_the_version_so_stale_graphs_are_caught():
    w = ad.ones(2, requires_grad=True)
    y = (w * w).sum()
    opt = ad.optim.SGD([w], lr=0.1)
    y.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_closure_is_called_with_grad_on(torch):
    w = ad.ones(2, requires_grad=True)
    opt = ad.optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with ad.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 2.0 and w.equal(ad.full((2,), 0.8))


ERRORS = [
    lambda lib, p: lib.optim.SGD([], lr=0.1),
    lambda lib, p: lib.optim.SGD(p, lr=-0.1),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=-1),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, nesterov=True),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, weight_decay=-1),
    lambda lib, p: lib.optim.Adam(p, betas=(1.0, 0.9)),
    lambda lib, p: lib.optim.Adam(p, betas=(0.9, 1.0)),
    lambda lib, p: lib.optim.Adam(p, eps=-1),
    lambda lib, p: lib.optim.AdamW(p, lr=-1),
    lambda lib, p: lib.optim.SGD(lib.ones(2, requires_grad=True), lr=0.1),
    lambda lib, p: lib.optim.SGD([lib.ones(2, requires_grad=True) * 2], lr=0.1),
    lambda lib, p: lib.optim.SGD([[1.0]], lr=0.1),
    lambda lib, p: lib.optim.SGD([{"params": p}, {"params": p}], lr=0.1),
]


@pytest.mark.parametrize("case", ERRORS)
def test_errors_are_pytorchs(torch, case):
    with pytest.raises(Exception) as theirs:
        case(torch, list(model(torch).parameters()))
    with pytest.raises(Exception) as ours:
        case(ad, list(model(ad).parameters()))
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value).split("\n")[0] == str(theirs.value).split("\n")[0]
