"""Seeded generators of small programs, one function per family: ``family_reductions(rng) -> Program``.

A program is source text that uses only the names ``torch`` and ``np``: statements run in order, then
the observed expressions are evaluated and compared. Values come from small pools of numbers that are
exact in binary (halves, small integers), so PyTorch and numpy compute the same bits and a printed
difference is a printing difference, not a rounding one.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

FLOATS = [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0]
INTS = [-3, -2, -1, 0, 1, 2, 3, 5]


@dataclass
class Program:
    family: str
    seed: int
    statements: list[str]
    observe: list[str] = field(default_factory=list)
    # The sign of a zero is compared where an op selects one of its inputs (max, relu, clamp ...);
    # elsewhere it depends on the order of a sum, which is the BLAS's business, not PyTorch's semantics.
    signed_zeros: bool = False

    @property
    def source(self) -> str:
        return "\n".join(self.statements + [f"# observe: {expr}" for expr in self.observe])


# ----------------------------------------------------------------------------------- source helpers
def number(v) -> str:
    if isinstance(v, bool):
        return repr(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "float('nan')"
        if math.isinf(v):
            return "float('inf')" if v > 0 else "float('-inf')"
    return repr(v)


def nested(values, shape) -> str:
    """The nested-list literal of the flat ``values`` laid out in ``shape``."""
    if not shape:
        return number(values[0])
    step = len(values) // shape[0] if shape[0] else 0
    return "[" + ", ".join(nested(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])) + "]"


def numel(shape) -> int:
    return math.prod(shape)


def rand_shape(rng, min_dims=1, max_dims=3, max_size=3):
    return tuple(rng.randint(1, max_size) for _ in range(rng.randint(min_dims, max_dims)))


def values(rng, shape, kind="float", pool=None):
    if kind == "bool":
        return [rng.random() < 0.5 for _ in range(numel(shape))]
    pool = pool or (INTS if kind == "int" else FLOATS)
    return [rng.choice(pool) for _ in range(numel(shape))]


def tensor(rng, shape, kind="float", requires_grad=False, dtype=None, pool=None) -> str:
    """Source of ``torch.tensor(...)`` holding random ``kind`` values of ``shape``."""
    args = [nested(values(rng, shape, kind, pool), shape)]
    if dtype:
        args.append(f"dtype=torch.{dtype}")
    if requires_grad:
        args.append("requires_grad=True")
    return f"torch.tensor({', '.join(args)})"


def float_dtype(rng):
    return rng.choice([None, None, None, "float64"])


def dim_arg(rng, ndim, allow_bad=True):
    """A dimension index, negative sometimes, out of range rarely (the misuse is compared too)."""
    if allow_bad and rng.random() < 0.06:
        return rng.choice([ndim, -ndim - 1])
    return rng.randint(-ndim, ndim - 1) if ndim else rng.choice([0, -1])


def weighted_backward(name: str) -> str:
    """Backward of a weighted sum of ``name``: distinct weights, so a wrong route of a gradient shows."""
    return (f"({name} * torch.arange(1., {name}.numel() + 1, dtype={name}.dtype)"
            f".reshape({name}.shape)).sum().backward()")


# ----------------------------------------------------------------------------------- families
def family_reductions(rng) -> Program:
    """sum / mean / max / min / argmax / argmin / norm, with dims and keepdim."""
    shape = rand_shape(rng, 0 if rng.random() < 0.1 else 1)
    dtype = float_dtype(rng)
    ndim = len(shape)
    kind = "int" if rng.random() < 0.1 else "float"
    x = tensor(rng, shape, kind, requires_grad=kind == "float", dtype=dtype if kind == "float" else None)
    op = rng.choice(["sum", "mean", "max", "min", "argmax", "argmin", "norm"])
    call = rng.choice(["method", "function"])
    args = []
    if rng.random() < 0.7 and ndim:
        if op in ("sum", "mean") and ndim > 1 and rng.random() < 0.3:
            dims = rng.sample(range(ndim), 2)
            args.append(f"dim=({dims[0]}, {dims[1]})")
        else:
            args.append(f"dim={dim_arg(rng, ndim)}" if rng.random() < 0.7 else str(dim_arg(rng, ndim)))
        if rng.random() < 0.5:
            args.append(f"keepdim={rng.choice([True, False])}")
    if op == "norm" and rng.random() < 0.4:
        args.insert(0, f"p={rng.choice([1, 2, 3, float('inf')]) if rng.random() < 0.9 else 'fro'}")
    if call == "method":
        target = f"x.{op}({', '.join(args)})"
    else:
        target = f"torch.{op}({', '.join(['x'] + args)})"
    statements = [f"x = {x}", f"r = {target}"]
    observe = ["r"]
    if op in ("max", "min") and any(a.startswith("dim") or a[0].isdigit() or a[0] == "-" for a in args):
        statements.append("y = r.values if isinstance(r, tuple) else r")
        observe += ["r.indices" if rng.random() < 0.5 else "r[1]"]
    else:
        statements.append("y = r")
    if kind == "float" and op not in ("argmax", "argmin"):
        statements.append(weighted_backward("y"))
        observe += ["x"]
    return Program("reductions", 0, statements, observe)


def family_ties_nan(rng) -> Program:
    """Gradients of max / min / relu / clamp / maximum where values tie or are NaN."""
    shape = rand_shape(rng, 1, 2, 4)
    pool = rng.choice([[0.0, 1.0], [-1.0, 0.0, 1.0, 1.0], [1.0, float("nan"), 2.0], [0.0, -0.0, 2.0]])
    x = tensor(rng, shape, requires_grad=True, pool=pool, dtype=float_dtype(rng))
    statements = [f"x = {x}"]
    op = rng.choice(["max", "min", "max_dim", "min_dim", "relu", "clamp", "maximum", "minimum", "abs",
                     "max_keepdim", "fmax"])
    if op in ("max", "min"):
        statements.append(f"y = x.{op}()")
    elif op in ("max_dim", "min_dim"):
        statements.append(f"y = x.{op[:3]}(dim={rng.randint(-len(shape), len(shape) - 1)}).values")
    elif op == "relu":
        statements.append(rng.choice(["y = torch.relu(x)", "y = x.relu()"]))
    elif op == "clamp":
        lo, hi = rng.choice(pool + [None]), rng.choice(pool + [None])
        if lo is None and hi is None:
            lo = 0.0
        args = ", ".join(f"{n}={number(v)}" for n, v in (("min", lo), ("max", hi)) if v is not None)
        statements.append(f"y = x.clamp({args})")
    elif op in ("maximum", "minimum", "fmax"):
        op = "maximum" if op == "fmax" else op
        statements.append(f"w = {tensor(rng, shape, requires_grad=True, pool=pool)}")
        statements.append(f"y = torch.{op}(x, w)")
    elif op == "abs":
        statements.append("y = x.abs()")
    else:   # max_keepdim
        statements.append("y = x.max(dim=-1, keepdim=True)[0]")
    statements.append(weighted_backward("y"))
    observe = ["y", "x"] + (["w.grad"] if "w = " in "".join(statements) else [])
    return Program("ties_nan", 0, statements, observe, signed_zeros=True)


def family_matmul(rng) -> Program:
    """@, matmul, mm, mv, dot: shapes that fit, that do not, and mixed dtypes."""
    op = rng.choice(["@", "matmul", "mm", "mv", "dot"])
    n, m, k = (rng.randint(1, 3) for _ in range(3))
    batch = [rng.randint(1, 2) for _ in range(rng.randint(0, 1))]
    shapes = {"mm": ((n, k), (k, m)), "mv": ((n, k), (k,)), "dot": ((k,), (k,))}.get(op)
    if shapes is None:
        a = rng.choice([(k,), (n, k), (*batch, n, k)])
        b = rng.choice([(k,), (k, m), (*batch, k, m)])
        shapes = (a, b)
    a, b = shapes
    if rng.random() < 0.15:   # a shape mismatch: PyTorch's message is compared
        b = tuple(d + 1 if i == 0 else d for i, d in enumerate(b)) if len(b) == 1 else b[:-2] + (b[-2] + 1, b[-1])
    dtypes = [None, None]
    if rng.random() < 0.15:
        dtypes[rng.randint(0, 1)] = rng.choice(["float64", "int64"])
    kinds = ["int" if d == "int64" else "float" for d in dtypes]
    statements = [f"a = {tensor(rng, a, kinds[0], kinds[0] == 'float', dtypes[0])}",
                  f"b = {tensor(rng, b, kinds[1], kinds[1] == 'float' and rng.random() < 0.7, dtypes[1])}"]
    statements.append({"@": "y = a @ b", "matmul": "y = torch.matmul(a, b)", "mm": "y = a.mm(b)",
                       "mv": "y = torch.mv(a, b)", "dot": "y = a.dot(b)"}[op])
    statements.append(weighted_backward("y"))
    return Program("matmul", 0, statements, ["y", "a", "b"])


def family_shape(rng) -> Program:
    """reshape / view / transpose / permute / squeeze / unsqueeze / flatten / expand / cat / stack."""
    shape = rand_shape(rng, 1, 3)
    ndim = len(shape)
    if rng.random() < 0.3:
        shape = tuple(1 if rng.random() < 0.5 else d for d in shape)
    statements = [f"x = {tensor(rng, shape, requires_grad=True, dtype=float_dtype(rng))}", "h = x * 1"]
    op = rng.choice(["reshape", "view", "transpose", "permute", "squeeze", "unsqueeze", "flatten",
                     "expand", "cat", "stack", "t", "T"])
    if op in ("reshape", "view"):
        total = numel(shape)
        divisors = [d for d in range(1, total + 1) if total % d == 0]
        d = rng.choice(divisors)
        new = rng.choice([(total,), (d, total // d), (-1, d), (d, -1), (total + 1,), (1, -1, d)])
        if total % d or (new == (1, -1, d) and total % d):
            new = (-1,)
        arg = ", ".join(map(str, new)) if rng.random() < 0.5 else f"({', '.join(map(str, new))},)"
        src = f"h.{op}({arg})"
        if op == "view" and rng.random() < 0.3 and ndim > 1:
            src = f"h.transpose(0, 1).view({arg})"   # a non-contiguous view: PyTorch refuses
    elif op == "transpose":
        src = f"h.transpose({dim_arg(rng, ndim)}, {dim_arg(rng, ndim)})"
    elif op == "permute":
        perm = list(range(ndim))
        rng.shuffle(perm)
        if rng.random() < 0.1:
            perm = perm[:-1] or [0, 0]
        src = f"h.permute({', '.join(map(str, perm))})" if rng.random() < 0.5 else f"h.permute({perm})"
    elif op == "squeeze":
        src = rng.choice(["h.squeeze()", f"h.squeeze({dim_arg(rng, ndim)})",
                          f"torch.squeeze(h, {dim_arg(rng, ndim)})"])
    elif op == "unsqueeze":
        src = f"h.unsqueeze({rng.randint(-ndim - 1, ndim)})" if rng.random() < 0.95 else f"h.unsqueeze({ndim + 1})"
    elif op == "flatten":
        src = rng.choice(["h.flatten()", f"h.flatten({rng.randint(0, ndim - 1)})",
                          f"torch.flatten(h, {rng.randint(-ndim, 0)}, {rng.randint(0, ndim - 1)})"])
    elif op == "expand":
        target = [d if d != 1 or rng.random() < 0.5 else rng.randint(2, 3) for d in shape]
        if rng.random() < 0.3:
            target = [rng.randint(1, 2)] + target
        if rng.random() < 0.2:
            target[-1] = -1
        if rng.random() < 0.1:
            target[-1] = shape[-1] + 1
        src = f"h.expand({', '.join(map(str, target))})"
    elif op in ("cat", "stack"):
        other = list(shape)
        dim = dim_arg(rng, ndim + (op == "stack"), allow_bad=True)
        if op == "cat" and rng.random() < 0.6:
            other[dim % ndim if -ndim <= dim < ndim else 0] = rng.randint(1, 3)
        if rng.random() < 0.1:
            other = other + [1]
        statements.append(f"z = {tensor(rng, tuple(other), requires_grad=rng.random() < 0.5)}")
        src = f"torch.{op}([h, z], dim={dim})" if rng.random() < 0.7 else f"torch.{op}((h, z), {dim})"
    elif op == "t":
        src = "h.t()"
    else:
        src = "h.T" if ndim == 2 else "h.mT" if ndim == 3 and rng.random() < 0.5 else "h.T"
    statements.append(f"y = {src}")
    statements.append(weighted_backward("y"))
    return Program("shape", 0, statements, ["y", "y.shape", "x"])


def index_expr(rng, shape) -> str:
    """A random index of ``shape``: ints, slices, lists, masks, None, Ellipsis and their mixes."""
    parts = []
    for d in shape:
        r = rng.random()
        if r < 0.25:
            parts.append(str(rng.randint(-d, d - 1) if rng.random() < 0.95 else d))
        elif r < 0.5:
            start, stop = rng.choice([None, 0, 1, -1]), rng.choice([None, d, 1, -1])
            step = rng.choice([None, None, 2])
            parts.append(f"{'' if start is None else start}:{'' if stop is None else stop}"
                         + (f":{step}" if step else ""))
        elif r < 0.7:
            parts.append(str([rng.randint(-d, d - 1) for _ in range(rng.randint(1, 3))]))
        elif r < 0.8:
            parts.append("None")
        else:
            parts.append(":")
    parts = parts[:rng.randint(1, len(parts))]
    if rng.random() < 0.2:
        parts.insert(rng.randint(0, len(parts)), "...")
    if rng.random() < 0.1:
        return "x > 0"
    if rng.random() < 0.05:
        return "x[0] > 0" if len(shape) > 1 else "x < 1"
    return ", ".join(parts)


def family_indexing(rng) -> Program:
    """Reading x[...] and writing x[...] = v: ints, slices, lists, masks, None, Ellipsis, placement."""
    shape = rand_shape(rng, 1, 3)
    if rng.random() < 0.2 and len(shape) == 3:
        idx = rng.choice(["0, :, [0, 1]", "[0, 0], :, [0, 0]", ":, [0], [0]", "[0], ..., [0]", "..., [0, -1]"])
        shape = (2, 2, 2)
    else:
        idx = index_expr(rng, shape)
    statements = [f"x = {tensor(rng, shape, requires_grad=True, dtype=float_dtype(rng))}"]
    if rng.random() < 0.5:
        statements.append(f"y = x[{idx}]")
        statements.append(weighted_backward("y"))
        return Program("indexing", 0, statements, ["y", "x"])
    value = rng.choice(["7.5", "-1", f"torch.tensor({rng.choice(FLOATS)})", "0.5", "torch.tensor([1.5])", "True"])
    target = "h" if rng.random() < 0.85 else "x"   # x is a leaf that requires grad: PyTorch refuses
    statements += ["h = x * 1", f"{target}[{idx}] = {value}", weighted_backward("h")]
    return Program("indexing", 0, statements, ["h", "x"])


def family_inplace(rng) -> Program:
    """add_ / mul_ / zero_ / fill_ / +=: on leaves, non-leaves, ints, and under no_grad."""
    shape = rand_shape(rng, 1, 2)
    kind = "int" if rng.random() < 0.15 else "float"
    where = rng.choice(["leaf_rg", "leaf", "nonleaf", "no_grad", "nonleaf"])
    rg = kind == "float" and where != "leaf"
    statements = [f"x = {tensor(rng, shape, kind, requires_grad=rg)}"]
    statements.append("t = x * 1" if where == "nonleaf" else "t = x")
    op = rng.choice(["t.add_(other)", "t.mul_(other)", "t.sub_(other)", "t.div_(other)", "t.zero_()",
                     "t.fill_(2.5)", "t += other", "t *= other", "t -= 1", "t /= 2", "t.add_(other, alpha=2)",
                     "t.clamp_(min=0)", "t.copy_(other)"])
    other = rng.choice([number(rng.choice(FLOATS)), str(rng.choice(INTS)), tensor(rng, shape),
                        tensor(rng, shape[-1:], requires_grad=True), tensor(rng, shape, "int")])
    statements.append(f"other = {other}")
    if where == "no_grad":
        statements.append(f"with torch.no_grad():\n    {op}")
    else:
        statements.append(op)
    if rg:
        statements.append(weighted_backward("t"))
    observe = ["t", "x", "other.grad if isinstance(other, torch.Tensor) else other"]
    return Program("inplace", 0, statements, observe)


def family_views(rng) -> Program:
    """In-place through a view of a recorded tensor; a view seeing its base change; saved-value checks;
    ``.data`` and ``detach()`` aliases (one shares the version counter, the other does not)."""
    if rng.random() < 0.2:
        return data_alias_program(rng)
    shape = rand_shape(rng, 2, 2, 3)
    statements = [f"x = {tensor(rng, shape, requires_grad=True, dtype=float_dtype(rng))}", "b = x * 2"]
    view = rng.choice(["b[0]", "b[:, 0]", "b[1:]", "b.view(-1)", "b.t()", "b[..., :1]", "b.reshape(-1)",
                       "b.unsqueeze(0)", "b.expand(2, *b.shape)" if rng.random() < 0.2 else "b[0]"])
    statements.append(f"v = {view}")
    op = rng.choice(["v.mul_(3)", "v.add_(1)", "v.zero_()", "v += x.sum()", "b.add_(1)", "b.mul_(x)",
                     "v.fill_(0.5)", "v[0] = 4"])
    saved = rng.random() < 0.3
    if saved:   # something saved the old value: backward must notice the change
        statements.append(rng.choice(["s = b.exp()", "s = b * b", "s = v.sin()", "s = b.sum()"]))
    statements.append(op)
    statements.append(weighted_backward(rng.choice(["b", "v"])) if not saved else "(s.sum() + b.sum()).backward()")
    return Program("views", 0, statements, ["v", "b", "x"])


def data_alias_program(rng) -> Program:
    """``w.data`` changed in place (an SGD step), ``w.data`` assigned, and a saved value changed through
    ``.data`` (not noticed: .data has its own version counter) or through ``detach()`` (noticed)."""
    shape = rand_shape(rng, 1, 2, 3)
    statements = [f"w = {tensor(rng, shape, requires_grad=True, dtype=float_dtype(rng))}",
                  rng.choice(["y = w.exp()", "y = w * w", "y = w.sin() * 2", "y = (w * 3)[..., :1]"])]
    update = rng.choice(["w.data -= 0.5 * w.grad", "w.data = w.data - 0.5 * w.grad", "w.data.add_(1)",
                         "w.data.zero_()", "w.data[0] = 2.5", "w.data = torch.zeros(w.shape)",
                         "y.data.mul_(2)", "y.detach().mul_(2)", "y.data[0] = 1.5", "y.detach()[0] = 1.5"])
    if update.startswith("w") and "grad" in update:
        statements += ["y.sum().backward()", update, "z = (w * w).sum()", "z.backward()"]
    else:
        statements += [update, weighted_backward("y")]
    return Program("views", 0, statements, ["w", "y", "w._version", "y._version", "w.data"])


def family_autograd(rng) -> Program:
    """register_hook, retain_grad, backward twice, create_graph, grad of grad, third derivatives."""
    shape = rand_shape(rng, 1, 2, 3)
    x = tensor(rng, shape, requires_grad=True, dtype=float_dtype(rng), pool=[-1.5, -1.0, -0.5, 0.5, 1.0, 2.0])
    statements = [f"x = {x}"]
    f = rng.choice(["x * x * x", "(x ** 3)", "x.sin() * x", "x.exp()", "(x * x).tanh()", "x ** 4 + x",
                    "torch.sigmoid(x) * x"])
    kind = rng.choice(["hook", "retain", "twice", "retain_graph", "grad", "grad2", "grad3", "hook_nonleaf",
                       "grad_args"])
    if kind == "hook":
        statements += [f"h = x.register_hook(lambda g: g * {rng.choice([2, -1, 0.5])})",
                       f"y = ({f}).sum()", "y.backward()"]
        if rng.random() < 0.5:
            statements += ["h.remove()", f"({f}).sum().backward()"]
        observe = ["x", "y"]
    elif kind == "retain":
        statements += [f"m = {f}", "m.retain_grad()" if rng.random() < 0.8 else "pass", f"y = (m * m).sum()",
                       "y.backward()"]
        observe = ["m.grad", "x", "m.is_leaf", "m.retains_grad"]
    elif kind in ("twice", "retain_graph"):
        rg = "retain_graph=True" if kind == "retain_graph" else ""
        statements += [f"y = ({f}).sum()", f"y.backward({rg})", "y.backward()"]
        observe = ["x", "y"]
    elif kind == "hook_nonleaf":
        statements += [f"m = {f}", "seen = []", "m.register_hook(lambda g: seen.append(g.clone()))",
                       "m.sum().backward()"]
        observe = ["seen", "x"]
    elif kind == "grad_args":
        statements += [f"y = ({f}).sum()", rng.choice([
            "g = torch.autograd.grad(y, x.detach())", "g = torch.autograd.grad(y, [x, x])",
            "g = torch.autograd.grad(y * 0, x, allow_unused=True)", "g = torch.autograd.grad(x.sum() * 1, x)",
            "g = torch.autograd.grad(y, torch.ones(2, requires_grad=True))",
            "g = torch.autograd.grad(y, torch.ones(2, requires_grad=True), allow_unused=True)",
            f"g = torch.autograd.grad({f}, x)"])]
        observe = ["g", "x"]
    else:
        depth = {"grad": 1, "grad2": 2, "grad3": 3}[kind]
        statements.append(f"y = ({f}).sum()")
        name = "y"
        for i in range(depth):
            last = i == depth - 1
            create_graph = not last or rng.random() < 0.3
            statements.append(f"(g{i},) = torch.autograd.grad({name}, x, create_graph={create_graph})")
            name = f"g{i}.sum()"
        observe = [f"g{i}" for i in range(depth)] + ["x"]
    return Program("autograd", 0, statements, observe)


def family_promotion(rng) -> Program:
    """Result dtypes of int / float / bool tensors with Python scalars, 0-d tensors, numpy scalars."""
    def operand():
        r = rng.random()
        if r < 0.45:
            dtype = rng.choice(["int64", "int32", "float32", "float64", "bool", "uint8", "float16"])
            kind = "bool" if dtype == "bool" else "int" if "int" in dtype else "float"
            pool = [0, 1, 2, 3] if dtype == "uint8" else None
            return tensor(rng, rng.choice([(2,), (2, 2), ()]), kind, dtype=dtype, pool=pool)
        if r < 0.7:
            return rng.choice(["2", "-3", "2.5", "True", "0.5", "-1.0"])
        if r < 0.85:
            return rng.choice(["np.float64(1.5)", "np.int64(2)", "np.float32(0.5)", "np.bool_(True)",
                               "np.int32(3)"])
        return f"torch.tensor({rng.choice(['3', '1.5', 'True', '-2'])})"
    a, b = operand(), operand()
    if "torch" not in a + b:
        a = tensor(rng, (2,), "float")
    op = rng.choice(["+", "-", "*", "/", "//", "**", "<", "=="])
    statements = [f"a = {a}", f"b = {b}", f"y = a {op} b"]
    observe = ["y", "y.dtype"]
    if rng.random() < 0.3:
        fn = rng.choice(["add", "mul", "sub", "div", "maximum", "where"])
        statements.append(f"z = torch.{fn}({'a > 0, ' if fn == 'where' else ''}a, b)")
        observe.append("z")
    return Program("promotion", 0, statements, observe)


def family_numpy(rng) -> Program:
    """numpy arrays with tensors, torch.from_numpy / as_tensor / tensor on arrays, .numpy(), memory sharing."""
    shape = rand_shape(rng, 1, 2)
    np_dtype = rng.choice(["np.float32", "np.float64", "np.int64", "np.int32", "np.bool_"])
    kind = "bool" if "bool" in np_dtype else "int" if "int" in np_dtype else "float"
    arr = f"np.array({nested(values(rng, shape, kind), shape)}, dtype={np_dtype})"
    statements = [f"a = {arr}"]
    kind_prog = rng.choice(["arith", "from_numpy", "to_numpy", "as_tensor", "tensor", "scalar"])
    t = tensor(rng, shape, requires_grad=rng.random() < 0.4)
    if kind_prog == "arith":
        op = rng.choice(["*", "+", "-", "/", "@" if len(shape) == 2 and shape[0] == shape[1] else "*"])
        order = rng.choice([f"a {op} t", f"t {op} a"])
        statements += [f"t = {t}", f"y = {order}"]
        observe = ["y", "type(y).__name__"]
    elif kind_prog == "from_numpy":
        statements += ["y = torch.from_numpy(a)", "a[0] = 1", "y.add_(1) if y.dtype != torch.bool else None"]
        observe = ["y", "a"]
    elif kind_prog == "to_numpy":
        statements += [f"t = {t}",
                       rng.choice(["n = t.numpy()", "n = t.detach().numpy()", "n = t.numpy(force=True)"]),
                       "n[0] = 9", "m = t.detach().numpy()"]
        observe = ["n", "t", "m"]
    elif kind_prog == "as_tensor":
        dtype = rng.choice(["", ", dtype=torch.float64", ", dtype=torch.float32"])
        statements += [f"y = torch.as_tensor(a{dtype})",
                       "a[0] = 4"]
        observe = ["y"]
    elif kind_prog == "tensor":
        statements += [f"y = torch.tensor(a{', requires_grad=True' if rng.random() < 0.4 else ''})", "a[0] = 4"]
        observe = ["y"]
    else:
        statements += [f"t = {t}", rng.choice(["y = t.sum().item()", "y = float(t.sum())", "y = t.tolist()",
                                               "y = np.asarray(t.detach())", "y = t.sum() * np.float32(2)",
                                               "y = np.float64(2) * t"])]
        observe = ["y"]
    return Program("numpy", 0, statements, observe)


def family_printing(rng) -> Program:
    """repr of tensors: magnitudes, NaN/inf, -0., ints, bools, float64, summarisation, grad_fn, empty."""
    r = rng.random()
    shape = rand_shape(rng, 0 if r < 0.1 else 1, 3, 4)
    pool = rng.choice([FLOATS, [1e-5, 2.5e-4, 1.0], [1e8, 3.0, -7.25], [123456.0, 0.001],
                       [float("nan"), 1.0, float("inf"), -float("inf")], [0.0, -0.0], [1.0, 2.0, 10.0],
                       [0.1, 0.2, 0.3], [1e-10, 1e10], [-1e-3, 5.5]])
    kind = rng.choice(["float", "float", "float", "int", "bool"])
    dtype = None
    if kind == "float":
        dtype = rng.choice([None, None, "float64", "float16"])
    elif kind == "int":
        dtype = rng.choice([None, "int32", "uint8"])
    if kind == "int" and dtype == "uint8":
        pool = [0, 1, 7, 200]
    elif kind == "int":
        pool = rng.choice([INTS, [1000000, -5], [0]])
    requires_grad = kind == "float" and rng.random() < 0.3
    statements = [f"x = {tensor(rng, shape, kind, requires_grad=requires_grad, dtype=dtype, pool=pool)}"]
    extra = rng.choice(["y = x", "y = x * 2", "y = x[:0]", "y = torch.arange(1200.).reshape(30, 40)",
                        "y = torch.arange(2000)", "y = torch.zeros(2, 0, 3)", "y = x.sum()", "y = x.detach()",
                        "y = torch.arange(-3., 4.) / 4", "y = torch.ones(3, 1001) * 0.5"])
    statements.append(extra)
    # Observed as tensors, so repr is compared whenever the values agree bit for bit (a sum of
    # inexact values may round differently, and that is not the printer's business).
    return Program("printing", 0, statements, ["x", "y"], signed_zeros=True)


def family_misuse(rng) -> Program:
    """Mistakes learners make: PyTorch's exception type and first line are the contract."""
    x = tensor(rng, rand_shape(rng, 1, 2), requires_grad=True)
    case = rng.choice([
        ["x = torch.tensor([1, 2], requires_grad=True)"],
        ["x = torch.tensor([1., 2.], requires_grad=True)", "x.numpy()"],
        [f"x = {x}", "y = x * 2", "y.backward()"],
        [f"x = {x}", "x.add_(1)"],
        [f"x = {x}", "x[0] = 1."],
        ["x = torch.ones(2, 3)", "y = torch.ones(3, 2)", "x + y"],
        ["x = torch.ones(2, 3)", "x.item()"],
        ["x = torch.ones(2)", "x.sum().backward()"],
        ["x = torch.ones(2, 3).t()", "x.view(6)"],
        ["x = torch.tensor([[1., 2.], [3.]])"],
        ["x = torch.ones(2)", "bool(x)"],
        ["x = torch.ones(2)", "float(x)"],
        [f"x = {x}", "x.grad.zero_()"],
        [f"x = {x}", "y = x.sum()", "y.backward()", "y.backward()"],
        ["x = torch.ones(2, 3)", "x.reshape(4)"],
        ["x = torch.ones(2, 3)", "x.sum(dim=2)"],
        ["x = torch.ones(2, 3)", "x[2]"],
        ["x = torch.ones(2, 3)", "torch.cat([x, torch.ones(3, 2)])"],
        ["x = torch.ones(2, 3)", "torch.stack([x, torch.ones(3, 2)])"],
        ["x = torch.ones(2, 3)", "x.mm(x)"],
        ["x = torch.ones(3)", "torch.dot(x, torch.ones(2))"],
        ["x = torch.ones(3, dtype=torch.int64)", "x.mean()"],
        ["x = torch.tensor([True, False])", "x - x"],
        ["x = torch.tensor([1, 2])", "x.requires_grad_()"],
        ["x = torch.ones(2, requires_grad=True)", "torch.autograd.grad(x.sum(), x)",
         "torch.autograd.grad(x.sum(), torch.ones(2))"],
        ["x = torch.ones(2)", "x.backward()"],
        ["x = torch.ones(2, requires_grad=True)", "(x * 2).backward(torch.ones(3))"],
        ["x = torch.ones(2, 2)", "x.permute(0)"],
        ["x = torch.ones(2, 2)", "x.expand(3, 3)"],
        ["x = torch.ones(2, 2)", "x.transpose(0, 2)"],
        ["x = torch.ones(2, 2)", "x[[0, 5]]"],
        ["x = torch.ones(2, 2)", "x[torch.tensor([True, False, True])]"],
        ["x = torch.ones(2, dtype=torch.int64)", "x /= 2"],
        ["x = torch.ones(2)", "x.add_(torch.ones(2, 2))"],
        ["x = torch.ones(2, requires_grad=True)", "y = x * 1", "y.detach().add_(1)", "y.sum().backward()"],
        ["x = torch.ones(2)", "x.numpy(force=1, extra=2)"],
        ["x = torch.ones(2)", "torch.tensor(x)"],
        ["x = torch.ones(2)", "x.max(dim=0, keepdim=1.5)"],
        ["x = torch.ones(2)", "x.foo()"],
        ["x = torch.ones(2)", "torch.matmul(x, 3)"],
        ["x = torch.zeros(())", "x[0]"],
        ["x = torch.ones(2)", "len(torch.tensor(3.))"],
        ["x = torch.ones(2)", "x.view(-1, -1)"],
    ])
    return Program("misuse", 0, case, ["x"])


