"""The paper's experiments as objects: what each sweeps, with which defaults, and how a cell
is computed.

An experiment yields its *cells* — (convention, similarity, separation, read-out,
association, network, n_memories, corruption, level, threshold) — as the product of its
axes (:meth:`Experiment.grid`), and says how to compute one task (:meth:`Experiment.compute`).
The capacity, noise and mask experiments also run in the neural circuit (``networks``:
``"abstract"``, ``"circuit"`` or both; :mod:`neuro_uhn.experiments.networks`).
:func:`neuro_uhn.experiments.plan` is generic: it checks the options, asks the experiment for
its grid and groups the cells into tasks. Defaults follow the official code's
``plotting.py`` presets (``../shared/paper.md`` §4.4).

Component labels are short strings that name a registered component with its parameters:
``"manhattan"``, ``"softmax(beta=1000)"``, ``"topk(k=5)"``, a chain ``"sqrt >> normalize"``,
and the paper's polynomial names ``"sqrt"``, ``"square"``, ``"cube"``, ``"quartic"``,
``"tenth"`` (names of their own, for ``polynomial(n=...)``; no alias changes a registered
component's parameters: ``"softmax"`` is β = 1 everywhere). They are parsed by
:func:`parse_label` (a small grammar, never ``eval``). A stored label says what its cell
computed: the experiments write every rewrite into it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import ValidationError
from .labels import (
    _with_param,
    component_spec,
    label_of,
    parse_label,
    split_labels,
)

__all__ = [
    "Experiment",
    "CircuitExperiment",
    "StorageExperiment",
    "Options",
    "EXPERIMENTS",
    "CONVENTIONS",
    "parse_label",
    "component_spec",
    "split_labels",
    "label_of",
    "compute_task",
]

CONVENTIONS = ("paper", "standard")

@dataclass(frozen=True)
class Options:
    """A sweep's options, checked by :func:`plan`: ``None`` means the experiment's default."""

    conventions: tuple[str, ...]
    n_memories: tuple[int, ...]
    classical_n_memories: tuple[int, ...]
    n_features: int
    similarities: tuple[str, ...] | None = None
    separations: tuple[str, ...] | None = None
    levels: tuple[float, ...] | None = None
    threshold: float | None = None
    models: tuple[str, ...] | None = None
    spiking: dict[str, Any] | None = None
    parameters: dict[str, Any] | tuple[str, ...] | None = None
    #: the networks each cell is computed on (``"abstract"``, ``"circuit"``)
    networks: tuple[str, ...] = ("abstract",)
    #: ``probe(similarity, separation, readout, settings)``: why the circuit cannot run a
    #: model (an UnsupportedComponent) or None (:func:`~.networks.circuit_probe`)
    probe: Any = field(default=None, compare=False, repr=False)


#: Why an option an experiment does not use is refused (see Experiment.unused).
_WHY_UNUSED = {
    "threshold": "its thresholds are the swept levels (--levels)",
    "similarities": "its models (--models) fix their components",
    "separations": "its models (--models) fix their components",
    "parameters": "it applies to the circuit and storage experiments only",
}


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """One of the paper's experiments: its defaults, its cells and how to compute them.

    ``levels`` are the corruption strengths swept (σ, fractions, thresholds); ``corruptions``
    per convention: the official noise is folded and clamped (``gaussian_folded``), the
    standard one zero-mean (``gaussian``). Subclasses override the axes
    (:meth:`similarities_for`, :meth:`separations_for`, :meth:`thresholds_for`, ...),
    :meth:`grid` and :meth:`compute`.
    """

    name: str
    paper_figure: str
    description: str
    similarities: tuple[str, ...]
    separations: tuple[str, ...]
    n_memories: tuple[int, ...]
    corruptions: dict[str, tuple[str, ...]]  # convention -> corruption names
    levels: dict[str, tuple[float, ...]]  # corruption -> default levels
    conventions: tuple[str, ...] = CONVENTIONS
    #: the paper convention's threshold is the official ``normalize_error_threshold``
    threshold_per_size: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    #: the networks its cells can be computed on (``networks=``; the first is the default)
    networks: tuple[str, ...] = ("abstract",)
    #: options this experiment does not use: giving one is an error, never silently dropped
    unused: ClassVar[frozenset[str]] = frozenset({"models", "max_queries", "spiking", "parameters"})
    #: why, where it differs from the common reasons
    why_unused: ClassVar[dict[str, str]] = {}
    #: ``"module:function"`` a Dask worker calls on its main thread before it computes a task
    worker_setup: ClassVar[tuple[str, ...]] = ()
    associations: ClassVar[tuple[str, ...]] = ("auto",)
    #: the swept levels are the thresholds (the figures then plot against the threshold)
    sweeps_threshold: ClassVar[bool] = False

    def corruption_for(self, convention: str) -> tuple[str, ...]:
        return self.corruptions.get(convention, self.corruptions.get("*", ()))

    def refuse_unused(self, networks: tuple[str, ...] = ("abstract",), **given: Any) -> None:
        # the circuit network reads max_queries and spiking (its simulation's settings)
        unused = self.unused - ({"max_queries", "spiking"} if "circuit" in networks else set())
        for name, value in given.items():
            if value is not None and name in unused:
                why = {**_WHY_UNUSED, **self.why_unused}.get(
                    name,
                    "it applies to the circuit network (networks=['circuit'], --network "
                    "circuit) and the spiking, circuit and storage experiments only"
                    if "circuit" in self.networks
                    else "it applies to the spiking, circuit and storage experiments only",
                )
                raise ValidationError(
                    f"{name!r} is not used by the {self.name} experiment ({why}); leave it out",
                    argument=name,
                )

    # --- the axes ------------------------------------------------------------------------
    def similarities_for(self, convention: str, opts: Options) -> tuple[str, ...]:
        return opts.similarities or self.similarities

    def separations_for(self, convention: str, opts: Options) -> tuple[str, ...]:
        labels = opts.separations or self.separations
        if convention != "paper":
            return labels
        # the official pipeline: an exact match leaves 0 and nan after normalisation, and
        # torch's log propagates -inf / nan (so that cue counts as wrong) instead of raising
        return tuple(
            _with_param(lb, "strict", "false") if _kind(lb, "separation") == "log" else lb
            for lb in labels
        )

    def levels_for(self, corruption: str, opts: Options) -> tuple[float, ...]:
        return opts.levels if opts.levels is not None else self.levels[corruption]

    def thresholds_for(self, convention: str, opts: Options) -> tuple[float, ...]:
        if opts.threshold is not None:
            return (opts.threshold,)
        from ..metrics import paper_threshold

        return (paper_threshold(opts.n_features, convention, per_size=self.threshold_per_size),)

    def grid(self, opts: Options) -> Iterator[dict[str, Any]]:
        """Every cell of one run, as the keyword arguments of :class:`Cell` that vary."""
        settings = self._settings(opts) if "circuit" in opts.networks else ""
        for convention in opts.conventions:
            for corruption in self.corruption_for(convention):
                axes = itertools.product(
                    self.levels_for(corruption, opts),
                    opts.n_memories,
                    self.similarities_for(convention, opts),
                    self.separations_for(convention, opts),
                    self.associations,
                    self.thresholds_for(convention, opts),
                )
                for level, n, sim, sep, association, threshold in axes:
                    cell = dict(
                        convention=convention,
                        similarity=sim,
                        separation=sep,
                        readout="identity",
                        association=association,
                        network="abstract",
                        n_memories=n,
                        corruption=corruption,
                        level=level,
                        threshold=threshold,
                    )
                    for network in opts.networks:
                        if network == "abstract":
                            yield cell
                        elif self._circuit_runs(cell, settings, opts):
                            yield {**cell, "network": "circuit", "settings": settings}

    def _settings(self, opts: Options) -> str:
        """The circuit cells' ``settings``: canonical JSON of the simulation's settings."""
        from .networks import circuit_settings

        return circuit_settings(opts.spiking)

    def _circuit_runs(self, cell: dict[str, Any], settings: str, opts: Options) -> bool:
        """Whether the circuit runs ``cell``'s model (refused, or with the experiment's
        default components left out with a warning, when it cannot)."""
        from .networks import check_circuit_cell

        return check_circuit_cell(
            opts.probe, self.name, cell["similarity"], cell["separation"], cell["readout"],
            settings, defaults=opts.similarities is None and opts.separations is None,
        )  # fmt: skip

    def task_key(self, cell) -> tuple:
        """Cells with one key form one task: they share a memory block and corrupted cues.
        A circuit cell is a task of its own (each is a simulation: they run in parallel);
        its memories and cues are those of the abstract cells of its block."""
        key = (cell.n_memories, cell.corruption, cell.level, cell.run)
        if cell.network == "circuit":
            return (*key, cell.network, cell.settings, cell.convention, cell.similarity,
                    cell.separation, cell.readout, cell.association, cell.threshold)  # fmt: skip
        return key

    def setup_calls(self, tasks) -> tuple[str, ...]:
        """What a Dask worker calls before it computes ``tasks`` (:attr:`worker_setup`, and
        Brian2's import on its main thread when a cell runs the circuit)."""
        if any(c.network == "circuit" for t in tasks for c in t.cells):
            return tuple(dict.fromkeys((*self.worker_setup, "neuro_uhn.spiking.device:brian")))
        return self.worker_setup

    # --- the computation -----------------------------------------------------------------
    def compute(self, images, task) -> list[dict[str, Any]]:
        """Every cell of ``task`` as a row of the tidy table (the abstract model; the
        circuit's cells in the circuit, on the same memories and cues)."""
        from dataclasses import replace

        from ._cells import compute_abstract

        circuit = [c for c in task.cells if c.network == "circuit"]
        if not circuit:
            return compute_abstract(images, task)
        from .networks import compute_circuit_cells

        abstract = [c for c in task.cells if c.network != "circuit"]
        rows = compute_abstract(images, replace(task, cells=abstract)) if abstract else []
        return rows + compute_circuit_cells(images, replace(task, cells=circuit))


def _kind(label: str, what: str) -> str:
    spec = parse_label(label, what)
    return spec["kind"] if isinstance(spec, dict) else "chain"


@dataclass(frozen=True, kw_only=True)
class SeparationExperiment(Experiment):
    """Fig. 4. In the standard convention the polynomial separations need positive scores:
    Manhattan becomes the reciprocal distance (without the official sum-normalisation, so
    a softmax's β is live), and weights that are not a distribution are normalised so the
    output is a convex combination of memories (the official post-normalisation). Both
    rewrites are in the cells' labels."""

    def similarities_for(self, convention, opts):
        labels = super().similarities_for(convention, opts)
        if convention != "standard":
            return labels
        return tuple(
            "inverse_" + lb.strip() if _kind(lb, "similarity") == "manhattan" else lb
            for lb in labels
        )

    def separations_for(self, convention, opts):
        labels = super().separations_for(convention, opts)
        if convention != "standard":
            return labels
        return tuple(
            lb if _kind(lb, "separation") in ("max", "softmax", "chain") else f"{lb} >> normalize"
            for lb in labels
        )


@dataclass(frozen=True, kw_only=True)
class ThresholdExperiment(Experiment):
    """The threshold sweep: the swept levels are the thresholds (``--levels``); the
    corruption keeps its default level."""

    unused: ClassVar[frozenset[str]] = Experiment.unused | {"threshold"}
    sweeps_threshold: ClassVar[bool] = True

    def levels_for(self, corruption, opts):
        return self.levels[corruption]

    def thresholds_for(self, convention, opts):
        return opts.levels if opts.levels is not None else self.extra["thresholds"]


@dataclass(frozen=True, kw_only=True)
class HeteroExperiment(Experiment):
    """Auto- vs hetero-association, and the classical Hopfield network done right (bipolar
    images, flipped bits, identity separation, sign read-out) unless components are given."""

    associations: ClassVar[tuple[str, ...]] = ("auto", "hetero")

    def grid(self, opts):
        yield from super().grid(opts)
        if "standard" not in opts.conventions or opts.similarities or opts.separations:
            return
        axes = itertools.product(
            opts.levels if opts.levels is not None else self.levels["flip"],
            opts.classical_n_memories,
            self.associations,
            self.thresholds_for("standard", opts),
        )
        for level, n, association, threshold in axes:
            yield dict(
                convention="standard",
                similarity="dot",
                separation="identity",
                readout="sign",
                association=association,
                network="abstract",
                n_memories=n,
                corruption="flip",
                level=level,
                threshold=threshold,
            )


@dataclass(frozen=True, kw_only=True)
class SpikingExperiment(Experiment):
    """The spiking network beside the abstract model, for the literature's models. A cell's
    ``settings`` hold the simulation's (``spiking``, defaults below) and the model's name."""

    #: the simulation each cell runs unless ``spiking=`` says otherwise
    spiking: dict[str, Any] = field(
        default_factory=lambda: {"mode": "spiking", "duration": 0.3, "target": "numpy"}
    )
    unused: ClassVar[frozenset[str]] = frozenset({"similarities", "separations", "parameters"})
    #: its networks are its own (its cells' ``network`` labels), not ``networks=``
    networks: tuple[str, ...] = ()
    #: Brian2's import installs a signal handler, so only a main thread may import it; and
    #: through ``_device.brian``, which closes the debug log a bare import leaves in the temp
    #: folder when the worker is stopped
    worker_setup: ClassVar[tuple[str, ...]] = ("neuro_uhn.spiking.device:brian",)

    def grid(self, opts):
        import json

        for name in opts.models or self.extra["models"]:
            sim, sep, readout = _model_labels(name)
            settings = json.dumps({**self.spiking, **(opts.spiking or {}), "model": name},
                                  sort_keys=True)  # fmt: skip
            for corruption in self.corruption_for("standard"):
                axes = itertools.product(
                    opts.n_memories,
                    self.levels_for(corruption, opts),
                    ("abstract", "spiking"),
                    self.thresholds_for("standard", opts),
                )
                for n, level, network, threshold in axes:
                    yield dict(
                        convention="standard",
                        similarity=sim,
                        separation=sep,
                        readout=readout,
                        association="auto",
                        network=network,
                        n_memories=n,
                        corruption=corruption,
                        level=level,
                        threshold=threshold,
                        settings=settings,
                    )

    def compute(self, images, task):
        from ._cells import compute_spiking

        return compute_spiking(images, task)


#: the circuit experiments' simulation unless ``spiking=`` says otherwise
_CIRCUIT_RUN = {"mode": "circuit", "duration": 0.2, "settle": 0.05, "target": "numpy"}


@dataclass(frozen=True, kw_only=True)
class CircuitExperiment(SpikingExperiment):
    """The neural circuit's biology: one parameter of ``SpikingConfig(mode="circuit")`` at a
    time (``parameters``: names of :data:`~neuro_uhn.experiments.circuit.CIRCUIT_PARAMETERS`
    or ``{name: values}``) for each model. A cell is one point: its ``network`` label names
    the parameter and value (``"circuit(inhibition=0.5)"``), its ``settings`` hold the
    model, the simulation's settings, the parameter and the value; each point is a task of
    its own. Rows carry the circuit's accuracy and agreement with the abstract model, and
    the point's other measures (settling time, spikes per retrieval, the abstract model's
    accuracy) in ``row["measures"]``."""

    spiking: dict[str, Any] = field(default_factory=lambda: dict(_CIRCUIT_RUN))
    unused: ClassVar[frozenset[str]] = frozenset({"similarities", "separations"})
    #: without ``parameters``: True runs one point at the defaults, False every parameter
    default_point_only: ClassVar[bool] = False

    def parameter_table(self) -> dict[str, tuple[str, tuple[float, ...], str]]:
        """The parameters a point may move: name -> (where, default values, unit)."""
        from .circuit import CIRCUIT_PARAMETERS

        return CIRCUIT_PARAMETERS

    def points(self, opts) -> list[tuple[str | None, float | None]]:
        """The sweep's points, (parameter, value), every one's configuration checked."""
        from .circuit import base_config, check_parameters, point_config

        if opts.parameters is None and self.default_point_only:
            return [(None, None)]
        table = self.parameter_table()
        parameters = check_parameters(opts.parameters, table, self.name)
        base = base_config({**self.spiking, **(opts.spiking or {})})
        out = [(name, value) for name, values in parameters.items() for value in values]
        for name, value in out:
            point_config(base, name, value, table)
        return out

    def grid(self, opts):
        import json

        from .circuit import circuit_label

        points = self.points(opts)
        given = {**self.spiking, **(opts.spiking or {})}
        for model in opts.models or self.extra["models"]:
            sim, sep, readout = _model_labels(model)
            for corruption in self.corruption_for("standard"):
                axes = itertools.product(
                    opts.n_memories,
                    self.levels_for(corruption, opts),
                    self.thresholds_for("standard", opts),
                    points,
                )
                for n, level, threshold, (name, value) in axes:
                    settings = {**given, "model": model, "parameter": name, "value": value}
                    yield dict(
                        convention="standard",
                        similarity=sim,
                        separation=sep,
                        readout=readout,
                        association="auto",
                        network=circuit_label(name, value, self.extra.get("label", "circuit")),
                        n_memories=n,
                        corruption=corruption,
                        level=level,
                        threshold=threshold,
                        settings=json.dumps(settings, sort_keys=True),
                    )

    def task_key(self, cell) -> tuple:
        return (*super().task_key(cell), cell.settings)  # one point per task

    def compute(self, images, task):
        from .circuit import compute_circuit

        return compute_circuit(images, task)


@dataclass(frozen=True, kw_only=True)
class StorageExperiment(CircuitExperiment):
    """Memories written into the circuit by plasticity against set weights
    (:func:`~neuro_uhn.experiments.plasticity.storage_point`), per model and N; with
    ``parameters`` (of :data:`~neuro_uhn.experiments.plasticity.STORAGE_PARAMETERS`), one
    point per value, else the defaults only. A cell's ``network`` label is ``"plasticity"``
    or ``"plasticity(presentation=0.04)"``; its row's ``fraction_identity`` is the learned
    circuit's accuracy, ``agreement`` its agreement with the abstract model where that is
    right; the Pearson r of the learned weights with the set ones, and the rest, are in
    ``row["measures"]``. The SSE criterion is not computed (``fraction_correct`` is None)."""

    spiking: dict[str, Any] = field(default_factory=lambda: {**_CIRCUIT_RUN, "batch_size": 50})
    unused: ClassVar[frozenset[str]] = frozenset({"similarities", "separations", "threshold"})
    why_unused: ClassVar[dict[str, str]] = {"threshold": "it reports no SSE criterion"}
    default_point_only: ClassVar[bool] = True

    def parameter_table(self):
        from .plasticity import STORAGE_PARAMETERS

        return STORAGE_PARAMETERS

    def compute(self, images, task):
        from .plasticity import compute_storage

        return compute_storage(images, task)


def _model_labels(name: str) -> tuple[str, str, str]:
    """The labels of a bundled model's similarity, separation and read-out."""
    from ..model import load_model

    model = load_model(name)
    sep = model.separation.to_dict()
    sep_label = (
        " >> ".join(label_of(s) for s in sep["stages"]) if sep["kind"] == "chain" else label_of(sep)
    )
    return label_of(model.similarity.to_dict()), sep_label, model.readout.to_dict()["kind"]


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
            name="capacity",
            networks=("abstract", "circuit"),
            paper_figure="Fig. 2",
            description="fraction retrieved vs number of stored memories, Gaussian noise σ = 0.5",
            similarities=PAPER_SIMILARITIES,
            separations=("max",),
            n_memories=CAPACITY_NS,
            corruptions=NOISE,
            levels={"gaussian_folded": (0.5,), "gaussian": (0.5,)},
            threshold_per_size=True,
        ),
        Experiment(
            name="noise",
            networks=("abstract", "circuit"),
            paper_figure="Fig. 3 (top)",
            description="fraction retrieved vs Gaussian noise σ, 100 memories",
            similarities=PAPER_SIMILARITIES,
            separations=("max",),
            n_memories=(100,),
            corruptions=NOISE,
            levels={
                k: (0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0, 1.5)
                for k in ("gaussian_folded", "gaussian")
            },
        ),
        Experiment(
            name="mask",
            networks=("abstract", "circuit"),
            paper_figure="Fig. 3 (bottom)",
            description="fraction retrieved vs fraction of the image masked (bottom rows), "
            "50 memories",
            similarities=PAPER_SIMILARITIES,
            separations=("max",),
            n_memories=(50,),
            corruptions=MASK,
            levels={k: (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9) for k in MASK_NAMES},
        ),
        SeparationExperiment(
            name="separation",
            paper_figure="Fig. 4",
            description="fraction retrieved vs number of memories for each separation "
            "function, Manhattan similarity, bottom half masked",
            similarities=("manhattan",),
            separations=(
                "identity",
                "sqrt",
                "square",
                "cube",
                "quartic",
                "tenth",
                "softmax(beta=1000)",  # the official experiments' β
                "max",
                "log",  # the paper's log separation (official: an inverted preference)
                "topk(k=5)",  # not in the paper: our addition
            ),
            n_memories=(5, 7, 10, 20, 50, 100, 200, 300, 500, 700, 1000),
            corruptions=MASK,
            levels={k: (0.5,) for k in MASK_NAMES},
        ),
        ThresholdExperiment(
            name="threshold",
            paper_figure="appendix (error-threshold sweep)",
            description="fraction retrieved vs the squared-error threshold, 250 memories, "
            "bottom half masked",
            similarities=("euclidean", "manhattan", "dot"),
            separations=("max",),
            n_memories=(250,),
            corruptions=MASK,
            levels={k: (0.5,) for k in MASK_NAMES},
            extra={"thresholds": (1.0, 10.0, 25.0, 50.0, 100.0, 150.0, 200.0, 300.0, 500.0)},
        ),
        Experiment(
            name="perturbation",
            paper_figure="appendix (random-pixel masking, inpainting)",
            description="fraction retrieved vs random-pixel mask probability and inpainting "
            "frame, 300 memories",
            similarities=("euclidean", "manhattan", "dot"),
            separations=("max",),
            n_memories=(300,),
            corruptions={"*": ("random_mask", "inpaint")},
            levels={
                "random_mask": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
                "inpaint": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
            },
        ),
        HeteroExperiment(
            name="hetero",
            paper_figure="appendix (auto- vs hetero-association)",
            description="auto- vs hetero-association (P = image with its top half zeroed), "
            "Gaussian noise σ = 0.3; and a correct classical Hopfield network (bipolar images, "
            "10% bits flipped, identity separation, sign read-out)",
            similarities=("dot",),
            separations=("max",),
            n_memories=CAPACITY_NS,
            corruptions=NOISE,
            levels={"gaussian_folded": (0.3,), "gaussian": (0.3,), "flip": (0.1,)},
            extra={"classical_n_memories": (2, 5, 10, 20, 30, 50)},
        ),
        SpikingExperiment(
            name="spiking",
            paper_figure="new (spiking vs abstract)",
            description="retrieval by the spiking network beside the abstract model for the "
            "literature's models, as the number of memories and the noise grow",
            similarities=(),
            separations=(),
            n_memories=(10, 100),
            corruptions={"*": ("gaussian",)},
            levels={"gaussian": (0.1, 0.5)},
            conventions=("standard",),
            extra={"models": ("uhn_best", "mchn", "dam", "hopfield"), "max_queries": 20},
        ),
        CircuitExperiment(
            name="circuit",
            paper_figure="new (the circuit's biology)",
            description="retrieval by the neural circuit as one of its parameters moves "
            "(inhibition, τm, synaptic delay, input rate, neurons per memory, connection "
            "probability, noise): accuracy, agreement with the abstract model, settling time, "
            "spikes per retrieval",
            similarities=(),
            separations=(),
            n_memories=(20,),
            corruptions={"*": ("gaussian",)},
            levels={"gaussian": (0.2,)},
            conventions=("standard",),
            extra={"models": ("uhn_best",), "max_queries": 20},
        ),
        StorageExperiment(
            name="storage",
            paper_figure="new (storage by plasticity)",
            description="memories written into the circuit by local plasticity rules against "
            "set weights: Pearson r of the learned weights with the set ones, accuracy and "
            "agreement of both circuits, as N (and the presentation time) vary",
            similarities=(),
            separations=(),
            n_memories=(20, 50, 100),
            corruptions={"*": ("gaussian",)},
            levels={"gaussian": (0.2,)},
            conventions=("standard",),
            extra={"models": ("uhn_best",), "max_queries": 40, "label": "plasticity"},
        ),
    ]
}


def compute_task(images, task) -> list[dict[str, Any]]:
    """Every cell of ``task`` as a row of the tidy table (``COLUMNS``), computed as its
    experiment says (:meth:`Experiment.compute`)."""
    return EXPERIMENTS[task.experiment].compute(images, task)
