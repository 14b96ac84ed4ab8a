"""City-level multi-regional input-output (MRIO) systems and the Leontief model.

Conventions
-----------
* **Index.** A system has ``n`` cities and ``S`` sectors (``S = 42`` for the
  NBS/CEADs classification, but any ``n >= 1``, ``S >= 1`` works). Stacked
  vectors and matrices are *city-major*: row/column ``k = i * S + s`` is city
  ``i`` (``0..n-1``), sector ``s`` (``0..S-1``). Cities are identified by their
  6-digit adcode strings, sectors by their codes (``"01".."42"``).
* **Units.** 10k yuan (万元), current prices.
* **Final demand is domestic.** ``F`` / ``final_demand`` hold final demand for
  *domestically produced* goods: imports are removed before the Leontief model
  is applied, and exports are not part of ``F``. For the national tables (which
  record competitive imports) imports are removed with the *proportional
  import assumption*: the domestic share ``1 - M_s / U_s`` of product ``s``
  (imports ``M_s`` over total domestic use ``U_s``) is applied to intermediate
  and final uses alike (:func:`remove_imports_proportional`).

Two forms answer the same questions:

:class:`StructuredMRIO` (Chenery-Moses)
    national technical coefficients ``a_nat`` (S, S) times inter-city trade
    shares ``shares`` (S, n, n), with city final demand ``final_demand`` (n, S).
    The implied city x sector system is::

        A[(i,s),(j,r)] = t[s,i,j] * a_nat[s,r]
        F[(i,s), j]    = t[s,i,j] * f[j,s]

    where ``t[s,i,j]`` is the share of city j's use of product s supplied by
    city i (``sum_i t[s,i,j] == 1``). The dense ``(n*S)^2`` matrix is never
    formed by :func:`induced_output`.

:class:`DenseMRIO`
    the full city x sector system (``Z``, ``F``, ``x``), as the CEADs city
    tables are distributed; ``A = Z / x`` column-wise.

Solvability
-----------
Dense: the Leontief matrix ``I - A`` is LU-factorised
(``scipy.linalg.lu_factor``) and its reciprocal 1-norm condition number is
estimated from the factors (LAPACK ``dgecon``); exact zero pivots or
``rcond < RCOND_MIN`` raise :class:`MRIOError`. :func:`validate` additionally
requires every column sum of ``A`` to be ``< 1`` (positive value added); then
``I - A`` is strictly column diagonally dominant, hence non-singular, with
``cond_1(I - A) <= (1 + c) / (1 - c)`` for ``c`` the largest column sum.

Structured: the column sums of the implied ``A`` equal the column sums of
``a_nat`` because shares are column-stochastic::

    sum_(i,s) A[(i,s),(j,r)] = sum_s a_nat[s,r] * sum_i t[s,i,j] = sum_s a_nat[s,r]

so ``||A||_1 = c = max_r sum_s a_nat[s,r]`` and ``rho(A) <= c < 1``: the
Neumann series ``X = sum_k A^k F`` converges geometrically with rate at most
``c`` (in fact rate ``rho(a_nat)``: summing over cities maps ``A`` onto
``a_nat``, so the Perron root of ``A`` is that of ``a_nat``), and the same
condition bound holds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.linalg
from scipy.linalg import lapack

__all__ = [
    "MRIOError",
    "StructuredMRIO",
    "DenseMRIO",
    "NationalSystem",
    "RCOND_MIN",
    "SHARE_TOL",
    "validate",
    "induced_output",
    "solve_structured",
    "leontief_matrix",
    "leontief_lu",
    "to_dense",
    "gross_output",
    "dense_from_arrays",
    "national_system",
    "remove_imports_proportional",
]

#: Tolerance on ``|sum_i t[s,i,j] - 1|`` for trade shares.
SHARE_TOL: float = 1e-9
#: Smallest acceptable reciprocal condition number (1-norm) of ``I - A``.
RCOND_MIN: float = 1e-12


class MRIOError(ValueError):
    """An MRIO system is malformed or its Leontief system cannot be solved."""


def _ids(values) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


class _CitySectorSystem:
    """Shared by both forms: ids become ``str`` tuples, the arrays named in ``_ARRAYS`` float64."""

    _ARRAYS: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "cities", _ids(self.cities))
        object.__setattr__(self, "sectors", _ids(self.sectors))
        for name in self._ARRAYS:
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64))

    @property
    def n_cities(self) -> int:
        return len(self.cities)

    @property
    def n_sectors(self) -> int:
        return len(self.sectors)


@dataclass(frozen=True)
class StructuredMRIO(_CitySectorSystem):
    """Chenery-Moses MRIO: national technical coefficients x inter-city trade shares.

    Attributes
    ----------
    cities : n city ids (6-digit adcodes).
    sectors : S sector codes.
    a_nat : (S, S); ``a_nat[s, r]`` = input of product s per unit of output of
        sector r (national technical coefficients, 10k yuan / 10k yuan).
    shares : (S, n, n); ``shares[s, i, j]`` = share of city j's use of product s
        supplied by city i; ``sum_i shares[s, i, j] == 1`` for every (s, j).
    final_demand : (n, S); ``final_demand[j, s]`` = domestic final demand of
        city j for product s (imports removed), 10k yuan.

    Construction only converts ids to ``str`` and arrays to float64; call
    :func:`validate` to check the system.
    """

    cities: tuple[str, ...]
    sectors: tuple[str, ...]
    a_nat: np.ndarray
    shares: np.ndarray
    final_demand: np.ndarray

    _ARRAYS = ("a_nat", "shares", "final_demand")


@dataclass(frozen=True)
class DenseMRIO(_CitySectorSystem):
    """Full city x sector system, as the CEADs city tables are distributed.

    Attributes
    ----------
    cities, sectors : ids; rows/columns are city-major (``k = i * S + s``).
    Z : (n*S, n*S) intermediate flows, 10k yuan; ``Z[k, l]`` = input from
        (city, sector) k used by (city, sector) l.
    F : (n*S, n) domestic final demand by demanding city (imports removed),
        10k yuan.
    x : (n*S,) gross output, 10k yuan.

    Construction only converts ids to ``str`` and arrays to float64; use
    :func:`dense_from_arrays` to build from other shapes and :func:`validate`
    to check the system.
    """

    cities: tuple[str, ...]
    sectors: tuple[str, ...]
    Z: np.ndarray
    F: np.ndarray
    x: np.ndarray

    _ARRAYS = ("Z", "F", "x")

    @property
    def A(self) -> np.ndarray:
        """Technical coefficients ``Z / x`` column-wise; columns with ``x == 0`` give 0.

        Computed on each access (an (n*S)^2 array).
        """
        return _coefficients(self.Z, self.x)


class NationalSystem(NamedTuple):
    """A national (city-summed) Leontief system.

    ``a`` (S, S) coefficients, ``f`` (S,) final demand (10k yuan) and
    ``x = (I - a)^-1 f`` (S,) the output it induces (10k yuan).
    """

    sectors: tuple[str, ...]
    a: np.ndarray
    f: np.ndarray
    x: np.ndarray


# --------------------------------------------------------------------------
# messages


def _prefix(label: object | None) -> str:
    return "" if label is None else f"[{label}] "


def _where(cities: tuple[str, ...], sectors: tuple[str, ...], k: int) -> str:
    """Name row/column ``k`` of a city-major system."""
    S = len(sectors)
    return f"city {cities[k // S]} sector {sectors[k % S]}"


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in np.argwhere(mask)[0])


# --------------------------------------------------------------------------
# validation


def _check_ids(cities: tuple[str, ...], sectors: tuple[str, ...], pre: str) -> None:
    if len(cities) < 1:
        raise MRIOError(f"{pre}no cities")
    if len(sectors) < 1:
        raise MRIOError(f"{pre}no sectors")
    for kind, ids in (("city", cities), ("sector", sectors)):
        seen: set[str] = set()
        dups = [c for c in ids if c in seen or seen.add(c)]
        if dups:
            raise MRIOError(f"{pre}duplicate {kind} ids: {sorted(set(dups))}")


def _check_shape(name: str, arr: np.ndarray, shape: tuple[int, ...], what: str, pre: str) -> None:
    if arr.shape != shape:
        raise MRIOError(f"{pre}{name} has shape {arr.shape}, expected {shape} ({what})")


def _check_condition_bound(colsum: np.ndarray, col_name, pre: str) -> None:
    """Column sums < 1 and the bound ``rcond >= (1 - c) / (1 + c)`` not below RCOND_MIN."""
    bad = np.flatnonzero(colsum >= 1.0)
    if bad.size:
        r = int(bad[0])
        raise MRIOError(
            f"{pre}coefficient column sum {colsum[r]:.6g} >= 1 for {col_name(r)}"
            f" ({bad.size} column(s) in total); (I - A) may be singular"
        )
    r = int(np.argmax(colsum))
    c = float(colsum[r])
    if (1.0 - c) / (1.0 + c) < RCOND_MIN:
        raise MRIOError(
            f"{pre}(I - A) is ill-conditioned: column sum {c!r} for {col_name(r)}"
            f" is within {1.0 - c:.3g} of 1"
        )


def _validate_structured(m: StructuredMRIO, pre: str) -> None:
    cities, sectors = m.cities, m.sectors
    _check_ids(cities, sectors, pre)
    n, S = len(cities), len(sectors)
    _check_shape("a_nat", m.a_nat, (S, S), "sectors x sectors", pre)
    _check_shape("shares", m.shares, (S, n, n), "sectors x cities x cities", pre)
    _check_shape("final_demand", m.final_demand, (n, S), "cities x sectors", pre)

    if not np.isfinite(m.a_nat).all():
        s, r = _first(~np.isfinite(m.a_nat))
        raise MRIOError(f"{pre}a_nat[{sectors[s]}, {sectors[r]}] is not finite ({m.a_nat[s, r]})")
    if not np.isfinite(m.shares).all():
        s, i, j = _first(~np.isfinite(m.shares))
        raise MRIOError(
            f"{pre}share of product {sectors[s]} supplied by city {cities[i]} to city"
            f" {cities[j]} is not finite ({m.shares[s, i, j]})"
        )
    if not np.isfinite(m.final_demand).all():
        j, s = _first(~np.isfinite(m.final_demand))
        raise MRIOError(
            f"{pre}final demand of city {cities[j]} sector {sectors[s]} is not finite"
            f" ({m.final_demand[j, s]})"
        )
    if (m.a_nat < 0).any():
        s, r = _first(m.a_nat < 0)
        raise MRIOError(
            f"{pre}negative coefficient a_nat[{sectors[s]}, {sectors[r]}] = {m.a_nat[s, r]:.6g}"
            f" (input of product {sectors[s]} per unit output of sector {sectors[r]})"
        )
    if (m.shares < 0).any():
        s, i, j = _first(m.shares < 0)
        raise MRIOError(
            f"{pre}negative share {m.shares[s, i, j]:.6g} of product {sectors[s]} supplied by"
            f" city {cities[i]} to city {cities[j]}"
        )
    if (m.final_demand < 0).any():
        j, s = _first(m.final_demand < 0)
        raise MRIOError(
            f"{pre}negative final demand {m.final_demand[j, s]:.6g} of city {cities[j]}"
            f" for sector {sectors[s]}"
        )
    dev = np.abs(m.shares.sum(axis=1) - 1.0)  # (S, n): over supplying cities i
    if (dev > SHARE_TOL).any():
        s, j = _first(dev > SHARE_TOL)
        raise MRIOError(
            f"{pre}shares of product {sectors[s]} used in city {cities[j]} sum to"
            f" {float(m.shares[s, :, j].sum())!r}, not 1 (tolerance {SHARE_TOL:g})"
        )
    _check_condition_bound(m.a_nat.sum(axis=0), lambda r: f"sector {sectors[r]} (a_nat column)", pre)


def _validate_dense(m: DenseMRIO, pre: str) -> None:
    cities, sectors = m.cities, m.sectors
    _check_ids(cities, sectors, pre)
    n, S = len(cities), len(sectors)
    N = n * S
    _check_shape("Z", m.Z, (N, N), f"(cities*sectors)^2 = {n}*{S} squared", pre)
    _check_shape("F", m.F, (N, n), "cities*sectors x cities", pre)
    _check_shape("x", m.x, (N,), "cities*sectors", pre)
    where = lambda k: _where(cities, sectors, k)  # noqa: E731

    for name, arr in (("x", m.x), ("F", m.F), ("Z", m.Z)):
        if not np.isfinite(arr).all():
            idx = _first(~np.isfinite(arr))
            raise MRIOError(f"{pre}{name}{list(idx)} is not finite ({arr[idx]}): {_describe(name, idx, cities, where)}")
        if (arr < 0).any():
            idx = _first(arr < 0)
            raise MRIOError(f"{pre}negative {name}{list(idx)} = {arr[idx]:.6g}: {_describe(name, idx, cities, where)}")

    colsum_z = m.Z.sum(axis=0)
    bad = np.flatnonzero((m.x == 0) & (colsum_z > 0))
    if bad.size:
        raise MRIOError(f"{pre}{where(int(bad[0]))} has intermediate inputs {colsum_z[bad[0]]:.6g} but zero gross output")
    colsum = np.divide(colsum_z, m.x, out=np.zeros_like(colsum_z), where=m.x > 0)
    _check_condition_bound(colsum, lambda k: f"{where(k)} (column of A = Z / x)", pre)


def _describe(name: str, idx: tuple[int, ...], cities: tuple[str, ...], where) -> str:
    if name == "Z":
        return f"flow from {where(idx[0])} to {where(idx[1])}"
    if name == "F":
        return f"final demand of city {cities[idx[1]]} for the output of {where(idx[0])}"
    return f"gross output of {where(idx[0])}"


def validate(m: StructuredMRIO | DenseMRIO, label: object | None = None) -> None:
    """Check an MRIO system; raise :class:`MRIOError` naming what is wrong and where.

    Checks: ids (non-empty, no duplicate city/sector ids), array shapes against
    ``cities``/``sectors``, finiteness, non-negativity of flows, coefficients,
    shares, final demand and output, trade-share columns summing to 1 (within
    ``SHARE_TOL``, structured form), coefficient column sums ``< 1`` and the
    implied condition bound of ``I - A`` (see the module docstring). ``label``
    (e.g. the year) prefixes every message. Cost is linear in the array sizes;
    the dense LU-based check happens in :func:`leontief_lu`.
    """
    pre = _prefix(label)
    if isinstance(m, StructuredMRIO):
        _validate_structured(m, pre)
    elif isinstance(m, DenseMRIO):
        _validate_dense(m, pre)
    else:
        raise TypeError(f"expected StructuredMRIO or DenseMRIO, got {type(m).__name__}")


# --------------------------------------------------------------------------
# solving


def _coefficients(Z: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.divide(Z, x, out=np.zeros_like(Z), where=(x > 0)[None, :])


def leontief_matrix(m: DenseMRIO, block: int = 1024) -> np.ndarray:
    """The Leontief matrix ``I - A`` (n*S, n*S) of a dense system, in a single allocation.

    Fortran-ordered, so ``scipy.linalg.lu_factor(..., overwrite_a=True)``
    factorises it in place. Columns with ``x == 0`` have ``A = 0``. Does not
    validate.
    """
    N = m.x.shape[0]
    neg_inv_x = -np.divide(1.0, m.x, out=np.zeros_like(m.x), where=m.x > 0)
    M = np.empty((N, N), order="F")
    for start in range(0, N, block):  # column blocks: contiguous writes into M
        cols = slice(start, start + block)
        np.multiply(m.Z[:, cols], neg_inv_x[cols], out=M[:, cols])
    diag = np.arange(N)
    M[diag, diag] += 1.0
    return M


def _norm1(M: np.ndarray, block: int = 1024) -> float:
    """1-norm (max absolute column sum) without an (n*S)^2 temporary."""
    if M.size == 0:
        return 0.0
    acc = np.empty(M.shape[1])
    for start in range(0, M.shape[1], block):
        cols = slice(start, start + block)
        acc[cols] = np.abs(M[:, cols]).sum(axis=0)
    return float(acc.max())


def leontief_lu(m: DenseMRIO, label: object | None = None) -> tuple[np.ndarray, np.ndarray]:
    """LU factors ``(lu, piv)`` of ``I - A`` for a dense system (for ``scipy.linalg.lu_solve``).

    Raises :class:`MRIOError` if a pivot is exactly zero (naming the first
    column, as city/sector, that is linearly dependent on the preceding ones)
    or if the LAPACK ``dgecon`` estimate of the reciprocal 1-norm condition
    number is below ``RCOND_MIN`` (naming the column of the smallest pivot).
    Does not run :func:`validate`.
    """
    pre = _prefix(label)
    M = leontief_matrix(m)
    anorm = _norm1(M)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        lu, piv = scipy.linalg.lu_factor(M, overwrite_a=True, check_finite=False)
    pivots = np.abs(np.diagonal(lu))
    where = lambda k: _where(m.cities, m.sectors, k)  # noqa: E731
    zero = np.flatnonzero(pivots == 0)
    if zero.size:
        raise MRIOError(f"{pre}(I - A) is singular: zero pivot at column {where(int(zero[0]))}")
    rcond, info = lapack.dgecon(lu, anorm, norm="1")
    if info != 0 or not np.isfinite(rcond) or rcond < RCOND_MIN:
        k = int(np.argmin(pivots))
        raise MRIOError(
            f"{pre}(I - A) is ill-conditioned: reciprocal condition estimate {rcond:.3g}"
            f" < {RCOND_MIN:g}; smallest pivot at column {where(k)}"
        )
    return lu, piv


def solve_structured(
    m: StructuredMRIO, tol: float = 1e-12, max_iter: int = 1000, label: object | None = None
) -> tuple[np.ndarray, int]:
    """Matrix-free Neumann solve of a structured system; returns ``(X, iterations)``.

    ``X[i, s, j]`` (n, S, n), 10k yuan, is the output of city i sector s
    induced by the final demand of city j. Sums the series ``X = sum_k P_k``,
    ``P_0 = F``, ``P_(k+1) = A P_k`` without forming ``A``: in sector-major
    layout ``P[s, i, :]``::

        W[s, j', :]    = sum_r a_nat[s, r] P[r, j', :]   # one (S x S) @ (S x n*n) GEMM
        (A P)[s, i, :] = sum_j' t[s, i, j'] W[s, j', :]  # batched (S, n, n) @ (S, n, n)

    Stops once ``max|P_k| <= tol * max|X|`` (the update is the series term, so
    there is no cancellation); the remaining tail is at most
    ``c / (1 - c)`` times the last update, ``c`` the largest ``a_nat`` column
    sum. ``iterations`` counts products with ``A``. Raises :class:`MRIOError`
    after ``max_iter`` products. Does not run :func:`validate`.
    """
    n, S = m.n_cities, m.n_sectors
    t = m.shares  # (S, n, n)
    P = t * m.final_demand.T[:, None, :]  # F in sector-major layout (S, n, n)
    X = P.copy()
    W = np.empty_like(P)
    k = 0
    while True:
        upd = float(np.abs(P).max())
        scale = float(np.abs(X).max())
        if upd <= tol * scale:
            break
        if k >= max_iter:
            s, i, j = _first(np.abs(P) == upd)
            c = m.a_nat.sum(axis=0)
            r = int(np.argmax(c))
            raise MRIOError(
                f"{_prefix(label)}Neumann iteration did not converge in {max_iter} iterations:"
                f" relative update {upd / scale:.3g} > tol {tol:g}, largest at city"
                f" {m.cities[i]} sector {m.sectors[s]} (demand of city {m.cities[j]});"
                f" largest a_nat column sum {c[r]:.6g} (sector {m.sectors[r]})"
            )
        np.matmul(m.a_nat, P.reshape(S, n * n), out=W.reshape(S, n * n))
        np.matmul(t, W, out=P)
        X += P
        k += 1
    return np.ascontiguousarray(X.transpose(1, 0, 2)), k


def induced_output(
    m: StructuredMRIO | DenseMRIO,
    tol: float = 1e-12,
    max_iter: int = 1000,
    label: object | None = None,
) -> np.ndarray:
    """Output induced by each city's final demand, ``(I - A)^-1 F`` reshaped to (n, S, n).

    ``X[i, s, j]`` = output of city i, sector s induced by the final demand of
    city j, 10k yuan. Validates ``m`` first (:func:`validate`). Structured form:
    :func:`solve_structured` (``tol``, ``max_iter`` apply; use it directly for
    the iteration count). Dense form: LU of ``I - A`` (:func:`leontief_lu`)
    and ``lu_solve``; ``tol``/``max_iter`` are ignored.
    """
    validate(m, label)
    n, S = m.n_cities, m.n_sectors
    if isinstance(m, StructuredMRIO):
        return solve_structured(m, tol=tol, max_iter=max_iter, label=label)[0]
    lu_piv = leontief_lu(m, label)
    X = scipy.linalg.lu_solve(lu_piv, m.F, check_finite=False)
    return X.reshape(n, S, n)


def gross_output(m: StructuredMRIO | DenseMRIO, label: object | None = None) -> np.ndarray:
    """Gross output (n, S), 10k yuan.

    Structured: the output implied by the system, ``sum_j X[i, s, j]``
    (validates and solves). Dense: the stored ``x`` reshaped (it includes
    output for exports, so it can exceed the induced output).
    """
    if isinstance(m, StructuredMRIO):
        return induced_output(m, label=label).sum(axis=2)
    return m.x.reshape(m.n_cities, m.n_sectors).copy()


def to_dense(m: StructuredMRIO, label: object | None = None) -> DenseMRIO:
    """The dense form of a structured system (allocates (n*S)^2 floats: small/medium systems).

    ``x`` is the implied gross output (:func:`gross_output`),
    ``Z[(i,s),(j,r)] = t[s,i,j] a_nat[s,r] x[j,r]`` and
    ``F[(i,s), j] = t[s,i,j] f[j,s]``, so both forms have the same ``A``, ``F``
    and induced output.
    """
    n, S = m.n_cities, m.n_sectors
    x = gross_output(m, label=label)  # (n, S), validates
    tT = m.shares.transpose(1, 0, 2)  # (i, s, j)
    Z = np.empty((n, S, n, S))
    np.multiply(tT[:, :, :, None], m.a_nat[None, :, None, :], out=Z)
    Z *= x[None, None, :, :]
    F = tT * m.final_demand.T[None, :, :]  # (i, s, j) = t[s,i,j] f[j,s]
    return DenseMRIO(m.cities, m.sectors, Z.reshape(n * S, n * S), F.reshape(n * S, n), x.reshape(n * S))


def dense_from_arrays(
    cities,
    sectors,
    Z: np.ndarray,
    F: np.ndarray,
    x: np.ndarray | None = None,
    label: object | None = None,
) -> DenseMRIO:
    """Build a :class:`DenseMRIO`, accepting stacked or split city/sector axes.

    ``Z`` as (n*S, n*S) or (n, S, n, S); ``F`` as (n*S, n) or (n, S, n); ``x``
    as (n*S,) or (n, S). If ``x`` is None it is the row sum ``Z 1 + F 1``
    (valid only when ``F`` holds all final uses of domestic output, i.e. no
    exports). Shapes are checked against ``cities``/``sectors``
    (:class:`MRIOError`); the content is not: call :func:`validate`.
    """
    cities, sectors = _ids(cities), _ids(sectors)
    pre = _prefix(label)
    n, S = len(cities), len(sectors)
    N = n * S
    Z, F = np.asarray(Z, dtype=np.float64), np.asarray(F, dtype=np.float64)
    if Z.shape == (n, S, n, S):
        Z = Z.reshape(N, N)
    if F.shape == (n, S, n):
        F = F.reshape(N, n)
    _check_shape("Z", Z, (N, N), f"(cities*sectors)^2 = {n}*{S} squared", pre)
    _check_shape("F", F, (N, n), "cities*sectors x cities", pre)
    if x is None:
        x = Z.sum(axis=1) + F.sum(axis=1)
    x = np.asarray(x, dtype=np.float64)
    if x.shape == (n, S):
        x = x.reshape(N)
    _check_shape("x", x, (N,), "cities*sectors", pre)
    return DenseMRIO(cities, sectors, Z, F, x)


def national_system(m: StructuredMRIO | DenseMRIO) -> NationalSystem:
    """Sum a system over cities into a national Leontief system.

    Structured: ``a = a_nat`` and ``f = sum_j final_demand[j]``. Because shares
    are column-stochastic, summing the induced output over supplying cities
    reproduces the national solution exactly, for each demanding city j:
    ``sum_i X[i, :, j] = (I - a_nat)^-1 f[j]``; summing over j gives ``x``.
    Dense: ``a = Z_nat / x_nat`` with ``Z_nat[s, r] = sum_(i,j) Z[(i,s),(j,r)]``,
    ``x_nat`` the city-summed ``x``, ``f`` the city-summed ``F``; here the
    identity holds only up to aggregation bias. Does not validate.
    """
    n, S = m.n_cities, m.n_sectors
    if isinstance(m, StructuredMRIO):
        a = m.a_nat.copy()
        f = m.final_demand.sum(axis=0)
    else:
        Z_nat = m.Z.reshape(n, S, n, S).sum(axis=(0, 2))
        x_nat = m.x.reshape(n, S).sum(axis=0)
        a = _coefficients(Z_nat, x_nat)
        f = m.F.reshape(n, S, n).sum(axis=(0, 2))
    x = np.linalg.solve(np.eye(S) - a, f)
    return NationalSystem(m.sectors, a, f, x)


def remove_imports_proportional(
    Z_use: np.ndarray,
    F_use: np.ndarray,
    imports: np.ndarray,
    total_use: np.ndarray | None = None,
    sectors=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Remove imports from a competitive-imports table (proportional import assumption).

    Row s of ``Z_use`` (R, C) and ``F_use`` (R, K) is the use of product s
    (domestic + imported), 10k yuan; ``F_use`` holds domestic final uses
    (consumption, capital formation, inventory changes), *not* exports.
    ``imports`` (R,) are the imports of each product. Every use of product s
    is scaled by the domestic share ``1 - imports[s] / total_use[s]``, where
    ``total_use`` defaults to ``Z_use.sum(1) + F_use.sum(1)``. Returns
    ``(Z_domestic, F_domestic)``. Raises :class:`MRIOError` (naming the
    sector, from ``sectors`` if given) if imports are negative, non-finite or
    exceed total use.
    """
    Z_use = np.asarray(Z_use, dtype=np.float64)
    F_use = np.asarray(F_use, dtype=np.float64)
    imports = np.asarray(imports, dtype=np.float64)
    R = Z_use.shape[0]
    names = _ids(sectors) if sectors is not None else tuple(str(k) for k in range(R))
    if F_use.ndim != 2 or F_use.shape[0] != R or imports.shape != (R,) or len(names) != R:
        raise MRIOError(
            f"row counts differ: Z_use {Z_use.shape}, F_use {F_use.shape},"
            f" imports {imports.shape}, sectors {len(names)}"
        )
    use = Z_use.sum(axis=1) + F_use.sum(axis=1) if total_use is None else np.asarray(total_use, dtype=np.float64)
    if use.shape != (R,):
        raise MRIOError(f"total_use has shape {use.shape}, expected {(R,)}")
    bad = ~np.isfinite(imports) | (imports < 0) | (imports > use) | ~np.isfinite(use)
    if bad.any():
        s = int(np.flatnonzero(bad)[0])
        raise MRIOError(
            f"imports of sector {names[s]} = {imports[s]:.6g} are negative, not finite"
            f" or exceed total use {use[s]:.6g}"
        )
    share = 1.0 - np.divide(imports, use, out=np.zeros_like(imports), where=use > 0)
    return Z_use * share[:, None], F_use * share[:, None]
