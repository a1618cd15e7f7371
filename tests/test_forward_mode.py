"""Forward mode against PyTorch itself: dual numbers (``autograd.forward_ad``), ``func.jvp``,
``jacfwd``/``jacrev``/``hessian``/``vjp``/``linearize`` against ``torch.func``, jacfwd == jacrev on
random programs, both orders of forward and reverse, the forward walk, custom JVPs, and every misuse
with PyTorch's first sentence (taken from PyTorch as it runs) plus our line with the fix.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_nb as ad
import autodiff_nb.autograd.forward_ad as fwAD
from autodiff_nb import forward, func, ops
from autodiff_nb.custom import defjvp, defvjp, primitive
from conftest import close

pytestmark = pytest.mark.torch


def both(torch, values, dtype="float64"):
    """The same values as one of our tensors and one of PyTorch's."""
    array = np.asarray(values, dtype=dtype)
    return ad.tensor(array), torch.tensor(array)


# The same programs on both engines: lib is autodiff_nb or torch.
PROGRAMS = {
    "sin of square": (lambda lib, x: (x ** 2).sin(), [(3,)]),
    "mlp layer": (lambda lib, x, w: lib.tanh(w @ x).sum() * x.exp().mean(), [(3,), (4, 3)]),
    "softmax and log": (lambda lib, x: lib.log_softmax(x, dim=1) * lib.softmax(x * 2, dim=0), [(2, 3)]),
    "shapes and indexing": (lambda lib, x: x.reshape(3, 2).T[1:, [0, 0, 1]].expand(2, 2, 3) * x.sum(), [(2, 3)]),
    "norm max where": (lambda lib, x, y: lib.where(x > 0, x.norm() * y, lib.maximum(x, y)) + x.max(), [(4,), (4,)]),
    "cat stack": (lambda lib, x, y: lib.cat([x, y * y]).sum() * lib.stack([x, y], 1), [(3,), (3,)]),
    "relu clamp pow div": (lambda lib, x, y: (x.relu() + x.clamp(-0.3, 0.3)) ** 2 / (y * y + 1), [(5,), (5,)]),
    "sigmoid sqrt abs": (lambda lib, x: x.sigmoid() * (x.abs() + 1).sqrt() - 1 / (x * x + 1), [(2, 2)]),
}


def inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# ----------------------------------------------------------------------------------- func.jvp
@pytest.mark.parametrize("name", PROGRAMS)
def test_jvp_matches_torch_func_jvp(torch, name):
    f, shapes = PROGRAMS[name]
    xs, vs = inputs(shapes), inputs(shapes, seed=1)
    out, tangent = func.jvp(lambda *a: f(ad, *a), tuple(map(ad.tensor, xs)), tuple(map(ad.tensor, vs)))
    ref_out, ref_tangent = torch.func.jvp(lambda *a: f(torch, *a), tuple(map(torch.tensor, xs)),
                                          tuple(map(torch.tensor, vs)))
    close(out, ref_out)
    close(tangent, ref_tangent)
    assert tangent.dtype == ad.float64 and tuple(tangent.shape) == tuple(ref_tangent.shape)


def test_jvp_with_aux_and_tuple_outputs_like_torch(torch):
    def program(lib, x):
        return (x.sin(), x.sum() * 2), {"aux": x * 3}
    ours = func.jvp(lambda x: program(ad, x), (ad.tensor([1., 2.]),), (ad.tensor([1., -1.]),), has_aux=True)
    ref = torch.func.jvp(lambda x: program(torch, x), (torch.tensor([1., 2.]),), (torch.tensor([1., -1.]),),
                         has_aux=True)
    for mine, theirs in zip(ours[0] + ours[1], ref[0] + ref[1]):
        close(mine, theirs)
    close(ours[2]["aux"], ref[2]["aux"])
    assert fwAD.unpack_dual(ours[2]["aux"]).tangent is None  # the level is closed


