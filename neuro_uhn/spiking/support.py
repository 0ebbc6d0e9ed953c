"""What each network kind realises: the support matrix, derived from the registered builders
(published in docs/spiking.md)."""

from __future__ import annotations

from ..separation import names as separation_names
from ..similarity import names as similarity_names
from .circuit.plan import CIRCUIT_SUPPORT as circuit
from .mapping import paper_similarity_builders, register_paper_forms, similarity_builders
from .rate.separation import separation_builders

__all__ = ["support_matrix"]


def support_matrix() -> dict[str, dict[str, str]]:
    """``{component: {mode: "yes" | why not}}``, derived from the registered builders (and,
    for the circuit, from what :func:`plan_circuit` accepts); published in docs/spiking.md."""

    modes = ("continuous", "hybrid", "spiking", "circuit")
    out: dict[str, dict[str, str]] = {}
    registered = {c.name for c in similarity_builders.classes()}
    for name in similarity_names():
        out[f"similarity {name}"] = dict.fromkeys(
            modes, "yes" if name in registered else "UnsupportedComponent"
        )
    for mode in ("spiking", "circuit"):
        if "similarity manhattan" in out:
            out["similarity manhattan"][mode] = "yes (thermometer code, exact on a `levels` grid)"
    if "similarity euclidean" in out:
        out["similarity euclidean"]["circuit"] = "yes (softmax needs squared=true)"
    register_paper_forms()
    for cls in paper_similarity_builders.classes():
        out[f"similarity {cls.name} (paper convention)"] = {
            **dict.fromkeys(modes[:3], "yes, with softmax/max/identity/polynomial"),
            "circuit": "UnsupportedComponent",
        }
    for name in ("inverse_kl", "inverse_reverse_kl", "official_js", "frobenius_cosine"):
        out[f"similarity {name} (paper convention)"] = dict.fromkeys(modes, "UnsupportedComponent")
    registered = {c.name for c in separation_builders.classes()}

    for name in separation_names():
        rate = "yes" if name in registered else "UnsupportedComponent"
        out[f"separation {name}"] = {
            **dict.fromkeys(modes[:3], rate),
            "circuit": circuit.get(name, "UnsupportedComponent"),
        }
    if "separation topk" in out:
        for mode in modes[:3]:
            out["separation topk"][mode] = "yes (weighting='uniform' only)"
    return out
