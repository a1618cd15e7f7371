"""autodiff_nb.nn against PyTorch's torch.nn: printed forms, state_dict keys, forward values and
gradients from the same weights, initialisation statistics, and the errors (PyTorch's sentence, then ours)."""
import math
import warnings

import numpy as np
import pytest

import autodiff_nb as ad
from autodiff_nb import nn
import autodiff_nb.nn.functional as F
from autodiff_nb.nn import calls

pytestmark = pytest.mark.torch


def same_weights(ours, theirs):
    """Copy PyTorch's module's weights into ours by state_dict (the keys must agree for this to work)."""
    ours.load_state_dict({k: ad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})


def build(lib):
    n = lib.nn
    return n.Sequential(n.Flatten(), n.Linear(6, 5), n.ReLU(), n.Dropout(0.3), n.Linear(5, 4), n.Tanh(),
                        n.Linear(4, 3), n.Sigmoid(), n.Softmax(dim=1))


def test_repr_and_state_dict_keys_are_pytorchs(torch):
    ours, theirs = build(ad), build(torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]


def test_repr_of_a_custom_module_and_of_leaves(torch):
    def make(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(2, 3, bias=False)
                self.body = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(3, 1))
                self.loss = lib.nn.CrossEntropyLoss()

            def forward(self, x):
                return self.body(self.fc(x))
        return Net()
    assert repr(make(ad)) == repr(make(torch))
    for args in [(), (0.2,)]:
        assert repr(nn.Dropout(*args)) == repr(torch.nn.Dropout(*args))
    assert repr(nn.Softmax()) == repr(torch.nn.Softmax())
    assert repr(nn.MSELoss()) == repr(torch.nn.MSELoss())
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())
    assert repr(nn.Parameter(ad.tensor([1.0, 2.0]))) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert repr(nn.Parameter(ad.ones(2), requires_grad=False)) == repr(
        torch.nn.Parameter(torch.ones(2), requires_grad=False))
    assert repr(make(ad).load_state_dict(make(ad).state_dict())) == "<All keys matched successfully>"


def test_forward_and_gradients_match_pytorch_from_the_same_weights(torch):
    theirs, ours = build(torch), build(ad)
    same_weights(ours, theirs)
    theirs.eval(), ours.eval()  # no dropout: the masks would differ
    x = np.random.default_rng(0).standard_normal((7, 2, 3)).astype(np.float32)
    out_t, out_a = theirs(torch.tensor(x)), ours(ad.tensor(x))
    np.testing.assert_allclose(out_a.detach().numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    (out_t * torch.arange(3.0)).sum().backward()
    (out_a * ad.arange(3.0)).sum().backward()
    for (name, pa), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(pa.grad.numpy(), pt.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


def test_linear_records_addmm_on_a_batch_as_pytorch(torch):
    layer_t = torch.nn.Linear(3, 2)
    layer_a = nn.Linear(3, 2)
    same_weights(layer_a, layer_t)
    for shape in [(4, 3), (3,), (2, 4, 3)]:
        x = np.ones(shape, np.float32)
        got, want = layer_a(ad.tensor(x)), layer_t(torch.tensor(x))
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)
    assert layer_a(ad.ones(4, 3)).grad_fn.name() == layer_t(torch.ones(4, 3)).grad_fn.name() == "AddmmBackward0"


def test_losses_match_pytorch_for_every_reduction(torch):
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((6, 4)).astype(np.float32)
    labels = np.array([0, 3, 1, 1, 2, -100])
    weight = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    target = rng.standard_normal((6, 4)).astype(np.float32)
    for reduction in ["mean", "sum", "none"]:
        cases = [
            (lambda lib, x: lib.nn.CrossEntropyLoss(reduction=reduction)(x, lib.tensor(labels))),
            (lambda lib, x: lib.nn.CrossEntropyLoss(weight=lib.tensor(weight), reduction=reduction)(x, lib.tensor(labels))),
            (lambda lib, x: lib.nn.functional.cross_entropy(x, lib.softmax(lib.tensor(target), 1), reduction=reduction)),
            (lambda lib, x: lib.nn.MSELoss(reduction=reduction)(x, lib.tensor(target))),
        ]
        for case in cases:
            xa, xt = ad.tensor(scores, requires_grad=True), torch.tensor(scores, requires_grad=True)
            la, lt = case(ad, xa), case(torch, xt)
            np.testing.assert_allclose(la.detach().numpy(), lt.detach().numpy(), rtol=1e-5, atol=1e-6)
            la.sum().backward(), lt.sum().backward()
            np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    one = ad.nn.CrossEntropyLoss()(ad.tensor(scores[0]), ad.tensor(2))
    assert math.isclose(one.item(), torch.nn.CrossEntropyLoss()(torch.tensor(scores[0]), torch.tensor(2)).item(),
                        rel_tol=1e-6)


def test_loss_grad_fn_names_are_pytorchs(torch):
    x = ad.ones(2, 3, requires_grad=True)
    xt = torch.ones(2, 3, requires_grad=True)
    for f in [lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0, 1])),
              lambda lib, x: lib.nn.functional.mse_loss(x, lib.zeros(2, 3))]:
        assert f(ad, x).grad_fn.name() == type(f(torch, xt).grad_fn).__name__


