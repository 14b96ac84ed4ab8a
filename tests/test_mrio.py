"""Tests for intercity.mrio: hand example, identities, dense vs structured, validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from intercity.mrio import (
    BALANCE_TOL,
    DenseMRIO,
    MRIOError,
    MRIOWarning,
    StructuredMRIO,
    dense_from_arrays,
    gross_output,
    induced_output,
    leontief_lu,
    national_system,
    remove_imports_proportional,
    solve_structured,
    spectral_radius,
    to_dense,
    validate,
)
from intercity.sectors import N_SECTORS, SECTOR_CODES

# ---------------------------------------------------------------------------
# helpers


def random_structured(n: int, S: int, seed: int, max_colsum: float = 0.9, self_bias: float = 2.0) -> StructuredMRIO:
    """A random valid structured system with a_nat column sums in (0, max_colsum]."""
    rng = np.random.default_rng(seed)
    a = rng.random((S, S)) * rng.random((S, S)) > 0.2  # some exact zeros
    a = a * rng.random((S, S))
    colsum = a.sum(axis=0)
    target = rng.uniform(0.1, 1.0, S) * max_colsum
    a = np.divide(a * target, colsum, out=np.zeros_like(a), where=colsum > 0)
    w = rng.random((S, n, n)) + self_bias * np.eye(n)[None]
    shares = w / w.sum(axis=1, keepdims=True)
    f = rng.lognormal(3.0, 1.0, (n, S)) * (rng.random((n, S)) > 0.1)
    cities = tuple(str(110000 + 100 * k) for k in range(n))
    return StructuredMRIO(cities, SECTOR_CODES[:S], a, shares, f)


def implied_dense_A(m: StructuredMRIO) -> np.ndarray:
    """A[(i,s),(j,r)] = t[s,i,j] a[s,r], built naively (test oracle)."""
    n, S = m.n_cities, m.n_sectors
    A = np.zeros((n * S, n * S))
    for i in range(n):
        for s in range(S):
            for j in range(n):
                for r in range(S):
                    A[i * S + s, j * S + r] = m.shares[s, i, j] * m.a_nat[s, r]
    return A


def implied_dense_F(m: StructuredMRIO) -> np.ndarray:
    n, S = m.n_cities, m.n_sectors
    F = np.zeros((n * S, n))
    for i in range(n):
        for s in range(S):
            for j in range(n):
                F[i * S + s, j] = m.shares[s, i, j] * m.final_demand[j, s]
    return F


# ---------------------------------------------------------------------------
# 1. hand-computed 2 cities x 2 sectors
#
# Cities A = "110000", B = "120000"; sectors 1 = "01", 2 = "02".
#   a_nat = [[0, 1/2], [1/2, 0]]       (column sums 1/2)
#   shares: product 1 is supplied entirely by A:   t[0] = [[1, 1], [0, 0]]
#           product 2 is supplied locally:         t[1] = [[1, 0], [0, 1]]
#   f = [[3, 6],    city A demands 3 of product 1 and 6 of product 2
#        [2, 2]]    city B demands 2 and 2
# Stacked order (A,1), (A,2), (B,1), (B,2):
#   A = [[0,   1/2, 0,   1/2],     F = [[3, 2],
#        [1/2, 0,   0,   0  ],          [6, 0],
#        [0,   0,   0,   0  ],          [0, 0],
#        [0,   0,   1/2, 0  ]]          [0, 2]]
# Column A of X (demand of city A): X_B1 = 0, X_B2 = 0 + X_B1/2 = 0,
#   X_A1 = 3 + X_A2/2 + X_B2/2, X_A2 = 6 + X_A1/2
#   -> X_A1 = 3 + 3 + X_A1/4 -> X_A1 = 8, X_A2 = 10.
# Column B: X_B1 = 0, X_B2 = 2, X_A2 = X_A1/2, X_A1 = 2 + X_A1/4 + 1 -> X_A1 = 4, X_A2 = 2.
# ((I - A)^-1 restricted to (A,1),(A,2) is (4/3) [[1, 1/2], [1/2, 1]].)
# National: (I - a)^-1 = (4/3) [[1, 1/2], [1/2, 1]], f_nat = [5, 8] -> x_nat = [12, 14].

HAND_CITIES = ("110000", "120000")
HAND_SECTORS = ("01", "02")
HAND_A = np.array([[0.0, 0.5], [0.5, 0.0]])
HAND_T = np.array([[[1.0, 1.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])
HAND_F = np.array([[3.0, 6.0], [2.0, 2.0]])
# X[i, s, j]
HAND_X = np.array(
    [
        [[8.0, 4.0], [10.0, 2.0]],  # city A: sector 1 (dem. A, dem. B), sector 2
        [[0.0, 0.0], [0.0, 2.0]],  # city B
    ]
)


def hand_structured() -> StructuredMRIO:
    return StructuredMRIO(HAND_CITIES, HAND_SECTORS, HAND_A, HAND_T, HAND_F)


def hand_dense() -> DenseMRIO:
    # gross output x = X summed over demand cities = [12, 12, 0, 2];
    # Z[k, l] = A[k, l] x[l] (column (B,1) has x = 0, so Z's column is 0 there)
    Z = np.array(
        [
            [0.0, 6.0, 0.0, 1.0],
            [6.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    F = np.array([[3.0, 2.0], [6.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    return dense_from_arrays(HAND_CITIES, HAND_SECTORS, Z, F)  # x = Z 1 + F 1


def test_hand_example_structured():
    X, iterations = solve_structured(hand_structured())
    np.testing.assert_allclose(X, HAND_X, rtol=1e-12, atol=1e-12)
    assert 0 < iterations < 200
    np.testing.assert_allclose(induced_output(hand_structured()), HAND_X, rtol=1e-12, atol=1e-12)


def test_hand_example_dense():
    d = hand_dense()
    np.testing.assert_array_equal(d.x, [12.0, 12.0, 0.0, 2.0])
    np.testing.assert_allclose(induced_output(d), HAND_X, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(gross_output(d), [[12.0, 12.0], [0.0, 2.0]])


def test_hand_example_to_dense():
    d = to_dense(hand_structured())
    np.testing.assert_allclose(d.x, [12.0, 12.0, 0.0, 2.0], rtol=1e-12)
    np.testing.assert_allclose(d.Z, hand_dense().Z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d.F, hand_dense().F)
    # the A of the dense form is 0 in the zero-output column (B,1), 1/2 in the structured form
    np.testing.assert_array_equal(d.A[:, 2], 0.0)
    np.testing.assert_allclose(induced_output(d), HAND_X, rtol=1e-12, atol=1e-12)


def test_hand_example_national():
    nat = national_system(hand_structured())
    np.testing.assert_array_equal(nat.f, [5.0, 8.0])
    np.testing.assert_allclose(nat.x, [12.0, 14.0], rtol=1e-14)
    np.testing.assert_allclose(HAND_X.sum(axis=(0, 2)), nat.x)


def test_one_city_one_sector():
    # x = f / (1 - a) = 2 / 0.5 = 4
    m = StructuredMRIO(["110000"], ["01"], [[0.5]], [[[1.0]]], [[2.0]])
    np.testing.assert_allclose(induced_output(m), [[[4.0]]], rtol=1e-12)
    np.testing.assert_allclose(induced_output(to_dense(m)), [[[4.0]]], rtol=1e-12)


def test_zero_final_demand_gives_zero_without_iterating():
    m = random_structured(3, 2, seed=1)
    m = StructuredMRIO(m.cities, m.sectors, m.a_nat, m.shares, np.zeros((3, 2)))
    X, k = solve_structured(m)
    assert k == 0
    np.testing.assert_array_equal(X, 0.0)


# ---------------------------------------------------------------------------
# 2-3. identities and agreement of the two forms


def test_structured_matches_naive_dense_oracle_and_identity():
    m = random_structured(4, 3, seed=7)
    A, F = implied_dense_A(m), implied_dense_F(m)
    X = induced_output(m)
    Xs = X.reshape(12, 4)
    # (I - A) X = F
    np.testing.assert_allclose((np.eye(12) - A) @ Xs, F, rtol=0, atol=1e-10 * np.abs(F).max())
    np.testing.assert_allclose(Xs, np.linalg.solve(np.eye(12) - A, F), rtol=1e-10)
    d = to_dense(m)
    np.testing.assert_allclose(d.A, A, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(d.F, F)


def test_dense_identity_and_gross_output():
    rng = np.random.default_rng(3)
    n, S = 5, 4
    Z = rng.lognormal(0, 1, (n * S, n * S)) * (rng.random((n * S, n * S)) > 0.3)
    F = rng.lognormal(2, 1, (n * S, n))
    d = dense_from_arrays([str(k) for k in range(n)], SECTOR_CODES[:S], Z, F)  # x = Z1 + F1
    validate(d)
    X = induced_output(d)
    # (I - A) X = F
    lhs = (np.eye(n * S) - d.A) @ X.reshape(n * S, n)
    np.testing.assert_allclose(lhs, F, rtol=1e-10, atol=1e-10)
    # F holds all final demand: induced output summed over demand cities is gross output
    np.testing.assert_allclose(X.sum(axis=2), gross_output(d), rtol=1e-10)


def test_dense_and_structured_agree_n8_s5():
    m = random_structured(8, 5, seed=11)
    X_struct = induced_output(m)
    X_dense = induced_output(to_dense(m))
    assert np.max(np.abs(X_dense - X_struct)) <= 1e-9 * np.max(np.abs(X_struct))
    # elementwise too, where not tiny
    big = X_struct > 1e-6 * X_struct.max()
    np.testing.assert_allclose(X_dense[big], X_struct[big], rtol=1e-9)


def test_structured_sums_to_national_system_per_demand_city():
    m = random_structured(6, 4, seed=5)
    X = induced_output(m)
    nat = national_system(m)
    L = np.linalg.inv(np.eye(4) - m.a_nat)
    for j in range(6):
        np.testing.assert_allclose(X[:, :, j].sum(axis=0), L @ m.final_demand[j], rtol=1e-10)
    np.testing.assert_allclose(X.sum(axis=(0, 2)), nat.x, rtol=1e-10)
    np.testing.assert_allclose(gross_output(m).sum(axis=0), nat.x, rtol=1e-10)


def test_dense_national_system_of_to_dense_is_exact():
    m = random_structured(4, 3, seed=9)
    nat_s, nat_d = national_system(m), national_system(to_dense(m))
    np.testing.assert_allclose(nat_d.a, nat_s.a, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(nat_d.x, nat_s.x, rtol=1e-10)


def test_iterations_scale_with_column_sums():
    _, k_low = solve_structured(random_structured(5, 4, seed=2, max_colsum=0.3))
    _, k_high = solve_structured(random_structured(5, 4, seed=2, max_colsum=0.9))
    assert k_low < k_high
    # geometric convergence at rate <= 0.9: 0.9^k <= 1e-12 needs ~262 at most
    assert k_high < 300


# ---------------------------------------------------------------------------
# 4. property tests


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 5),
    S=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    max_colsum=st.floats(0.0, 0.9),
    self_bias=st.floats(0.0, 5.0),
)
def test_property_random_valid_systems(n, S, seed, max_colsum, self_bias):
    m = random_structured(n, S, seed, max_colsum=max_colsum, self_bias=self_bias)
    validate(m)
    X = induced_output(m)
    assert X.shape == (n, S, n)
    assert (X >= 0).all()
    F = implied_dense_F(m)
    # X >= F (the Neumann series adds non-negative terms) and (I - A) X = F
    assert (X.reshape(n * S, n) >= F - 1e-12 * max(F.max(), 1)).all()
    A = implied_dense_A(m)
    scale = max(np.abs(X).max(), 1.0)
    np.testing.assert_allclose((np.eye(n * S) - A) @ X.reshape(n * S, n), F, rtol=0, atol=1e-10 * scale)
    # dense path agrees
    d = to_dense(m)
    validate(d)
    np.testing.assert_allclose(induced_output(d), X, rtol=0, atol=1e-9 * scale)
    # national aggregation identity
    nat = national_system(m)
    np.testing.assert_allclose(X.sum(axis=(0, 2)), nat.x, rtol=0, atol=1e-10 * scale)


# ---------------------------------------------------------------------------
# 5. validation errors name what and where


def replace(m: StructuredMRIO, **kw) -> StructuredMRIO:
    fields = dict(cities=m.cities, sectors=m.sectors, a_nat=m.a_nat, shares=m.shares, final_demand=m.final_demand)
    fields.update(kw)
    return StructuredMRIO(**fields)


def replace_dense(d: DenseMRIO, **kw) -> DenseMRIO:
    fields = dict(cities=d.cities, sectors=d.sectors, Z=d.Z, F=d.F, x=d.x)
    fields.update(kw)
    return DenseMRIO(**fields)


def test_valid_systems_pass():
    validate(hand_structured())
    validate(hand_dense(), label=2017)


def test_negative_dense_flow_names_both_ends():
    d = hand_dense()
    Z = d.Z.copy()
    Z[1, 3] = -1.0  # from (A, 02) to (B, 02)
    with pytest.raises(MRIOError, match=r"\[2015\] negative Z.*from city 110000 sector 02 to city 120000 sector 02"):
        validate(replace_dense(d, Z=Z), label=2015)


def test_negative_dense_output():
    d = hand_dense()
    x = d.x.copy()
    x[2] = -1.0
    with pytest.raises(MRIOError, match=r"negative x.*city 120000 sector 01"):
        validate(replace_dense(d, x=x))


def test_negative_structured_entries():
    m = hand_structured()
    a = m.a_nat.copy()
    a[1, 0] = -0.1
    with pytest.raises(MRIOError, match=r"negative coefficient a_nat\[02, 01\]"):
        validate(replace(m, a_nat=a))
    t = m.shares.copy()
    t[1, :, 1] = [-0.5, 1.5]  # still sums to 1
    with pytest.raises(MRIOError, match="negative share .* product 02 supplied by city 110000 to city 120000"):
        validate(replace(m, shares=t))


def test_nan_and_inf():
    m = hand_structured()
    f = m.final_demand.copy()
    f[0, 1] = np.nan
    with pytest.raises(MRIOError, match=r"\[2012\] final demand of city 110000 sector 02 is not finite"):
        validate(replace(m, final_demand=f), label=2012)
    a = m.a_nat.copy()
    a[0, 1] = np.inf
    with pytest.raises(MRIOError, match=r"a_nat\[01, 02\] is not finite"):
        validate(replace(m, a_nat=a))
    d = hand_dense()
    Z = d.Z.copy()
    Z[0, 2] = np.nan
    with pytest.raises(MRIOError, match="Z.* not finite.*from city 110000 sector 01 to city 120000 sector 01"):
        validate(replace_dense(d, Z=Z))


def test_dense_inputs_without_output():
    d = hand_dense()
    Z = d.Z.copy()
    Z[0, 2] = 1.0  # (B, 01) uses inputs but produces nothing
    with pytest.raises(MRIOError, match="city 120000 sector 01 has intermediate inputs"):
        validate(replace_dense(d, Z=Z))


def test_shares_not_summing_to_one_names_sector_and_city():
    m = hand_structured()
    t = m.shares.copy()
    t[1, 1, 1] = 0.99
    with pytest.raises(MRIOError, match="shares of product 02 used in city 120000 sum to 0.99"):
        validate(replace(m, shares=t))
    t = m.shares.copy()
    t[0, 0, 0] += 2e-9
    with pytest.raises(MRIOError, match="product 01 used in city 110000"):
        validate(replace(m, shares=t))
    t = m.shares.copy()
    t[0, 0, 0] += 1e-12  # within tolerance
    validate(replace(m, shares=t))


def test_mismatched_shapes():
    m = hand_structured()
    with pytest.raises(MRIOError, match=r"shares has shape \(2, 3, 3\), expected \(2, 2, 2\)"):
        validate(replace(m, shares=np.full((2, 3, 3), 1 / 3)))
    with pytest.raises(MRIOError, match=r"a_nat has shape"):
        validate(replace(m, sectors=("01", "02", "03")))
    with pytest.raises(MRIOError, match=r"final_demand has shape \(2, 2\), expected \(2, 3\)"):
        validate(replace(m, sectors=("01", "02", "03"), a_nat=np.zeros((3, 3)), shares=np.ones((3, 2, 2)) / 2))
    d = hand_dense()
    with pytest.raises(MRIOError, match=r"F has shape \(4, 2\), expected \(6, 3\)"):
        validate(replace_dense(d, cities=("1", "2", "3"), Z=np.zeros((6, 6))))
    with pytest.raises(MRIOError, match=r"x has shape"):
        dense_from_arrays(HAND_CITIES, HAND_SECTORS, d.Z, d.F, x=np.ones(3))


def test_duplicate_cities_and_empty():
    m = hand_structured()
    with pytest.raises(MRIOError, match=r"duplicate city ids: \['110000'\]"):
        validate(replace(m, cities=("110000", "110000")))
    d = hand_dense()
    with pytest.raises(MRIOError, match=r"duplicate sector ids: \['01'\]"):
        validate(replace_dense(d, sectors=("01", "01")))
    with pytest.raises(MRIOError, match="no cities"):
        validate(StructuredMRIO((), ("01",), [[0.1]], np.zeros((1, 0, 0)), np.zeros((0, 1))))


def test_singular_dense_leontief_names_column():
    # 1 city, 2 sectors; sector 02 uses its whole output of itself: (I - A) column 02 is zero
    d = DenseMRIO(("110000",), ("01", "02"), Z=[[1.0, 0.0], [0.0, 5.0]], F=[[1.0], [0.0]], x=[5.0, 5.0])
    with pytest.raises(MRIOError, match=r"\[2012\] \(I - A\) is singular: zero pivot at column city 110000 sector 02"):
        leontief_lu(d, label=2012)
    with pytest.raises(MRIOError, match="city 110000 sector 02"):
        induced_output(d)


def test_ill_conditioned_dense_leontief_names_column():
    x = 1.0
    d = DenseMRIO(("110000",), ("01", "02"), Z=[[0.2, 0.0], [0.0, x - 1e-15]], F=[[0.8], [0.0]], x=[1.0, x])
    with pytest.raises(MRIOError, match=r"ill-conditioned.*city 110000 sector 02"):
        leontief_lu(d)
    with pytest.raises(MRIOError, match=r"ill-conditioned.*city 110000 sector 02"):
        validate(d)


def test_leontief_lu_solves_like_scipy():
    d = hand_dense()
    X = scipy.linalg.lu_solve(leontief_lu(d), d.F)
    np.testing.assert_allclose(X, HAND_X.reshape(4, 2), atol=1e-14)


def test_max_iter_exceeded_names_city_and_sector():
    m = random_structured(3, 2, seed=4, max_colsum=0.9)
    with pytest.raises(MRIOError, match=r"\[2017\] Neumann iteration did not converge in 3 iterations.*city \d{6} sector 0[12]"):
        solve_structured(m, max_iter=3, label=2017)
    with pytest.raises(MRIOError, match="did not converge"):
        induced_output(m, max_iter=3)
    # a looser tolerance needs fewer iterations
    _, k_loose = solve_structured(m, tol=1e-4)
    _, k_tight = solve_structured(m, tol=1e-12)
    assert k_loose < k_tight


def test_validate_rejects_other_types():
    with pytest.raises(TypeError):
        validate(np.eye(2))


# ---------------------------------------------------------------------------
# helpers: dense_from_arrays, imports


def test_dense_from_arrays_accepts_split_axes():
    d = hand_dense()
    d4 = dense_from_arrays([110000, 120000], HAND_SECTORS, d.Z.reshape(2, 2, 2, 2), d.F.reshape(2, 2, 2), d.x.reshape(2, 2))
    assert d4.cities == HAND_CITIES  # ids coerced to str
    np.testing.assert_array_equal(d4.Z, d.Z)
    np.testing.assert_array_equal(d4.F, d.F)
    np.testing.assert_array_equal(d4.x, d.x)


def test_remove_imports_proportional_hand():
    # product 0: use 80 + 20 = 100, imports 25 -> domestic share 0.75
    # product 1: use 40 + 10 = 50, imports 0 -> share 1
    Z = np.array([[50.0, 30.0], [10.0, 30.0]])
    F = np.array([[15.0, 5.0], [10.0, 0.0]])
    Zd, Fd = remove_imports_proportional(Z, F, np.array([25.0, 0.0]))
    np.testing.assert_allclose(Zd, [[37.5, 22.5], [10.0, 30.0]])
    np.testing.assert_allclose(Fd, [[11.25, 3.75], [10.0, 0.0]])
    # domestic use = total use - imports
    np.testing.assert_allclose(Zd.sum(1) + Fd.sum(1), [75.0, 50.0])
    # explicit total use (e.g. including re-exported amounts)
    Zd2, _ = remove_imports_proportional(Z, F, np.array([25.0, 0.0]), total_use=np.array([125.0, 50.0]))
    np.testing.assert_allclose(Zd2[0], [40.0, 24.0])
    with pytest.raises(MRIOError, match="imports of sector 02"):
        remove_imports_proportional(Z, F, np.array([0.0, 60.0]), sectors=["01", "02"])
    with pytest.raises(MRIOError, match="imports of sector 01"):
        remove_imports_proportional(Z, F, np.array([-1.0, 0.0]), sectors=["01", "02"])


def test_full_sector_count_structured_small_n():
    m = random_structured(3, N_SECTORS, seed=21, max_colsum=0.7)
    X = induced_output(m)
    np.testing.assert_allclose(induced_output(to_dense(m)), X, rtol=0, atol=1e-9 * X.max())


# ---------------------------------------------------------------------------
# solvability rules (module docstring): spectral radius below 1 is the condition, a column sum
# of A above 1 is a warning, uses beyond output (dense) are an error; negative final demand is data

#: Column sums (0.26, 0.1, 1.05), eigenvalues 0.26, 0.1, 0.2 (upper triangular): rho = 0.26.
A_COL_105 = np.array([[0.26, 0.0, 0.40], [0.0, 0.10, 0.45], [0.0, 0.0, 0.20]])


def _two_city(a: np.ndarray, f: np.ndarray | None = None) -> StructuredMRIO:
    S = a.shape[0]
    t = np.stack([[[0.7, 0.2], [0.3, 0.8]]] * S)  # (S, 2, 2), columns sum to 1
    f = np.array([[3.0, 1.0, 2.0], [1.0, 4.0, 1.0]])[:, :S] if f is None else f
    return StructuredMRIO(HAND_CITIES, SECTOR_CODES[:S], a, t, f)


def test_column_sum_above_one_with_spectral_radius_026_is_valid():
    assert A_COL_105.sum(axis=0)[2] == pytest.approx(1.05)
    m = _two_city(A_COL_105)
    with pytest.warns(MRIOWarning, match=r"column sum 1.05 >= 1 for sector 03"):
        validate(m)
    lo, hi = spectral_radius(m)
    assert lo == hi == pytest.approx(0.26, abs=1e-12)
    with pytest.warns(MRIOWarning):
        X = induced_output(m)
    A, F = implied_dense_A(m), implied_dense_F(m)
    assert np.abs(np.linalg.eigvals(A)).max() == pytest.approx(0.26, abs=1e-12)  # rho(A) = rho(a_nat)
    np.testing.assert_allclose(X.reshape(6, 2), np.linalg.solve(np.eye(6) - A, F), rtol=1e-10)
    # the dense form of the same system: same warning, bounds around 0.26, same solution
    with pytest.warns(MRIOWarning):
        d = to_dense(m)
    with pytest.warns(MRIOWarning, match=r"column sum 1.05 >= 1 for city 1[12]0000 sector 03"):
        validate(d)
    lo, hi = spectral_radius(d)
    assert lo <= 0.26 + 1e-9 and 0.26 - 1e-9 <= hi < 1
    lo, hi = spectral_radius(d, leontief_lu(d))
    assert lo <= 0.26 + 1e-9 and 0.26 - 1e-9 <= hi < 1
    with pytest.warns(MRIOWarning):
        np.testing.assert_allclose(induced_output(d), X, rtol=1e-10)


def test_spectral_radius_at_least_one_is_an_error_structured():
    a = np.array([[0.5, 0.6], [0.6, 0.5]])  # rho = 1.1
    with pytest.raises(MRIOError, match=r"\[2015\] the spectral radius of A is 1.1 \(Perron root of a_nat\) >= 1"
                                        r" \(Hawkins-Simon"):
        validate(_two_city(a), label=2015)
    a = np.array([[0.0, 1.0], [1.0, 0.0]])  # rho = 1 exactly, column sums 1: singular
    with pytest.raises(MRIOError, match=r"spectral radius of A is 1 .*>= 1"):
        induced_output(_two_city(a))


def test_spectral_radius_at_least_one_is_an_error_dense():
    # 1 city, A = [[0.5, 0.6], [0.6, 0.5]] (rho = 1.1); negative final demand keeps Z 1 + F 1 <= x
    d = DenseMRIO(("110000",), ("01", "02"), Z=[[5.0, 6.0], [6.0, 5.0]], F=[[-2.0], [-2.0]], x=[10.0, 10.0])
    with pytest.raises(MRIOError, match=r"\[2017\] the spectral radius of A is at least 1.1 .*Hawkins-Simon"):
        validate(d, label=2017)
    with pytest.raises(MRIOError, match=r"spectral radius of A is >= 1 .*\(I - A\)\^-1 1 has entry -10 < 1 at city 110000"):
        leontief_lu(d)


def test_dense_spectral_radius_bounds_bracket_the_eigenvalue():
    rng = np.random.default_rng(11)
    for _ in range(5):  # 6 cities x 2 sectors, column sums of A 0.1-1.6; F = the rest of each row
        N = 12
        x = rng.uniform(5, 10, N)
        Z = rng.uniform(0, 1, (N, N)) * x[None, :] * rng.uniform(0.02, 0.15)
        d = DenseMRIO(tuple(str(110000 + 10000 * k) for k in range(6)), ("01", "02"), Z=Z,
                      F=np.repeat(((x - Z.sum(axis=1)) / 6)[:, None], 6, axis=1), x=x)
        rho = np.abs(np.linalg.eigvals(d.A)).max()
        lo, hi = spectral_radius(d)
        assert lo <= rho + 1e-12 and rho - 1e-12 <= hi
        lo, hi = spectral_radius(d, leontief_lu(d))
        assert lo <= rho + 1e-9 and rho - 1e-9 <= hi


def test_uses_beyond_output_are_an_error_naming_city_and_sector():
    d = hand_dense()  # x = [12, 12, 0, 2], row (B, 02): Z 0, F [0, 2]
    F = d.F.copy()
    F[3, 0] = 1.0  # (B, 02): uses 3 > x = 2: exports would be -1
    with pytest.raises(MRIOError, match=r"\[2012\] uses of city 120000 sector 02 exceed its gross output:"
                                        r" intermediate uses 0 \+ domestic final demand 3 > x = 2"):
        validate(replace_dense(d, F=F), label=2012)
    F[3, 0] = 0.5 * BALANCE_TOL * 2.0  # within the tolerance: rounding, accepted
    validate(replace_dense(d, F=F))
    F[3, 0] = -0.5  # uses below output: exports 0.5, fine
    validate(replace_dense(d, F=F))


def test_negative_final_demand_is_kept_dense():
    d = hand_dense()
    F = d.F.copy()
    F[3, 0] = -0.5  # city A draws down 0.5 of (B, 02) from inventories
    d2 = replace_dense(d, F=F)
    validate(d2)
    X = induced_output(d2)
    np.testing.assert_allclose(X.reshape(4, 2), np.linalg.solve(np.eye(4) - d2.A, F), rtol=1e-12, atol=1e-12)
    assert X[1, 1, 0] < 0  # (B, 02) induced by A's demand: -0.5, not clipped to 0
    assert X[1, 1, 0] == pytest.approx(-0.5)


def test_negative_final_demand_is_kept_structured():
    m = hand_structured()
    f = m.final_demand.copy()
    f[1, 0] = -1.0  # city B: -1 of product 01 (inventory drawdown)
    m2 = replace(m, final_demand=f)
    validate(m2)
    X = induced_output(m2)
    A, F = implied_dense_A(m2), implied_dense_F(m2)
    np.testing.assert_allclose(X.reshape(4, 2), np.linalg.solve(np.eye(4) - A, F), rtol=1e-12, atol=1e-12)
    # the structured and the dense solve agree with the negative entry in
    np.testing.assert_allclose(induced_output(to_dense(m2)), X, rtol=1e-10, atol=1e-12)
    assert (X[:, :, 1] < 0).any()
    nat = national_system(m2)
    np.testing.assert_allclose(X.sum(axis=(0, 2)), nat.x, rtol=1e-12)


def test_negative_output_implied_by_drawdowns_is_an_error():
    m = hand_structured()
    f = m.final_demand.copy()
    f[1, 1] = -50.0  # city B draws down 50 of its local product 02: output of (B, 02) = 2 - 50 < 0
    with pytest.raises(MRIOError, match=r"gross output of city 120000 sector 02 implied by the system is negative"):
        induced_output(replace(m, final_demand=f))


def test_structured_solve_does_not_depend_on_the_memory_order_of_the_shares():
    """A shares array in Fortran order (e.g. a slice of a larger system) solves like a C-ordered
    one: the Neumann iteration's ``out=`` buffers must be views, not copies."""
    rng = np.random.default_rng(7)
    S, n = 3, 4
    a = rng.uniform(0.0, 0.2, (S, S))
    shares = rng.uniform(0.1, 1.0, (S, n, n))
    shares /= shares.sum(axis=1, keepdims=True)
    f = rng.uniform(1.0, 2.0, (n, S))
    c = StructuredMRIO(tuple("abcd"), ("1", "2", "3"), a, shares, f)
    fortran = StructuredMRIO(tuple("abcd"), ("1", "2", "3"), a, np.asfortranarray(shares), f)
    assert not fortran.shares.flags.c_contiguous
    Xc, _ = solve_structured(c)
    Xf, _ = solve_structured(fortran)
    assert np.abs(Xf - Xc).max() <= 1e-12 * np.abs(Xc).max()


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="reads /proc/self/statm (Linux)")
def test_release_pages_drops_a_memory_mapped_array_from_the_resident_set(tmp_path):
    from intercity.mrio import release_pages

    def rss_mib():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * __import__("os").sysconf("SC_PAGE_SIZE") / 2 ** 20

    np.save(tmp_path / "z.npy", np.full((2000, 2000), 0.5))
    z = np.load(tmp_path / "z.npy", mmap_mode="r")
    m = DenseMRIO(("a",), ("1",), z, np.ones((2000, 1)), np.ones(2000))  # as the bundle holds a CEADs year
    before = rss_mib()
    total = float(np.asarray(m.Z).sum())
    assert rss_mib() - before > 20  # the 30 MiB are resident once read
    release_pages(m.Z)
    assert rss_mib() - before < 5
    assert float(m.Z.sum()) == total  # still readable
    release_pages(np.ones(3))  # ordinary arrays: nothing to do
