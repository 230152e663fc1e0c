"""Checks of Keras models that the test cells of assignment 03 call.

Each ``check_*`` function calls the student's function, judges what it returns with
:mod:`grader_utils.judge.models` (expected layers and counts from Keras) or
:mod:`grader_utils.judge.training` (the graded training run), prints a PASSED line or raises
``AssertionError`` naming the problems. Under grading the trusted engine judges instead
(:func:`grader_utils.checks.graded_by_engine`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .checks import graded_by_engine
from .i18n import tr
from .judge.compare import CheckResult
from .judge.models import (
    cifar_model_result,
    compile_result,
    lesson_model_result,
    reference_compile_model,
    second_call_result,
)
from .judge.training import training_result
from .quiet import silenced_stderr

__all__ = ["check_build_lesson_model", "check_build_cifar_model", "check_compile_model", "check_training"]


def _call(func: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
    try:
        with silenced_stderr():
            return func(*args, **kwargs)
    except NotImplementedError:
        raise NotImplementedError(
            tr("{name} is not implemented yet: replace `raise NotImplementedError()` with your code.", name=name)
        ) from None


def _finish(result: CheckResult) -> None:
    result.raise_if_failed()
    print(result.message)


def _skipped(check: str) -> bool:
    if graded_by_engine(check):
        print(tr("{check}: graded by the course's sandboxed grader", check=check))
        return True
    return False


def check_build_lesson_model(build: Callable[[], Any], fresh: bool = False) -> None:
    """Exercise ``build_lesson_model()``: the lesson's model, layer by layer.
    fresh: call it twice; both calls must return the lesson's model."""
    if _skipped("check_build_lesson_model"):
        return
    result = lesson_model_result(_call(build, "build_lesson_model"))
    if fresh and result.passed:
        result = second_call_result(lesson_model_result(_call(build, "build_lesson_model")))
    _finish(result)


def check_build_cifar_model(
    build: Callable[..., Any], input_shape: tuple[int, ...] = (32, 32, 3), num_classes: int = 10
) -> None:
    """Exercise ``build_cifar_model(input_shape, num_classes)``. The parameter limit
    applies to the default CIFAR-10 configuration."""
    if _skipped("check_build_cifar_model"):
        return
    model = _call(build, "build_cifar_model", input_shape=tuple(input_shape), num_classes=num_classes)
    _finish(cifar_model_result(model, tuple(input_shape), num_classes))


def check_compile_model(compile_fn: Callable[[Any], Any], build: Callable[..., Any] | None = None) -> None:
    """Exercise ``compile_model(model)``, on the course's reference CIFAR-style model
    (or on ``build()``'s model when given)."""
    if _skipped("check_compile_model"):
        return
    if build is None:
        model = reference_compile_model()
    else:
        model = _call(build, "build_cifar_model", input_shape=(32, 32, 3), num_classes=10)
    _finish(compile_result(_call(compile_fn, "compile_model", model)))


def check_training(build: Callable[..., Any], compile_fn: Callable[[Any], Any], seed: int = 0) -> None:
    """Graded training: the student's model and compile settings, trained here on the
    synthetic data (see TRAINING_*), must reach TRAINING_THRESHOLD test accuracy."""
    if _skipped("check_training"):
        return
    _finish(training_result(build, compile_fn, seed=seed))