def test_jvp_of_an_output_that_does_not_depend_on_the_input_is_zeros(torch):
    out, tangent = func.jvp(lambda x: ad.ones(2) * 3, (ad.tensor([1.]),), (ad.tensor([1.]),))
    ref = torch.func.jvp(lambda x: torch.ones(2) * 3, (torch.tensor([1.]),), (torch.tensor([1.]),))
    close(tangent, ref[1])
    assert tangent.tolist() == [0., 0.]


# ----------------------------------------------------------------------------------- dual numbers
def test_dual_numbers_print_and_unpack_as_pytorchs(torch):
    results = {}
    for lib, fw in ((ad, fwAD), (torch, torch.autograd.forward_ad)):
        x, t = lib.tensor([1., 2., 3.]), lib.tensor([1., 0., 0.])
        w = lib.tensor([1., 2.], requires_grad=True)
        with fw.dual_level() as level:
            d = fw.make_dual(x, t)
            dw = fw.make_dual(w, lib.ones(2))
            unpacked = fw.unpack_dual(d * d)
            s = fw.make_dual(lib.tensor(2.), lib.tensor(1.))
            results[lib.__name__] = dict(
                level=level, dual=repr(d), square=repr(unpacked), fields=type(unpacked)._fields,
                same_tangent=fw.unpack_dual(d).tangent is t, scalar=repr(s * 3), leaf_view=repr(dw),
                plain=repr(fw.unpack_dual(x)), matrix=repr(fw.make_dual(lib.ones(2, 2), lib.ones(2, 2))),
                mixed=repr(lib.arange(3) + d), compare=repr(fw.unpack_dual(d > 1)),
                recorded_primal=repr(fw.unpack_dual(dw * 2).primal), recorded_plain=repr(fw.unpack_dual(w * 2)),
                plain_is_itself=fw.unpack_dual(x).primal is x)
        results[lib.__name__]["after"] = (repr(fw.unpack_dual(d)), repr(d))
    assert results["autodiff_nb"] == results["torch"]


def test_tangents_follow_in_place_ops_under_no_grad_and_views_like_pytorch(torch):
    seen = {}
    for lib, fw in ((ad, fwAD), (torch, torch.autograd.forward_ad)):
        x, t = lib.tensor([1., 2., 3.]), lib.tensor([1., 2., 3.])
        steps = []
        with fw.dual_level():
            d = fw.make_dual(x, t)
            with lib.no_grad():
                d.mul_(2)
            steps.append(repr((fw.unpack_dual(d), t.tolist(), x.tolist())))  # the tangent given changes in place too
            z = lib.zeros(3)
            with lib.no_grad():
                z.add_(d)  # a tangent coming in: z gets one
            steps.append(repr(fw.unpack_dual(z)))
            v = d[1:]
            v.mul_(3)  # through a view: the base's values and tangent change
            steps.append(repr((fw.unpack_dual(d), fw.unpack_dual(v))))
            y = d * 1
            y[0] = d[2] * 5  # item assignment
            y.clamp_(0, 20)
            steps.append(repr(fw.unpack_dual(y)))
            d.zero_()
            steps.append(repr(fw.unpack_dual(d)))
        seen[lib.__name__] = steps
    assert seen["autodiff_nb"] == seen["torch"]


def test_a_closed_level_drops_every_tangent_and_the_next_level_starts_clean(torch):
    x = ad.tensor([1., 2.])
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ad.ones(2))
    with fwAD.dual_level():
        assert fwAD.unpack_dual(d).tangent is None
        assert repr(d * 2) == "tensor([2., 4.])"


