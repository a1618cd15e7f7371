"""Error text that teaches: PyTorch's first sentence (so it can be searched), then one line
naming the shapes or values involved and the fix."""
from __future__ import annotations

import re


def _type_name(shape, dtype) -> str:
    kind = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
            "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor"}.get(str(dtype), "Tensor")
    return f"torch.{kind} [{', '.join(map(str, shape))}]"


def backward_twice(node_name: str) -> RuntimeError:
    return RuntimeError(
        "Trying to backward through the graph a second time (or directly access saved tensors after "
        "they have already been freed). Saved intermediate values of the graph are freed when you call "
        ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
        "graph a second time or if you need to access saved tensors after calling backward.\n"
        f"{node_name} already ran and freed what it saved: pass retain_graph=True to the first backward(), "
        "or run the forward pass again."
    )


def forward_name(node_name: str) -> str:
    # PyTorch names the op that made a tensor by its forward name: MulBackward0 -> Mul; its nodes
    # written by hand in C++ (CopySlices, made by an in-place op on a view) by their C++ name
    if node_name in ("CopySlices", "CopyBackwards"):
        return f"torch::autograd::{node_name}"
    return re.sub(r"Backwards?\d*$", "", node_name)


def modified_inplace(tensor, node_name, version, expected, *, shape=None, dtype=None) -> RuntimeError:
    if tensor is not None:
        shape, dtype = tensor.array.shape, tensor.array.dtype
        made_by = (f", which is output 0 of {forward_name(tensor.grad_fn.name())}," if tensor.grad_fn is not None
                   else "")
    else:
        made_by = f", which is output 0 of {forward_name(node_name)},"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{_type_name(shape, dtype)}]{made_by} is at version {version}; expected version {expected} "
        "instead.\n"
        f"{node_name} saved that value for backward; change it out of place (t = t + 1, not t += 1), "
        "or clone() it before the in-place change."
    )


def not_scalar(shape) -> RuntimeError:
    shown = tuple(shape)
    return RuntimeError(
        "grad can be implicitly created only for scalar outputs\n"
        f"y has shape {shown}: call y.sum().backward() or pass gradient=torch.ones_like(y)."
    )


def no_grad_fn(index: int = 0) -> RuntimeError:
    return RuntimeError(
        f"element {index} of tensors does not require grad and does not have a grad_fn\n"
        "Nothing recorded this value: create its inputs with requires_grad=True (or call "
        "x.requires_grad_()) before computing it, and not inside torch.no_grad()."
    )


def bad_gradient_shape(grad_shape, out_shape) -> RuntimeError:
    return RuntimeError(
        f"Mismatch in shape: grad_output[0] has a shape of torch.Size({list(grad_shape)}) and output[0] "
        f"has a shape of torch.Size({list(out_shape)}).\n"
        f"The gradient passed to backward() must have the output's shape {tuple(out_shape)}, e.g. "
        "gradient=torch.ones_like(y)."
    )


def int_requires_grad(dtype, method=False) -> RuntimeError:
    # PyTorch words it two ways: at creation (requires_grad=True) and from x.requires_grad_()
    first = ("only Tensors of floating point dtype can require gradients" if method else
             "Only Tensors of floating point and complex dtype can require gradients")
    return RuntimeError(
        f"{first}\n"
        f"This tensor is {dtype!r}: create it with a float dtype, e.g. torch.arange(4.0) or "
        "x.float().requires_grad_()."
    )


def inplace_on_leaf(view=False) -> RuntimeError:
    return RuntimeError(
        f"a {'view of a ' if view else ''}leaf Variable that requires grad is being used in an in-place "
        "operation.\n"
        "Update it inside `with torch.no_grad():` (w -= lr * w.grad): w stays the leaf backward() fills."
    )


def numpy_requires_grad() -> RuntimeError:
    return RuntimeError(
        "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.\n"
        "numpy arrays are outside the recorded graph: detach() first to say you want the value only."
    )


def not_one_element(shape, what: str) -> RuntimeError:
    return RuntimeError(
        f"a Tensor with {_count(shape)} elements cannot be converted to Scalar\n"
        f"{what} needs a tensor with exactly one element; this one has shape {tuple(shape)}: "
        "pick one element (t[0]) or reduce it (t.sum(), t.any())."
    )


