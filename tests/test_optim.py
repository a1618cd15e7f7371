"""autodiff_nb.optim against torch.optim: from the same weights (load_state_dict), 30+ steps of each
optimizer give the same losses and weights to float32 rounding; settings PyTorch refuses are refused
in its words; param_groups, state and the printed form are PyTorch's."""
import numpy as np
import pytest

import autodiff_nb as ad
from conftest import raises_as_pytorch

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
    return steps(lib, net, opt, STEPS, loss_name), opt


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
    raises_as_pytorch(torch, case, lambda lib: list(model(lib).parameters()))


# ----------------------------------------------------------------------------------- state_dict
def to_ours(value):
    """A PyTorch state dict (or part of one) with our tensors in place of theirs."""
    if isinstance(value, dict):
        return {key: to_ours(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_ours(item) for item in value]
    return ad.tensor(value.numpy()) if hasattr(value, "numpy") else value


def steps(lib, net, opt, count, loss_name="CrossEntropyLoss"):
    loss_fn = getattr(lib.nn, loss_name)()
    target = lib.tensor(LABELS) if loss_name == "CrossEntropyLoss" else lib.tensor(TARGETS)
    losses = []
    for _ in range(count):
        opt.zero_grad()
        loss = loss_fn(net(lib.tensor(X)), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_saving_and_loading_the_optimizer_continues_the_same_trajectory(torch, name):
    import copy
    make = OPTIMIZERS[name]
    theirs, ours = model(torch), model(ad)
    ours.load_state_dict({k: ad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    opt_t, opt_a = make(torch.optim, theirs.parameters()), make(ad.optim, ours.parameters())
    steps(torch, theirs, opt_t, 5), steps(ad, ours, opt_a, 5)
    saved_t, saved_a = copy.deepcopy(opt_t.state_dict()), copy.deepcopy(opt_a.state_dict())
    weights_t, weights_a = copy.deepcopy(theirs.state_dict()), copy.deepcopy(ours.state_dict())
    uninterrupted_t, uninterrupted_a = steps(torch, theirs, opt_t, 10), steps(ad, ours, opt_a, 10)
    # ours, saved and loaded into a new model and optimizer: exactly the uninterrupted run
    resumed = model(ad)
    resumed.load_state_dict(weights_a)
    opt = make(ad.optim, resumed.parameters())
    opt.load_state_dict(saved_a)
    np.testing.assert_array_equal(steps(ad, resumed, opt, 10), uninterrupted_a)
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    # PyTorch's state dict and weights, loaded into ours: PyTorch's continuation
    from_theirs = model(ad)
    from_theirs.load_state_dict(to_ours(weights_t))
    opt = make(ad.optim, from_theirs.parameters())
    opt.load_state_dict(to_ours(saved_t))
    np.testing.assert_allclose(steps(ad, from_theirs, opt, 10), uninterrupted_t, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(uninterrupted_a, uninterrupted_t, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda o, p: o.SGD(p, lr=0.1), lambda o, p: o.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda o, p: o.Adam(p, lr=0.5), lambda o, p: o.Adam(p, amsgrad=True, weight_decay=0.5),
    lambda o, p: o.AdamW([{"params": p[:1]}, {"params": p[1:], "lr": 0.25}], amsgrad=True),
])
def test_state_dict_has_pytorchs_structure_and_printed_form(torch, make):
    sds = []
    for lib in (torch, ad):
        w, b = lib.tensor([1.0, -2.0], requires_grad=True), lib.tensor([0.5], requires_grad=True)
        opt = make(lib.optim, [w, b])
        for _ in range(2):
            opt.zero_grad()
            ((w * w).sum() + 3 * b.sum()).backward()
            opt.step()
        sds.append(opt.state_dict())
    sd_t, sd_a = sds
    assert repr(sd_a) == repr(sd_t)
    assert list(sd_a) == ["state", "param_groups"]
    assert list(sd_a["state"]) == list(sd_t["state"])
    for index, per_param in sd_t["state"].items():
        assert list(sd_a["state"][index]) == list(per_param)
        for key, value in per_param.items():
            assert type(sd_a["state"][index][key]).__name__ == type(value).__name__ == "Tensor"
            assert str(sd_a["state"][index][key].dtype) == str(value.dtype)
    assert sd_a["param_groups"] == sd_t["param_groups"]


def test_state_dict_shares_the_optimizers_tensors_and_loading_casts_as_pytorch():
    w = ad.ones(2, dtype=ad.float64, requires_grad=True)
    opt = ad.optim.Adam([w])
    (w * w).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["exp_avg"] is opt.state[w]["exp_avg"]  # as PyTorch: deepcopy for a snapshot
    other = ad.optim.Adam([ad.ones(2, requires_grad=True)])  # float32 parameter
    other.load_state_dict(sd)
    loaded = next(iter(other.state.values()))
    assert loaded["exp_avg"].dtype is ad.float32 and loaded["step"].dtype is ad.float32
    assert other.param_groups[0]["params"][0] is not w


LOAD_ERRORS = [
    (lambda o, p: o.SGD(p, lr=0.1), lambda o, p: o.SGD([{"params": p[:2]}, {"params": p[2:]}], lr=0.1),
     "same groups"),
    (lambda o, p: o.Adam(p), lambda o, p: o.Adam(p[:3]), "same parameters"),
]


@pytest.mark.parametrize("make_saved, make_loading, hint", LOAD_ERRORS)
def test_loading_a_mismatched_state_dict_is_refused_in_pytorchs_words(torch, make_saved, make_loading, hint):
    caught = []
    for lib in (torch, ad):
        params = list(model(lib).parameters())
        saved = make_saved(lib.optim, params).state_dict()
        with pytest.raises(ValueError) as error:
            make_loading(lib.optim, params).load_state_dict(saved)
        caught.append(str(error.value))
    theirs, ours = caught
    assert ours.split("\n")[0] == theirs.split("\n")[0]
    assert hint in ours.split("\n", 1)[1]
