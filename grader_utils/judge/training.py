"""The graded training run of assignment 03 (``check_training``) and its verdict.

The student's ``build_cifar_model`` and ``compile_model`` train on the synthetic shapes dataset
(:func:`grader_utils.datasets.make_synthetic`: images ``(n, 32, 32, 3)`` uint8 scaled to [0, 1],
integer labels ``(n,)`` in 0..9) for a fixed budget (``TRAINING_*``); the verdict is computed here
from the model's predictions ``(n, 10)``. It runs in the grading process on models rebuilt from
their JSON (:mod:`.model_verdicts`), and in the notebook's checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..datasets import make_synthetic
from ..i18n import tr
from ..quiet import quiet_tensorflow, silenced_stderr
from .compare import CheckResult

#: The graded training run: TRAINING_N_TRAIN synthetic images with shapes at least TRAINING_CONTRAST
#: brighter or darker than their background (a task every model the exercise allows learns in this
#: budget, global pooling included), TRAINING_EPOCHS epochs of batches of TRAINING_BATCH, tested on
#: TRAINING_N_TEST more. It must reach TRAINING_THRESHOLD test accuracy (chance: 10%), with outputs that
#: are probabilities. The bar sits between the two families of benchmarks/bench_training_check.py
#: (spec-following models and broken ones; margins in the README, tests/test_training.py).
TRAINING_THRESHOLD = 0.40
TRAINING_CONTRAST = 0.5
TRAINING_N_TRAIN = 4000
TRAINING_N_TEST = 1000
TRAINING_EPOCHS = 3
TRAINING_BATCH = 32


@dataclass
class TrainingRun:
    """What the graded training run measured (all computed here, from the model's predictions)."""

    accuracy: float  # test accuracy of the argmax of the outputs
    untrained_accuracy: float  # the same before training
    loss_before: float  # mean training loss before training (the compiled loss, on the first batches)
    loss_after: float  # mean training loss of the last epoch (Keras' history)
    probabilities: bool  # every output row is finite, non-negative and sums to 1
    finite: bool  # every output is finite
    trainable_weights: int  # number of trainable weight tensors


def training_run(
    build: Callable[..., Any],
    compile_fn: Callable[[Any], Any],
    seed: int = 0,
    epochs: int = TRAINING_EPOCHS,
    n_train: int = TRAINING_N_TRAIN,
    n_test: int = TRAINING_N_TEST,
    batch_size: int = TRAINING_BATCH,
    contrast: float | None = TRAINING_CONTRAST,
) -> TrainingRun:
    """Build with ``build(input_shape=(32, 32, 3), num_classes=10)``, compile with ``compile_fn``,
    train on the synthetic data for a fixed budget and measure the result."""
    keras = quiet_tensorflow()
    data = make_synthetic(n_train=n_train, n_test=n_test, seed=seed, contrast=contrast)
    x_train = data.x_train.astype(np.float32) / 255.0
    x_test = data.x_test.astype(np.float32) / 255.0
    keras.utils.set_random_seed(seed)
    model = compile_fn(build(input_shape=(32, 32, 3), num_classes=10))
    with silenced_stderr():
        untrained = np.asarray(model.predict(x_test, verbose=0))
        head = slice(0, min(len(x_train), 8 * batch_size))
        loss_before = float(
            model.evaluate(x_train[head], data.y_train[head], batch_size=batch_size, verbose=0, return_dict=True)[
                "loss"
            ]
        )
        history = model.fit(x_train, data.y_train, epochs=epochs, batch_size=batch_size, verbose=0)
        predictions = np.asarray(model.predict(x_test, verbose=0))
    finite = bool(np.all(np.isfinite(predictions)))
    probabilities = (
        finite
        and predictions.ndim == 2
        and bool(np.all(predictions >= -1e-6))
        and bool(np.allclose(predictions.sum(axis=1), 1.0, atol=1e-3))
    )
    return TrainingRun(
        accuracy=float(np.mean(predictions.argmax(axis=1) == data.y_test)),
        untrained_accuracy=float(np.mean(untrained.argmax(axis=1) == data.y_test)),
        loss_before=loss_before,
        loss_after=float(history.history["loss"][-1]),
        probabilities=probabilities,
        finite=finite,
        trainable_weights=len(model.trainable_weights),
    )


def _training_problem(run: TrainingRun) -> str | None:
    """Why ``run`` fails the graded training check, with the likely cause, or None."""
    budget = tr(
        "after {epochs} epochs on {images:,} synthetic images the model reaches {accuracy:.1%} test accuracy "
        "(untrained: {untrained:.1%}; chance: 10%)",
        epochs=TRAINING_EPOCHS,
        images=TRAINING_N_TRAIN,
        accuracy=run.accuracy,
        untrained=run.untrained_accuracy,
    )
    if not run.finite:
        return tr(
            "{budget}, and its outputs are no longer numbers (NaN or infinity): training diverged. The usual cause "
            "is a learning rate far too large (Adam's default, 0.001, works)",
            budget=budget,
        )
    if not run.probabilities:
        return tr(
            "{budget}, and its outputs are not probabilities (they are not all >= 0 with rows that add up to 1): "
            'the last layer needs activation="softmax" for this loss',
            budget=budget,
        )
    if run.accuracy >= TRAINING_THRESHOLD:
        return None
    tolerance = 0.02 * max(abs(run.loss_before), 1e-6)
    change = tr(
        "({before:.3f} before training, {after:.3f} in the last epoch)", before=run.loss_before, after=run.loss_after
    )
    if run.trainable_weights == 0:
        cause = tr("the model has no trainable weights (trainable=False), so training cannot change it")
    elif not np.isfinite(run.loss_after) or run.loss_after > run.loss_before + tolerance:
        cause = tr(
            "the training loss went up {change}: the usual cause is a learning rate far too large "
            "(Adam's default, 0.001, works)",
            change=change,
        )
    elif run.loss_after >= run.loss_before - tolerance:
        cause = tr(
            "the training loss hardly changed {change}: check that the layers are trainable and that the "
            "learning rate is not far too small (Adam's default, 0.001, works)",
            change=change,
        )
    else:
        cause = tr(
            "the training loss went down {change}, but too slowly: check the learning rate (Adam's "
            "default, 0.001, works) and that the model is not too small to learn (a few filters per "
            "Conv2D layer are too few)",
            change=change,
        )
    return tr(
        "{budget}; at least {threshold:.0%} is needed. {cause}",
        budget=budget,
        threshold=TRAINING_THRESHOLD,
        cause=cause,
    )


def training_result(build: Callable[..., Any], compile_fn: Callable[[Any], Any], seed: int = 0) -> CheckResult:
    """Graded training: the student's model and compile settings, trained on the synthetic data
    (see TRAINING_*), must reach TRAINING_THRESHOLD test accuracy with outputs that are probabilities."""
    try:
        run = training_run(build, compile_fn, seed=seed)
    except NotImplementedError:
        raise NotImplementedError(
            tr("build_cifar_model or compile_model is not implemented yet: write both before the graded training run.")
        ) from None
    except Exception as exc:
        first_line = (str(exc).splitlines() or [""])[0][:200]
        return CheckResult(
            False,
            None,
            None,
            tr(
                "check_training: training the model from build_cifar_model, compiled by compile_model, failed "
                "({error}). The exercises above show what to fix; with integer labels the loss must be "
                "sparse_categorical_crossentropy.",
                error=f"{type(exc).__name__}: {first_line}",
            ),
        )
    problem = _training_problem(run)
    if problem:
        return CheckResult(False, TRAINING_THRESHOLD, run.accuracy, f"check_training: {problem}.")
    return CheckResult(
        True,
        TRAINING_THRESHOLD,
        run.accuracy,
        tr(
            "PASSED check_training: {accuracy:.1%} test accuracy on the synthetic data after {epochs} epochs "
            "(needed: {threshold:.0%}, chance: 10%).",
            accuracy=run.accuracy,
            epochs=TRAINING_EPOCHS,
            threshold=TRAINING_THRESHOLD,
        ),
    )