FORWARD_UNARY = ["torch.sin({})", "torch.exp({})", "({}).tanh()", "torch.sigmoid({})", "({}).relu()", "({}).abs()",
                 "({}) ** 2", "({}) * 3", "-({})", "torch.sqrt(({}).abs() + 1)", "torch.log(({}) * ({}) + 1)",
                 "({}).clamp(-1, 1)", "torch.where(({}) > 0, {}, ({}) * 2)", "({}).sign() * 2"]


def forward_step(rng, expr, shape):
    """One op applied to ``expr`` (of ``shape``): elementwise, with a constant, a reduction, a view, a
    product. Returns the new expression and its shape (None: unknown, so stop changing the shape)."""
    kind = rng.choice(["unary", "unary", "binary", "reduce", "view", "matmul"])
    if kind == "unary":
        template = rng.choice(FORWARD_UNARY)
        return template.format(*[expr] * template.count("{}")), shape
    if kind == "binary":
        other = tensor(rng, shape[rng.randint(0, len(shape)):] if shape else (), pool=[0.5, 1.0, 2.0, -1.5])
        return f"({expr}) {rng.choice(['+', '-', '*', '/'])} {other}", shape
    if kind == "reduce" and shape:
        dim = rng.randrange(len(shape))
        op = rng.choice([f"sum({dim})", f"mean({dim})", f"max({dim}).values", f"min({dim}).values", f"norm(dim={dim})",
                         f"softmax({dim})", f"logsumexp({dim})", f"cumsum({dim})", f"prod({dim})"])
        kept = op.startswith(("softmax", "cumsum"))
        return f"({expr}).{op}", shape if kept else shape[:dim] + shape[dim + 1:]
    if kind == "view" and len(shape) >= 2:
        return rng.choice([(f"({expr}).t()", shape[::-1]), (f"({expr})[0]", shape[1:]),
                           (f"({expr}).reshape(-1)", (numel(shape),)), (f"({expr})[:, 1:]", (shape[0], shape[1] - 1))])
    if kind == "matmul" and len(shape) == 2:
        n = rng.randint(1, 3)
        return f"({expr}) @ {tensor(rng, (shape[1], n), pool=[0.5, 1.0, -1.0, 2.0])}", (shape[0], n)
    return f"({expr}).sum() * 1" if rng.random() < 0.3 else expr, (() if rng.random() < 0.3 else shape)