# ----------------------------------------------------------------------------------- Jacobians
@pytest.mark.parametrize("name", PROGRAMS)
def test_jacfwd_jacrev_and_hessian_match_torch_func(torch, name):
    f, shapes = PROGRAMS[name]
    xs = inputs(shapes)
    nums = tuple(range(len(xs)))
    for ours, theirs in ((func.jacfwd, torch.func.jacfwd), (func.jacrev, torch.func.jacrev)):
        mine = ours(lambda *a: f(ad, *a), argnums=nums)(*map(ad.tensor, xs))
        ref = theirs(lambda *a: f(torch, *a), argnums=nums)(*map(torch.tensor, xs))
        for m, r in zip(mine, ref):
            assert tuple(m.shape) == tuple(r.shape)
            close(m, r)
    scalar = (lambda lib, *a: (f(lib, *a) ** 2).sum())
    mine = func.hessian(lambda *a: scalar(ad, *a), argnums=nums)(*map(ad.tensor, xs))
    ref = torch.func.hessian(lambda *a: scalar(torch, *a), argnums=nums)(*map(torch.tensor, xs))
    for row, ref_row in zip(mine, ref):
        for m, r in zip(row, ref_row):
            assert tuple(m.shape) == tuple(r.shape)
            close(m, r, tol=1e-8)


def test_jacfwd_with_has_aux_and_an_int_argnum_like_torch(torch):
    mine, aux = func.jacfwd(lambda x: (x * 2, {"a": x.sin()}), has_aux=True)(ad.tensor([1., 2.]))
    ref, ref_aux = torch.func.jacfwd(lambda x: (x * 2, {"a": x.sin()}), has_aux=True)(torch.tensor([1., 2.]))
    close(mine, ref)
    close(aux["a"], ref_aux["a"])
    mine, aux = func.jacrev(lambda x: (x * 2, x.cos()), has_aux=True)(ad.tensor([1., 2.]))
    ref, ref_aux = torch.func.jacrev(lambda x: (x * 2, x.cos()), has_aux=True)(torch.tensor([1., 2.]))
    close(mine, ref)
    close(aux, ref_aux)


def test_hessian_is_jacfwd_of_jacrev_and_agrees_with_reverse_over_reverse():
    f = lambda x: (x.exp() * x.sin()).sum() * (x @ x)  # noqa: E731
    x = ad.tensor(np.random.default_rng(3).standard_normal(4))
    by_forward = func.hessian(f)(x)
    by_reverse = func.jacrev(func.grad(f))(x)
    close(by_forward, by_reverse, tol=1e-5)


def test_vjp_and_linearize_match_torch_func(torch):
    f = (lambda lib, x, w: lib.tanh(w @ x) * x.sum())
    xs = inputs([(3,), (4, 3)])
    u = np.random.default_rng(5).standard_normal(4)
    out, vjp_fn = func.vjp(lambda *a: f(ad, *a), *map(ad.tensor, xs))
    ref_out, ref_fn = torch.func.vjp(lambda *a: f(torch, *a), *map(torch.tensor, xs))
    close(out, ref_out)
    for m, r in zip(vjp_fn(ad.tensor(u)), ref_fn(torch.tensor(u))):
        close(m, r)
    for m, r in zip(vjp_fn(ad.tensor(2 * u)), ref_fn(torch.tensor(2 * u))):  # vjp_fn can be called again
        close(m, r)
    g = lambda lib, x: (x ** 3).sin() * x.sum()  # noqa: E731
    out, jvp_fn = func.linearize(lambda x: g(ad, x), ad.tensor(xs[0]))
    ref_out, ref_fn = torch.func.linearize(lambda x: g(torch, x), torch.tensor(xs[0]))
    close(out, ref_out)
    for v in inputs([(3,), (3,)], seed=7):
        close(jvp_fn(ad.tensor(v)), ref_fn(torch.tensor(v)))


@st.composite
def programs(draw):
    """A random chain of elementwise, matrix and shape ops on one vector input: a list of steps."""
    return draw(st.lists(st.sampled_from(["sin", "exp_small", "square", "mul_w", "add_x", "tanh", "softmax",
                                          "cumulate", "reverse", "sigmoid", "sum_times"]), min_size=1, max_size=6))


