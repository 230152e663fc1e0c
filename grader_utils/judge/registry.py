"""The course's graded exercises, each declared once.

An :class:`Exercise` says everything the rest of the package needs to know about one check that a
test cell calls: the student's function, the case family of :mod:`.cases`, the verdict, whether the
answer must be NumPy only, whether it is arithmetic (Keras and the grader's modules refused under
grading), which suites are timed, and for the Keras-model exercises how many student functions the
check takes and how its calls are planned across the sandbox. The notebooks' checks
(:mod:`grader_utils.checks`), the trusted engine (:mod:`grader_utils.grading.engine`) and the
instructor's tools read :data:`EXERCISES`; nothing else lists exercises.

Adding an array exercise: its truth (:mod:`.truth`; 04's gradients: :mod:`.grad_truth`), cases
(:mod:`.cases`), verdict (:mod:`.verdicts`; 04: :mod:`.grad_verdicts`), one entry below, and the
notebook. ``grader_utils.checks.check_<name>`` then exists and the engine grades it (docs/adding-an-exercise.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import grad_verdicts, layer_verdicts, model_verdicts, verdicts
from .model_verdicts import Planner
from .verdicts import Verdict

__all__ = ["Exercise", "EXERCISES", "ARRAY_EXERCISES", "MODEL_EXERCISES", "exercise"]


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    check: the function a test cell calls, ``check_<function>``; function: the student's function;
    doc: the check's docstring (what the student's function takes and returns, with array layouts).
    Array exercises: family (the case family in :mod:`.cases`), verdict, numpy_only (the answer may
    use NumPy and Python only), timed (suites whose calls must be as fast as whole-array NumPy,
    :mod:`.timing`). Model exercises: functions (how many student functions the check call names)
    and plan (:mod:`.model_verdicts`). arithmetic: shape or parameter arithmetic, answered by hand.
    """

    check: str
    function: str
    doc: str
    family: str = ""
    verdict: Verdict | None = None
    numpy_only: bool = False
    arithmetic: bool = False
    timed: frozenset[str] = field(default_factory=frozenset)
    functions: int = 0
    plan: Planner | None = None

    @property
    def model(self) -> bool:
        """A Keras-model exercise: its values cross the sandbox as model JSON."""
        return self.plan is not None


