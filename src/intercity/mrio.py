"""City-level multi-regional input-output (MRIO) systems and the Leontief model.

Conventions
-----------
* **Index.** A system has ``n`` cities and ``S`` sectors (``S = 41``, the book's
  scheme of :mod:`intercity.sectors`, for every source; any ``n >= 1``, ``S >= 1``
  works). Stacked vectors and matrices are *city-major*: row/column ``k = i * S + s``
  is city ``i`` (``0..n-1``), sector ``s`` (``0..S-1``). Cities are identified by
  their 6-digit adcode strings, sectors by their codes.
* **Units.** 10k yuan (万元), current prices.
* **Final demand is domestic.** ``F`` / ``final_demand`` hold final demand for
  *domestically produced* goods: imports are removed before the Leontief model
  is applied, and exports are not part of ``F``. For the national tables (which
  record competitive imports) imports are removed with the *proportional
  import assumption*: the domestic share ``1 - M_s / U_s`` of product ``s``
  (imports ``M_s`` over total domestic use ``U_s``) is applied to intermediate
  and final uses alike (:func:`remove_imports_proportional`).
* **Negative final demand is data.** Domestic final demand includes changes in
  inventories, so a product whose inventories are drawn down more than it is
  consumed and invested has negative final demand (the 2015 national table: metals
  smelting, -27.8 million 10k yuan). It is kept everywhere, never clipped: it
  induces negative output, i.e. less production than the other demand would call for.

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
The rules, for coefficients ``A >= 0`` (:func:`validate` unless said otherwise):

1. **Spectral radius below 1.** ``X = (I - A)^-1 F`` exists, equals the Neumann series
   ``sum_k A^k F`` and ``(I - A)^-1 >= 0`` if and only if the Perron root ``rho(A)``
   (the spectral radius of a non-negative matrix, Perron-Frobenius) is below 1: the
   Hawkins-Simon condition (Hawkins and Simon 1949; Berman and Plemmons 1994,
   *Nonnegative Matrices in the Mathematical Sciences*, ch. 6 and 9, where ``I - A`` is a
   non-singular M-matrix). ``rho(A) >= 1`` is an error; so is ``rho(A) > 1 - RCOND_MIN``
   (``I - A`` then has an eigenvalue within ``RCOND_MIN`` of 0: ill-conditioned).

   *Structured:* with ``P`` the sum over cities (``(P v)[s] = sum_i v[(i,s)]``), column-stochastic
   shares give ``P A = a_nat P``. So every left eigenvector ``u`` of ``a_nat`` gives one, ``u P``,
   of ``A`` (``rho(A) >= rho(a_nat)``), and any ``u > 0`` with ``u a_nat <= c u`` gives
   ``u P > 0`` with ``(u P) A <= c (u P)``, hence ``rho(A) <= c`` (Collatz-Wielandt); such ``u``
   exist for every ``c > rho(a_nat)``. Therefore ``rho(A) = rho(a_nat)``, the Perron root of the
   (S, S) matrix, computed exactly (:func:`spectral_radius`); the Neumann series of
   :func:`solve_structured` converges geometrically at that rate.

   *Dense:* no eigen-decomposition of the (n*S)^2 matrix. :func:`validate` bounds ``rho(A)``
   by the largest column sum and the largest row sum of ``A`` (norm bounds, free); when both
   are ``>= 1`` it runs a power iteration on ``A + I`` with Collatz-Wielandt bounds
   (``min_k (Av)_k / v_k <= rho(A) <= max_k (Av)_k / v_k`` for any ``v > 0``; plus
   ``rho(A) >= max_k A[k,k]``), one ``Z`` matrix-vector product per step, until the bounds
   decide. :func:`leontief_lu` then checks exactly, with the LU factors it computes anyway:
   ``y = (I - A)^-1 1`` satisfies ``y >= 1`` when ``rho(A) < 1`` (``y = sum_k A^k 1``), and has
   a negative entry when ``rho(A) > 1`` (a Z-matrix ``B`` with ``B y > 0`` for some ``y >= 0``
   is a non-singular M-matrix: Berman and Plemmons, Theorem 6.2.3, condition I27); and
   ``1 - 1/min(y) <= rho(A) <= 1 - 1/max(y)`` (Collatz-Wielandt with ``v = y``). It also
   keeps the LAPACK ``dgecon`` estimate of the reciprocal 1-norm condition number of
   ``I - A`` (``rcond < RCOND_MIN`` or an exact zero pivot is an error).

2. **A coefficient column summing to 1 or more is a warning** (:class:`MRIOWarning`), not
   an error: it says the sector's intermediate inputs cost at least its output (negative
   value added), which data can show for a city and sector; it does not make the system
   unsolvable (a column summing to 1.05 with ``rho(A) = 0.26`` is valid).

3. **Uses within output (dense).** For every (city, sector) ``k``, intermediate uses plus
   domestic final demand may not exceed gross output: ``(Z 1 + F 1)[k] <= x[k]`` within
   ``BALANCE_TOL`` of ``x[k]``; the rest, ``x - Z 1 - F 1``, is exports and other uses and
   cannot be negative. A row breaking this is an error naming the city and sector.
   *Structured:* output is the induced output itself (no exports), so the analogue is that
   the implied gross output of every (city, sector) must not be negative (checked by
   :func:`induced_output` after the solve).

Negative entries of ``Z``, ``x``, ``a_nat`` or ``shares`` remain errors (the rules above
rest on ``A >= 0``); negative final demand does not (see Conventions).
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
    "MRIOWarning",
    "StructuredMRIO",
    "DenseMRIO",
    "NationalSystem",
    "RCOND_MIN",
    "SHARE_TOL",
    "BALANCE_TOL",
    "spectral_radius",
    "validate",
    "induced_output",
    "solve_structured",
    "leontief_matrix",
    "leontief_lu",
    "solve_dense",
    "to_dense",
    "gross_output",
    "dense_from_arrays",
    "national_system",
    "release_pages",
    "remove_imports_proportional",
]

#: Tolerance on ``|sum_i t[s,i,j] - 1|`` for trade shares.
SHARE_TOL: float = 1e-9
#: Smallest acceptable reciprocal condition number (1-norm) of ``I - A``; also the smallest
#: acceptable gap ``1 - rho(A)``.
RCOND_MIN: float = 1e-12
#: Relative tolerance of the dense row balance ``Z 1 + F 1 <= x`` (of ``x`` of the row, with a
#: floor of 1e-12 of the largest ``x``): rounding in published tables stays below it.
BALANCE_TOL: float = 1e-6
#: Most power-iteration steps :func:`validate` spends bounding the spectral radius of a dense ``A``.
POWER_MAX_ITER: int = 200


class MRIOError(ValueError):
    """An MRIO system is malformed or its Leontief system cannot be solved."""


class MRIOWarning(UserWarning):
    """An MRIO system is solvable but has a feature worth a look (a coefficient column sum >= 1)."""


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


def _warn_column_sums(colsum: np.ndarray, col_name, pre: str) -> None:
    """Rule 2 of the module docstring: coefficient column sums >= 1 are a warning."""
    bad = np.flatnonzero(colsum >= 1.0)
    if bad.size:
        r = int(bad[np.argmax(colsum[bad])])
        warnings.warn(MRIOWarning(
            f"{pre}coefficient column sum {colsum[r]:.6g} >= 1 for {col_name(r)} ({bad.size} column(s)"
            " in total): inputs cost at least the output (negative value added); the system stays"
            " solvable while the spectral radius of A is below 1"), stacklevel=4)


def _check_rho(lower: float, upper: float, what: str, where: str, pre: str) -> None:
    """Rule 1: raise unless rho(A) < 1 - RCOND_MIN, given bounds ``lower <= rho <= upper``."""
    if lower >= 1.0:
        raise MRIOError(
            f"{pre}the spectral radius of A is {what} >= 1 (Hawkins-Simon condition fails: (I - A)^-1"
            f" is not a non-negative matrix and the Leontief system has no meaningful solution); {where}")
    if lower > 1.0 - RCOND_MIN:
        raise MRIOError(f"{pre}(I - A) is ill-conditioned: the spectral radius of A is {what}, within"
                        f" {RCOND_MIN:g} of 1; {where}")


def perron_root(a: np.ndarray) -> float:
    """Perron root (spectral radius) of a small non-negative square matrix, from its eigenvalues."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.abs(np.linalg.eigvals(a)).max())


