"""cells/resolution.py: a test cell runs in this process, the student's names through the real agent in a process
of their own. Honest work scores as plain nbgrader scores it (issue #22 item 2); forgeries score 0 (item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cells_student import student
from grader_utils.cells import resolution
from grader_utils.cells.resolution import TestNamespace, run_instructor_cell, run_test

INSTRUCTOR = """
import numpy as np
def assert_equal(a, b):
    assert a == b, f"{a!r} != {b!r}"
"""


def grade(tmp_path: Path, code: str, test: str, owned: set[str] | None = None, seconds: float = 20):
    space = TestNamespace(owned or set())
    with student(code, tmp_path, seconds) as session:
        space.session = session
        assert run_instructor_cell(INSTRUCTOR, space) == ""
        outcome = run_test(test, space, points=2)
        space.session = None
    return outcome, space


RELU = """
import numpy as np
def relu(x):
    return np.maximum(x, 0)
def squares(n):
    if n < 1:
        raise ValueError("n must be positive")
    return [i * i for i in range(1, n + 1)]
def sum_of_squares(n):
    return sum(squares(n))
answer = 42
shapes = {"a": (1, 2), "b": {3, 4}, "c": None, "d": "text", "e": 1.5 + 2j, "f": b"x"}
"""


def test_plain_asserts_on_arrays_numbers_and_variables_pass(tmp_path: Path):
    test = """
x = np.array([-1.0, 0.0, 2.0])
assert np.allclose(relu(x), [0, 0, 2])
assert relu(x).dtype == np.float64
assert squares(3) == [1, 4, 9]
assert_equal(sum_of_squares(3), 14)
assert answer == 42
assert shapes == {"a": (1, 2), "b": {3, 4}, "c": None, "d": "text", "e": 1.5 + 2j, "f": b"x"}
"""
    outcome, _ = grade(tmp_path, RELU, test)
    assert (outcome.status, outcome.score) == ("passed", 2.0), outcome.message


def test_a_wrong_answer_fails_with_the_assertion_and_its_line(tmp_path: Path):
    outcome, _ = grade(tmp_path, RELU, "assert squares(2) == [1, 4]\nassert answer == 41, 'answer is not 41'")
    assert (outcome.status, outcome.score) == ("failed", 0.0)
    assert "line 2 of the test: assert answer == 41" in outcome.message
    assert "AssertionError: answer is not 41" in outcome.message


def test_the_students_exception_reaches_the_test_as_the_builtin_type(tmp_path: Path):
    test = """
try:
    squares(0)
except ValueError as e:
    assert str(e) == "n must be positive"
else:
    raise AssertionError("did not raise")
"""
    outcome, _ = grade(tmp_path, RELU, test)
    assert outcome.status == "passed", outcome.message


def test_a_subclass_of_a_builtin_exception_is_caught_as_the_builtin(tmp_path: Path):
    code = "class Bad(ValueError):\n    pass\ndef f():\n    raise Bad('no')\n"
    outcome, _ = grade(tmp_path, code, "try:\n    f()\nexcept ValueError as e:\n    assert 'no' in str(e)\n")
    assert outcome.status == "passed", outcome.message


def test_an_uncaught_student_exception_shows_the_students_traceback(tmp_path: Path):
    outcome, _ = grade(tmp_path, RELU, "squares(-1)")
    assert outcome.status == "failed"
    assert "ValueError: n must be positive" in outcome.message
    assert "in squares" in outcome.message and "your code raised it" in outcome.message


def test_del_and_restore_of_a_student_function_are_mirrored_in_the_kernel(tmp_path: Path):
    test = """
old_squares = squares
del squares
try:
    sum_of_squares(2)
except NameError:
    pass
else:
    raise AssertionError("sum_of_squares does not use squares")
finally:
    squares = old_squares
