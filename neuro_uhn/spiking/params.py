"""Parameters declared once, next to their field: unit, type, bounds, and who reads them.

Each config field carries a :class:`Param` in its metadata (as scikit-learn declares
``_parameter_constraints``); :func:`check_fields` converts and checks every field from that
declaration, so a constraint is written in one place and every message has one shape:
``'tau_m' must be a number of seconds > 0; got -0.01``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError, ValidationTypeError
from .units import UNITS, in_unit

__all__ = ["Param", "param", "check_fields", "declared"]


@dataclass(frozen=True)
class Param:
    """What one field accepts.

    ``kind``: ``"real"`` (a finite number, in ``unit`` if given), ``"int"`` (an integer; a
    float, even 2.0, is refused, never truncated), ``"bool"``, ``"choice"`` (one of
    ``choices``) or ``"object"`` (an instance of ``cls``). ``low``/``high`` bound the value
    (``open`` excludes the bound). ``optional``: ``None`` is a value. ``modes``: the network
    kinds that read the field (SpikingConfig; ``None``: every kind), and ``defaults`` the
    default per kind where kinds differ.
    """

    kind: str = "real"
    unit: str | None = None
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    high_open: bool = False
    choices: tuple = ()
    cls: type | None = None
    optional: bool = False
    modes: tuple[str, ...] | None = None
    defaults: dict[str, Any] | None = None

    def describe(self) -> str:
        """The accepted values in words, for messages and docs."""
        if self.kind == "choice":
            return f"one of {list(self.choices)}"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "object":
            return f"a {self.cls.__name__}"
        what = "an integer" if self.kind == "int" else (
            f"a number of {UNITS[self.unit]}" if self.unit else "a finite number"
        )  # fmt: skip
        if self.low is not None and self.high is not None:
            lo, hi = "(" if self.low_open else "[", ")" if self.high_open else "]"
            what += f" in {lo}{_num(self.low)}, {_num(self.high)}{hi}"
        elif self.low is not None:
            what += f" {'>' if self.low_open else '>='} {_num(self.low)}"
        elif self.high is not None:
            what += f" {'<' if self.high_open else '<='} {_num(self.high)}"
        return what + (" or None" if self.optional else "")

    def check(self, name: str, value: Any) -> Any:
        """``value`` converted (SI float, int, ...) or a clear error naming ``name``."""
        if value is None and self.optional:
            return None
        if self.kind == "choice":
            if not isinstance(value, str | int) or value not in self.choices:
                raise ValidationError(f"{name!r} must be {self.describe()}; got {value!r}")
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValidationTypeError(f"{name!r} must be true or false; got {value!r}")
            return value
        if self.kind == "object":
            if not isinstance(value, self.cls):
                raise ValidationTypeError(
                    f"{name!r} must be a {self.cls.__name__}; got {type(value).__name__}"
                )
            return value
        if self.kind == "int":
            # an integer: a fractional or float value is refused, never truncated
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValidationTypeError(f"{name!r} must be {self.describe()}; got {value!r}")
            value = int(value)
        elif self.unit is not None:
            value = in_unit(value, name, self.unit)
        else:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValidationTypeError(f"{name!r} must be {self.describe()}; got {value!r}")
            if not math.isfinite(value):
                raise ValidationError(f"{name!r} must be {self.describe()}; got {value!r}")
            value = float(value)
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        above = self.high is not None and (
            value >= self.high if self.high_open else value > self.high
        )
        if below or above:
            raise ValidationError(f"{name!r} must be {self.describe()}; got {value!r}")
        return value


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def param(default: Any = None, **spec: Any) -> Any:
    """A dataclass field whose constraint is declared with it (see :class:`Param`)."""
    return dataclasses.field(default=default, metadata={"param": Param(**spec)})


def declared(obj_or_cls) -> dict[str, Param]:
    """``{field name: Param}`` of a config class or instance."""
    return {
        f.name: f.metadata["param"] for f in dataclasses.fields(obj_or_cls) if "param" in f.metadata
    }


def check_fields(obj, skip: tuple[str, ...] = ()) -> None:
    """Convert and check every declared field of a frozen dataclass in place."""
    for name, p in declared(obj).items():
        if name in skip:
            continue
        object.__setattr__(obj, name, p.check(name, getattr(obj, name)))
