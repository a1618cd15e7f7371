"""One gradient rule as you would read it in ``ops.py``: read from the live table, never copied.

>>> print(show_rule("mul"))
mul: MulBackward0
forward: np.multiply
backward, per input (g is the gradient that reached the output):
  a: lambda xp, g, b: g * b
     words: {b} · {g}
  b: lambda xp, g, a: g * a
     words: {a} · {g}

``%autodiff rule mul`` prints the same. A lambda shows as its own source text, trimmed to the
lambda; a named function as its name and signature (``inspect.getsource`` shows its body).
"""
from __future__ import annotations

import ast
import difflib
import inspect
import linecache

from ..ops import RULES


class RuleText:
    """The text of one rule (``str()``/``repr()``); ``.name``, ``.forward`` and per input ``.inputs``
    as ``(input name, VJP text, words)``."""

    def __init__(self, key, rule):
        self.key = key
        self.name = rule.name
        self.forward = code_text(rule.forward)
        self.variadic = rule.variadic
        self.inputs = [(name, None if vjp is None else code_text(vjp), words)
                       for name, vjp, words in zip(rule.input_names, rule.vjps, rule.words)]

    def lines(self):
        out = [f"{self.key}: {self.name}", f"forward: {self.forward}",
               "backward, per input (g is the gradient that reached the output):"]
        for name, vjp, words in self.inputs:
            if vjp is None:
                out.append(f"  {name}: no gradient (its VJP is None)")
                continue
            every = " (every input; i is its position)" if self.variadic else ""
            out += [f"  {name}{every}: {vjp}", f"     words: {words}"]
        return out

    def __repr__(self):
        return "\n".join(self.lines())

    __str__ = __repr__


def rule_key(name):
    """``"mul"`` or ``"MulBackward0"`` -> the key in ``ops.RULES``; None when there is none."""
    if name in RULES:
        return name
    return next((key for key, rule in RULES.items() if rule.name == name), None)


def close_rule_names(name, n=3):
    """The rule keys (or grad_fn names) nearest a misspelled ``name``."""
    names = list(RULES) + sorted({rule.name for rule in RULES.values()})
    return difflib.get_close_matches(name, names, n=n, cutoff=0.6)


def show_rule(name) -> RuleText:
    """The rule behind an op: its grad_fn name, its forward, and per input the VJP and its words.

    ``name`` is a key of ``ops.RULES`` (``"mul"``, ``"matmul"``, ``"sum"``) or a grad_fn name
    (``"MulBackward0"``).
    """
    key = rule_key(name)
    if key is None:
        close = close_rule_names(name)
        hint = f"; did you mean {' or '.join(close)}?" if close else f"; the rules are: {', '.join(RULES)}"
        raise KeyError(f"no rule {name!r}{hint}")
    return RuleText(key, RULES[key])


# ------------------------------------------------------------------------------ source text
def code_text(fn) -> str:
    """A lambda's own text (``lambda xp, g, b: g * b``); numpy's functions as ``np.multiply``;
    any other function as its name and signature."""
    if getattr(fn, "__name__", None) == "<lambda>":
        text = lambda_text(fn)
        if text is not None:
            return text
    name = getattr(fn, "__name__", repr(fn))
    if (getattr(fn, "__module__", None) or "").split(".")[0] == "numpy" or type(fn).__name__ == "ufunc":
        return f"np.{name}"
    try:
        return f"{name}{inspect.signature(fn)}"
    except (TypeError, ValueError):
        return name


def lambda_text(fn) -> str | None:
    """The source of the lambda ``fn`` alone, cut out of its line (which may hold other code)."""
    code = fn.__code__
    source = "".join(linecache.getlines(code.co_filename))
    if not source:
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    params = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    found = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno
             and [a.arg for a in node.args.args + node.args.kwonlyargs] == params]
    if len(found) > 1:  # two lambdas with the same parameters on one line: the columns decide
        spans = [(line, col) for line, _, col, _ in code.co_positions() if line is not None and col is not None]
        found = [node for node in found if any(_within(node.body, where) for where in spans)] or found[:1]
    if not found:
        return None
    return " ".join(ast.get_source_segment(source, found[0]).split())


def _within(node, where):
    line, col = where
    return (node.lineno, node.col_offset) <= (line, col) <= (node.end_lineno, node.end_col_offset)
