"""``%autodiff`` and ``%%autodiff``: look inside automatic differentiation from a notebook cell.

Turn them on with ``%load_ext autodiff_nb``. The magics only parse their arguments and display what
the library returns -- ``autodiff_nb.viz.draw``, ``viz.tape_table``, ``viz.explain``,
``viz.GraphWidget``, ``viz.show_rule``, ``autograd.gradcheck``, ``autograd.grad``, ``func.jvp`` -- so everything a magic shows can
also be had from plain Python. ``%autodiff help`` lists the subcommands.

Expressions are evaluated in your namespace. Where you have not defined a name yourself, the
library's functions answer to their bare names, so ``%autodiff grad 2*dot(x, x) wrt x`` works
after ``import autodiff_nb as torch``.
"""
from __future__ import annotations

import argparse
import ast
import difflib
import io
import keyword
import tokenize

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from . import autograd, func, tape
from .tensor import Tensor


# ----------------------------------------------------------------------------- the parsers
class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake as IPython's UsageError (usage line + hint), never exits."""

    def __init__(self, prog, description, example, hint=None, usage=None):
        super().__init__(prog=prog, description=description, usage=usage, add_help=False,
                         epilog=f"example:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)
        self.example = example
        self.hint = hint or f"%autodiff help {prog.split()[-1]} explains every flag"

    def usage_line(self) -> str:
        return " ".join(self.format_usage().split())[len("usage: "):]

    def error(self, message):
        raise usage_error(self, message)


def usage_error(parser, problem, hint=None) -> UsageError:
    """The one shape of every mistake: what went wrong, the usage line, one hint."""
    return UsageError(f"{problem}\nusage: {parser.usage_line()}\nhint: {hint or parser.hint}")


def _build_parsers():
    p = {}
    graph = p["graph"] = _Parser("%autodiff graph", "Draw the recorded graph behind a tensor expression.",
                                 "%autodiff graph y")
    graph.add_argument("--no-values", action="store_true", help="leave the tensors' values out")
    graph.add_argument("--no-grads", action="store_true", help="leave the .grad of leaves out")
    graph.add_argument("--no-shapes", action="store_true", help="leave the shapes out")
    graph.add_argument("--repeats", choices=("fold", "show"), default="fold",
                       help="fold (default) draws a run of 3 or more identical ops as one node; show draws each")
    graph.add_argument("--color-by", choices=("grad", "value"), default=None,
                       help="shade the tensors by mean |grad| or mean |value| on a log scale")
    graph.add_argument("expr", metavar="EXPR", help="a tensor expression, e.g. y or (w * x).sum()")

    tape_ = p["tape"] = _Parser("%autodiff tape",
                                "The ops behind a tensor expression in record order: index, op, inputs' "
                                "shapes, output shape, saved values.", "%autodiff tape y")
    tape_.add_argument("expr", metavar="EXPR", help="a tensor expression")

    explain = p["explain"] = _Parser(
        "%autodiff explain", "The backward walk from a scalar as numbered chain-rule steps with numbers "
        "(--forward: the forward walk, tangents pushed from the leaves, seeded with ones). "
        "It runs on private copies: your tensors' .grad stay as they are.", "%autodiff explain y")
    explain.add_argument("--forward", action="store_true",
                         help="forward mode: one JVP per op from the leaves (tangent ones) to EXPR")
    explain.add_argument("expr", metavar="EXPR", help="a scalar tensor expression (any shape with --forward)")

    check = p["check"] = _Parser(
        "%autodiff check", "Gradient check: the engine's analytic gradient of FUNC(ARG, ...) against "
        "central differences in float64; the worst elements and a PASS/FAIL line.", "%autodiff check cube x",
        hint="FUNC is a function name (or a parenthesised lambda); each ARG is one expression, "
             "parenthesised if it holds spaces")
    check.add_argument("--eps", type=float, default=1e-6, help="finite-difference step (default 1e-6)")
    check.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance (default 1e-5)")
    check.add_argument("--rtol", type=float, default=1e-3, help="relative tolerance (default 1e-3)")
    check.add_argument("func", metavar="FUNC", help="the function to check")
    check.add_argument("args", metavar="ARG", nargs="+", help="its arguments (tensors)")

    grad = p["grad"] = _Parser(
        "%autodiff grad", "Value and gradients of a scalar expression with respect to named tensors, "
        "computed on fresh copies: your tensors and their .grad are untouched.",
        "%autodiff grad 2*dot(x, x) wrt x", usage="%(prog)s EXPR wrt NAME[, NAME ...]",
        hint="name the variables after 'wrt', e.g. %autodiff grad (w * x).sum() wrt w, x")
    grad.add_argument("expr", metavar="EXPR", help="a scalar tensor expression")
    grad.add_argument("names", metavar="NAME", nargs="+", help="the variables to differentiate by")

    jvp = p["jvp"] = _Parser(
        "%autodiff jvp", "Value and directional derivative d/dε EXPR(NAME + ε·V) at ε = 0, by forward mode "
        "(func.jvp, one pass on dual numbers). V defaults to ones of NAME's shape. Your tensors are untouched.",
        "%autodiff jvp 2*dot(x, x) wrt x along tensor([1., 0, 0, 0])", usage="%(prog)s EXPR wrt NAME [along V]",
        hint="name one variable after 'wrt' and, optionally, a direction of its shape after 'along', "
             "e.g. %autodiff jvp (x * x).sum() wrt x along ones(4)")
    jvp.add_argument("expr", metavar="EXPR", help="a tensor expression")
    jvp.add_argument("name", metavar="NAME", help="the variable to move")
    jvp.add_argument("along", metavar="V", nargs="?", help="the direction (default: ones of NAME's shape)")

    rule = p["rule"] = _Parser(
        "%autodiff rule", "One gradient rule of the engine's table (ops.RULES), read live: its grad_fn name, "
        "its forward, and per input the VJP's source and the words explain prints.", "%autodiff rule mul",
        hint="NAME is an op of the table (mul, matmul, sum ...) or a grad_fn name (MulBackward0)")
    rule.add_argument("name", metavar="NAME", help="an op (mul, matmul, sum) or a grad_fn name (MulBackward0)")

    help_ = p["help"] = _Parser("%autodiff help", "Usage of every subcommand, or all about one.",
                                "%autodiff help check")
    help_.add_argument("topic", metavar="SUBCOMMAND", nargs="?", help="one of: " + ", ".join(p))

    cell = p["%%autodiff"] = _Parser(
        "%%autodiff", "Run the cell while recording, then draw TARGET (default: the cell's last "
        "expression, else the last tensor it assigned) limited to the ops the cell ran.",
        "%%autodiff --backward", hint="%autodiff help %%autodiff explains every flag")
    cell.add_argument("--backward", action="store_true",
                      help="call TARGET.backward(retain_graph=True) (a scalar) and show the gradients")
    cell.add_argument("--step", action="store_true", help="open the step-by-step GraphWidget instead")
    cell.add_argument("--explain", action="store_true", help="print the chain-rule steps with numbers")
    cell.add_argument("--no-values", action="store_true", help="leave the values out of the drawing")
    cell.add_argument("--out", metavar="NAME", help="store the drawing (or widget) in variable NAME")
    cell.add_argument("target", metavar="TARGET", nargs="?", help="the tensor to draw")
    return p


PARSERS = _build_parsers()
SUBCOMMANDS = [name for name in PARSERS if not name.startswith("%")]


def overview() -> str:
    """``%autodiff help``: every usage line (generated by its parser), what it does, one example."""
    lines = ["%autodiff / %%autodiff: look inside automatic differentiation (%load_ext autodiff_nb).", ""]
    for name in [*SUBCOMMANDS, "%%autodiff"]:
        parser = PARSERS[name]
        lines += [f"  {parser.usage_line()}", f"      {parser.description}", f"      e.g. {parser.example}", ""]
    lines.append("EXPR, FUNC and ARG are Python evaluated in your namespace; the library's functions "
                 "(dot, exp, ...) answer to their bare names where you have not defined them.")
    lines.append("%autodiff help SUBCOMMAND shows its flags.")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- splitting lines
def _split_flags(parser, text):
    """Leading flags (checked against ``parser``) and the raw rest, which stays verbatim Python."""
    flags = []
    tokens = text.split()
    pos = 0
    while tokens:
        tok = tokens[0]
        if tok == "--":
            pos = text.index(tok, pos) + 2
            tokens.pop(0)
            break
        if not (tok.startswith("-") and len(tok) > 1 and (tok[1].isalpha() or tok.startswith("--"))):
            break
        name = tok.split("=", 1)[0]
        action = parser._option_string_actions.get(name)
        if action is None:
            close = difflib.get_close_matches(name, list(parser._option_string_actions), n=1, cutoff=0.75)
            raise usage_error(parser, f"unrecognized flag: {name}",
                              f"did you mean {close[0]}?" if close else
                              "put -- before an expression that starts with '-'" if len(name) == 2 else None)
        pos = text.index(tok, pos) + len(tok)
        flags.append(tokens.pop(0))
        if action.nargs != 0 and "=" not in tok and tokens:
            pos = text.index(tokens[0], pos) + len(tokens[0])
            flags.append(tokens.pop(0))
    return flags, text[pos:].strip()


def _tokens(text, parser):
    try:
        return [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)]
    except tokenize.TokenError:
        raise usage_error(parser, f"cannot read {text!r} as Python: a bracket or quote is not closed") from None
    except SyntaxError as exc:
        raise usage_error(parser, f"cannot read {text!r} as Python: {exc.msg}") from None