def _perron_vector_argmax(a: np.ndarray) -> int:
    vals, vecs = np.linalg.eig(a)
    return int(np.argmax(np.abs(vecs[:, int(np.argmax(np.abs(vals)))])))


def _dense_rho_bounds(Z: np.ndarray, x: np.ndarray, max_iter: int = POWER_MAX_ITER,
                      block: int = 1024) -> tuple[float, float, int]:
    """Bounds ``(lower, upper, k)`` on rho(A), ``A = Z / x`` column-wise, without forming ``A``.

    Norm bounds first (rho <= largest column sum, <= largest row sum; rho >= largest diagonal
    entry); if they do not decide, a power iteration ``v <- (A + I) v`` (which keeps ``v > 0``)
    with Collatz-Wielandt bounds ``min (Av)/v <= rho <= max (Av)/v``, stopped once the bounds
    decide ``rho < 1 - RCOND_MIN`` or ``rho >= 1 - RCOND_MIN``, or after ``max_iter`` steps
    (``k``, each one ``Z @ (v / x)``).
    """
    inv_x = np.divide(1.0, x, out=np.zeros_like(x), where=x > 0)
    N = x.shape[0]
    colsum = np.zeros(N)
    rowsum = np.zeros(N)
    for start in range(0, N, block):
        cols = slice(start, start + block)
        blk = Z[:, cols] * inv_x[cols]
        colsum[cols] = blk.sum(axis=0)
        rowsum += blk.sum(axis=1)
    diag = np.diagonal(Z) * inv_x
    lower = float(diag.max()) if N else 0.0
    upper = float(min(colsum.max(), rowsum.max())) if N else 0.0
    limit = 1.0 - RCOND_MIN
    k = 0
    v = np.ones(N)
    while not (upper < limit or lower >= limit) and k < max_iter:
        w = Z @ (v * inv_x)
        ratio = w / v
        lower = max(lower, float(ratio.min()))
        upper = min(upper, float(ratio.max()))
        v = w + v
        v /= v.max()
        k += 1
    return lower, upper, k


