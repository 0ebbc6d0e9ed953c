"""The rate network (``mode`` continuous, hybrid, spiking): a sampler of the algebraic UHN.

Feature neurons → M synapses → memory neurons → P synapses → output accumulators, one
population of ``neurons_per_memory`` per memory, per copy::

    u     = I_sim + bias + common      the similarity current (exact, or a synaptic trace)
    s     = h(u)                       the score (h = identity, or −sqrt(−u) for Euclidean)
    g     = transfer(s)                the separation's transfer (linear, power, exp, step)
    rate  = gain · g [/ Z]             Z = Σ g over the copy: global divisive inhibition
    spike when rand() < rate · dt      (no spikes in continuous mode)

Output neurons accumulate ``J_k += P[i, k]`` for each spike of memory i during the decoding
window (continuous mode: ``J_k = Σ_i P[i, k] · rate_i · T``). z is decoded from the memory
counts (:meth:`RateNetwork.decode`). The neural circuit is :mod:`neuro_uhn.spiking.circuit`.
"""

from __future__ import annotations

import numpy as np

from ...readout import IdentityReadout
from ..engine import Batch, Built, NetworkKind, SpikingRun
from ..layout import Copies
from ..mapping import RECIPROCAL_FLOOR, map_paper_similarity, map_similarity
from .separation import map_paper_separation, map_separation

__all__ = ["RateNetwork"]


