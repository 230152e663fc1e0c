"""Figures for the lessons (matplotlib), drawn from what Keras computes.

Grids are drawn with row 0 at the top, like an image.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .judge import truth
from .judge.shapes import as_pair, same_padding_amounts

__all__ = [
    "same_padding_amounts",
    "draw_same_padding",
    "draw_pooling",
    "draw_sliding_window",
    "channel_sums",
    "draw_channels",
    "photo",
    "full_correlation_parts",
    "draw_conv_backward",
]


def _grid(ax: Any, values: np.ndarray, shade: np.ndarray | None = None, fmt: str = "{:g}") -> None:
    h, w = values.shape
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_xticks(range(w))
    ax.set_yticks(range(h))
    ax.set_aspect("equal")
    for i in range(h):
        for j in range(w):
            padded = shade is not None and bool(shade[i, j])
            ax.add_patch(_rect(j - 0.5, i - 0.5, "#dddddd" if padded else "white", hatch="//" if padded else None))
            text = "0" if padded else fmt.format(values[i, j])
            ax.text(j, i, text, ha="center", va="center", color="#888888" if padded else "black", fontsize=9)


def _rect(
    x: float,
    y: float,
    face: str,
    hatch: str | None = None,
    w: float = 1.0,
    h: float = 1.0,
    edge: str = "#555555",
    lw: float = 0.8,
    fill: bool = True,
) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(
        (x, y), w, h, facecolor=face if fill else "none", edgecolor=edge, hatch=hatch, linewidth=lw, fill=fill
    )


def draw_same_padding(size: int = 5, kernel: int = 2, stride: int = 2) -> Any:
    """Figure: a ``size x size`` input padded as Keras' ``'same'`` pads it for a
    ``kernel x kernel`` window moving by ``stride``; the output size comes from Keras."""
    import matplotlib.pyplot as plt

    before, after = same_padding_amounts(size, kernel, stride)
    out_h, out_w, _ = truth.conv2d_output_shape((size, size, 1), 1, kernel, stride, "same")
    full = size + before + after
    values = np.zeros((full, full))
    values[before : before + size, before : before + size] = np.arange(1, size * size + 1).reshape(size, size)
    shade = np.ones((full, full), dtype=bool)
    shade[before : before + size, before : before + size] = False
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    _grid(ax, values, shade)
    colors = plt.cm.tab10.colors  # type: ignore[attr-defined]  # (a ListedColormap)
    for n, (i, j) in enumerate([(0, 0), (0, out_w - 1), (out_h - 1, out_w - 1)]):
        ax.add_patch(
            _rect(
                j * stride - 0.5, i * stride - 0.5, "none", w=kernel, h=kernel, edge=colors[n % 10], lw=2.5, fill=False
            )
        )
    ax.set_title(
        f"'same': {size}x{size} input, kernel {kernel}, stride {stride}\n"
        f"padding top/left {before}, bottom/right {after} -> output {out_h}x{out_w}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def draw_pooling(
    x: np.ndarray, pool_size: int | tuple[int, int] = 2, strides: Any = None, padding: str = "valid"
) -> Any:
    """Figure: the pooling windows over a small 2-D array ``x: (H, W)`` and the
    outputs of Keras' MaxPooling2D and AveragePooling2D."""
    import matplotlib.pyplot as plt

    x = np.asarray(x, dtype=np.float32)
    k = as_pair(pool_size)
    s = k if strides is None else as_pair(strides)
    pooled_max = truth.max_pool2d(x[..., None], k, strides, padding)[..., 0]
    pooled_avg = truth.average_pool2d(x[..., None], k, strides, padding)[..., 0]
    fig, axes = plt.subplots(
        1, 3, figsize=(10, 3.6), gridspec_kw={"width_ratios": [x.shape[1], *[pooled_max.shape[1]] * 2]}
    )
    _grid(axes[0], x)
    _grid(axes[1], pooled_max)
    _grid(axes[2], pooled_avg, fmt="{:.2f}")
    colors = plt.cm.tab10.colors  # type: ignore[attr-defined]  # (a ListedColormap)
    for i in range(pooled_max.shape[0]):
        for j in range(pooled_max.shape[1]):
            color = colors[(i * pooled_max.shape[1] + j) % 10]
            axes[0].add_patch(
                _rect(
                    j * s[1] - 0.5 + 0.06,
                    i * s[0] - 0.5 + 0.06,
                    "none",
                    w=k[1] - 0.12,
                    h=k[0] - 0.12,
                    edge=color,
                    lw=2.5,
                    fill=False,
                )
            )
            for ax in axes[1:]:
                ax.add_patch(
                    _rect(j - 0.5 + 0.06, i - 0.5 + 0.06, "none", w=0.88, h=0.88, edge=color, lw=2.5, fill=False)
                )
    axes[0].set_title(f"input {x.shape[0]}x{x.shape[1]}, pool {k}, strides {s}", fontsize=10)
    axes[1].set_title(f"MaxPooling2D -> {pooled_max.shape[0]}x{pooled_max.shape[1]}", fontsize=10)
    axes[2].set_title(f"AveragePooling2D -> {pooled_avg.shape[0]}x{pooled_avg.shape[1]}", fontsize=10)
    fig.tight_layout()
    return fig