def spectral_radius(m: "StructuredMRIO | DenseMRIO",
                    lu_piv: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, float]:
    """Bounds ``(lower, upper)`` on the spectral radius (Perron root) of ``A``.

    Structured: exact, ``rho(A) = rho(a_nat)`` (module docstring), so ``lower == upper``.
    Dense with ``lu_piv`` (from :func:`leontief_lu`): ``y = (I - A)^-1 1`` gives
    ``1 - 1/min(y) <= rho <= 1 - 1/max(y)`` when ``y > 0`` (else ``(1, inf)``: rho > 1).
    Dense without: norm and power-iteration bounds (:data:`POWER_MAX_ITER` steps at most).
    Assumes ``A >= 0`` (:func:`validate`).
    """
    if isinstance(m, StructuredMRIO):
        r = perron_root(m.a_nat)
        return r, r
    if lu_piv is None:
        lower, upper, _ = _dense_rho_bounds(m.Z, m.x)
        return lower, upper
    y = scipy.linalg.lu_solve(lu_piv, np.ones(m.x.shape[0]), check_finite=False)
    if not (y > 0).all():
        return 1.0, float("inf")
    return float(1.0 - 1.0 / y.min()), float(1.0 - 1.0 / y.max())


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
    dev = np.abs(m.shares.sum(axis=1) - 1.0)  # (S, n): over supplying cities i
    if (dev > SHARE_TOL).any():
        s, j = _first(dev > SHARE_TOL)
        raise MRIOError(
            f"{pre}shares of product {sectors[s]} used in city {cities[j]} sum to"
            f" {float(m.shares[s, :, j].sum())!r}, not 1 (tolerance {SHARE_TOL:g})"
        )
    colsum = m.a_nat.sum(axis=0)
    rho = perron_root(m.a_nat)
    if rho > 1.0 - RCOND_MIN:
        r = int(np.argmax(colsum))
        _check_rho(rho, rho, f"{rho:.6g} (Perron root of a_nat)",
                   f"largest Perron-vector component at sector {sectors[_perron_vector_argmax(m.a_nat)]};"
                   f" largest a_nat column sum {colsum[r]:.6g} (sector {sectors[r]})", pre)
    _warn_column_sums(colsum, lambda r: f"sector {sectors[r]} (a_nat column)", pre)


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
        if name != "F" and (arr < 0).any():  # negative final demand is data (inventory drawdowns)
            idx = _first(arr < 0)
            raise MRIOError(f"{pre}negative {name}{list(idx)} = {arr[idx]:.6g}: {_describe(name, idx, cities, where)}")

    colsum_z = m.Z.sum(axis=0)
    bad = np.flatnonzero((m.x == 0) & (colsum_z > 0))
    if bad.size:
        raise MRIOError(f"{pre}{where(int(bad[0]))} has intermediate inputs {colsum_z[bad[0]]:.6g} but zero gross output")
    # rule 3: intermediate uses + domestic final demand within gross output
    uses_z, uses_f = m.Z.sum(axis=1), m.F.sum(axis=1)
    excess = uses_z + uses_f - m.x
    allowed = BALANCE_TOL * np.maximum(m.x, 1e-12 * float(m.x.max(initial=0.0)))
    bad = np.flatnonzero(excess > allowed)
    if bad.size:
        k = int(bad[np.argmax(excess[bad] / np.maximum(m.x[bad], 1e-300))])
        raise MRIOError(
            f"{pre}uses of {where(k)} exceed its gross output: intermediate uses {uses_z[k]:.6g} + domestic"
            f" final demand {uses_f[k]:.6g} > x = {m.x[k]:.6g} (by {excess[k]:.6g}), so its exports and"
            f" other uses would be negative ({bad.size} row(s) in total; tolerance {BALANCE_TOL:g} of x)")
    colsum = np.divide(colsum_z, m.x, out=np.zeros_like(colsum_z), where=m.x > 0)
    # rule 1: spectral radius below 1 (bounds here; exact check with the LU in leontief_lu)
    lower, upper, steps = _dense_rho_bounds(m.Z, m.x)
    if lower > 1.0 - RCOND_MIN:
        diag = np.diagonal(m.Z) * np.divide(1.0, m.x, out=np.zeros_like(m.x), where=m.x > 0)
        k = int(np.argmax(diag)) if diag.max() >= lower else int(np.argmax(colsum))
        _check_rho(lower, upper, f"at least {lower:.6g} (bounds after {steps} power-iteration step(s))",
                   f"see {where(k)}: A diagonal {diag[k]:.6g}, column sum {colsum[k]:.6g}", pre)
    _warn_column_sums(colsum, lambda k: f"{where(k)} (column of A = Z / x)", pre)


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
    shares and output (final demand may be negative), trade-share columns summing
    to 1 (within ``SHARE_TOL``, structured form), and the solvability rules of the
    module docstring: spectral radius of ``A`` below 1 (structured: exact Perron
    root of ``a_nat``; dense: norm and power-iteration bounds, the exact test being
    in :func:`leontief_lu`), coefficient column sums ``>= 1`` as a
    :class:`MRIOWarning`, and (dense) uses within gross output. ``label`` (e.g. the
    year) prefixes every message. Cost: linear in the array sizes, plus for a dense
    system whose column and row sums both reach 1 up to :data:`POWER_MAX_ITER`
    products of ``Z`` with a vector.
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


