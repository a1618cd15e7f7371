"""autodiff_nb.indexing against real PyTorch: PyTorch's x[key], x[key] = v, the gradient of x[key],
grad_fn names and index errors, on numpy arrays.

The engine does not call this module yet; these tests reach it through ``ours_index`` /
``ours_setitem`` / ``ours_scatter_add``. The same checks through ``x[key]`` on autodiff_nb tensors are
in ``tests/indexing_wired_cases.py`` (not collected), to be switched on once the engine is wired.

Keys are random (seeded) and compared one by one with PyTorch: either both give the same values and
shape, or both raise the same exception type with the same first sentence.
"""
import warnings

import numpy as np
import pytest

from autodiff_nb import indexing

pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore::UserWarning")]

SEEDS = range(500)


# ------------------------------------------------------------------------------------------- keys
class Part:
    """One part of a key, turned into our key (numpy arrays) or PyTorch's (torch tensors)."""

    def __init__(self, value, tensor=False):
        self.value, self.tensor = value, tensor

    def ours(self):
        return np.asarray(self.value) if self.tensor else self.value

    def theirs(self, torch):
        return torch.tensor(self.value) if self.tensor else self.value

    def __repr__(self):
        return f"tensor({self.value!r})" if self.tensor else repr(self.value)


def random_shape(rng):
    ndim = rng.choice([0, 1, 2, 3, 3, 4])
    return tuple(int(n) for n in rng.integers(1, 5, size=ndim))


def random_key(rng, shape, errors=True):
    """A random key for an array of ``shape``: mostly valid, sometimes (``errors``) not.
    Returns (parts, single): ``single`` means the key is one part, not a tuple."""
    ndim = len(shape)
    common = [(2,), (3,), (2, 3), (1,), (3, 1)][rng.integers(5)]
    bad = errors and rng.random() < 0.15
    parts, dim, ellipsis = [], 0, False
    for _ in range(rng.integers(1, ndim + 3)):
        size = shape[dim] if dim < ndim else 2
        kind = rng.choice(["int", "slice", "none", "ellipsis", "list", "array", "mask", "bool", "int0d"],
                          p=[.2, .2, .08, .07, .13, .14, .08, .04, .06])
        if kind == "int":
            parts.append(Part(int(rng.integers(-size - bad, size + bad))))
        elif kind == "int0d":
            parts.append(Part(int(rng.integers(-size, size)), tensor=True))
        elif kind == "slice":
            ends = [None, *range(-size - 1, size + 2)]
            step = [None, 1, 2, 3, -1 if bad else 1][rng.integers(5)]
            parts.append(Part(slice(ends[rng.integers(len(ends))], ends[rng.integers(len(ends))], step)))
        elif kind == "none":
            parts.append(Part(None))
            continue
        elif kind == "ellipsis":
            if ellipsis:
                continue
            parts.append(Part(Ellipsis))
            ellipsis = True
            continue
        elif kind in ("list", "array"):
            index_shape = [common, common[-1:], (1,)][rng.integers(3)]
            values = rng.integers(-size - bad, size + bad, size=index_shape)
            if kind == "list":
                parts.append(Part(values.tolist()))
            else:
                dtype = [np.int64, np.int32, np.float32 if bad else np.int64][rng.integers(3)]
                parts.append(Part(values.astype(dtype), tensor=True))
        elif kind == "mask":
            k = 1 if rng.random() < 0.7 or dim + 1 >= ndim else 2
            mask_shape = tuple(shape[dim:dim + k]) or (2,)
            if bad:
                mask_shape = tuple(n + 1 for n in mask_shape)
            parts.append(Part(rng.random(mask_shape) < 0.6, tensor=True))
            dim += k
            continue
        elif kind == "bool":
            parts.append(Part(bool(rng.random() < 0.7)))
            continue
        dim += 1
    single = len(parts) == 1 and rng.random() < 0.5
    return parts, single


def key_for(parts, single, torch=None):
    made = [p.theirs(torch) if torch is not None else p.ours() for p in parts]
    return made[0] if single else tuple(made)


def cases(errors=True):
    """(seed, shape, parts, single) for each seed: the same keys for every test."""
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        shape = random_shape(rng)
        parts, single = random_key(rng, shape, errors)
        yield seed, shape, parts, single