def draw_sliding_window(image: np.ndarray, kernel: np.ndarray, position: tuple[int, int] = (0, 0)) -> Any:
    """Figure: one step of the sliding window. image: (H, W); kernel: (kh, kw); position: the
    output index (i, j) whose window is highlighted. The output is Keras' cross-correlation."""
    import matplotlib.pyplot as plt

    image = np.asarray(image, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    out = truth.correlate2d(image, kernel)
    i, j = position
    kh, kw = kernel.shape
    fig, axes = plt.subplots(
        1, 3, figsize=(10.5, 3.6), gridspec_kw={"width_ratios": [image.shape[1], kernel.shape[1], out.shape[1]]}
    )
    _grid(axes[0], image)
    _grid(axes[1], kernel)
    _grid(axes[2], out)
    axes[0].add_patch(_rect(j - 0.5, i - 0.5, "none", w=kw, h=kh, edge="tab:red", lw=3, fill=False))
    axes[2].add_patch(_rect(j - 0.5, i - 0.5, "none", edge="tab:red", lw=3, fill=False))
    terms = " + ".join(f"{image[i + a, j + b]:g}*{kernel[a, b]:g}" for a in range(kh) for b in range(kw))
    axes[0].set_title(f"input {image.shape[0]}x{image.shape[1]}", fontsize=10)
    axes[1].set_title(f"kernel {kh}x{kw}", fontsize=10)
    axes[2].set_title(f"output {out.shape[0]}x{out.shape[1]}: out[{i}, {j}] = {out[i, j]:g}", fontsize=10)
    fig.text(0.5, 0.01, f"out[{i}, {j}] = {terms}" if len(terms) < 160 else "", ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def channel_sums(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What a multi-channel ``Conv2D`` ('valid', stride 1) adds up, computed by Keras.

    x: (H, W, C_in); kernel: (kh, kw, C_in, C_out); bias: (C_out,).
    Returns ``(partials, out)``: partials (C_out, C_in, H_out, W_out), where ``partials[o, c]`` is the
    2-D cross-correlation of input channel c with the kernel slice ``kernel[:, :, c, o]`` (a one-filter
    ``Conv2D``); and out (H_out, W_out, C_out), the output of ``Conv2D(C_out, (kh, kw))`` with these weights
    (both from :mod:`grader_utils.judge.truth`, which computes what the layer's ``call`` computes)."""
    x = np.asarray(x, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    _, _, c_in, c_out = kernel.shape
    partials = np.stack(
        [np.stack([truth.correlate2d(x[:, :, c], kernel[:, :, c, o]) for c in range(c_in)]) for o in range(c_out)]
    )
    return partials, truth.conv2d(x, kernel, bias)


def _centred(ax: Any, h: int, w: int, rows: int, cols: int) -> None:
    """Widen the limits of an ``h x w`` grid to ``rows x cols`` cells, so every panel has the same cell size."""
    dh, dw = (rows - h) / 2 + 0.05, (cols - w) / 2 + 0.05
    ax.set_xlim(-0.5 - dw, w - 0.5 + dw)
    ax.set_ylim(h - 0.5 + dh, -0.5 - dh)
    ax.axis("off")


def draw_channels(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> Any:
    """Figure: how ``Conv2D(C_out, (kh, kw))`` turns C_in input channels into C_out feature maps.

    x: (H, W, C_in); kernel: (kh, kw, C_in, C_out); bias: (C_out,). Top row: the input channels. Then, per
    filter o, a row of kernel slices ``kernel[:, :, c, o]`` and a row of their correlations with the input
    channels, summed with the bias ``bias[o]`` into output channel o (the last column). Numbers from Keras."""
    import matplotlib.pyplot as plt

    x = np.asarray(x, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    bias = np.asarray(bias, dtype=np.float32)
    partials, out = (a + 0.0 for a in channel_sums(x, kernel, bias))  # + 0.0: no "-0" in the cells
    kh, kw, c_in, c_out = kernel.shape
    h, w = x.shape[:2]
    ho, wo = out.shape[:2]
    fig = plt.figure(figsize=(2.5 * (c_in + 1), 0.5 * (h + c_out * (kh + ho)) + 0.6 * (1 + 2 * c_out)))
    grid = fig.add_gridspec(1 + 2 * c_out, c_in + 1, height_ratios=[h] + [kh, ho] * c_out)
    for c in range(c_in):
        ax = fig.add_subplot(grid[0, c])
        _grid(ax, x[:, :, c])
        _centred(ax, h, w, h, w)
        ax.set_title(f"input channel {c}", fontsize=9)
    ax = fig.add_subplot(grid[0, c_in])
    ax.axis("off")
    ax.text(
        0.5,
        0.5,
        f"input {h}x{w}x{c_in}\nkernel {kh}x{kw}x{c_in}x{c_out}",
        ha="center",
        va="center",
        fontsize=9,
        transform=ax.transAxes,
    )
    for o in range(c_out):
        color = plt.cm.tab10.colors[o % 10]  # type: ignore[attr-defined]  # a ListedColormap
        for c in range(c_in):
            ax = fig.add_subplot(grid[1 + 2 * o, c])
            _grid(ax, kernel[:, :, c, o])
            _centred(ax, kh, kw, kh, w)
            ax.set_title(f"filter {o}: kernel[:, :, {c}, {o}]", fontsize=9, color=color)
            ax = fig.add_subplot(grid[2 + 2 * o, c])
            _grid(ax, partials[o, c])
            _centred(ax, ho, wo, ho, w)
            ax.set_title(f"channel {c} \u22c6 kernel[:, :, {c}, {o}]", fontsize=9)
            sign = "-" if bias[o] < 0 else "+"
            ax.text(
                1.12,
                0.5,
                "+" if c < c_in - 1 else f"{sign} {abs(bias[o]):g} =",
                ha="center",
                va="center",
                fontsize=12,
                transform=ax.transAxes,
            )
        ax = fig.add_subplot(grid[1 + 2 * o, c_in])
        ax.axis("off")
        ax.text(
            0.5,
            0.3,
            f"bias[{o}] = {bias[o]:g}",
            ha="center",
            va="center",
            fontsize=9,
            color=color,
            transform=ax.transAxes,
        )
        ax = fig.add_subplot(grid[2 + 2 * o, c_in])
        _grid(ax, out[:, :, o])
        _centred(ax, ho, wo, ho, w)
        ax.set_title(f"output channel {o}", fontsize=9, color=color)
    fig.suptitle(
        f"Conv2D({c_out}, ({kh}, {kw})): each output channel sums the {c_in} input channels' correlations and its bias",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def photo(scale: int = 4, grey: bool = True) -> np.ndarray:
    """matplotlib's sample photograph (Grace Hopper, 600x512 RGB), as float32 in [0, 1].

    scale: keep every scale-th pixel (after averaging scale x scale blocks).
    Returns (H, W) if grey else (H, W, 3)."""
    import matplotlib.cbook as cbook
    import matplotlib.pyplot as plt

    with cbook.get_sample_data("grace_hopper.jpg") as f:  # type: ignore[union-attr]  # (a file, asked as one)
        img = plt.imread(f).astype(np.float32) / 255.0  # type: ignore[arg-type]
    h, w = (img.shape[0] // scale) * scale, (img.shape[1] // scale) * scale
    img = img[:h, :w].reshape(h // scale, scale, w // scale, scale, 3).mean(axis=(1, 3))
    if grey:
        img = img @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return img.astype(np.float32)


def full_correlation_parts(
    dout: np.ndarray, kernel: np.ndarray, input_shape: tuple[int, int], strides: Any = 1, padding: str = "valid"
) -> dict[str, Any]:
    """The input gradient of a one-channel convolution as the lesson of notebook 04 draws it.

    dout: (H_out, W_out); kernel: (kh, kw); input_shape: (H, W). Returns ``spread``, ``dout`` dilated by the
    strides and padded by ``k - 1`` on every side, shape ``((H_out - 1) s_h + 2 kh - 1, ...)``, with
    ``filler`` marking its added zeros; ``flipped``, the kernel flipped on both axes; ``full``, the "valid"
    correlation of ``spread`` with ``flipped``, the gradient of the padded input, shape
    ``((H_out - 1) s_h + kh, ...)``; ``pads`` (top, bottom, left, right), Keras' ``'same'`` padding or zeros.
    ``full[top : top + H, left : left + W]`` (zero rows/columns added where a ``'valid'`` input is longer than
    the windows reach) is the gradient of the input: tests/test_figures.py checks it against TensorFlow.
    """
    dout, kernel = np.asarray(dout, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    (sh, sw), (kh, kw) = as_pair(strides), kernel.shape
    h_out, w_out = dout.shape
    spread = np.zeros(((h_out - 1) * sh + 2 * kh - 1, (w_out - 1) * sw + 2 * kw - 1))
    filler = np.ones(spread.shape, dtype=bool)
    rows, cols = slice(kh - 1, kh - 1 + (h_out - 1) * sh + 1, sh), slice(kw - 1, kw - 1 + (w_out - 1) * sw + 1, sw)
    spread[rows, cols], filler[rows, cols] = dout, False
    flipped = kernel[::-1, ::-1]
    windows = np.lib.stride_tricks.sliding_window_view(spread, (kh, kw))
    full = np.einsum("ijab,ab->ij", windows, flipped)
    pads = (0, 0, 0, 0)
    if padding.lower() == "same":
        pads = (*same_padding_amounts(input_shape[0], kh, sh), *same_padding_amounts(input_shape[1], kw, sw))
    return {"spread": spread, "filler": filler, "flipped": flipped, "full": full, "pads": pads}


def draw_conv_backward(
    dout: np.ndarray, kernel: np.ndarray, dx: np.ndarray, strides: Any = 1, padding: str = "valid"
) -> Any:
    """Figure: ``dx`` of a one-channel convolution as a full correlation with the flipped kernel.

    dout: (H_out, W_out); kernel: (kh, kw); dx: (H, W), the input gradient as TensorFlow computes it (the
    notebook passes it in). Five panels: ``dout``; ``dout`` dilated and padded (added zeros grey); the flipped
    kernel; their correlation, the padded input's gradient (Keras' ``'same'`` padding grey); ``dx``.
    """
    import matplotlib.pyplot as plt

    dx = np.asarray(dx, dtype=np.float64)
    parts = full_correlation_parts(dout, kernel, dx.shape, strides, padding)
    top, bottom, left, right = parts["pads"]
    full = parts["full"]
    cropped = np.ones(full.shape, dtype=bool)
    cropped[top : full.shape[0] - bottom, left : full.shape[1] - right] = False
    panels = [
        (np.asarray(dout, dtype=np.float64), None, "dout"),
        (parts["spread"], parts["filler"], "dout dilated, padded by k - 1"),
        (parts["flipped"], None, "kernel flipped"),
        (full, None, "correlation: padded input's gradient"),
        (dx, None, "dx (TensorFlow)"),
    ]
    fig, axes = plt.subplots(1, 5, figsize=(15, 3.6), gridspec_kw={"width_ratios": [p[0].shape[1] for p in panels]})
    for ax, (values, shade, title) in zip(axes, panels):
        _grid(ax, values, shade)
        ax.set_title(title, fontsize=10)
    for i, j in zip(*np.nonzero(cropped)):
        axes[3].add_patch(_rect(j - 0.5, i - 0.5, "#dddddd", hatch="//"))  # under the value: the padding's
    fig.tight_layout()
    return fig
