"""The spiking Universal Hopfield Network in Brian2 (the only part of neuro_uhn that imports it).

Build from the same ``UHN`` spec, memories and projection as the abstract model::

    from neuro_uhn.spiking import SpikingConfig, SpikingUHN, compare
    net = SpikingUHN("uhn_best", M, config=SpikingConfig(mode="hybrid", duration=0.3))
    Z = net.retrieve(Q)
    result = compare("mchn", M, Q, config=SpikingConfig(mode="spiking"))
"""

from ._circuit import MemoryModel as MemoryModel
from ._compare import Comparison as Comparison
from ._compare import compare as compare
from ._config import CircuitParams as CircuitParams
from ._config import SpikingConfig as SpikingConfig
from ._config import StorageParams as StorageParams
from ._config import UnsupportedComponent as UnsupportedComponent
from ._mapping import support_matrix as support_matrix
from ._network import SpikingRun as SpikingRun
from ._network import SpikingUHN as SpikingUHN

__all__ = [
    "CircuitParams",
    "Comparison",
    "compare",
    "MemoryModel",
    "SpikingConfig",
    "SpikingRun",
    "SpikingUHN",
    "StorageParams",
    "UnsupportedComponent",
    "support_matrix",
]