def test_loss_gradients_against_central_differences():
    from test_engine_grad import check_gradients
    labels = ad.tensor([2, 0, 1])
    check_gradients(lambda x: F.cross_entropy(x, labels), np.random.default_rng(2).standard_normal((3, 4)))
    check_gradients(lambda x, y: F.mse_loss(x, y, reduction="sum"), np.ones((2, 3)) * 0.5,
                    np.random.default_rng(3).standard_normal((2, 3)))


SHAPES = [(5, 4), (4,), (2, 4, 3), (2, 4, 3, 2), (2, 4, 3, 2, 2), (0, 4)]


def cross_entropy_cases():
    """Random cases: every input shape PyTorch takes (classes on dim 1), with and without weights,
    label smoothing, ignored targets (a custom ignore_index too), every reduction."""
    rng = np.random.default_rng(5)
    for shape in SHAPES:
        for label_smoothing in (0.0, 0.3, 1.0):
            for reduction in ("mean", "sum", "none"):
                for weighted in (False, True):
                    ignore_index = int(rng.choice([-100, 1]))
                    x = rng.standard_normal(shape).astype(np.float32)
                    labels = rng.integers(0, 4, shape[:1] + shape[2:] if len(shape) > 1 else ())
                    labels = np.where(rng.random(labels.shape) < 0.25, ignore_index, labels)
                    weight = (rng.random(4) + 0.2).astype(np.float32) if weighted else None
                    yield x, labels, weight, dict(reduction=reduction, label_smoothing=label_smoothing,
                                                  ignore_index=ignore_index)


@pytest.mark.parametrize("module", [False, True])
def test_cross_entropy_with_label_smoothing_weights_and_any_shape_matches_pytorch(torch, module):
    for x, labels, weight, options in cross_entropy_cases():
        results = []
        for lib in (torch, ad):
            xs = lib.tensor(x, requires_grad=True)
            w = None if weight is None else lib.tensor(weight)
            if module:
                loss = lib.nn.CrossEntropyLoss(weight=w, **options)(xs, lib.tensor(labels))
            else:
                loss = lib.nn.functional.cross_entropy(xs, lib.tensor(labels), weight=w, **options)
            upstream = np.random.default_rng(0).standard_normal(tuple(loss.shape)).astype(np.float32)
            (loss * lib.tensor(upstream)).sum().backward()
            name = loss.grad_fn.name() if lib is ad else type(loss.grad_fn).__name__
            results.append((loss.detach().numpy(), xs.grad.numpy(), name))
        (value_t, grad_t, name_t), (value_a, grad_a, name_a) = results
        case = f"{x.shape} {options} weight={weight is not None}"
        assert value_a.shape == value_t.shape and name_a == name_t, case
        np.testing.assert_allclose(value_a, value_t, rtol=1e-5, atol=1e-6, err_msg=case)
        np.testing.assert_allclose(grad_a, grad_t, rtol=1e-5, atol=1e-6, err_msg=case)