def _split_top_level(text, parser):
    """Split at whitespace outside brackets and strings: ``f (lambda x: x) t[0, 1]`` -> 3 parts."""
    parts, depth, start, prev_end = [], 0, None, None
    for tok in _tokens(text, parser):
        if depth == 0 and prev_end is not None and tok.start[1] > prev_end:
            parts.append(text[start:prev_end])
            start = None
        if start is None:
            start = tok.start[1]
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        prev_end = tok.end[1]
    if start is not None:
        parts.append(text[start:prev_end])
    return parts


def _last_top_level(text, word, parser):
    """The token of the last ``word`` outside brackets in ``text``, or None."""
    depth, cut = 0, None
    for tok in _tokens(text, parser):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif depth == 0 and tok.type == tokenize.NAME and tok.string == word:
            cut = tok
    return cut


def _split_wrt(text, parser):
    """``2*dot(x, x) wrt x, w`` -> ("2*dot(x, x)", ["x", "w"]), at the last top-level ``wrt``."""
    cut = _last_top_level(text, "wrt", parser)
    if cut is None:
        raise usage_error(parser, "missing 'wrt': which variables should the derivative be taken with respect to?")
    expr, names = text[:cut.start[1]].strip(), text[cut.end[1]:].replace(",", " ").split()
    if not expr:
        raise usage_error(parser, "missing the expression before 'wrt'")
    if not names:
        raise usage_error(parser, "missing the variable names after 'wrt'")
    for name in names:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise usage_error(parser, f"{name!r} is not a variable name",
                              "after 'wrt' list plain names (x, w), not expressions")
    return expr, names


