"""The neural circuit (``mode="circuit"``): plan → build → simulate → decode.

Per query the circuit receives only spike trains: pools of Poisson feature neurons at the
query's encoded rates, and a cue unit, firing while the cue is shown. Everything after that
is neurons and synapses::

    features (E, Poisson) ──A⁺──▶ memory populations (E, LIF) ──depressing, ∝ |P|──▶ outputs
    cue unit (E) ──bias⁺──────────▶   ▲   │    ▲ self-excitation                  on/off
        └─ shared part c ─▶ pooled    │   ▼    │                             (E, noisy LIF)
              feed-forward inhibition (I)   inhibitory population (I, LIF) ──▶ every memory

* **Similarity = synapses** (:mod:`neuro_uhn.spiking.mapping`); the signed weights are split
  into excitatory synapses and a part every memory shares, delivered by one pooled
  feed-forward inhibitory population (Dale's law; :mod:`.build`).
* **Separation = a sub-network** registered per separation: :mod:`.competitive` (max,
  top-1, softmax), :mod:`.latch` (threshold), :mod:`.graded` (polynomial, identity).
* **Projection = synaptic weights** onto noisy output neurons, depressing for the selection
  codes so z does not follow the winner's rate (:mod:`.readout`).
* **Cues in sequence** through one network, with a pause between them.
* **Storage** is ``"set"`` (M and P copied into the synapses) or ``"plasticity"``
  (:mod:`.storage`: the weights are written by presenting each memory once).

Build-time constants come from ``M`` and ``P`` only (the plan, and the decoder's calibration
run on the stored patterns). What the circuit computes outside neurons is the encoding of
the query into feature rates (:meth:`CircuitNetwork.rates`) and, for the sign readouts
(hopfield, dam, sdm), the sign of z.
"""

from __future__ import annotations

import numpy as np

from ...errors import ValidationError
from ...readout import IdentityReadout
from ..device import brian
from ..engine import SEED_CALIBRATION, SEED_STORAGE, Batch, NetworkKind, SpikingRun, sub_seed
from ..mapping import circuit_similarity_map
from ..registry import unsupported
from . import competitive, graded, latch, storage  # noqa: F401  (they register the separations)
from .build import (
    CUE_NEURONS,
    CircuitBuild,
    build_circuit,
    feature_pool,
    has_feedforward,
    needs,
    neuron_values,
)
from .neurons import CELL_TYPES
from .plan import circuit_separations, plan_circuit
from .readout import Decoder, OutputLayout, fit_output_stage
from .storage import PlasticStorage

__all__ = ["CircuitNetwork"]


