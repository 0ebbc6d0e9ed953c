"""Plain SI floats from numbers or Brian2 quantities, checked (NumPy only at import).

The configs keep every time in seconds, rate in hertz and potential in volts as a float;
a Brian2 quantity is accepted too (``300 * ms``), its dimensions checked, its SI value kept.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import ValidationError, ValidationTypeError

__all__ = ["UNITS", "in_unit", "seconds"]

#: The units a parameter can be declared in, and the words the messages use.
UNITS = {"second": "seconds", "hertz": "hertz", "volt": "volts"}


def in_unit(value: Any, name: str, unit: str) -> float:
    """``value`` as a finite float in ``unit`` (SI); a Brian2 quantity must have its dimension."""
    if hasattr(value, "dim"):  # a Brian2 quantity: check its dimensions, take the SI number
        from brian2 import Hz, second, volt
        from brian2.units.fundamentalunits import (
            DimensionMismatchError,
            fail_for_dimension_mismatch,
        )

        try:
            fail_for_dimension_mismatch(value, {"second": second, "hertz": Hz, "volt": volt}[unit])
        except DimensionMismatchError:
            raise ValidationError(f"{name!r} must be in {UNITS[unit]}; got {value!r}") from None
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationTypeError(
            f"{name!r} must be a finite number of {UNITS[unit]}; got {value!r}"
        )
    if not math.isfinite(value):
        raise ValidationError(f"{name!r} must be a finite number of {UNITS[unit]}; got {value!r}")
    return float(value)


def seconds(value: Any, name: str) -> float:
    return in_unit(value, name, "second")
