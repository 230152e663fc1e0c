"""Every message the diagnoses of wrong answers can give, by key.

A diagnosis (:mod:`.shape_feedback`, :mod:`.stack_feedback`, :mod:`.value_feedback`, :mod:`.grad_feedback`) returns keys
of :data:`HINTS`; records keep the keys (a test entry's ``causes``) and the student reads the message.
"""

from __future__ import annotations

from ..i18n import N_, tr

__all__ = ["ARITHMETIC_MESSAGE", "HINTS", "first_hint", "hint"]

#: an answer to an arithmetic exercise (``Exercise.arithmetic``) built with Keras layers or the grader's own
#: functions: under grading these are not available (the answer scores 0), and the notebook's visible check
#: refuses it with the same words (:mod:`grader_utils.checks`)
ARITHMETIC_MESSAGE = N_(
    "this exercise is arithmetic: under grading, Keras and the grader's own functions are not "
    "available; compute the answer yourself (with Python's integers and the formulas of the "
    "lesson)."
)

#: Every message a diagnosis can give, by key (tests check each one can fire), in English; :func:`hint` gives
#: it in the reader's language.
HINTS: dict[str, str] = {
    "same_floor": N_(
        "With padding='same' Keras gives ceil(size / stride): a last, partial window still "
        "produces an output. You rounded down."
    ),
    "same_symmetric_formula": N_(
        "You used pad = (kernel - 1) // 2 on both sides, as older tutorials do. That "
        "gives Keras' output size for odd kernels (at any stride) but not for even ones. "
        "Keras' 'same' pads only as much as ceil(size / stride) outputs need, a total of "
        "max((out - 1) * stride + kernel - size, 0), with floor(total / 2) at the "
        "top/left and the rest at the bottom/right: with a stride > 1 even an output of "
        "the right size can hold the wrong windows."
    ),
    "same_ignores_strides": N_(
        "With padding='same' the output keeps the input size only when the stride is 1; it is ceil(size / stride)."
    ),
    "valid_as_same": N_(
        "padding='valid' adds no padding: windows must fit inside the input, so the output "
        "shrinks to floor((size - kernel) / stride) + 1."
    ),
    "valid_rounded_up": N_(
        "With padding='valid' a last window that does not fit is dropped: round "
        "(size - kernel) / stride down, then add 1."
    ),
    "valid_missing_plus_one": N_(
        "You forgot the +1: the first window position counts too, so the output is floor((size - kernel) / stride) + 1."
    ),
    "valid_ignores_strides": N_("You ignored the strides: with stride s only every s-th window position is used."),
    "swapped_height_width": N_(
        "Height and width are swapped somewhere: in Keras, sizes like (3, 2) mean "
        "(rows, columns), i.e. (height, width)."
    ),
    "channels_not_filters": N_(
        "The last dimension of a Conv2D output is the number of filters, not the number of input channels."
    ),
    "pool_changes_channels": N_("Pooling works on each channel separately, so the number of channels stays the same."),
    "pool_strides_none_as_one": N_(
        "strides=None means strides = pool_size (windows that do not overlap), not a stride of 1."
    ),
    "pool_size_as_strides": N_(
        "You used pool_size where strides was meant: when strides are given, the window "
        "moves by strides, whatever its size."
    ),
    "same_extra_top_left": N_(
        "Your 'same' padding puts the extra row/column at the top/left. Keras (like "
        "TensorFlow) puts floor(total / 2) at the top/left and the rest at the bottom/right."
    ),
    "average_counts_padding": N_(
        "Your average counts the padded zeros. In Keras' AveragePooling2D with "
        "padding='same' a border window averages only the input values inside it."
    ),
    "max_pads_zeros": N_(
        "Your 'same' max pooling pads with zeros, so a border window of negative values "
        "returns 0. Padding must never win a max: ignore it (or pad with -inf)."
    ),
    "same_as_valid": N_("The output has the 'valid' shape although padding='same' was asked for."),
    "params_no_bias": N_(
        "The parameter count is short by exactly the number of biases: a Conv2D or Dense layer "
        "has one bias per filter/unit."
    ),
    "params_in_pool": N_("Pooling, Flatten and Reshape layers have no parameters (0)."),
    "conv_params_no_channels": N_(
        "A Conv2D kernel spans all input channels: kernel_h * kernel_w * channels_in weights per filter, plus one bias."
    ),
    "dense_on_last_axis": N_(
        "Dense on a tensor with more than one axis acts on the last axis only "
        "(each position gets its own copy of the same units)."
    ),
    "flipped_kernel": N_(
        "Your result is a true convolution: the kernel is flipped (rotated by 180 degrees). "
        "Keras' Conv2D computes cross-correlation: out[i, j] = sum of x[i + a, j + b] * k[a, b], "
        "with no flip."
    ),
    "missing_bias": N_(
        "Your result is right except for the bias: add bias[c_out] to every value of output channel c_out."
    ),
    "applied_relu": N_(
        "Your result has the negative values set to 0, as a ReLU would. The exercise asks for "
        "Conv2D without activation."
    ),
    "conv_same_symmetric": N_(
        "Your 'same' padding pads (kernel - 1) // 2 on each side. Keras pads a total of "
        "max((out - 1) * stride + kernel - size, 0) with floor(total / 2) before and the rest "
        "after (bottom/right)."
    ),
    "strides_ignored": N_(
        "Your output is the stride-1 result: apply the strides, moving the window by "
        "strides[0] rows and strides[1] columns."
    ),
    "strides_swapped": N_("Your strides act on the wrong axes: strides = (rows, columns), i.e. (height, width)."),
    "channels_swapped": N_(
        "You index the kernel as kernel[:, :, c_out, c_in]. Keras' layout is "
        "(kh, kw, C_in, C_out): kernel[:, :, c_in, c_out]."
    ),
    "kernel_transposed": N_(
        "You index the kernel as kernel[b, a] (columns first). Its layout is "
        "(kh, kw, ...): kernel[a, b] multiplies x[i + a, j + b]."
    ),
    "rf_strides_ignored": N_(
        "You added up (k - 1) over the layers and ignored the strides. After a layer with "
        "stride s, one step of the next layer is s input pixels: each layer adds (k - 1) * j, "
        "where the jump j is the product of the strides of the layers before it."
    ),
    "rf_kernels_multiplied": N_(
        "You multiplied the kernel sizes. Receptive fields grow by adding, not multiplying: "
        "each layer adds (k - 1) * j, where the jump j is the product of the strides of "
        "the layers before it."
    ),
    "rf_pooling_skipped": N_(
        "You left out the pooling layers. A pooling window is a window too: it adds "
        "(pool_size - 1) * j, and its strides (by default the pool size) multiply the jump j "
        "of every later layer."
    ),
    "rf_own_stride": N_(
        "You multiplied each layer's (k - 1) by its own stride. What counts is the jump j of its "
        "input, the product of the strides of the layers before it: first r += (k - 1) * j, then "
        "j *= s."
    ),
    "grad_kernel_not_flipped": N_(
        "Your dx is the 'full' correlation of dout with the kernel as it is, not "
        "flipped. Output pixel (i, j) sends kernel[a, b] @ dout[i, j] back to the input pixel it multiplied, "
        "x[i * sh + a, j * sw + b]; written as a correlation over dout, that is the 'full' correlation with the "
        "kernel rotated by 180 degrees."
    ),
    "grad_pads_swapped": N_(
        "Your backward pass takes the 'same' padding off the wrong side. Keras pads "
        "floor(total / 2) rows/columns at the top/left and the rest at the bottom/right: pad x that way, and cut "
        "dx out of the padded gradient at the same offsets."
    ),
    "grad_strides_ignored": N_(
        "Your gradient moves the windows by one pixel, not by the strides: output pixel "
        "(i, j) comes from the window that starts at row i * strides[0], column j * strides[1], and its gradient "
        "goes back there."
    ),
    "grad_bias_mean": N_(
        "Your dbias is the mean of dout. The bias is added at every output pixel, so its "
        "gradient is the sum of dout over all output pixels, one value per output channel."
    ),
    "grad_ties_counted_twice": N_(
        "Every tied maximum of a window gets your gradient. A max has one winner: "
        "TensorFlow gives the window's whole gradient to its first largest value (rows top to bottom, each row "
        "left to right) and nothing to the values equal to it."
    ),
    "grad_average_full_window": N_(
        "Your average pooling gradient divides by the full pool size at the 'same' "
        "borders. A border window of Keras' AveragePooling2D averages only the input values inside it, so each "
        "of them gets dout divided by their count."
    ),
    "off_by_one": N_(
        "The output size is off by one. Along each axis there are "
        "floor((size after padding - kernel) / stride) + 1 window positions: the +1 counts the first "
        "one (for 'valid' and stride 1: H - kh + 1 rows, W - kw + 1 columns)."
    ),
}


def hint(key: str) -> str:
    """The message of ``key`` in the current language (:func:`grader_utils.i18n.tr`)."""
    return tr(HINTS[key])


def first_hint(keys: list[str]) -> str | None:
    """The message of the first (most specific) key, or ``None`` when no key matched."""
    return hint(keys[0]) if keys else None