assert sum_of_squares(2) == 5
"""
    outcome, _ = grade(tmp_path, RELU, test, owned={"squares", "sum_of_squares", "relu"})
    assert outcome.status == "passed", outcome.message
    # a sum_of_squares that does not use squares fails that test
    own = RELU.replace("return sum(squares(n))", "return sum(i * i for i in range(1, n + 1))")
    outcome, _ = grade(tmp_path, own, test, owned={"squares", "sum_of_squares", "relu"})
    assert outcome.status == "failed" and "does not use squares" in outcome.message


def test_reassigning_a_student_variable_is_seen_by_the_students_functions(tmp_path: Path):
    code = "scale = 2\ndef f(x):\n    return x * scale\n"
    outcome, _ = grade(tmp_path, code, "scale = 10\nassert f(3) == 30\nscale = 2\nassert f(3) == 6", owned={"scale"})
    assert outcome.status == "passed", outcome.message


def test_a_last_value_that_is_a_number_is_partial_credit_as_nbgrader_gives_it(tmp_path: Path):
    outcome, _ = grade(tmp_path, RELU, "score = 0\nif answer == 42:\n    score += 0.5\nscore")
    assert (outcome.status, outcome.score) == ("partial", 0.5)
    assert run_test("-1", TestNamespace(), points=2).score == 2.0  # nbgrader: full points
    assert run_test("True", TestNamespace(), points=2).score == 2.0  # not a number: full points
    assert run_test("3", TestNamespace(), points=2).status == "error"  # nbgrader raises


def test_instructor_names_are_the_instructors_even_when_the_student_redefines_them(tmp_path: Path):
    code = "import numpy\nnp = None\ndef assert_equal(a, b):\n    pass\n"
    outcome, _ = grade(tmp_path, code + RELU.replace("import numpy as np", ""), "assert_equal(1, 2)")
    assert outcome.status == "failed"


def test_an_undefined_student_name_is_a_name_error(tmp_path: Path):
    outcome, _ = grade(tmp_path, "x = 1", "relu(1)")
    assert outcome.status == "failed" and "NameError" in outcome.message


def test_a_student_module_is_the_grading_processs_own_copy(tmp_path: Path):
    outcome, space = grade(
        tmp_path, "import math as m\nimport json", "assert m.sqrt(4) == 2\nimport math\nok = m is math"
    )
    assert outcome.status == "passed", outcome.message
    assert space["ok"] is True


def test_a_hidden_test_that_fails_does_not_show_its_line(tmp_path: Path):
    test = "assert answer == 42\n### BEGIN HIDDEN TESTS\nassert answer == 43, 'secret 43'\n### END HIDDEN TESTS\n"
    outcome, _ = grade(tmp_path, RELU, test)
    assert outcome.status == "failed"
    assert "a hidden test failed" in outcome.message and "answer == 43" not in outcome.message


def test_a_student_function_passed_to_another_crosses_as_itself(tmp_path: Path):
    code = "def twice(f, x):\n    return f(f(x))\ndef inc(x):\n    return x + 1\n"
    outcome, _ = grade(tmp_path, code, "assert twice(inc, 1) == 3")
    assert outcome.status == "passed", outcome.message


def test_an_instructor_object_cannot_enter_the_kernel(tmp_path: Path):
    outcome, _ = grade(tmp_path, "def f(g):\n    return g(1)\n", "f(lambda x: x)")
    assert outcome.status == "failed" and "not plain data" in outcome.message


# ------------------------------------------------------------------ forgeries: all score 0

FORGERIES = {
    "list subclass equal to everything": (
        "class L(list):\n    def __eq__(self, o):\n        return True\ndef squares(n):\n    return L()\n",
        "assert squares(3) == [1, 4, 9]",
    ),
    "object with its own __eq__": (
        "class A:\n    def __eq__(self, o):\n        return True\n    __hash__ = None\n"
        "def squares(n):\n    return A()\n",
        "assert squares(3) == [1, 4, 9]",
    ),
    "generator": (
        "def squares(n):\n    return (i * i for i in range(1, n + 1))\n",
        "assert list(squares(3)) == [1, 4, 9]",
    ),
    "lazy proxy": (
        "class P:\n    def __getattr__(self, k):\n        return getattr([1, 4, 9], k)\n"
        "def squares(n):\n    return P()\n",
        "assert squares(3) == [1, 4, 9]",
    ),
    "ndarray subclass": (
        "import numpy as np\nclass M(np.ndarray):\n    def __eq__(self, o):\n        return np.True_\n"
        "def squares(n):\n    return np.zeros(3).view(M)\n",
        "assert (squares(3) == np.array([1, 4, 9])).all()",
    ),
    "object array": (
        "import numpy as np\ndef squares(n):\n    return np.array([1, 4, 9], dtype=object)\n",
        "assert list(squares(3)) == [1, 4, 9]",
    ),
    "variable with own __eq__": (
        "class A:\n    def __eq__(self, o):\n        return True\nanswer = A()\n",
        "assert answer == 42",
    ),
    "refusal swallowed by the test's bare except": (
        "class L(list):\n    def __eq__(self, o):\n        return True\ndef squares(n):\n    return L()\n",
        "try:\n    squares(3)\nexcept:\n    pass\n",
    ),
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_forgeries_score_0(tmp_path: Path, name: str):
    code, test = FORGERIES[name]
    outcome, _ = grade(tmp_path, code, test)
    assert (outcome.status, outcome.score) == ("refused", 0.0), outcome
    assert "not plain data" in outcome.message


def test_patching_builtins_numpy_and_sys_modules_in_the_kernel_changes_nothing_here(tmp_path: Path):
    code = """
