"""grader_utils.gradcheck: the numerical gradient check of notebook 04, on functions whose gradients are known
(fast tier: NumPy only)."""

from __future__ import annotations

import numpy as np
import pytest

from grader_utils.gradcheck import numerical_gradient, relative_error

RNG = np.random.default_rng(4)


def test_gradient_of_a_cubic_sum_is_three_x_squared():
    x = RNG.uniform(0.5, 2, size=(3, 4, 2)) * RNG.choice([-1, 1], size=(3, 4, 2))  # |x| >= 0.5: error eps**2
    grad = numerical_gradient(lambda v: np.sum(v**3), x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    assert relative_error(grad, 3 * x**2) < 1e-8


def test_gradient_of_a_quadratic_form_is_a_plus_a_transposed_times_x():
    a, x = RNG.normal(size=(5, 5)), RNG.normal(size=5)
    grad = numerical_gradient(lambda v: v @ a @ v, x)
    assert relative_error(grad, (a + a.T) @ x) < 1e-8


def test_gradient_of_a_weighted_sum_is_the_weights_for_every_entry():
    """The same sum with upstream weights that the backward passes of notebook 04 use: d/dx sum(w * x) = w,
    including entries whose gradient is 0."""
    w = RNG.normal(size=(2, 3, 4))
    w[0, 1] = 0.0
    grad = numerical_gradient(lambda v: np.sum(w * v), np.ones_like(w))
    np.testing.assert_allclose(grad, w, atol=1e-9)


def test_each_entry_is_perturbed_on_its_own_and_x_is_left_unchanged():
    """f(v) = v[0] * v[1] has gradient (v[1], v[0]): perturbing both at once, or leaving one perturbed, gives
    something else. The caller's array, an int array here, is not changed."""
    x = np.array([3, -2])
    grad = numerical_gradient(lambda v: v[0] * v[1], x)
    np.testing.assert_allclose(grad, [-2.0, 3.0], atol=1e-8)
    assert x.tolist() == [3, -2] and x.dtype.kind == "i"


def test_eps_is_the_step_of_the_central_difference():
    """For f = x**3 the central difference is 3 x**2 + eps**2 exactly: a large eps shows its error."""
    grad = numerical_gradient(lambda v: float(np.sum(v**3)), np.array([1.0]), eps=0.1)
    np.testing.assert_allclose(grad, [3.0 + 0.01], rtol=1e-12)


def test_relative_error_tells_a_right_gradient_from_a_wrong_one():
    right = RNG.normal(size=(4, 4))
    assert relative_error(right, right) == 0.0
    assert relative_error(right, right * (1 + 1e-9)) < 1e-8
    assert relative_error(right, right[::-1, ::-1]) > 0.1  # e.g. a kernel flipped where it should not be
    assert relative_error(right, 2 * right) == pytest.approx(1 / 3)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_relative_error_refuses_arrays_of_different_shapes():
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.zeros((3, 3)), np.zeros((3, 2)))


def test_graded_kernels_do_not_mask_gradcheck():
    """Notebook API that judges nothing: a graded kernel may import it (its first cell does), while the modules
    that judge or draw are masked. The mask's bwrap arguments cover figures.py but not gradcheck.py."""
    from pathlib import Path

    import grader_utils.gradcheck as gradcheck
    from grader_utils.sandbox.kernel import grader_module_masks

    masked = grader_module_masks()
    assert str(Path(gradcheck.__file__).resolve().parent / "figures.py") in masked
    assert str(Path(gradcheck.__file__).resolve()) not in masked
