r"""Exact fast fixed-effects engine: pair + period effects, one transformation per sample, many models.

Model (every model of the book, :mod:`intercity.models`), on the pair panel (:mod:`intercity.panel`):

    y_pt = x_pt' b + mu_p + eta_t + e_pt        p = ordered city pair (``pair_id``), t = ``period``

Within estimator
----------------
Let M_D be the residual maker of the pair and period dummies on the rows of a sample. Then
b = (X~'X~)^{-1} X~'y~ with X~ = M_D X, y~ = M_D y (Frisch-Waugh-Lovell), and the within residual
is u = y~ - X~ b.

Two periods (the study's panel): a pair seen in only one period of the sample (a *singleton*) is
fitted exactly by its own dummy, so its row of X~ and u is zero; it carries no within variation and
drops out of b. For the n pairs seen in both periods, with first differences d = x_p2 - x_p1 and
their mean over pairs dbar (the period effect),

    x~_p1 = -(d_p - dbar)/2,  x~_p2 = +(d_p - dbar)/2,

so b is OLS of Dy - mean on DX - mean (first differences with an intercept). The engine works with
w_p = (d_p - dbar)/sqrt(2), one row per pair, which reproduces the row-level quantities exactly:
sum_p w_p w_p' = X~'X~, the pair's two residuals have squares summing to e_p^2 where e_p is the
residual of w, and the pair's two scores x~_pt u_pt sum to w_p e_p. Each sample is differenced once
(all candidate columns), its cross-product C = W'W formed once, and every model on it solves a
sub-block: b = C_xx^{-1} C_xy. More than two periods: the sample's columns are demeaned once by
pyfixest's own alternating-projections demeaner (``pyfixest.core.demean.demean``) and reused.

Goodness of fit as pyfixest reports it (``fit._r2``, ``fit._r2_within``): with N the sample's rows
(singletons included, as ``fixef_rm="none"`` counts them), R2 = 1 - u'u / sum_i (y_i - ybar)^2 and
within R2 = 1 - u'u / y~'y~.

Collinearity: a regressor is dropped, as pyfixest does (fixest's rule), when the pivot of the
Cholesky factorisation of X~'X~, taken in the formula's order, falls below ``collin_tol`` = 1e-9
(absolute); it is reported as not identified (coefficient NaN). A regressor with no variation
within pairs has X~ = 0 and is always dropped.

Cluster-robust variance (CRV1)
------------------------------
With scores s_i = x~_i u_i and clusters g,

    V_g = c_g * B M_g B,    B = (X~'X~)^{-1},    M_g = sum_g (sum_{i in g} s_i)(sum_{i in g} s_i)',

    c_g = G/(G-1) * (N-1)/(N-K)        (pyfixest ``ssc(k_adj=True, k_fixef="nonnested",
                                        G_adj=True, G_df="min")``, as Stata reghdfe and R fixest)

- N: rows of the sample (singletons included).
- K = k + (P + T - 1) - (levels of the fixed effects nested in a cluster) + (number of such fixed
  effects): k identified regressors, P pairs, T periods; a fixed effect is nested when every one of
  its levels lies in a single cluster (of any of the clustering's variables). Pair effects are
  nested in pair, origin and destination clusters, so normally K = k + T.
- G: number of clusters among the sample's rows (singletons' clusters included). Two-way
  (Cameron, Gelbach and Miller 2011, JBES 29(2)): V = V_origin + V_dest - V_{origin x dest}, where
  each of the three terms gets the SAME factor c with G = min(G_origin, G_dest, G_{origin x dest})
  (``G_df="min"``) and the intersection is the ordered pair. pyfixest does not repair a two-way
  variance that is not positive semi-definite (no eigenvalue clipping): a negative diagonal
  element gives a NaN standard error, and so does this engine (``note_<clustering>`` says so).
- Degrees of freedom of t, p and the intervals: G - 1 (two-way: min G - 1). p = 2 P(T > |t|)
  (``scipy.special.stdtr``; pyfixest writes 2 (1 - F(|t|)), equal but for p below ~1e-16).

Only the reported (first) coefficient's variance is computed: with h = X~ b0, b0 the first row of
B, b0' M_g b0 = sum_g (sum_{i in g} h_i u_i)^2, O(N) per model and clustering once the residuals are
known (O(N k)). The pair-clustered FD meat is the sum over pairs; the two-way intersection
(origin x destination = the ordered pair) is the same sum and is computed once.

Dyadic-robust variance (Fafchamps and Gubert 2007, J. Dev. Econ. 83(2); Aronow, Samii and
Assenova 2015, Political Analysis 23(4)): two rows are correlated when their pairs share a city in
any role (origin or destination), across periods:

    M_dyadic = sum_{i,j: {o_i,d_i} & {o_j,d_j} nonempty} s_i s_j'
             = sum_c T_c T_c' - sum_u U_u U_u',

T_c the sum of the scores of the rows touching city c, U_u the sum over the rows of the unordered
dyad u = {o, d} (the ordered pair and its reverse, every period): sum_c T_c T_c' counts a
(i, j) once per shared city, and rows sharing both cities (same unordered dyad) are counted twice,
hence the subtraction. O(N k^2) for the whole matrix (O(N) for the reported coefficient, as
above), checked against the O(N^2) double sum in tests/test_engine.py.
Small-sample factor (this engine's convention; pyfixest has no dyadic option): c = G/(G-1) *
(N-1)/(N-K) with G the number of distinct cities in the sample and K as for two-way, and t with
G - 1 degrees of freedom. Why: cities are the units whose shocks the estimator pools (the dyadic
sum is the union of the city clusters, as two-way is of the origin and destination clusters), so
the CRV1 factor is applied with cities as the clusters, exactly as ``G_df="min"`` applies it to the
two-way SE printed beside it; the two are then on the same footing. The plain sum of Fafchamps-Gubert
and Aronow-Samii-Assenova is c = 1; ``ssc_dyadic`` reports c, so either can be recovered.
Like two-way, M_dyadic need not be positive semi-definite; a negative variance gives NaN.

Agreement with pyfixest (tests/test_engine.py, tests/test_models.py, benchmarks/engine.py): every
book model at ci scale equals pyfixest 0.60 with its demeaner converged
(``MapDemeaner(fixef_tol=1e-12)``) to 1e-8 relative in coefficient and SE (measured: 3e-11 and
4e-12) under pair, origin, destination and two-way clustering. pyfixest's default demeaner tolerance (1e-6) leaves its own SEs off by up to a few 1e-6
(relative) on this panel, so its default is not a 1e-8 yardstick. Saturated fits (df_resid = 0)
have residuals that are exactly zero; their SEs, in both, are rounding noise around 0.

Randomization (:func:`permutation_fit`, :func:`fit_and_permute`)
----------------------------------------------------------------
The specification-curve test re-runs many models on shuffled data: in each of R replications the
pairs of the panel are shuffled once and every pair takes the reported regressor's path of the pair
it was shuffled onto. On two periods that replaces the regressor's column of w by a permutation of
its first differences (centred again); each model is re-fitted by Frisch-Waugh-Lovell on its other
regressors (x~ = M_Z x*, b = x~'y~ / x~'x~, scores (x~ / x~'x~) e), with the same clusters and
small-sample factors as the fit. Within-cluster score sums by city come from one small product per
city on rows sorted by city (a city's dyadic sum is its origin sum plus its destination sum), and
clusters of one observation need only the squared scores; equal to :func:`fit` on the shuffled
panel to rounding (tests/test_multiverse.py).

Output of :func:`fit` (wide: one row per model)
-------------------------------------------------
key, table, column, sample, tier, dependent, regressor, controls ("yes"/"no"), nobs, r2,
r2_within, cluster, coef, then the headline inference se, t, p, stars, ci90_low/high,
ci95_low/high (that of the FIRST clustering asked for, which ``cluster`` names); for every
clustering c asked for: ``se_c, t_c, p_c, stars_c, ci90_low_c, ci90_high_c, ci95_low_c,
ci95_high_c, G_c`` (clusters among the sample's rows, two-way: the min), ``G_effective_c`` (the
same count over the rows of pairs seen in two or more periods, the only rows with a non-zero score),
``df_t_c``, ``ssc_c`` (the factor c) and ``note_c``. Identification columns: ``n_regressors``
(asked), ``rank`` (identified regressors), ``collinear`` (the dropped ones, ", "-joined),
``nobs_effective`` (rows of pairs seen in two or more periods), ``n_pairs``, ``n_singletons``,
``df_resid`` = nobs_effective - (pair and period effects' rank) - rank (two periods: FD
observations - 1 - rank), ``period_rank`` (rank of the period effects once the pair effects are
in: 1 with two periods and a pair seen in both), and ``n_nonfinite`` (rows of the sample left out
because a column of this model is NaN or infinite, as pyfixest drops them), ``dependent_column``
and ``controls_entered`` (the panel columns used).
The caller decides what a saturated fit (df_resid <= 0 or tiny) means: :func:`intercity.models.fit_specs`
applies the book's identification rule and names controls and lost rows around this output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from scipy.special import stdtr, stdtrit  # Student t cdf and quantile (what scipy.stats.t calls)

#: Clusterings the engine computes (``twoway`` = origin + destination city, Cameron-Gelbach-Miller).
CLUSTERINGS: tuple[str, ...] = ("pair", "origin", "dest", "twoway", "dyadic")
#: The small-sample convention of every CRV1 variance above, as the arguments of pyfixest's
#: ``pf.ssc`` that reproduce it (Stata reghdfe, R fixest): pass ``ssc=SSC`` to ``pyfixest.feols``
#: to compare (tests/test_engine.py, tests/test_models.py).
SSC: dict = {"k_adj": True, "k_fixef": "nonnested", "G_adj": True, "G_df": "min"}
#: pyfixest ``feols``'s default ``collin_tol``: absolute threshold on the Cholesky pivots of X~'X~.
COLLIN_TOL = 1e-9
#: Tolerance of pyfixest's alternating-projections demeaner (more than two periods only); tighter
#: than pyfixest's default 1e-6 so that the engine is exact to well below 1e-8.
DEMEAN_TOL = 1e-10

SampleRule = None | tuple[str, object] | np.ndarray | Callable[[pd.DataFrame], np.ndarray]


@dataclass(frozen=True)
class Model:
    """One regression ``dependent ~ regressors + controls | pair + period`` on ``sample`` (and
    distance ``tier``); the first regressor is the one reported. All names are panel columns.

    ``label`` is the dependent's name shown in the output (default: the column name); ``table`` and
    ``column`` are free labels carried to the output.
    """

    key: str
    dependent: str
    regressors: tuple[str, ...]
    controls: tuple[str, ...] = ()
    sample: str = "all"
    tier: str = ""
    table: str = ""
    column: int = 0
    label: str = ""


def _as_model(spec) -> Model:
    """An engine :class:`Model` from a :class:`Model` or a ``models.Spec``-like object (``key,
    table, column, sample, tier, dependent, dependent_column, regressors, rhs()``)."""
    if isinstance(spec, Model):
        return spec
    rhs = [c.strip() for c in spec.rhs().split("+") if c.strip()]
    regs = tuple(spec.regressors)
    return Model(key=spec.key, dependent=spec.dependent_column, regressors=regs,
                 controls=tuple(c for c in rhs if c not in regs), sample=spec.sample,
                 tier=spec.tier, table=spec.table, column=spec.column, label=spec.dependent)


def collinear(xtx: np.ndarray, tol: float = COLLIN_TOL) -> np.ndarray:
    """Boolean mask of the columns pyfixest (and fixest) drop as collinear.

    ``xtx``: (k, k) cross-product of the within-transformed regressors, in formula order. Cholesky
    factorisation in that order; a column whose pivot (squared) falls below ``tol`` is dropped and
    skipped in later pivots (pyfixest ``find_collinear_variables``, fixest ``lm_related.cpp``).
    """
    k = xtx.shape[0]
    r = np.zeros((k, k))
    drop = np.zeros(k, bool)
    for j in range(k):
        keep = ~drop[:j]
        rjj = xtx[j, j] - np.dot(r[:j, j][keep], r[:j, j][keep])
        if rjj < tol:
            drop[j] = True
            continue
        rjj = np.sqrt(rjj)
        r[j, j] = rjj
        if j + 1 < k:
            r[j, j + 1:] = (xtx[j + 1:, j] - (r[:j, j + 1:][keep] * r[:j, j][keep][:, None]).sum(0)) / rjj
    return drop


# ----------------------------------------------------------------------------- panel and samples

class _Panel:
    """Integer codes of the panel's identifiers and a cache of its numeric columns."""

    def __init__(self, panel: pd.DataFrame, pair: str, period: str, origin: str, dest: str):
        for c in (pair, period, origin, dest):
            if c not in panel.columns:
                raise KeyError(f"panel has no column {c!r} (needed for the fixed effects and clusters)")
            if panel[c].isna().any():
                r = int(np.flatnonzero(panel[c].isna().to_numpy())[0])
                raise ValueError(f"panel column {c!r} is missing in row {r}: every row needs a "
                                 f"{pair}, {period}, {origin} and {dest}")
        self.frame = panel
        self.n = len(panel)
        self.pair = pd.factorize(panel[pair])[0]
        labels = np.sort(panel[period].unique())
        self.period = np.searchsorted(labels, panel[period].to_numpy())
        self.n_periods = len(labels)
        codes, cities = pd.factorize(pd.concat([panel[origin], panel[dest]], ignore_index=True).astype(str))
        self.n_cities = len(cities)
        self.origin, self.dest = codes[: self.n], codes[self.n:]
        self.inter = pd.factorize(self.origin.astype(np.int64) * self.n_cities + self.dest)[0]  # origin x dest
        self.n_pairs = int(self.pair.max()) + 1 if self.n else 0
        #: number of possible codes of each identifier (codes are dense integers below it)
        self.size = {"pair": self.n_pairs, "period": self.n_periods, "origin": self.n_cities,
                     "dest": self.n_cities, "inter": int(self.inter.max()) + 1 if self.n else 0}
        cell = self.pair.astype(np.int64) * self.n_periods + self.period
        if _nunique(cell, self.n_pairs * self.n_periods) < self.n:
            dup = pd.Series(cell).duplicated().to_numpy()
            r = int(np.flatnonzero(dup)[0])
            raise ValueError(f"panel row {r}: {pair}={panel[pair].iloc[r]!r} appears twice in "
                             f"{period}={panel[period].iloc[r]!r}; one row per pair and period is allowed")
        if self.n_periods <= 2:  # first differences: the row of each pair in each period
            self.pos = np.full((self.n_pairs, 2), -1, np.int64)
            self.pos[self.pair, self.period] = np.arange(self.n)
        self._cols: dict[str, np.ndarray] = {}
        self._finite: dict[str, np.ndarray] = {}

    def col(self, name: str) -> np.ndarray:
        if name not in self._cols:
            if name not in self.frame.columns:
                raise KeyError(f"panel has no column {name!r} (named by a model)")
            try:
                self._cols[name] = self.frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as err:
                raise TypeError(f"panel column {name!r} is not numeric ({self.frame[name].dtype}); "
                                "model variables must be numbers") from err
        return self._cols[name]

    def finite(self, name: str) -> np.ndarray:
        if name not in self._finite:
            self._finite[name] = np.isfinite(self.col(name))
        return self._finite[name]

    def matrix(self, names: list[str], rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), len(names)))
        for j, c in enumerate(names):
            out[:, j] = self.col(c)[rows]
        return out