def run_program(steps, x, w):
    y = x
    for step in steps:
        if step == "sin":
            y = y.sin()
        elif step == "exp_small":
            y = (y * 0.1).exp()
        elif step == "square":
            y = y * y
        elif step == "mul_w":
            y = w @ y
        elif step == "add_x":
            y = y + x
        elif step == "tanh":
            y = y.tanh()
        elif step == "softmax":
            y = y.softmax(0)
        elif step == "cumulate":
            y = ad.stack([y[: i + 1].sum() for i in range(len(y))])
        elif step == "reverse":
            y = y[[2, 1, 0]]
        elif step == "sigmoid":
            y = y.sigmoid()
        else:
            y = y.sum() * y
    return y


@settings(max_examples=40, deadline=None)
@given(steps=programs(), seed=st.integers(0, 2**32 - 1))
def test_jacfwd_equals_jacrev_on_random_programs(steps, seed):
    rng = np.random.default_rng(seed)
    x, w = ad.tensor(rng.standard_normal(3)), ad.tensor(rng.standard_normal((3, 3)))
    by_forward = func.jacfwd(lambda x, w: run_program(steps, x, w), argnums=(0, 1))(x, w)
    by_reverse = func.jacrev(lambda x, w: run_program(steps, x, w), argnums=(0, 1))(x, w)
    for m, r in zip(by_forward, by_reverse):
        close(m, r, tol=1e-9)


# ----------------------------------------------------------------------------------- orders
def test_gradient_of_a_jvp_is_reverse_over_forward(torch):
    f = lambda lib, x: (x.sin() * x).exp()  # noqa: E731
    v = np.array([1., -2., 0.5])

    def ours(x):
        return func.jvp(lambda y: f(ad, y), (x,), (ad.tensor(v),))[1].sum()

    def theirs(x):
        return torch.func.jvp(lambda y: f(torch, y), (x,), (torch.tensor(v),))[1].sum()
    x = np.array([0.3, -0.4, 1.1])
    close(func.grad(ours)(ad.tensor(x)), torch.func.grad(theirs)(torch.tensor(x)))


def test_a_jvp_of_a_gradient_is_a_hessian_vector_product(torch):
    f = lambda x: (x.tanh() ** 3).sum() * x.norm()  # noqa: E731
    x, v = both(torch, [0.3, -0.4, 1.1])[0], both(torch, [1., 2., 3.])[0]
    _, hv = func.jvp(func.grad(f), (x,), (v,))
    close(hv, func.hessian(f)(x) @ v)
    tx, tv = torch.tensor([0.3, -0.4, 1.1], dtype=torch.float64), torch.tensor([1., 2., 3.], dtype=torch.float64)
    close(hv, torch.func.jvp(torch.func.grad(lambda x: (x.tanh() ** 3).sum() * x.norm()), (tx,), (tv,))[1])


def test_hessian_of_a_tracked_input_stays_differentiable():
    x = ad.tensor([0.5, -1.0], requires_grad=True)
    h = func.hessian(lambda t: (t ** 4).sum())(x)  # 12 x² on the diagonal
    assert h.requires_grad
    (h * ad.eye(2)).sum().backward()
    close(x.grad, 24 * x.detach())


# ----------------------------------------------------------------------------------- the forward walk
def test_forward_walk_steps_the_record_in_order_with_each_terms_words():
    x = ad.tensor([1., 2.], requires_grad=True)
    y = (x * x).sin().sum()
    steps = list(forward.walk([y.grad_fn], {x: np.array([1., 0.])}, ops.NumpyMath))
    assert [node.name() for node, _, _ in steps] == ["MulBackward0", "SinBackward0", "SumBackward0"]
    assert [node.seq for node, _, _ in steps] == sorted(node.seq for node, _, _ in steps)
    assert [[words for _, _, words in terms] for _, _, terms in steps] == [
        ["{t} · {b}", "{a} · {t}"], ["{t} · cos({x})"], ["sum({t})"]]
    close(steps[-1][1], 2 * np.cos(1.0), tol=1e-6)
    with fwAD.dual_level():  # the walk and the live tangents are the same JVPs
        d = fwAD.make_dual(ad.tensor([1., 2.]), ad.tensor([1., 0.]))
        close(fwAD.unpack_dual((d * d).sin().sum()).tangent, steps[-1][1])