def outcome(run):
    """('ok', value) or ('error', exception type, first line of its message)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", run()
    except (IndexError, ValueError, RuntimeError, TypeError) as error:
        return "error", type(error), str(error).split("\n")[0]


def arange(shape):
    return np.arange(1.0, 1.0 + int(np.prod(shape))).reshape(shape)


# ------------------------------------------------------------------------------- the local helpers
# The engine will call these through functions.index / inplace.setitem once wired.
def ours_index(a, key):
    return indexing.index(a, key)


def ours_setitem(a, key, value):
    indexing.setitem(a, key, value)
    return a


def ours_scatter_add(g, shape, key):
    return indexing.scatter_add(g, shape, key)


def assert_same_outcome(ours, theirs, context):
    assert ours[0] == theirs[0], f"{context}: ours {ours}, PyTorch {theirs}"
    if ours[0] == "error":
        assert ours[1:] == theirs[1:], f"{context}: ours {ours[1:]}, PyTorch {theirs[1:]}"


# ------------------------------------------------------------------------------------- x[key]
def test_the_issue_key_gives_pytorchs_shape_and_values(torch):
    x = np.arange(24.0).reshape(2, 3, 4)
    ours = ours_index(x, (0, slice(None), [0, 1]))
    assert ours.shape == (3, 2)
    assert np.array_equal(ours, torch.tensor(x)[0, :, [0, 1]].numpy())


def test_a_range_indexes_as_its_list_as_in_the_textbooks_loss(torch):
    x = np.arange(24.0).reshape(4, 6)
    for key in [(range(4), [0, 5, 1, 2]), range(1, 4, 2), (slice(None), range(3)), range(0)]:
        assert np.array_equal(ours_index(x, key), torch.tensor(x)[key].numpy())


def test_square_shapes_are_not_silently_transposed(torch):
    x = np.arange(27.0).reshape(3, 3, 3)
    key = (1, slice(None), [0, 1, 2])
    assert np.array_equal(ours_index(x, key), torch.tensor(x)[key].numpy())
    assert not np.array_equal(ours_index(x, key), x[key])  # numpy's placement is the transpose here


def test_an_int_between_index_lists_keeps_them_adjacent(torch):
    x = np.arange(120.0).reshape(2, 3, 4, 5)
    key = (slice(None), [0, 1], 0, [0, 1])
    assert ours_index(x, key).shape == tuple(torch.tensor(x)[key].shape) == (2, 2)


def test_index_lists_apart_put_their_dims_first(torch):
    x = np.arange(120.0).reshape(2, 3, 4, 5)
    key = (slice(None), [0, 1], slice(None), [0, 1])
    assert ours_index(x, key).shape == tuple(torch.tensor(x)[key].shape) == (2, 2, 4)


def test_a_list_of_lists_is_read_as_a_tuple_as_in_pytorch(torch):
    x = np.arange(24.0).reshape(2, 3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.tensor(x)[[[0, 1], [1, 0]]].numpy()
        assert np.array_equal(ours_index(x, [[0, 1], [1, 0]]), expected)


def test_picking_one_element_is_a_0d_view():
    x = np.arange(6.0).reshape(2, 3)
    element = ours_index(x, (1, 2))
    assert type(element) is np.ndarray and element.shape == () and np.shares_memory(element, x)


@pytest.mark.parametrize("seed, shape, parts, single", list(cases()), ids=lambda v: "")
def test_random_keys_give_pytorchs_values_or_error(torch, seed, shape, parts, single):
    x = arange(shape)
    ours = outcome(lambda: ours_index(x, key_for(parts, single)))
    theirs = outcome(lambda: torch.tensor(x)[key_for(parts, single, torch)].numpy())
    assert_same_outcome(ours, theirs, f"x{shape}[{parts}]")
    if ours[0] == "ok":
        assert ours[1].shape == theirs[1].shape, f"x{shape}[{parts}]"
        assert np.array_equal(ours[1], theirs[1]), f"x{shape}[{parts}]"
        assert indexing.result_shape(shape, key_for(parts, single)) == theirs[1].shape


def test_most_random_keys_are_valid(torch):
    valid = sum(outcome(lambda: ours_index(arange(shape), key_for(parts, single)))[0] == "ok"
                for _, shape, parts, single in cases())
    assert valid > len(SEEDS) / 2  # the comparison above exercises results, not only errors


# ------------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("seed, shape, parts, single", list(cases(errors=False)), ids=lambda v: "")
def test_scatter_add_is_pytorchs_gradient_of_indexing(torch, seed, shape, parts, single):
    x = arange(shape)
    key = key_for(parts, single)
    if outcome(lambda: ours_index(x, key))[0] != "ok":
        return
    t = torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = t[key_for(parts, single, torch)]
    g = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    y.backward(torch.tensor(g))
    assert np.allclose(ours_scatter_add(g, shape, key), t.grad.numpy(), atol=1e-12), f"x{shape}[{parts}]"
    # the adjoint identity <index(x), g> == <x, scatter_add(g)>, which makes it the VJP
    assert np.isclose(np.sum(ours_index(x, key) * g), np.sum(x * ours_scatter_add(g, shape, key)))
    assert indexing.grad_fn_name(key, shape) == y.grad_fn.name(), f"x{shape}[{parts}]"


def test_repeated_indices_add_up_in_the_gradient():
    assert ours_scatter_add(np.ones(4), (3,), ([0, 2, 0, 0],)).tolist() == [3.0, 0.0, 1.0]


def test_gradient_of_the_issue_key_lands_where_pytorch_puts_it(torch):
    x = torch.arange(24.0).reshape(2, 3, 4).requires_grad_()
    g = np.arange(6.0).reshape(3, 2)
    x[0, :, [0, 1]].backward(torch.tensor(g, dtype=torch.float32))
    assert np.array_equal(ours_scatter_add(g, (2, 3, 4), (0, slice(None), [0, 1])), x.grad.numpy())


@pytest.mark.parametrize("key, name", [
    (0, "SelectBackward0"), (slice(None), "SliceBackward0"), ((slice(None),), "AliasBackward0"),
    ((slice(0, 9),), "AliasBackward0"), (None, "UnsqueezeBackward0"), ((None, 0), "SelectBackward0"),
    ((0, slice(None), slice(0, 4)), "SelectBackward0"), (..., "AliasBackward0"), ((), "AliasBackward0"),
    (True, "IndexBackward0"), ([0], "IndexBackward0"), ((0, slice(1)), "SliceBackward0")])
def test_grad_fn_names_are_pytorchs(torch, key, name):
    t = torch.arange(24.0).reshape(2, 3, 4).requires_grad_()
    assert t[key].grad_fn.name() == name
    assert indexing.grad_fn_name(key, (2, 3, 4)) == name


# ------------------------------------------------------------------------------------- x[key] = v
def random_value(rng, target, bad):
    """A value for x[key] = value: the target shape, a shape that broadcasts to it, or (bad) not."""
    shape = list(target)
    choice = rng.integers(6)
    if choice == 0:
        return float(rng.integers(100, 200))
    if choice == 1 and shape:
        shape = shape[rng.integers(len(shape) + 1):]
    if choice == 2:
        shape = [1 if rng.random() < 0.4 else n for n in shape]
    if choice == 3:
        shape = [1, *shape]
    if bad and shape and rng.random() < 0.5:
        shape[rng.integers(len(shape))] += 1
    if bad and rng.random() < 0.3:
        shape = [2, *shape]
    return 100.0 + np.arange(int(np.prod(shape))).reshape(shape)


def has_repeats(key):
    # which of several writes to one element wins is unspecified in PyTorch
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (list, np.ndarray)) and np.asarray(k).dtype != bool and np.asarray(k).size > 1
               for k in parts)


@pytest.mark.parametrize("seed, shape, parts, single", list(cases()), ids=lambda v: "")
def test_random_assignments_write_what_pytorch_writes(torch, seed, shape, parts, single):
    rng = np.random.default_rng(10_000 + seed)
    x = arange(shape)
    key = key_for(parts, single)
    target = outcome(lambda: ours_index(x, key))
    if target[0] != "ok" or has_repeats(key):
        return
    value = random_value(rng, target[1].shape, bad=rng.random() < 0.3)

    def theirs():
        t = torch.tensor(x)
        t[key_for(parts, single, torch)] = value if isinstance(value, float) else torch.tensor(value)
        return t.numpy()

    ours = outcome(lambda: ours_setitem(x.copy(), key, value))
    theirs = outcome(theirs)
    context = f"x{shape}[{parts}] = value of shape {np.shape(value)}"
    assert_same_outcome(ours, theirs, context)
    if ours[0] == "ok":
        assert np.array_equal(ours[1], theirs[1]), context


def test_the_issue_assignment_writes_pytorchs_elements(torch):
    x, t = np.zeros((2, 3, 4)), torch.zeros(2, 3, 4, dtype=torch.float64)
    ours_setitem(x, (0, slice(None), [0, 1]), np.array([1.0, 2.0]))
    t[0, :, [0, 1]] = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert np.array_equal(x, t.numpy())


def test_assignment_through_a_mask_of_a_scalar(torch):
    x = np.arange(6.0)
    ours_setitem(x, x > 2, 0.0)
    assert x.tolist() == [0.0, 1.0, 2.0, 0.0, 0.0, 0.0]


# ------------------------------------------------------------------------------------- errors
ERROR_CASES = [
    ((3,), (0, 0)), ((3,), 5), ((2, 3, 4), (0, 5)), ((2, 3, 4), (None, 0, [1, -9, 5])),
    ((3,), np.array([1.0])), ((3,), np.array([1], dtype=np.int16)), ((2, 3, 4), np.array([True, False, True])),
    ((3,), slice(None, None, -1)), ((3,), slice(None, None, 0)), ((2, 3, 4), (None, np.ones((2, 4), bool))),
    ((), 0), ((), slice(None)), ((), [0]), ((3,), 0.5), ((2, 3, 4), ([0, 1], [0, 1, 2])),
]


@pytest.mark.parametrize("shape, key", ERROR_CASES, ids=lambda v: "")
def test_index_errors_are_pytorchs(torch, shape, key):
    x = arange(shape)
    theirs_key = tuple(torch.tensor(k) if isinstance(k, np.ndarray) else k for k in key) \
        if isinstance(key, tuple) else (torch.tensor(key) if isinstance(key, np.ndarray) else key)
    ours, theirs = outcome(lambda: ours_index(x, key)), outcome(lambda: torch.tensor(x)[theirs_key])
    assert theirs[0] == "error"
    assert_same_outcome(ours, theirs, f"x{shape}[{key!r}]")


def test_index_errors_add_a_line_with_the_shapes_and_the_fix():
    with pytest.raises(IndexError) as info:
        ours_index(np.zeros(3), (0, 0))
    first, second = str(info.value).split("\n")
    assert first == "too many indices for tensor of dimension 1"
    assert "(3,)" in second


ASSIGNMENT_ERRORS = [
    ((2, 3, 4), (0, slice(None), [0, 1]), (3,)), ((2, 3, 4), (0, slice(None), [0, 1]), (1, 2, 3)),
    ((2, 3, 4), (0,), (2,)), ((2, 3, 4), (0,), (2, 3, 4)), ((2, 3, 4), ..., (5,)), ((), ..., (5,)),
    ((2, 3, 4), (np.array([True, False]),), (2, 3, 4)), ((2, 3, 4), ([0, 1],), (2, 4)),
]


@pytest.mark.parametrize("shape, key, value_shape", ASSIGNMENT_ERRORS, ids=lambda v: "")
def test_assignment_shape_errors_are_pytorchs(torch, shape, key, value_shape):
    value = np.ones(value_shape, dtype=np.float32)

    def theirs():
        t = torch.zeros(shape)
        t[tuple(torch.tensor(k) if isinstance(k, np.ndarray) else k for k in key)
          if isinstance(key, tuple) else key] = torch.tensor(value)

    ours, theirs = outcome(lambda: ours_setitem(np.zeros(shape, np.float32), key, value)), outcome(theirs)
    assert theirs[0] == "error" and theirs[1] is RuntimeError
    assert_same_outcome(ours, theirs, f"x{shape}[{key!r}] = value of shape {value_shape}")


# ------------------------------------------------------------------------------------- normalize_key
def test_normalize_key_turns_lists_into_arrays_and_keeps_tuples():
    key = indexing.normalize_key((0, [1, 2], slice(None)))
    assert isinstance(key, tuple) and key[0] == 0 and key[1].tolist() == [1, 2]
    assert indexing.normalize_key([]).dtype == np.int64
    assert indexing.normalize_key(slice(1)) == slice(1)


def test_normalize_key_reads_tensors_by_their_array():
    class FakeTensor:  # the engine's Tensor, duck-typed: this module imports nothing of the engine
        def __init__(self, array):
            self.array = np.asarray(array)

    key = indexing.normalize_key((FakeTensor(1), FakeTensor([0, 2])))
    assert key[0] == 1 and isinstance(key[0], np.integer) and key[1].tolist() == [0, 2]
