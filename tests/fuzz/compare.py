"""Run one program on PyTorch and on autodiff_nb, and list what differed.

Each run happens in a fresh namespace holding only ``torch`` and ``np``. Statements run in order until
one raises; the observed expressions are evaluated afterwards either way (after a refused in-place op,
``x`` must be unchanged on both). Every observed value becomes a plain snapshot, so the comparison never
holds a live tensor of either library.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .programs import Program


@dataclass(frozen=True)
class Diff:
    """One difference: ``where`` (a statement or an observed expression), the ``field`` that differs
    (raise, type, message, kind, shape, dtype, values, requires_grad, is_leaf, grad_fn, repr, value;
    ``grad.``-prefixed for a leaf's gradient) and each side's value as text."""
    where: str
    field: str
    torch: str
    engine: str

    def __str__(self):
        if "\n" in self.torch + self.engine:
            return f"{self.where}: {self.field}:\n  torch:  {self.torch!s}\n  engine: {self.engine!s}"
        return f"{self.where}: {self.field}: torch {self.torch} | engine {self.engine}"


@dataclass
class Divergence:
    program: Program
    diffs: list[Diff]

    @property
    def family(self):
        return self.program.family

    @property
    def source(self):
        return self.program.source

    def has(self, field=None, *, torch=None, engine=None, where=None) -> bool:
        """True when some difference matches every given part (``in`` for text parts): for known.py."""
        return any((field is None or d.field == field) and (where is None or where in d.where)
                   and (torch is None or torch in d.torch) and (engine is None or engine in d.engine)
                   for d in self.diffs)

    def only(self, *fields) -> bool:
        """True when every difference is in one of ``fields``."""
        return all(d.field in fields for d in self.diffs)

    def only_grad_fn(self, *pairs) -> bool:
        """True when every difference is a grad_fn name (or a repr that differs only by it), each
        (PyTorch's name, the engine's name) one of ``pairs``."""
        def renamed(d):   # a longer name can wrap the repr's last line elsewhere: ignore whitespace
            return any("".join(d.engine.replace(f"<{e}>", f"<{t}>").split()) == "".join(d.torch.split())
                       for t, e in pairs)
        return all((d.field.endswith("grad_fn") and (d.torch, d.engine) in pairs)
                   or (d.field.endswith("repr") and renamed(d)) for d in self.diffs)


# ----------------------------------------------------------------------------------- running
def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else ""


def raised(error):
    return {"kind": "raise", "type": type(error).__name__, "message": first_line(error)}


def run(module, program: Program) -> dict:
    """Snapshots of one run: ``{"statements": raised-or-None, "observed": {expr: snapshot}}``."""
    namespace = {"torch": module, "np": np, "__builtins__": __builtins__}
    outcome = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # .grad of a non-leaf warns; warnings are not compared
        for index, statement in enumerate(program.statements):
            try:
                exec(compile(statement, f"<statement {index}>", "exec"), namespace)
            except Exception as error:   # noqa: BLE001: raising is part of what is compared
                outcome = dict(raised(error), index=index)
                break
        observed = {}
        for expr in program.observe:
            try:
                observed[expr] = snapshot(eval(expr, namespace), module)
            except Exception as error:   # noqa: BLE001
                observed[expr] = raised(error)
    return {"statements": outcome, "observed": observed}


def grad_fn_name(t):
    # PyTorch's C++ nodes name themselves with their namespace ("torch::autograd::CopySlices"); the
    # class name, what repr prints in grad_fn=<...>, is what a reader sees.
    return None if t.grad_fn is None else t.grad_fn.name().rsplit("::", 1)[-1]


def snapshot(value, module, depth=0):
    """A plain description of ``value``: tensors field by field, containers item by item."""
    if isinstance(value, module.Tensor):
        array = value.detach().numpy().copy()
        shot = {"kind": "tensor", "shape": tuple(value.shape), "dtype": str(value.dtype), "values": array,
                "requires_grad": value.requires_grad, "is_leaf": value.is_leaf,
                "grad_fn": grad_fn_name(value), "repr": repr(value)}
        if depth == 0:
            shot["grad"] = snapshot(value.grad, module, depth + 1)
        return shot
    if isinstance(value, np.ndarray):
        return {"kind": "ndarray", "shape": value.shape, "dtype": str(value.dtype), "values": value.copy()}
    if isinstance(value, (tuple, list)):
        return {"kind": type(value).__name__, "items": [snapshot(v, module, depth) for v in value]}
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return {"kind": type(value).__name__, "value": value}
    return {"kind": "other", "value": repr(value)}


# ----------------------------------------------------------------------------------- comparing
def tolerance(dtype: str):
    # float32: third derivatives summed in another order drift by a few ulps times the terms
    return {"torch.float64": (1e-9, 1e-12), "torch.float16": (1e-3, 1e-3)}.get(dtype, (1e-4, 1e-5))


def arrays_match(a, b, dtype="", signed_zeros=True) -> tuple[bool, bool]:
    """(close enough, bit for bit): NaN equals NaN; with ``signed_zeros`` a zero's sign must agree."""
    if a.shape != b.shape:
        return False, False
    exact = a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if not signed_zeros and a.dtype == b.dtype and a.dtype.kind == "f":   # -0. and 0. print differently
        exact = exact or np.array_equal(np.where(a == 0, 0, a), np.where(b == 0, 0, b), equal_nan=True)
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        rtol, atol = tolerance(dtype)
        close = np.allclose(a64, b64, rtol=rtol, atol=atol, equal_nan=True)
        zeros = (a64 == 0) & (b64 == 0)
        if signed_zeros:
            close = close and np.array_equal(np.signbit(a64[zeros]), np.signbit(b64[zeros]))
        return close, exact
    return np.array_equal(a, b), exact


def short(array) -> str:
    return np.array2string(np.asarray(array), threshold=20, separator=", ").replace("\n", "")


def compare_shots(where, t, e, diffs, prefix="", signed_zeros=True):
    if t["kind"] != e["kind"]:
        diffs.append(Diff(where, prefix + "kind", describe(t), describe(e)))
        return
    kind = t["kind"]
    if kind == "raise":
        for part in ("type", "message"):
            if t[part] != e[part] and not (part == "message" and same_first_sentence(t[part], e[part])):
                diffs.append(Diff(where, prefix + part, t[part], e[part]))
        return
    if kind in ("tensor", "ndarray"):
        for part in ("shape", "dtype"):
            if t[part] != e[part]:
                diffs.append(Diff(where, prefix + part, str(t[part]), str(e[part])))
        close, exact = arrays_match(t["values"], e["values"], t["dtype"], signed_zeros)
        if not close:
            diffs.append(Diff(where, prefix + "values", short(t["values"]), short(e["values"])))
        if kind == "tensor":
            for part in ("requires_grad", "is_leaf", "grad_fn"):
                if t[part] != e[part]:
                    diffs.append(Diff(where, prefix + part, str(t[part]), str(e[part])))
            # Printed digits may differ by one where the values differ in the last bit; that is the
            # arithmetic's business, not the printer's, so repr is compared when the values are equal.
            if exact and t["repr"] != e["repr"] and (signed_zeros or "-0." not in t["repr"] + e["repr"]):
                diffs.append(Diff(where, prefix + "repr", t["repr"], e["repr"]))
            if "grad" in t:
                compare_shots(where, t["grad"], e["grad"], diffs, prefix + "grad.", signed_zeros)
        return
    if "items" in t:
        if len(t["items"]) != len(e["items"]):
            diffs.append(Diff(where, prefix + "length", str(len(t["items"])), str(len(e["items"]))))
            return
        for i, (ti, ei) in enumerate(zip(t["items"], e["items"])):
            compare_shots(f"{where}[{i}]", ti, ei, diffs, prefix, signed_zeros)
        return
    tv, ev = t["value"], e["value"]
    if isinstance(tv, float) and isinstance(ev, float):
        if not arrays_match(np.array(tv), np.array(ev))[0]:
            diffs.append(Diff(where, prefix + "value", repr(tv), repr(ev)))
    elif tv != ev or type(tv) is not type(ev):
        diffs.append(Diff(where, prefix + "value", repr(tv), repr(ev)))


def same_first_sentence(torch_line: str, engine_line: str) -> bool:
    """PyTorch sometimes runs a hint on in the same line ("... instead. Hint: ..."); the engine puts its
    hint on a line of its own. The engine's line may stop at a sentence end inside PyTorch's line."""
    return bool(engine_line) and engine_line.endswith(".") and torch_line.startswith(engine_line + " ")


def describe(shot) -> str:
    if shot["kind"] == "raise":
        return f"raises {shot['type']}: {shot['message']}"
    if shot["kind"] == "tensor":
        return shot["repr"]
    if shot["kind"] == "ndarray":
        return f"ndarray {shot['dtype']} {short(shot['values'])}"
    if "items" in shot:
        return f"{shot['kind']} of {len(shot['items'])}"
    return f"{shot['kind']} {shot['value']!r}"


def differences(torch_run: dict, engine_run: dict, program: Program) -> list[Diff]:
    diffs = []
    ts, es = torch_run["statements"], engine_run["statements"]
    if ts != es:
        t_where = "no raise" if ts is None else f"statement {ts['index'] + 1} raises {ts['type']}: {ts['message']}"
        e_where = "no raise" if es is None else f"statement {es['index'] + 1} raises {es['type']}: {es['message']}"
        if ts is None or es is None or ts["index"] != es["index"]:
            # the runs went different ways: what is observed afterwards would only repeat that
            return [Diff("statements", "raise", t_where, e_where)]
        else:
            compare_shots(f"statement {ts['index'] + 1}", ts, es, diffs)
    for expr in program.observe:
        compare_shots(expr, torch_run["observed"][expr], engine_run["observed"][expr], diffs,
                      signed_zeros=program.signed_zeros)
    return diffs


def check(program: Program, torch_module, engine_module) -> Divergence | None:
    """Run ``program`` on both libraries; a Divergence listing what differed, or None."""
    diffs = differences(run(torch_module, program), run(engine_module, program), program)
    return Divergence(program, diffs) if diffs else None