def family_forward(rng) -> Program:
    """Forward mode: dual numbers through a chain of ops (in place ones too, some under no_grad), and
    torch.func.jvp / jacfwd of the same chain. Tangent values, dtypes and shapes; no tangent where
    PyTorch has none."""
    shape = rand_shape(rng, 1, 2, 3)
    dtype = float_dtype(rng)
    expr, now = "d", shape
    for _ in range(rng.randint(1, 4)):
        if now is None or (now == () and rng.random() < 0.5):
            break
        expr, now = forward_step(rng, expr, now)
    statements = ["fw = torch.autograd.forward_ad", f"x = {tensor(rng, shape, dtype=dtype)}",
                  f"v = {tensor(rng, shape, dtype=dtype)}"]
    how = rng.choice(["dual", "dual", "inplace", "jvp", "jacfwd"])
    if how == "jvp":
        statements.append(f"out = torch.func.jvp(lambda d: {expr}, (x,), (v,))")
        return Program("forward", 0, statements, ["out"])
    if how == "jacfwd":
        statements.append(f"out = torch.func.jacfwd(lambda d: {expr})(x)")
        return Program("forward", 0, statements, ["out"])
    body = [f"y = {expr}"]
    if how == "inplace":
        change = rng.choice(["y.mul_(2)", "y.add_(d.sum())", "y.sub_(1)", "y.clamp_(min=0)", "y.zero_()"])
        body.append(f"with torch.no_grad():\n        {change}" if rng.random() < 0.5 else change)
    body.append("p, t = fw.unpack_dual(y)")
    statements.append("with fw.dual_level():\n    d = fw.make_dual(x, v)\n    " + "\n    ".join(body))
    return Program("forward", 0, statements, ["p", "t"])


