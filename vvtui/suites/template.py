"""Templated probes: `{{...}}` placeholders drawn from a run seed, and a small safe evaluator.

A placeholder is either a generator (`{{int 100 999}}`, `{{float 0 1 2}}`, `{{choice a|b|c}}`,
`{{word}}`, `{{eword}}`, `{{name}}`, `{{city}}`, `{{digits 24}}`, `{{letters 12 abr}}`,
`{{words 8}}`, `{{filler 200}}`) drawing a fresh value, or an expression over the probe's named
parameters (`{{a * b - c}}`, `{{count(w, "e")}}`). Named parameters are declared per probe
(`[probe.params] a = "int 100 999"`, or `p = "= a * b"` for a derived value) and drawn before
anything else, in declaration order, so checks and the answer can refer to them.

Draws come from `random.Random` seeded by (run seed, suite, probe id): the same seed renders the
same probes, another seed other values, and one probe's draws never shift another's.

The evaluator walks the expression's AST and allows numbers, strings, names, + - * / // % and a
bounded **, and the functions in `FUNCTIONS`. Nothing else: no attributes, subscripts,
comprehensions or calls to anything not listed, so a probe file cannot run code.
"""

from __future__ import annotations

import ast
import hashlib
import math
import random
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from vvtui.suites import vocab

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")

MAX_EXPR_CHARS = 300
MAX_TEXT = 200_000  # characters a single rendered value may reach (filler included)
MAX_INT = 10**40
MAX_EXPONENT = 64
MAX_COUNT = 3000  # sentences, digits, letters or words one generator may produce


class TemplateError(ValueError):
    """A placeholder or parameter that cannot be drawn or evaluated; the loader adds the place."""


# --------------------------------------------------------------------------------------------
# Seeding