def _split_jvp(text, parser):
    """``f(x) wrt x along v`` -> ["f(x)", "x", "v"] (the direction is optional)."""
    along, wrt = _last_top_level(text, "along", parser), _last_top_level(text, "wrt", parser)
    direction = []
    if along is not None and wrt is not None and along.start[1] > wrt.start[1]:
        direction = [text[along.end[1]:].strip()]
        text = text[:along.start[1]]
        if not direction[0]:
            raise usage_error(parser, "missing the direction after 'along'")
    expr, names = _split_wrt(text, parser)
    if len(names) != 1:
        raise usage_error(parser, f"jvp moves one variable, got {len(names)}: {', '.join(names)}",
                          "name one variable after 'wrt'; to move several, call func.jvp yourself")
    return [expr, names[0], *direction]


def parse_line(line):
    """``%autodiff`` line -> (subcommand, parsed args). Raises UsageError for every mistake."""
    sub, _, rest = line.strip().partition(" ")
    if not sub:
        raise UsageError("%autodiff needs a subcommand: " + ", ".join(SUBCOMMANDS) +
                         "\nusage: %autodiff SUBCOMMAND ...\nhint: %autodiff help shows each with an example")
    if sub in ("-h", "--help", "?"):
        sub, rest = "help", ""
    parser = PARSERS.get(sub)
    if parser is None or sub.startswith("%"):
        close = difflib.get_close_matches(sub, SUBCOMMANDS, n=1)
        raise UsageError(f"unknown subcommand {sub!r}; the subcommands are: {', '.join(SUBCOMMANDS)}"
                         "\nusage: %autodiff SUBCOMMAND ...\nhint: " +
                         (f"did you mean %autodiff {close[0]}?" if close else "%autodiff help lists them"))
    flags, rest = _split_flags(parser, rest)
    if sub == "check":
        positionals = _split_top_level(rest, parser) if rest else []
    elif sub == "grad":
        expr, names = _split_wrt(rest, parser)
        positionals = [expr, *names]
    elif sub == "jvp":
        positionals = _split_jvp(rest, parser)
    elif sub in ("help", "rule"):
        positionals = rest.split()
    else:
        positionals = [rest] if rest else []
    return sub, parser.parse_args(flags + ["--", *positionals] if positionals else flags)


