"""The neural circuit (``mode="circuit"``): plan → build → simulate → decode.

Per query the circuit receives only the feature neurons' Poisson rates (the query's
encoding). Everything after that is leaky integrate-and-fire neurons and synapses::

    features (E, Poisson) ──J·W⁺──▶ memory populations (E, LIF) ──p=|P|/max|P|──▶ outputs
        │                               ▲   │    ▲ self-excitation          on/off (E, LIF)
        └──▶ relays (I) ──J·W⁻──────────┘   │    │                          + reference
                                            ▼    │
                                  inhibitory population (I, LIF) ──▶ every memory

* **Similarity = synapses** (:mod:`neuro_uhn.spiking.mapping`), split by sign (Dale's law).
* **Separation = a sub-network** registered per separation: :mod:`.competitive` (max,
  top-1, softmax), :mod:`.latch` (threshold), :mod:`.graded` (polynomial, identity).
* **Projection = release probabilities**, read by output populations (:mod:`.readout`).
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
from ..device import BRIAN_LOCK
from ..engine import SEED_CALIBRATION, SEED_STORAGE, Batch, NetworkKind, SpikingRun, sub_seed
from ..mapping import circuit_similarity_map
from ..registry import unsupported
from . import competitive, graded, latch  # noqa: F401  (they register the separations)
from .build import CircuitBuild, build_circuit, has_relays, needs, neuron_values
from .neurons import CELL_TYPES
from .plan import circuit_separations, plan_circuit
from .readout import GATE_OPEN, Decoder, OutputLayout, gated
from .storage import PlasticStorage

__all__ = ["CircuitNetwork"]


class CircuitNetwork(NetworkKind):
    """The circuit for one spec, memories ``M`` and projection ``P`` (see the module)."""

    #: The fewest stored patterns the decoder is calibrated on (when N allows).
    CALIBRATION_CUES = 16

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
        self.plan = plan_circuit(model, self.sim_map, M, P, config)
        self.storage: PlasticStorage | None = None
        if config.storage == "plasticity":
            self.storage = PlasticStorage(model, self.sim_map, M, self.plan, config)
            self._pending = (M, P)  # presented at the first build (or store())
        if config.circuit.memory_model is not None:
            config.circuit.memory_model.check(needs(self.plan, self.separation, self.channels))
        self.records: list[tuple[str, tuple[str, ...], np.ndarray]] = []
        self.decoder: Decoder | None = None
        #: polynomial: the exponent of the rates measured at build (on M)
        self.measured_exponent: float | None = None
        self._gate_count = GATE_OPEN
        self.outputs = OutputLayout(P.shape[1], self.plan.signed_output,
                                    config.circuit.output_neurons)  # fmt: skip

    # ------------------------------------------------------------------ sizes
    @property
    def n_populations(self) -> int:
        """Memory populations (storage="plasticity": the network's capacity)."""
        return self.storage.capacity if self.storage is not None else len(self.M)

    @property
    def gated(self) -> bool:
        """The output gate closes after a fixed number of reference spikes (max, top-1 and
        softmax with ``readout_gate > 0``), and z is read over that count."""
        return gated(self.plan, self.config)

    def sizes(self) -> dict[str, int]:
        """Neurons per copy of every group ``record()`` can read."""
        n = self.config.neurons_per_memory
        sizes = {"memories": self.n_populations * n, "outputs": self.outputs.per_copy}
        if self.separation.kind in ("max", "topk", "softmax"):
            sizes["inhibitory"] = self.config.circuit.n_inhibitory
        if has_relays(self.plan, self.channels):
            sizes["relays"] = self.n_features
        return sizes

    @property
    def n_neurons(self) -> int:
        """Neurons per copy: features, every group, and the read-out gate."""
        return self.n_features + sum(self.sizes().values()) + int(self.gated)

    @property
    def cell_types(self) -> dict[str, str]:
        """``{group name: "excitatory" | "inhibitory"}`` (Dale's law)."""
        present = {"features", *self.sizes()} | ({"gate"} if self.gated else set())
        return {k: v for k, v in CELL_TYPES.items() if k in present}

    def synapses_per_copy(self) -> int:
        cfg, n = self.config, self.config.neurons_per_memory
        m, N = cfg.circuit.output_neurons, self.n_populations
        if self.plan.neurons is None:  # one synapse per nonzero P entry and column neuron
            out = n * (np.count_nonzero(self.P) * m + N)
        else:  # learned: every column may be reached
            out = N * n * ((self.outputs.n_columns - 1) * m + 1)
        wta = self.separation.kind in ("max", "topk", "softmax")
        inh = N * n * cfg.circuit.n_inhibitory * 2 if wta else 0
        recurrent = N * n * n if self.plan.self_weight > 0 else 0
        W = self.plan.W if self.plan.neurons is None else self.plan.neurons["W"]
        per = n * len(self.channels) * np.count_nonzero(W) + inh + recurrent + out
        return int(per)

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
        values = {built["features"].rates: self.rates(Q).ravel() * b2.Hz}
        if "gate" in built:  # a build-time constant, the same for every query
            values[built["gate"].R] = np.full(built.K, float(self._gate_count))
        return values

    @property
    def waiting(self) -> bool:
        """storage="plasticity": memories wait to be presented (at the next build)."""
        return self.storage is not None and self._pending is not None

    # ------------------------------------------------------------------ build
    def prepare(self) -> None:
        """Storage by plasticity: present the memories waiting to be stored (one Brian2 run
        of the storage network); the plan then carries what was learned."""
        if self.storage is None or self._pending is None:
            return
        X, P = self._pending
        cfg = self.config
        seed = None if cfg.seed is None else sub_seed(cfg.seed, SEED_STORAGE,
                                                      self.storage.presentations)  # fmt: skip
        with BRIAN_LOCK:
            self.plan = self.storage.present(self.rates(X) / cfg.input_rate, P, seed)
        self._pending = None

    def build_objects(self, b2, K: int) -> CircuitBuild:
        rng = np.random.default_rng(self.config.seed)  # the sparse connectivity's draw
        return build_circuit(b2, self.plan, self.separation, self.config, K, self.channels, rng,
                             self.records)  # fmt: skip

    def calibrate(self, engine) -> None:
        """The decoder's constants, from M only: the circuit cued with
        ``min(N, max(K, CALIBRATION_CUES))`` of its stored patterns, in as many batches of K
        copies as they need (a network built for one query calibrates like one built for
        many).

        The reference output neuron is reached by every memory neuron, so its rate is the
        circuit's typical total memory rate ``r_ref``; the gate's count R is
        ``readout_gate`` × the median reference count; the graded codes fit their rates.
        """
        cfg, K = self.config, engine.built.K
        N = len(self.M)
        self._gate_count = GATE_OPEN  # a rebuild (after store()) calibrates with the gate open
        order = np.random.default_rng(0 if cfg.seed is None else cfg.seed).permutation(N)
        n_cal = min(N, max(K, self.CALIBRATION_CUES))
        batches = -(-n_cal // K)
        idx = np.resize(order[:n_cal], batches * K)
        counts, ref = [], []
        for b in range(batches):
            batch = engine.run_batch(self.M[idx[b * K : (b + 1) * K]], SEED_CALIBRATION, b)
            counts.append(batch.counts)
            ref += [np.count_nonzero((i == self.outputs.reference) & (t >= cfg.settle))
                    for i, t in batch.extra["output_spikes"]]  # fmt: skip
        counts = np.concatenate(counts)
        decoder = Decoder(self.plan.P_scale, cfg.circuit.output_neurons)
        if self.plan.graded:  # polynomial, identity: rate per unit of weight, and at 0
            unit, offset, self.measured_exponent = graded.fit_graded_decoder(
                self.plan, idx, counts, cfg.window
            )
            decoder.unit = unit if unit > 0 else 1.0 / cfg.window
            decoder.offset, decoder.projection_sum = offset, self.P.sum(axis=0)
        else:
            rate = float(np.mean(ref)) / cfg.window
            decoder.unit = rate if rate > 0 else 1.0 / cfg.window  # no spikes: z stays 0
            if self.gated:
                self._gate_count = float(max(1, round(cfg.circuit.readout_gate * np.median(ref))))
                decoder.gate_count = self._gate_count
        self.decoder = decoder

    # ------------------------------------------------------------------ simulate
    def schedule(self, built: CircuitBuild, net, b2) -> None:
        net.run(self.config.duration * b2.second, namespace=built.namespace)

    def collect(self, built: CircuitBuild, b2) -> Batch:
        cfg, copies = self.config, built.copies
        N, n, K = built.n_populations, built.neurons_per_memory, built.K

        def split(monitor, size, pool=1):
            return copies.split(monitor.i[:], monitor.t[:] / b2.second, size, pool)

        spikes = split(built["memory_spikes"], N * n, n)
        counts = np.stack([np.bincount(m[t >= cfg.settle], minlength=N) for m, t in spikes])
        out = [
            (self.outputs.column_of(i), t)
            for i, t in split(built["output_spikes"], self.outputs.per_copy)
        ]
        oc = np.stack(
            [np.bincount(i[t >= cfg.settle], minlength=self.outputs.n_columns) for i, t in out]
        ).astype(float)
        extra = {"output_spikes": out}
        if "inhibitory_spikes" in built:
            extra["inhibitory_spikes"] = split(built["inhibitory_spikes"],
                                               cfg.circuit.n_inhibitory)  # fmt: skip
        if "gate_spikes" in built:  # when each copy's gate first fired (NaN: it stayed open)
            first = [t.min() if len(t) else np.nan for _, t in split(built["gate_spikes"], 1)]
            extra["gate_times"] = first
        if self.records:
            traces = [{} for _ in range(K)]
            for r, (group, variables, idx) in enumerate(self.records):
                mon = built[f"record_{r}"]
                for var in variables:
                    values = np.asarray(getattr(mon, var)[:])  # (K·len(idx), n_steps), SI
                    for k, per in enumerate(values.reshape(K, len(idx), -1)):
                        traces[k][f"{group}.{var}"] = per
                self._trace_times = np.asarray(mon.t[:] / b2.second)
            extra["traces"] = traces
        return Batch(counts.astype(float), self.outputs.signed_counts(oc), spikes, extra)

    def assemble(self, batches: list[Batch]) -> SpikingRun:
        extra = {}
        for key in batches[0].extra:
            extra[key] = [v for b in batches for v in b.extra[key]]
        counts = np.concatenate([b.counts for b in batches])
        if self.storage is not None:  # populations in the order the memories were stored
            counts = counts[:, self.storage.population_of]
        if "gate_times" in extra:
            extra["gate_times"] = np.asarray(extra["gate_times"], dtype=float)
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

    @property
    def gate_count(self) -> float | None:
        """The gate's count R (None: ungated, or not yet calibrated)."""
        return None if self.decoder is None else self.decoder.gate_count

    @property
    def reference_rate(self) -> float | None:
        """The decoder's unit r_ref (Hz), or None before the calibration at build."""
        return None if self.decoder is None else self.decoder.unit

    # ------------------------------------------------------------------ what was stored
    def weights(self) -> dict[str, np.ndarray]:
        """The circuit's learned or set weights, in its own units, one copy (see
        ``SpikingUHN.weights``)."""
        self.prepare()
        cfg = self.config
        # the same values, and the same connectivity draw, as the build (neuron_values)
        W, bias, Pfull = neuron_values(
            self.plan, self.channels, cfg.neurons_per_memory, cfg.circuit.connection_p,
            np.random.default_rng(cfg.seed),
        )  # fmt: skip
        out = {"feature_to_memory": W, "memory_to_output": Pfull, "bias": bias}
        if self.storage is not None:
            out.update(self.storage.state())
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