import builtins, sys, numpy
builtins.len = lambda x, _len=len: 3 if type(x) is list else _len(x)
builtins.AssertionError = Exception
numpy.allclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
sys.modules["numpy"] = None
def squares(n):
    return [0, 0, 0]
"""
    outcome, _ = grade(tmp_path, code, "assert len(squares(3)) == 3\nassert np.array_equal(squares(3), [1, 4, 9])")
    assert outcome.status == "failed"


def test_patching_the_agent_itself_gives_the_student_no_more_than_a_function_has(tmp_path: Path):
    code = """
from grader_utils.cells import agent
agent.Agent.answer = lambda self, request: {"ok": "value", "value": [1, 4, 9]}
def squares(n):
    return []
"""
    outcome, _ = grade(tmp_path, code, "assert squares(3) == [1, 4, 9]\nassert squares(2) == [1, 4]")
    assert outcome.status in ("failed", "refused"), outcome


def test_a_function_that_never_returns_times_out(tmp_path: Path):
    outcome, _ = grade(tmp_path, "def f():\n    while True:\n        pass\n", "f()", seconds=2)
    assert (outcome.status, outcome.score) == ("timeout", 0.0)


def test_a_timeout_the_test_catches_still_scores_0(tmp_path: Path):
    outcome, _ = grade(
        tmp_path,
        "def f():\n    while True:\n        pass\n",
        "try:\n    f()\nexcept BaseException:\n    pass",
        seconds=2,
    )
    assert outcome.status == "timeout"


def test_a_kernel_that_exits_is_a_crash(tmp_path: Path):
    outcome, _ = grade(tmp_path, "import os\ndef f():\n    os._exit(0)\n", "f()")
    assert (outcome.status, outcome.score) == ("crash", 0.0)


def test_bound_names_and_hidden_lines():
    cell = "import numpy as np\nx, y = 1, 2\ndef f():\n    z = 1\nclass C: pass\n%matplotlib inline"
    assert resolution.bound_names(cell) == {"np", "x", "y", "f", "C"}
    assert resolution.hidden_lines("a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc") == {2, 3, 4}


def test_a_test_cell_that_does_not_compile_is_an_error():
    outcome = run_test("assert (", TestNamespace())
    assert outcome.status == "error"


def test_a_test_without_student_names_runs_without_a_session():
    assert run_test("1 + 1 == 2", TestNamespace()).status == "passed"
    assert run_test("print('hi')\nassert False, 'no'", TestNamespace()).status == "failed"