@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 4, 3), (2, 4, 3, 2)])
def test_cross_entropy_with_probability_targets_matches_pytorch(torch, shape):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(np.float32)
    probs = rng.random(shape).astype(np.float32)
    weight = (rng.random(4) + 0.2).astype(np.float32)
    for reduction in ("mean", "sum", "none"):
        for label_smoothing in (0.0, 0.2):
            for w in (None, weight):
                results = []
                for lib in (torch, ad):
                    xs = lib.tensor(x, requires_grad=True)
                    loss = lib.nn.functional.cross_entropy(xs, lib.tensor(probs), None if w is None else lib.tensor(w),
                                                           reduction=reduction, label_smoothing=label_smoothing)
                    loss.sum().backward()
                    results.append((loss.detach().numpy(), xs.grad.numpy()))
                np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
                np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 4, 3), (2, 4, 3, 2), (2, 4, 2, 1, 2)])
def test_cross_entropy_gradients_against_central_differences(shape):
    from test_engine_grad import check_gradients
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 4, shape[:1] + shape[2:] if len(shape) > 1 else ())
    labels.flat[0] = -100 if labels.size > 1 else 2  # one ignored (one sample alone: its mean would be nan)
    target, weight = ad.tensor(labels), ad.tensor([0.5, 2.0, 1.0, 1.5], dtype=ad.float64)
    for reduction in ("mean", "sum", "none"):
        check_gradients(lambda x: F.cross_entropy(x, target, weight=weight, reduction=reduction,
                                                  label_smoothing=0.2), rng.standard_normal(shape))
        check_gradients(lambda x: F.nll_loss(F.log_softmax(x, 0 if len(shape) == 1 else 1), target,
                                             reduction=reduction), rng.standard_normal(shape))


def test_second_derivatives_of_an_image_loss_match_pytorch(torch):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 2, 2))
    labels, v = rng.integers(0, 3, (2, 2, 2)), rng.standard_normal((2, 3, 2, 2))
    results = []
    for lib in (torch, ad):
        xs = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(xs, lib.tensor(labels), reduction="none", label_smoothing=0.1)
        (grad,) = lib.autograd.grad((loss * loss).sum(), xs, create_graph=True)
        (grad * lib.tensor(v)).sum().backward()
        results.append(xs.grad.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-10, atol=1e-12)


def test_an_image_loss_is_recorded_and_drawn_as_pytorchs():
    from autodiff_nb.viz import describe
    x = ad.randn(2, 3, 4, 4, requires_grad=True)
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(x, ad.zeros(2, 4, 4, dtype=ad.int64))
    names = {node.detail for node in describe(loss).find(kind="op")}
    assert {"NllLoss2DBackward0", "LogSoftmaxBackward0", "MaskedFillBackward0", "AddBackward0"} <= names


def test_default_initialisation_has_pytorchs_bounds_and_spread():
    ad.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.dtype == np.float32 and w.shape == (300, 400) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # a uniform on (-b, b) has std b/sqrt(3)
    ad.manual_seed(0)
    assert nn.Linear(400, 300).weight.equal(layer.weight)  # reproducible from the seed


@pytest.mark.parametrize("scheme, std", [
    ("xavier_uniform_", math.sqrt(2 / 500)), ("xavier_normal_", math.sqrt(2 / 500)),
    ("kaiming_uniform_", math.sqrt(2 / 200)), ("kaiming_normal_", math.sqrt(2 / 200)),
])
def test_init_schemes_have_the_documented_spread(scheme, std):
    w = ad.empty(300, 200)
    assert getattr(nn.init, scheme)(w, generator=ad.Generator().manual_seed(1)) is w
    assert abs(w.numpy().std() - std) < 0.03 * std
    assert abs(w.numpy().mean()) < 0.03 * std