def probe_rng(seed: int, suite: str, probe_id: str) -> random.Random:
    """The probe's own random stream: independent of every other probe and of load order."""
    digest = hashlib.sha256(f"{seed}\x00{suite}\x00{probe_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# --------------------------------------------------------------------------------------------
# Formatting


def format_value(value: Any) -> str:
    """Text for a drawn or computed value: integers plainly, floats without float noise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TemplateError(f"the value {value} is not a finite number")
        text = f"{value:.10f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value)


# --------------------------------------------------------------------------------------------
# Generators


def _int_arg(raw: str, params: Mapping[str, Any], what: str) -> int:
    raw = raw.strip()
    value: Any
    if re.fullmatch(r"[+-]?\d+", raw):
        value = int(raw)
    elif raw in params:
        value = params[raw]
    else:
        raise TemplateError(f"{what} must be an integer or a parameter name, not {raw!r}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TemplateError(f"{what} must be an integer, but {raw} is {value!r}")
    if abs(value) > 10**18:
        raise TemplateError(f"{what} {value} is out of range")
    return value


def _count_arg(raw: str, params: Mapping[str, Any], what: str, low: int = 1) -> int:
    n = _int_arg(raw, params, what)
    if not low <= n <= MAX_COUNT:
        raise TemplateError(f"{what} must be between {low} and {MAX_COUNT}, not {n}")
    return n


def _args(args: list[str], low: int, high: int, usage: str) -> list[str]:
    if not low <= len(args) <= high:
        raise TemplateError(f"usage: {usage}")
    return args


def _gen_int(rng: random.Random, rest: str, params: Mapping[str, Any]) -> int:
    a, b = _args(rest.split(), 2, 2, "{{int LOW HIGH}}")
    low, high = _int_arg(a, params, "LOW"), _int_arg(b, params, "HIGH")
    if low > high:
        raise TemplateError(f"int: LOW {low} is greater than HIGH {high}")
    return rng.randint(low, high)


def _gen_float(rng: random.Random, rest: str, params: Mapping[str, Any]) -> float:
    parts = _args(rest.split(), 2, 3, "{{float LOW HIGH DECIMALS}}")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise TemplateError("float: LOW and HIGH must be numbers") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise TemplateError(f"float: need finite LOW <= HIGH, not {parts[0]} {parts[1]}")
    decimals = _int_arg(parts[2], params, "DECIMALS") if len(parts) == 3 else 2
    if not 0 <= decimals <= 8:
        raise TemplateError("float: DECIMALS must be between 0 and 8")
    return round(rng.uniform(low, high), decimals)


def _gen_choice(rng: random.Random, rest: str, params: Mapping[str, Any]) -> str:
    options = [o.strip() for o in rest.split("|")]
    if not rest.strip() or any(not o for o in options):
        raise TemplateError("usage: {{choice a|b|c}} (no empty option)")
    return rng.choice(options)


def _gen_from(pool: tuple[str, ...]) -> Callable[[random.Random, str, Mapping[str, Any]], str]:
    def gen(rng: random.Random, rest: str, params: Mapping[str, Any]) -> str:
        _args(rest.split(), 0, 0, "takes no arguments")
        return rng.choice(pool)

    return gen


def _gen_digits(rng: random.Random, rest: str, params: Mapping[str, Any]) -> str:
    (n,) = _args(rest.split(), 1, 1, "{{digits N}}")
    count = _count_arg(n, params, "digits N")
    # No leading zero: the string reads as an N-digit number and survives number parsing.
    return str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(count - 1))


def _gen_letters(rng: random.Random, rest: str, params: Mapping[str, Any]) -> str:
    parts = _args(rest.split(), 1, 2, "{{letters N [ALPHABET]}}")
    count = _count_arg(parts[0], params, "letters N")
    alphabet = parts[1] if len(parts) == 2 else string.ascii_lowercase
    return "".join(rng.choice(alphabet) for _ in range(count))


def _gen_words(rng: random.Random, rest: str, params: Mapping[str, Any]) -> str:
    (n,) = _args(rest.split(), 1, 1, "{{words N}}")
    count = _int_arg(n, params, "words N")
    if not 1 <= count <= len(vocab.WORDS):
        raise TemplateError(f"words N must be between 1 and {len(vocab.WORDS)}, not {count}")
    return ", ".join(rng.sample(vocab.WORDS, count))


def _gen_filler(rng: random.Random, rest: str, params: Mapping[str, Any]) -> str:
    (n,) = _args(rest.split(), 1, 1, "{{filler SENTENCES}}")
    return vocab.filler(rng, _count_arg(n, params, "filler SENTENCES"))


GENERATORS: dict[str, Callable[[random.Random, str, Mapping[str, Any]], Any]] = {
    "int": _gen_int,
    "float": _gen_float,
    "choice": _gen_choice,
    "word": _gen_from(vocab.WORDS),
    "eword": _gen_from(vocab.E_WORDS),
    "name": _gen_from(vocab.NAMES),
    "city": _gen_from(vocab.CITIES),
    "digits": _gen_digits,
    "letters": _gen_letters,
    "words": _gen_words,
    "filler": _gen_filler,
}


def _split_generator(body: str) -> tuple[str, str] | None:
    head, _, rest = body.strip().partition(" ")
    if head in GENERATORS:
        return head, rest
    return None


def draw(spec: str, rng: random.Random, params: Mapping[str, Any]) -> Any:
    """Draw one parameter declared as `"GENERATOR ARGS"` or `"= EXPRESSION"`."""
    spec = spec.strip()
    if spec.startswith("="):
        return evaluate(spec[1:], params)
    split = _split_generator(spec)
    if split is None:
        head = spec.split(" ", 1)[0]
        raise TemplateError(
            f"unknown generator {head!r} (one of {', '.join(GENERATORS)}, "
            "or '= EXPRESSION' for a derived value)"
        )
    name, rest = split
    return GENERATORS[name](rng, rest, params)


def draw_params(declared: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """Draw every declared parameter in order; a failure names the parameter."""
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if not _NAME.match(name) or name in GENERATORS or name in FUNCTIONS:
            raise TemplateError(
                f"parameter name {name!r} must be an identifier that is not a generator "
                "or function name"
            )
        if not isinstance(spec, str):
            raise TemplateError(f'parameter {name!r} must be a string like "int 1 9"')
        try:
            values[name] = draw(spec, rng, values)
        except TemplateError as exc:
            raise TemplateError(f"parameter {name!r}: {exc}") from None
    return values


# --------------------------------------------------------------------------------------------
# Expressions


def _need_str(fn: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TemplateError(f"{fn}() needs a string, not {format_value(value)!r}")
    return value


def _fn_count(s: Any, sub: Any) -> int:
    s, sub = _need_str("count", s), _need_str("count", sub)
    if not sub:
        raise TemplateError("count() needs a non-empty substring")
    return s.count(sub)


def _fn_round(x: Any, n: Any = 0) -> int | float:
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 10:
        raise TemplateError("round(x, n): n must be an integer from 0 to 10")
    if not isinstance(x, int | float) or isinstance(x, bool):
        raise TemplateError("round() needs a number")
    return round(x, n) if n else round(x)


def _fn_minmax(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if not args:
            raise TemplateError(f"{fn.__name__}() needs at least one value")
        return fn(*args)

    return call


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": _fn_minmax(min),
    "max": _fn_minmax(max),
    "abs": abs,
    "len": lambda s: len(_need_str("len", s)),
    "upper": lambda s: _need_str("upper", s).upper(),
    "lower": lambda s: _need_str("lower", s).lower(),
    "reverse": lambda s: _need_str("reverse", s)[::-1],
    "count": _fn_count,
    "str": format_value,
    "round": _fn_round,
}

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
}


def _number(value: Any, op: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TemplateError(f"{op} needs numbers, not {format_value(value)!r}")
    return value


def _checked(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise TemplateError("the result is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise TemplateError("the result is not a finite number")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise TemplateError("the resulting text is too long")
    return value


class _Evaluator:
    def __init__(self, names: Mapping[str, Any]) -> None:
        self.names = names

    def eval(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float | str):
                raise TemplateError(f"constant {node.value!r} is not allowed")
            return _checked(node.value)
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                from vvtui.errors import suggest

                hint = suggest(node.id, self.names)
                known = ", ".join(self.names) or "none declared"
                raise TemplateError(
                    f"unknown name {node.id!r}"
                    + (f" ({hint})" if hint else f" (parameters: {known})")
                )
            return self.names[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = _number(self.eval(node.operand), "unary minus")
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left), self.eval(node.right)
            if isinstance(node.op, ast.Pow):
                base, exp = _number(left, "**"), _number(right, "**")
                if not isinstance(exp, int) or not 0 <= exp <= MAX_EXPONENT or abs(base) > 10**6:
                    raise TemplateError(f"** is limited to exponents 0..{MAX_EXPONENT}")
                return _checked(base**exp)
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise TemplateError(f"operator {type(node.op).__name__} is not allowed")
            if isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str):
                return _checked(left + right)
            symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}.get(
                type(node.op), "//, %"
            )
            a, b = _number(left, symbol), _number(right, symbol)
            try:
                return _checked(op(a, b))
            except ZeroDivisionError:
                raise TemplateError("division by zero") from None
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else "this call"
                raise TemplateError(f"{name}() is not allowed (functions: {', '.join(FUNCTIONS)})")
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise TemplateError(f"{node.func.id}() takes plain positional arguments")
            args = [self.eval(a) for a in node.args]
            try:
                return _checked(FUNCTIONS[node.func.id](*args))
            except TemplateError:
                raise
            except (TypeError, ValueError, OverflowError) as exc:
                raise TemplateError(f"{node.func.id}(): {exc}") from None
        raise TemplateError(f"{type(node).__name__} is not allowed in a template expression")


def evaluate(expr: str, names: Mapping[str, Any]) -> Any:
    """Evaluate a template expression over `names`. Raises TemplateError, never anything else."""
    expr = expr.strip()
    if not expr:
        raise TemplateError("empty expression")
    if len(expr) > MAX_EXPR_CHARS:
        raise TemplateError(f"expression longer than {MAX_EXPR_CHARS} characters")
    try:
        tree = ast.parse(expr, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise TemplateError(f"cannot parse expression {expr!r}") from None
    try:
        return _Evaluator(names).eval(tree.body)
    except RecursionError:
        raise TemplateError(f"expression {expr!r} is nested too deeply") from None
    except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
        if isinstance(exc, TemplateError):
            raise
        raise TemplateError(f"cannot evaluate {expr!r}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Rendering strings and structures


def _literal(segment: str) -> None:
    # A "{{" left outside any placeholder is almost always a typo (a missing "}}"), which
    # would otherwise send the raw template to every endpoint.
    if "{{" in segment:
        raise TemplateError(
            "unclosed '{{' (write {{\"{{\"}} for literal braces, or set template = false)"
        )


class Renderer:
    """Renders every string of one probe, in document order, against its drawn parameters.

    Inline generators (`{{int 1 9}}` written in place) draw from the same stream and are recorded
    as `_1`, `_2`... so the probe's `params` holds everything that was drawn.
    """

    def __init__(self, rng: random.Random, params: dict[str, Any]) -> None:
        self.rng = rng
        self.params = params
        self.inline = 0

    def _placeholder(self, body: str) -> Any:
        split = _split_generator(body)
        if split is not None:
            name, rest = split
            value = GENERATORS[name](self.rng, rest, self.params)
            self.inline += 1
            self.params[f"_{self.inline}"] = value
            return value
        return evaluate(body, self.params)

    def text(self, template: str) -> Any:
        """Render a string. A string that is exactly one placeholder keeps the value's type (so a
        tool argument or a JSON Schema `const` can be a number); otherwise the result is text."""
        if "{{" not in template:
            return template
        matches = list(PLACEHOLDER.finditer(template))
        if len(matches) == 1 and matches[0].span() == (0, len(template)):
            return self._placeholder(matches[0].group(1))
        out: list[str] = []
        pos = 0
        size = 0
        for match in matches:
            _literal(template[pos : match.start()])
            out.append(template[pos : match.start()])
            piece = format_value(self._placeholder(match.group(1)))
            size += len(piece)
            if size > MAX_TEXT:
                raise TemplateError("the rendered text is too long")
            out.append(piece)
            pos = match.end()
        _literal(template[pos:])
        out.append(template[pos:])
        return "".join(out)

    def value(self, value: Any) -> Any:
        """Render every string inside a structure (keys stay as written)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value
