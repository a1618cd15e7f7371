"""autodiff_nb: automatic differentiation you can run, see and poke, inside Jupyter.

``import autodiff_nb as torch`` runs the chapter's PyTorch code on a small tape-based engine;
``autodiff_nb.func.grad(f)(x)`` gives the functional style; ``%load_ext autodiff_nb`` adds the
``%autodiff`` magics.
"""
from . import methods as _methods  # noqa: F401  (binds Tensor's operators and methods)
from .dtypes import (  # noqa: F401
    dtype, float16, half, float32, float64, double, uint8, int8, int16, short, int32, int64, long, bool,
)
from .tensor import Tensor, Size, device  # noqa: F401
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: F401
from .creation import (  # noqa: F401
    Generator, default_generator, tensor, as_tensor, from_numpy, arange, linspace, zeros, ones, empty, full, eye,
    zeros_like, ones_like, full_like, rand, randn, rand_like, randn_like, randint, normal, manual_seed, seed,
    initial_seed,
)
from .functions import (  # noqa: F401
    add, sub, subtract, mul, multiply, div, divide, true_divide, floor_divide, remainder, pow, neg, negative, reciprocal,
    abs, exp, log, sqrt, sin, cos, tanh, sigmoid, relu, sign, maximum, minimum, clamp, clip, where, dot, inner, mv, mm,
    matmul, outer, sum, mean, max, min, argmax, argmin, norm, softmax, log_softmax, reshape, flatten,
    squeeze, unsqueeze, permute, transpose, swapaxes, t, expand, broadcast_to, cat, concat, concatenate,
    stack, clone, return_types, eq, ne, lt, le, gt, ge, logical_and, logical_or, logical_xor, logical_not,
    bitwise_and, bitwise_or, bitwise_xor, bitwise_not, all, any, equal, isclose, allclose,
)
from .reductions import cumsum, cumprod, prod, var, std, logsumexp  # noqa: F401
from .pieces import chunk, split, tile, masked_fill, bmm, addmm  # noqa: F401
from .sampling import randperm, multinomial, bernoulli  # noqa: F401
from .printing import set_printoptions  # noqa: F401
from . import autograd, func, lax  # noqa: F401
from .frameworks import GradientTape, attach_grad, record, pause, is_recording, mx  # noqa: F401

from . import nn, optim, utils, distributions  # noqa: F401,E402  (torch.nn, torch.optim ... built on the above)

__version__ = "0.1.0"


def __getattr__(name):
    # viz needs graphviz and ipywidgets (the `viz` extra): import it only when asked for.
    if name == "viz":
        import importlib

        return importlib.import_module(".viz", __name__)
    raise AttributeError(f"module 'autodiff_nb' has no attribute {name!r}")


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(t) -> int:
    return t.numel()


def load_ipython_extension(ipython):
    """``%load_ext autodiff_nb``: register the ``%autodiff`` magics."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython):
    from .magics import unload_ipython_extension as unload

    unload(ipython)