# ----------------------------------------------------------------------------------- custom ops
def test_custom_op_gets_a_jvp_in_jaxs_form_and_agrees_with_its_vjp():
    @primitive
    def scaled_product(x, y):
        return 3 * x * y

    defvjp(scaled_product, lambda g, ans, x, y: 3 * g * y, lambda g, ans, x, y: 3 * g * x)
    x, y = ad.tensor([1., 2.]), ad.tensor([3., -1.])
    with pytest.raises(NotImplementedError) as caught:
        func.jvp(scaled_product, (x, y), (ad.ones(2), ad.ones(2)))
    assert "defjvp(" in str(caught.value).splitlines()[1]
    defjvp(scaled_product, lambda primals, tangents: (3 * primals[0] * primals[1],
                                                      3 * (tangents[0] * primals[1] + primals[0] * tangents[1])))
    close(func.jacfwd(scaled_product, argnums=(0, 1))(x, y)[0], func.jacrev(scaled_product, argnums=(0, 1))(x, y)[0])
    _, tangent = func.jvp(scaled_product, (x, y), (ad.tensor([1., 0.]), ad.tensor([0., 1.])))
    close(tangent, [9., 6.])


# ----------------------------------------------------------------------------------- misuse
def message_from_torch(torch, action):
    with pytest.raises(Exception) as caught:
        action(torch, torch.autograd.forward_ad)
    return type(caught.value), str(caught.value)


MISUSES = {
    "make_dual outside a level": lambda lib, fw: fw.make_dual(lib.ones(3), lib.ones(3)),
    "tangent of another shape": lambda lib, fw: _in_level(fw, lambda: fw.make_dual(lib.ones(3), lib.ones(2))),
    "integer tangent": lambda lib, fw: _in_level(fw, lambda: fw.make_dual(lib.ones(3), lib.ones(3, dtype=lib.int64))),
    "integer primal": lambda lib, fw: _in_level(fw, lambda: fw.make_dual(lib.arange(3), lib.ones(3))),
    "a dual made twice": lambda lib, fw: _in_level(fw, lambda: fw.make_dual(fw.make_dual(lib.ones(2), lib.ones(2)),
                                                                          lib.ones(2))),
    "nested levels": lambda lib, fw: _in_level(fw, lambda: _in_level(fw, lambda: None)),
    "unpack a number": lambda lib, fw: _in_level(fw, lambda: fw.unpack_dual(3.0)),
    "jvp without tuples": lambda lib, fw: lib.func.jvp(lambda x: x, lib.ones(2), lib.ones(2)),
    "jvp with too few tangents": lambda lib, fw: lib.func.jvp(lambda x, y: x, (lib.ones(2), lib.ones(2)),
                                                              (lib.ones(2),)),
    "jvp of a number": lambda lib, fw: lib.func.jvp(lambda x: 3.0, (lib.ones(2),), (lib.ones(2),)),
    "jvp inside a level": lambda lib, fw: _in_level(fw, lambda: lib.func.jvp(lambda x: x, (lib.ones(2),),
                                                                            (lib.ones(2),))),
    "jacfwd of an int": lambda lib, fw: lib.func.jacfwd(lambda x: x * 2)(lib.arange(3)),
    "argnum out of range": lambda lib, fw: lib.func.jacfwd(lambda x: x * 2, argnums=1)(lib.ones(2)),
    "has_aux without a pair": lambda lib, fw: lib.func.jvp(lambda x: x, (lib.ones(2),), (lib.ones(2),),
                                                           has_aux=True),
    "linearize tangent shape": lambda lib, fw: lib.func.linearize(lambda x: x.sin(), lib.ones(3))[1](lib.ones(2)),
}


def _in_level(fw, action):
    with fw.dual_level():
        return action()