class RateNetwork(NetworkKind):
    """The rate model's network for one spec, memories ``M`` and projection ``P``."""

    def __init__(self, model, M: np.ndarray, P: np.ndarray, config, convention: str, resolved):
        self.model, self.M, self.P, self.config = model, M, P, config
        if convention == "paper":
            self.sim_map = map_paper_similarity(resolved.similarity, M, config)
            self.sep_map = map_paper_separation(resolved.separation, self.sim_map, M, config)
        else:
            self.sim_map = map_similarity(model.similarity, M, config)
            self.sep_map = map_separation(model.separation, self.sim_map, M, config)
        self.channels = self.sim_map.channels if config.mode == "spiking" else (1,)

    # ------------------------------------------------------------------ sizes
    @property
    def n_neurons(self) -> int:
        """Neurons per copy: features, memory neurons, the normaliser, outputs."""
        return (
            self.n_features
            + len(self.M) * self.config.neurons_per_memory
            + int(self.sep_map.normalised)
            + self.P.shape[1]
        )

    def synapses_per_copy(self) -> int:
        n = self.config.neurons_per_memory
        return len(self.M) * n * (self.n_features + self.P.shape[1] + 1)

    # ------------------------------------------------------------------ inputs
    def query_inputs(self, Q: np.ndarray) -> dict[str, np.ndarray]:
        """Every per-query array set on the network: the features (or their Poisson rates)
        and the common current ``c(q)``."""
        phi, common = self._inputs(Q)
        if self.config.mode == "spiking":
            return {"rates": phi * (self.config.input_rate / self.sim_map.scale), "common": common}
        return {"features": phi, "common": common}

    def _inputs(self, Q: np.ndarray):
        """Per-copy feature values (or rates) and common currents: encodings of the query
        alone; no score is computed here."""
        phi = self.sim_map.features(Q)
        if self.config.mode == "spiking":
            phi = np.concatenate([np.clip(c * phi, 0, None) for c in self.channels], axis=1)
        return phi, self.sim_map.common(Q)

    def input_values(self, built: Built, b2, Q):
        """The per-query variables of a batch: {variable view: values}."""
        N, n = len(self.M), self.config.neurons_per_memory
        phi, common = self._inputs(Q)
        values = {built["memories"].common: np.repeat(common, N * n)}
        if self.config.mode == "spiking":
            rate = self.config.input_rate / self.sim_map.scale
            values[built["features"].rates] = rate * phi.ravel() * b2.Hz
        else:
            values[built["features"].x] = phi.ravel()
        return values

    # ------------------------------------------------------------------ build
    def _weights(self) -> np.ndarray:
        """Feature→memory weights per channel, scaled so the mean current is W·φ."""
        W = np.concatenate([c * self.sim_map.W for c in self.channels], axis=1)
        if self.config.mode == "spiking":
            W = W * self.sim_map.scale / (self.config.tau_syn * self.config.input_rate)
        return W

    def _memory_equations(self, b2):
        """The memory neuron, composed from fragments (see the module docstring)."""
        cfg, sep, sim = self.config, self.sep_map, self.sim_map
        continuous = cfg.mode == "continuous"
        x = "sn" if sep.prenormalise else "s"  # the paper's scores are divided by their sum
        rate = "gain * g / (Z + int(Z == 0))" if sep.normalised else "gain * g"  # Z = 0: rate 0
        parts = [
            "dI_sim/dt = -I_sim / tau : 1" if cfg.mode == "spiking" else "I_sim : 1",
            "bias : 1 (constant)",
            "common : 1",
            "u = I_sim + bias + common : 1",
            {
                "neg_sqrt": "s = -sqrt(clip(-u, 0, inf)) : 1",
                "reciprocal": "s = 1 / clip(-u, dmin, inf) : 1",  # a divisive unit
                "identity": "s = u : 1",
            }[sim.score_transform],
            {
                "linear": f"g = ({x} - a) / (b - a) : 1",
                "power": f"g = (clip({x}, 0, inf) / b)**npow : 1",
                "exp": f"g = exp(clip(beta * ({x} - sref_held), -1000, 50)) : 1",  # no overflow
                "step": f"g = int({x} >= theta) : 1",
            }[sep.transfer],
            f"rate = {rate} : Hz" if continuous else f"rate = clip({rate}, 0*Hz, rmax) : Hz",
        ]
        if sep.transfer == "exp":
            # the exponent's reference, tracked by the normaliser (held in a state variable:
            # a summed synapse cannot read a linked expression)
            parts += ["sref : 1 (linked)", "sref_held : 1"]
        if sep.prenormalise:
            parts += ["S : 1 (linked)", "S_held : 1", "sn = s / S_held : 1"]
        if sep.normalised:
            parts.append("Z : 1 (linked)")
        if continuous:
            # the "count" a spiking neuron would have, as a state variable (a summed synapse
            # cannot read a linked-variable expression)
            parts.append("act : 1")
        return sum((b2.Equations(p) for p in parts[1:]), b2.Equations(parts[0]))

    def build_objects(self, b2, K: int, slots: int = 1) -> Built:
        cfg, sep = self.config, self.sep_map
        N, n, F = len(self.M), cfg.neurons_per_memory, self.n_features
        n_out = self.P.shape[1]
        dt = cfg.dt * b2.second
        continuous = cfg.mode == "continuous"
        ns = {
            "a": sep.a, "b": sep.b, "npow": sep.n, "beta": sep.beta, "theta": sep.theta,
            "gain": cfg.memory_rate * (n if sep.normalised else 1) * b2.Hz,
            "window": cfg.window * b2.second, "dmin": RECIPROCAL_FLOOR,
        }  # fmt: skip
        if not continuous:
            ns["rmax"] = cfg.max_rate * b2.Hz
        if cfg.mode == "spiking":
            ns["tau"] = cfg.tau_syn * b2.second
        built = Built(Copies(K), ns)
        copies = built.copies

        if cfg.mode == "spiking":
            feat = built.add(b2.PoissonGroup(K * F, rates=0 * b2.Hz, dt=dt, name="features"))
        else:
            feat = built.add(b2.NeuronGroup(K * F, "x : 1", dt=dt, name="features"))
        spikes = {} if continuous else {
            "threshold": "rand() < rate * dt", "refractory": cfg.refractory * b2.second,
        }  # fmt: skip
        mem = built.add(b2.NeuronGroup(K * N * n, self._memory_equations(b2), dt=dt,
                                       name="memories", method="exact", **spikes))  # fmt: skip
        mem.bias = copies.tile(np.repeat(self.sim_map.bias, n))
        if continuous:
            mem.run_regularly("act = rate * window", dt=dt, name="activity")
        copy_of_neuron = copies.copy_of(N * n)

        # feature -> memory synapses: one block per copy, dense
        pre, post = copies.all_to_all(F, N * n)
        w = copies.tile(np.repeat(self._weights(), n, axis=0).T.ravel())
        if cfg.mode == "spiking":
            self._spiking_synapses(b2, built, feat, mem, pre, post, w, dt)
        else:
            expr = "-abs(w - x_pre)" if self.sim_map.synapse == "neg_abs_diff" else "w * x_pre"
            # the features are constant during a query: hybrid mode computes the sum in the
            # first step and then switches these synapses off (see schedule)
            syn = built.add(b2.Synapses(feat, mem, f"w : 1\nI_sim_post = {expr} : 1 (summed)",
                                        dt=dt, name="similarity"))  # fmt: skip
            syn.connect(i=pre, j=post)
            syn.w = w

        # the paper's first sum-normalisation: a divisive unit per copy sums the scores (each
        # memory once: its population's neurons share one score); the memory neurons hold
        # the sum in a state variable (a summed synapse cannot read a linked expression)
        if sep.prenormalise:
            ns["npop"] = n
            pre_norm = built.add(b2.NeuronGroup(K, "S : 1", dt=dt, name="score_sum"))
            pre_norm.S = 1.0
            psyn = built.add(b2.Synapses(mem, pre_norm, "S_post = s_pre / npop : 1 (summed)",
                                         dt=dt, name="score_normalisation"))  # fmt: skip
            psyn.connect(i=np.arange(K * N * n), j=copy_of_neuron)
            mem.S = b2.linked_var(pre_norm, "S", index=copy_of_neuron)
            mem.S_held = 1.0
            mem.run_regularly("S_held = S + int(S == 0)", dt=dt, name="hold_score_sum")

        # global divisive inhibition: one normaliser per copy sums g of its memory neurons.
        # For the exp transfer it also tracks the reference L of the exponent inside the
        # network (no per-query number from outside): each step L += log(Z)/β, a Newton step
        # to log-sum-exp(βs)/β, so Z -> npop and exp stays in range. L starts at the largest
        # score among the stored patterns (a build-time constant from M).
        if sep.normalised:
            norm_eqs = "Z : 1\nL : 1" if sep.transfer == "exp" else "Z : 1"
            norm = built.add(b2.NeuronGroup(K, norm_eqs, dt=dt, name="normaliser"))
            norm.Z = 1.0  # until the first sum arrives (one step)
            nsyn = built.add(b2.Synapses(mem, norm, "Z_post = g_pre : 1 (summed)", dt=dt,
                                         name="inhibition"))  # fmt: skip
            nsyn.connect(i=np.arange(K * N * n), j=copy_of_neuron)
            mem.Z = b2.linked_var(norm, "Z", index=copy_of_neuron)
            if sep.transfer == "exp":
                ns["npop_norm"] = float(n)
                ceiling = self._score_ceiling()
                norm.L = ceiling
                norm.run_regularly(
                    "L += log(clip(Z / npop_norm, 1e-300, 1e300)) / beta",
                    dt=dt, when="after_groups", name="log_sum_exp",
                )  # fmt: skip
                mem.sref = b2.linked_var(norm, "L", index=copy_of_neuron)
                mem.sref_held = ceiling  # (a standalone device cannot read L back here)
                mem.run_regularly("sref_held = sref", dt=dt, name="hold_reference")

        # memory -> output synapses carry P
        out = built.add(b2.NeuronGroup(K * n_out, "J : 1", dt=dt, name="outputs"))
        pre_o, post_o = copies.all_to_all(N * n, n_out)
        if continuous:
            proj = b2.Synapses(mem, out, "p : 1\nJ_post = p * act_pre : 1 (summed)", dt=dt,
                               name="projection")  # fmt: skip
        else:
            proj = b2.Synapses(mem, out, "p : 1", on_pre="J_post += p", dt=dt, name="projection")
        built.add(proj)
        proj.connect(i=pre_o, j=post_o)
        proj.p = copies.tile(np.repeat(self.P, n, axis=0).ravel())
        if not continuous:
            built.add(b2.SpikeMonitor(mem, name="memory_spikes"))
        return built

    def _spiking_synapses(self, b2, built, feat, mem, pre, post, w, dt) -> None:
        """Poisson features drive the memory traces; with Dale's law, negative weights go
        through one inhibitory interneuron per feature neuron (one step of delay)."""
        if not self.config.dale:
            syn = built.add(b2.Synapses(feat, mem, "w : 1", on_pre="I_sim_post += w", dt=dt,
                                        name="similarity"))  # fmt: skip
            syn.connect(i=pre, j=post)
            syn.w = w
            return
        pos, neg = w > 0, w < 0
        exc = built.add(b2.Synapses(feat, mem, "w : 1", on_pre="I_sim_post += w", dt=dt,
                                    name="excitation"))  # fmt: skip
        exc.connect(i=pre[pos], j=post[pos])
        exc.w = w[pos]
        inter = built.add(b2.NeuronGroup(len(feat), "v : 1", threshold="v > 0.5", reset="v = 0",
                                         dt=dt, name="interneurons"))  # fmt: skip
        relay = built.add(b2.Synapses(feat, inter, on_pre="v_post += 1", dt=dt, name="relay"))
        relay.connect(j="i")
        inh = built.add(b2.Synapses(inter, mem, "w : 1", on_pre="I_sim_post -= w", dt=dt,
                                    name="inhibition_ff"))  # fmt: skip
        inh.connect(i=pre[neg], j=post[neg])
        inh.w = -w[neg]

    def _score_ceiling(self) -> float:
        """The largest score among the stored patterns queried with each other (from M only):
        where the exponent's reference starts before the network tracks it."""
        S = self.sim_map.scores(self.M)
        if self.sep_map.prenormalise:
            S = S / S.sum(axis=1, keepdims=True)
        return float(np.max(S))

    # ------------------------------------------------------------------ simulate
    def schedule(self, built: Built, net, b2) -> None:
        """The runs of one batch (recorded once by a standalone device, replayed by runtime)."""
        cfg, ns = self.config, built.namespace
        if cfg.mode == "continuous":
            # features → currents → normaliser → activity → outputs: one step each
            net.run(10 * cfg.dt * b2.second, namespace=ns)
            return
        elapsed = 0.0
        similarity = built["similarity"] if cfg.mode == "hybrid" else None
        try:
            if similarity is not None:
                # constant features: the summed similarity current is exact after one step,
                # so the feature→memory synapses are switched off for the rest of the run
                net.run(cfg.dt * b2.second, namespace=ns)
                _set_active(similarity, False)
                elapsed = cfg.dt
            if cfg.settle > elapsed:
                net.run((cfg.settle - elapsed) * b2.second, namespace=ns)
            if cfg.settle >= elapsed:
                built["outputs"].J = 0  # the outputs integrate the decoding window only
            net.run((cfg.duration - max(cfg.settle, elapsed)) * b2.second, namespace=ns)
        finally:
            if similarity is not None:
                _set_active(similarity, True)

    def collect(self, built: Built, b2) -> Batch:
        cfg, K = self.config, built.K
        N, n = len(self.M), cfg.neurons_per_memory
        J = np.asarray(built["outputs"].J[:]).reshape(K, -1)
        if cfg.mode == "continuous":
            act = np.asarray(built["memories"].act[:]).reshape(K, N, n).sum(-1)
            return Batch(act, J, [(np.zeros(0, int), np.zeros(0))] * K)
        mon = built["memory_spikes"]
        spikes = built.copies.split(mon.i[:], mon.t[:] / b2.second, N * n, n)
        counts = np.stack([np.bincount(m[t >= cfg.settle], minlength=N) for m, t in spikes])
        return Batch(counts.astype(float), J, spikes)

    def assemble(self, batches: list[Batch]) -> SpikingRun:
        return SpikingRun(
            np.concatenate([b.counts for b in batches]),
            np.concatenate([b.J for b in batches]),
            [s for b in batches for s in b.spikes],
            self.config,
        )

    # ------------------------------------------------------------------ decode
    def decode(self, run: SpikingRun, start: float, stop: float) -> np.ndarray:
        """``z = readout(w · P)``, ``w`` the separation weights decoded from the memory counts
        in [start, stop) (continuous mode: rate × window, no spikes)."""
        if self.config.mode == "continuous":
            counts, window = run.counts, self.config.window
        else:
            counts, window = run.counts_in(start, stop), stop - start
        per_memory_rate = self.config.memory_rate * self.config.neurons_per_memory
        Z = self.sep_map.decode(counts, per_memory_rate * window) @ self.P
        readout = self.model.readout
        return Z if isinstance(readout, IdentityReadout) else np.asarray(readout(Z))


def _set_active(obj, active: bool) -> None:
    obj.active = active
    for child in obj.contained_objects:
        child.active = active