def _sample_mask(p: _Panel, sample: str, tier: str, samples: Mapping[str, SampleRule]) -> np.ndarray:
    if sample == "all" and "all" not in samples:
        mask = np.ones(p.n, bool)
    else:
        if sample not in samples:
            raise KeyError(f"unknown sample {sample!r}; known: {sorted(set(samples) | {'all'})} "
                           "(pass samples=models.SAMPLES for the book's samples)")
        rule = samples[sample]
        if rule is None:
            mask = np.ones(p.n, bool)
        elif callable(rule):
            mask = np.asarray(rule(p.frame), bool).copy()
        elif isinstance(rule, np.ndarray):
            if rule.dtype != bool or rule.shape != (p.n,):
                raise ValueError(f"sample {sample!r}: a mask rule must be a boolean array of one value per "
                                 f"panel row ({p.n}), not {rule.dtype} of shape {rule.shape}")
            mask = rule.copy()
        else:
            mask = (p.frame[rule[0]] == rule[1]).to_numpy(copy=True)
    if tier:
        mask &= (p.frame["tier"] == tier).to_numpy()
    return mask


def _nunique(codes: np.ndarray, size: int | None = None) -> int:
    """Distinct values of non-negative integer ``codes`` (all below ``size``), in O(n + size)."""
    if not len(codes):
        return 0
    return int(np.count_nonzero(np.bincount(codes, minlength=size or 0)))