def family_course(rng) -> Program:
    """The course's ops and layers (issue 12): cumsum / cumprod / prod / var / std / logsumexp /
    masked_fill / repeat / tile / chunk / bmm / addmm, and the losses (cross_entropy with weight,
    ignore_index, label_smoothing; nll_loss; mse_loss), with dims, reductions and backward."""
    if rng.random() < 0.4:
        return course_loss_program(rng)
    shape = rand_shape(rng, 1, 3)
    ndim = len(shape)
    dtype = float_dtype(rng)
    dim = dim_arg(rng, ndim)
    op = rng.choice([f"x.cumsum({dim})", f"torch.cumprod(x, {dim})", f"x.prod({dim})", "x.prod()",
                     f"x.var({dim})", f"x.std({dim}, unbiased=False)", "x.var(correction=0)",
                     f"torch.logsumexp(x, {dim}, keepdim={rng.choice([True, False])})",
                     f"x.masked_fill({tensor(rng, shape[-1:], 'bool')}, -1.5)", f"x.repeat({', '.join(['2'] * (ndim + 1))})",
                     f"x.tile((2,))", f"x.chunk(2, {dim})[0]",
                     f"torch.bmm(x.reshape(1, {numel(shape)}, 1), {tensor(rng, (1, 1, 2))})",
                     f"torch.addmm({tensor(rng, (2,))}, x.reshape({numel(shape)}, 1), {tensor(rng, (1, 2))})"])
    statements = [f"x = {tensor(rng, shape, requires_grad=True, dtype=dtype)}", f"y = {op}", weighted_backward("y")]
    return Program("course", 0, statements, ["y", "x"])


