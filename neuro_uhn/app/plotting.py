"""Figures. Plotting never computes: each function draws results it is given.

Every function returns a :class:`matplotlib.figure.Figure` (shown inline when it is a
notebook cell's value) and saves nothing: the caller saves (the figure scripts through
:func:`neuro_uhn.app.figures.save`, which also sets the PNG's size). The one-panel plot
(``raster_figure``) draws into an existing ``ax=``; the others are grids of panels and make
their own figure. Figures are made without pyplot and nothing here calls
``matplotlib.use``, so a notebook keeps its inline backend.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "integer_ticks",
    "demo_figure",
    "raster_figure",
    "spiking_images_figure",
    "sweep_figure",
    "examples_figure",
    "spiking_accuracy_figure",
    "spiking_dynamics_figure",
]


def _figure(**kwargs):
    """A Figure outside pyplot: no backend switch, no global state, nothing to close."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


#: Prepended to every figure's title while :func:`title_prefix` is active (quick runs).
_PREFIX: list[str] = []


class title_prefix:  # noqa: N801 - used as a context manager, like a function
    """``with title_prefix("QUICK RUN — "):`` every figure drawn inside says so in its title."""

    def __init__(self, text: str):
        self.text = text

    def __enter__(self):
        _PREFIX.append(self.text)
        return self

    def __exit__(self, *exc):
        _PREFIX.pop()


def _cm():
    import matplotlib

    return matplotlib.colormaps


def _suptitle(fig, text: str, **kwargs):
    """The figure's title, each line wrapped to the figure's width (and the quick prefix)."""
    import textwrap

    size = kwargs.get("fontsize", 10)
    width = max(40, int(fig.get_figwidth() * 72 / (0.55 * size)))  # characters per line
    lines = ("".join(_PREFIX) + text).split("\n")
    return fig.suptitle("\n".join(textwrap.fill(ln, width) for ln in lines), **kwargs)


