"""The neural circuit (``mode="circuit"``): plan, build, read out, and storage by plasticity."""

#: The circuit's behaviour, as stored results know it. Part of the key of every stored
#: circuit result (the experiments' circuit cells, the circuit and storage sweeps), so a
#: result computed by an earlier circuit is recomputed rather than trusted. Bump it whenever
#: a change would move a circuit's numbers without changing a setting (a setting is in the
#: keys already). 1: the gated read-out (v1); 2: the normalised read-out and pooled
#: inhibition (v2); 3: the output neurons' own step, interval-drawn feature neurons, the
#: competition scaled per population (4/n) and the linear read-outs back on ``dt``.
CIRCUIT_VERSION = 3
