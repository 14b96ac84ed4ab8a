"""Declarative model specifications and their estimation with pyfixest.

Every model of the study is  Y_ijt = b X_ijt + a1 C_it + a2 C_jt + mu_ij + eta_t + e_ijt  on the
pair panel (:mod:`intercity.panel`): pair fixed effects (``pair_id``) and period fixed effects.
Singleton pairs are kept (``fixef_rm="none"``), as the study's sample sizes imply.

Clusterings (every model, one fit): by ordered pair (the study's), by origin city, and two-way by
origin and destination city (Cameron, Gelbach and Miller 2011). City-level outcomes (the mechanism
factors are the origin's) and city-level shocks are shared by every pair of a city, so errors are
correlated across the pairs of a city and pair clustering understates the standard errors; two-way
clustering allows for it. Dyadic-robust errors (Fafchamps and Gubert 2007; Aronow, Samii and
Assenova 2015) go one step further: rows are correlated whenever their pairs share a city in any
role. The ``cluster`` parameter picks which one fills the headline columns. The variances come
from the fit's scores (:func:`cluster_vcov`): pair, origin and two-way equal pyfixest's own
``Feols.vcov`` re-computation on the fit; dyadic follows :mod:`intercity.engine`'s convention (tested
against the double sum over rows sharing a city, and against the engine).

Identification rule. With N rows, P pairs, r identified period effects and k regressors kept
after the within transformation, the parameters estimated within pairs number K = k + r and the
residual degrees of freedom are df_resid = N - P - r - k. A model is reported only when its
reported regressor survives the within transformation and df_resid >= K (at least as many
residual degrees of freedom as parameters); otherwise its coefficient and every standard error are
NaN, it has no stars, and its note says "not identified (no residual degrees of freedom)" (df_resid
= 0: an exact fit, R2 = 1, residuals that are rounding noise) or gives the numbers. Every variance
estimate is a quadratic form in those residuals, so its own degrees of freedom cannot exceed
df_resid (Bell and McCaffrey 2002; Imbens and Kolesar 2016), while the t reference has G - 1: below
K the printed p values would be fiction. A clustering is reported only when its effective clusters
(those holding a pair seen in two periods or more) satisfy G - 1 >= K: a cluster-robust variance is
a sum of G score outer products that sum to zero, so its rank is at most G - 1 and with fewer
clusters than parameters it cannot estimate the K x K variance (Cameron and Miller 2015, sec.
VII.A); the model's note names each clustering left out.

Small-sample convention (:data:`SSC`, passed explicitly to every fit; as Stata's reghdfe and R's
fixest): the cluster-robust (CRV1) variance is  V = G/(G-1) * (N-1)/(N-K) * B M B  with B the
inverse of the within-transformed regressors' cross-product, M the sum over clusters of the
outer products of their scores, G the number of clusters (twoway: the smaller of the origin and
destination counts) and K = regressors + (periods - 1) + 1: the pair effects, nested in the
clusters, are not counted (``k_fixef="nonnested"``). p values and confidence intervals use a t
distribution with G - 1 degrees of freedom. Counting all pair effects as well (``k_fixef="full"``,
as Stata's areg or explicit dummies) would multiply the standard errors by
sqrt((N-K)/(N-K-pairs+1)), about 1.41 on this two-period panel; pair-clustered variances are
consistent as the number of pairs grows without that factor.

Mechanism tables: the outcome ``factor_*`` is the ORIGIN city's factor (``factor_*_i``); the
"developed" columns keep the pairs whose origin is the richer city (down-gradient), so they
describe the developed city's factor, and the "less developed" columns the poorer city's.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyfixest as pf
from scipy.stats import t as student_t

from intercity import reference
from intercity.panel import CONTROLS

CONTROL_COLUMNS: tuple[str, ...] = tuple(f"{c}_{s}" for s in ("i", "j") for c in CONTROLS)

#: Sample name -> (panel column, value) selecting its rows ("all" keeps every row).
SAMPLES: dict[str, tuple[str, int] | None] = {
    "all": None,
    "down_gradient": ("down_gradient", 1),
    "up_gradient": ("down_gradient", 0),
    "down_gradient_pop": ("down_gradient_pop", 1),
    "up_gradient_pop": ("down_gradient_pop", 0),
    "developed": ("developed", 1),
    "less_developed": ("developed", 0),
}
#: Published dependent name -> panel column (mechanism outcomes are the origin's factors).
DEPENDENT_COLUMN: dict[str, str] = {f: f"{f}_i" for f in (
    "factor_labor", "factor_fcapital", "factor_ccapital", "factor_flc", "factor_clc", "factor_tech")}


@dataclass(frozen=True)
class Spec:
    """One regression: ``dependent ~ regressors (+ controls) | pair_id + period`` on ``sample``.

    ``tier`` restricts the sample to one distance tier label (e.g. "200-500"); the first regressor
    is the one reported (its coefficient is what the published tables print).
    """

    table: str
    column: int
    dependent: str
    regressors: tuple[str, ...]
    sample: str = "all"
    controls: bool = True
    tier: str = ""

    @property
    def key(self) -> str:
        return f"{self.table}:{self.column}"

    @property
    def dependent_column(self) -> str:
        """The panel column of the dependent variable (mechanism outcomes: the origin's factor)."""
        return DEPENDENT_COLUMN.get(self.dependent, self.dependent)

    def rhs(self) -> str:
        """Right-hand side before the fixed effects: the regressors, then the controls if any."""
        return " + ".join(list(self.regressors) + (list(CONTROL_COLUMNS) if self.controls else []))


def published_specs() -> list[Spec]:
    """One spec per row of ``published_tables.csv`` (table, column, sample, dependent, regressor)."""
    pub = reference.published_tables()
    return [Spec(table=r.table, column=int(r.column), dependent=r.dependent,
                 regressors=(r.regressor,), sample=r.sample, controls=(r.controls == "yes"))
            for r in pub.itertuples()]


#: Regressors of the synergy model (5): HSR, information and their product.
SYNERGY = ("connectivity_HSR", "connectivity_I", "connectivity_double")


def tier_specs(tiers: list[str]) -> list[Spec]:
    """Distance-tier models, each within one tier and one gradient half (as the deck draws them).

    ``tier_<tier>``: columns 1-2 down-gradient (HSR, information), 3-4 up-gradient.
    ``synergy_<tier>``: model (5) with all three regressors; columns 1-3 down-gradient and 4-6
    up-gradient, reporting the interaction, HSR and information coefficients in that order.
    """
    specs = []
    for tier in tiers:
        col = 0
        for sample in ("down_gradient", "up_gradient"):
            for reg in ("connectivity_HSR", "connectivity_I"):
                col += 1
                specs.append(Spec(f"tier_{tier}", col, "IT", (reg,), sample, True, tier))
        col = 0
        for sample in ("down_gradient", "up_gradient"):
            for reg in ("connectivity_double", "connectivity_HSR", "connectivity_I"):
                col += 1
                specs.append(Spec(f"synergy_{tier}", col, "IT", (reg,) + tuple(r for r in SYNERGY if r != reg),
                                  sample, True, tier))
    return specs


def sample_rows(panel: pd.DataFrame, sample: str, tier: str = "") -> pd.DataFrame:
    """The panel rows of a named sample (and distance tier)."""
    if sample not in SAMPLES:
        raise KeyError(f"unknown sample {sample!r}; known: {sorted(SAMPLES)}")
    rule = SAMPLES[sample]
    mask = np.ones(len(panel), bool) if rule is None else (panel[rule[0]] == rule[1]).to_numpy(copy=True)
    if tier:
        mask &= (panel["tier"] == tier).to_numpy()
    return panel.loc[mask]


#: The small-sample correction of every fit (see the module docstring).
SSC: dict = pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")
#: Small-sample settings of the variance pyfixest computes while fitting (unused, see fit_specs).
_FIT_SSC: dict = pf.ssc(k_adj=False, G_adj=False)
#: Clusterings with a pyfixest vcov argument. "pair": the ordered city pair (the study's);
#: "origin": the origin city; "twoway": origin and destination city (Cameron, Gelbach and Miller
#: 2011: V_origin + V_dest - V_pair). "dyadic" (any shared city) has none; see cluster_vcov.
VCOV: dict[str, dict[str, str]] = {"pair": {"CRV1": "pair_id"}, "origin": {"CRV1": "origin"},
                                   "twoway": {"CRV1": "origin+dest"}}
CLUSTERINGS: tuple[str, ...] = ("pair", "origin", "twoway", "dyadic")
#: Statistics reported per clustering (``se_pair``, ...) and, for the headline clustering, bare.
STATS: tuple[str, ...] = ("se", "t", "p", "stars", "ci95_low", "ci95_high", "ci90_low", "ci90_high")
#: The note of a model with no residual degrees of freedom (an exact fit).
NO_DF = "not identified (no residual degrees of freedom)"
#: Columns of every result row, in order (the contract with the scorecard and the tables).
COLUMNS: tuple[str, ...] = (
    "key", "table", "column", "sample", "tier", "dependent", "regressor",
    "controls", "controls_in", "controls_out", "nobs", "nobs_lost", "n_pairs", "df_resid", "n_params",
    "r2", "r2_within", "identified", "coef",
    *[f"{st}_{c}" for c in CLUSTERINGS for st in (*STATS, "g")],
    "cluster", *STATS, "note")


def areg_se_factor(nobs: int, n_pairs: int, k: int) -> float:
    """How much larger a pair-clustered SE is when every pair effect is counted (areg, dummies;
    ``k_fixef="full"``) than under :data:`SSC`: sqrt((N-K)/(N-K-pairs+1)), K as in the docstring."""
    return float(np.sqrt((nobs - k) / (nobs - k - n_pairs + 1)))


def stars(p: float) -> str:
    """Significance stars: *** p < 0.01, ** p < 0.05, * p < 0.1."""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def within_varying(data: pd.DataFrame, columns: list[str]) -> dict[str, bool]:
    """For each column: True when it changes within at least one pair of ``data`` (so it survives
    the pair effects)."""
    if not columns:
        return {}
    g = data.groupby("pair_id", sort=False)[columns]
    varies = (g.max() != g.min()).any()
    return {c: bool(varies[c]) for c in columns}


class SampleDesign:
    """What every model fitted on one set of rows shares: cluster codes, pairs, period effects.

    ``codes``: integer cluster codes of the rows (pair, origin, dest); ``n_pairs``: pairs present;
    ``r_period``: rank of the period effects after the pair effects (periods - 1 when some pair
    spans every period, 0 when each pair is seen once); ``n_period_levels``: periods present;
    ``effective``: clusters holding a pair seen in two periods or more (a pair seen once is absorbed
    by its effect and adds nothing to any score) for pair, origin and twoway (the smaller of the
    origin and destination counts, as :data:`SSC`'s ``G_df="min"``).
    """

    def __init__(self, data: pd.DataFrame):
        self.nobs = len(data)
        self.codes = {"pair": pd.factorize(data["pair_id"])[0], "origin": pd.factorize(data["origin"])[0],
                      "dest": pd.factorize(data["dest"])[0]}
        # cities in either role on one index, and the unordered dyad {origin, dest}
        city = pd.factorize(pd.concat([data["origin"], data["dest"]], ignore_index=True))[0]
        self.codes["city_o"], self.codes["city_d"] = city[: self.nobs], city[self.nobs:]
        lo = np.minimum(self.codes["city_o"], self.codes["city_d"])
        hi = np.maximum(self.codes["city_o"], self.codes["city_d"])
        self.codes["dyad"] = pd.factorize(lo.astype(np.int64) * (int(city.max()) + 1 if len(city) else 1) + hi)[0]
        self.n_pairs = int(self.codes["pair"].max() + 1) if self.nobs else 0
        size = np.bincount(self.codes["pair"])[self.codes["pair"]] if self.nobs else np.zeros(0, int)
        multi = size > 1
        self.effective = {"pair": int(np.unique(self.codes["pair"][multi]).size),
                          "origin": int(np.unique(self.codes["origin"][multi]).size)}
        self.effective["twoway"] = min(self.effective["origin"], int(np.unique(self.codes["dest"][multi]).size))
        self.effective["dyadic"] = int(np.unique(np.concatenate([self.codes["city_o"][multi],
                                                                 self.codes["city_d"][multi]])).size)
        self.n_period_levels = int(data["period"].nunique())
        d = pd.get_dummies(data["period"], drop_first=True, dtype=float)
        if d.shape[1] == 0:
            self.r_period = 0
        else:
            d = d - d.groupby(self.codes["pair"]).transform("mean")
            self.r_period = int(np.linalg.matrix_rank(d.to_numpy().T @ d.to_numpy()))

    def clusters(self, clustering: str) -> int:
        """G of a clustering as :data:`SSC` counts it (twoway: min of origins and destinations;
        dyadic: the cities of the sample in either role)."""
        count = {c: int(v.max() + 1) for c, v in self.codes.items()}
        if clustering == "twoway":
            return min(count["origin"], count["dest"])
        if clustering == "dyadic":
            return int(np.unique(np.concatenate([self.codes["city_o"], self.codes["city_d"]])).size)
        return count[clustering]


def _sums(scores: np.ndarray, code: np.ndarray, n: int | None = None) -> np.ndarray:
    """(clusters x k) sums of the scores by cluster code."""
    return np.stack([np.bincount(code, weights=scores[:, j], minlength=n or 0)
                     for j in range(scores.shape[1])], axis=1)


def _meat(scores: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Sum over clusters of the outer products of the clusters' summed scores (k x k)."""
    sums = _sums(scores, code)
    return sums.T @ sums


def cluster_vcov(scores: np.ndarray, bread: np.ndarray, design: SampleDesign, clustering: str,
                 k_ssc: int) -> tuple[np.ndarray, int]:
    """CRV1 variance of a fit under ``clustering`` ("pair", "origin", "twoway" or "dyadic"), with
    :data:`SSC`.

    ``scores``: (N, k) within-transformed regressors times residuals; ``bread``: (k, k) inverse of
    the within-transformed regressors' cross-product; ``k_ssc``: K of the small-sample factor
    (regressors + periods, the pair effects nested in the clusters not counted). One-way:
    V = G/(G-1) (N-1)/(N-K) B M_c B. Two-way (Cameron, Gelbach and Miller 2011):
    M = M_origin + M_dest - M_pair (the ordered pair is the intersection of origin and destination),
    one factor with G = min(origins, destinations). Dyadic-robust (Fafchamps and Gubert 2007;
    Aronow, Samii and Assenova 2015): rows are correlated when their pairs share a city in any role,
    M = sum_c T_c T_c' - sum_u U_u U_u' (T_c: scores of the rows touching city c; U_u: of the rows
    of the unordered dyad u, counted twice in the first sum), with the factor above and G = the
    cities of the sample: the convention of :mod:`intercity.engine` (tested against the O(N^2)
    double sum and against the engine). Returns (V, G). Pair, origin and two-way equal pyfixest's
    ``Feols.vcov({"CRV1": ...})`` on the same fit with :data:`SSC` (tested on every model of the ci
    book; 8e-15 apart at full scale); computed here from its scores because pyfixest rebuilds the
    cluster frame on each call: the three clusterings of a full-scale model take 0.13 s with
    ``Feols.vcov`` and 0.06 s here, cluster codes included (benchmarks/models.py), so the book's
    102 models take 6.7 s rather than about 20 s.
    """
    if clustering == "twoway":
        meat = (_meat(scores, design.codes["origin"]) + _meat(scores, design.codes["dest"])
                - _meat(scores, design.codes["pair"]))
    elif clustering == "dyadic":
        n_city = int(max(design.codes["city_o"].max(), design.codes["city_d"].max()) + 1)
        touch = _sums(scores, design.codes["city_o"], n_city) + _sums(scores, design.codes["city_d"], n_city)
        meat = touch.T @ touch - _meat(scores, design.codes["dyad"])
    elif clustering in ("pair", "origin"):
        meat = _meat(scores, design.codes[clustering])
    else:
        raise ValueError(f"unknown clustering {clustering!r}; known: {sorted(VCOV)}")
    g = design.clusters(clustering)
    n = design.nobs
    factor = g / (g - 1) * (n - 1) / (n - k_ssc) if g > 1 and n > k_ssc else float("nan")
    return factor * bread @ meat @ bread, g


def identification(nobs: int, n_pairs: int, r_period: int, k: int) -> tuple[int, int]:
    """(df_resid, K): residual degrees of freedom N - pairs - period effects - regressors, and the
    number K of parameters estimated within pairs (regressors kept + period effects)."""
    return nobs - n_pairs - r_period - k, k + r_period


def _nan_stats() -> dict:
    nan = float("nan")
    return {"se": nan, "t": nan, "p": nan, "stars": "", "ci95_low": nan, "ci95_high": nan,
            "ci90_low": nan, "ci90_high": nan}


def _stats(coef: float, var: float, df: int) -> dict:
    """Inference from a coefficient and its variance: t distribution with ``df`` = G - 1."""
    if not np.isfinite(var) or var <= 0:
        return _nan_stats()
    se = float(np.sqrt(var))
    t = coef / se
    p = float(2 * student_t.sf(abs(t), df))
    q95, q90 = student_t.ppf(0.975, df), student_t.ppf(0.95, df)
    return {"se": se, "t": float(t), "p": p, "stars": stars(p), "ci95_low": coef - q95 * se,
            "ci95_high": coef + q95 * se, "ci90_low": coef - q90 * se, "ci90_high": coef + q90 * se}


def _tidy_one(spec: Spec, fit, data: pd.DataFrame, sd: SampleDesign, cluster: str, design: dict) -> dict:
    """One result row (:data:`COLUMNS`) of ``spec`` from its pyfixest ``fit`` on ``data``.

    Identification rule (module docstring): the model is reported only when the reported regressor
    survives the within transformation and df_resid >= K; each clustering only when its effective
    clusters G satisfy G - 1 >= K.
    """
    reg = spec.regressors[0]
    notes = [design["_note"]] if design.get("_note") else []
    design = {k: v for k, v in design.items() if k != "_note"}
    kept = [str(c) for c in fit._coefnames]
    df_resid, n_params = identification(int(fit._N), sd.n_pairs, sd.r_period, len(kept))
    row = {"key": spec.key, "table": spec.table, "column": spec.column, "sample": spec.sample,
           "tier": spec.tier, "dependent": spec.dependent, "regressor": reg,
           "controls": "yes" if spec.controls else "no", **design, "nobs": int(fit._N),
           "n_pairs": sd.n_pairs, "df_resid": int(df_resid), "n_params": int(n_params),
           "r2": float(fit._r2), "r2_within": float(fit._r2_within), "cluster": cluster,
           "identified": False, "coef": float("nan")}
    for c in CLUSTERINGS:
        row.update({f"{k}_{c}": v for k, v in _nan_stats().items()})
        row[f"g_{c}"] = float("nan")
    if reg not in kept:
        why = ("has no variation within pairs" if not within_varying(data, [reg])[reg]
               else "is collinear with the other regressors and the period effects")
        notes.insert(0, f"not identified: {reg} {why} in this sample")
    elif df_resid < n_params:
        notes.insert(0, NO_DF if df_resid <= 0 else
                     f"not identified (too few residual degrees of freedom: {df_resid} for {n_params} parameters)")
    else:
        row["identified"] = True
        j = kept.index(reg)
        row["coef"] = coef = float(np.ravel(fit._beta_hat)[j])
        k_ssc = len(kept) + sd.n_period_levels
        for c in ("pair", "origin", "twoway", "dyadic"):
            v, g = cluster_vcov(fit._scores, fit._bread, sd, c, k_ssc)
            row[f"g_{c}"] = g
            if sd.effective[c] - 1 < n_params:
                notes.append(f"{c}-clustered SE not reported: {sd.effective[c]} clusters for {n_params} parameters")
                continue
            st = _stats(coef, float(v[j, j]), g - 1)
            if np.isnan(st["se"]):
                notes.append(f"{c}-clustered variance not positive")
            row.update({f"{k}_{c}": val for k, val in st.items()})
    row.update({k: row[f"{k}_{cluster}"] for k in STATS})
    row["note"] = "; ".join(notes)
    return {k: row[k] for k in COLUMNS}


def _design(data: pd.DataFrame, spec: Spec, leave_out: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The control columns that enter, and {column: reason} for each study control left out."""
    if not spec.controls:
        return [], {}
    candidates = [c for c in CONTROL_COLUMNS if c.rsplit("_", 1)[0] not in leave_out]
    varies = within_varying(data, candidates)
    used, out = [], {}
    for col in CONTROL_COLUMNS:
        short = col.rsplit("_", 1)[0]
        if short in leave_out:
            out[col] = leave_out[short]
        elif not varies[col]:
            out[col] = ("constant in this sample" if data[col].nunique() <= 1 else
                        "no variation within pairs in this sample (absorbed by the pair effects)")
        else:
            used.append(col)
    return used, out


def _join_out(out: Mapping[str, str]) -> str:
    return "; ".join(f"{c}: {r}" for c, r in out.items())


def fit_specs(panel: pd.DataFrame, specs: list[Spec], cluster: str = "pair",
              leave_out: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Fit every spec once and report it under every clustering; one row per spec (:data:`COLUMNS`).

    Every fit: pair and period effects, singletons kept, pyfixest's within estimator; the
    variances under pair, origin and two-way clustering come from the same fit's scores
    (:func:`cluster_vcov`, :data:`SSC`), and the dyadic-robust one. ``cluster`` (one of
    :data:`CLUSTERINGS`) picks the headline columns (``se``, ``p``, ...). Identification: see the
    module docstring.

    Controls: ``leave_out`` ({control short name: reason}, e.g. from
    :func:`intercity.panel.controls_left_out`) and any control without within-pair variation in
    the sample are left out of the formula before fitting; a control pyfixest drops as collinear is
    recorded too. ``controls_in`` / ``controls_out`` name them per model.

    Rows: a row whose dependent, regressors or controls are missing (NaN, from a value the panel
    sent to the ledger) is dropped explicitly before fitting and counted in ``nobs_lost`` with a
    note; if pyfixest then uses another number of rows, ``RuntimeError`` names the model.

    Specs sharing sample, tier, regressors, controls and missing rows share one pyfixest call
    (multiple-estimation syntax ``Y1 + Y2 ~ X | FE``).
    """
    if cluster not in CLUSTERINGS:
        raise ValueError(f"unknown cluster {cluster!r}; known: {sorted(CLUSTERINGS)}")
    leave_out = dict(leave_out or {})
    unknown = sorted(set(leave_out) - set(CONTROLS))
    if unknown:
        raise ValueError(f"leave_out names unknown control(s) {unknown}; controls are {list(CONTROLS)}")
    groups: dict[tuple, list[Spec]] = {}
    for s in specs:
        groups.setdefault((s.sample, s.tier, s.regressors, s.controls), []).append(s)
    rows = []
    for (sample, tier, regressors, _), members in groups.items():
        full = sample_rows(panel, sample, tier)
        rhs_all = list(regressors) + (list(CONTROL_COLUMNS) if members[0].controls else [])
        finite_rhs = np.isfinite(full[rhs_all].to_numpy(dtype=float)).all(axis=1)
        by_mask: dict[bytes, list[Spec]] = {}
        for m in members:
            mask = finite_rhs & np.isfinite(full[m.dependent_column].to_numpy(dtype=float))
            by_mask.setdefault(np.packbits(mask).tobytes(), []).append(m)
        for sub in by_mask.values():
            mask = finite_rhs & np.isfinite(full[sub[0].dependent_column].to_numpy(dtype=float))
            data = full.loc[mask]
            lost = int(len(full) - len(data))
            note = ""
            if lost:
                cols = [c for c in [sub[0].dependent_column, *rhs_all]
                        if not np.isfinite(full[c].to_numpy(dtype=float)).all()]
                note = (f"N excludes {lost} of the sample's {len(full)} rows: {', '.join(cols)} missing "
                        f"(values outside a log's or ratio's domain, see the ledger, stage panel)")
            used, out = _design(data, sub[0], leave_out)
            deps = list(dict.fromkeys(m.dependent_column for m in sub))
            fml = f"{' + '.join(deps)} ~ {' + '.join(list(regressors) + used)} | pair_id + period"
            with warnings.catch_warnings():  # collinear regressors are recorded per row below
                warnings.filterwarnings("ignore", message=r"(?s).*dropped due to multicollinearity")
                # adjusted R2 is undefined when pair effects exhaust the degrees of freedom (tiny samples)
                warnings.filterwarnings("ignore", message="divide by zero", category=RuntimeWarning)
                warnings.filterwarnings("ignore", message="invalid value encountered", category=RuntimeWarning)
                # pyfixest 0.60 calls pandas methods with inplace=, deprecated in pandas 3.1
                warnings.filterwarnings("ignore", message="The inplace keyword")
                # the fit's own variance is not used (cluster_vcov computes every clustering from its
                # scores): the cheapest one, without a degrees-of-freedom factor that an exact fit
                # would make infinite
                fit = pf.feols(fml, data, vcov="iid", ssc=_FIT_SSC, fixef_rm="none", copy_data=False,
                               store_data=False, lean=False)
                fits = ({f._depvar: f for f in fit.all_fitted_models.values()}
                        if hasattr(fit, "all_fitted_models") else {fit._depvar: fit})
            for m in sub:
                if int(fits[m.dependent_column]._N) != len(data):
                    raise RuntimeError(f"model {m.key}: pyfixest used {int(fits[m.dependent_column]._N)} of "
                                       f"the {len(data)} rows it was given; rows were dropped unrecorded")
            sd = SampleDesign(data)
            for m in sub:
                f = fits[m.dependent_column]
                kept = {str(c) for c in f._coefnames}
                out_m = {**out, **{c: "collinear with the other regressors and the pair and period "
                                      "effects in this sample" for c in used if c not in kept}}
                design = {"controls_in": ";".join(c for c in used if c in kept),
                          "controls_out": _join_out(out_m), "nobs_lost": lost, "_note": note}
                rows.append(_tidy_one(m, f, data, sd, cluster, design))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def paren_convention(coef: float, paren: float, printed_stars: str) -> str:
    """Which statistic the deck's parenthesis appears to be: "t", "se" or "ambiguous".

    A reading is consistent when the stars it implies (|t| >= 1.645 / 1.96 / 2.576, normal
    approximation) equal the printed stars; a positive parenthesis under a negative coefficient
    counts against the t reading (a t statistic carries the coefficient's sign).
    """
    def implied(t: float) -> str:
        a = abs(t)
        return "***" if a >= 2.576 else "**" if a >= 1.96 else "*" if a >= 1.645 else ""

    printed = printed_stars if isinstance(printed_stars, str) else ""
    as_t = implied(paren) == printed and not (coef < 0 < paren)
    as_se = paren > 0 and implied(coef / paren) == printed
    if as_t and not as_se:
        return "t"
    if as_se and not as_t:
        return "se"
    return "ambiguous"


def compare_published(results: pd.DataFrame) -> pd.DataFrame:
    """Published rows beside their reproduced counterparts (one row per published coefficient).

    Columns: the published table's (``published_coef``, ``published_paren``, ``published_stars``,
    ``published_nobs``, ``published_r2``, ``paren_is``), every column of ``results`` (the
    :data:`COLUMNS` contract: pair, origin and two-way statistics, controls, identification) and
    ``same_sign``, ``same_stars`` (headline clustering), ``same_stars_pair``, ``same_stars_twoway``.
    """
    pub = reference.published_tables().rename(columns={
        "coef": "published_coef", "paren": "published_paren", "stars": "published_stars",
        "nobs": "published_nobs", "r2": "published_r2"})
    pub["published_stars"] = pub["published_stars"].fillna("")
    pub["paren_is"] = [paren_convention(c, p, s) for c, p, s in
                       zip(pub["published_coef"], pub["published_paren"], pub["published_stars"])]
    ours = results[results["tier"] == ""].drop(columns=["sample", "dependent", "regressor", "controls", "tier"])
    out = pub.merge(ours, on=["table", "column"], how="left", validate="one_to_one")
    out["same_sign"] = np.sign(out["coef"]) == np.sign(out["published_coef"])
    out["same_stars"] = out["stars"] == out["published_stars"]
    for c in ("pair", "twoway"):
        out[f"same_stars_{c}"] = out[f"stars_{c}"] == out["published_stars"]
    return out