@pytest.mark.parametrize("name", MISUSES)
def test_misuse_gives_pytorchs_sentence_then_the_fix_and_the_engine_keeps_working(torch, name):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kind, theirs = message_from_torch(torch, MISUSES[name])
    with pytest.raises(kind) as caught:
        MISUSES[name](ad, fwAD)
    ours = str(caught.value)
    assert ours.splitlines()[0] == theirs.splitlines()[0]
    fix = ours.splitlines()[-1]
    assert ours == theirs.rstrip() + "\n" + fix or ours.count("\n") == 1, "more than PyTorch's text and one line"
    assert fix and fix not in theirs, "our line with the fix is missing"
    # afterwards: no level is left open, and forward mode still works
    assert fwAD.unpack_dual(ad.ones(1)).tangent is None
    out, tangent = func.jvp(lambda x: x.sin(), (ad.tensor([0.]),), (ad.tensor([2.]),))
    close(tangent, [2.])
    with fwAD.dual_level():
        close(fwAD.unpack_dual(fwAD.make_dual(ad.tensor([1.]), ad.tensor([1.])) * 3).tangent, [3.])


VIEW_CHANGES = {
    "slice_then_add_dual": (lambda v, o: v.add_(o), lambda b: b[1:, :2]),
    "row_mul_dual": (lambda v, o: v.mul_(o), lambda b: b[0]),
    "transpose_copy": (lambda v, o: v.copy_(o), lambda b: b.t()),
    "reshape_sub": (lambda v, o: v.sub_(o), lambda b: b.reshape(-1)),
    "view_of_view_div": (lambda v, o: v.div_(o), lambda b: b[:, 1:][1:]),
    "unsqueeze_clamp": (lambda v, o: v.clamp_(-0.5, 0.5).add_(o), lambda b: b.unsqueeze(0)),
}


@pytest.mark.parametrize("base_tangent", [True, False], ids=["dual_base", "plain_base"])
@pytest.mark.parametrize("records", [False, True], ids=["no_grad_leaf", "recorded"])
@pytest.mark.parametrize("name", VIEW_CHANGES)
def test_in_place_through_a_view_moves_base_and_view_tangents_like_pytorch(torch, name, records, base_tangent):
    """A base (with a tangent or without), changed in place through a view by a value with its own
    tangent: the base's and the view's primals and tangents after it, as torch.autograd.forward_ad
    gives them (None where PyTorch has none)."""
    change, view_of = VIEW_CHANGES[name]
    seen = {}
    for lib, fw in ((ad, fwAD), (torch, torch.autograd.forward_ad)):
        rng = np.random.default_rng(len(name))
        w = lib.tensor(rng.standard_normal((3, 3)), requires_grad=records)
        with fw.dual_level():
            b = w * 1 if records else w.clone()
            if base_tangent:
                b = fw.make_dual(b, lib.tensor(rng.standard_normal((3, 3))))
            v = view_of(b)
            shape = tuple(v.shape)
            other = fw.make_dual(lib.tensor(rng.standard_normal(shape) + 3.0),
                                 lib.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape)))
            change(v, other)
            seen[lib.__name__] = [None if a is None else a.detach().numpy().copy()
                                  for pair in (fw.unpack_dual(b), fw.unpack_dual(v)) for a in pair]
    for ours, theirs in zip(seen["autodiff_nb"], seen["torch"]):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["relu", "abs", "sign", "clamp"])
def test_tangents_at_nan_and_zero_are_pytorchs(torch, op):
    """Where an op has no derivative (0) or its input is NaN, the tangent is PyTorch's convention."""
    values = [float("nan"), -1.0, -0.0, 0.0, 2.0]
    seen = {}
    for lib in (ad, torch):
        f = {"relu": lambda a: a.relu(), "abs": lambda a: a.abs(), "sign": lambda a: a.sign(),
             "clamp": lambda a: a.clamp(-1.0, 0.0)}[op]
        _, tangent = lib.func.jvp(f, (lib.tensor(values),), (lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0]),))
        seen[lib.__name__] = tangent.numpy()
    np.testing.assert_array_equal(seen["autodiff_nb"], seen["torch"])
