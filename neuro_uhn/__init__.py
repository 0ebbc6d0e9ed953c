"""neuro_uhn: Universal Hopfield Networks, abstract and spiking.

``Z = readout(sep(sim(M, Q)) · P)`` (Millidge, Salvatori, Song, Lukasiewicz & Bogacz,
ICML 2022): a similarity between each query and every stored memory, a separation that
sharpens the scores, and a projection. Importing this package loads NumPy and
array-api-compat only; Brian2 is imported by :mod:`neuro_uhn.spiking` alone.
"""

from . import paper as paper
from . import readout as readout
from . import separation as separation
from . import similarity as similarity
from ._config import memory_budget as memory_budget
from ._config import use_compiled_kernels as use_compiled_kernels
from .dynamics import IterationResult as IterationResult
from .dynamics import energy as energy
from .dynamics import has_energy as has_energy
from .dynamics import iterate as iterate
from .errors import DatasetUnavailable as DatasetUnavailable
from .errors import ModelFileError as ModelFileError
from .errors import NeuroUHNError as NeuroUHNError
from .errors import StoreError as StoreError
from .errors import ValidationError as ValidationError
from .errors import ValidationTypeError as ValidationTypeError
from .model import UHN as UHN
from .model import dump_model as dump_model
from .model import load_model as load_model
from .model import model_names as model_names
from .retrieval import Memory as Memory
from .retrieval import retrieve as retrieve

__version__ = "0.1.0"

__all__ = [
    "UHN",
    "DatasetUnavailable",
    "IterationResult",
    "Memory",
    "ModelFileError",
    "NeuroUHNError",
    "StoreError",
    "ValidationError",
    "ValidationTypeError",
    "dump_model",
    "energy",
    "has_energy",
    "iterate",
    "load_model",
    "memory_budget",
    "model_names",
    "paper",
    "readout",
    "retrieve",
    "separation",
    "similarity",
    "use_compiled_kernels",
]
