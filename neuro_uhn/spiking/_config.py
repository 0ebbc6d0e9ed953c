"""Everything about *how* the spiking network runs: one frozen config object, with units.

Times and rates are plain floats in seconds and hertz (``duration=0.3`` is 300 ms); Brian2
quantities are accepted too and converted, so ``duration=300*ms`` works. None of this is part
of the ``UHN`` spec, which says only *what* is computed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["SpikingConfig", "UnsupportedComponent", "MODES", "TARGETS"]

MODES = ("continuous", "hybrid", "spiking")
TARGETS = ("auto", "numpy", "cython", "cpp_standalone", "cuda_standalone")


class UnsupportedComponent(ValueError):
    """A component (or setting) that the spiking network cannot realise in a given mode."""

    def __init__(self, component: str, mode: str, why: str):
        self.component, self.mode = component, mode
        super().__init__(f"{component} is not supported in spiking mode {mode!r}: {why}")


def _seconds(value: Any, name: str) -> float:
    return _in_unit(value, name, "second")


def _hertz(value: Any, name: str) -> float:
    return _in_unit(value, name, "hertz")


def _in_unit(value: Any, name: str, unit: str) -> float:
    if hasattr(value, "dim"):  # a Brian2 quantity: check its dimensions, take the SI number
        from brian2 import Hz, second
        from brian2.units.fundamentalunits import (
            DimensionMismatchError,
            fail_for_dimension_mismatch,
        )

        try:
            fail_for_dimension_mismatch(value, second if unit == "second" else Hz)
        except DimensionMismatchError:
            raise ValueError(f"{name!r} must be in {unit}s; got {value!r}") from None
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"{name!r} must be a finite number of {unit}s; got {value!r}")
    return float(value)


@dataclass(frozen=True, kw_only=True)
class SpikingConfig:
    """How the spiking UHN runs.

    Parameters
    ----------
    mode : {"continuous", "hybrid", "spiking"}
        ``continuous``: no spikes, every coupling a summed rate variable — equals the abstract
        model to numerical precision (the wiring proof). ``hybrid``: exact similarity currents,
        Poisson memory neurons, counted projection (what Nengo's associative memories do).
        ``spiking``: Poisson feature neurons too; everything spikes.
    duration : float, s
        Simulated time per query (continuous mode needs only a few steps and ignores it).
    settle : float, s
        Spikes before this time are not decoded (the synaptic trace and the competition settle).
    dt : float, s
        Integration step.
    input_rate : float, Hz
        Feature-neuron rate for a feature value of ``input_scale`` (spiking mode).
    memory_rate : float, Hz
        Rate scale of a memory neuron (total rate of the population for normalised separations).
    max_rate : float, Hz
        Ceiling on every memory neuron's rate (``rate * dt`` stays <= ``max_rate * dt``).
    tau_syn : float, s
        Time constant of the feature→memory synaptic trace (spiking mode).
    neurons_per_memory : int
        Poisson neurons per memory; their counts are pooled (noise falls as 1/sqrt(n)).
    wta_gain : float
        For ``max`` and ``topk``: rates grow as ``exp(wta_gain · s / spread)``, where ``spread``
        is the standard deviation of the stored patterns' scores against each other.
    levels : int
        Thermometer levels per feature for ``manhattan`` in spiking mode.
    refractory : float, s
        Refractory period of memory neurons (0: none; > 0 compresses rates as r/(1 + r·t_ref)).
    dale : bool
        Route negative feature→memory weights through inhibitory interneurons (spiking mode).
    batch_size : int
        Queries simulated side by side as independent copies of the network in one run.
    target : {"auto", "numpy", "cython", "cpp_standalone", "cuda_standalone"}
        Brian2 code-generation target. ``"auto"`` picks ``cpp_standalone`` when the work is
        large enough to repay its one-off compilation (about 12 s) and a C++ compiler is
        present, ``numpy`` otherwise (see ``SpikingUHN.chosen_target``).
    seed : int or None
        Seed of Brian2's and NumPy's random numbers.
    """

    mode: Literal["continuous", "hybrid", "spiking"] = "hybrid"
    duration: float = 0.5
    settle: float = 0.03
    dt: float = 2.5e-4
    input_rate: float = 200.0
    memory_rate: float = 200.0
    max_rate: float = 1000.0
    tau_syn: float = 0.01
    neurons_per_memory: int = 4
    wta_gain: float = 5.0
    levels: int = 16
    refractory: float = 0.0
    dale: bool = False
    batch_size: int = 50
    target: Literal["auto", "numpy", "cython", "cpp_standalone", "cuda_standalone"] = "auto"
    seed: int | None = 0

    def __post_init__(self) -> None:
        for name in ("duration", "settle", "dt", "tau_syn", "refractory"):
            object.__setattr__(self, name, _seconds(getattr(self, name), name))
        for name in ("input_rate", "memory_rate", "max_rate"):
            object.__setattr__(self, name, _hertz(getattr(self, name), name))
        if self.mode not in MODES:
            raise ValueError(f"'mode' must be one of {list(MODES)}; got {self.mode!r}")
        if self.target not in TARGETS:
            raise ValueError(f"'target' must be one of {list(TARGETS)}; got {self.target!r}")
        for name in ("duration", "dt", "tau_syn", "input_rate", "memory_rate", "max_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name!r} must be > 0; got {getattr(self, name)!r}")
        if not 0 <= self.settle < self.duration:
            raise ValueError(
                f"'settle' must be in [0, duration={self.duration}); got {self.settle!r}"
            )
        if self.refractory < 0:
            raise ValueError(f"'refractory' must be >= 0; got {self.refractory!r}")
        if self.max_rate * self.dt > 0.5:
            raise ValueError(
                f"'max_rate' * 'dt' = {self.max_rate * self.dt:g} must be <= 0.5 (a neuron can "
                "fire at most once a step); lower max_rate or dt"
            )
        for name in ("neurons_per_memory", "levels", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name!r} must be an integer >= 1; got {value!r}")
        if not (isinstance(self.wta_gain, int | float) and self.wta_gain > 0):
            raise ValueError(f"'wta_gain' must be > 0; got {self.wta_gain!r}")
        if not isinstance(self.dale, bool):
            raise TypeError(f"'dale' must be true or false; got {self.dale!r}")
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int)
        ):
            raise TypeError(f"'seed' must be an integer or None; got {self.seed!r}")

    @property
    def window(self) -> float:
        """Length of the decoding window [settle, duration]."""
        return self.duration - self.settle

    def replace(self, **changes: Any) -> SpikingConfig:
        return dataclasses.replace(self, **changes)
