"""Where each neuron of each query's copy sits in a Brian2 group (the one place that does
copy-index arithmetic).

A batch of K queries runs as K independent copies of a network in one simulation: every
group holds K blocks of its per-copy size, and every synapse connects within a block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Copies"]


@dataclass(frozen=True)
class Copies:
    """K copies of a network: global indices from per-copy ones, and back."""

    K: int

    def index(self, local, size: int) -> np.ndarray:
        """Global indices of per-copy indices ``local`` (of a group of ``size`` per copy),
        copy by copy."""
        local = np.asarray(local, dtype=int)
        return (np.arange(self.K)[:, None] * size + local.ravel()[None, :]).ravel()

    def block(self, pre_local, post_local, n_pre: int, n_post: int):
        """``(pre, post)`` global indices of the per-copy connections ``pre_local →
        post_local`` repeated in every copy (block-diagonal synapses)."""
        return self.index(pre_local, n_pre), self.index(post_local, n_post)

    def all_to_all(self, n_pre: int, n_post: int):
        """Every neuron of a group to every neuron of another, within each copy."""
        pre, post = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
        return self.block(pre.ravel(), post.ravel(), n_pre, n_post)

    def tile(self, values) -> np.ndarray:
        """Per-copy values repeated for every copy (the order of :meth:`index`)."""
        return np.tile(np.asarray(values), self.K)

    def copy_of(self, size: int) -> np.ndarray:
        """The copy of every neuron of a group of ``size`` per copy."""
        return np.repeat(np.arange(self.K), size)

    def split(self, i, t, size: int, pool: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
        """Spikes ``(i, t)`` of a group of ``size`` per copy, per copy, with local indices
        divided by ``pool`` (neurons of one population → the population)."""
        i, t = np.asarray(i), np.asarray(t)
        copy, local = i // size, (i % size) // pool
        return [(local[copy == k], t[copy == k]) for k in range(self.K)]
