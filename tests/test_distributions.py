"""autodiff_nb.distributions against torch.distributions: log_prob values and gradients, mean and
variance, shapes of samples, sample statistics within tolerance, printed forms and PyTorch's errors."""
import numpy as np
import pytest

import autodiff_nb as ad
from conftest import raises_as_pytorch
from autodiff_nb.distributions import Bernoulli, Categorical, Multinomial, Normal, Uniform
from autodiff_nb.distributions.multinomial import Multinomial as MultinomialFromModule

pytestmark = pytest.mark.torch

P = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
P2 = np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]], np.float32)


def make(lib, name, param):
    d = lib.distributions
    return {
        "normal": lambda: d.Normal(param, lib.tensor([1.5, 0.5])),
        "uniform": lambda: d.Uniform(param, param + 2.0),
        "bernoulli": lambda: d.Bernoulli(probs=lib.sigmoid(param)),
        "bernoulli_logits": lambda: d.Bernoulli(logits=param),
        "categorical": lambda: d.Categorical(probs=lib.softmax(param, -1)),
        "categorical_logits": lambda: d.Categorical(logits=param),
        "multinomial": lambda: d.Multinomial(5, probs=lib.softmax(param, -1)),
        "multinomial_logits": lambda: d.Multinomial(5, logits=param),
    }[name]()


PARAMS = {"normal": [0.3, -1.0], "uniform": [0.3, -1.0], "bernoulli": [0.3, -1.0], "bernoulli_logits": [0.3, -1.0],
          "categorical": [[0.3, -1.0, 0.5], [1.0, 0.0, 2.0]], "categorical_logits": [[0.3, -1.0, 0.5], [1.0, 0.0, 2.0]],
          "multinomial": [[0.3, -1.0, 0.5], [1.0, 0.0, 2.0]], "multinomial_logits": [[0.3, -1.0, 0.5], [1.0, 0.0, 2.0]]}
VALUES = {"normal": [[0.5, 2.0], [-1.0, 0.0]], "uniform": [1.0, 0.5], "bernoulli": [[1.0, 0.0], [0.0, 0.0]],
          "bernoulli_logits": [1.0, 0.0], "categorical": [[2, 0], [1, 2]], "categorical_logits": [0, 2],
          "multinomial": [[2.0, 0.0, 3.0], [1.0, 1.0, 3.0]], "multinomial_logits": [[5.0, 0.0, 0.0], [0.0, 4.0, 1.0]]}


