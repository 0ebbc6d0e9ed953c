"""The Brian2 network: feature neurons → M synapses → memory neurons → P synapses → outputs.

One builder serves the three modes (:class:`SpikingConfig`). Queries run in batches of
``batch_size`` independent copies of the network inside one simulation (block-diagonal
synapses), so one build serves many queries: the network is built once, stored, and for each
batch restored, given the batch's feature values, and run.

Variables of the memory neurons (one population of ``neurons_per_memory`` per memory, per copy)::

    u     = I_sim + bias + common      the similarity current (exact, or a synaptic trace)
    s     = h(u)                       the score (h = identity, or −sqrt(−u) for Euclidean)
    g     = transfer(s)                the separation's transfer (linear, power, exp, step)
    rate  = gain · g [/ Z]             Z = Σ g over the copy: global divisive inhibition
    spike when rand() < rate · dt      (no spikes in continuous mode)

Output neurons accumulate ``J_k += P[i, k]`` for each spike of memory i during the decoding
window (continuous mode: ``J_k = Σ_i P[i, k] · rate_i · T``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .._xp import namespace, to_numpy
from ..errors import ValidationError, ValidationTypeError
from ..model import UHN
from ..readout import IdentityReadout
from ..retrieval import prepare
from ..similarity import validate_queries
from ._circuit import (
    CELL_TYPES,
    GATE_OPEN,
    build_circuit,
    fit_graded_decoder,
    neuron_values,
    plan_circuit,
)
from ._config import SpikingConfig, UnsupportedComponent
from ._device import BRIAN_LOCK
from ._device import Standalone as _Standalone
from ._device import brian as _brian
from ._mapping import (
    RECIPROCAL_FLOOR,
    circuit_similarity_map,
    map_paper_separation,
    map_paper_similarity,
    map_separation,
    map_similarity,
)

__all__ = ["SpikingUHN", "SpikingRun"]


@dataclass
class SpikingRun:
    """What one run over a set of queries recorded.

    ``spikes[b]`` holds (memory index, time in s) arrays of query b's memory spikes (pooled
    neurons mapped to their memory), over the whole run; ``counts`` are the decoding window's
    pooled counts (continuous mode: rate × window); ``J`` the output neurons' accumulators.
    """

    counts: np.ndarray  # (B, N)
    J: np.ndarray  # (B, n_out)
    spikes: list[tuple[np.ndarray, np.ndarray]]
    config: SpikingConfig
    #: circuit mode: per query (output column, time) of the output neurons' spikes
    #: (columns: on outputs, off outputs if P has negative values, then the reference neuron)
    output_spikes: list[tuple[np.ndarray, np.ndarray]] | None = None
    #: circuit mode, what :meth:`SpikingUHN.record` asked for: {"group.variable": array of
    #: shape (n_queries, n_recorded_neurons, n_steps)}, SI units; ``trace_times`` in s
    traces: dict[str, np.ndarray] | None = None
    trace_times: np.ndarray | None = None
    #: circuit mode: per query (inhibitory neuron index, time)
    inhibitory_spikes: list[tuple[np.ndarray, np.ndarray]] | None = None
    #: circuit mode with the read-out gate: per query the time (s) its gate closed the
    #: outputs, NaN where it stayed open (z then sums fewer than ``gate_count`` spikes)
    gate_times: np.ndarray | None = None
    n_output_columns: int = 0

    def output_counts_in(self, start: float, stop: float) -> np.ndarray:
        """Circuit mode: spike counts of the output neurons in [start, stop), per query."""
        if self.output_spikes is None:
            raise ValidationError("output neurons spike only in mode='circuit'")
        return np.stack(
            [
                np.bincount(i[(t >= start) & (t < stop)], minlength=self.n_output_columns)
                for i, t in self.output_spikes
            ]
        ).astype(float)

    def counts_in(self, start: float, stop: float) -> np.ndarray:
        """Pooled spike counts per memory in [start, stop) for every query."""
        n = self.counts.shape[1]
        return np.stack(
            [np.bincount(i[(t >= start) & (t < stop)], minlength=n) for i, t in self.spikes]
        ).astype(float)


class SpikingUHN:
    """A spiking network built from a ``UHN`` spec, memories ``M`` and projection ``P``.

    Parameters
    ----------
    model : UHN or str
        The spec (or a bundled model's name).
    memories : array, shape (n_memories, n_features)
    projection : array, shape (n_memories, n_out), optional
        ``None`` for auto-association.
    config : SpikingConfig, optional
    """

    def __init__(
        self,
        model,
        memories,
        projection=None,
        *,
        config: SpikingConfig | None = None,
        convention: str = "standard",
    ):
        from ..model import load_model

        model = load_model(model) if isinstance(model, str) else model
        if not isinstance(model, UHN):
            raise ValidationTypeError(
                f"'model' must be a UHN or a model name; got {type(model).__name__}"
            )
        self.config = config or SpikingConfig()
        if not isinstance(self.config, SpikingConfig):
            raise ValidationTypeError(
                f"'config' must be a SpikingConfig; got {type(self.config).__name__}"
            )
        prepared = prepare(model, memories, projection, convention=convention)
        self.model, self.convention = model, convention
        self.M = np.asarray(to_numpy(prepared.M), dtype=float)
        self.P = np.asarray(to_numpy(prepared.P), dtype=float)
        self.plan = None
        if self.config.mode == "circuit":
            if convention != "standard":
                raise UnsupportedComponent(
                    f"convention {convention!r}",
                    "circuit",
                    "the official pipeline's reciprocal distances and sum-normalisations "
                    "have no circuit form yet",
                )
            self.sep_map = None
            if self.config.storage == "plasticity":
                self._init_plastic()
            else:
                self.sim_map = circuit_similarity_map(model.similarity, self.M, self.config)
                self.plan = plan_circuit(model, self.sim_map, self.M, self.P, self.config)
        elif convention == "paper":
            resolved = prepared.model
            self.sim_map = map_paper_similarity(resolved.similarity, self.M, self.config)
            self.sep_map = map_paper_separation(
                resolved.separation, self.sim_map, self.M, self.config
            )
        else:
            self.sim_map = map_similarity(model.similarity, self.M, self.config)
            self.sep_map = map_separation(model.separation, self.sim_map, self.M, self.config)
        if self.config.dale and self.config.mode != "spiking":
            raise UnsupportedComponent(
                "dale=True", self.config.mode, "Dale's law concerns spiking feature neurons"
            )
        if self.config.target in ("cython", "cpp_standalone"):
            _require_compiler(self.config.target)
        if self.config.target == "cuda_standalone":
            try:
                import brian2cuda  # noqa: F401
            except ImportError:
                raise UnsupportedComponent(
                    "target 'cuda_standalone'",
                    self.config.mode,
                    "brian2cuda is not installed (it needs Python >= 3.12 and brian2 2.10.1)",
                ) from None
        self._net = None
        self._standalone = None
        self._n_queries = 1
        self._records: list[tuple[str, tuple[str, ...], np.ndarray]] = []
        #: circuit mode, polynomial: the exponent of the rates measured at build (on M)
        self.measured_exponent: float | None = None
        self._rate_offset = 0.0
        #: circuit mode, gated read-out: the reference spikes at which the output gate
        #: closes (calibrated at build; effectively never while calibrating)
        self.gate_count: float = GATE_OPEN
        self._channels = (
            self.sim_map.channels if self.config.mode in ("spiking", "circuit") else (1,)
        )
        if self.config.storage == "plasticity":
            M0, P0 = self.M, self.P
            self.M, self.P = M0[:0], P0[:0]
            self._present(M0, P0)

    # ----------------------------------------------------------------------------- storage
    def _init_plastic(self) -> None:
        """storage="plasticity": the learned form, the calibration (from the memories given
        at construction, as for "set") and an empty network of ``capacity`` populations."""
        from ._plasticity import learned_form

        cfg, M, P = self.config, self.M, self.P
        self.sim_map = circuit_similarity_map(self.model.similarity, M, cfg)
        self._form = learned_form(self.sim_map, M, self.model.similarity.name)
        self._calibration = plan_circuit(self.model, self.sim_map, M, P, cfg)
        capacity = cfg.plasticity.capacity or len(M)
        if capacity < len(M):
            raise ValidationError(
                f"'capacity' ({capacity}) must be at least the number of memories given ({len(M)})"
            )
        self._capacity = capacity
        self.plan = self._calibration  # replaced by the learned plan after the first store

    def _encode(self, X: np.ndarray) -> np.ndarray:
        """Feature neurons' rates / input_rate for patterns X, every channel (as the queries)."""
        return self._circuit_rates(X) / self.config.circuit.input_rate

    def _teacher(self, P: np.ndarray) -> np.ndarray:
        """Output columns' teaching rates / teach_rate for projection rows P (on, off, ref)."""
        cal = self._calibration
        cols = [np.clip(P, 0, None) / cal.P_scale]
        if cal.signed_output:
            cols.append(np.clip(-P, 0, None) / cal.P_scale)
        cols.append(np.ones((len(P), 1)))
        return np.clip(np.concatenate(cols, axis=1), 0, 1)

    def _present(self, X: np.ndarray, P: np.ndarray) -> None:
        """Present every row of X once (with its projection row) to the storage network."""
        from ._plasticity import Learned, learned_plan, store

        b2 = _brian()
        cfg = self.config
        if not hasattr(self, "_learned"):
            n_cols = P.shape[1] * (2 if self._calibration.signed_output else 1) + 1
            self._learned = Learned.empty(
                self._capacity, cfg.neurons_per_memory, self.n_features, n_cols
            )
        with BRIAN_LOCK:
            if self._standalone is not None:
                self._standalone.close()
                self._standalone = None
            seed = None if cfg.seed is None else cfg.seed + 7919 * (self._learned.presentations + 1)
            store(
                b2, self._learned, self._encode(X), self._teacher(P), cfg, seed=seed,
                target=self._storage_target(len(X)),
            )  # fmt: skip
        self.M = np.concatenate([self.M, X])
        self.P = np.concatenate([self.P, P])
        self.plan = learned_plan(self._learned, self._calibration, self._form, self.sim_map, cfg)
        self._net = None

    #: storage work (presentations × plastic synapses) above which "auto" compiles the storage
    #: network (cpp_standalone, about 15 s to compile); numpy stores 100 digits (4 neurons per
    #: memory, 400 × 1024 synapses) in about 23 s on 2 cores
    STORAGE_STANDALONE_WORK = 5e7

    def _storage_target(self, n_patterns: int) -> str:
        cfg = self.config
        if cfg.target in ("numpy", "cpp_standalone"):
            return cfg.target
        if cfg.target == "auto":
            work = n_patterns * self._capacity * cfg.neurons_per_memory * self.n_features
            if work > self.STORAGE_STANDALONE_WORK:
                try:
                    _require_compiler("cpp_standalone")
                    return "cpp_standalone"
                except ValidationError:
                    return "numpy"
        return "numpy"  # cython and cuda: the storage run uses numpy

    def store(self, patterns, projection=None) -> None:
        """storage="plasticity": write further memories into free populations, each by one
        presentation (the same rules as at construction). Retrievals before it are allowed;
        the network is rebuilt on the next run. A full network is a ValidationError."""
        if self.config.storage != "plasticity":
            raise ValidationError(
                "store() needs SpikingConfig(mode='circuit', storage='plasticity'); this "
                f"network has storage={self.config.storage!r} (its weights are set from M)"
            )
        X = np.asarray(patterns, dtype=float)
        if X.ndim == 1:
            X = X[None]
        if X.ndim != 2 or X.shape[1] != self.M.shape[1] or not np.all(np.isfinite(X)):
            raise ValidationError(
                f"'patterns' must be a finite array of shape (n, {self.M.shape[1]}); "
                f"got shape {X.shape}"
            )
        hetero = self.model.association == "hetero"
        if projection is None:
            if hetero:
                raise ValidationError("'projection' is required: this model is hetero-associative")
            Pn = X.copy()
        else:
            Pn = np.asarray(projection, dtype=float)
            if Pn.ndim == 1:
                Pn = Pn[None]
            if Pn.shape != (len(X), self.P.shape[1]) or not np.all(np.isfinite(Pn)):
                raise ValidationError(
                    f"'projection' must be a finite array of shape ({len(X)}, {self.P.shape[1]});"
                    f" got shape {Pn.shape}"
                )
        if np.min(self.sim_map.features(X)) < -1e-12:  # as learned_form checks M
            raise ValidationError(
                "'patterns' must have a nonnegative encoding for storage='plasticity', as the "
                "memories given at construction: a signed one needs cross-channel weights "
                "that no local rule learns"
            )
        self._present(X, Pn)

    @property
    def population_of_memory(self) -> np.ndarray:
        """Memory i → its population in the network (storage="plasticity": the population
        that recruitment allocated; "set": i)."""
        if self.config.storage == "plasticity":
            return np.asarray(self._learned.population_of, dtype=int)
        return np.arange(self.n_memories)

    def weights(self) -> dict[str, np.ndarray]:
        """The circuit's learned or set weights, in its own units, one copy:

        * ``"feature_to_memory"`` (memory neurons × feature neurons), volts per input spike:
          the net weight of each feature neuron onto each memory neuron (excitatory direct,
          inhibitory through the relays);
        * ``"memory_to_output"`` (memory neurons × output columns), release probabilities
          (on, off where P is signed, and the reference neuron; each on/off column is a
          population of ``output_neurons`` neurons reached with the same probability);
        * ``"bias"`` (memory neurons,), volts.

        storage="plasticity" adds what was learned: ``"instar"`` (the feature→memory weights,
        rate units), ``"eligibility"``, ``"feedforward"`` (the running-mean encoding) and
        ``"occupied"`` (per population).
        """
        if self.plan is None:
            raise ValidationError("weights() is for mode='circuit'")
        cfg = self.config
        # the same values, and the same connectivity draw, as the build (neuron_values)
        W, bias, Pfull = neuron_values(
            self.plan, self._channels, cfg.neurons_per_memory, cfg.circuit.connection_p,
            np.random.default_rng(cfg.seed),
        )  # fmt: skip
        out = {"feature_to_memory": W, "memory_to_output": Pfull, "bias": bias}
        if self.config.storage == "plasticity":
            L = self._learned
            out.update(instar=L.w.copy(), eligibility=L.u.copy(), feedforward=L.mu.copy(),
                       occupied=L.occupied.copy())  # fmt: skip
        return out

    # ----------------------------------------------------------------------------- sizes
    @property
    def n_memories(self) -> int:
        return self.M.shape[0]

    @property
    def _n_populations(self) -> int:
        """Memory populations in the network (storage="plasticity": its capacity)."""
        return self.plan.W.shape[0] if self.plan is not None else self.n_memories

    @property
    def n_features(self) -> int:
        """Feature neurons per copy (thermometer units and on/off channels included)."""
        return self.sim_map.W.shape[1] * len(self._channels)

    @property
    def n_neurons(self) -> int:
        """Neurons per copy: features, memory neurons, normaliser or inhibitory population
        (and relays and the read-out gate in circuit mode), outputs."""
        if self.plan is not None:  # the recordable groups (relays among them), features, gate
            return self.n_features + sum(self._group_sizes().values()) + int(self.gated)
        return (
            self.n_features
            + self.n_memories * self.config.neurons_per_memory
            + int(self.sep_map.normalised)
            + self.P.shape[1]
        )

    # ----------------------------------------------------------------------------- build
    #: Copies of the network per simulation are capped so all copies together hold at most
    #: this many synapses (memory and per-step cost grow with it).
    SYNAPSE_BUDGET = 4_000_000

    def synapses_per_copy(self) -> int:
        n = self.config.neurons_per_memory
        if self.plan is not None:
            m = self.config.circuit.output_neurons
            if self.plan.neurons is None:  # one synapse per nonzero P entry and column neuron
                out = n * (np.count_nonzero(self.P) * m + self._n_populations)
            else:  # learned: every column may be reached
                cols = self.P.shape[1] * (2 if self.plan.signed_output else 1)
                out = self._n_populations * n * (cols * m + 1)
            per = (
                n * len(self._channels) * np.count_nonzero(self.plan.W)
                + self._n_populations * n * (self.config.circuit.n_inhibitory * 2 + n)
                + out
            )
            return int(per)
        return self.n_memories * n * (self.n_features + self.P.shape[1] + 1)

    def _copies(self, n_queries: int) -> int:
        by_budget = max(1, self.SYNAPSE_BUDGET // self.synapses_per_copy())
        return max(1, min(self.config.batch_size, n_queries, by_budget))

    def query_inputs(self, queries) -> dict[str, np.ndarray]:
        """Every per-query array that is set on the network, by name, shape (n_queries, ...).

        In circuit mode exactly one: ``"rates"``, the feature neurons' Poisson rates in Hz
        (the query's encoding: on/off channels, thermometer units). No score is computed.
        """
        Q = self._validated(queries)
        if self.config.mode == "circuit":
            return {"rates": self._circuit_rates(Q)}
        phi, common = self._inputs(Q)
        name = "rates" if self.config.mode == "spiking" else "features"
        values = phi * (self.config.input_rate / self.sim_map.scale) if name == "rates" else phi
        return {name: values, "common": common}

    def _circuit_rates(self, Q: np.ndarray) -> np.ndarray:
        phi = self.sim_map.features(Q)
        phi = np.concatenate([np.clip(c * phi, 0, None) for c in self._channels], axis=1)
        rate = self.config.circuit.input_rate
        return np.clip(phi / self.sim_map.scale, 0, 1) * rate

    def _validated(self, queries) -> np.ndarray:
        Q, _ = validate_queries(np.asarray(queries, dtype=float), self.M, namespace(self.M))
        return np.asarray(Q, dtype=float)

    def _weights(self) -> np.ndarray:
        """Feature→memory weights per channel, scaled so the mean current is W·φ."""
        W = np.concatenate([c * self.sim_map.W for c in self._channels], axis=1)
        if self.config.mode == "spiking":
            W = W * self.sim_map.scale / (self.config.tau_syn * self.config.input_rate)
        return W

    def _build(self, K: int) -> None:
        b2 = _brian()
        cfg, sep = self.config, self.sep_map
        target = self.chosen_target(self._n_queries)
        standalone = target in ("cpp_standalone", "cuda_standalone")
        if standalone:
            self._standalone = _Standalone.start(b2, target, self.config.threads)
        else:
            b2.set_device("runtime")
            b2.prefs.codegen.target = target
        if self.plan is not None:
            rng = np.random.default_rng(cfg.seed)
            objects, groups, ns = build_circuit(b2, self.plan, cfg, K, self._channels, rng)
            sizes = self._group_sizes()
            for r, (group, variables, idx) in enumerate(self._records):
                glob = (np.arange(K)[:, None] * sizes[group] + idx[None]).ravel()
                mon = b2.StateMonitor(groups[group], list(variables), record=glob,
                                      name=f"record_{r}")  # fmt: skip
                groups[f"record_{r}"] = mon
                objects.append(mon)
            self._net, self._ns, self._groups, self._K = b2.Network(*objects), ns, groups, K
            if standalone:
                self._standalone.build(self, b2)
            else:
                self._net.store("built")
            return
        N, n, F = self.n_memories, cfg.neurons_per_memory, self.n_features
        n_out = self.P.shape[1]
        dt = cfg.dt * b2.second
        continuous = cfg.mode == "continuous"
        ns = {
            "a": sep.a,
            "b": sep.b,
            "npow": sep.n,
            "beta": sep.beta,
            "theta": sep.theta,
            "gain": cfg.memory_rate * (n if sep.normalised else 1) * b2.Hz,
            "rmax": cfg.max_rate * b2.Hz,
            "tau": cfg.tau_syn * b2.second,
            "window": cfg.window * b2.second,
        }

        # feature layer
        if cfg.mode == "spiking":
            feat = b2.PoissonGroup(K * F, rates=0 * b2.Hz, dt=dt, name="features")
        else:
            feat = b2.NeuronGroup(K * F, "x : 1", dt=dt, name="features")

        # memory layer
        score = {
            "neg_sqrt": "s = -sqrt(clip(-u, 0, inf)) : 1",
            "reciprocal": "s = 1 / clip(-u, dmin, inf) : 1",  # a divisive unit
            "identity": "s = u : 1",
        }[self.sim_map.score_transform]
        ns["dmin"] = RECIPROCAL_FLOOR
        x = "sn" if sep.prenormalise else "s"  # the paper's scores are divided by their sum
        transfer = {
            "linear": f"g = ({x} - a) / (b - a) : 1",
            "power": f"g = (clip({x}, 0, inf) / b)**npow : 1",
            "exp": f"g = exp(clip(beta * ({x} - sref_held), -1000, 50)) : 1",  # no overflow
            "step": f"g = int({x} >= theta) : 1",
        }[sep.transfer]
        prenorm = (
            ["S : 1 (linked)", "S_held : 1", "sn = s / S_held : 1"] if sep.prenormalise else []
        )
        if sep.normalised:
            rate = "rate = gain * g / (Z + int(Z == 0)) : Hz"  # all g underflowed: rate 0
            norm_var = "Z : 1 (linked)"
        else:
            rate, norm_var = "rate = gain * g : Hz", ""
        if not continuous:
            rate = (
                rate.replace(" : Hz", "").replace("rate = ", "rate = clip(") + ", 0*Hz, rmax) : Hz"
            )
        current = "dI_sim/dt = -I_sim / tau : 1" if cfg.mode == "spiking" else "I_sim : 1"
        eqs = "\n".join(
            [
                current,
                "bias : 1 (constant)",
                "common : 1",
                # the exponent's reference, tracked by the normaliser (held in a state
                # variable: a summed synapse cannot read a linked expression)
                "sref : 1 (linked)\nsref_held : 1" if sep.transfer == "exp" else "",
                "u = I_sim + bias + common : 1",
                score,
                *prenorm,
                transfer,
                norm_var,
                rate,
                # continuous mode: the "count" a spiking neuron would have, as a state
                # variable (a summed synapse cannot read a linked-variable expression)
                "act : 1" if continuous else "",
            ]
        )
        mem_kwargs = (
            {}
            if continuous
            else {"threshold": "rand() < rate * dt", "refractory": cfg.refractory * b2.second}
        )
        mem = b2.NeuronGroup(K * N * n, eqs, dt=dt, name="memories", method="exact", **mem_kwargs)
        mem.bias = np.tile(np.repeat(self.sim_map.bias, n), K)
        if continuous:
            mem.run_regularly("act = rate * window", dt=dt, name="activity")
        copy_of_neuron = np.repeat(np.arange(K), N * n)
        objects = [feat, mem]

        # feature -> memory synapses: one block per copy, dense
        W = self._weights()  # (N, F)
        f_idx, m_idx = np.meshgrid(np.arange(F), np.arange(N * n), indexing="ij")
        pre = (np.arange(K)[:, None, None] * F + f_idx[None]).ravel()
        post = (np.arange(K)[:, None, None] * (N * n) + m_idx[None]).ravel()
        w = np.tile(np.repeat(W, n, axis=0).T[None], (K, 1, 1)).ravel()
        if cfg.mode == "spiking":
            objects += self._spiking_synapses(b2, feat, mem, pre, post, w, K, F, dt)
        else:
            expr = "-abs(w - x_pre)" if self.sim_map.synapse == "neg_abs_diff" else "w * x_pre"
            # the features are constant during a query: hybrid mode computes the sum in the
            # first step and then switches these synapses off (see _run_batch)
            syn = b2.Synapses(
                feat, mem, f"w : 1\nI_sim_post = {expr} : 1 (summed)", dt=dt, name="similarity"
            )
            syn.connect(i=pre, j=post)
            syn.w = w
            objects.append(syn)

        # the paper's first sum-normalisation: a divisive unit per copy sums the scores (each
        # memory once: its population's neurons share one score); the memory neurons hold
        # the sum in a state variable (a summed synapse cannot read a linked expression)
        if sep.prenormalise:
            ns["npop"] = n
            pre_norm = b2.NeuronGroup(K, "S : 1", dt=dt, name="score_sum")
            pre_norm.S = 1.0
            psyn = b2.Synapses(
                mem,
                pre_norm,
                "S_post = s_pre / npop : 1 (summed)",
                dt=dt,
                name="score_normalisation",
            )
            psyn.connect(i=np.arange(K * N * n), j=copy_of_neuron)
            mem.S = b2.linked_var(pre_norm, "S", index=copy_of_neuron)
            mem.S_held = 1.0
            mem.run_regularly("S_held = S + int(S == 0)", dt=dt, name="hold_score_sum")
            objects += [pre_norm, psyn]

        # global divisive inhibition: one normaliser per copy sums g of its memory neurons.
        # For the exp transfer it also tracks the reference L of the exponent inside the
        # network (no per-query number from outside): each step L += log(Z)/β, a Newton step
        # to log-sum-exp(βs)/β, so Z -> npop and exp stays in range. L starts at the largest
        # score among the stored patterns (a build-time constant from M).
        if sep.normalised:
            norm_eqs = "Z : 1\nL : 1" if sep.transfer == "exp" else "Z : 1"
            norm = b2.NeuronGroup(K, norm_eqs, dt=dt, name="normaliser")
            norm.Z = 1.0  # until the first sum arrives (one step)
            nsyn = b2.Synapses(mem, norm, "Z_post = g_pre : 1 (summed)", dt=dt, name="inhibition")
            nsyn.connect(i=np.arange(K * N * n), j=copy_of_neuron)
            mem.Z = b2.linked_var(norm, "Z", index=copy_of_neuron)
            objects += [norm, nsyn]
            if sep.transfer == "exp":
                ns["npop_norm"] = float(n)
                ceiling = self._score_ceiling()
                norm.L = ceiling
                norm.run_regularly(
                    "L += log(clip(Z / npop_norm, 1e-300, 1e300)) / beta",
                    dt=dt,
                    when="after_groups",
                    name="log_sum_exp",
                )
                mem.sref = b2.linked_var(norm, "L", index=copy_of_neuron)
                mem.sref_held = ceiling  # (a standalone device cannot read L back here)
                mem.run_regularly("sref_held = sref", dt=dt, name="hold_reference")

        # memory -> output synapses carry P
        out = b2.NeuronGroup(K * n_out, "J : 1", dt=dt, name="outputs")
        objects.append(out)
        m_i, o_i = np.meshgrid(np.arange(N * n), np.arange(n_out), indexing="ij")
        pre_o = (np.arange(K)[:, None, None] * (N * n) + m_i[None]).ravel()
        post_o = (np.arange(K)[:, None, None] * n_out + o_i[None]).ravel()
        p = np.tile(np.repeat(self.P, n, axis=0)[None], (K, 1, 1)).ravel()
        if continuous:
            proj = b2.Synapses(
                mem, out, "p : 1\nJ_post = p * act_pre : 1 (summed)", dt=dt, name="projection"
            )
        else:
            proj = b2.Synapses(mem, out, "p : 1", on_pre="J_post += p", dt=dt, name="projection")
        proj.connect(i=pre_o, j=post_o)
        proj.p = p
        objects.append(proj)
        monitor = None
        if not continuous:
            monitor = b2.SpikeMonitor(mem, name="memory_spikes")
            objects.append(monitor)
        net = b2.Network(*objects)
        self._net, self._ns = net, ns
        self._groups = {
            "features": feat,
            "memories": mem,
            "outputs": out,
            "monitor": monitor,
            "similarity": objects[2],
        }
        self._K = K
        if standalone:
            self._standalone.build(self, b2)
        else:
            net.store("built")

    def _spiking_synapses(self, b2, feat, mem, pre, post, w, K, F, dt):
        """Poisson features drive the memory traces; with Dale's law, negative weights go
        through one inhibitory interneuron per feature neuron (one step of delay)."""
        if not self.config.dale:
            syn = b2.Synapses(
                feat, mem, "w : 1", on_pre="I_sim_post += w", dt=dt, name="similarity"
            )
            syn.connect(i=pre, j=post)
            syn.w = w
            return [syn]
        pos, neg = w > 0, w < 0
        exc = b2.Synapses(feat, mem, "w : 1", on_pre="I_sim_post += w", dt=dt, name="excitation")
        exc.connect(i=pre[pos], j=post[pos])
        exc.w = w[pos]
        inter = b2.NeuronGroup(
            K * F, "v : 1", threshold="v > 0.5", reset="v = 0", dt=dt, name="interneurons"
        )
        relay = b2.Synapses(feat, inter, on_pre="v_post += 1", dt=dt, name="relay")
        relay.connect(j="i")
        inh = b2.Synapses(
            inter, mem, "w : 1", on_pre="I_sim_post -= w", dt=dt, name="inhibition_ff"
        )
        inh.connect(i=pre[neg], j=post[neg])
        inh.w = -w[neg]
        return [exc, inter, relay, inh]

    # ----------------------------------------------------------------------------- run
    def _inputs(self, Q: np.ndarray):
        """Per-copy feature values (or rates) and common currents: encodings of the query
        alone; no score is computed here."""
        phi = self.sim_map.features(Q)
        phi = (
            np.concatenate([np.clip(c * phi, 0, None) for c in self._channels], axis=1)
            if self.config.mode == "spiking"
            else phi
        )
        return phi, self.sim_map.common(Q)

    def _score_ceiling(self) -> float:
        """The largest score among the stored patterns queried with each other (from M only):
        where the exponent's reference starts before the network tracks it."""
        S = self.sim_map.scores(self.M)
        if self.sep_map.prenormalise:
            S = S / S.sum(axis=1, keepdims=True)
        return float(np.max(S))

    #: Measured on 2 cores (docs/spiking.md): compiling a standalone project costs about
    #: 12 s, and saves about 1 µs of wall time per synapse per copy per simulated second
    #: over the numpy target (1.05 s at 1.57 M synapses, 0.15 s at 157 k).
    STANDALONE_COMPILE_SECONDS = 12.0
    STANDALONE_SAVING_PER_SYNAPSE = 1e-6

    def chosen_target(self, n_queries: int) -> str:
        """The code-generation target for ``n_queries`` queries: the configured one, or for
        ``"auto"`` the faster of numpy and cpp_standalone by the measured costs above."""
        if self.config.target != "auto":
            return self.config.target
        import shutil

        saving = (
            self.STANDALONE_SAVING_PER_SYNAPSE
            * self.synapses_per_copy()
            * n_queries
            * self.config.duration
        )
        if saving > self.STANDALONE_COMPILE_SECONDS and shutil.which("g++"):
            return "cpp_standalone"
        return "numpy"

    def build(self, n_queries: int = 1) -> None:
        """Build (and, for standalone targets, compile) the network for ``n_queries`` queries
        (``batch_size`` copies at a time); :meth:`run` builds on first use otherwise."""
        with BRIAN_LOCK:
            self._build_locked(n_queries)

    def _build_locked(self, n_queries: int) -> None:
        self._n_queries = max(1, n_queries)
        self._build(self._copies(n_queries))
        if self.plan is not None:
            self._reference_rate = self._calibrate_decoder()

    #: Seed offset of the calibration batch (queries' batches use 0, 1, 2, ...).
    CALIBRATION_SEED_OFFSET = 999_999
    #: circuit mode: the fewest stored patterns the decoder is calibrated on (when N allows)
    CALIBRATION_CUES = 16

    def _calibrate_decoder(self) -> float:
        """The decoder's unit, from M only: the reference output neuron's mean rate (Hz)
        when the circuit is cued with its own stored patterns; and the read-out gate's count.

        The reference neuron is reached by every memory neuron, so this is the circuit's
        typical total memory rate; z = max|P| · (n_on − n_off) / (rate · window) is then
        linear in the output counts with a gain fixed at build time, not a per-query
        normaliser. The calibration cues are ``min(N, max(K, CALIBRATION_CUES))`` stored
        patterns, run in as many batches of K copies as they need, so a network built for
        one query (K = 1) calibrates on as many patterns as one built for many.
        """
        b2, K, cfg = _brian(), self._K, self.config
        self.gate_count = GATE_OPEN  # a rebuild (after store()) calibrates with the gate open
        order = np.random.default_rng(0 if cfg.seed is None else cfg.seed).permutation(
            self.n_memories
        )
        n_cal = min(self.n_memories, max(K, self.CALIBRATION_CUES))
        batches = -(-n_cal // K)
        idx = np.resize(order[:n_cal], batches * K)
        counts, ref = [], []
        for b in range(batches):
            cues = self.M[idx[b * K : (b + 1) * K]]
            c, _, _, more = self._run_batch(b2, cues, seed_offset=self.CALIBRATION_SEED_OFFSET + b)
            counts.append(c)
            ref += [np.count_nonzero((i == self._groups["n_cols"] - 1) & (t >= cfg.settle))
                    for i, t in more["output_spikes"]]  # fmt: skip
        counts = np.concatenate(counts)
        if self.plan.graded:  # polynomial, identity: rate per unit of weight, and at 0
            unit, self._rate_offset, self.measured_exponent = fit_graded_decoder(
                self.plan, idx, counts, cfg.window
            )
            return unit if unit > 0 else 1.0 / cfg.window
        if "gate" in self._groups:
            self.gate_count = float(max(1, round(cfg.circuit.readout_gate * np.median(ref))))
        rate = float(np.mean(ref)) / cfg.window
        return rate if rate > 0 else 1.0 / cfg.window  # no spikes: z stays 0 anyway

    def run(self, queries, *, progress: bool | None = None) -> SpikingRun:
        """Simulate every query (in batches of ``batch_size`` copies).

        ``progress``: a progress bar with an ETA on stderr, one step per batch; ``None``
        (default) shows it on a terminal when there is more than one batch.

        Thread-safe by taking turns: Brian2's device, preferences and random seed are
        process-wide, so runs of any SpikingUHN in different threads are serialised (a lock
        in ``_device``); for parallel work use processes.
        """
        with BRIAN_LOCK:
            return self._run_locked(queries, progress)

    def _run_locked(self, queries, progress) -> SpikingRun:
        Q = self._validated(queries)
        cfg = self.config
        if self._net is None:
            self._build_locked(len(Q))
        b2 = _brian()
        K = self._K
        counts, Js, spikes, extra = [], [], [], {}
        from tqdm.auto import tqdm

        n_batches = -(-len(Q) // K)
        bar = tqdm(
            total=n_batches, desc=f"spiking {cfg.mode}", unit="batch", leave=False,
            disable=(n_batches < 2 or None) if progress is None else not progress,
        )  # fmt: skip
        for start in range(0, len(Q), K):
            batch = Q[start : start + K]
            pad = np.concatenate([batch, np.repeat(batch[-1:], K - len(batch), axis=0)])
            c, J, sp, more = self._run_batch(b2, pad, seed_offset=start // K)
            counts.append(c[: len(batch)])
            Js.append(J[: len(batch)])
            spikes += sp[: len(batch)]
            for key, value in more.items():
                extra.setdefault(key, []).extend(value[: len(batch)])
            bar.update()
        bar.close()
        n_cols = self._groups.get("n_cols", 0) if self.plan is not None else 0
        if cfg.storage == "plasticity":  # populations in the order the memories were stored
            counts = [c[:, self.population_of_memory] for c in counts]
        if "gate_times" in extra:
            extra["gate_times"] = np.asarray(extra["gate_times"], dtype=float)
        traces = extra.pop("traces", None)
        if traces is not None:
            extra["traces"] = {key: np.stack([t[key] for t in traces]) for key in traces[0]}
            extra["trace_times"] = self._trace_times
        return SpikingRun(
            np.concatenate(counts), np.concatenate(Js), spikes, cfg, n_output_columns=n_cols,
            **extra,
        )  # fmt: skip

    def _input_values(self, b2, Q):
        """The per-query variables of a batch: {variable view: values}."""
        cfg, g = self.config, self._groups
        if self.plan is not None:
            values = {g["features"].rates: self._circuit_rates(Q).ravel() * b2.Hz}
            if "gate" in g:  # a build-time constant, the same for every query
                values[g["gate"].R] = np.full(self._K, float(self.gate_count))
            return values
        N, n = self.n_memories, cfg.neurons_per_memory
        phi, common = self._inputs(Q)
        mem, feat = g["memories"], g["features"]
        values = {mem.common: np.repeat(common, N * n)}
        if cfg.mode == "spiking":
            values[feat.rates] = (cfg.input_rate / self.sim_map.scale) * phi.ravel() * b2.Hz
        else:
            values[feat.x] = phi.ravel()
        return values

    def _schedule(self, b2) -> None:
        """The runs of one batch (recorded once by a standalone device, replayed by runtime)."""
        cfg, net, g = self.config, self._net, self._groups
        if cfg.mode == "circuit":
            net.run(cfg.duration * b2.second, namespace=self._ns)
            return
        if cfg.mode == "continuous":
            # features → currents → normaliser → activity → outputs: one step each
            net.run(10 * cfg.dt * b2.second, namespace=self._ns)
            return
        elapsed = 0.0
        try:
            if cfg.mode == "hybrid":
                # constant features: the summed similarity current is exact after one step,
                # so the feature→memory synapses are switched off for the rest of the run
                net.run(cfg.dt * b2.second, namespace=self._ns)
                _set_active(g["similarity"], False)
                elapsed = cfg.dt
            if cfg.settle > elapsed:
                net.run((cfg.settle - elapsed) * b2.second, namespace=self._ns)
            if cfg.settle >= elapsed:
                g["outputs"].J = 0  # the outputs integrate the decoding window only
            net.run((cfg.duration - max(cfg.settle, elapsed)) * b2.second, namespace=self._ns)
        finally:
            _set_active(g["similarity"], True)

    def _collect(self, b2):
        cfg, g = self.config, self._groups
        K, N, n = self._K, self.n_memories, cfg.neurons_per_memory
        if self.plan is not None:
            N = self._n_populations
            spikes = _split(b2, g["memory_spikes"], K, N * n, n)
            counts = np.stack(
                [np.bincount(m[t >= cfg.settle], minlength=N) for m, t in spikes]
            ).astype(float)
            # output neurons -> their column (a column is a population of output_neurons)
            out = _split(b2, g["output_spikes"], K, g["n_output_neurons"],
                         cfg.circuit.output_neurons)  # fmt: skip
            inh = _split(b2, g["inhibitory_spikes"], K, cfg.circuit.n_inhibitory, 1)
            n_out = self.P.shape[1]
            oc = np.stack(
                [np.bincount(i[t >= cfg.settle], minlength=g["n_cols"]) for i, t in out]
            ).astype(float)
            J = oc[:, :n_out] - (oc[:, n_out : 2 * n_out] if self.plan.signed_output else 0)
            extra = {"output_spikes": out, "inhibitory_spikes": inh}
            if "gate_spikes" in g:  # when each copy's gate first fired (NaN: it stayed open)
                gi = np.asarray(g["gate_spikes"].i[:])
                gt = np.asarray(g["gate_spikes"].t[:] / b2.second)
                first = np.full(K, np.nan)
                for k in range(K):
                    mine = gt[gi == k]
                    first[k] = mine.min() if len(mine) else np.nan
                extra["gate_times"] = list(first)
            for r, (group, variables, idx) in enumerate(self._records):
                mon = g[f"record_{r}"]
                for var in variables:
                    values = np.asarray(getattr(mon, var)[:])  # (K·len(idx), n_steps), SI
                    extra.setdefault("traces", [{} for _ in range(K)])
                    for k, per in enumerate(values.reshape(K, len(idx), -1)):
                        extra["traces"][k][f"{group}.{var}"] = per
                self._trace_times = np.asarray(mon.t[:] / b2.second)
            return counts, J, spikes, extra
        J = np.asarray(g["outputs"].J[:]).reshape(K, -1)
        if cfg.mode == "continuous":
            act = np.asarray(g["memories"].act[:]).reshape(K, N, n).sum(-1)
            return act, J, [(np.zeros(0, int), np.zeros(0))] * K, {}
        mon = g["monitor"]
        i = np.asarray(mon.i[:])
        t = np.asarray(mon.t[:] / b2.second)
        copy, memory = i // (N * n), (i % (N * n)) // n
        spikes = [(memory[copy == k], t[copy == k]) for k in range(K)]
        counts = np.stack([np.bincount(m[tt >= cfg.settle], minlength=N) for m, tt in spikes])
        return counts.astype(float), J, spikes, {}

    def _run_batch(self, b2, Q, seed_offset: int):
        if self._standalone is not None:
            return self._standalone.run(self, b2, Q)
        self._net.restore("built")
        if self.config.seed is not None:
            b2.seed(self.config.seed + seed_offset)
        for view, values in self._input_values(b2, Q).items():
            view[:] = values
        self._schedule(b2)
        return self._collect(b2)

    # ----------------------------------------------------------------------------- decode
    def decode(self, counts: np.ndarray, window: float) -> np.ndarray:
        """Separation weights from pooled counts over a window of ``window`` seconds."""
        per_memory_rate = self.config.memory_rate * self.config.neurons_per_memory
        return self.sep_map.decode(counts, per_memory_rate * window)

    def outputs(self, counts: np.ndarray, window: float) -> np.ndarray:
        """``z = readout(decode(counts) · P)``."""
        Z = self.decode(counts, window) @ self.P
        readout = self.model.readout
        return Z if isinstance(readout, IdentityReadout) else np.asarray(readout(Z))

    def decode_outputs(self, output_counts: np.ndarray, window: float | None = None) -> np.ndarray:
        """Circuit mode: ``z`` from the output neurons' counts over ``window`` seconds
        (default the decoding window; columns as in SpikingRun).

        Gated (max, top-1, softmax): ``z_k = max|P| · (n_on,k − n_off,k) / (m · R)``; ungated
        ``z_k = max|P| · (n_on,k − n_off,k) / (m · r_ref · window)``: linear in the output
        counts (``n``: a column's count summed over its ``m = output_neurons`` neurons). The
        constants are fixed at build time from M and P only: ``max|P|`` (the release
        probabilities are ``|P|/max|P|``), the gate's count ``R`` (:attr:`gate_count`) and
        ``r_ref``, the reference neuron's mean rate when the circuit is cued with its stored
        patterns (:meth:`reference_rate`). Nothing in it depends on the query being decoded.
        """
        if self.plan is None:
            raise ValidationError("decode_outputs is for mode='circuit'")
        window = self.config.window if window is None else float(window)
        oc = np.asarray(output_counts, dtype=float)
        n_out = self.P.shape[1]
        diff = oc[:, :n_out] - (oc[:, n_out : 2 * n_out] if self.plan.signed_output else 0)
        diff = diff / self.config.circuit.output_neurons  # releases per column neuron
        if self.gated:  # the outputs summed gate_count memory spikes (fewer if it stayed open)
            if self._net is None:
                self.build(1)  # gate_count is calibrated at build
            Z = self.plan.P_scale * diff / self.gate_count
        else:
            Z = self.plan.P_scale * diff / (self.reference_rate * window)
        if self.plan.graded:  # identity: rates sit on a baseline; remove its projection
            Z = Z - self._rate_offset * self.P.sum(axis=0) / self.reference_rate
        readout = self.model.readout
        return Z if isinstance(readout, IdentityReadout) else np.asarray(readout(Z))

    @property
    def gated(self) -> bool:
        """Circuit mode: the output gate closes after a fixed number of reference spikes
        (max, top-1 and softmax with ``readout_gate > 0``), and z is read over that count."""
        return (
            self.plan is not None and self.plan.normalised and self.config.circuit.readout_gate > 0
        )

    @property
    def reference_rate(self) -> float:
        """Circuit mode: the decoder's unit (Hz), calibrated at build time from M."""
        if self.plan is None:
            raise ValidationError("reference_rate is for mode='circuit'")
        if self._net is None:
            self.build(1)
        return self._reference_rate

    def decode_run(self, run: SpikingRun, start: float | None = None, stop: float | None = None):
        """``z`` per query from the spikes in [start, stop) (default: the decoding window):
        from the output neurons in circuit mode, from the memory counts otherwise."""
        start = self.config.settle if start is None else start
        stop = self.config.duration if stop is None else stop
        if self.plan is not None:
            return self.decode_outputs(run.output_counts_in(start, stop + 1e-12), stop - start)
        if self.config.mode == "continuous":  # no spikes: the counts are rate × window
            return self.outputs(run.counts, self.config.window)
        return self.outputs(run.counts_in(start, stop + 1e-12), stop - start)

    def retrieve(self, queries) -> np.ndarray:
        """``z`` for every query over [settle, duration]: read from the output neurons in
        circuit mode, decoded from the memory neurons' counts in the rate modes."""
        single = np.ndim(queries) == 1
        run = self.run(np.atleast_2d(np.asarray(queries, dtype=float)))
        if self.plan is not None:
            Z = self.decode_outputs(run.output_counts_in(self.config.settle, np.inf))
        else:
            Z = self.outputs(run.counts, self.config.window)
        return Z[0] if single else Z

    # ----------------------------------------------------------------------------- Brian2
    def record(self, group: str, variables, neurons) -> None:
        """Record ``variables`` of ``neurons`` (indices within one copy) of ``group`` in every
        query; the traces come back in :attr:`SpikingRun.traces` as ``"group.var"``.

        Circuit mode, before the network is built (call it before the first run). Memory
        neuron ``i`` of memory ``k`` is index ``k * neurons_per_memory + i``.
        """
        if self.plan is None:
            raise ValidationError("record() is for mode='circuit'")
        if self._net is not None:
            raise ValidationError("record() must come before the network is built (the first run)")
        sizes = self._group_sizes()
        if group not in sizes:
            raise ValidationError(f"'group' must be one of {sorted(sizes)}; got {group!r}")
        variables = (variables,) if isinstance(variables, str) else tuple(variables)
        idx = np.atleast_1d(np.asarray(neurons))
        if (
            idx.dtype.kind not in "iu"
            or idx.size == 0
            or idx.min() < 0
            or idx.max() >= sizes[group]
        ):
            raise ValidationError(
                f"'neurons' must be indices in 0..{sizes[group] - 1} of group {group!r}; "
                f"got {neurons!r}"
            )
        self._records.append((group, variables, idx.astype(int)))

    def _has_relays(self) -> bool:
        """Whether some feature→memory weight (any channel) is negative."""
        if self.plan.neurons is not None:
            return bool(np.any(self.plan.neurons["W"] < 0))
        return bool(np.any(self.plan.W < 0) or (-1 in self._channels and np.any(self.plan.W > 0)))

    def _group_sizes(self) -> dict[str, int]:
        n_cols = self.P.shape[1] * (2 if self.plan.signed_output else 1)
        n_cols = n_cols * self.config.circuit.output_neurons + 1
        sizes = {
            "memories": self._n_populations * self.config.neurons_per_memory,
            "inhibitory": self.config.circuit.n_inhibitory,
            "outputs": n_cols,
        }
        if self._has_relays():
            sizes["relays"] = self.n_features
        return sizes

    @property
    def network(self):
        """The built ``brian2.Network`` (built for one query if not yet built)."""
        if self._net is None:
            self.build(1)
        return self._net

    @property
    def cell_types(self) -> dict[str, str]:
        """Circuit mode: ``{group name: "excitatory" | "inhibitory"}`` (Dale's law)."""
        if self.plan is None:
            raise ValidationError("cell types are defined for mode='circuit'")
        return {
            k: v
            for k, v in CELL_TYPES.items()
            if (k != "relays" or self._has_relays()) and (k != "gate" or self.gated)
        }

    def __getitem__(self, name: str):
        """A named Brian2 object of the built network: ``net["memories"]``, ``net["i_to_e"]``."""
        return self.network[name]


def _require_compiler(target: str) -> None:
    """A clear error, before Brian2 tries, when no C++ compiler is on the PATH."""
    import shutil

    found = [c for c in ("g++", "c++", "clang++") if shutil.which(c)]
    if not found and not os.environ.get("CXX"):
        raise ValidationError(
            f"'target' {target!r} compiles C++ but no compiler (g++, c++, clang++ or $CXX) "
            "was found on the PATH; install one (e.g. apt-get install g++) or use "
            "target='numpy'"
        )


def _split(b2, monitor, K: int, per_copy: int, pool: int):
    """A SpikeMonitor's spikes per copy, neuron indices local to the copy (÷ pool)."""
    i = np.asarray(monitor.i[:])
    t = np.asarray(monitor.t[:] / b2.second)
    copy, local = i // per_copy, (i % per_copy) // pool
    return [(local[copy == k], t[copy == k]) for k in range(K)]


def _set_active(obj, active: bool) -> None:
    obj.active = active
    for child in obj.contained_objects:
        child.active = active
