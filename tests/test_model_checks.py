"""model_checks.py: the model checks a notebook of assignment 03 calls print PASSED or raise with the reason
(the problems they name are tested in test_models.py, the training run in test_training.py)."""

from __future__ import annotations

import pytest

from grader_utils import quiet_tensorflow
from grader_utils.model_checks import check_build_lesson_model
from model_builders import lesson

pytestmark = pytest.mark.keras

keras = quiet_tensorflow()


def test_lesson_check_prints_and_raises(capsys):
    check_build_lesson_model(lesson, fresh=True)
    assert "PASSED build_lesson_model" in capsys.readouterr().out
    calls = []

    def first_call_only():  # right once, then a model without its last layer
        calls.append(1)
        model = lesson()
        return model if len(calls) == 1 else keras.Sequential(model.layers[:-1])

    with pytest.raises(AssertionError, match="second call"):
        check_build_lesson_model(first_call_only, fresh=True)
    with pytest.raises(NotImplementedError, match="build_lesson_model is not implemented yet"):
        check_build_lesson_model(lambda: (_ for _ in ()).throw(NotImplementedError()))