def parse_cell_line(line):
    parser = PARSERS["%%autodiff"]
    flags, rest = _split_flags(parser, line.strip())
    args = parser.parse_args(flags)
    args.target = rest or None
    if args.out is not None and (not args.out.isidentifier() or keyword.iskeyword(args.out)):
        raise usage_error(parser, f"--out needs a variable name, got {args.out!r}")
    return args


# ----------------------------------------------------------------------------- plain + rich results
class _Result:
    """Text for terminals, a little HTML for notebooks; the magics' own small outputs. ``data``
    keeps the numbers shown (e.g. jvp's ``(value, tangent)``) for whoever holds the object."""

    def __init__(self, text, html, data=None):
        self.text, self.html, self.data = text, html, data

    def __repr__(self):
        return self.text

    def _repr_html_(self):
        return self.html


def _escape(text):
    import html

    return html.escape(str(text))


def _grad_result(expr, value, grads):
    text = [f"{expr} = {value!r}"] + [f"d/d{name} = {g!r}" for name, g in grads]
    rows = "".join(f"<tr><td><code>d/d{_escape(name)}</code></td><td><pre>{_escape(repr(g))}</pre></td></tr>"
                   for name, g in grads)
    html = (f"<table><tr><td><code>{_escape(expr)}</code></td><td><pre>{_escape(repr(value))}</pre></td></tr>"
            f"{rows}</table>")
    return _Result("\n".join(text), html)


def _jvp_result(expr, name, direction, value, tangent):
    where = f"d/dε at ε = 0, {name} → {name} + ε·{direction}"
    text = f"{expr} = {value!r}\njvp ({where}) = {tangent!r}"
    html = (f"<table><tr><td><code>{_escape(expr)}</code></td><td><pre>{_escape(repr(value))}</pre></td></tr>"
            f"<tr><td><code>jvp</code> ({_escape(where)})</td><td><pre>{_escape(repr(tangent))}</pre></td></tr></table>")
    return _Result(text, html, (value, tangent))


def _check_result(call, report):
    text = f"gradcheck {call}\n{report.text()}"
    verdict = "PASS" if report.passed else "FAIL"
    colour = "#1a7f37" if report.passed else "#cf222e"
    rows = "".join(f"<tr><td>{m.input_index}</td><td>{_escape(m.element)}</td><td>{m.analytic:.6g}</td>"
                   f"<td>{m.numeric:.6g}</td><td>{m.error:.2e}</td></tr>" for m in report.worst)
    html = (f"<div><code>gradcheck {_escape(call)}</code><table><tr><th>input</th><th>element</th>"
            f"<th>analytic</th><th>numeric</th><th>|diff|</th></tr>{rows}</table>"
            f"<p><b style='color:{colour}'>{verdict}</b>: max |analytic &minus; numeric| = "
            f"{report.max_error:.2e} (atol={report.atol:g}, rtol={report.rtol:g})</p></div>")
    return _Result(text, html)


def _leaf_grads_result(target, names):
    """After --backward: each named leaf of TARGET's graph with its .grad."""
    by_id = {id(t): n for n, t in names.items()}
    lines = []
    for node in tape.backward_order([target.grad_fn]):
        if isinstance(node, tape.AccumulateGrad) and node.variable is not None:
            leaf = node.variable
            lines.append(f"{by_id.get(id(leaf), 'leaf ' + str(tuple(leaf.shape)))}.grad = {leaf.grad!r}")
    text = "\n".join(reversed(lines))
    return _Result(text, f"<pre>{_escape(text)}</pre>")


# ----------------------------------------------------------------------------- the magics
def _a(noun):
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _wrapped(expr):
    return expr if expr.isidentifier() else f"({expr})"


def _library_names():
    import builtins

    import autodiff_nb

    return {name: getattr(autodiff_nb, name) for name in dir(autodiff_nb)
            if not name.startswith("_") and not hasattr(builtins, name)}