class CircuitNetwork(NetworkKind):
    """The circuit for one spec, memories ``M`` and projection ``P`` (see the module)."""

    #: The fewest stored patterns the decoder is calibrated on (when N allows).
    CALIBRATION_CUES = 16
    in_sequence = True

    def __init__(self, model, M: np.ndarray, P: np.ndarray, config, convention: str):
        if convention != "standard":
            raise unsupported(
                f"convention {convention!r}",
                "circuit",
                "the official pipeline's reciprocal distances and sum-normalisations "
                "have no circuit form yet",
            )
        self.model, self.config = model, config
        self.M, self.P = M, P  # every memory given (stored, or waiting to be presented)
        sep = model.separation
        self.separation = circuit_separations.lookup(sep, "circuit")(sep, model)
        self.sim_map = circuit_similarity_map(model.similarity, M, config)
        self.channels = self.sim_map.channels
        self.pool = feature_pool(self.sim_map, M.shape[1], config)
        self.plan = plan_circuit(model, self.sim_map, M, P, config)
        self.storage: PlasticStorage | None = None
        self._pending = None
        if config.storage == "plasticity":
            if config.circuit.memory_model is not None:
                raise unsupported("memory_model with storage='plasticity'", "circuit",
                                  "the learning state lives in the default memory neuron")
            if config.target in ("cpp_standalone", "cuda_standalone"):
                raise ValidationError(
                    f"target {config.target!r} cannot store by plasticity: the network that "
                    "stores is the one that retrieves, and a standalone project runs one "
                    "fixed schedule; use target 'auto', 'numpy' or 'cython'",
                    argument="target",
                )
            self.storage = PlasticStorage(model, self.sim_map, M, self.plan, config)
            self.plan = self.storage.plan(self.pool)  # the calibration, no weights yet
            self._pending = (M, P)  # presented at the first build (or store())
        if config.circuit.memory_model is not None:
            config.circuit.memory_model.check(needs(self.plan, self.separation, self.channels))
        self.records: list[tuple[str, tuple[str, ...], np.ndarray]] = []
        self.decoder: Decoder | None = None
        #: polynomial: the exponent of the rates measured at build (on M)
        self.measured_exponent: float | None = None
        #: the output stage's linearity on the calibration run (correlation of the output
        #: rates with the drive they were fitted to)
        self.output_linearity: float | None = None
        self.outputs = OutputLayout(P.shape[1], self.plan.signed_output,
                                    config.circuit.output_neurons)  # fmt: skip

    # ------------------------------------------------------------------ sizes
    @property
    def n_populations(self) -> int:
        """Memory populations (storage="plasticity": the network's capacity)."""
        return self.storage.capacity if self.storage is not None else len(self.M)

    def has_feedforward(self) -> bool:
        """Some feature→memory weight or bias is negative: the pooled feed-forward
        inhibition carries the shared part."""
        return has_feedforward(self.plan, self.channels)

    def sizes(self) -> dict[str, int]:
        """Neurons per copy of every group ``record()`` can read."""
        n = self.config.neurons_per_memory
        sizes = {"memories": self.n_populations * n, "outputs": self.outputs.per_copy}
        if self.separation.kind in ("max", "topk", "softmax"):
            sizes["inhibitory"] = self.config.circuit.n_inhibitory
        if self.has_feedforward():
            sizes["feedforward"] = self.config.circuit.pool_inhibitory
        if self.plan.normalised:
            sizes["normalisation"] = self.config.circuit.normalisation_neurons
        return sizes

    @property
    def n_feature_neurons(self) -> int:
        """Poisson feature neurons per copy (pools included) and the cue unit."""
        return self.n_features * self.pool + CUE_NEURONS

    @property
    def n_neurons(self) -> int:
        """Neurons per copy: feature pools, the cue unit and every group."""
        return self.n_feature_neurons + sum(self.sizes().values())

    @property
    def cell_types(self) -> dict[str, str]:
        """``{group name: "excitatory" | "inhibitory"}`` (Dale's law)."""
        present = {"features", "cue", *self.sizes()}
        if self.storage is not None:
            present |= {"novelty", "teacher"}
        return {k: v for k, v in CELL_TYPES.items() if k in present}

    def synapses_per_copy(self) -> int:
        cfg, n = self.config, self.config.neurons_per_memory
        c, N = cfg.circuit, self.n_populations
        m, mem = c.output_neurons, self.n_populations * n
        wta = self.separation.kind in ("max", "topk", "softmax")
        inh = mem * c.n_inhibitory * 2 if wta else 0
        recurrent = N * n * n if self.plan.self_weight > 0 else 0
        if self.plan.learning is None:  # one synapse per nonzero P entry and column neuron
            out = n * np.count_nonzero(self.P) * m
            W = np.concatenate([ch * np.asarray(self.plan.W) for ch in self.channels], axis=1)
            # after the split A + c ≥ 0, a feature whose column has a negative weight reaches
            # every memory but its most negative one
            neg = np.any(W < 0, axis=0)
            per_feature = np.where(neg, W.shape[0] - 1, np.count_nonzero(W, axis=0)) * n
            feed = self.pool * int(per_feature.sum()) + CUE_NEURONS * mem
        else:  # learned: every feature and every output neuron may be reached, and the
            # storage machinery (recruitment, chain, teacher, cue state)
            out = mem * self.outputs.per_copy
            feed = int(round(c.connection_p * self.n_features * self.pool * mem))
            feed += storage.N_RECRUIT * mem + mem + CUE_NEURONS
        if self.has_feedforward():
            feed += (self.n_features * self.pool + CUE_NEURONS) * c.pool_inhibitory
            feed += c.pool_inhibitory * mem
        if self.plan.normalised:
            out += c.normalisation_neurons * (mem + self.outputs.per_copy)
        return int(feed + inh + recurrent + out)

    # ------------------------------------------------------------------ inputs
    def rates(self, Q: np.ndarray) -> np.ndarray:
        """The feature neurons' Poisson rates (Hz) for queries Q: the query's encoding
        (on/off channels, thermometer units), clipped to [0, input_rate]. No score."""
        phi = self.sim_map.features(Q)
        phi = np.concatenate([np.clip(c * phi, 0, None) for c in self.channels], axis=1)
        return np.clip(phi / self.sim_map.scale, 0, 1) * self.config.input_rate

    def query_inputs(self, Q: np.ndarray) -> dict[str, np.ndarray]:
        """Exactly one per-query array: ``"rates"``, the feature neurons' rates in Hz."""
        return {"rates": self.rates(Q)}

    def input_values(self, built: CircuitBuild, b2, Q):
        """The cues' rates as the ``stimulus`` TimedArray: one row per cue in sequence, the
        K copies' features side by side."""
        S, K = built.sequence.slots, built.K
        rates = self.rates(Q).reshape(K, S, -1).transpose(1, 0, 2).reshape(S, -1)
        return {built.namespace["stimulus"]: rates * b2.Hz}

    @property
    def waiting(self) -> bool:
        """storage="plasticity": memories wait to be presented (at the next build)."""
        return self.storage is not None and self._pending is not None

    # ------------------------------------------------------------------ build
    @property
    def runtime_only(self) -> bool:
        """storage="plasticity" stores and retrieves in one runtime network."""
        return self.storage is not None

    def prepare(self) -> None:
        """Before a fresh build: a network that learned before is gone with its synapses, so
        the new one learns every memory again (Engine.build keeps a built one)."""
        if self.storage is not None and self.storage.presentations:
            self.storage.forget()
            self._pending = (self.M, self.P)

    def learn(self, engine) -> None:
        """Storage by plasticity: present the memories waiting to be stored to the built
        network (one Brian2 run, lock held by the engine); its synapses then hold them."""
        if self.storage is None or self._pending is None:
            return
        X, P = self._pending
        cfg = self.config
        seed = None if cfg.seed is None else sub_seed(cfg.seed, SEED_STORAGE,
                                                      self.storage.presentations)  # fmt: skip
        later = self.storage.presentations > 0  # store() on a network that learned before
        try:
            self.storage.present(brian(), engine.built, engine.network,
                                 self.rates(X) / cfg.input_rate, P, seed)  # fmt: skip
        except BaseException:
            if later:  # the patterns queued by store() are not stored: forget them
                self.M, self.P = self.M[: len(self.M) - len(X)], self.P[: len(self.P) - len(P)]
                self._pending = None
            raise
        self._pending = None

    def build_objects(self, b2, K: int, slots: int = 1) -> CircuitBuild:
        rng = np.random.default_rng(self.config.seed)  # the sparse connectivity's draw
        typical = self.rates(self.M).mean(axis=0)  # the stored patterns' rates (M only)
        return build_circuit(b2, self.plan, self.separation, self.config, K, self.channels, rng,
                             self.records, slots=slots, pool=self.pool,
                             typical_rates=typical)  # fmt: skip

    def calibrate(self, engine) -> None:
        """The decoder's constants, from M only: the circuit cued with
        ``min(N, max(per_batch, CALIBRATION_CUES))`` of its stored patterns, in as many
        batches as they need.

        The output stage's gain and baseline are fitted (least squares) to the drive each
        output column received in that run, from the measured memory spikes: the rows of
        |P|/max|P| averaged with the populations' counts as weights (normalised read-outs),
        or ``Σ_k |P_k|/max|P| · rate_k`` (threshold and the graded codes, whose unit is a
        typical active population's rate or the graded fit).
        """
        cfg = self.config
        per = engine.per_batch
        N = len(self.M)
        order = np.random.default_rng(0 if cfg.seed is None else cfg.seed).permutation(N)
        n_cal = min(N, max(per, self.CALIBRATION_CUES))
        batches = -(-n_cal // per)
        idx = np.resize(order[:n_cal], batches * per)
        counts, outs = [], []
        for b in range(batches):
            batch = engine.run_batch(self.M[idx[b * per : (b + 1) * per]], SEED_CALIBRATION, b)
            counts.append(batch.counts)
            outs.append(batch.extra["column_counts"])
        counts, outs = np.concatenate(counts), np.concatenate(outs)
        if self.storage is not None:  # populations in the order the memories were stored
            counts = counts[:, self.storage.population_of]
        window, m = cfg.window, self.outputs.neurons
        Prel = [self.plan.P_on] + ([self.plan.P_off] if self.plan.signed_output else [])
        if self.storage is not None:  # learned: per population, its synapses' mean
            P = self.storage.state(engine.built)["projection"].reshape(
                self.n_populations, cfg.neurons_per_memory, -1).mean(axis=1)
            Prel = np.split(P[self.storage.population_of], len(Prel), axis=1)
        decoder = Decoder(self.plan.P_scale, m, signed=self.plan.signed_output)
        rates = counts / window  # population rates (Hz, pooled over the population)
        if self.plan.normalised:
            total = counts.sum(axis=1, keepdims=True)
            weights = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
            drive = [weights @ p for p in Prel]
        else:
            drive = [rates @ p for p in Prel]
        x = np.concatenate(drive, axis=1)
        gain, baseline, r = fit_output_stage(x, outs / (m * window))
        decoder.gain = gain if gain > 0 else 1.0
        decoder.baseline, self.output_linearity = baseline, r
        if self.plan.graded:  # polynomial, identity: rate per unit of weight, and at 0
            unit, offset, self.measured_exponent = graded.fit_graded_decoder(
                self.plan, idx, counts, window
            )
            decoder.unit = unit if unit > 0 else 1.0 / window
            decoder.offset, decoder.projection_sum = offset, self.P.sum(axis=0)
        elif not self.plan.normalised:  # threshold: a typical active population's rate
            active = rates[counts > 0]
            decoder.unit = float(np.median(active)) if active.size else 1.0 / window
        self.decoder = decoder

    # ------------------------------------------------------------------ simulate
    def schedule(self, built: CircuitBuild, net, b2) -> None:
        net.run(built.sequence.total * b2.second, namespace=built.namespace)

    def collect(self, built: CircuitBuild, b2) -> Batch:
        """Every cue's spikes, with times from its onset: K copies × the cues each showed in
        sequence (copy-major, the order of the batch's cues)."""
        cfg, copies, seq = self.config, built.copies, built.sequence
        N, n = built.n_populations, built.neurons_per_memory

        t0 = float(built.namespace["t0"] / b2.second)  # (storage="plasticity": after it)

        def split(monitor, size, pool=1):
            per_copy = copies.split(monitor.i[:], monitor.t[:] / b2.second - t0, size, pool)
            return [cue for i, t in per_copy for cue in seq.split(i, t)]

        spikes = split(built["memory_spikes"], N * n, n)
        counts = np.stack([np.bincount(m[t >= cfg.settle], minlength=N) for m, t in spikes])
        out = [
            (self.outputs.column_of(i), t)
            for i, t in split(built["output_spikes"], self.outputs.per_copy)
        ]
        oc = np.stack(
            [np.bincount(i[t >= cfg.settle], minlength=self.outputs.n_columns) for i, t in out]
        ).astype(float)
        extra = {"output_spikes": out, "column_counts": list(oc)}
        if "inhibitory_spikes" in built:
            extra["inhibitory_spikes"] = split(built["inhibitory_spikes"],
                                               cfg.circuit.n_inhibitory)  # fmt: skip
        if self.records:
            traces = [{} for _ in range(built.K)]
            for r, (group, variables, idx) in enumerate(self.records):
                mon = built[f"record_{r}"]
                for var in variables:
                    values = np.asarray(getattr(mon, var)[:])  # (K·len(idx), n_steps), SI
                    for k, per in enumerate(values.reshape(built.K, len(idx), -1)):
                        traces[k][f"{group}.{var}"] = per
                self._trace_times = np.asarray(mon.t[:] / b2.second) - t0
            # one trace per cue: its slot of the sequence, from the onset
            steps = int(round(seq.period / float(built.dt / b2.second)))
            keep = int(round(cfg.duration / float(built.dt / b2.second)))
            extra["traces"] = [
                {key: v[..., s * steps : s * steps + keep] for key, v in tr.items()}
                for tr in traces for s in range(seq.slots)
            ]  # fmt: skip
            self._trace_times = self._trace_times[:keep]
        return Batch(counts.astype(float), self.outputs.signed_counts(oc), spikes, extra)

    def assemble(self, batches: list[Batch]) -> SpikingRun:
        extra = {}
        for key in batches[0].extra:
            extra[key] = [v for b in batches for v in b.extra[key]]
        counts = np.concatenate([b.counts for b in batches])
        if self.storage is not None:  # populations in the order the memories were stored
            counts = counts[:, self.storage.population_of]
        extra.pop("column_counts", None)
        if "traces" in extra:
            traces = extra.pop("traces")
            extra["traces"] = {key: np.stack([t[key] for t in traces]) for key in traces[0]}
            extra["trace_times"] = self._trace_times
        return SpikingRun(
            counts, np.concatenate([b.J for b in batches]),
            [s for b in batches for s in b.spikes], self.config,
            n_output_columns=self.outputs.n_columns, **extra,
        )  # fmt: skip

    # ------------------------------------------------------------------ decode
    def decode(self, run: SpikingRun, start: float, stop: float) -> np.ndarray:
        """z from the output neurons' spikes in [start, stop): linear in the output counts
        with the decoder's build-time constants (:class:`~.readout.Decoder`)."""
        if self.decoder is None:
            raise ValidationError("the circuit's decoder is calibrated at build: call build() "
                                  "or run() first")  # fmt: skip
        counts = run.output_counts_in(start, stop)
        Z = self.decoder.decode(self.outputs.signed_counts(counts), stop - start)
        readout = self.model.readout
        return Z if isinstance(readout, IdentityReadout) else np.asarray(readout(Z))

    # ------------------------------------------------------------------ what was stored
    def weights(self, built: CircuitBuild | None = None) -> dict[str, np.ndarray]:
        """The circuit's learned or set weights, in its own units, one copy (see
        ``SpikingUHN.weights``; storage="plasticity" reads them from the ``built`` network's
        synapses and neurons)."""
        cfg = self.config
        if self.storage is None:
            # the same values, and the same connectivity draw, as the build (neuron_values)
            W, bias, Pfull = neuron_values(
                self.plan, self.channels, cfg.neurons_per_memory, cfg.circuit.connection_p,
                np.random.default_rng(cfg.seed),
            )  # fmt: skip
            return {"feature_to_memory": W, "memory_to_output": Pfull, "bias": bias}
        state = self.storage.state(built)
        L = self.plan.learning
        # each synapse in the units it transmits with (Learning): the instar weights and
        # the feed-forward weights of a feature's pool, summed; the intrinsic current
        pool = self.pool
        W = pool * (L.w_unit * state["instar"] - L.feedforward_unit * state["feedforward"]
                    - L.structural)  # fmt: skip
        out = {"feature_to_memory": W, "memory_to_output": state["projection"],
               "bias": L.bias(state["excitability"])}  # fmt: skip
        out.update({k: v for k, v in state.items() if k != "projection"})
        return out

    def record(self, group: str, variables, neurons) -> None:
        """Record ``variables`` of ``neurons`` (indices within one copy) of ``group``."""
        sizes = self.sizes()
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
        self.records.append((group, variables, idx.astype(int)))

    def store(self, X: np.ndarray, P: np.ndarray) -> None:
        """Queue ``X`` (with projection rows ``P``) for presentation; they are presented
        before the next build (``SpikingUHN.store`` rebuilds)."""
        self.storage.check_room(len(X) + (0 if self._pending is None else len(self._pending[0])))
        self.storage.check_patterns(X, P)
        self.M = np.concatenate([self.M, X])
        self.P = np.concatenate([self.P, P])
        if self._pending is None:
            self._pending = (X, P)
        else:
            self._pending = (np.concatenate([self._pending[0], X]),
                             np.concatenate([self._pending[1], P]))  # fmt: skip