def demo_figure(result):
    """Grid of stored images, corrupted cues and each model's retrieval, per corruption."""
    corruptions = list(result.examples)
    first = result.examples[corruptions[0]]
    labels = list(first[2])
    n_rows = 2 + len(labels)
    n_cols = len(first[0])
    fig = _figure(figsize=(0.55 * (n_cols + 1) * len(corruptions) + 3.2, 0.6 * n_rows + 0.8))
    axes = fig.subplots(n_rows, n_cols * len(corruptions) + len(corruptions) - 1, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for c, corruption in enumerate(corruptions):
        targets, queries, outputs = result.examples[corruption]
        rows = [("stored", targets), ("cue", queries)] + [(k, outputs[k]) for k in labels]
        col0 = c * (n_cols + 1)
        axes[0, col0 + n_cols // 2].set_title(corruption, fontsize=9)
        for r, (name, images) in enumerate(rows):
            for j in range(n_cols):
                axes[r, col0 + j].imshow(
                    np.clip(images[j].reshape(result.image_shape), 0, 1),
                    cmap="gray_r", vmin=0, vmax=1, interpolation="nearest",
                )  # fmt: skip
            if c == 0:
                axes[r, 0].text(-0.6, 0.5, name, transform=axes[r, 0].transAxes, ha="right",
                                va="center", fontsize=7)  # fmt: skip
    _suptitle(
        fig,
        f"neuro_uhn demo: {result.n_memories} stored scikit-learn digits, cues and retrievals",
        fontsize=10,
    )
    fig.subplots_adjust(left=0.22, right=0.99, top=0.88, bottom=0.02, wspace=0.05, hspace=0.08)
    return fig


def integer_ticks(axis) -> None:
    """Ticks at whole numbers only: for axes that count or index things (memories, cues)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _raster(ax, comparison, query: int, title: str, decoded=None, target=None) -> int:
    """The memory neurons' spikes for one query into ``ax``; returns the memory it marks.

    The marked memory is ``decoded`` when given (the stored memory nearest to the network's
    output for this query, what was retrieved), else the memory with the most spikes after
    settling; the legend says which of the two it is. ``target``: the cue's own memory, a
    dotted line.
    """
    run, cfg = comparison.run, comparison.config
    memory, times = run.spikes[query]
    busiest = int(np.argmax(run.counts[query]))
    if decoded is None:
        marked, what = busiest, f"most spikes after settling: memory {busiest}"
    else:
        marked = int(decoded)
        what = f"decoded: memory {marked} (nearest stored memory to the output)"
    others = memory != marked
    ax.axvspan(0, 1e3 * cfg.settle, color="0.9", label="settling (not decoded)")
    ax.plot(1e3 * times[others], memory[others], "|", color="0.4", ms=4, label="other memories")
    ax.plot(1e3 * times[~others], memory[~others], "|", color="C3", ms=6, label=what)
    if target is not None:
        ax.axhline(int(target), color="C0", ls=":", lw=1.0, label=f"the cue's memory: {target}")
    n_mem = len(run.counts[query])
    import textwrap

    title = title or f"memory neurons, query {query} ({cfg.mode} mode)"
    if decoded is not None and busiest != marked:
        title += f" (most spikes: memory {busiest})"
    ax.set(xlabel="time (ms)", ylabel="memory (index)", xlim=(0, 1e3 * cfg.duration),
           ylim=(-0.5, n_mem - 0.5))  # fmt: skip
    ax.set_title(textwrap.fill(title, 64), fontsize=9)
    integer_ticks(ax.yaxis)
    # below the axes: the legend never covers spikes
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7, frameon=False)
    return marked


def raster_figure(
    comparison, query: int = 0, title: str = "", *, decoded=None, target=None, ax=None
):
    """Spike raster of the memory neurons for one query and, beside it, agreement and output
    error against the decoding window's end T. Returns the figure.

    ``decoded``: the index of the stored memory nearest to the network's output for this
    query (``neuro_uhn.metrics.nearest_memory(comparison.z_spiking, M)[query]``), marked in
    red as what was retrieved; without it the memory with the most spikes is marked, and the
    legend says so (in the circuit the two can differ: the output neurons integrate releases
    from every memory that fires). ``target``: the cue's own memory, a dotted line. With
    ``ax`` only the raster is drawn, into that axes.
    """
    if ax is not None:
        _raster(ax, comparison, query, title, decoded, target)
        return ax.figure
    fig = _figure(figsize=(10, 4.0), layout="constrained")
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    _raster(ax, comparison, query, title, decoded, target)
    T = [1e3 * r["T"] for r in comparison.sweep]
    ax2.plot(T, [r["agreement"] for r in comparison.sweep], "s-", color="C0",
             label="agreement (left axis)")  # fmt: skip
    ax2.set(xlabel="decoding window end T (ms)", ylabel="same memory as abstract",
            ylim=(0, 1.05), title="convergence with T, all cues")  # fmt: skip
    ax3 = ax2.twinx()
    err = np.array([r["median_relative_error"] for r in comparison.sweep], dtype=float)
    floor = 1e-4
    ax3.plot(T, np.maximum(err, floor), "o--", color="C1",
             label=f"median relative error (right, log; floored at {floor:g})")  # fmt: skip
    ax3.set_yscale("log")
    ax3.set_ylim(floor / 2, max(1.0, 2 * float(np.nanmax(err, initial=floor))))
    ax3.set_ylabel("median ‖z_spk − z_abs‖ / ‖z_abs‖", color="C1")
    handles = ax2.get_legend_handles_labels()[0] + ax3.get_legend_handles_labels()[0]
    labels = ax2.get_legend_handles_labels()[1] + ax3.get_legend_handles_labels()[1]
    ax2.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=7,
               frameon=False)  # fmt: skip
    return fig


def spiking_images_figure(
    comparison,
    image_shape,
    n: int = 8,
    title: str = "",
    *,
    stored=None,
    cues=None,
):
    """Rows of images for ``n`` queries: the stored memory and the cue (when given), the
    abstract output and the spiking output. Returns the figure."""
    rows = [("stored", stored), ("cue", cues), ("abstract", comparison.z_abstract),
            ("spiking", comparison.z_spiking)]  # fmt: skip
    rows = [(name, Z) for name, Z in rows if Z is not None]
    n = min(n, len(comparison.z_abstract))
    fig = _figure(figsize=(0.9 * n + 1.2, 1.0 * len(rows) + 0.8), layout="constrained")
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (name, Z) in enumerate(rows):
        for j in range(n):
            ax = axes[r, j]
            ax.imshow(np.clip(np.asarray(Z[j]).reshape(image_shape), 0, 1), cmap="gray_r",
                      vmin=0, vmax=1, interpolation="nearest")  # fmt: skip
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=8)
    _suptitle(fig, title or "z_abstract vs z_spiking", fontsize=9)
    return fig


def _label(row: dict, hue: tuple[str, ...]) -> str:
    return " / ".join(str(row[h]) for h in hue)


MARKERS = ("o", "s", "^", "v", "D", "P", "X", "<", ">", "*", "h", "p")
LINESTYLES = ("-", "--", ":", "-.")


def _curve(
    ax,
    rows,
    x: str,
    *,
    color,
    style: str = "-",
    label=None,
    shade: bool = True,
    marker="o",
    rank: int = 0,
    n_ranks: int = 1,
) -> None:
    """One line of means over ``x`` with ± 1 std shading (rows from ``summarize``).

    ``style="halo"`` draws a thick pale line (a reference the other lines sit on). Curves
    that coincide stay visible: the ``rank``-th of ``n_ranks`` is drawn wider and with a
    bigger marker the earlier it comes, so later curves sit inside earlier ones; dashed
    curves carry hollow markers.
    """
    rows = sorted(rows, key=lambda r: r[x])
    xs = np.array([r[x] for r in rows], dtype=float)
    m = np.array([r["mean"] for r in rows], dtype=float)
    sd = np.array([r["std"] for r in rows], dtype=float)
    spread = (n_ranks - 1 - rank) / max(1, n_ranks - 1)  # 1 for the first curve, 0 for the last
    if style == "halo":
        ax.plot(xs, m, "-", color=color, lw=5, alpha=0.3, solid_capstyle="round", label=label)
    else:
        ax.plot(xs, m, style, color=color, lw=1.1 + 1.3 * spread, ms=3.2 + 3.6 * spread,
                marker=marker, label=label, zorder=2 + rank,
                markerfacecolor=color if style == "-" else "none")  # fmt: skip
    if shade:
        ax.fill_between(xs, m - sd, m + sd, color=color, alpha=0.15, lw=0)


def _log_x(ax, values) -> None:
    """A log x axis with plain 1-2-5 tick labels over the data's range."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    lo, hi = min(values), max(values)
    ticks = [m * 10**e for e in range(-3, 6) for m in (1, 2, 5) if lo <= m * 10**e <= hi]
    if len(ticks) < 3:
        ticks = sorted(set(values))
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _legend_below(fig, axes, ncol: int = 6) -> None:
    handles, labels = [], []
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncol=min(ncol, len(labels)),
               fontsize=8, frameon=False)  # fmt: skip


SSE_CAPTION = "summed squared error ≤ T (the paper's criterion)"
IDENTITY_CAPTION = "nearest stored memory is the target (identity)"


def sweep_figure(
    panels: list[dict],
    *,
    x: str,
    hue: tuple[str, ...],
    xlabel: str,
    suptitle: str,
    xscale: str = "linear",
    vlines: dict[float, str] | None = None,
    note: str = "",
    identity: str = "dashed",
    names: dict[str, str] | None = None,
    legend_columns: int = 6,
):
    """Mean ± std over runs of a sweep, one panel per (row, column) of ``panels``.

    ``panels``: dicts with ``row`` and ``col`` titles and ``correct`` and ``identity``, the
    summaries (:func:`neuro_uhn.experiments.summarize`) of the paper's criterion and of
    nearest-memory identity. One line per ``hue`` value (``names`` renames them), in the
    order they first appear. ``identity="dashed"`` draws identity as dashed lines in the
    same panel; ``"row"`` gives it a row of panels of its own under each row.
    ``vlines``: x → legend label of a dotted reference line. A panel whose ``correct`` is
    empty (a criterion dropped there, with the reason in ``note``) says so. Returns the
    figure, saved to ``path`` when given.
    """
    names = names or {}
    row_titles = list(dict.fromkeys(p["row"] for p in panels))
    cols = list(dict.fromkeys(p["col"] for p in panels))
    metrics = [("correct", SSE_CAPTION), ("identity", IDENTITY_CAPTION)]
    if identity == "row":
        grid_rows = [(r, m) for r in row_titles for m in metrics]
    else:
        grid_rows = [(r, None) for r in row_titles]
    fig = _figure(
        figsize=(4.0 * len(cols) + 0.4, 2.75 * len(grid_rows) + 1.3), layout="constrained"
    )
    axes = fig.subplots(len(grid_rows), len(cols), squeeze=False, sharey=True, sharex=True)
    order = list(
        dict.fromkeys(_label(r, hue) for p in panels for k in ("correct", "identity") for r in p[k])
    )
    cmap = _cm()["tab10" if len(order) <= 10 else "tab20"]
    colors = {lab: cmap(i % cmap.N) for i, lab in enumerate(order)}
    markers = {lab: MARKERS[i % len(MARKERS)] for i, lab in enumerate(order)}
    xs = [r[x] for p in panels for k in ("correct", "identity") for r in p[k]]
    for i, (row, metric) in enumerate(grid_rows):
        for j, col in enumerate(cols):
            ax = axes[i, j]
            panel = next((p for p in panels if p["row"] == row and p["col"] == col), None)
            if panel is None:
                ax.set_visible(False)
                continue
            draws = (
                [(metric[0], "-", True)]
                if metric
                else [("correct", "-", True), ("identity", "--", False)]
            )
            for key, style, shade in draws:
                by: dict[str, list[dict]] = {}
                for r in panel[key]:
                    by.setdefault(_label(r, hue), []).append(r)
                if key == "correct" and not panel[key] and metric:
                    ax.text(0.5, 0.5, "SSE criterion not shown here\n(see the note above)",
                            transform=ax.transAxes, ha="center", va="center", fontsize=8,
                            color="0.4")  # fmt: skip
                for k, lab in enumerate(order):
                    if lab in by:
                        _curve(ax, by[lab], x, color=colors[lab], style=style, shade=shade,
                               marker=markers[lab], rank=k, n_ranks=len(order),
                               label=names.get(lab, lab) if style == "-" else None)  # fmt: skip
            for k, (v, text) in enumerate((vlines or {}).items()):
                ax.axvline(v, color="0.35", lw=1.0, ls=(":", "-.", "--")[k % 3], label=text)
            if xscale == "log":
                _log_x(ax, xs)
            elif all(float(v).is_integer() for v in xs):  # counts (memories, thresholds)
                integer_ticks(ax.xaxis)
            ax.set_ylim(-0.03, 1.03)
            title = f"{col}\n{row}" + (f" — {metric[1].split(' (')[0]}" if metric else "")
            if not metric and not panel["correct"]:
                title += "\n(identity only: SSE not shown, see the note above)"
            ax.set_title(title, fontsize=8.5)
            ax.grid(alpha=0.3)
            if i == len(grid_rows) - 1:  # a long label: its short form here, in full below
                ax.set_xlabel(xlabel if len(xlabel) <= 60 else xlabel.split(":")[0])
            if j == 0:
                ax.set_ylabel("fraction retrieved")
    if identity == "row":
        caption = f"{SSE_CAPTION} and {IDENTITY_CAPTION}; shaded ± 1 std over runs"
    else:
        caption = f"solid: {SSE_CAPTION}, shaded ± 1 std over runs; dashed: {IDENTITY_CAPTION}"
    axis = f"x axis — {xlabel}" if len(xlabel) > 60 else ""
    _suptitle(fig, "\n".join(s for s in (suptitle, caption, axis, note) if s), fontsize=9.5)
    _legend_below(fig, axes, ncol=legend_columns)
    return fig


def examples_figure(
    blocks: list[tuple[str, list[tuple[str, np.ndarray]]]],
    image_shape,
    *,
    title: str,
):
    """Blocks of images side by side, each a title and rows (label, (k, D) array): the
    stored images, the cues, then each model's retrieval."""
    n_rows = max(len(rows) for _, rows in blocks)
    k = len(blocks[0][1][0][1])
    n_cols = len(blocks) * (k + 1) - 1
    fig = _figure(figsize=(0.72 * n_cols + 1.2, 0.75 * n_rows + 0.6))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    colour = len(image_shape) == 3
    for b, (block_title, rows) in enumerate(blocks):
        c0 = b * (k + 1)
        axes[0, c0 + k // 2].set_title(block_title, fontsize=9, loc="left" if k % 2 else "center")
        for r, (label, images) in enumerate(rows):
            for j in range(k):
                ax = axes[r, c0 + j]
                img = np.clip(np.nan_to_num(np.asarray(images[j])).reshape(image_shape), 0, 1)
                ax.imshow(img, cmap=None if colour else "gray_r", vmin=0, vmax=1,
                          interpolation="nearest")  # fmt: skip
            axes[r, c0].text(-0.12, 0.5, label, transform=axes[r, c0].transAxes, ha="right",
                             va="center", fontsize=7.5)  # fmt: skip
    _suptitle(fig, title, fontsize=9.5)
    fig.subplots_adjust(left=0.09, right=0.995, top=0.9, bottom=0.01, wspace=0.06, hspace=0.08)
    return fig


def spiking_accuracy_figure(
    correct: list[dict],
    identity: list[dict],
    agreement: list[dict],
    *,
    names: dict[str, str],
    title: str,
    note: str = "",
):
    """Spiking vs abstract retrieval: a column per noise level, rows for the paper's
    criterion, identity, and agreement of the spiking network with the abstract model.

    The three lists are summaries (:func:`neuro_uhn.experiments.summarize`) of
    ``fraction_correct``, ``fraction_identity`` and ``agreement`` of the spiking
    experiment; ``names`` maps "similarity / separation / readout" to a model name.
    Lines with markers: the spiking network; thick pale lines: the abstract model.
    """
    hue = ("similarity", "separation", "readout")
    levels = sorted({r["level"] for r in correct})
    order = list(dict.fromkeys(_label(r, hue) for r in correct))
    colors = {lab: _cm()["tab10"](i % 10) for i, lab in enumerate(order)}
    thresholds = sorted({r["threshold"] for r in correct})
    rows = [
        (correct, "summed squared error ≤ T = " + ", ".join(f"{t:g}" for t in thresholds)),
        (identity, "nearest memory is the target"),
        (agreement, "same memory as the abstract model"),
    ]
    fig = _figure(
        figsize=(max(9.0, 4.2 * len(levels) + 0.6), 2.5 * len(rows) + 1.4), layout="constrained"
    )
    axes = fig.subplots(len(rows), len(levels), squeeze=False, sharex=True, sharey=True)
    for i, (summary, what) in enumerate(rows):
        for j, level in enumerate(levels):
            ax = axes[i, j]
            for lab in order:
                for network, style in (("abstract", "halo"), ("spiking", "-")):
                    rs = [
                        r
                        for r in summary
                        if _label(r, hue) == lab
                        and r["network"] == network
                        and r["level"] == level
                        and np.isfinite(r["mean"])
                    ]
                    if rs:
                        text = f"{names.get(lab, lab)} ({lab})"
                        _curve(ax, rs, "n_memories", color=colors[lab], style=style,
                               shade=network == "spiking", marker=MARKERS[order.index(lab)],
                               label=text if network == "spiking" else None)  # fmt: skip
            _log_x(ax, [r["n_memories"] for r in correct])
            ax.set_ylim(-0.03, 1.03)
            ax.grid(alpha=0.3)
            ax.set_title(f"cue noise σ = {level:g}\n{what}", fontsize=8.5)
            if i == len(rows) - 1:
                ax.set_xlabel("memories stored (N)")
            if j == 0:
                ax.set_ylabel("fraction of cues")
    _suptitle(
        fig,
        "\n".join(
            s
            for s in (
                title,
                "lines with markers: spiking network (shaded ± 1 std over runs); "
                "thick pale lines: the abstract model on the same cues",
                note,
            )
            if s
        ),
        fontsize=9.5,
    )
    _legend_below(fig, axes, ncol=2)
    return fig


def spiking_dynamics_figure(
    comparisons: dict[str, object],
    *,
    title: str,
    target: int | None = None,
    decoded: dict[str, int] | None = None,
):
    """How a spiking network reaches its answer, per model (a :class:`Comparison` each).

    Top: the memory neurons' spikes for the first cue, the settling interval shaded, the
    memory marked in red as in :func:`raster_figure`: ``decoded[label]`` (the stored memory
    nearest to that model's output for cue 0) when given, else the one with the most spikes;
    ``target``: the memory that cue should retrieve. Bottom: over all cues, agreement with
    the abstract model and the median relative error of the output when decoding only the
    spikes in [settle, T].
    """
    labels = list(comparisons)
    decoded = decoded or {}
    fig = _figure(figsize=(4.2 * max(2, len(labels)), 6.6), layout="constrained")
    grid = fig.add_gridspec(2, max(2, len(labels)))
    for k, label in enumerate(labels):
        c = comparisons[label]
        ax = fig.add_subplot(grid[0, k])
        aim = "" if target is None else f"target memory {target}, "
        mine = decoded.get(label)
        marked = _raster(ax, c, 0, " ", mine, target)
        what = f"decoded memory {marked}" if mine is not None else f"most spikes: {marked}"
        ax.set_title(f"{label}, cue 0: {aim}{what}", fontsize=9)
        if k:
            ax.get_legend().remove()
        else:  # one legend for every panel: the memory indices are in each panel's title
            for text in ax.get_legend().get_texts():
                if text.get_text().startswith(("decoded:", "most spikes")):
                    text.set_text(
                        "decoded memory (nearest stored memory to the output)"
                        if mine is not None
                        else "the memory with the most spikes"
                    )
                elif text.get_text().startswith("the cue's memory"):
                    text.set_text("the cue's memory (target)")
    ax_agree = fig.add_subplot(grid[1, 0])
    ax_err = fig.add_subplot(grid[1, 1])
    for k, label in enumerate(labels):
        sweep = comparisons[label].sweep
        T = np.array([1e3 * s["T"] for s in sweep])
        err = np.array([s["median_relative_error"] for s in sweep], dtype=float)
        # lines that coincide (agreement 1.0 for several models) stay visible: each has its
        # own marker and dash, and earlier lines are drawn wider underneath later ones
        style = dict(color=f"C{k}", marker=MARKERS[k % len(MARKERS)], ls=LINESTYLES[k % 4],
                     lw=1.0 + 1.2 * (len(labels) - 1 - k), ms=3 + 2 * (len(labels) - 1 - k),
                     markerfacecolor="none", label=label)  # fmt: skip
        ax_agree.plot(T, [s["agreement"] for s in sweep], **style)
        ax_err.plot(T, np.maximum(err, 1e-4), **style)
    ax_agree.set(xlabel="decoding window end T (ms)", ylabel="same memory as abstract",
                 ylim=(-0.03, 1.05), title="agreement over all cues")  # fmt: skip
    ax_err.set(xlabel="decoding window end T (ms)", yscale="log",
               ylabel="median ‖z_spk − z_abs‖ / ‖z_abs‖",
               title="output error over all cues (floored at 1e-4)")  # fmt: skip
    axes = [ax_agree, ax_err]
    if len(labels) >= 3:
        ax_settle = fig.add_subplot(grid[1, 2])
        settle = [1e3 * np.asarray(comparisons[k].settling_time, dtype=float) for k in labels]
        ax_settle.boxplot([t[np.isfinite(t)] for t in settle], tick_labels=labels)
        ax_settle.set(ylabel="settling time (ms)", title="when each cue's decoded memory settles")
        axes.append(ax_settle)
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
        ax.title.set_fontsize(9)
    ax_agree.legend(fontsize=7)
    ax_err.legend(fontsize=7)
    _suptitle(fig, title, fontsize=9.5)
    return fig
