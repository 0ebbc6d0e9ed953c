"""The spiking Universal Hopfield Network in Brian2 (the only part of neuro_uhn that imports it).

Build from the same ``UHN`` spec, memories and projection as the abstract model::

    from neuro_uhn.spiking import SpikingConfig, SpikingUHN, compare
    net = SpikingUHN("uhn_best", M, config=SpikingConfig(mode="circuit", duration=0.2))
    Z = net.retrieve(Q)
    result = compare("mchn", M, Q, config=SpikingConfig(mode="spiking"))

The package is a pipeline with named stages: *plan* (NumPy constants from M and P:
:mod:`.mapping`, :mod:`.rate.separation`, :mod:`.circuit.plan`), *build* (Brian2 objects in a
named record: :mod:`.rate.network`, :mod:`.circuit.build`, one sub-network per separation),
*simulate* (:mod:`.engine`: device, seeds, batches) and *decode* (each kind's ``decode``).
"""

from ..errors import UnsupportedComponent as UnsupportedComponent
from .circuit.neurons import MemoryModel as MemoryModel
from .compare import Comparison as Comparison
from .compare import compare as compare
from .config import CircuitParams as CircuitParams
from .config import SpikingConfig as SpikingConfig
from .config import StorageParams as StorageParams
from .engine import SpikingRun as SpikingRun
from .mapping import similarity_builders as similarity_builders
from .network import SpikingUHN as SpikingUHN
from .rate.separation import separation_builders as separation_builders
from .support import support_matrix as support_matrix

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
    "similarity_builders",
    "separation_builders",
    "support_matrix",
]