def test_init_constants_and_gains(torch):
    w = ad.empty(2, 3)
    assert nn.init.ones_(w).equal(ad.ones(2, 3))
    assert nn.init.zeros_(w).equal(ad.zeros(2, 3))
    assert nn.init.constant_(w, 0.5).equal(ad.full((2, 3), 0.5))
    for args in [("relu",), ("tanh",), ("leaky_relu", 0.2), ("sigmoid",), ("selu",)]:
        assert nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        nn.init.xavier_uniform_(ad.empty(3))


def test_module_bookkeeping():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear) and len(model[1:]) == 2
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    assert len(list(model.parameters())) == 4
    assert model.eval() is model and not model[0].training
    model.train()
    assert all(m.training for m in model.modules())
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]
    model(ad.ones(4, 2)).sum().backward()
    assert model[0].weight.grad is not None
    model.zero_grad()
    assert model[0].weight.grad is None
    model(ad.ones(4, 2)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert model[0].weight.grad.equal(ad.zeros(3, 2))


def test_state_dict_round_trip_copies_values():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert b.weight.equal(a.weight) and b.bias.equal(a.bias)
    assert b.weight.array is not a.weight.array  # copied, not shared
    assert not a.state_dict()["weight"].requires_grad


def test_dropout_zeroes_and_scales_in_training_only():
    ad.manual_seed(0)
    x = ad.ones(200, 50)
    drop = nn.Dropout(0.2)
    out = drop(x).numpy()
    assert set(np.unique(out)) <= {0.0, 1.25}
    assert abs((out == 0).mean() - 0.2) < 0.02
    assert drop.eval()(x) is x


def test_module_calls_are_recorded_with_their_paths():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    out = model(ad.ones(4, 2))
    relu_call = calls.module_of(out.grad_fn)
    assert relu_call.path == "1" and relu_call.kind == "ReLU"
    linear_call = calls.module_of(out.grad_fn.edges[0])
    assert linear_call.path == "0" and linear_call.kind == "Linear"
    assert calls.module_of((out * 2).grad_fn) is None  # recorded after the call ended


def test_the_innermost_call_is_found_for_every_node_of_nested_calls():
    """calls.finder (a bisect and a walk up the parents) against the plain definition: of the finished
    calls whose range holds the node's seq, the one that started last. Nested Sequentials, a module
    called twice, and ops between the calls (outside any call, or in the outer call only)."""
    from autodiff_nb.tape import Node, backward_order

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 3), nn.Tanh())

        def forward(self, x):
            return x + self.body(x) * 0.5  # the add and the mul belong to Residual itself

    block = Residual()
    model = nn.Sequential(nn.Linear(2, 3), block, nn.Sequential(block, nn.ReLU()), nn.Linear(3, 1))
    loss = (model(ad.ones(4, 2)) ** 2).mean()  # pow and mean: recorded after every call ended

    def by_definition(node):
        holding = [c for c in calls.finished if c.last is not None and c.first < node.seq < c.last]
        return max(holding, key=lambda c: c.first, default=None)

    nodes = [n for n in backward_order([loss.grad_fn]) if isinstance(n, Node)]
    find = calls.finder()
    found = [(n.name(), find(n) and find(n).path) for n in nodes]
    assert found == [(n.name(), by_definition(n) and by_definition(n).path) for n in nodes]
    assert {path for _, path in found} >= {None, "0", "1", "1.body.0", "2.0", "2.1", "3"}


