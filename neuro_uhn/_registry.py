"""Name registries for components, and the frozen-dataclass base class they share.

A component (a similarity, a separation, a readout) is a frozen keyword-only dataclass whose
fields are its parameters: hashable, comparable, and its ``repr`` is its spec. Components are
found by name (``"softmax"``), by mapping (``{"kind": "softmax", "beta": 8}``) or passed as
instances, as scikit-learn takes "str or callable".
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from .errors import ValidationError, ValidationTypeError

__all__ = ["Component", "Registry"]


class Component:
    """Base of every registered component: parameters are dataclass fields, checked on creation."""

    kind: ClassVar[str] = "component"  # "similarity", "separation", "readout"
    name: ClassVar[str] = ""  # registry name, set by Registry.register

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            object.__setattr__(self, f.name, _coerce(self, f.name, value, hints.get(f.name)))
        self._check()

    def _check(self) -> None:
        """Range checks of the parameters; subclasses raise ValueError naming the parameter."""

    def _fail(self, param: str, expected: str, got: Any) -> None:
        raise ValidationError(
            f"{param!r} of {self.kind} {self.name!r} must be {expected}; got {got!r}"
        )

    def params(self) -> dict[str, Any]:
        """The parameters as a plain dict (what a spec file holds besides ``kind``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.name, **self.params()}


def _coerce(comp: Component, param: str, value: Any, hint: Any) -> Any:
    """Type-check one parameter against its annotation (bool is never a number)."""
    where = f"{param!r} of {comp.kind} {comp.name!r}"
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValidationTypeError(
                f"{where} must be a real number; got {type(value).__name__} {value!r}"
            )
        value = float(value)
        if math.isnan(value):
            raise ValidationError(f"{where} must not be NaN")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValidationTypeError(
                f"{where} must be an integer; got {type(value).__name__} {value!r}"
            )
        return int(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValidationTypeError(
                f"{where} must be true or false; got {type(value).__name__} {value!r}"
            )
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ValidationTypeError(
                f"{where} must be a string; got {type(value).__name__} {value!r}"
            )
        return value
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            from ._suggest import did_you_mean

            hint = did_you_mean(value, [str(a) for a in allowed]) if isinstance(value, str) else ""
            raise ValidationError(f"{where} must be one of {list(allowed)}; got {value!r}{hint}")
    return value


class Registry:
    """Components of one kind by name; registering a name twice is an error.

    A registry may also resolve the names of tables added with :meth:`extend`
    (the official code's forms in :mod:`neuro_uhn.paper`): :meth:`get` and :meth:`make` find
    them, :meth:`names` lists this table's own.
    """

    def __init__(self, kind: str, base: type[Component], title: str = ""):
        self.kind = kind
        self.base = base
        self.title = title or kind
        self._by_name: dict[str, type[Component]] = {}
        self._extra: list[Registry] = []

    def extend(self, other: Registry) -> None:
        """Resolve ``other``'s names too (after this table's own; names must not clash)."""
        clash = sorted(set(self._by_name) & set(other._by_name))
        if clash:
            raise ValidationError(f"{self.kind} name(s) {clash} are in both tables")
        if other not in self._extra:
            self._extra.append(other)

    def register(self, name: str) -> Callable[[type], type]:
        def decorate(cls: type) -> type:
            if not (isinstance(cls, type) and issubclass(cls, self.base)):
                raise ValidationTypeError(f"only {self.base.__name__} subclasses can be registered")
            key = name.lower()
            if key in self._by_name or any(key in t._by_name for t in self._extra):
                raise ValidationError(f"{self.kind} {key!r} is already registered")
            cls.name = key
            cls.kind = self.kind
            self._by_name[key] = cls
            return cls

        return decorate

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def get(self, name: str) -> type[Component]:
        if not isinstance(name, str):
            raise ValidationTypeError(
                f"{self.kind} name must be a string; got {type(name).__name__}"
            )
        key = name.lower()
        for table in (self, *self._extra):
            if key in table._by_name:
                return table._by_name[key]
        from ._suggest import did_you_mean

        known = "".join(f"; {t.title}: {', '.join(t.names())}" for t in self._extra)
        every = [n for t in (self, *self._extra) for n in t.names()]
        raise ValidationError(
            f"unknown {self.kind} {name!r}{did_you_mean(name, every)}; "
            f"registered: {', '.join(self.names())}{known}"
        )

    def make(self, spec: Any, **params: Any) -> Component:
        """A component from a name, a ``{"kind": name, ...}`` mapping or an instance.

        ``params`` are added to (or, for an instance, replace) the spec's parameters.
        """
        if isinstance(spec, self.base):
            return dataclasses.replace(spec, **params) if params else spec
        if isinstance(spec, str):
            cls, given = self.get(spec), {}
        elif isinstance(spec, Mapping):
            if "kind" not in spec:
                raise ValidationError(
                    f"a {self.kind} mapping needs a 'kind' key; got {dict(spec)!r}"
                )
            given = {k: v for k, v in spec.items() if k != "kind"}
            cls = self.get(spec["kind"])
        elif isinstance(spec, Component):
            raise ValidationTypeError(
                f"expected a {self.kind}; got the {spec.kind} {type(spec).__name__}"
            )
        else:
            raise ValidationTypeError(
                f"a {self.kind} is a registered name, a {{'kind': name, ...}} mapping or a "
                f"{self.base.__name__} instance; got {type(spec).__name__} {spec!r}"
            )
        twice = sorted(set(given) & set(params))
        if twice:
            raise ValidationTypeError(f"{self.kind} parameter(s) {twice} given twice")
        kwargs = {**given, **params}
        fields = _field_names(cls)
        unknown = sorted(set(kwargs) - fields)
        if unknown:
            accepted = ", ".join(sorted(fields)) or "none"
            raise ValidationTypeError(
                f"unknown parameter(s) {unknown} for {self.kind} {cls.name!r}; "
                f"it accepts: {accepted}"
            )
        return cls(**kwargs)

    def accepts(self, spec: Any) -> set[str]:
        """Parameter names the component ``spec`` would accept (to route ``**params``)."""
        if isinstance(spec, self.base):
            cls = type(spec)
        elif isinstance(spec, str):
            cls = self.get(spec)
        elif isinstance(spec, Mapping) and "kind" in spec:
            cls = self.get(spec["kind"])
        else:
            return set()
        return _field_names(cls)


def _field_names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