@magics_class
class AutodiffMagics(Magics):
    """``%autodiff SUBCOMMAND ...`` and ``%%autodiff [flags] [TARGET]``: see ``overview()``."""

    @line_cell_magic
    def autodiff(self, line, cell=None):
        __tracebackhide__ = True  # noqa: F841  (IPython leaves this frame out of tracebacks)
        if cell is not None:
            return self._cell(line, cell)
        sub, args = parse_line(line)
        getattr(self, "_" + sub)(args)

    # ------------------------------------------------------------------ evaluation
    def _namespace(self):
        """One globals dict for eval: the library's names underneath the user's (the user's win).

        A fresh dict each time, so the user's namespace is never changed and lambdas and
        comprehensions (which only see globals, not eval's locals) find the library names too.
        """
        namespace = _library_names()
        namespace.update(self.shell.user_ns)
        return namespace

    def _eval(self, expr, parser, what="EXPR"):
        """Evaluate user Python; any error becomes a UsageError naming the expression."""
        __tracebackhide__ = True  # noqa: F841
        try:
            code = compile(expr, "<%autodiff>", "eval")
        except SyntaxError as exc:
            raise usage_error(parser, f"{what} {expr!r} is not a Python expression: {exc.msg}") from None
        try:
            return eval(code, self._namespace())
        except NameError as exc:
            raise usage_error(parser, f"name {exc.name!r} is not defined" if exc.name else str(exc),
                              "run the cell that defines it first, or check the spelling") from None
        except Exception as exc:  # the user's code failed: say so plainly, point to the full traceback
            raise usage_error(parser, f"evaluating {expr!r} raised {type(exc).__name__}: {exc}",
                              f"run {expr} in a cell of its own to see the full traceback") from None

    def _tensor(self, expr, parser, *, scalar=False, recorded=True, value=None):
        __tracebackhide__ = True  # noqa: F841
        t = self._eval(expr, parser) if value is None else value
        if not isinstance(t, Tensor):
            raise usage_error(parser, f"{expr} is {_a(type(t).__name__)}, not a tensor",
                              "give an expression whose value is an autodiff_nb tensor")
        if recorded and not t.requires_grad:
            raise usage_error(parser, f"{expr} has no recorded history: it does not require grad",
                              "create its inputs with requires_grad=True (or x.requires_grad_()) before "
                              "computing it, and not inside no_grad()")
        if scalar and t.numel() != 1:
            raise usage_error(parser, f"{expr} has shape {tuple(t.shape)}; this needs a scalar (one element)",
                              f"reduce it first, e.g. {_wrapped(expr)}.sum()")
        return t

    def _names(self):
        """The user's variables that hold tensors, so drawings can label nodes by name."""
        return {name: value for name, value in self.shell.user_ns.items()
                if isinstance(value, Tensor) and not name.startswith("_")}

    # ------------------------------------------------------------------ subcommands
    def _help(self, args):
        if args.topic is None:
            print(overview())
            return
        topic = args.topic if args.topic in PARSERS else args.topic.lstrip("%")
        if topic == "autodiff":
            topic = "%%autodiff"
        parser = PARSERS.get(topic)
        if parser is None:
            raise usage_error(PARSERS["help"], f"no subcommand {args.topic!r}")
        print(parser.format_help().rstrip())

    def _rule(self, args):
        from .ops import RULES
        from .viz.rules import close_rule_names, rule_key, show_rule

        if rule_key(args.name) is None:
            close = close_rule_names(args.name)
            raise usage_error(PARSERS["rule"], f"no rule {args.name!r} in the table",
                              f"did you mean {' or '.join(close)}?" if close else
                              "the rules are: " + ", ".join(RULES))
        print(show_rule(args.name))

    def _graph(self, args):
        from . import viz

        t = self._tensor(args.expr, PARSERS["graph"])
        display(viz.draw(t, names=self._names(), values=not args.no_values, grads=not args.no_grads,
                         shapes=not args.no_shapes, repeats=args.repeats, color_by=args.color_by))

    def _tape(self, args):
        from . import viz

        display(viz.tape_table(self._tensor(args.expr, PARSERS["tape"]), names=self._names()))

    def _explain(self, args):
        from . import viz

        parser = PARSERS["explain"]
        t = self._tensor(args.expr, parser, scalar=not args.forward)
        mode = "forward" if args.forward else "reverse"
        display(self._library_call(lambda: viz.explain(t, names=self._names(), mode=mode), parser))

    def _check(self, args):
        parser = PARSERS["check"]
        func = self._eval(args.func, parser, "FUNC")
        if not callable(func):
            raise usage_error(parser, f"FUNC {args.func} is {_a(type(func).__name__)}, not a function")
        inputs = [self._eval(a, parser, "ARG") for a in args.args]
        if not any(isinstance(x, Tensor) and x.dtype.is_floating_point for x in inputs):
            raise usage_error(parser, "no ARG is a floating-point tensor, so there is no gradient to check",
                              "pass tensors such as torch.randn(3) (integer tensors have no gradient)")
        call = f"{args.func}({', '.join(args.args)})"

        def run():
            return autograd.gradcheck(func, tuple(inputs), eps=args.eps, atol=args.atol, rtol=args.rtol,
                                      raise_exception=False, report=True)

        display(_check_result(call, self._library_call(run, parser, call, catch=Exception)))

    def _grad(self, args):
        parser = PARSERS["grad"]
        user_ns = self.shell.user_ns
        fresh = {}
        for name in args.names:
            if name not in user_ns:
                raise usage_error(parser, f"name {name!r} is not defined", "define it in a cell first")
            x = self._tensor(name, parser, recorded=False, value=user_ns[name])
            if not x.dtype.is_floating_point:
                raise usage_error(parser, f"{name} is {x.dtype}: only floating-point tensors have gradients",
                                  f"use {name}.float(), or create it with a float, e.g. torch.arange(4.0)")
            fresh[name] = x.detach().clone().requires_grad_()
        # The fresh copies stand in for the user's tensors while EXPR runs (functions that read the
        # globals see them too); the user's own tensors come back whatever happens.
        saved = {name: user_ns[name] for name in fresh}
        user_ns.update(fresh)
        try:
            out = self._eval(args.expr, parser)
        finally:
            user_ns.update(saved)
        out = self._tensor(args.expr, parser, scalar=True, recorded=False, value=out)
        if not out.requires_grad:
            raise usage_error(parser, f"{args.expr} does not depend on {', '.join(fresh)}",
                              "name the variables the expression is computed from")
        grads = self._library_call(lambda: autograd.grad(out, list(fresh.values()), allow_unused=True), parser)
        pairs = [(name, g if g is not None else x.detach() * 0) for (name, x), g in zip(fresh.items(), grads)]
        display(_grad_result(args.expr, out.detach(), pairs))

    def _jvp(self, args):
        parser = PARSERS["jvp"]
        user_ns = self.shell.user_ns
        if args.name not in user_ns:
            raise usage_error(parser, f"name {args.name!r} is not defined", "define it in a cell first")
        x = self._tensor(args.name, parser, recorded=False, value=user_ns[args.name])
        if not x.dtype.is_floating_point:
            raise usage_error(parser, f"Expected primal to be floating point or complex, but got: {x.dtype}",
                              f"only floating-point tensors have tangents: use {args.name}.float()")
        direction = self._direction(args, x, parser)

        def f(moved):  # EXPR with NAME standing for the dual tensor; the user's own comes back after
            user_ns[args.name] = moved
            try:
                return self._eval(args.expr, parser)
            finally:
                user_ns[args.name] = x

        value, tangent = self._library_call(lambda: func.jvp(f, (x.detach(),), (direction,)), parser,
                                            f"jvp of {args.expr}")
        display(_jvp_result(args.expr, args.name, args.along or f"ones({', '.join(map(str, x.shape))})", value, tangent))

    def _direction(self, args, x, parser):
        """V as a tensor of NAME's dtype and shape (ones when not given), or a UsageError that says why not."""
        from .creation import tensor

        if args.along is None:
            return x.detach() * 0 + 1
        v = self._eval(args.along, parser, "V")
        try:
            v = tensor(getattr(v, "array", v), dtype=x.dtype)
        except (TypeError, ValueError) as exc:
            raise usage_error(parser, f"V {args.along} is not a direction: {exc}",
                              f"give a tensor of {args.name}'s shape {tuple(x.shape)}") from None
        if tuple(v.shape) != tuple(x.shape):
            raise usage_error(parser, "Trying to set a forward gradient that has a different size than that of the "
                              f"original Tensor, this is not supported. Tensor is of size {list(x.shape)} while "
                              f"the given forward gradient is of size {list(v.shape)}.",
                              f"V ({args.along}) must have {args.name}'s shape {tuple(x.shape)}")
        return v

    def _library_call(self, fn, parser, what=None, catch=(RuntimeError, ValueError, TypeError, ArithmeticError)):
        """Run a library call; an engine error (e.g. a freed graph) becomes a UsageError with its fix.

        ``catch`` widens to every exception where the call runs the user's own function (check).
        """
        __tracebackhide__ = True  # noqa: F841
        try:
            return fn()
        except catch as exc:
            first, _, fix = str(exc).partition("\n")
            prefix = f"{what} raised {type(exc).__name__}: " if what else ""
            raise usage_error(parser, prefix + first, fix or None) from None

    # ------------------------------------------------------------------ the cell magic
    def _cell(self, line, cell):
        __tracebackhide__ = True  # noqa: F841
        from . import viz

        parser = PARSERS["%%autodiff"]
        args = parse_cell_line(line)
        source = self.shell.transform_cell(cell)
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            raise usage_error(parser, f"the cell is not valid Python: {exc.msg} (line {exc.lineno})",
                              "fix the cell; the flags go on the %%autodiff line") from None
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        filename = self.shell.compile.cache(source, self.shell.execution_count)
        user_ns = self.shell.user_ns
        first_seq = next(tape._next_seq)  # every node the cell records gets a seq above this one
        exec(compile(tree, filename, "exec"), user_ns)
        value = eval(compile(ast.Expression(last.value), filename, "eval"), user_ns) if last else None

        if args.target is not None:
            target, label = self._eval(args.target, parser, "TARGET"), args.target
        elif isinstance(value, Tensor):
            target, label = value, ast.unparse(last.value)
        else:
            label = _last_assigned_tensor(ast.parse(source), user_ns)
            if label is None:
                raise usage_error(parser, "the cell made no tensor to draw",
                                  "end the cell with the tensor, or name it: %%autodiff y")
            target = user_ns[label]
        target = self._tensor(label, parser, scalar=args.backward or args.explain, value=target)

        names = self._names()
        if args.backward:
            self._library_call(lambda: target.backward(retain_graph=True), parser, f"{label}.backward()")
        if args.step:
            shown = viz.GraphWidget(target, names=names)
            shown.values = not args.no_values
        else:
            shown = viz.draw(target, names=names, values=not args.no_values,
                             **_cut(viz.draw, first_seq))
        display(shown)
        if args.backward:
            display(_leaf_grads_result(target, names))
        if args.explain:
            display(self._library_call(lambda: viz.explain(target, names=names), parser))
        if args.out is not None:
            user_ns[args.out] = shown


