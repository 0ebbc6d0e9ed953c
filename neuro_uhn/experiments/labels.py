"""Component labels: short strings that name a registered component with its parameters.

``"manhattan"``, ``"softmax(beta=1000)"``, ``"topk(k=5)"``, a chain ``"sqrt >> normalize"``,
and the paper's polynomial names ``"sqrt"``, ``"square"``, ``"cube"``, ``"quartic"``,
``"tenth"`` (names of their own, for ``polynomial(n=...)``; no alias changes a registered
component's parameters). :func:`parse_label` reads them with a small grammar, never
``eval``; a stored label says what its cell computed.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..errors import ValidationError, ValidationTypeError

__all__ = ["parse_label", "split_labels", "component_spec", "label_of", "SEPARATION_ALIASES"]


#: The official code's polynomial separations, by the paper's names (each a name of its own,
#: never a registered component's: "softmax" is the registered softmax, β = 1).
SEPARATION_ALIASES: dict[str, dict[str, Any]] = {
    "sqrt": {"kind": "polynomial", "n": 0.5},
    "square": {"kind": "polynomial", "n": 2.0},
    "cube": {"kind": "polynomial", "n": 3.0},
    "quartic": {"kind": "polynomial", "n": 4.0},
    "tenth": {"kind": "polynomial", "n": 10.0},
}

_LABEL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")
_PARAM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^,=]+?)\s*$")


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
            return text
        raise ValidationError(f"cannot read parameter value {text!r}") from None
    if not math.isfinite(value):
        raise ValidationError(f"parameter values must be finite; got {text!r}")
    return value


def parse_label(label: str, what: str = "component") -> dict[str, Any] | list[dict[str, Any]]:
    """``"softmax(beta=10)"`` → ``{"kind": "softmax", "beta": 10}`` (paper names expanded);
    a separation chain ``"sqrt >> normalize"`` → a list of such mappings."""
    if not isinstance(label, str):
        raise ValidationTypeError(f"{what} label must be a string; got {label!r}")
    if what == "separation" and ">>" in label:
        return [_parse_one(part, what, label) for part in label.split(">>")]
    return _parse_one(label, what, label)


def _parse_one(label: str, what: str, whole: str) -> dict[str, Any]:
    m = _LABEL.match(label)
    if not m:
        raise ValidationError(
            f"cannot read {what} {whole!r}: expected NAME or NAME(param=value, ...), "
            "e.g. 'softmax(beta=1000)'"
        )
    name, args = m.group(1), m.group(2)
    spec = (
        dict(SEPARATION_ALIASES.get(name, {"kind": name}))
        if what == "separation"
        else {"kind": name}
    )
    if args and args.strip():
        given: set[str] = set()
        for part in args.split(","):
            p = _PARAM.match(part)
            if not p:
                raise ValidationError(f"cannot read parameter {part.strip()!r} of {what} {label!r}")
            if p.group(1) in given:
                raise ValidationError(
                    f"parameter {p.group(1)!r} is given twice in {what} {label!r}",
                    argument=p.group(1),
                )
            given.add(p.group(1))
            try:
                spec[p.group(1)] = _value(p.group(2))
            except ValueError as err:
                raise ValidationError(f"{what} {label!r}: {err}") from None
    return spec


def split_labels(text: str) -> list[str]:
    """Split ``"max,softmax(beta=1,x=2),topk"`` on the commas outside parentheses."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    if depth != 0 or any(not s for s in out):
        raise ValidationError(f"cannot split {text!r} into names: check commas and parentheses")
    return out


def component_spec(label: str, what: str):
    """Validate a label by building its component; returns the spec mapping."""
    from .. import separation as _sep
    from .. import similarity as _sim

    spec = parse_label(label, what)
    make = _sep.make if what == "separation" else _sim.make
    make(spec)  # raises a clear error for unknown names and bad parameters
    return spec


def label_of(spec: dict[str, Any]) -> str:
    """The label of a component mapping: ``{"kind": "softmax", "beta": 8.0}`` →
    ``"softmax(beta=8.0)"`` (booleans lower case, as the labels read them)."""

    def value(v: Any) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v)

    params = ", ".join(f"{k}={value(v)}" for k, v in spec.items() if k != "kind")
    return f"{spec['kind']}({params})" if params else spec["kind"]


def _with_param(label: str, name: str, value: str) -> str:
    """``label`` with ``name=value`` added to its parameters (unless it has that one)."""
    if re.search(rf"[(,]\s*{name}\s*=", label):
        return label
    label = label.strip()
    if label.endswith(")"):
        inner = label[label.index("(") + 1 : -1].strip()
        return f"{label[: label.index('(')]}({inner}{', ' if inner else ''}{name}={value})"
    return f"{label}({name}={value})"