def _compress(codes: np.ndarray, size: int | None = None) -> tuple[np.ndarray, int]:
    """Codes renumbered 0..g-1 (order kept) and g, for non-negative integer codes below ``size``."""
    if not len(codes):
        return codes.astype(np.int64), 0
    present = np.bincount(codes, minlength=size or 0) > 0
    remap = np.cumsum(present) - 1
    return remap[codes], int(present.sum())


def _nested(fe: np.ndarray, n_fe: int, cl: np.ndarray) -> bool:
    """Every level of ``fe`` lies in a single cluster of ``cl`` (pyfixest's nesting rule), O(n)."""
    if not len(fe):
        return False
    lo = np.full(n_fe, np.iinfo(np.int64).max)
    hi = np.full(n_fe, -1, np.int64)
    np.minimum.at(lo, fe, cl)
    np.maximum.at(hi, fe, cl)
    seen = hi >= 0
    return bool((lo[seen] == hi[seen]).all())


def _indicator(codes: np.ndarray, n: int, size: int | None = None) -> sp.csr_matrix:
    inv, g = _compress(codes, size)
    return sp.csr_matrix((np.ones(n), (inv, np.arange(n))), shape=(g, n))


@dataclass
class _Group:
    """One sample (with one set of rows valid for its models), transformed once."""

    cols: list[str]
    index: dict[str, int]
    W: np.ndarray               # (n_w, p) within-transformed columns (FD: (d - mean d)/sqrt 2)
    C: np.ndarray               # (p, p) W'W
    ssy: dict[str, float]       # total sum of squares of each dependent over the sample's rows
    N: int
    n_pairs: int
    n_periods: int
    nobs_effective: int
    fe_rank: int
    period_rank: int            # rank of the period effects once the pair effects are in
    work: np.ndarray            # panel rows of the working observations (FD: each pair's later row)
    o_work: np.ndarray          # city codes (0..n_cities-1) of the working observations' origins
    d_work: np.ndarray          # ... and destinations
    n_cities: int
    # per clustering: (list of indicator matrices with signs, G for the factor, K-adjustment terms)
    clusters: dict[str, dict] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)    # id(indicator) -> origin, dest, inter, city, dyad
    cache: dict = field(default_factory=dict)              # permutation kernels' sorted clusters