def _cut(draw, first_seq):
    """``since=first_seq`` when ``draw`` can limit a drawing to the ops recorded after that seq."""
    import inspect

    return {"since": first_seq} if "since" in inspect.signature(draw).parameters else {}


def _last_assigned_tensor(tree, user_ns):
    """The last name, in source order, that the cell assigns and that now holds a tensor."""
    assigned = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, (ast.For, ast.With)):
            targets = [node.target] if isinstance(node, ast.For) else [i.optional_vars for i in node.items]
        for tgt in targets:
            assigned.extend((n.lineno, n.col_offset, n.id) for n in _bound_names(tgt))
    for _, _, name in sorted(assigned, reverse=True):
        if isinstance(user_ns.get(name), Tensor):
            return name
    return None


def _bound_names(target):
    """The ``ast.Name`` nodes a target binds: a bare name, or names inside tuple/list unpacking.

    ``x.grad = ...`` and ``w[0] = ...`` bind no variable (they change an existing object), so
    attribute and subscript targets contribute nothing.
    """
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for elt in target.elts for name in _bound_names(elt)]
    return []


AutodiffMagics.autodiff.__doc__ = overview()


def load_ipython_extension(ipython):
    """``%load_ext autodiff_nb``: register ``%autodiff`` and ``%%autodiff``."""
    ipython.register_magics(AutodiffMagics)


def unload_ipython_extension(ipython):
    """``%unload_ext autodiff_nb``: remove them again."""
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop("autodiff", None)
    manager.registry.pop(AutodiffMagics.__name__, None)