def leontief_matrix(m: DenseMRIO, block: int = 1024, dtype=np.float64) -> np.ndarray:
    """The Leontief matrix ``I - A`` (n*S, n*S) of a dense system, in a single allocation.

    Fortran-ordered, so ``scipy.linalg.lu_factor(..., overwrite_a=True)``
    factorises it in place; ``dtype`` float64 (default) or float32 (half the
    memory, for :func:`solve_dense`'s mixed precision). Columns with ``x == 0``
    have ``A = 0``. Does not validate.
    """
    N = m.x.shape[0]
    neg_inv_x = -np.divide(1.0, m.x, out=np.zeros_like(m.x), where=m.x > 0)
    M = np.empty((N, N), order="F", dtype=dtype)
    for start in range(0, N, block):  # column blocks: contiguous writes into M
        cols = slice(start, start + block)
        np.multiply(m.Z[:, cols], neg_inv_x[cols], out=M[:, cols], casting="same_kind")
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


def _factor(m: DenseMRIO, pre: str, dtype=np.float64) -> tuple[np.ndarray, np.ndarray, float]:
    """LU of ``I - A`` in ``dtype`` and the LAPACK ``xGECON`` estimate of its reciprocal 1-norm
    condition number; an exact zero pivot raises :class:`MRIOError` naming the column."""
    M = leontief_matrix(m, dtype=dtype)
    anorm = _norm1(M)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        lu, piv = scipy.linalg.lu_factor(M, overwrite_a=True, check_finite=False)
    pivots = np.abs(np.diagonal(lu))
    zero = np.flatnonzero(pivots == 0)
    if zero.size:
        raise MRIOError(f"{pre}(I - A) is singular: zero pivot at column {_where(m.cities, m.sectors, int(zero[0]))}")
    gecon = lapack.get_lapack_funcs("gecon", (lu,))
    rcond, info = gecon(lu, anorm, norm="1")
    return lu, piv, float(rcond) if info == 0 and np.isfinite(rcond) else 0.0


