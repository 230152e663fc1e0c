"""A no-op stand-in for matplotlib while a NumPy-only notebook is graded.

matplotlib is compiled code too (and loads Pillow), so :func:`.native_lock.lock` installs
:class:`MatplotlibStandIn` for ``matplotlib`` and all its submodules: ``import matplotlib.pyplot as
plt`` and drawing calls still work while grading, but no figure is drawn (nothing is shown to anyone
while grading anyway). Attribute access and calls return further no-op objects; ``plt.subplots``
returns a figure and an object array of axes shaped as matplotlib's (``(nrows, ncols)``, squeezed as
matplotlib squeezes it). This is best effort.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import types
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["MatplotlibStandIn"]


class _NoOp:
    """Stands for any matplotlib object while grading: every attribute and call is another no-op."""

    def __init__(self, name: str = "matplotlib") -> None:
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _NoOp(f"{self._name}.{attr}")

    def __setattr__(self, attr: str, value: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _NoOp(f"{self._name}()")

    def __getitem__(self, key: Any) -> Any:
        return _NoOp(f"{self._name}[]")

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __delitem__(self, key: Any) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __repr__(self) -> str:
        return f"<{self._name}: not drawn while grading>"

    __str__ = __repr__


def _subplots(nrows: int = 1, ncols: int = 1, *, squeeze: bool = True, **kwargs: Any) -> tuple[Any, Any]:
    import numpy as np

    axes = np.empty((int(nrows), int(ncols)), dtype=object)
    for index in np.ndindex(axes.shape):
        axes[index] = _NoOp("matplotlib.axes.Axes")
    if squeeze:
        axes = axes.item() if axes.size == 1 else axes.squeeze()
    return _NoOp("matplotlib.figure.Figure"), axes


class _StubModule(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _NoOp(f"{self.__name__}.{attr}")


class MatplotlibStandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``matplotlib`` and its submodules as no-op modules while grading."""

    PREFIX = "matplotlib"

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == self.PREFIX or fullname.startswith(self.PREFIX + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _StubModule(spec.name, "A no-op stand-in: figures are not drawn while grading.")
        module.__path__ = []
        if spec.name.endswith(".pyplot"):
            module.subplots = _subplots  # type: ignore[attr-defined]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass
