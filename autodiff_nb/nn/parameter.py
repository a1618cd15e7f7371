"""``Parameter``: a tensor that a ``Module`` learns. Assigning one to a module attribute registers it."""
from __future__ import annotations

from .. import errors
from ..creation import empty
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad (unless told otherwise), sharing its values with ``data``.

    >>> Parameter(torch.ones(2))
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if requires_grad and not data.dtype.is_floating_point:
            raise errors.int_requires_grad(data.dtype)
        param = Tensor._from_array(data.array)  # the same memory, as PyTorch's Parameter(t)
        param.__class__ = cls
        param.requires_grad = bool(requires_grad)
        return param

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__