def _build_group(p: _Panel, mask: np.ndarray, cols: list[str], deps: list[str],
                 clusterings: tuple[str, ...], demean_tol: float) -> _Group:
    rows = np.flatnonzero(mask)
    N = len(rows)
    pair_r, period_r = p.pair[rows], p.period[rows]
    n_pairs, n_periods = _nunique(pair_r, p.n_pairs), _nunique(period_r, p.n_periods)
    ssy = {}
    for d in deps:
        y = p.col(d)[rows]
        ssy[d] = float(np.sum((y - y.mean()) ** 2)) if N else float("nan")
    if p.n_periods <= 2:
        a, b = p.pos[:, 0], p.pos[:, 1]
        both = (a >= 0) & (b >= 0)
        both[both] &= mask[a[both]] & mask[b[both]]
        a, b = a[both], b[both]
        D = p.matrix(cols, b) - p.matrix(cols, a)
        if len(D):
            D -= D.mean(axis=0)
        W = D / np.sqrt(2.0)
        work = b  # one working observation per pair, carrying the pair's identifiers
        nobs_eff, fe_rank = 2 * len(b), (len(b) + 1 if len(b) else 0)
        period_rank = 1 if len(b) else 0
    else:
        from pyfixest.core.demean import demean  # pyfixest's MAP demeaner (import is slow: lazy)
        flist = np.column_stack([_compress(pair_r, p.n_pairs)[0],
                                 _compress(period_r, p.n_periods)[0]]).astype(np.uint64)
        X = p.matrix(cols, rows)
        W, ok = demean(np.ascontiguousarray(X), flist, np.ones(N), tol=demean_tol, maxiter=100_000)
        if not ok:
            raise RuntimeError(f"pyfixest's demeaner did not converge to {demean_tol} on a sample "
                               f"of {N} rows")
        cnt = np.bincount(flist[:, 0].astype(np.int64))  # rows per pair
        eff = cnt[flist[:, 0].astype(np.int64)] >= 2
        W = W[eff]
        work = rows[eff]
        nobs_eff = int(eff.sum())
        fe_rank = _fe_rank(p.pair[work], p.n_pairs, p.period[work], p.n_periods)
        period_rank = fe_rank - _nunique(p.pair[work], p.n_pairs)
    W = np.asfortranarray(W)  # columns contiguous: models gather column subsets
    C = W.T @ W
    g = _Group(cols=cols, index={c: j for j, c in enumerate(cols)}, W=W, C=C, ssy=ssy, N=N,
               n_pairs=n_pairs, n_periods=n_periods, nobs_effective=nobs_eff, fe_rank=fe_rank,
               period_rank=period_rank, work=work, o_work=p.origin[work], d_work=p.dest[work],
               n_cities=p.n_cities)
    # clusters: the variables of each clustering over the sample's rows, and over working obs
    var_rows = {"pair": p.pair[rows], "origin": p.origin[rows], "dest": p.dest[rows],
                "inter": p.inter[rows]}
    var_work = {"pair": p.pair[work], "origin": p.origin[work], "dest": p.dest[work],
                "inter": p.inter[work]}
    fes = ((pair_r, p.n_pairs), (period_r, p.n_periods))
    fe_levels = (n_pairs, n_periods)
    n_w = len(work)
    ind: dict[str, sp.csr_matrix | None] = {}

    def indicator(v: str) -> sp.csr_matrix | None:
        """Cluster-sum matrix of variable v over the working observations; None when every
        working observation is its own cluster (FD: pair, and origin x destination)."""
        if v not in ind:
            ind[v] = None if _nunique(var_work[v], p.size[v]) == n_w else _indicator(var_work[v], n_w, p.size[v])
        return ind[v]

    for c in clusterings:
        variables = {"pair": ["pair"], "origin": ["origin"], "dest": ["dest"],
                     "twoway": ["origin", "dest", "inter"], "dyadic": ["origin", "dest"]}[c]
        nested = [any(_nested(fe, n_fe, var_rows[v]) for v in variables) for fe, n_fe in fes]
        k_nested = sum(lv for lv, f in zip(fe_levels, nested) if f)
        n_nested = sum(nested)
        if c == "dyadic":
            G = _nunique(np.concatenate([p.origin[rows], p.dest[rows]]), p.n_cities)
            G_eff = _nunique(np.concatenate([p.origin[work], p.dest[work]]), p.n_cities)
        else:
            G = min(_nunique(var_rows[v], p.size[v]) for v in variables)
            G_eff = min(_nunique(var_work[v], p.size[v]) for v in variables) if n_w else 0
        if c == "twoway":
            terms = [(indicator("origin"), 1.0), (indicator("dest"), 1.0), (indicator("inter"), -1.0)]
            kinds = ["origin", "dest", "inter"]
        elif c == "dyadic":
            terms = [(_city_indicator(p.origin[work], p.dest[work], p.n_cities), 1.0),
                     (_dyad_indicator(p.origin[work], p.dest[work], p.n_cities), -1.0)]
            kinds = ["city", "dyad"]
        else:
            terms = [(indicator(variables[0]), 1.0)]
            kinds = [variables[0]]
        g.kinds.update({id(A): kd for (A, _), kd in zip(terms, kinds) if A is not None})
        g.clusters[c] = {"terms": terms, "G": G, "G_effective": G_eff, "fe_adj": -k_nested + n_nested}
    return g


def _fe_rank(pair: np.ndarray, n_pair: int, period: np.ndarray, n_period: int) -> int:
    """Rank of the pair and period dummies: levels minus connected components (bipartite graph)."""
    from scipy.sparse.csgraph import connected_components

    pc, npair = _compress(pair, n_pair)
    tc, nper = _compress(period, n_period)
    if not len(pc):
        return 0
    adj = sp.csr_matrix((np.ones(len(pc)), (pc, npair + tc)), shape=(npair + nper, npair + nper))
    ncomp = connected_components(adj, directed=False)[0]
    return npair + nper - ncomp


def _city_indicator(o: np.ndarray, d: np.ndarray, n_cities: int) -> sp.csr_matrix:
    """(cities x n) matrix with a 1 at each observation's origin and destination city."""
    n = len(o)
    same = o == d
    r = np.concatenate([o, d[~same]])
    c = np.concatenate([np.arange(n), np.flatnonzero(~same)])
    inv, g = _compress(r, n_cities)
    return sp.csr_matrix((np.ones(len(r)), (inv, c)), shape=(g, n))


def _dyad_indicator(o: np.ndarray, d: np.ndarray, n_cities: int) -> sp.csr_matrix:
    """(unordered dyads x n) matrix; observations with origin == destination share one city only
    and are left out (they were not double-counted)."""
    n = len(o)
    keep = np.flatnonzero(o != d)
    lo, hi = np.minimum(o[keep], d[keep]), np.maximum(o[keep], d[keep])
    inv, g = _compress(pd.factorize(lo.astype(np.int64) * n_cities + hi)[0])
    return sp.csr_matrix((np.ones(len(keep)), (inv, keep)), shape=(g, n))


# ----------------------------------------------------------------------------- estimation

