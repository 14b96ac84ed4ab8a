"""Declarative model specifications, their estimation through the exact engine, and tidy result rows.

Every model of the study is  Y_ijt = b X_ijt + a1 C_it + a2 C_jt + mu_ij + eta_t + e_ijt  on the
pair panel (:mod:`intercity.panel`): pair fixed effects (``pair_id``) and period fixed effects.
Singleton pairs are kept (``fixef_rm="none"`` in pyfixest's terms), as the study's sample sizes imply.

Estimation: :func:`fit_specs` decides each model's rows, controls and identification, and hands
the fits to :func:`intercity.engine.fit`, the exact fast within estimator (two periods: first
differences; each set of rows transformed once, every model on it solved from shared
cross-products). The engine equals ``pyfixest.feols`` run with a converged demeaner to 1e-8 in
coefficient and in every standard error on every model of the book (tests/test_models.py,
tests/test_engine.py); pyfixest is the reference in the tests, not a dependency of this module.

Clusterings (every model, one fit): by ordered pair (the study's), by origin city, and two-way by
origin and destination city (Cameron, Gelbach and Miller 2011). City-level outcomes (the mechanism
factors are the origin's) and city-level shocks are shared by every pair of a city, so errors are
correlated across the pairs of a city and pair clustering understates the standard errors; two-way
clustering allows for it. Dyadic-robust errors (Fafchamps and Gubert 2007; Aronow, Samii and
Assenova 2015) go one step further: rows are correlated whenever their pairs share a city in any
role. The ``cluster`` parameter picks which one fills the headline columns. Every variance is the
engine's (:mod:`intercity.engine` documents the formulas, the dyadic convention included).

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

Small-sample convention (:data:`intercity.engine.SSC`, as Stata's reghdfe and R's fixest): the
cluster-robust (CRV1) variance is  V = G/(G-1) * (N-1)/(N-K) * B M B  with B the
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

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from intercity import engine, reference
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


def sample_mask(panel: pd.DataFrame, sample: str, tier: str = "") -> np.ndarray:
    """Boolean mask (one per panel row) of a named sample (:data:`SAMPLES`) and distance tier.

    Raises KeyError naming an unknown sample."""
    if sample not in SAMPLES:
        raise KeyError(f"unknown sample {sample!r}; known: {sorted(SAMPLES)}")
    rule = SAMPLES[sample]
    mask = np.ones(len(panel), bool) if rule is None else (panel[rule[0]] == rule[1]).to_numpy(copy=True)
    if tier:
        mask &= (panel["tier"] == tier).to_numpy()
    return mask


def sample_rows(panel: pd.DataFrame, sample: str, tier: str = "") -> pd.DataFrame:
    """The panel rows of a named sample (and distance tier)."""
    return panel.loc[sample_mask(panel, sample, tier)]


#: Clusterings of every model (:mod:`intercity.engine`): "pair", the ordered city pair (the
#: study's); "origin", the origin city; "twoway", origin and destination city (Cameron, Gelbach and
#: Miller 2011); "dyadic", any shared city (Aronow, Samii and Assenova 2015).
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
#: Fewest pairs within which the reported regressor must change for its clustered SEs to be
#: reported. With two periods a regressor changing in one pair only is fitted exactly by that pair
#: (its first difference has leverage 1 and a zero residual), so every clustered variance of its
#: coefficient is computed from residuals that carry no information on it: p values of 1e-100 on
#: one pair were printed before this rule.
MIN_VARYING_FOR_SE: int = 2
#: Reason of a control the within estimator drops although it varies within pairs.
COLLINEAR = "collinear with the other regressors and the pair and period effects in this sample"


def areg_se_factor(nobs: int, n_pairs: int, k: int) -> float:
    """How much larger a pair-clustered SE is when every pair effect is counted (areg, dummies;
    ``k_fixef="full"``) than under :data:`intercity.engine.SSC`: sqrt((N-K)/(N-K-pairs+1)), K as
    in the module docstring."""
    return float(np.sqrt((nobs - k) / (nobs - k - n_pairs + 1)))


def stars(p: float) -> str:
    """Significance stars: *** p < 0.01, ** p < 0.05, * p < 0.1."""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def varying_pairs(data: pd.DataFrame, column: str) -> int:
    """Number of pairs of ``data`` within which ``column`` changes (pairs seen once never do;
    missing values are skipped, so a pair with one value and a gap does not change)."""
    g = data.groupby("pair_id", sort=False)[column]
    return int((g.max() > g.min()).sum())


def single_pair_note(regressor: str, n_vary: int) -> str:
    """The note of a coefficient reported without SE because ``regressor`` changes within fewer
    than :data:`MIN_VARYING_FOR_SE` pairs (``n_vary``)."""
    return (f"no standard error: {regressor} changes within {n_vary} pair only, which it fits exactly "
            f"(leverage 1, zero residual), so no clustered variance of its coefficient is estimable")


def within_varying(data: pd.DataFrame, columns: list[str]) -> dict[str, bool]:
    """For each column: True when it changes within at least one pair of ``data`` (so it survives
    the pair effects)."""
    if not columns:
        return {}
    g = data.groupby("pair_id", sort=False)[columns]
    varies = (g.max() != g.min()).any()
    return {c: bool(varies[c]) for c in columns}


def _nan_stats() -> dict:
    nan = float("nan")
    return {"se": nan, "t": nan, "p": nan, "stars": "", "ci95_low": nan, "ci95_high": nan,
            "ci90_low": nan, "ci90_high": nan}


def _join_out(out: Mapping[str, str]) -> str:
    return "; ".join(f"{c}: {r}" for c, r in out.items())


class _Rows:
    """The rows each spec is fitted on: sample, tier, and every variable of the spec's formula
    (the study's controls included) finite. Masks and finiteness are computed once per panel."""

    def __init__(self, panel: pd.DataFrame):
        self.panel = panel
        self._finite: dict[str, np.ndarray] = {}
        self._base: dict[tuple[str, str], np.ndarray] = {}
        self.names: dict[bytes, str] = {}     # mask bytes -> engine sample name
        self.rules: dict[str, np.ndarray] = {}

    def finite(self, col: str) -> np.ndarray:
        if col not in self._finite:
            if col not in self.panel.columns:
                raise KeyError(f"panel has no column {col!r} (named by a model)")
            self._finite[col] = np.isfinite(self.panel[col].to_numpy(dtype=float, na_value=np.nan))
        return self._finite[col]

    def base(self, sample: str, tier: str) -> np.ndarray:
        if (sample, tier) not in self._base:
            self._base[(sample, tier)] = sample_mask(self.panel, sample, tier)
        return self._base[(sample, tier)]

    def of(self, spec: Spec) -> tuple[str, np.ndarray, int, str]:
        """(engine sample name, row mask, rows lost, note) of ``spec``."""
        base = self.base(spec.sample, spec.tier)
        cols = [spec.dependent_column, *spec.regressors, *(CONTROL_COLUMNS if spec.controls else ())]
        mask = base.copy()
        for c in cols:
            mask &= self.finite(c)
        n, kept = int(base.sum()), int(mask.sum())
        note = ""
        if kept < n:
            missing = [c for c in cols if not self.finite(c)[base].all()]
            note = (f"N excludes {n - kept} of the sample's {n} rows: {', '.join(missing)} missing "
                    f"(values outside a log's or ratio's domain, see the ledger, stage panel)")
        name = self.names.setdefault(np.packbits(mask).tobytes(), f"rows{len(self.names)}")
        self.rules[name] = mask
        return name, mask, n - kept, note


def _row(spec: Spec, r: pd.Series, data: pd.DataFrame, candidates: list[str],
         leave_out: Mapping[str, str], lost: int, lost_note: str, cluster: str, n_vary: int) -> dict:
    """One result row (:data:`COLUMNS`) of ``spec`` from its engine row ``r`` on ``data``.

    Controls: those the estimator dropped are named with their reason (no variation within pairs,
    constant, or collinear). Identification rule (module docstring): the model is reported only
    when the reported regressor survives the within transformation and df_resid >= K; each
    clustering only when its effective clusters G satisfy G - 1 >= K, and none when the reported
    regressor changes within fewer than :data:`MIN_VARYING_FOR_SE` pairs (``n_vary``).
    """
    reg = spec.regressors[0]
    dropped = set(r["collinear"].split(", ")) if r["collinear"] else set()
    varies = within_varying(data, sorted(dropped))
    out = {}
    for col in CONTROL_COLUMNS if spec.controls else ():
        short = col.rsplit("_", 1)[0]
        if short in leave_out:
            out[col] = leave_out[short]
        elif col in dropped and not varies[col]:
            out[col] = ("constant in this sample" if data[col].nunique() <= 1 else
                        "no variation within pairs in this sample (absorbed by the pair effects)")
    out.update({c: COLLINEAR for c in candidates if c in dropped and varies[c]})
    k, df_resid = int(r["rank"]), int(r["df_resid"])
    n_params = k + int(r["period_rank"])
    notes = [lost_note] if lost_note else []
    row = {"key": spec.key, "table": spec.table, "column": spec.column, "sample": spec.sample,
           "tier": spec.tier, "dependent": spec.dependent, "regressor": reg,
           "controls": "yes" if spec.controls else "no",
           "controls_in": ";".join(c for c in candidates if c not in dropped),
           "controls_out": _join_out(out), "nobs": int(r["nobs"]), "nobs_lost": lost,
           "n_pairs": int(r["n_pairs"]), "df_resid": df_resid, "n_params": n_params,
           "r2": float(r["r2"]), "r2_within": float(r["r2_within"]), "cluster": cluster,
           "identified": False, "coef": float("nan")}
    for c in CLUSTERINGS:
        row.update({f"{st}_{c}": v for st, v in _nan_stats().items()})
        row[f"g_{c}"] = float("nan")
    if reg in dropped:
        why = ("has no variation within pairs" if not varies[reg]
               else "is collinear with the other regressors and the period effects")
        notes.insert(0, f"not identified: {reg} {why} in this sample")
    elif df_resid < n_params:
        notes.insert(0, NO_DF if df_resid <= 0 else
                     f"not identified (too few residual degrees of freedom: {df_resid} for {n_params} parameters)")
    else:
        row["identified"] = True
        row["coef"] = float(r["coef"])
        if n_vary < MIN_VARYING_FOR_SE:
            notes.append(single_pair_note(reg, n_vary))
        for c in CLUSTERINGS if n_vary >= MIN_VARYING_FOR_SE else ():
            row[f"g_{c}"] = int(r[f"G_{c}"])
            g_eff = int(r[f"G_effective_{c}"])
            if g_eff - 1 < n_params:
                notes.append(f"{c}-clustered SE not reported: {g_eff} clusters for {n_params} parameters")
                continue
            if not (np.isfinite(r[f"se_{c}"]) and r[f"se_{c}"] > 0 and np.isfinite(r[f"p_{c}"])):
                why = r[f"note_{c}"]
                notes.append(f"{c}-clustered variance not positive" if not why or why.startswith("negative")
                             else f"{c}-clustered SE not reported: {why}")
                continue
            row.update({f"{st}_{c}": r[f"{st}_{c}"] for st in STATS})
    row.update({st: row[f"{st}_{cluster}"] for st in STATS})
    row["note"] = "; ".join(notes)
    return {k: row[k] for k in COLUMNS}


def fit_specs(panel: pd.DataFrame, specs: list[Spec], cluster: str = "pair",
              leave_out: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Fit every spec once and report it under every clustering; one row per spec (:data:`COLUMNS`).

    Every fit: pair and period effects, singletons kept, the within estimator of
    :func:`intercity.engine.fit` (specs on the same rows share one transformation); the variances
    under pair, origin, two-way and dyadic clustering come from the same fit, with
    :data:`intercity.engine.SSC`. ``cluster`` (one of :data:`CLUSTERINGS`) picks the headline
    columns (``se``, ``p``, ...). Identification: see the module docstring.

    Controls: ``leave_out`` ({control short name: reason}, e.g. from
    :func:`intercity.panel.controls_left_out`) are left out of the formula before fitting; a
    control the within estimator drops (no variation within pairs in the sample, or collinear with
    the regressors and the effects; pyfixest's and fixest's pivot rule) is named with its reason.
    ``controls_in`` / ``controls_out`` name them per model.

    Rows: a row whose dependent, regressors or study controls are missing (NaN or infinite, from a
    value the panel sent to the ledger) is left out explicitly and counted in ``nobs_lost`` with a
    note; if the engine then uses another number of rows, ``RuntimeError`` names the model.

    Raises ValueError for an unknown ``cluster`` or ``leave_out`` control; the engine's KeyError,
    ValueError or TypeError for a missing or non-numeric panel column, a missing identifier or a
    pair seen twice in a period (each naming the column and row).
    """
    if cluster not in CLUSTERINGS:
        raise ValueError(f"unknown cluster {cluster!r}; known: {sorted(CLUSTERINGS)}")
    leave_out = dict(leave_out or {})
    unknown = sorted(set(leave_out) - set(CONTROLS))
    if unknown:
        raise ValueError(f"leave_out names unknown control(s) {unknown}; controls are {list(CONTROLS)}")
    specs = list(specs)
    if not specs:
        return pd.DataFrame(columns=list(COLUMNS))
    rows = _Rows(panel)
    jobs, fits = [], []
    for s in specs:
        name, mask, lost, note = rows.of(s)
        candidates = [c for c in CONTROL_COLUMNS if c.rsplit("_", 1)[0] not in leave_out] if s.controls else []
        jobs.append((mask, lost, note, candidates))
        fits.append(engine.Model(key=s.key, dependent=s.dependent_column, regressors=tuple(s.regressors),
                                 controls=tuple(candidates), sample=name, table=s.table, column=s.column,
                                 label=s.dependent))
    res = engine.fit(panel, fits, CLUSTERINGS, samples=rows.rules)
    out: list[dict] = []
    varying: dict[tuple[str, str], int] = {}  # (sample, regressor) -> pairs within which it changes
    for s, f, (mask, lost, note, candidates), (_, r) in zip(specs, fits, jobs, res.iterrows()):
        given = int(mask.sum())
        if int(r["nobs"]) != given or int(r["n_nonfinite"]):
            raise RuntimeError(f"model {s.key}: the estimator used {int(r['nobs'])} of the {given} rows "
                               "it was given; rows were dropped unrecorded")
        needs_data = bool(r["collinear"])
        data = panel.loc[mask] if needs_data else panel.iloc[:0]
        reg = s.regressors[0]
        if (f.sample, reg) not in varying:
            varying[(f.sample, reg)] = varying_pairs(panel.loc[mask, ["pair_id", reg]], reg)
        out.append(_row(s, r, data, candidates, leave_out, lost, note, cluster, varying[(f.sample, reg)]))
    return pd.DataFrame(out, columns=list(COLUMNS))


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
