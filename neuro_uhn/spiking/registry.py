"""Builders registered per component class and found through the MRO (as nengo's
``Builder.register``): how each similarity and separation becomes synapses and neurons."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UnsupportedComponent

__all__ = ["Builders", "unsupported"]


def unsupported(component: str, mode: str, why: str) -> UnsupportedComponent:
    """The one error for a component a spiking network kind cannot realise."""
    err = UnsupportedComponent(f"{component} is not supported in spiking mode {mode!r}: {why}")
    err.component, err.mode = component, mode
    return err


class Builders:
    """A table of builders per component class, found through the MRO: a user's subclass
    that keeps its parent's computation gets the parent's builder; one that overrides how
    scores or weights are computed (``computes``) gets a clear :class:`UnsupportedComponent`
    until a builder is registered for it.

    >>> @similarity_builders.register(MyDot)          # doctest: +SKIP
    ... def _(sim, M, cfg): return SimilarityMap(...)
    """

    def __init__(self, kind: str, computes: tuple[str, ...]):
        self.kind, self.computes = kind, computes
        self._table: dict[type, Callable] = {}

    def register(self, cls: type):
        def decorate(fn: Callable) -> Callable:
            self._table[cls] = fn
            return fn

        return decorate

    def classes(self) -> tuple[type, ...]:
        return tuple(self._table)

    def lookup(self, component, mode: str, label: str = "") -> Callable:
        for cls in type(component).__mro__:
            if cls in self._table:
                changed = [
                    m
                    for m in self.computes
                    if getattr(type(component), m, None) is not getattr(cls, m, None)
                ]
                if changed:
                    raise unsupported(
                        f"{self.kind} {component.name!r} ({type(component).__name__}{label})",
                        mode,
                        f"it subclasses {cls.__name__} but overrides {', '.join(changed)}, so "
                        f"{cls.__name__}'s synaptic form may not hold; register a builder "
                        f"for it with neuro_uhn.spiking.{self.kind}_builders.register",
                    )
                return self._table[cls]
        names = ", ".join(c.name for c in self._table)
        raise unsupported(
            f"{self.kind} {getattr(component, 'name', component)!r}{label}",
            mode,
            f"supported: {names}",
        )
