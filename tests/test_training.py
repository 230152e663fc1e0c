"""The graded training check of 03 (``check_training``) passes every model the exercise allows and fails
every broken answer (issue #12, item 11), judged as the trusted engine judges it: the answer's model and
compile settings cross as JSON, are rebuilt, trained on the synthetic data and judged here.

The families are in ``training_families.py``; each member runs once here, with its own seed (the seed
picks the synthetic data and the initial weights). ``benchmarks/bench_training_check.py`` runs every
member with more seeds and prints the margins recorded in the README.
"""

from __future__ import annotations

import pytest

from grader_utils.judge import models as mc
from grader_utils.judge import training
from model_builders import cifar, compiled
from training_families import BROKEN, GOOD, graded_verdict

pytestmark = [pytest.mark.keras, pytest.mark.slow]

#: good answers run here (the slowest learners of the benchmark, both heads, both poolings, each seed
#: different); the benchmark runs all of them
GOOD_HERE = {"tutorial-gap": 3, "narrow-gap": 4, "two-blocks-gap": 5, "avg-pool-flatten": 6, "narrow-flatten": 7}
#: what the verdict on each broken answer must name (the likely cause, for a stuck student)
BROKEN_CAUSE = {
    "no-softmax": "softmax",
    "one-hot-loss": "sparse_categorical_crossentropy",
    "learning-rate-10": "learning rate far too large",
    "learning-rate-1e-7": "hardly changed",
    "frozen": "no trainable weights",
}


@pytest.mark.parametrize("name", sorted(GOOD_HERE))
def test_every_model_the_exercise_allows_passes(name):
    result = graded_verdict(*GOOD[name], seed=GOOD_HERE[name])
    assert result.passed, result.message
    assert result.got >= training.TRAINING_THRESHOLD + 0.2, result.got  # with room to spare


@pytest.mark.parametrize("name", sorted(BROKEN_CAUSE))
def test_every_broken_answer_fails_and_is_told_why(name):
    result = graded_verdict(*BROKEN[name], seed=10 + sorted(BROKEN_CAUSE).index(name))
    assert not result.passed, result.message
    assert BROKEN_CAUSE[name] in result.message, result.message
    if isinstance(result.got, float) and name != "no-softmax":
        # far below the bar, not near it (without softmax the accuracy may come closer, up to 26% in the
        # benchmark; what fails it is that its outputs are not probabilities, which it never learns)
        assert result.got < training.TRAINING_THRESHOLD - 0.15, result.got


def test_the_families_cover_what_the_issue_lists():
    keras_layers = {name: {type(layer).__name__ for layer in build().layers} for name, (build, _) in GOOD.items()}
    assert any("Flatten" in ls for ls in keras_layers.values())
    for kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "AveragePooling2D", "MaxPooling2D"):
        assert any(kind in ls for ls in keras_layers.values()), kind
    params = [build().count_params() for build, _ in GOOD.values()]
    assert min(params) < 10_000 and max(params) > 200_000  # narrow and wide
    assert all(p <= mc.MAX_CIFAR_PARAMS for p in params)
    for name, (build, _) in GOOD.items():  # every good one is a valid answer to exercise 2
        assert mc.cifar_model_problems(build(), (32, 32, 3), 10) == [], name
    assert {"no-softmax", "one-hot-loss", "learning-rate-10", "learning-rate-1e-7", "frozen"} <= set(BROKEN)


def test_the_notebook_states_the_budget_and_bar_the_check_uses():
    import nbformat

    from conftest import ROOT

    nb = nbformat.read(ROOT / "source" / "03_building_a_cnn" / "building_a_cnn.ipynb", as_version=4)
    (text,) = [c.source for c in nb.cells if c.get("id") == "cell-35"]
    text = " ".join(text.split())
    for stated in (
        f"for {training.TRAINING_EPOCHS} epochs",
        f"in batches of {training.TRAINING_BATCH}",
        f"on {training.TRAINING_N_TRAIN:,} synthetic images",
        f"at least {training.TRAINING_THRESHOLD:.0%} test accuracy",
        f"on {training.TRAINING_N_TEST:,} more",
    ):
        assert stated in text, stated


@pytest.mark.slow
def test_training_run_is_reproducible_and_measures_what_it_reports():
    run = training.training_run(cifar, compiled(), seed=1)
    assert run.accuracy >= training.TRAINING_THRESHOLD + 0.3, run  # a correct CNN clears the bar by a wide margin
    assert run.probabilities and run.finite and run.trainable_weights == 8
    assert run.loss_after < run.loss_before / 2, run  # it learned: the loss fell
    assert run.untrained_accuracy < training.TRAINING_THRESHOLD, run  # and the bar is above what it knew untrained
    assert training.training_run(cifar, compiled(), seed=1) == run  # same seed, same data, same result


def _run(**changes):
    fields = dict(
        accuracy=0.12,
        untrained_accuracy=0.1,
        loss_before=2.30,
        loss_after=2.30,
        probabilities=True,
        finite=True,
        trainable_weights=8,
    )
    return training.TrainingRun(**{**fields, **changes})


def test_training_problem_names_the_likely_cause():
    assert training._training_problem(_run(accuracy=training.TRAINING_THRESHOLD, loss_after=0.9)) is None
    assert "softmax" in training._training_problem(_run(accuracy=0.9, probabilities=False))
    assert "far too large" in training._training_problem(_run(accuracy=0.1, finite=False, probabilities=False))
    assert "trainable=False" in training._training_problem(_run(trainable_weights=0))
    assert "went up" in training._training_problem(_run(loss_after=3.1))
    assert "went up" in training._training_problem(_run(loss_after=float("nan")))
    assert "hardly changed" in training._training_problem(_run(loss_after=2.29))
    assert "too slowly" in training._training_problem(_run(loss_after=1.9))
    assert f"at least {training.TRAINING_THRESHOLD:.0%}" in training._training_problem(_run())