def _fit_batch(g: _Group, xcols: tuple[str, ...], ycols: list[str], clusterings: tuple[str, ...]) -> list[dict]:
    """Fit ``y ~ xcols`` on group ``g`` for every y in ``ycols``: the first regressor's coefficient
    and variance under every clustering, the identification facts and the fit (one dict per y).

    Only the reported coefficient's variance is needed: with h = W_x b0 (b0 the first row of the
    bread B), b0' M b0 = sum_g (sum_{i in g} h_i e_i)^2, so each clustering costs O(n) per model.
    """
    nan = float("nan")
    xi = np.array([g.index[c] for c in xcols])
    yi = np.array([g.index[c] for c in ycols])
    n_w = g.W.shape[0]
    drop = collinear(g.C[np.ix_(xi, xi)]) if n_w else np.ones(len(xi), bool)
    xk = xi[~drop]
    k = len(xk)
    reported = bool(not drop[0])
    base = dict(n_regressors=len(xcols), rank=k, collinear=", ".join(c for c, d in zip(xcols, drop) if d),
                nobs=g.N, nobs_effective=g.nobs_effective, n_pairs=g.n_pairs,
                df_resid=g.nobs_effective - g.fe_rank - k, period_rank=g.period_rank,
                reported_identified=reported)
    m = len(yi)
    if k:
        Cxx = g.C[np.ix_(xk, xk)]
        B = scipy.linalg.solve(Cxx, g.C[np.ix_(xk, yi)], assume_a="pos")  # (k, m) coefficients
        Wx = g.W[:, xk]
        E = g.W[:, yi] - Wx @ B                                              # (n_w, m) within residuals
    else:
        B, E = np.zeros((0, m)), g.W[:, yi]
    ssu = np.einsum("ij,ij->j", E, E)
    var = {c: np.full(m, nan) for c in clusterings}
    if reported:
        b0 = np.linalg.inv(Cxx)[0]          # first row of the bread (X~'X~)^{-1}
        Z = (Wx @ b0)[:, None] * E          # (n_w, m): b0's projection of every score
        sums: dict[int, np.ndarray] = {}    # per cluster indicator (pair and two-way share one)
        for c in clusterings:
            v = np.zeros(m)
            for A, sign in g.clusters[c]["terms"]:
                if id(A) not in sums:
                    T = Z if A is None else np.asarray(A @ Z)
                    sums[id(A)] = np.einsum("gj,gj->j", T, T)
                v += sign * sums[id(A)]
            var[c] = v
    out = []
    for j, y in enumerate(ycols):
        syy = float(g.C[g.index[y], g.index[y]]) if n_w else 0.0
        row = dict(base, r2=1 - ssu[j] / g.ssy[y] if g.ssy[y] else nan,
                   r2_within=1 - ssu[j] / syy if syy else nan, coef=float(B[0, j]) if reported else nan)
        for c in clusterings:
            cl = g.clusters[c]
            G = cl["G"]
            df_k = k + (g.n_pairs + g.n_periods - 1) + cl["fe_adj"]
            note = ""
            if G < 2:
                ssc, note = nan, "fewer than two clusters: no standard error"
            elif g.N - df_k <= 0:
                ssc, note = nan, "no residual degrees of freedom for the small-sample factor"
            else:
                ssc = G / (G - 1) * (g.N - 1) / (g.N - df_k)
            v = ssc * var[c][j]
            if reported and np.isfinite(v) and v < 0:
                note = f"negative {c} variance estimate: no standard error"
            row[c] = dict(se=float(np.sqrt(v)) if np.isfinite(v) and v >= 0 else nan,
                          G=G, G_effective=cl["G_effective"], df_t=G - 1, ssc=ssc, note=note)
        out.append(row)
    return out


_INFER = ("se", "t", "p", "stars", "ci90_low", "ci90_high", "ci95_low", "ci95_high")


def _stars_array(p: np.ndarray) -> np.ndarray:
    return np.select([p < 0.01, p < 0.05, p < 0.1], ["***", "**", "*"], "")


def _add_inference(out: pd.DataFrame, c: str) -> None:
    """t, p (two-sided, t with ``df_t_<c>`` degrees of freedom) and 90/95% intervals from
    ``coef`` and ``se_<c>``; NaN (and no stars) where the SE or the degrees of freedom are missing."""
    coef, se, df = out["coef"].to_numpy(float), out[f"se_{c}"].to_numpy(float), out[f"df_t_{c}"].to_numpy(float)
    ok = np.isfinite(coef) & np.isfinite(se) & (se > 0) & np.isfinite(df) & (df > 0)
    t = np.full(len(out), np.nan)
    p = np.full(len(out), np.nan)
    q90, q95 = np.full(len(out), np.nan), np.full(len(out), np.nan)
    t[ok] = coef[ok] / se[ok]
    p[ok] = 2.0 * stdtr(df[ok], -np.abs(t[ok]))
    q90[ok], q95[ok] = stdtrit(df[ok], 0.95), stdtrit(df[ok], 0.975)
    out[f"t_{c}"], out[f"p_{c}"] = t, p
    out[f"stars_{c}"] = np.where(ok, _stars_array(np.nan_to_num(p, nan=1.0)), "")
    out[f"ci90_low_{c}"], out[f"ci90_high_{c}"] = coef - q90 * se, coef + q90 * se
    out[f"ci95_low_{c}"], out[f"ci95_high_{c}"] = coef - q95 * se, coef + q95 * se


def fit(panel: pd.DataFrame, specs: Iterable, clusters: Iterable[str] = ("pair", "twoway"), *,
        samples: Mapping[str, SampleRule] | None = None, pair: str = "pair_id", period: str = "period",
        origin: str = "origin", dest: str = "dest", demean_tol: float = DEMEAN_TOL) -> pd.DataFrame:
    """Fit every spec with pair and period fixed effects, sharing the transformation per sample.

    Parameters
    ----------
    panel : the pair panel (:func:`intercity.panel.build`), one row per (``pair``, ``period``).
    specs : :class:`Model` objects or ``models.Spec``-like objects (``key, table, column, sample,
        tier, dependent, dependent_column, regressors, rhs()``); the first regressor is reported.
    clusters : clusterings, any of :data:`CLUSTERINGS`; the first is the headline (``se``, ``p``,
        ... and the ``cluster`` column), every one gets its ``se_<c>``, ``p_<c>``, ... columns.
    samples : sample name -> rule: None (every row), ``(column, value)`` (rows where column ==
        value; the format of ``models.SAMPLES``), a boolean array (one value per panel row) or a
        callable ``panel -> bool array``. ``"all"``
        needs no rule. A non-empty ``tier`` further keeps the rows whose ``tier`` column equals it.
    demean_tol : tolerance of pyfixest's demeaner, used only with more than two periods.

    Returns
    -------
    DataFrame, one row per spec in the given order; columns as in the module docstring.

    Raises
    ------
    KeyError : unknown sample, clustering or panel column. ValueError : a pair appears twice in a
    period, or an identifier is missing. TypeError : a model column is not numeric.
    """
    clusters = _clusterings(clusters)
    ms = [_as_model(s) for s in specs]
    p = _Panel(panel, pair, period, origin, dest)
    results: list[dict | None] = [None] * len(ms)
    for sg in _sample_groups(p, ms, dict(samples or {}), clusters, demean_tol):
        for xcols, bidx in sg.batches.items():
            ycols = list(dict.fromkeys(ms[i].dependent for i in bidx))
            fitted = dict(zip(ycols, _fit_batch(sg.group, xcols, ycols, clusters)))
            for i in bidx:
                results[i] = _tidy(ms[i], fitted[ms[i].dependent], clusters, sg.n_nonfinite, sg.n_singletons)
    return _assemble(results, clusters)