@pytest.mark.parametrize("name", list(PARAMS))
def test_log_prob_mean_variance_and_gradients_match_pytorch(torch, name):
    theta_a = ad.tensor(PARAMS[name], requires_grad=True)
    theta_t = torch.tensor(PARAMS[name], requires_grad=True)
    dist_a, dist_t = make(ad, name, theta_a), make(torch, name, theta_t)
    lp_a, lp_t = dist_a.log_prob(ad.tensor(VALUES[name])), dist_t.log_prob(torch.tensor(VALUES[name]))
    assert tuple(lp_a.shape) == tuple(lp_t.shape)
    np.testing.assert_allclose(lp_a.detach().numpy(), lp_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    lp_a.sum().backward(), lp_t.sum().backward()
    np.testing.assert_allclose(theta_a.grad.numpy(), theta_t.grad.numpy(), rtol=1e-4, atol=1e-6)
    for stat in ("mean", "variance"):
        np.testing.assert_allclose(getattr(dist_a, stat).detach().numpy(), getattr(dist_t, stat).detach().numpy(),
                                   rtol=1e-5, atol=1e-6, equal_nan=True)
    assert tuple(dist_a.batch_shape) == tuple(dist_t.batch_shape)
    assert tuple(dist_a.event_shape) == tuple(dist_t.event_shape)
    for shape in [(), (3,), (2, 4)]:
        assert tuple(dist_a.sample(shape).shape) == tuple(dist_t.sample(shape).shape)
        assert dist_a.sample(shape).dtype is getattr(ad, str(dist_t.sample(shape).dtype).split(".")[1])


@pytest.mark.parametrize("dist, mean, var", [
    (lambda: Normal(2.0, 3.0), 2.0, 9.0),
    (lambda: Uniform(-1.0, 3.0), 1.0, 16 / 12),
    (lambda: Bernoulli(0.3), 0.3, 0.21),
    (lambda: Categorical(ad.tensor(P)), float((np.arange(4) * P).sum()),
     float((np.arange(4) ** 2 * P).sum() - (np.arange(4) * P).sum() ** 2)),
])
def test_sample_statistics(dist, mean, var):
    ad.manual_seed(0)
    draws = dist().sample((20000,)).numpy().astype(np.float64)
    assert abs(draws.mean() - mean) < 4 * np.sqrt(var / 20000)
    assert abs(draws.var() - var) < 0.05 * var


def test_multinomial_counts_have_the_right_means_and_totals():
    ad.manual_seed(1)
    counts = Multinomial(10, ad.tensor(P)).sample((5000,)).numpy()
    assert counts.shape == (5000, 4) and counts.dtype == np.float32
    assert np.all(counts.sum(-1) == 10) and np.all(counts == np.round(counts))
    np.testing.assert_allclose(counts.mean(0), 10 * P, atol=4 * np.sqrt(10 * 0.25 / 5000))


def test_the_textbooks_die(torch):
    fair_probs = ad.ones(6) / 6
    ad.manual_seed(0)
    roll = MultinomialFromModule(1, fair_probs).sample()
    assert roll.shape == (6,) and roll.sum().item() == 1.0 and set(roll.tolist()) == {0.0, 1.0}
    counts = MultinomialFromModule(1000, fair_probs).sample()
    assert counts.sum().item() == 1000 and abs(counts / 1000 - fair_probs).max().item() < 0.06
    assert MultinomialFromModule(10, fair_probs).sample((3,)).shape == (3, 6)


def test_rsample_is_differentiable_and_seeded():
    loc = ad.tensor(1.0, requires_grad=True)
    scale = ad.tensor(2.0, requires_grad=True)
    ad.manual_seed(0)
    x = Normal(loc, scale).rsample((1000,))
    x.mean().backward()
    assert abs(loc.grad.item() - 1.0) < 1e-6  # d mean(loc + eps scale) / d loc = 1
    ad.manual_seed(0)
    eps = (Normal(loc, scale).rsample((1000,)) - 1.0) / 2.0
    assert abs(scale.grad.item() - eps.mean().item()) < 1e-5
    assert not Normal(loc, scale).sample((3,)).requires_grad


def test_reprs_are_pytorchs(torch):
    for make_dist in [lambda d, lib: d.Normal(0.0, 1.0), lambda d, lib: d.Normal(lib.zeros(2), lib.ones(2)),
                      lambda d, lib: d.Uniform(0.0, 2.0), lambda d, lib: d.Bernoulli(0.5),
                      lambda d, lib: d.Categorical(lib.tensor([0.5, 0.5])),
                      lambda d, lib: d.Multinomial(3, lib.tensor([0.5, 0.5]))]:
        assert repr(make_dist(ad.distributions, ad)) == repr(make_dist(torch.distributions, torch))


ERRORS = [
    lambda lib: lib.distributions.Normal(0.0, -1.0),
    lambda lib: lib.distributions.Bernoulli(1.5),
    lambda lib: lib.distributions.Bernoulli(probs=0.5, logits=0.0),
    lambda lib: lib.distributions.Categorical(lib.tensor([0.5, -0.5])),
    lambda lib: lib.distributions.Uniform(1.0, 0.0),
    lambda lib: lib.distributions.Bernoulli(0.5).log_prob(lib.tensor(0.5)),
    lambda lib: lib.distributions.Categorical(lib.tensor([0.5, 0.5])).log_prob(lib.tensor(2)),
    lambda lib: lib.distributions.Multinomial(2.5, lib.tensor([0.5, 0.5])),
]


@pytest.mark.parametrize("case", ERRORS)
def test_errors_are_pytorchs(torch, case):
    raises_as_pytorch(torch, case)
