"""Before a class is graded: is the grading environment sound? If not, nobody is graded and no grade changes.

:func:`preflight` checks, once per run, what every submission's grading needs:

1. the machine (:func:`grader_utils.grading.health.environment_problem`): free space in the temporary folder and the
   course directory, a course directory whose virtualenv runs its own grader (not a copy left at an old place),
   the sandbox's programs, and a sandboxed kernel that starts and imports what graded kernels import;
2. the whole grading path on a notebook whose grade is known: the instructor's own solution (``source/``) of each
   assignment graded as a submission (a sandboxed kernel runs it, the engine judges it against Keras) must get full
   marks. A course whose solution does not is not graded either: the message names the test and why.

It runs in a grading process of its own (``python -m grader_utils.instructor.workers --preflight``: TensorFlow and
nbgrader imported as a worker imports them), so a grading process that cannot start is found too. The solution's
grading (seconds to a minute per assignment) is remembered in ``autograded/.preflight/<assignment>.json`` under a
key of everything it depends on (the course's path, the Python and grader in use, the instructor's notebooks, the
course secret); the machine's checks run every time.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from ..grading.health import EnvironmentProblem, environment_problem
from ..grading.layout import CourseLayout
from ..grading.records import Status

__all__ = ["preflight", "solution_problem", "preflight_key"]


def preflight_key(root: Path, assignment: str) -> str:
    """What a passing solution check depends on: the course's path, the interpreter, the grader's files, the
    instructor's and student versions of the assignment and the course secret."""
    import grader_utils

    from ..grading.secret import course_secret

    layout = CourseLayout(root)
    h = hashlib.sha256()
    h.update(str(layout.root).encode() + b"\0" + sys.executable.encode() + b"\0")
    package = Path(grader_utils.__file__).resolve().parent
    h.update(str(package).encode() + b"\0")
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        h.update(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    for nb in [*layout.source_notebooks(assignment), *layout.release_notebooks(assignment)]:
        h.update(nb.name.encode() + b"\0" + nb.read_bytes() + b"\0")
    h.update(hashlib.sha256(course_secret(root)).digest())
    return h.hexdigest()


def solution_problem(root: Path, assignment: str) -> EnvironmentProblem | None:
    """Grade the instructor's solution of ``assignment`` through the sandbox and the engine (as a submission):
    None when every test gets full marks, else the first test that does not, and why."""
    from ..grading.engine import grade_notebook
    from ..grading.secret import course_secret

    layout = CourseLayout(root)
    cache = layout.autograded_dir / ".preflight" / f"{assignment}.json"
    key = preflight_key(root, assignment)
    try:
        if json.loads(cache.read_text()).get("key") == key:
            return None
    except (OSError, ValueError, AttributeError):
        pass
    for source_nb in layout.source_notebooks(assignment):
        results = grade_notebook(
            source_nb,
            source_nb,
            release_nb=layout.release_notebook(assignment, source_nb.stem),
            hide=[layout.root],
            secret=course_secret(root),
            context=f"{assignment}/{source_nb.stem}",
            language=layout.language,
        )
        # a test the grader cannot plan (INVALID) fails every student alike: the course's matter, not the machine's
        short = [r for r in results if r.score < r.max_score and r.status != Status.INVALID]
        if short:
            r = short[0]
            return EnvironmentProblem(
                f"the instructor's solution source/{assignment}/{source_nb.name} does not get full marks through "
                f"the grader ({r.grade_id}: {r.status}, {r.reason.strip()[:300]})",
                "if the reason is the grader's machine (a kernel, a package), reinstall (`make install`); if it is "
                "the solution or its tests, correct source/ and run `make release`; then grade again",
            )
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": key, "time": time.time()}))
    return None


def preflight(root: Path, assignments: list[str]) -> EnvironmentProblem | None:
    """The machine's checks, then each assignment's solution through the whole grading path (see the module)."""
    problem = environment_problem(root)
    if problem is not None:
        return problem
    for assignment in assignments:
        problem = solution_problem(root, assignment)
        if problem is not None:
            return problem
    return None