def course_loss_program(rng) -> Program:
    n, c = rng.randint(1, 4), rng.randint(2, 4)
    extra = (rng.randint(1, 3),) if rng.random() < 0.3 else ()
    logits = tensor(rng, (n, c) + extra, requires_grad=True, dtype=float_dtype(rng))
    target = nested([rng.randrange(c) for _ in range(numel((n,) + extra))], (n,) + extra)
    reduction = rng.choice(["mean", "sum", "none"])
    loss = rng.choice(["cross_entropy", "cross_entropy", "nll_loss", "mse_loss"])
    args = [f"reduction={reduction!r}"]
    if loss != "mse_loss":
        if rng.random() < 0.3:
            args.append(f"weight=torch.tensor({nested([rng.choice([0.5, 1.0, 2.0]) for _ in range(c)], (c,))})"
                        + (".double()" if "float64" in logits else ""))
        if rng.random() < 0.3:
            args.append(f"ignore_index={rng.randrange(c)}")
        if loss == "cross_entropy" and rng.random() < 0.4:
            args.append(f"label_smoothing={rng.choice([0.1, 0.25, 0.5])}")
        call = f"torch.nn.functional.{loss}(x, torch.tensor({target}), {', '.join(args)})"
    else:
        call = f"torch.nn.functional.mse_loss(x, {tensor(rng, (n, c) + extra)}, {', '.join(args)})"
    statements = [f"x = {logits}", f"y = {call}", weighted_backward("y")]
    return Program("course", 0, statements, ["y", "x"])


