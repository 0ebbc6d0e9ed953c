"""Readouts: an optional elementwise map applied to ``Z = sep(S) · P`` (the classical sign)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ._registry import Component, Registry
from ._xp import Array, namespace

__all__ = ["Readout", "IdentityReadout", "Sign", "names", "make", "register", "get"]


class Readout(Component):
    kind: ClassVar[str] = "readout"

    def __call__(self, Z: Array) -> Array:
        raise NotImplementedError


_registry = Registry("readout", Readout)
register = _registry.register
names = _registry.names
make = _registry.make
get = _registry.get


@register("identity")
@dataclass(frozen=True, kw_only=True)
class IdentityReadout(Readout):
    """``Z`` unchanged (continuous models)."""

    def __call__(self, Z):
        return Z


@register("sign")
@dataclass(frozen=True, kw_only=True)
class Sign(Readout):
    """``sign(Z)`` into {-1, +1}, with 0 mapped to +1 so outputs stay bipolar (classical HN);
    NaN stays NaN."""

    def __call__(self, Z):
        xp = namespace(Z)
        out = xp.where(Z >= 0, xp.ones_like(Z), -xp.ones_like(Z))
        return xp.where(xp.isnan(Z), Z, out)
