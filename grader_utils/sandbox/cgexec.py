"""``python -I cgexec.py PROCS_FILE... -- COMMAND...``: join cgroups, then exec COMMAND.

Put in front of ``bwrap`` when the sandbox is started by a launcher that takes a command list
and no ``preexec_fn`` (Jupyter's kernel provisioner): the process writes its own pid into each
``cgroup.procs`` file given (see :mod:`isolation`) and replaces itself with the command, so
bubblewrap and everything the student's code starts are inside the sandbox's cgroup before any
of it runs. Imports nothing of the package (it runs by path, with ``-I``). Exits 125 when a
group cannot be joined: a sandbox without its limits is not started.
"""

import os
import sys


def main(argv: list[str]) -> None:
    if "--" not in argv:
        sys.exit("usage: cgexec.py PROCS_FILE... -- COMMAND...")
    split = argv.index("--")
    files, command = argv[:split], argv[split + 1 :]
    if not command:
        sys.exit("cgexec.py: no command")
    pid = str(os.getpid())
    for path in files:
        try:
            with open(path, "w") as f:
                f.write(pid)
        except OSError as exc:
            print(f"cgexec.py: cannot join {path}: {exc}", file=sys.stderr)
            sys.exit(125)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