def family_training(rng) -> Program:
    """A few training steps: nn.Sequential of Linear and activations from the same weights, a loss,
    and an optimizer (SGD with momentum, dampening, nesterov, weight decay, maximize; Adam, AdamW with
    amsgrad), zero_grad / backward / step: the parameters and the losses after each step."""
    # Kept well-conditioned, so that a difference is a bug and not rounding noise made large: ReLU only
    # for one step (after a step, a pre-activation can land within rounding of its kink), and Adam with
    # an eps that swamps a gradient of rounding noise (with 1e-8, a gradient of 2e-9 that is 0 in exact
    # arithmetic moves a parameter by a fifth of lr, and its last digits decide how far).
    steps = rng.choice([1, 3])
    activations = ["torch.nn.Tanh()", "torch.nn.Sigmoid()"] + (["torch.nn.ReLU()"] if steps == 1 else [])
    sizes = [rng.randint(1, 3) for _ in range(rng.randint(2, 3))]
    layers, shapes = [], []
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(f"torch.nn.Linear({n_in}, {n_out}, bias={rng.random() < 0.8})")
        shapes += [(n_out, n_in)] + ([(n_out,)] if "True" in layers[-1] else [])
        if k < len(sizes) - 2 or rng.random() < 0.3:
            layers.append(rng.choice(activations))
    weights = ", ".join(nested(values(rng, s, pool=[-1.0, -0.5, 0.5, 1.0]), s) for s in shapes)
    optimizer = rng.choice([
        f"torch.optim.SGD(net.parameters(), lr={rng.choice([0.1, 0.5])}, momentum={rng.choice([0, 0.9])}, "
        f"dampening={rng.choice([0, 0.5])}, weight_decay={rng.choice([0, 0.01])}, maximize={rng.random() < 0.1})",
        f"torch.optim.SGD(net.parameters(), lr=0.25, momentum=0.5, nesterov=True)",
        f"torch.optim.Adam(net.parameters(), lr={rng.choice([0.01, 0.1])}, amsgrad={rng.random() < 0.3}, "
        f"weight_decay={rng.choice([0, 0.1])}, eps=1e-3)",
        f"torch.optim.AdamW(net.parameters(), lr=0.05, weight_decay={rng.choice([0.01, 0.1])}, eps=1e-3)"])
    n = rng.randint(1, 4)
    x = tensor(rng, (n, sizes[0]))
    loss = (f"torch.nn.functional.cross_entropy(net(x), torch.tensor({nested([rng.randrange(sizes[-1]) for _ in range(n)], (n,))}))"
            if sizes[-1] > 1 and rng.random() < 0.6 else f"torch.nn.functional.mse_loss(net(x), {tensor(rng, (n, sizes[-1]))})")
    statements = [
        f"net = torch.nn.Sequential({', '.join(layers)})",
        f"with torch.no_grad():\n    for p, v in zip(net.parameters(), [{weights}]):\n        p.copy_(torch.tensor(v))",
        f"x = {x}", f"opt = {optimizer}", "losses = []",
        f"for _ in range({steps}):\n    opt.zero_grad()\n    loss = {loss}\n    loss.backward()\n    opt.step()\n"
        "    losses.append(loss.item())",
    ]
    return Program("training", 0, statements, ["losses", "list(net.parameters())"])


FAMILIES = {name[len("family_"):]: fn for name, fn in globals().items() if name.startswith("family_")}


def generate(family: str, seed: int) -> Program:
    """The program number ``seed`` of ``family``: the same text every time, on every machine."""
    program = FAMILIES[family](random.Random(f"{family}:{seed}"))
    program.seed = seed
    return program