ERRORS = [
    (lambda lib: lib.nn.Linear(5, 3)(lib.ones(4, 6)), "in_features=5"),
    (lambda lib: lib.nn.Linear(5, 3)(lib.ones(6)), "(6,)"),
    (lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(4, 3), lib.tensor([0, 1, 2, 3])), "0..2"),
    (lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(4, 3), lib.tensor([0, 1, 2])), "(4, 3)"),
    (lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(4, 3), lib.tensor([0., 1, 2, 1])), "target.long()"),
    (lambda lib: lib.nn.CrossEntropyLoss(reduction="foo")(lib.ones(4, 3), lib.tensor([0, 1, 2, 1])), "'mean'"),
    (lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(2, 3, 4), lib.zeros(2, 5, dtype=lib.int64)), "(2, 4)"),
    (lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(2, 3, 4), lib.zeros(2, dtype=lib.int64)), "(2, 4)"),
    (lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(2, 3, 4, 5), lib.zeros(2, 4, 6, dtype=lib.int64)), "(2, 4, 5)"),
    (lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(2, 3, 4, 5), lib.zeros(2, 4, dtype=lib.int64)), "(2, 4, 5)"),
    (lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(2, 3, 4, 5), lib.zeros(3, 4, 5, dtype=lib.int64)), "(2, 4, 5)"),
    (lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(2, 3, 4), lib.full((2, 4), 3)), "0..2"),
    (lambda lib: lib.nn.CrossEntropyLoss(label_smoothing=1.5)(lib.ones(2, 3), lib.tensor([0, 1])), "0.1"),
    (lambda lib: lib.nn.CrossEntropyLoss(ignore_index=1)(lib.ones(2, 3), lib.ones(2, 3) / 3), "zeros"),
    (lambda lib: lib.nn.functional.nll_loss(lib.ones(()), lib.tensor(1)), "(N, C)"),
    (lambda lib: lib.nn.MSELoss()(lib.ones(4, 3), lib.ones(4, 2)), "(4, 3)"),
    (lambda lib: lib.nn.Linear(2, 2).load_state_dict({"weight": lib.ones(2, 2)}), "state_dict().keys()"),
    (lambda lib: lib.nn.Linear(2, 2).load_state_dict({"weight": lib.ones(3, 2), "bias": lib.ones(2)}), "shapes"),
    (lambda lib: lib.nn.Linear(2, 2).load_state_dict({"weight": lib.ones(2, 2), "bias": lib.ones(2),
                                                      "x": lib.ones(1)}), "checkpoint"),
    (lambda lib: lib.nn.Sequential(lib.nn.ReLU())[3], "holds 1"),
    (lambda lib: lib.nn.Dropout(1.5), "nn.Dropout(0.2)"),
    (lambda lib: lib.nn.Parameter(lib.tensor([1, 2])), "float dtype"),
    (lambda lib: lib.nn.Module()(1), "forward(self, x)"),
    (lambda lib: setattr(lib.nn.Linear(2, 2), "weight", lib.ones(2)), "nn.Parameter(value)"),
]


@pytest.mark.parametrize("case, hint", ERRORS)
def test_errors_are_pytorchs_first_sentence_then_the_fix(torch, case, hint):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            case(torch)
        with pytest.raises(Exception) as ours:
            case(ad)
    assert type(ours.value) is type(theirs.value)
    first_theirs = str(theirs.value).split("\n")[0] if not isinstance(theirs.value, AttributeError) else str(theirs.value)
    text = str(ours.value)
    if isinstance(ours.value, (RuntimeError,)) and "Error(s) in loading" in first_theirs:
        assert text.startswith(str(theirs.value).rstrip())  # the tab-indented lines too
    else:
        assert text.split("\n")[0] == first_theirs.split("\n")[0]
    assert "\n" in text and hint in text.split("\n", 1)[1]


def test_unknown_attribute_and_mse_broadcast_warning_as_pytorch(torch):
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'foo'"):
        nn.Linear(2, 2).foo
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[4\]\)\) that is different"):
        nn.MSELoss()(ad.ones(4, 1), ad.ones(4))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        assert F.softmax(ad.ones(2, 3)).equal(ad.full((2, 3), 1 / 3))


def test_drawings_name_parameters_by_their_path():
    from autodiff_nb.viz import describe
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    loss = model(ad.ones(4, 2)).sum()
    leaves = sorted(n.label for n in describe(loss).find(role="leaf"))
    assert leaves == ["model.0.bias", "model.0.weight", "model.2.bias", "model.2.weight"]
