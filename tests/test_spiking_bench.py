"""The spiking benchmark's Nengo peers (skipped where nengo/nengo_spa are not installed)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nengo_spa")

from neuro_uhn.app.spiking_bench import binary_task, nengo_end_to_end, nengo_wta  # noqa: E402


def test_the_end_to_end_nengo_peer_reads_accuracy_from_the_decoded_output():
    M, Q, goal = binary_task(8, 4, d=32, seed=1)
    exact = nengo_wta(M, Q, goal, duration=0.15, n_neurons=10)
    spiking = nengo_end_to_end(M, Q, goal, duration=0.15, n_neurons=10, query_neurons=10)
    assert exact.system.endswith("exact similarity")
    assert spiking.system.endswith("spiking query end to end")
    # the query's spiking ensembles are neurons of its own: 10 per feature
    assert spiking.neurons == 10 * len(M) + 10 * M.shape[1]
    assert 0 <= spiking.accuracy <= 1 and spiking.accuracy >= 0.75  # clear binary cues
    assert spiking.wall_per_query_per_sim_second > 0 and np.isfinite(spiking.build_seconds)
