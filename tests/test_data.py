"""autodiff_nb.utils.data against torch.utils.data: the same batches in order, the same collation
(types, dtypes, shapes), every element once per shuffled epoch, reproducible from a seed; PyTorch's errors."""
import numpy as np
import pytest

import autodiff_nb as ad
from conftest import raises_as_pytorch
from autodiff_nb.utils.data import DataLoader, Dataset, TensorDataset

pytestmark = pytest.mark.torch

X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10) % 3


def batches(lib, **kwargs):
    data = lib.utils.data.TensorDataset(lib.tensor(X), lib.tensor(Y))
    return list(lib.utils.data.DataLoader(data, **kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 4}, {"batch_size": 4, "drop_last": True}, {"batch_size": 10},
                                    {"batch_size": 3, "shuffle": False}])
def test_batches_in_order_are_pytorchs(torch, kwargs):
    ours, theirs = batches(ad, **kwargs), batches(torch, **kwargs)
    assert len(ours) == len(theirs)
    for a, t in zip(ours, theirs):
        assert type(a) is type(t)  # a list of fields, as PyTorch's default_collate gives for tuples
        for field_a, field_t in zip(a, t):
            assert str(field_a.dtype) == str(field_t.dtype) and tuple(field_a.shape) == tuple(field_t.shape)
            np.testing.assert_array_equal(field_a.numpy(), field_t.numpy())
    data = ad.utils.data.TensorDataset(ad.tensor(X), ad.tensor(Y))
    assert len(DataLoader(data, **kwargs)) == len(torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(Y)), **kwargs))


@pytest.mark.parametrize("batch", [[1, 2, 3], [1.5, 2.5], [(1, 2.0), (3, 4.0)], [{"a": 1, "b": [1.0, 2.0]}] * 2,
                                   [np.ones(2, np.float32), np.zeros(2, np.float32)], [True, False]])
def test_collation_of_plain_python_data_is_pytorchs(torch, batch):
    ours = ad.utils.data.default_collate(batch)
    theirs = torch.utils.data.default_collate(batch)

    def flat(x):
        if isinstance(x, dict):
            return [v for k in sorted(x) for v in flat(x[k])]
        if isinstance(x, (list, tuple)):
            return [v for item in x for v in flat(item)]
        return [x]

    assert type(ours).__name__ == type(theirs).__name__  # list, dict or Tensor
    for a, t in zip(flat(ours), flat(theirs), strict=True):
        assert str(a.dtype) == str(t.dtype)
        np.testing.assert_array_equal(a.numpy(), t.numpy())


def test_shuffle_visits_every_element_once_per_epoch_and_repeats_with_a_seed():
    data = TensorDataset(ad.arange(50), ad.arange(50) * 2)
    loader = DataLoader(data, batch_size=8, shuffle=True, generator=ad.Generator().manual_seed(3))
    epochs = [np.concatenate([xb.numpy() for xb, _ in loader]) for _ in range(3)]
    for seen in epochs:
        assert sorted(seen) == list(range(50))
    assert not np.array_equal(epochs[0], epochs[1])  # a new order each epoch
    again = DataLoader(data, batch_size=8, shuffle=True, generator=ad.Generator().manual_seed(3))
    assert np.array_equal(np.concatenate([xb.numpy() for xb, _ in again]), epochs[0])
    for xb, yb in loader:  # the fields stay paired
        assert yb.equal(xb * 2)


def test_shuffle_with_the_default_generator_follows_manual_seed():
    data = TensorDataset(ad.arange(20))
    ad.manual_seed(7)
    first = [b[0].tolist() for b in DataLoader(data, batch_size=5, shuffle=True)]
    ad.manual_seed(7)
    assert [b[0].tolist() for b in DataLoader(data, batch_size=5, shuffle=True)] == first


def test_a_dataset_subclass_works(torch):
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return ad.tensor(float(i)), i * i

    xb, yb = next(iter(DataLoader(Squares(), batch_size=5)))
    assert xb.equal(ad.arange(5.0)) and yb.equal(ad.tensor([0, 1, 4, 9, 16]))


ERRORS = [
    lambda lib: lib.utils.data.TensorDataset(lib.ones(3), lib.ones(4)),
    lambda lib: lib.utils.data.DataLoader([1, 2], batch_size=0),
    lambda lib: lib.utils.data.DataLoader([1, 2], shuffle=True, sampler=[0]),
    lambda lib: lib.utils.data.Dataset()[0],
    lambda lib: len(lib.utils.data.Dataset()),
]


@pytest.mark.parametrize("case", ERRORS)
def test_errors_are_pytorchs(torch, case):
    raises_as_pytorch(torch, case)