def _clusterings(clusters: Iterable[str]) -> tuple[str, ...]:
    clusters = tuple(clusters)
    bad = [c for c in clusters if c not in CLUSTERINGS]
    if bad or not clusters:
        raise KeyError(f"unknown clustering {bad[0] if bad else '(none given)'!r}; known: {list(CLUSTERINGS)}")
    return clusters


@dataclass
class _SampleGroup:
    """One transformed sample (:class:`_Group`) and the models fitted on it, in batches sharing
    their right-hand side (regressors + controls -> model indices)."""

    sample: str
    tier: str
    cut: frozenset
    group: _Group
    rows: np.ndarray
    batches: dict[tuple[str, ...], list[int]]
    n_nonfinite: int
    n_singletons: int


def _sample_groups(p: _Panel, ms: list[Model], samples: Mapping[str, SampleRule], clusters: tuple[str, ...],
                   demean_tol: float):
    """The models grouped as :func:`fit` shares work: by (sample, tier), then by the set of their
    columns whose non-finite values cut rows of the sample; each group transformed once."""
    by_sample: dict[tuple[str, str], list[int]] = {}
    for i, m in enumerate(ms):
        by_sample.setdefault((m.sample, m.tier), []).append(i)
    for (sample, tier), idx in by_sample.items():
        base = _sample_mask(p, sample, tier, samples)
        used = list(dict.fromkeys(c for i in idx for c in (ms[i].dependent,) + ms[i].regressors + ms[i].controls))
        cutting = {c for c in used if not p.finite(c)[base].all()}
        groups: dict[frozenset, list[int]] = {}
        for i in idx:
            m = ms[i]
            groups.setdefault(frozenset(cutting & {m.dependent, *m.regressors, *m.controls}), []).append(i)
        n_base = int(base.sum())
        for cut, gidx in groups.items():
            mask = base.copy()
            for c in cut:
                mask &= p.finite(c)
            cols = list(dict.fromkeys(c for i in gidx for c in (ms[i].dependent,) + ms[i].regressors + ms[i].controls))
            deps = list(dict.fromkeys(ms[i].dependent for i in gidx))
            g = _build_group(p, mask, cols, deps, clusters, demean_tol)
            rows = np.flatnonzero(mask)
            cnt = np.bincount(p.pair[rows], minlength=p.n_pairs)
            batches: dict[tuple[str, ...], list[int]] = {}
            for i in gidx:
                batches.setdefault(ms[i].regressors + ms[i].controls, []).append(i)
            yield _SampleGroup(sample, tier, cut, g, rows, batches, n_base - len(rows), int((cnt == 1).sum()))


def _tidy(m: Model, r: dict, clusters: tuple[str, ...], n_nonfinite: int, n_single: int) -> dict:
    reg = m.regressors[0]
    row = {"key": m.key, "table": m.table, "column": m.column, "sample": m.sample, "tier": m.tier,
           "dependent": m.label or m.dependent, "regressor": reg, "controls": "yes" if m.controls else "no",
           "nobs": r["nobs"], "r2": r["r2"], "r2_within": r["r2_within"], "cluster": clusters[0],
           "coef": r["coef"], "note": ""}
    if not r["reported_identified"]:
        row["note"] = f"not identified: {reg} has no variation within pairs in this sample"
    row.update(dependent_column=m.dependent, controls_entered=", ".join(m.controls),
               n_regressors=r["n_regressors"], rank=r["rank"], collinear=r["collinear"],
               nobs_effective=r["nobs_effective"], n_pairs=r["n_pairs"], n_singletons=n_single,
               df_resid=r["df_resid"], period_rank=r["period_rank"], n_nonfinite=n_nonfinite)
    for c in clusters:
        for k in ("se", "G", "G_effective", "df_t", "ssc", "note"):
            row[f"{k}_{c}"] = r[c][k]
    return row


def _assemble(rows: list[dict], clusters: tuple[str, ...]) -> pd.DataFrame:
    """The output frame: identification and fit columns, per-clustering inference, and the
    headline columns (the first clustering's), in the order the module docstring lists."""
    out = pd.DataFrame(rows)
    for c in clusters:
        _add_inference(out, c)
    head = pd.DataFrame({k: out[f"{k}_{clusters[0]}"] for k in _INFER})
    lead = ["key", "table", "column", "sample", "tier", "dependent", "regressor", "controls", "nobs",
            "r2", "r2_within", "cluster", "coef"]
    per = [f"{k}_{c}" for c in clusters for k in (*_INFER, "G", "G_effective", "df_t", "ssc", "note")]
    rest = [c for c in out.columns if c not in lead and c not in per]
    return pd.concat([out[lead], head, out[rest], out[per]], axis=1)


# ----------------------------------------------------------------------------- randomization

@dataclass
class Permuted:
    """Re-estimates of every model under R permutations (:func:`permutation_fit`).

    ``keys``: the models' keys, in the order given; ``coef``: (models, R) reported coefficients;
    ``se`` and ``p``: clustering -> (models, R) standard errors and two-sided p values (NaN where
    the model is not identified or the variance is not positive); ``df_t``: clustering -> (models,)
    degrees of freedom of t (G - 1); ``pairs`` (sorted pair ids) and ``permutations`` ((R, pairs)
    positions: in replication r, pair ``pairs[k]`` takes the regressor path of pair
    ``pairs[permutations[r, k]]``).
    """

    keys: list[str]
    coef: np.ndarray
    se: dict[str, np.ndarray]
    p: dict[str, np.ndarray]
    df_t: dict[str, np.ndarray]
    pairs: np.ndarray
    permutations: np.ndarray


def pair_permutations(seed: int, label: str, n: int, R: int) -> np.ndarray:
    """(R, n) permutations of n sorted pairs, seeded by ``seed`` and a sha256 of ``label`` (so
    every process, and every call on panels with the same pairs, draws the same ones)."""
    import hashlib

    h = int(hashlib.sha256(label.encode()).hexdigest()[:12], 16)
    rng = np.random.default_rng([seed, h])
    return np.stack([rng.permutation(n) for _ in range(R)]) if R else np.zeros((0, n), np.int64)


