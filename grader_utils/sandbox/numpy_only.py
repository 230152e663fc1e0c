"""Run a student's function and find out whether TensorFlow & co. did the work.

NumPy-only exercises must not hand the work to a library that already does it.
Looking at the student's imports would be easy to dodge (``__import__``,
``importlib``, ``sys.modules[...]``, a reference captured in an earlier cell),
so this module looks at what *ran* instead: while the student's function runs,
a profile hook (``sys.setprofile``, also set for new threads) sees every Python
function called and every C function called, and records any whose code lives
in one of the forbidden packages, however it was reached.

The packages are found on disk with ``importlib.util.find_spec``, which does
not import them.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..i18n import tr

__all__ = ["FORBIDDEN", "NumpyOnlyReport", "call_arithmetic", "call_numpy_only"]

#: Libraries that already compute convolutions or pooling (or run such code).
FORBIDDEN: tuple[str, ...] = (
    "tensorflow",
    "keras",
    "tf_keras",
    "tensorflow_probability",
    "torch",
    "torchvision",
    "jax",
    "jaxlib",
    "flax",
    "scipy",
    "cv2",
    "skimage",
    "sklearn",
    "PIL",
    "cupy",
    "mxnet",
    "paddle",
    "theano",
    "numba",
    "astropy",
)


def _package_dirs() -> dict[str, str]:
    """{directory (with trailing separator): package name} of the installed forbidden packages."""
    dirs: dict[str, str] = {}
    for name in FORBIDDEN:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        locations = list(spec.submodule_search_locations or [])
        if not locations and spec.origin:
            locations = (
                [os.path.dirname(spec.origin)]
                if os.path.basename(spec.origin).startswith("__init__")
                else [spec.origin]
            )
        for loc in locations:
            dirs[os.path.realpath(loc).rstrip(os.sep) + os.sep] = name
            dirs[os.path.abspath(loc).rstrip(os.sep) + os.sep] = name
    # the course's own ground truth runs Keras (and remembers its answers): calling it is Keras doing the work
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    for module in (
        "judge/truth.py",
        "judge/hints.py",
        "judge/shape_feedback.py",
        "judge/stack_feedback.py",
        "judge/value_feedback.py",
        "figures.py",
    ):
        dirs[os.path.join(package, *module.split("/"))] = "grader_utils (Keras ground truth)"
    return dirs


_DIRS: dict[str, str] | None = None
_ARITHMETIC_DIRS: dict[str, str] | None = None

#: the grader's modules a graded kernel cannot import (``kernel.MASKED_GRADER_MODULES``: the same list,
#: kept here so that the notebook's checks need not import the kernel's machinery; test_numpy_only checks it)
GRADER_MODULES: tuple[str, ...] = (
    "judge",
    "grading",
    "instructor",
    "checks",
    "model_checks",
    "figures",
    "truth",
    "exporters",
)


def _arithmetic_dirs() -> dict[str, str]:
    """The forbidden packages' directories plus every grader module masked under grading (an arithmetic
    answer may use neither Keras nor the grader's own functions)."""
    dirs = dict(_package_dirs())
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    for name in GRADER_MODULES:
        dirs[os.path.join(package, name) + os.sep] = f"grader_utils.{name}"
        dirs[os.path.join(package, name + ".py")] = f"grader_utils.{name}"
    return dirs


@dataclass
class NumpyOnlyReport:
    """What a call used besides NumPy. ``used``: {package: first function seen}."""

    used: dict[str, str] = field(default_factory=dict)
    tampered: bool = False
    calls: int = 0  # Python and C function calls made during the call (a loop over pixels makes many)

    @property
    def clean(self) -> bool:
        return not self.used and not self.tampered

    def message(self, name: str) -> str:
        if self.tampered:
            return tr(
                "{name} switched off the course's NumPy-only check (sys.setprofile). This exercise must "
                "be solved with NumPy, and the check must stay on; it scores 0 as submitted.",
                name=name,
            )
        pkgs = ", ".join(tr("{package} (e.g. {function})", package=p, function=f) for p, f in sorted(self.used.items()))
        return tr(
            "{name} must use NumPy only, but it ran code from {packages}. This exercise is about writing the "
            "computation yourself with NumPy arrays and loops; it scores 0 while another library does "
            "the work.",
            name=name,
            packages=pkgs,
        )


def _module_of(func: Any) -> str:
    module = getattr(func, "__module__", None)
    if not module:
        owner = getattr(func, "__self__", None)
        module = type(owner).__module__ if owner is not None else ""
    return module or ""


def call_numpy_only(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, NumpyOnlyReport]:
    """Call ``func(*args, **kwargs)`` and report every forbidden package that ran code.

    Exceptions from ``func`` propagate (the report is then attached as
    ``exc.numpy_only_report``)."""
    global _DIRS
    if _DIRS is None:
        _DIRS = _package_dirs()
    return _watched(_DIRS, func, args, kwargs)


def call_arithmetic(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, NumpyOnlyReport]:
    """Like :func:`call_numpy_only`, for an arithmetic exercise: also reports the grader's own modules
    (:data:`GRADER_MODULES`, masked under grading) when they ran code during the call."""
    global _ARITHMETIC_DIRS
    if _ARITHMETIC_DIRS is None:
        _ARITHMETIC_DIRS = _arithmetic_dirs()
    return _watched(_ARITHMETIC_DIRS, func, args, kwargs)


def _watched(
    dirs: dict[str, str], func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, NumpyOnlyReport]:
    """Call ``func`` under the profile hook; ``dirs``: {directory or file prefix: what it is}."""
    prefixes = tuple(dirs)
    report = NumpyOnlyReport()
    forbidden = set(FORBIDDEN)

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "call" or event == "c_call":
            report.calls += 1
        if event == "call":
            if frame.f_code.co_name == "__del__":  # a finalizer of an object from an earlier cell
                return
            filename = frame.f_code.co_filename
            if filename.startswith(prefixes):
                for prefix, package in dirs.items():
                    if filename.startswith(prefix):
                        report.used.setdefault(package, f"{frame.f_code.co_name} in {os.path.basename(filename)}")
                        break
        elif event == "c_call":
            top = _module_of(arg).split(".")[0]
            if top in forbidden:
                report.used.setdefault(top, getattr(arg, "__qualname__", repr(arg)))

    # Pause the cycle collector during the call, so that finalizers of objects from
    # earlier cells (TensorFlow variables...) never run inside the student's function
    # and count against it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    previous = sys.getprofile()
    previous_threading = getattr(threading, "_profile_hook", None)
    threading.setprofile(hook)
    sys.setprofile(hook)
    try:
        result = func(*args, **kwargs)
    except BaseException as exc:
        try:
            exc.numpy_only_report = report  # type: ignore[attr-defined]
        except Exception:
            pass
        raise
    finally:
        report.tampered = sys.getprofile() is not hook
        sys.setprofile(previous)
        threading.setprofile(previous_threading)
        if gc_was_enabled:
            gc.enable()
    return result, report
