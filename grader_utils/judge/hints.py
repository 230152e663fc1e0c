"""Every message the diagnoses of wrong answers can give, by key.

A diagnosis (:mod:`.shape_feedback`, :mod:`.stack_feedback`, :mod:`.value_feedback`, :mod:`.grad_feedback`,
:mod:`.layer_feedback`) returns keys
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
    "dropout_not_scaled": N_(
        "Your kept values are not scaled. Keras' Dropout is inverted dropout: in training it divides every "
        "kept value by the keep probability 1 - rate, so the layer's output has the same expected value as its "
        "input, and inference needs no change."
    ),
    "dropout_scale_multiplied": N_(
        "You multiplied the kept values by the keep probability 1 - rate. Inverted dropout divides by it: "
        "out = x * keep_mask / (1 - rate) in training."
    ),
    "dropout_divided_by_rate": N_(
        "You divided the kept values by rate, the probability of dropping a value. Divide by the probability "
        "of keeping it, 1 - rate."
    ),
    "dropout_mask_inverted": N_(
        "You kept the values where keep_mask is False. keep_mask is True where a value is kept: "
        "out = x * keep_mask / (1 - rate)."
    ),
    "dropout_at_inference": N_(
        "With training=False your dropout still drops and scales values. At inference Keras' Dropout "
        "returns its input unchanged: the scaling in training already keeps the expected value."
    ),
    "dropout_mask_at_inference": N_(
        "With training=False you applied the mask (and multiplied by 1 - rate). At inference Keras' Dropout "
        "returns its input unchanged."
    ),
    "dropout_inference_scaled": N_(
        "With training=False you multiplied by 1 - rate, as the original (not inverted) dropout does. Keras "
        "scales in training instead, so at inference the input comes out unchanged."
    ),
    "bn_unbiased_variance": N_(
        "Your moving variance is updated with the unbiased batch variance (divided by n - 1). Keras' "
        "BatchNormalization uses the variance it normalises with, divided by n = N * H * W: np.var(..., ddof=0)."
    ),
    "bn_stats_over_batch_only": N_(
        "Your statistics are taken over the batch axis alone, one mean per pixel and channel. Batch "
        "normalisation after a convolution is per channel: one mean and one variance per channel, over the "
        "axes (N, H, W), e.g. x.mean(axis=(0, 1, 2))."
    ),
    "bn_momentum_swapped": N_(
        "Your moving statistics give momentum to the batch. Keras keeps momentum of the old value: "
        "moving = moving * momentum + batch * (1 - momentum)."
    ),
    "bn_moving_not_updated": N_(
        "Your moving statistics are returned unchanged in training. Each training step moves them towards "
        "the batch's: moving = moving * momentum + batch * (1 - momentum)."
    ),
    "bn_moving_stats_in_training": N_(
        "In training you normalised with the moving statistics. Training normalises with the batch's own "
        "mean and variance; the moving ones are for inference."
    ),
    "bn_batch_stats_at_inference": N_(
        "With training=False you normalised with the batch's statistics. At inference Keras normalises "
        "with moving_mean and moving_var, so one image's output does not depend on the others in its batch."
    ),
    "bn_moving_updated_at_inference": N_(
        "With training=False your moving statistics change. At inference they are only read: return them unchanged."
    ),
    "im2col_channels_first": N_(
        "Your columns run over the channels first. TensorFlow's extract_patches (and Conv2D's kernel "
        "layout (kh, kw, C_in, C_out)) flatten a window as (kernel row, kernel column, channel): "
        "window.reshape(-1) of a window of shape (kh, kw, C)."
    ),
    "im2col_transposed": N_(
        "Your matrix is transposed: im2col returns one row per output position (H_out * W_out rows) and one "
        "column per value of a window (kh * kw * C columns)."
    ),
    "macs_as_flops": N_(
        "Your count is twice the number of multiply-adds: it is the number of floating-point operations "
        "(a multiply and an add each), what TensorFlow's profiler reports. A multiply-add counts once."
    ),
    "macs_bias_counted": N_(
        "Your count includes the bias additions (one per output value). The exercise counts the "
        "multiply-adds of the convolution only: H_out * W_out * kh * kw * C_in * filters."
    ),
    "macs_no_channels": N_(
        "Your count leaves out the input channels: every output value sums over a window of kh * kw pixels "
        "of all C_in channels."
    ),
    "macs_input_size": N_(
        "Your count uses the input's height and width. Count the output positions: (H_out, W_out) of the "
        "layer's output shape, with its padding and strides."
    ),
    "macs_strides_ignored": N_(
        "Your count is the one at stride 1. With strides the window visits fewer positions: H_out and W_out "
        "come from the layer's output shape with its strides."
    ),
    "loss_log10": N_(
        "You used the base-10 logarithm. Cross-entropy uses the natural logarithm: ln(num_classes), "
        "np.log(num_classes)."
    ),
    "loss_log2": N_("You used the base-2 logarithm. Cross-entropy uses the natural logarithm: np.log(num_classes)."),
    "loss_probability": N_(
        "You returned the probability 1 / num_classes that an untrained model gives each class. The loss is "
        "minus its logarithm: -ln(1 / num_classes) = ln(num_classes)."
    ),
    "loss_negative": N_(
        "Your loss is negative. Cross-entropy is -ln(p) of the true class's probability p, so it is "
        "positive: -ln(1 / num_classes) = ln(num_classes)."
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