def _check_rho_exact(y: np.ndarray, m: DenseMRIO, pre: str) -> None:
    """Rule 1 exactly: ``y = (I - A)^-1 1 >= 1`` when rho(A) < 1; rho > 1 gives a negative entry."""
    if not (y.min(initial=1.0) >= 0.5):  # 0.5 separates the two cases
        k = int(np.argmin(y))
        raise MRIOError(
            f"{pre}the spectral radius of A is >= 1 (Hawkins-Simon condition fails: (I - A)^-1 1 has"
            f" entry {y[k]:.6g} < 1 at {_where(m.cities, m.sectors, k)}, where rho(A) < 1 would give at least 1)"
        )


def leontief_lu(m: DenseMRIO, label: object | None = None) -> tuple[np.ndarray, np.ndarray]:
    """LU factors ``(lu, piv)`` of ``I - A`` for a dense system (for ``scipy.linalg.lu_solve``).

    Raises :class:`MRIOError` if a pivot is exactly zero (naming the first
    column, as city/sector, that is linearly dependent on the preceding ones),
    if the LAPACK ``dgecon`` estimate of the reciprocal 1-norm condition
    number is below ``RCOND_MIN`` (naming the column of the smallest pivot), or
    if the spectral radius of ``A`` is not below 1: ``y = (I - A)^-1 1`` has an
    entry below 1 (naming its row; exact test, module docstring rule 1; one
    extra ``lu_solve``). Does not run :func:`validate`.
    """
    return _leontief_lu(m, _prefix(label))[:2]


