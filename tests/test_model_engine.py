"""Assignment 03 through the trusted engine: models come back as Keras JSON and are judged here.

Real sandbox, real Keras in both processes. Each submission is the release notebook of 03
with some answers; the demo class's expected scores are the reference for honest work.
"""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from grader_utils.grading import engine, records
from grader_utils.instructor.demo import build_submission, read_answers

pytestmark = [pytest.mark.sandbox, pytest.mark.keras, pytest.mark.slow]

A = "03_building_a_cnn"
NB = "building_a_cnn.ipynb"
ALICE = read_answers(ROOT / "demo" / A / "alice.py")
NOT_TRAINING = {
    "build_lesson_model__layers",
    "build_lesson_model__fresh",
    "build_cifar_model__default",
    "build_cifar_model__other_shapes",
    "compile_model__basic",
    "compile_model__with_your_model",
}


def grade(tmp_path, answers: dict[str, str], only=NOT_TRAINING) -> dict[str, records.TestResult]:
    path = tmp_path / NB
    build_submission(ROOT / "release" / A / NB, answers, path)
    results = engine.grade_notebook(
        path, ROOT / "source" / A / NB, release_nb=ROOT / "release" / A / NB, hide=[ROOT], only=only
    )
    return {r.grade_id: r for r in results}


def test_honest_models_pass_and_lying_objects_do_not(tmp_path):
    expected = json.loads((ROOT / "demo" / "expected_scores.json").read_text())[A]["alice"]
    got = grade(tmp_path, ALICE)
    assert {k: r.score for k, r in got.items()} == {k: expected[k] for k in NOT_TRAINING}


def test_a_model_that_lies_about_its_size_is_judged_by_its_architecture(tmp_path):
    big = ALICE["build_cifar_model"].replace("layers.Conv2D(64, 3,", "layers.Conv2D(512, 3,")
    assert big != ALICE["build_cifar_model"]
    lying = big.replace(
        "def build_cifar_model(input_shape=(32, 32, 3), num_classes=10):",
        "def build_cifar_model(input_shape=(32, 32, 3), num_classes=10):\n"
        "    model = _build(input_shape, num_classes)\n"
        "    model.count_params = lambda: 1000\n"
        "    return model\n\n\ndef _build(input_shape=(32, 32, 3), num_classes=10):",
    )
    assert "count_params = lambda" in lying
    got = grade(tmp_path, {**ALICE, "build_cifar_model": lying}, only={"build_cifar_model__default"})
    result = got["build_cifar_model__default"]
    assert result.status == "wrong" and "more than the limit" in result.reason, result


def test_a_lambda_layer_is_not_rebuilt(tmp_path):
    code = ALICE["build_lesson_model"].replace(
        "model.add(layers.Flatten())", "model.add(layers.Lambda(lambda t: t))\n    model.add(layers.Flatten())"
    )
    assert "Lambda" in code
    got = grade(tmp_path, {**ALICE, "build_lesson_model": code}, only={"build_lesson_model__layers"})
    result = got["build_lesson_model__layers"]
    assert result.status == "wrong" and "could not rebuild" in result.reason, result


def test_swallowing_errors_in_the_kernel_earns_nothing(tmp_path):
    cheat = (
        "get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: None)\n"
        "def build_lesson_model():\n    raise NotImplementedError()"
    )
    got = grade(tmp_path, {**ALICE, "build_lesson_model": cheat}, only={"build_lesson_model__layers"})
    assert got["build_lesson_model__layers"].score == 0.0


def test_compile_model_that_returns_nothing_is_explained(tmp_path):
    code = ALICE["compile_model"].replace("return model", "return None")
    assert code != ALICE["compile_model"]
    got = grade(tmp_path, {**ALICE, "compile_model": code}, only={"compile_model__basic"})
    result = got["compile_model__basic"]
    assert result.status == "wrong" and "should return the compiled model" in result.reason, result


def test_a_nested_layer_and_a_huge_metric_are_refused_before_the_grading_process_builds_them(tmp_path):
    """Issue #23 item 1, through the real sandbox: a Dense of 3,000,000 units in the last layer's activation
    slot (30 M weights, past the 20 M limit, which counted the list of layers only) and compile settings with an
    8,000-class MeanIoU (a 64 M-value confusion matrix) are refused from their configurations."""
    nested = ALICE["build_cifar_model"].replace(
        'layers.Dense(num_classes, activation="softmax")',
        "layers.Dense(num_classes, activation=layers.Dense(3_000_000))",
    )
    metric = ALICE["compile_model"].replace('metrics=["accuracy"]', 'metrics=["accuracy", keras.metrics.MeanIoU(8000)]')
    assert nested != ALICE["build_cifar_model"] and metric != ALICE["compile_model"]
    got = grade(
        tmp_path,
        {**ALICE, "build_cifar_model": nested, "compile_model": metric},
        only={"build_cifar_model__default", "compile_model__basic"},
    )
    model, compiled = got["build_cifar_model__default"], got["compile_model__basic"]
    assert model.score == 0 and "Dense layer is nested in activation" in model.reason, model
    assert compiled.score == 0 and "MeanIoU" in compiled.reason and "64,000,000" in compiled.reason, compiled
