"""The paper's experiments as data: what is swept, with which defaults, in each convention.

An experiment is a grid of *cells* — (convention, similarity, separation, n_memories,
corruption, level, run) — whose defaults follow the official code's ``plotting.py`` presets
(``../shared/paper.md`` §4.4). Nothing here computes; :mod:`._cells` does.

Component labels are short strings that name a registered component with optional
parameters: ``"manhattan"``, ``"softmax(beta=1000)"``, ``"topk(k=5)"``, and the paper's
polynomial names ``"sqrt"``, ``"square"``, ``"cube"``, ``"quartic"``, ``"tenth"``. They are
parsed by :func:`parse_label` (a small grammar, never ``eval``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ValidationError, ValidationTypeError

__all__ = [
    "Experiment",
    "EXPERIMENTS",
    "CONVENTIONS",
    "parse_label",
    "component_spec",
    "split_labels",
]

CONVENTIONS = ("paper", "standard")

#: The official code's separation names, as parameters of the registered components.
SEPARATION_ALIASES: dict[str, dict[str, Any]] = {
    "sqrt": {"kind": "polynomial", "n": 0.5},
    "square": {"kind": "polynomial", "n": 2.0},
    "cube": {"kind": "polynomial", "n": 3.0},
    "quartic": {"kind": "polynomial", "n": 4.0},
    "tenth": {"kind": "polynomial", "n": 10.0},
    # the official experiments' softmax parameter
    "softmax": {"kind": "softmax", "beta": 1000.0},
    "topk": {"kind": "topk", "k": 5},
}

_LABEL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")
_PARAM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^,=]+?)\s*$")


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
            return text
        raise ValidationError(f"cannot read parameter value {text!r}") from None
    if not math.isfinite(value):
        raise ValidationError(f"parameter values must be finite; got {text!r}")
    return value


def parse_label(label: str, what: str = "component") -> dict[str, Any]:
    """``"softmax(beta=10)"`` → ``{"kind": "softmax", "beta": 10}`` (aliases expanded)."""
    if not isinstance(label, str):
        raise ValidationTypeError(f"{what} label must be a string; got {label!r}")
    m = _LABEL.match(label)
    if not m:
        raise ValidationError(
            f"cannot read {what} {label!r}: expected NAME or NAME(param=value, ...), "
            "e.g. 'softmax(beta=1000)'"
        )
    name, args = m.group(1), m.group(2)
    spec = (
        dict(SEPARATION_ALIASES.get(name, {"kind": name}))
        if what == "separation"
        else {"kind": name}
    )
    if args and args.strip():
        given: set[str] = set()
        for part in args.split(","):
            p = _PARAM.match(part)
            if not p:
                raise ValidationError(f"cannot read parameter {part.strip()!r} of {what} {label!r}")
            if p.group(1) in given:
                raise ValidationError(
                    f"parameter {p.group(1)!r} is given twice in {what} {label!r}",
                    argument=p.group(1),
                )
            given.add(p.group(1))
            try:
                spec[p.group(1)] = _value(p.group(2))
            except ValueError as err:
                raise ValidationError(f"{what} {label!r}: {err}") from None
    return spec


def split_labels(text: str) -> list[str]:
    """Split ``"max,softmax(beta=1,x=2),topk"`` on the commas outside parentheses."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    if depth != 0 or any(not s for s in out):
        raise ValidationError(f"cannot split {text!r} into names: check commas and parentheses")
    return out


def component_spec(label: str, what: str):
    """Validate a label by building its component; returns the spec mapping."""
    from .. import separation as _sep
    from .. import similarity as _sim

    spec = parse_label(label, what)
    make = _sep.make if what == "separation" else _sim.make
    make(spec)  # raises a clear error for unknown names and bad parameters
    return spec


@dataclass(frozen=True)
class Experiment:
    """One of the paper's experiments and its defaults.

    ``levels`` are the corruption strengths swept (σ, fractions, thresholds); ``corruption``
    per convention: the official noise is folded and clamped (``gaussian_folded``), the
    standard one zero-mean (``gaussian``).
    """

    name: str
    paper_figure: str
    description: str
    similarities: tuple[str, ...]
    separations: tuple[str, ...]
    n_memories: tuple[int, ...]
    corruptions: dict[str, tuple[str, ...]]  # convention -> corruption names
    levels: dict[str, tuple[float, ...]]  # corruption -> default levels
    threshold_sweep: bool = False
    conventions: tuple[str, ...] = CONVENTIONS
    extra: dict[str, Any] = field(default_factory=dict)

    def corruption_for(self, convention: str) -> tuple[str, ...]:
        return self.corruptions.get(convention, self.corruptions.get("*", ()))