def _leontief_lu(m: DenseMRIO, pre: str) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`leontief_lu` and the reciprocal condition estimate."""
    lu, piv, rcond = _factor(m, pre)
    if rcond < RCOND_MIN:
        k = int(np.argmin(np.abs(np.diagonal(lu))))
        raise MRIOError(
            f"{pre}(I - A) is ill-conditioned: reciprocal condition estimate {rcond:.3g}"
            f" < {RCOND_MIN:g}; smallest pivot at column {_where(m.cities, m.sectors, k)}"
        )
    # spectral radius below 1, exactly (module docstring, rule 1): y = (I - A)^-1 1 >= 1 iff rho < 1
    _check_rho_exact(scipy.linalg.lu_solve((lu, piv), np.ones(lu.shape[0]), check_finite=False), m, pre)
    return lu, piv, rcond


#: Rows from which :func:`solve_dense` (``precision="auto"``) factorises in single precision.
MIXED_MIN_ROWS: int = 4096
#: Smallest reciprocal condition estimate of the single-precision LU for which iterative
#: refinement is used (refinement contracts the error by about cond * 6e-8 per step); below it
#: :func:`solve_dense` factorises in double precision.
MIXED_RCOND_MIN: float = 1e-4


def solve_dense(m: DenseMRIO, label: object | None = None, precision: str = "auto", tol: float = 1e-13,
                max_refine: int = 8) -> tuple[np.ndarray, dict]:
    """``X = (I - A)^-1 F`` (n*S, n) of a dense system, 10k yuan, factorising ``I - A`` once for
    every demanding city (all columns of ``F`` in one ``lu_solve``), and what the solve did.

    ``precision``: "double" (float64 LU, :func:`leontief_lu`), "mixed" or "auto" (mixed from
    :data:`MIXED_MIN_ROWS` rows). Mixed: LU of ``I - A`` in float32 (half the memory and about half
    the time of float64; a full-size CEADs year has 12,833 rows), then iterative refinement in
    float64 (Wilkinson 1963; Moler 1967, J. ACM 14:316; Higham 2002, *Accuracy and Stability of
    Numerical Algorithms*, ch. 12): with the residual ``R = F - (I - A) X = F - X + Z (X / x)``
    computed from ``Z`` in float64, ``X <- X + LU32^-1 R``, until ``max|R| <= tol * max|F|``
    (a backward error; the forward error is at most about cond(I - A) times it). It needs
    ``cond(I - A) * 6e-8 << 1``: with an estimated reciprocal condition below
    :data:`MIXED_RCOND_MIN`, or refinement that stops contracting, the solve falls back to
    double. The exact spectral-radius test (module docstring, rule 1) rides along as one more
    column (``(I - A)^-1 1``). Raises :class:`MRIOError` as :func:`leontief_lu`. Does not validate.

    info: precision ("double" or "mixed"), refinements (steps), residual (``max|F - (I - A) X| /
    max|F|``), rcond (estimate, of the LU used).
    """
    if precision not in ("auto", "double", "mixed"):
        raise ValueError(f"precision {precision!r} is not one of 'auto', 'double', 'mixed'")
    pre = _prefix(label)
    N = m.x.shape[0]
    F = np.asarray(m.F, dtype=np.float64)
    inv_x = np.divide(1.0, m.x, out=np.zeros_like(m.x), where=m.x > 0)
    rhs = np.column_stack([F, np.ones(N)])
    scale = max(float(np.abs(F).max(initial=0.0)), 1e-300)

    def residual(X: np.ndarray) -> np.ndarray:
        R = rhs - X
        R += m.Z @ (X * inv_x[:, None])
        return R

    if precision == "mixed" or (precision == "auto" and N >= MIXED_MIN_ROWS):
        lu, piv, rcond = _factor(m, pre, np.float32)
        if rcond >= MIXED_RCOND_MIN:
            X = scipy.linalg.lu_solve((lu, piv), rhs.astype(np.float32), check_finite=False).astype(np.float64)
            last, steps = np.inf, 0
            while True:
                R = residual(X)
                res = float(np.abs(R[:, :-1]).max(initial=0.0)) / scale
                res1 = float(np.abs(R[:, -1]).max(initial=0.0))
                if (res <= tol and res1 <= tol) or steps >= max_refine or res > 0.5 * last:
                    break
                X += scipy.linalg.lu_solve((lu, piv), R.astype(np.float32), check_finite=False)
                last, steps = res, steps + 1
            if res <= tol and res1 <= tol:
                del lu
                _check_rho_exact(X[:, -1], m, pre)
                return X[:, :-1], {"precision": "mixed", "refinements": steps, "residual": res, "rcond": rcond}
        del lu, piv
    lu, piv, rcond = _leontief_lu(m, pre)
    X = scipy.linalg.lu_solve((lu, piv), F, check_finite=False)
    del lu
    R = F - X
    R += m.Z @ (X * inv_x[:, None])
    return X, {"precision": "double", "refinements": 0, "residual": float(np.abs(R).max(initial=0.0)) / scale,
               "rcond": rcond}


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

    Stops once ``max|P_k| <= tol * max|X|``; the terms shrink geometrically at
    the rate ``rho(a_nat)`` (the spectral radius of ``A``, module docstring), so
    the remaining tail is about ``rho / (1 - rho)`` times the last update.
    Final demand may be negative (then so may be terms of the series).
    ``iterations`` counts products with ``A``. Raises :class:`MRIOError`
    after ``max_iter`` products. Does not run :func:`validate`.
    """
    n, S = m.n_cities, m.n_sectors
    # C order throughout: ``reshape`` below must give views, or ``out=`` would write into copies
    t = np.ascontiguousarray(m.shares)  # (S, n, n)
    P = np.ascontiguousarray(t * m.final_demand.T[:, None, :])  # F in sector-major layout (S, n, n)
    X = P.copy()
    W = np.empty_like(P, order="C")
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


