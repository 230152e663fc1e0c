"""The IPython kernel of NumPy-only notebooks while they are graded: locked before any cell runs.

Started by :class:`grader_utils.sandbox.kernel.SandboxedKernelManager` in place of ``ipykernel_launcher``
(``python -m grader_utils.sandbox.locked_kernel -f <connection file>``), inside the sandbox. The kernel
starts as usual, runs one empty cell (so that what IPython loads on its first execution is
loaded), and then :func:`native_lock.lock` refuses any native code not yet loaded: NumPy's and
the standard library's are, everything else (TensorFlow, SciPy, Pillow, a compiled file shipped
in the notebook, another program) cannot run. If the lock cannot be made the kernel exits
before any student code runs, and the grading process records the tests as crashed (0 points).
"""

from __future__ import annotations

import sys


def main() -> None:
    from ipykernel.kernelapp import IPKernelApp

    from .native_lock import lock

    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    app.shell.run_cell("pass", store_history=False, silent=True)  # type: ignore[union-attr]  # (initialized)
    lock()
    app.start()


if __name__ == "__main__":
    main()