def _khatri_rao_structure(A: sp.csr_matrix, R: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sparsity of K (G R x n) with row (g, q) = row g of ``A``: (indptr, column of each entry,
    q of each entry, the entry of A it copies)."""
    G = A.shape[0]
    per_row = np.diff(A.indptr)
    tot = per_row * R
    g_of = np.repeat(np.arange(G), tot)
    t = np.arange(int(tot.sum())) - np.repeat(np.concatenate([[0], np.cumsum(tot)[:-1]]), tot)
    nz = per_row[g_of]
    entry = A.indptr[g_of] + t % np.maximum(nz, 1)
    q = t // np.maximum(nz, 1)
    indptr = np.concatenate([[0], np.cumsum(np.repeat(per_row, R))])
    return indptr, A.indices[entry], q, entry


def _segments(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, sp.csr_matrix]:
    """The observations sorted by cluster ``codes`` (0..size-1): (order, start of each cluster,
    its size, the (size x n) cluster indicator)."""
    n = len(codes)
    counts = np.bincount(codes, minlength=size)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    A = sp.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(size, n))
    return order, starts, counts, A


def _segment_sums(seg, H: np.ndarray, HX: np.ndarray, Y: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Within-cluster sums of the scores h (y - b x): (clusters, R, m), as S1 - b S2 with
    S1[g] = H_g' Y_g (one small matrix product per non-empty cluster, rows sorted by cluster:
    ``seg`` from :func:`_segments`) and S2 = A (h x)."""
    order, starts, counts, A = seg
    Hs, Ys = H[order], Y[order]
    T = np.zeros((len(counts), H.shape[1], Y.shape[1]))
    for g in np.flatnonzero(counts):
        a = starts[g]
        T[g] = Hs[a:a + counts[g]].T @ Ys[a:a + counts[g]]
    T -= np.asarray(A @ HX)[:, :, None] * b[None, :, :]
    return T


def _cluster_sums_squared(A: sp.csr_matrix, H: np.ndarray, HX: np.ndarray, Y: np.ndarray, b: np.ndarray,
                          block: int) -> np.ndarray:
    """sum_g (sum_{i in g} h_iq (y_ij - b_qj x_iq))^2 for every replication q and outcome j: (R, m).

    ``A``: (G x n) cluster indicator (an observation may sit in two clusters: the dyadic city
    indicator); ``H`` = h, ``HX`` = h x: (n, R); ``Y``: (n, m); ``b``: (R, m). The within-cluster
    sums are S1 - b S2 with S1[g, q, j] = sum_i A_gi h_iq y_ij, computed as one sparse product
    K Y where K (G R x n) is the row-wise Khatri-Rao product of A and h (no (n, R, m) array is
    formed), and S2[g, q] = (A (h x))[g, q]."""
    G, R, m = A.shape[0], H.shape[1], Y.shape[1]
    indptr, cols, q, entry = _khatri_rao_structure(A, R)
    K = sp.csr_matrix((A.data[entry] * H[cols, q], cols, indptr), shape=(G * R, A.shape[1]))
    S2 = np.asarray(A @ HX)                                            # (G, R)
    out = np.empty((R, m))
    step = max(1, block // max(1, G * R))
    for j0 in range(0, m, step):
        j1 = min(m, j0 + step)
        T = np.asarray(K @ Y[:, j0:j1]).reshape(G, R, j1 - j0)
        T -= S2[:, :, None] * b[None, :, j0:j1]
        out[:, j0:j1] = np.einsum("grj,grj->rj", T, T)
    return out


def _permuted_batch(g: _Group, xcols: tuple[str, ...], ycols: list[str], clusterings: tuple[str, ...],
                    x0: np.ndarray, block: int = 2_000_000) -> tuple[np.ndarray, dict]:
    """Coefficient (R, m) and CRV1 variances {c: (R, m)} of ``y ~ xcols`` for every y in ``ycols``
    with the first regressor's within-transformed column replaced by each column of ``x0``
    (n_w, R); by Frisch-Waugh-Lovell on the other regressors Z: x~ = M_Z x0, b = x~'y~ / x~'x~,
    scores of b: h e with h = x~ / x~'x~ and e = y~ - b x~. Same collinearity rule (on the
    unpermuted design), clusters and small-sample factors as :func:`_fit_batch`.

    A cluster that is one working observation (pair; origin x destination with two periods) needs
    only the sum of squared scores: sum_i h_i^2 (y_i - b x_i)^2, expanded into three products of
    (n_w x R) and (n_w x m) matrices. Other clusterings sum the scores within clusters (sparse
    indicator times the scores), in blocks of replications of about ``block`` numbers."""
    R, m = x0.shape[1], len(ycols)
    nan = np.full((R, m), np.nan)
    xi = np.array([g.index[c] for c in xcols])
    yi = np.array([g.index[c] for c in ycols])
    n_w = g.W.shape[0]
    drop = collinear(g.C[np.ix_(xi, xi)]) if n_w else np.ones(len(xi), bool)
    if drop[0] or not R:
        return nan, {c: nan.copy() for c in clusterings}
    xk = xi[~drop]
    k = len(xk)
    z = xk[1:]
    Yt = g.W[:, yi]
    Xp = x0
    if len(z):
        Wz = g.W[:, z]
        Czz = g.C[np.ix_(z, z)]
        Yt = Yt - Wz @ scipy.linalg.solve(Czz, g.C[np.ix_(z, yi)], assume_a="pos")
        Xp = Xp - Wz @ scipy.linalg.solve(Czz, Wz.T @ Xp, assume_a="pos")
    sxx = np.einsum("ir,ir->r", Xp, Xp)
    sxx = np.where(sxx < COLLIN_TOL, np.nan, sxx)   # a shuffled regressor without variation left: no estimate
    b = (Xp.T @ Yt) / sxx[:, None]                                    # (R, m)
    H = np.nan_to_num(Xp / sxx)
    H2 = H * H
    Y2 = Yt * Yt
    # sum_i h^2 (y - b x)^2 = (H^2)'Y^2 - 2 b (H^2 X)'Y + b^2 sum_i h^2 x^2
    own = H2.T @ Y2 - 2.0 * b * ((H2 * Xp).T @ Yt) + b * b * np.einsum("ir,ir->r", H2, Xp * Xp)[:, None]
    terms = {id(A): A for c in clusterings for A, _ in g.clusters[c]["terms"] if A is not None}
    HX = H * Xp
    sums: dict[int, np.ndarray] = {}
    city: dict[str, np.ndarray] = {}

    def by_city(kind: str) -> np.ndarray:
        """Within-city sums of the scores, (cities, R, m), origins or destinations."""
        if kind not in city:
            key = ("segments", kind)
            if key not in g.cache:
                g.cache[key] = _segments(g.o_work if kind == "origin" else g.d_work, g.n_cities)
            city[kind] = _segment_sums(g.cache[key], H, HX, Yt, b)
        return city[kind]

    distinct = bool(n_w) and not (g.o_work == g.d_work).any()
    for key, A in terms.items():
        kind = g.kinds.get(key, "")
        if kind in ("origin", "dest"):
            T = by_city(kind)
            sums[key] = np.einsum("grj,grj->rj", T, T)
        elif kind == "city" and distinct:     # a city's rows are its origin rows and its destination rows
            T = by_city("origin") + by_city("dest")
            sums[key] = np.einsum("grj,grj->rj", T, T)
        elif np.all(np.diff(A.indptr) == 1):  # every cluster one observation: its own squared score
            sums[key] = own
        else:
            sums[key] = _cluster_sums_squared(A, H, HX, Yt, b, block)
    var = {}
    for c in clusterings:
        cl = g.clusters[c]
        v = np.zeros((R, m))
        for A, sign in cl["terms"]:
            v += sign * (own if A is None else sums[id(A)])
        G = cl["G"]
        df_k = k + (g.n_pairs + g.n_periods - 1) + cl["fe_adj"]
        ssc = G / (G - 1) * (g.N - 1) / (g.N - df_k) if G >= 2 and g.N - df_k > 0 else np.nan
        var[c] = ssc * v
    return b, var


def permutation_fit(panel: pd.DataFrame, specs: Iterable, clusters: Iterable[str] = ("pair", "twoway"), *,
                    samples: Mapping[str, SampleRule] | None = None, permutations: int = 99, seed: int = 0,
                    label: str = "", pair: str = "pair_id", period: str = "period", origin: str = "origin",
                    dest: str = "dest") -> Permuted:
    """Randomization distribution of every model's reported coefficient: R = ``permutations``
    times, the pairs of the panel are shuffled (:func:`pair_permutations` from ``seed`` and
    ``label``) and each pair takes the whole path (both periods) of the reported regressor of the
    pair it was shuffled onto; every model is re-estimated on its own sample of that one shuffled
    data set (coefficient, CRV1 SE and p under every clustering).

    One shuffle of the whole panel per replication, shared by every model, sample and (for the
    same pairs, seed and label) every call: this is re-running the whole analysis on one shuffled
    data set, so the models of a specification curve stay as dependent under the null as in the
    data (the specification-curve test of Simonsohn, Simmons and Nelson 2020, Nature Human
    Behaviour 4). Permuting within each sample separately would make overlapping samples'
    estimates less dependent under the null than in the data, and a test on the curve's median
    over-reject (tests/test_multiverse.py). With pair and period effects on two periods only a
    regressor's first difference matters: each working pair's first difference becomes its donor
    pair's. Exact: equal to :func:`fit` on the shuffled panel (tests/test_multiverse.py).

    Raises NotImplementedError for more than two periods; ValueError when a donor pair lacks the
    regressor in a period (every pair must be observed in both periods); what :func:`fit` raises.
    """
    ms = list(specs)
    return fit_and_permute(panel, ms, clusters, samples=samples, permute=[True] * len(ms), permutations=permutations,
                           seed=seed, label=label, pair=pair, period=period, origin=origin, dest=dest)[1]


def fit_and_permute(panel: pd.DataFrame, specs: Iterable, clusters: Iterable[str] = ("pair", "twoway"), *,
                    samples: Mapping[str, SampleRule] | None = None, permute: Iterable[bool] = (),
                    permutations: int = 99, seed: int = 0, label: str = "", pair: str = "pair_id",
                    period: str = "period", origin: str = "origin", dest: str = "dest") -> tuple[pd.DataFrame, Permuted]:
    """:func:`fit` of every spec and :func:`permutation_fit` of the specs marked in ``permute``
    (same order), in one pass that transforms each sample once for both. Returns the frame of
    :func:`fit` and the :class:`Permuted` of the marked specs (in their order)."""
    clusters = _clusterings(clusters)
    ms = [_as_model(s) for s in specs]
    mark = np.zeros(len(ms), bool)
    flags = list(permute)
    mark[:len(flags)] = flags
    p = _Panel(panel, pair, period, origin, dest)
    R = int(permutations)
    if mark.any() and p.n_periods > 2:
        raise NotImplementedError("permutation_fit: two periods only (first differences)")
    ids = np.empty(p.n_pairs, dtype=p.frame[pair].to_numpy().dtype)
    ids[p.pair] = p.frame[pair].to_numpy()                # pair id of each pair code
    order = np.argsort(ids, kind="stable")                 # pair codes in sorted pair-id order
    perms = pair_permutations(seed, label, p.n_pairs, R if mark.any() else 0)
    donor = np.empty((len(perms), p.n_pairs), np.int64)   # code -> donor code, per replication
    donor[:, order] = order[perms]
    row = {i: k for k, i in enumerate(np.flatnonzero(mark))}
    n_marked = len(row)
    coef = np.full((n_marked, R), np.nan)
    se = {c: np.full((n_marked, R), np.nan) for c in clusters}
    pv = {c: np.full((n_marked, R), np.nan) for c in clusters}
    df_t = {c: np.full(n_marked, np.nan) for c in clusters}
    diff: dict[str, np.ndarray] = {}

    def first_difference(col: str) -> np.ndarray:
        if col not in diff:
            x = p.col(col)
            a, b = p.pos[:, 0], p.pos[:, 1]
            diff[col] = np.where((a >= 0) & (b >= 0), x[np.maximum(b, 0)] - x[np.maximum(a, 0)], np.nan)
        return diff[col]

    results: list[dict | None] = [None] * len(ms)
    for sg in _sample_groups(p, ms, dict(samples or {}), clusters, DEMEAN_TOL):
        g = sg.group
        codes = p.pair[g.work]
        shuffled: dict[str, np.ndarray] = {}
        for xcols, bidx in sg.batches.items():
            ycols = list(dict.fromkeys(ms[i].dependent for i in bidx))
            fitted = dict(zip(ycols, _fit_batch(g, xcols, ycols, clusters)))
            for i in bidx:
                results[i] = _tidy(ms[i], fitted[ms[i].dependent], clusters, sg.n_nonfinite, sg.n_singletons)
            pidx = [i for i in bidx if mark[i]]
            if not pidx or not R:
                continue
            if xcols[0] not in shuffled:
                d = first_difference(xcols[0])[donor[:, codes]].T        # (n_w, R)
                if np.isnan(d).any():
                    q = int(np.flatnonzero(np.isnan(d).any(axis=1))[0])
                    raise ValueError(f"permutation_fit: a pair shuffled onto pair {p.frame[pair].iloc[g.work[q]]!r} "
                                     f"lacks {xcols[0]!r} in a period; every pair must be observed in both periods")
                shuffled[xcols[0]] = np.ascontiguousarray((d - d.mean(axis=0)) / np.sqrt(2.0)) if len(d) else d
            pycols = list(dict.fromkeys(ms[i].dependent for i in pidx))
            b, var = _permuted_batch(g, xcols, pycols, clusters, shuffled[xcols[0]])
            for i in pidx:
                j, k = pycols.index(ms[i].dependent), row[i]
                coef[k] = b[:, j]
                for c in clusters:
                    G = g.clusters[c]["G"]
                    df_t[c][k] = G - 1
                    v = var[c][:, j]
                    ok = np.isfinite(v) & (v > 0) & (G >= 2)
                    sd = np.where(ok, np.sqrt(np.where(ok, v, 1.0)), np.nan)
                    se[c][k] = sd
                    t = b[:, j] / sd
                    pv[c][k] = np.where(ok, 2.0 * stdtr(max(G - 1, 1), -np.abs(np.nan_to_num(t))), np.nan)
    keys = [ms[i].key for i in np.flatnonzero(mark)]
    return _assemble(results, clusters), Permuted(keys, coef, se, pv, df_t, ids[order], perms)