def _check_output_not_negative(m: StructuredMRIO, x: np.ndarray, label: object | None) -> None:
    """Structured rule 3: implied gross output (n, S) >= 0, within 1e-9 of the largest."""
    tol = 1e-9 * float(np.abs(x).max(initial=0.0))
    if (x < -tol).any():
        i, s = _first(x == x.min())
        raise MRIOError(
            f"{_prefix(label)}the gross output of city {m.cities[i]} sector {m.sectors[s]} implied by the"
            f" system is negative ({x[i, s]:.6g}): negative final demand there (inventory drawdowns)"
            f" exceeds every other use of its output ({int((x < -tol).sum())} (city, sector) in total)"
        )


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
    the iteration count), then the implied gross output ``X.sum(axis=2)`` must
    not be negative (rule 3 of the module docstring; :class:`MRIOError` naming
    the city and sector). Dense form: :func:`solve_dense` (one LU of ``I - A``
    for every demanding city; single precision refined to double from
    :data:`MIXED_MIN_ROWS` rows); ``tol``/``max_iter`` are ignored.
    """
    validate(m, label)
    n, S = m.n_cities, m.n_sectors
    if isinstance(m, StructuredMRIO):
        X = solve_structured(m, tol=tol, max_iter=max_iter, label=label)[0]
        _check_output_not_negative(m, X.sum(axis=2), label)
        return X
    X, _info = solve_dense(m, label)
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


def release_pages(*arrays: np.ndarray) -> None:
    """Drop the resident pages of arrays memory-mapped from a file (``np.load(mmap_mode="r")``,
    as the bundle holds a dense CEADs year: 1.3 GB at full size), so that a process that has read
    several years does not keep them all resident. The pages stay in the operating system's page
    cache: touching the array again reads them back. No-op for ordinary arrays."""
    import mmap

    for a in arrays:
        b = a
        while b is not None:
            mm = getattr(b, "_mmap", None) if isinstance(b, np.memmap) else None
            if mm is not None:
                try:
                    mm.madvise(mmap.MADV_DONTNEED)
                except (AttributeError, OSError, ValueError):  # platform without madvise, or closed
                    pass
                break
            b = getattr(b, "base", None)


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
        release_pages(m.Z)
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