_DECLARED = (
    Exercise(
        "check_conv2d_output_shape",
        "conv2d_output_shape",
        "Exercise ``conv2d_output_shape(input_shape, filters, kernel_size, strides, padding)``.",
        "conv2d_output_shape",
        verdicts.verdict_conv2d_output_shape,
        arithmetic=True,
    ),
    Exercise(
        "check_pool2d_output_shape",
        "pool2d_output_shape",
        "Exercise ``pool2d_output_shape(input_shape, pool_size, strides, padding)``.",
        "pool2d_output_shape",
        verdicts.verdict_pool2d_output_shape,
        arithmetic=True,
    ),
    Exercise(
        "check_max_pool2d",
        "max_pool2d",
        "Exercise ``max_pool2d(x, pool_size, strides, padding)``; x: (H, W, C). NumPy only.",
        "pool2d_values",
        verdicts.verdict_max_pool2d,
        numpy_only=True,
    ),
    Exercise(
        "check_average_pool2d",
        "average_pool2d",
        "Exercise ``average_pool2d(x, pool_size, strides, padding)``; x: (H, W, C). NumPy only.",
        "pool2d_values",
        verdicts.verdict_average_pool2d,
        numpy_only=True,
    ),
    Exercise(
        "check_sequential_output_shapes",
        "sequential_output_shapes",
        "Exercise ``sequential_output_shapes(input_shape, layers)``.",
        "sequential",
        verdicts.verdict_sequential_output_shapes,
        arithmetic=True,
    ),
    Exercise(
        "check_sequential_param_counts",
        "sequential_param_counts",
        "Exercise ``sequential_param_counts(input_shape, layers)``.",
        "sequential",
        verdicts.verdict_sequential_param_counts,
        arithmetic=True,
    ),
    Exercise(
        "check_dense_param_count",
        "dense_param_count",
        "Exercise ``dense_param_count(input_shape, units)``.",
        "dense_param_count",
        verdicts.verdict_dense_param_count,
        arithmetic=True,
    ),
    Exercise(
        "check_conv2d_param_count",
        "conv2d_param_count",
        "Exercise ``conv2d_param_count(in_channels, filters, kernel_size)``.",
        "conv2d_param_count",
        verdicts.verdict_conv2d_param_count,
        arithmetic=True,
    ),
    Exercise(
        "check_correlate2d",
        "correlate2d",
        "Exercise ``correlate2d(image, kernel)``; image: (H, W), kernel: (kh, kw). NumPy only.",
        "correlate2d",
        verdicts.verdict_correlate2d,
        numpy_only=True,
    ),
    Exercise(
        "check_conv2d",
        "conv2d",
        "Exercise ``conv2d(x, kernel, bias, strides, padding)``; x: (H, W, C_in), kernel: (kh, kw, C_in, "
        "C_out), bias: (C_out,). NumPy only.",
        "conv2d",
        verdicts.verdict_conv2d,
        numpy_only=True,
    ),
    Exercise(
        "check_conv2d_fast",
        "conv2d_fast",
        "Exercise ``conv2d_fast``: the contract of ``conv2d``, NumPy only, and as fast as whole-array NumPy "
        "code (on the ``large`` suite: at most ``timing.TIME_FACTOR`` times as long, see "
        "``timing.time_limit``).",
        "conv2d",
        verdicts.verdict_conv2d,
        numpy_only=True,
        timed=frozenset({"large"}),
    ),
    Exercise(
        "check_receptive_field",
        "receptive_field",
        "Exercise ``receptive_field(layers)`` -> (height, width) of the input region one output pixel sees.",
        "receptive_field",
        verdicts.verdict_receptive_field,
        arithmetic=True,
    ),
    Exercise(
        "check_conv2d_backward",
        "conv2d_backward",
        "Exercise ``conv2d_backward(dout, x, kernel, strides, padding)`` -> ``(dx, dkernel, dbias)``; "
        "dout: (H_out, W_out, C_out), x: (H, W, C_in), kernel: (kh, kw, C_in, C_out), strides: (sh, sw); "
        "dx like x, dkernel like kernel, dbias: (C_out,). NumPy only.",
        "conv2d_backward",
        grad_verdicts.verdict_conv2d_backward,
        numpy_only=True,
    ),
    Exercise(
        "check_max_pool2d_backward",
        "max_pool2d_backward",
        "Exercise ``max_pool2d_backward(dout, x, pool_size, strides, padding)`` -> dx; dout: (H_out, W_out, C), "
        "x: (H, W, C), dx like x; pool_size an int or a pair, strides None (= pool_size), an int or a pair. "
        "NumPy only.",
        "pool2d_backward",
        grad_verdicts.verdict_max_pool2d_backward,
        numpy_only=True,
    ),
    Exercise(
        "check_average_pool2d_backward",
        "average_pool2d_backward",
        "Exercise ``average_pool2d_backward(dout, x, pool_size, strides, padding)`` -> dx; dout: (H_out, W_out, "
        "C), x: (H, W, C), dx like x; pool_size an int or a pair, strides None (= pool_size), an int or a pair. "
        "NumPy only.",
        "pool2d_backward",
        grad_verdicts.verdict_average_pool2d_backward,
        numpy_only=True,
    ),
    Exercise(
        "check_initial_loss",
        "initial_loss",
        "Exercise ``initial_loss(num_classes)`` -> float: the cross-entropy of a uniform prediction.",
        "initial_loss",
        layer_verdicts.verdict_initial_loss,
        arithmetic=True,
    ),
    Exercise(
        "check_dropout_forward",
        "dropout_forward",
        "Exercise ``dropout_forward(x, rate, keep_mask, training)``; x: any shape, keep_mask: bool like x; returns "
        "like x. NumPy only.",
        "dropout_forward",
        layer_verdicts.verdict_dropout_forward,
        numpy_only=True,
    ),
    Exercise(
        "check_batchnorm_forward",
        "batchnorm_forward",
        "Exercise ``batchnorm_forward(x, gamma, beta, moving_mean, moving_var, momentum, epsilon, training)`` -> "
        "``(out, moving_mean, moving_var)``; x: (N, H, W, C), the others (C,). NumPy only.",
        "batchnorm_forward",
        layer_verdicts.verdict_batchnorm_forward,
        numpy_only=True,
    ),
    Exercise(
        "check_im2col",
        "im2col",
        "Exercise ``im2col(x, kernel_size, strides, padding)``; x: (H, W, C) -> (H_out * W_out, kh * kw * C). "
        "NumPy only.",
        "im2col",
        layer_verdicts.verdict_im2col,
        numpy_only=True,
    ),
    Exercise(
        "check_conv2d_im2col",
        "conv2d_im2col",
        "Exercise ``conv2d_im2col``: the contract of ``conv2d`` (x: (H, W, C_in), kernel: (kh, kw, C_in, C_out), "
        "bias: (C_out,)), as one matrix product. NumPy only.",
        "conv2d",
        verdicts.verdict_conv2d,
        numpy_only=True,
    ),
    Exercise(
        "check_conv2d_macs",
        "conv2d_macs",
        "Exercise ``conv2d_macs(input_shape, filters, kernel_size, strides, padding)`` -> int: multiply-adds of "
        "one Conv2D without bias.",
        "conv2d_macs",
        layer_verdicts.verdict_conv2d_macs,
        arithmetic=True,
    ),
    Exercise(
        "check_build_lesson_model",
        "build_lesson_model",
        "The lesson's model, layer by layer.",
        functions=1,
        plan=model_verdicts.plan_lesson,
    ),
    Exercise(
        "check_build_cifar_model",
        "build_cifar_model",
        "A CIFAR-10-style model within the parameter limit.",
        functions=1,
        plan=model_verdicts.plan_cifar,
    ),
    Exercise(
        "check_compile_model",
        "compile_model",
        "The compile settings (optimizer, loss, metrics).",
        functions=1,
        plan=model_verdicts.plan_compile,
    ),
    Exercise(
        "check_training",
        "build_cifar_model",
        "Graded training of the student's model and settings.",
        functions=2,
        plan=model_verdicts.plan_training,
    ),
)

#: every exercise, by the name of the check a test cell calls
EXERCISES: dict[str, Exercise] = {e.check: e for e in _DECLARED}
#: exercises whose calls return arrays or numbers, judged case by case
ARRAY_EXERCISES: dict[str, Exercise] = {c: e for c, e in EXERCISES.items() if not e.model}
#: exercises whose calls return Keras models (as JSON)
MODEL_EXERCISES: dict[str, Exercise] = {c: e for c, e in EXERCISES.items() if e.model}


def exercise(check: str) -> Exercise:
    """The exercise a test cell's ``check`` call grades (KeyError for an unknown check)."""
    return EXERCISES[check]
