"""FID and KID against independent NumPy computations."""
import numpy as np
import pytest

from mm_cyclegan.evaluation import (
    feature_statistics,
    fid_from_features,
    frechet_distance,
    kernel_inception_distance,
)


def _features(seed, n, d, shift=0.0, rank=None):
    rng = np.random.default_rng(seed)
    if rank is None:
        return rng.normal(size=(n, d)) * rng.uniform(0.5, 2, d) + shift
    basis = rng.normal(size=(rank, d))
    return rng.normal(size=(n, rank)) @ basis + shift


def _fid_by_eigenvalues(x, y):
    """FID with tr sqrt(S1 S2) = sum sqrt(eigenvalues of S1 S2)."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    eig = np.linalg.eigvals(s1 @ s2).real
    return float(((mu1 - mu2)**2).sum() + np.trace(s1) + np.trace(s2) -
                 2 * np.sqrt(np.clip(eig, 0, None)).sum())


@pytest.mark.parametrize('n1,n2,d,rank', [
    (200, 150, 16, None),    # full rank: the sqrtm path
    (12, 9, 40, None),       # fewer samples than dimensions
    (30, 30, 24, 5),         # features on a 5-d subspace
])
def test_fid_matches_eigenvalue_formula(n1, n2, d, rank):
    x = _features(0, n1, d, rank=rank)
    y = _features(1, n2, d, shift=0.7, rank=rank)
    expected = _fid_by_eigenvalues(x, y)
    assert fid_from_features(x, y) == pytest.approx(expected, rel=1e-6,
                                                    abs=1e-6)
    stats = feature_statistics(x) + feature_statistics(y)
    assert frechet_distance(*stats) == pytest.approx(expected, rel=1e-5,
                                                     abs=1e-5)


def test_fid_matches_mmagic_on_rank_deficient_features():
    # Imported here: MMagic's metrics import only after mm_cyclegan's
    # compat patches (mmcv-lite has no compiled ops).
    from mmagic.evaluation.metrics.fid import FrechetInceptionDistance
    x = _features(2, 20, 64)
    y = _features(3, 25, 64, shift=0.3)
    mu1, s1 = feature_statistics(x)
    mu2, s2 = feature_statistics(y)
    reference = FrechetInceptionDistance._calc_fid(mu1, s1, mu2, s2)[0]
    assert fid_from_features(x, y) == pytest.approx(reference, abs=1e-3)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference,
                                                               abs=1e-3)


def test_singular_product_uses_the_eps_offset():
    # Both covariances zero on one axis: sqrtm of the product is still
    # finite here, so build the non-finite case directly with NaN-free
    # singular matrices whose sqrtm fails: a nilpotent-like product.
    s1 = np.array([[1.0, 0.0], [0.0, 0.0]])
    s2 = np.array([[0.0, 0.0], [0.0, 1.0]])
    value = frechet_distance(np.zeros(2), s1, np.zeros(2), s2)
    assert value == pytest.approx(2.0, abs=1e-2)


def test_fid_of_identical_sets_is_zero_and_shift_adds_squared_norm():
    x = _features(4, 50, 10)
    assert abs(fid_from_features(x, x)) < 1e-8
    shift = np.arange(10) * 0.1
    assert fid_from_features(x, x + shift) == pytest.approx(
        (shift**2).sum(), abs=1e-8)


def _kid_by_loops(x, y):
    """Unbiased MMD^2, cubic kernel, written pair by pair."""
    m, d = x.shape

    def k(a, b):
        return (float(a @ b) / d + 1.0)**3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return (xx + yy) / (m * (m - 1)) - 2 * xy / m**2


def test_kid_matches_pairwise_loops_and_reports_subset_size():
    x = _features(5, 15, 8)
    y = _features(6, 15, 8, shift=0.5)
    kid = kernel_inception_distance(x, y, num_subsets=3)
    # One subset covers every sample (m = 15 < 1000): all subsets agree.
    assert kid['subset_size'] == 15
    assert kid['mean'] == pytest.approx(_kid_by_loops(x, y), rel=1e-9)
    assert kid['std'] == pytest.approx(0.0, abs=1e-9)


def test_kid_subsets_are_drawn_without_replacement_and_seeded():
    x = _features(7, 40, 8)
    y = _features(8, 30, 8, shift=0.2)
    a = kernel_inception_distance(x, y, num_subsets=20, subset_size=10)
    b = kernel_inception_distance(x, y, num_subsets=20, subset_size=10)
    assert a == b and a['subset_size'] == 10 and a['std'] > 0
    rng = np.random.default_rng(2020)
    manual = []
    for _ in range(20):
        xi = x[rng.choice(40, 10, replace=False)]
        yi = y[rng.choice(30, 10, replace=False)]
        manual.append(_kid_by_loops(xi, yi))
    assert a['mean'] == pytest.approx(np.mean(manual), rel=1e-9)
    assert a['std'] == pytest.approx(np.std(manual), rel=1e-9)


def test_kid_separates_different_sets():
    # Two halves of one sample: same distribution.
    x, y = np.split(_features(9, 120, 8), 2)
    same = kernel_inception_distance(x, y)
    shifted = kernel_inception_distance(x, y + 1.0)
    assert abs(same['mean']) < shifted['mean'] / 10


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match='at least 2'):
        fid_from_features(np.zeros((1, 4)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match='dimensions differ'):
        fid_from_features(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match='shape'):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_kid_subset_arguments_are_checked_by_name():
    from mm_cyclegan.evaluation.fid_kid import kernel_inception_distance
    features = np.zeros((4, 3))
    with pytest.raises(ValueError, match='subset_size must be >= 2, got 1'):
        kernel_inception_distance(features, features, subset_size=1)
    with pytest.raises(TypeError, match='num_subsets must be an int'):
        kernel_inception_distance(features, features, num_subsets=2.5)