def _count(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def broadcast_mismatch(op: str, a_shape, b_shape) -> RuntimeError:
    a, b = tuple(a_shape), tuple(b_shape)
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    dim = next((i for i in reversed(range(n)) if pa[i] != pb[i] and 1 not in (pa[i], pb[i])), 0)
    return RuntimeError(
        f"The size of tensor a ({pa[dim] if n else 1}) must match the size of tensor b ({pb[dim] if n else 1}) "
        f"at non-singleton dimension {dim}\n"
        f"{op}: shapes {a} and {b} do not broadcast (sizes must be equal or 1, matched from the right); "
        "reshape or unsqueeze one of them."
    )


def matmul_mismatch(op: str, a_shape, b_shape) -> RuntimeError:
    a, b = tuple(a_shape), tuple(b_shape)
    if op == "dot":
        first = (f"inconsistent tensor size, expected tensor [{a[0] if a else ''}] and src "
                 f"[{b[0] if b else ''}] to have the same number of elements, but got "
                 f"{_count(a)} and {_count(b)} elements respectively")
    else:
        first = f"mat1 and mat2 shapes cannot be multiplied ({_rows(a)} and {_rows(b)})"
    return RuntimeError(
        f"{first}\n{op}: shapes {a} and {b}: the inner sizes must agree; transpose one (x.T) or reshape it."
    )


def _rows(shape) -> str:
    if len(shape) == 1:
        return f"1x{shape[0]}"
    return "x".join(map(str, shape[-2:]))


def nonleaf_grad_warning(tensor) -> str:
    return (
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
        "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
        "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
        "Tensor by mistake, make sure you access the leaf Tensor instead.\n"
        f"This tensor was made by {tensor.grad_fn.name()}: call .retain_grad() on it before backward()."
    )


def python_type(value) -> str:
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def not_a_tensor(op: str, name: str, position: int, value) -> TypeError:
    """PyTorch's argument parser refusing a number, a list or an array where a tensor is needed."""
    return TypeError(
        f"{op}(): argument '{name}' ({'position ' + str(position)}) must be Tensor, not {python_type(value)}\n"
        f"{op} takes tensors: wrap the value with torch.tensor(...), or use * to multiply by a number.")


def not_bool(op: str, name: str, value) -> TypeError:
    """PyTorch's argument parser refusing a flag that is not True or False (keepdim=1)."""
    return TypeError(f"{op}(): argument '{name}' must be bool, not {python_type(value)}\n"
                     f"Pass {name}=True or {name}=False.")

# ----------------------------------------------------------------------------------- forward mode
def no_jvp(rule_name: str) -> NotImplementedError:
    return NotImplementedError(
        "You must implement the jvp function for custom autograd.Function to use it with forward mode AD.\n"
        f"{rule_name} has no forward-mode derivative: give it one with "
        "autodiff_nb.custom.defjvp(op, lambda primals, tangents: (out, tangent_out)).")


def no_dual_level() -> RuntimeError:
    return RuntimeError(
        "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() "
        "first.\nOpen one around the computation: with forward_ad.dual_level(): x = make_dual(x, tangent) ...")


def nested_dual_level() -> RuntimeError:
    return RuntimeError(
        "Nested forward mode AD is not supported at the moment\nA dual level is already open here: "
        "finish it first, or push both directions through one level (stack them into one tangent).")


def dual_not_float(which: str, dtype) -> ValueError:
    return ValueError(f"Expected {which} to be floating point or complex, but got: {dtype}\n"
                      f"Only floating-point values have tangents: convert the {which} first ({which}.float()).")


def tangent_size(primal_shape, tangent_shape) -> RuntimeError:
    return RuntimeError(
        "Trying to set a forward gradient that has a different size than that of the original Tensor, this "
        f"is not supported. Tensor is of size {list(primal_shape)} while the given forward gradient is of "
        f"size {list(tangent_shape)}.\nThe tangent is a direction for every element of the primal: give it "
        f"the primal's shape {tuple(primal_shape)}.")
