"""Retrieval in a latent space: encode memories and cues, compare there, return pixels.

The paper's future work (Millidge et al. 2022, §6): similarities computed on learned
features instead of raw pixels. An *encoder* maps images (n, D) to codes (n, k) and back::

    from neuro_uhn import latent
    fit, memories = latent.split(images, n_fit=2000, n_memories=100, seed=0)
    enc = latent.PCA(50).fit(fit)                      # fitted on images disjoint from M
    Z = latent.retrieve(memories, cues, encoder=enc, similarity="euclidean", separation="max")

``Z`` is in pixel space: with no ``projection`` the weights found in the latent space mix
the *stored memories themselves* (``P = M``), so the decoder never touches the output and
nothing is lost to it. Encoders:

* :class:`PCA` — ``scipy.linalg.svd`` of the centred fitting data (core dependency);
* :class:`RandomProjection` — scikit-learn's ``GaussianRandomProjection`` with its
  pseudo-inverse (the ``datasets`` extra);
* :class:`Autoencoder` — a small multilayer perceptron trained in PyTorch (the ``torch``
  extra), saved as a ``state_dict`` with ``torch.save`` and loaded with
  ``weights_only=True`` (nothing is unpickled);
* any object with ``encode(X)`` and ``decode(L)`` methods.

Fitting data must be disjoint from the stored memories: an encoder fitted by this module
remembers a fingerprint of each fitting row, and :func:`retrieve` refuses memories that were
among them (``allow_overlap=True`` to override). :func:`split` makes the disjoint split.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import MissingFile, ValidationError, ValidationTypeError

__all__ = [
    "Encoder",
    "PCA",
    "RandomProjection",
    "Autoencoder",
    "split",
    "retrieve",
    "check_encoder",
    "LatentResult",
    "compare_spaces",
    "spiking_on_latent",
]


@runtime_checkable
class Encoder(Protocol):
    """What :func:`retrieve` needs: ``encode`` (n, D) → (n, k) and ``decode`` (n, k) → (n, D)."""

    def encode(self, X: Any) -> Any: ...

    def decode(self, L: Any) -> Any: ...


def check_encoder(encoder: Any) -> None:
    """TypeError unless ``encoder`` has callable ``encode`` and ``decode``."""
    for method in ("encode", "decode"):
        if not callable(getattr(encoder, method, None)):
            raise ValidationTypeError(
                f"'encoder' must have callable encode(X) and decode(L) methods; "
                f"{type(encoder).__name__} has no {method}()"
            )


# ----------------------------------------------------------------------------------- inputs
def _images(X: Any, name: str, n_features: int | None = None) -> np.ndarray:
    """``X`` as a finite 2-D float array (float32 stays float32)."""
    from ._validation import as_float_array, check_finite, check_matrix

    if isinstance(X, str | bytes) or X is None:
        raise ValidationTypeError(
            f"{name!r} must be an array of shape (n, n_features); got {X!r:.40}"
        )
    X = as_float_array(X, name)
    try:
        X = np.asarray(X)
    except Exception as err:  # noqa: BLE001 - a foreign array library
        raise ValidationTypeError(
            f"{name!r} must be a NumPy-convertible array; got {type(X)}"
        ) from err
    check_matrix(X, name, "n", "n_features", np)
    check_finite(X, name, np)
    if n_features is not None and X.shape[1] != n_features:
        raise ValidationError(
            f"{name!r} has {X.shape[1]} features but the encoder was fitted on {n_features}"
        )
    return X


def _int(value: Any, name: str, lo: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValidationTypeError(f"{name!r} must be an integer >= {lo}; got {value!r}")
    if value < lo:
        raise ValidationError(f"{name!r} must be an integer >= {lo}; got {value}")
    return int(value)


def _fingerprints(X: np.ndarray) -> frozenset[bytes]:
    """One short hash per row (its float64 bytes, ``-0.0`` read as ``0.0``: equal values,
    one fingerprint): to recognise fitting rows later."""
    X = np.ascontiguousarray(X, dtype=np.float64) + 0.0  # -0.0 + 0.0 is +0.0
    return frozenset(hashlib.blake2b(row.tobytes(), digest_size=12).digest() for row in X)


@dataclass
class _Fitted:
    """What every fitted encoder here records: feature count and fitting-row fingerprints."""

    n_features: int | None = None
    fit_rows: frozenset = field(default_factory=frozenset)

    def _require_fit(self) -> None:
        if self.n_features is None:
            raise ValidationError(f"{type(self).__name__} is not fitted: call .fit(X) first")

    def _record(self, X: np.ndarray) -> None:
        self.n_features = X.shape[1]
        self.fit_rows = _fingerprints(X)

    def overlap(self, X: Any) -> int:
        """How many rows of ``X`` were in the fitting data."""
        return len(_fingerprints(np.asarray(X)) & self.fit_rows)


# ---------------------------------------------------------------------------------- encoders
class PCA(_Fitted):
    """Principal components from ``scipy.linalg.svd`` of the centred fitting data.

    ``encode(X) = (X - mean) Vₖᵀ``, ``decode(L) = L Vₖ + mean``. With ``n_components`` equal
    to the feature count (and at least as many fitting rows) ``Vₖ`` is orthogonal, so
    Euclidean distances are unchanged and Euclidean retrieval equals pixel space.
    ``whiten=True`` divides each component by its standard deviation; a component without
    variance in the fitting data (a singular value at or below the rounding level of the
    fit, ``σ_max · max(n, D) · ε`` of the input's dtype, as ``numpy.linalg.matrix_rank``) has
    no standard deviation to divide by, and its code is 0 (``kept_`` is False there):
    dividing by its rounding noise (about 1e-16) would blow any cue's component in that
    direction up by 1e16 and drown the others.
    """

    def __init__(self, n_components: int, *, whiten: bool = False):
        super().__init__()
        self.n_components = _int(n_components, "n_components")
        self.whiten = bool(whiten)
        self.mean_ = self.components_ = self.scale_ = self.explained_variance_ratio_ = None
        self.kept_ = None

    def __repr__(self) -> str:
        return f"PCA(n_components={self.n_components}, whiten={self.whiten})"

    def fit(self, X: Any) -> PCA:
        from scipy.linalg import svd

        X = _images(X, "X")
        n, D = X.shape
        if self.n_components > min(n, D):
            raise ValidationError(
                f"'n_components' must be <= min(n_rows, n_features) = {min(n, D)} of the "
                f"fitting data; got {self.n_components}"
            )
        X64 = X.astype(np.float64)
        self.mean_ = X64.mean(axis=0)
        _, s, Vt = svd(X64 - self.mean_, full_matrices=False, lapack_driver="gesdd")
        k = self.n_components
        # a deterministic sign per component (largest loading positive)
        signs = np.sign(Vt[np.arange(Vt.shape[0]), np.argmax(np.abs(Vt), axis=1)])
        Vt = Vt * signs[:, None]
        self.components_ = Vt[:k]
        var = s**2 / max(1, n - 1)
        self.explained_variance_ratio_ = var[:k] / var.sum() if var.sum() > 0 else var[:k]
        # the rank of the centred fitting data, at the precision it came in
        tol = float(s.max(initial=0.0)) * max(n, D) * float(np.finfo(X.dtype).eps)
        has_variance = s[:k] > tol
        self.kept_ = has_variance if self.whiten else np.ones(k, dtype=bool)
        std = np.sqrt(var[:k])
        self.scale_ = np.where(has_variance, std, 1.0) if self.whiten else np.ones(k)
        self._record(X)
        return self

    def truncated(self, n_components: int) -> PCA:
        """The first ``n_components`` of this fit (no new SVD; same fitting rows)."""
        self._require_fit()
        k = _int(n_components, "n_components")
        if k > self.n_components:
            raise ValidationError(
                f"'n_components' must be <= {self.n_components} (this fit's); got {k}"
            )
        out = PCA(k, whiten=self.whiten)
        out.n_features, out.fit_rows, out.mean_ = self.n_features, self.fit_rows, self.mean_
        out.components_ = self.components_[:k]
        out.scale_, out.kept_ = self.scale_[:k], self.kept_[:k]
        out.explained_variance_ratio_ = self.explained_variance_ratio_[:k]
        return out

    def encode(self, X: Any) -> np.ndarray:
        self._require_fit()
        X = _images(X, "X", self.n_features)
        L = ((X - self.mean_) @ self.components_.T) / self.scale_ * self.kept_
        return L.astype(X.dtype, copy=False)

    def decode(self, L: Any) -> np.ndarray:
        self._require_fit()
        L = _images(L, "L", self.n_components)
        out = (L * (self.scale_ * self.kept_)) @ self.components_ + self.mean_
        return out.astype(L.dtype, copy=False)


class RandomProjection(_Fitted):
    """scikit-learn's ``GaussianRandomProjection`` (seeded); decoding is its pseudo-inverse.

    Needs scikit-learn (the ``datasets`` extra). Distances are preserved only approximately
    (Johnson–Lindenstrauss); the fit uses the data only for its feature count.
    """

    def __init__(self, n_components: int, *, seed: int = 0):
        super().__init__()
        self.n_components = _int(n_components, "n_components")
        self.seed = _int(seed, "seed", 0)
        self._rp = None

    def __repr__(self) -> str:
        return f"RandomProjection(n_components={self.n_components}, seed={self.seed})"

    def fit(self, X: Any) -> RandomProjection:
        try:
            from sklearn.random_projection import GaussianRandomProjection
        except ImportError:
            from ._extras import install_hint

            raise ImportError(
                f"latent.RandomProjection needs scikit-learn: {install_hint('datasets')}"
            ) from None
        X = _images(X, "X")
        self._rp = GaussianRandomProjection(
            self.n_components, random_state=self.seed, compute_inverse_components=True
        ).fit(X.astype(np.float64))
        self._record(X)
        return self

    def encode(self, X: Any) -> np.ndarray:
        self._require_fit()
        X = _images(X, "X", self.n_features)
        return self._rp.transform(X.astype(np.float64)).astype(X.dtype, copy=False)

    def decode(self, L: Any) -> np.ndarray:
        self._require_fit()
        L = _images(L, "L", self.n_components)
        return self._rp.inverse_transform(L.astype(np.float64)).astype(L.dtype, copy=False)


def _torch():
    try:
        import torch
    except ImportError:
        from ._extras import install_hint

        raise ImportError(f"latent.Autoencoder needs PyTorch: {install_hint('torch')}") from None
    return torch


class Autoencoder(_Fitted):
    """A small MLP autoencoder, D → hidden → k → hidden → D (sigmoid output), in PyTorch.

    Trained with Adam on the mean squared reconstruction error, seeded, on the CPU unless
    ``device`` says otherwise. :meth:`save` writes ``torch.save`` of a plain dict (the
    ``state_dict`` and the sizes); :meth:`load` reads it with ``weights_only=True``.
    """

    def __init__(self, n_components: int, *, hidden: int = 256, seed: int = 0, device="cpu"):
        super().__init__()
        self.n_components = _int(n_components, "n_components")
        self.hidden = _int(hidden, "hidden")
        self.seed = _int(seed, "seed", 0)
        self.device = device
        self.net = None
        self.history: list[float] = []

    def __repr__(self) -> str:
        return f"Autoencoder(n_components={self.n_components}, hidden={self.hidden})"

    def _build(self, D: int):
        torch = _torch()
        nn = torch.nn
        torch.manual_seed(self.seed)
        h, k = self.hidden, self.n_components
        self.net = nn.ModuleDict(
            {
                "encoder": nn.Sequential(nn.Linear(D, h), nn.ReLU(), nn.Linear(h, k)),
                "decoder": nn.Sequential(nn.Linear(k, h), nn.ReLU(), nn.Linear(h, D), nn.Sigmoid()),
            }
        ).to(device=self.device, dtype=torch.float32)
        self.n_features = D

    def fit(
        self, X: Any, *, epochs: int = 20, batch_size: int = 128, lr: float = 2e-3
    ) -> Autoencoder:
        torch = _torch()
        X = _images(X, "X")
        epochs, batch_size = _int(epochs, "epochs"), _int(batch_size, "batch_size")
        if not (isinstance(lr, int | float) and lr > 0):
            raise ValidationError(f"'lr' must be a number > 0; got {lr!r}")
        self._build(X.shape[1])
        data = torch.as_tensor(X, dtype=torch.float32, device=self.device)
        opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(self.seed)
        self.history = []
        for _ in range(epochs):
            order = torch.randperm(len(data), generator=gen)
            total = 0.0
            for i in range(0, len(data), batch_size):
                x = data[order[i : i + batch_size]]
                loss = torch.mean((self.net["decoder"](self.net["encoder"](x)) - x) ** 2)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(x)
            self.history.append(total / len(data))
        self._record(X)
        return self

    def _apply(self, part: str, X: np.ndarray) -> np.ndarray:
        torch = _torch()
        with torch.no_grad():
            out = self.net[part](torch.as_tensor(X, dtype=torch.float32, device=self.device))
        return out.cpu().numpy().astype(X.dtype, copy=False)

    def encode(self, X: Any) -> np.ndarray:
        self._require_fit()
        return self._apply("encoder", _images(X, "X", self.n_features))

    def decode(self, L: Any) -> np.ndarray:
        self._require_fit()
        return self._apply("decoder", _images(L, "L", self.n_components))

    def save(self, path: str | os.PathLike) -> None:
        """``torch.save`` of tensors and integers only (no pickled objects), written to a
        temporary file and renamed into place. The folder must exist; an existing file is
        replaced only if it is an autoencoder file too."""
        from ._outputs import check_output

        torch = _torch()
        self._require_fit()
        text = _path_text(path, "save")
        if not os.path.isdir(os.path.dirname(os.path.abspath(text))):
            raise MissingFile(
                f"Autoencoder.save: the folder of {text!r} does not exist; create it or pass a "
                "path in an existing folder",
                argument="path",
            )
        target = check_output(text, "path", what="Autoencoder file", ours=_is_autoencoder_file)
        blob = {
            "state_dict": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
            "sizes": torch.tensor([self.n_features, self.hidden, self.n_components]),
            "fit_rows": torch.tensor(
                np.frombuffer(b"".join(sorted(self.fit_rows)), dtype=np.uint8).copy()
            ),
        }
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            torch.save(blob, tmp)
            os.replace(tmp, target)
        except (OSError, RuntimeError) as err:  # torch reports a failed write as RuntimeError
            why = getattr(err, "strerror", None) or str(err).splitlines()[0]
            raise ValidationError(
                f"Autoencoder.save could not write {text!r} ({why}): check the free space "
                "and the folder's permissions, or pass another path",
                argument="path",
            ) from None
        finally:
            if tmp.exists():
                tmp.unlink()  # no temporary file left behind

    @classmethod
    def load(cls, path: str | os.PathLike, *, device="cpu") -> Autoencoder:
        """Read a file written by :meth:`save` with ``torch.load(weights_only=True)``."""
        text = _path_text(path, "load")
        blob = _read_autoencoder(text)
        D, hidden, k = (int(v) for v in blob["sizes"])
        self = cls(k, hidden=hidden, device=device)
        self._build(D)
        try:
            self.net.load_state_dict(blob["state_dict"])
        except (RuntimeError, KeyError, TypeError) as err:
            raise ValidationError(
                f"{text!r} is not a file written by Autoencoder.save: its weights do not fit "
                f"a {D} → {hidden} → {k} autoencoder ({str(err).splitlines()[0]}); pass a file "
                "Autoencoder.save wrote",
                argument="path",
            ) from None
        raw = blob.get("fit_rows")
        if raw is not None:
            b = raw.numpy().tobytes()
            self.fit_rows = frozenset(b[i : i + 12] for i in range(0, len(b), 12))
        return self


def _path_text(path: Any, method: str) -> str:
    if not isinstance(path, str | os.PathLike):
        raise ValidationTypeError(
            f"Autoencoder.{method}: 'path' must be a file path; got {type(path).__name__} {path!r}",
            argument="path",
        )
    text = os.fspath(path)
    if isinstance(text, bytes) or not text.strip():
        raise ValidationError(
            f"Autoencoder.{method}: 'path' must be a file name; got {text!r}", argument="path"
        )
    return os.path.expanduser(text)


def _read_autoencoder(text: str) -> dict:
    """The checked contents of a file :meth:`Autoencoder.save` wrote (else a library error)."""
    torch = _torch()
    if not os.path.exists(text):
        raise MissingFile(
            f"Autoencoder.load: {text!r} does not exist; pass the path of a file "
            "Autoencoder.save wrote",
            argument="path",
        )
    if not os.path.isfile(text):
        raise ValidationError(
            f"Autoencoder.load: {text!r} is a folder, not a file Autoencoder.save wrote",
            argument="path",
        )
    what = f"{text!r} is not a file written by Autoencoder.save"
    try:
        blob = torch.load(text, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises many kinds for a foreign file
        first = (str(err).splitlines() or [type(err).__name__])[0][:200]
        raise ValidationError(
            f"{what} (torch.load: {first}); pass a file Autoencoder.save wrote", argument="path"
        ) from None
    if not isinstance(blob, dict) or {"state_dict", "sizes"} - set(blob):
        raise ValidationError(
            f"{what} (it holds no 'state_dict' and 'sizes'); pass a file Autoencoder.save wrote",
            argument="path",
        )
    sizes, state, rows = blob["sizes"], blob["state_dict"], blob.get("fit_rows")
    ok = (
        isinstance(sizes, torch.Tensor)
        and sizes.shape == (3,)
        and not sizes.is_floating_point()
        and bool((sizes >= 1).all())
        and isinstance(state, dict)
        and all(isinstance(v, torch.Tensor) for v in state.values())
        and (
            rows is None
            or (isinstance(rows, torch.Tensor) and rows.dtype == torch.uint8 and rows.ndim == 1
                and rows.numel() % 12 == 0)
        )
    )  # fmt: skip
    if not ok:
        raise ValidationError(
            f"{what} ('sizes', 'state_dict' or 'fit_rows' are not what it writes: 3 positive "
            "integers, tensors, 12-byte fingerprints); pass a file Autoencoder.save wrote",
            argument="path",
        )
    return blob


def _is_autoencoder_file(path) -> bool:
    try:
        _read_autoencoder(os.fspath(path))
    except (ValidationError, MissingFile):
        return False
    return True


# --------------------------------------------------------------------------------- retrieval
def split(images: Any, *, n_fit: int, n_memories: int, seed: int = 0):
    """Disjoint ``(fit_rows, memories)`` drawn from ``images`` by a seeded permutation."""
    X = _images(images, "images")
    n_fit, n_memories = _int(n_fit, "n_fit"), _int(n_memories, "n_memories")
    if n_fit + n_memories > len(X):
        raise ValidationError(
            f"'n_fit' + 'n_memories' = {n_fit + n_memories} exceeds the {len(X)} images"
        )
    order = np.random.default_rng(seed).permutation(len(X))
    return X[order[:n_fit]], X[order[n_fit : n_fit + n_memories]]


def retrieve(
    memories: Any,
    queries: Any,
    *,
    encoder: Any,
    similarity: Any,
    separation: Any,
    projection: Any = None,
    allow_overlap: bool = False,
    **params: Any,
) -> np.ndarray:
    """Retrieve in the encoder's latent space; return pixel-space outputs.

    ``W = sep(sim(encode(M), encode(Q)))`` and ``Z = W · P`` with ``P = M`` (the stored
    pixel memories, not their decodings) unless ``projection`` is given. Other arguments as
    :func:`neuro_uhn.retrieve` (``convention``, ``readout``, ``beta``, ``k``, ...).

    Raises ValueError when a memory was among the encoder's fitting rows (fit on disjoint
    data; ``allow_overlap=True`` to override) or when the code's shape is wrong.
    """
    from .retrieval import retrieve as _retrieve

    check_encoder(encoder)
    M = _images(memories, "memories")
    single = np.ndim(queries) == 1
    Q = _images(np.atleast_2d(np.asarray(queries)) if single else queries, "queries")
    if Q.shape[1] != M.shape[1]:
        raise ValidationError(
            f"'queries' has {Q.shape[1]} features but 'memories' has {M.shape[1]}; they must match"
        )
    if not allow_overlap and isinstance(encoder, _Fitted) and encoder.fit_rows:
        shared = encoder.overlap(M)
        if shared:
            raise ValidationError(
                f"{shared} of the 'memories' were among the encoder's fitting rows; fit the "
                "encoder on disjoint data (latent.split) or pass allow_overlap=True"
            )
    LM, LQ = np.asarray(encoder.encode(M)), np.asarray(encoder.encode(Q))
    for name, L, X in (("memories", LM, M), ("queries", LQ, Q)):
        if L.ndim != 2 or L.shape[0] != X.shape[0]:
            raise ValidationError(
                f"encoder.encode({name}) must return shape ({X.shape[0]}, k); got {L.shape}"
            )
    if LM.shape[1] != LQ.shape[1]:
        raise ValidationError("encoder.encode gave memories and queries different code sizes")
    P = M if projection is None else projection
    Z = _retrieve(LM, LQ, similarity=similarity, separation=separation, projection=P, **params)
    return Z[0] if single else Z


# ------------------------------------------------------------------------------ experiments
@dataclass
class LatentResult:
    """One cell of :func:`compare_spaces`: a space, a corruption level, an accuracy."""

    dataset: str
    space: str
    similarity: str
    corruption: str
    level: float
    n_memories: int
    run: int
    accuracy: float  # the output is the cue's own memory (the nearest stored memory)
    seconds: float


def _space_label(encoder) -> str:
    if encoder is None:
        return "pixels"
    name = type(encoder).__name__
    return {"PCA": "PCA", "RandomProjection": "random proj.", "Autoencoder": "autoencoder"}.get(
        name, name
    ) + f"-{getattr(encoder, 'n_components', '?')}"


def compare_spaces(
    images: np.ndarray,
    image_shape: tuple[int, ...],
    *,
    encoders: dict[str, Any],
    fit_rows: int,
    n_memories=(100,),
    corruptions=(("noise", (0.2, 0.5, 0.8)), ("mask", (0.25, 0.5, 0.75))),
    similarities=("euclidean", "manhattan"),
    runs: int = 2,
    n_queries: int = 100,
    seed: int = 0,
    dataset: str = "",
) -> list[LatentResult]:
    """Pixel space against latent spaces, one disjoint block of memories per run.

    ``encoders`` maps a label to an *unfitted* encoder factory ``f(fit_images) -> encoder``
    (``None`` for pixel space); each is fitted once on the first ``fit_rows`` images, and the
    memories of every run come from the rest. Corruptions: ``noise`` (zero-mean Gaussian σ,
    clipped to [0, 1]), ``noise_unclipped`` (not clipped), ``noise_paper`` (the official
    code's folded noise, ``clip(|x + n|, 0, 1)``) and ``mask`` (bottom fraction of rows
    zeroed). Accuracy is the fraction of cues whose output is their own memory (max
    separation: the output is exactly one stored memory). Under max separation the paper
    convention's reciprocal distances pick the same memory as the standard distances, so
    the conventions differ here only in their noise (``noise_paper``).
    """
    from . import corruptions as corr
    from .metrics import identity_correct

    X = _images(images, "images")
    fitted = {k: (f(X[:fit_rows]) if f is not None else None) for k, f in encoders.items()}
    pool = X[fit_rows:]
    out: list[LatentResult] = []
    for N in n_memories:
        if runs * N > len(pool):
            raise ValidationError(f"{runs} runs × {N} memories need more than {len(pool)} images")
        for run in range(runs):
            M = pool[run * N : (run + 1) * N]
            rng = np.random.default_rng([seed, run, N])
            idx = rng.choice(N, size=min(n_queries, N), replace=False)
            for kind, levels in corruptions:
                for level in levels:
                    if kind in ("noise", "noise_unclipped"):
                        Q = M[idx] + level * rng.standard_normal(M[idx].shape)
                        Q = np.clip(Q, 0, 1) if kind == "noise" else Q
                    elif kind == "noise_paper":
                        Q = corr.gaussian_noise(M[idx], level, rng, kind="paper")
                    elif kind == "mask":
                        Q = corr.mask_bottom(M[idx], level, image_shape)
                    else:
                        raise ValidationError(
                            f"unknown corruption {kind!r}; expected noise, noise_unclipped, "
                            "noise_paper or mask"
                        )
                    for label, enc in fitted.items():
                        for sim in similarities:
                            t0 = time.perf_counter()
                            if enc is None:
                                from .retrieval import retrieve as _retrieve

                                Z = _retrieve(M, Q, similarity=sim, separation="max")
                            else:
                                Z = retrieve(M, Q, encoder=enc, similarity=sim, separation="max")
                            dt = time.perf_counter() - t0
                            acc = float(np.mean(identity_correct(Z, M, idx)))
                            out.append(
                                LatentResult(
                                    dataset, label, sim, kind, float(level), N, run, acc, dt
                                )  # fmt: skip
                            )
    return out


def spiking_on_latent(
    memories: np.ndarray,
    queries: np.ndarray,
    targets: np.ndarray,
    *,
    encoder: Any,
    model: str = "uhn_best",
    mode: str = "hybrid",
    duration: float = 0.2,
    **config: Any,
) -> dict[str, dict[str, float]]:
    """The Brian2 network (``neuro_uhn.spiking``, a black box) on pixels and on codes.

    Returns, for ``"pixels"`` and ``"latent"``: identity accuracy of the spiking output,
    of the abstract model on the same features, synapses per network copy, neurons and
    wall seconds. In latent space the network's projection is the pixel memories ``M``.
    """
    from .retrieval import retrieve as _retrieve
    from .spiking import SpikingConfig, SpikingUHN

    check_encoder(encoder)
    M, Q = _images(memories, "memories"), _images(queries, "queries", memories.shape[1])
    cfg = SpikingConfig(mode=mode, duration=duration, **config)
    out = {}
    for space, (FM, FQ) in {
        "pixels": (M, Q),
        "latent": (np.asarray(encoder.encode(M)), np.asarray(encoder.encode(Q))),
    }.items():
        from .metrics import identity_correct
        from .model import load_model

        t0 = time.perf_counter()
        net = SpikingUHN(model, FM, M, config=cfg) if space == "latent" else SpikingUHN(
            model, FM, config=cfg
        )  # fmt: skip
        Z = net.retrieve(FQ)
        wall = time.perf_counter() - t0
        spec = load_model(model)
        Za = _retrieve(FM, FQ, similarity=spec.similarity, separation=spec.separation, projection=M)
        out[space] = {
            "features": float(FM.shape[1]),
            "accuracy": float(np.mean(identity_correct(Z, M, targets))),
            "accuracy_abstract": float(np.mean(identity_correct(Za, M, targets))),
            "synapses": float(net.synapses_per_copy()),
            "neurons": float(net.n_neurons),
            "seconds": wall,
            "seconds_per_query": wall / len(FQ),
        }
        del net
    return out