PAPER_SIMILARITIES = ("euclidean", "manhattan", "dot", "kl", "reverse_kl", "js")
CAPACITY_NS = (2, 5, 10, 20, 50, 100, 200, 300, 500, 700, 1000)
NOISE = {"paper": ("gaussian_folded",), "standard": ("gaussian",)}
#: bottom rows zeroed; the paper convention zeroes exactly the official code's rows
MASK = {"paper": ("mask_bottom_paper",), "standard": ("mask_bottom",)}
MASK_NAMES = ("mask_bottom_paper", "mask_bottom")

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in [
        Experiment(
            "capacity",
            "Fig. 2",
            "fraction retrieved vs number of stored memories, Gaussian noise σ = 0.5",
            PAPER_SIMILARITIES,
            ("max",),
            CAPACITY_NS,
            NOISE,
            {"gaussian_folded": (0.5,), "gaussian": (0.5,)},
        ),
        Experiment(
            "noise",
            "Fig. 3 (top)",
            "fraction retrieved vs Gaussian noise σ, 100 memories",
            PAPER_SIMILARITIES,
            ("max",),
            (100,),
            NOISE,
            {k: (0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0, 1.5) for k in ("gaussian_folded", "gaussian")},
        ),
        Experiment(
            "mask",
            "Fig. 3 (bottom)",
            "fraction retrieved vs fraction of the image masked (bottom rows), 50 memories",
            PAPER_SIMILARITIES,
            ("max",),
            (50,),
            MASK,
            {k: (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9) for k in MASK_NAMES},
        ),
        Experiment(
            "separation",
            "Fig. 4",
            "fraction retrieved vs number of memories for each separation function, "
            "Manhattan similarity, bottom half masked",
            ("manhattan",),
            (
                "identity",
                "sqrt",
                "square",
                "cube",
                "quartic",
                "tenth",
                "softmax",
                "max",
                "log",  # the paper's log separation (official: an inverted preference)
                "topk",  # not in the paper: our addition
            ),
            (5, 7, 10, 20, 50, 100, 200, 300, 500, 700, 1000),
            MASK,
            {k: (0.5,) for k in MASK_NAMES},
        ),
        Experiment(
            "threshold",
            "appendix (error-threshold sweep)",
            "fraction retrieved vs the squared-error threshold, 250 memories, bottom half masked",
            ("euclidean", "manhattan", "dot"),
            ("max",),
            (250,),
            MASK,
            {k: (0.5,) for k in MASK_NAMES},
            threshold_sweep=True,
            extra={"thresholds": (1, 10, 25, 50, 100, 150, 200, 300, 500)},
        ),
        Experiment(
            "perturbation",
            "appendix (random-pixel masking, inpainting)",
            "fraction retrieved vs random-pixel mask probability and inpainting frame, "
            "300 memories",
            ("euclidean", "manhattan", "dot"),
            ("max",),
            (300,),
            {"*": ("random_mask", "inpaint")},
            {
                "random_mask": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
                "inpaint": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
            },
        ),
        Experiment(
            "hetero",
            "appendix (auto- vs hetero-association)",
            "auto- vs hetero-association (P = image with its top half zeroed), Gaussian noise "
            "σ = 0.3; and a correct classical Hopfield network (bipolar images, 10% bits "
            "flipped, identity separation, sign read-out)",
            ("dot",),
            ("max",),
            CAPACITY_NS,
            NOISE,
            {"gaussian_folded": (0.3,), "gaussian": (0.3,), "flip": (0.1,)},
            extra={"classical_n_memories": (2, 5, 10, 20, 30, 50)},
        ),
        Experiment(
            "spiking",
            "new (spiking vs abstract)",
            "retrieval by the spiking network beside the abstract model for the literature's "
            "models, as the number of memories and the noise grow",
            (),
            (),
            (10, 100),
            {"*": ("gaussian",)},
            {"gaussian": (0.1, 0.5)},
            conventions=("standard",),
            extra={"models": ("uhn_best", "mchn", "dam", "hopfield"), "max_queries": 20},
        ),
    ]
}
