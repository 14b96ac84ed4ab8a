"""Declarative model specifications and their estimation with pyfixest.

Every model of the study is  Y_ijt = b X_ijt + a1 C_it + a2 C_jt + mu_ij + eta_t + e_ijt  on the
pair panel (:mod:`intercity.panel`): pair fixed effects (``pair_id``) and period fixed effects,
standard errors clustered by pair (the study) or by origin and destination ("twoway").
Singleton pairs are kept (``fixef_rm="none"``), as the study's sample sizes imply.

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
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyfixest as pf

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
#: Clustering name -> pyfixest vcov argument.
VCOV: dict[str, dict[str, str]] = {"pair": {"CRV1": "pair_id"}, "twoway": {"CRV1": "origin+dest"}}


def areg_se_factor(nobs: int, n_pairs: int, k: int) -> float:
    """How much larger a pair-clustered SE is when every pair effect is counted (areg, dummies;
    ``k_fixef="full"``) than under :data:`SSC`: sqrt((N-K)/(N-K-pairs+1)), K as in the docstring."""
    return float(np.sqrt((nobs - k) / (nobs - k - n_pairs + 1)))


def vcov_for(cluster: str) -> dict[str, str]:
    """pyfixest vcov argument: clustered by pair, or two-way by origin and destination."""
    if cluster not in VCOV:
        raise ValueError(f"unknown cluster {cluster!r}; known: {sorted(VCOV)}")
    return VCOV[cluster]


def stars(p: float) -> str:
    """Significance stars: *** p < 0.01, ** p < 0.05, * p < 0.1."""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def _tidy_one(spec: Spec, fit, cluster: str) -> dict:
    reg = spec.regressors[0]
    row = {"key": spec.key, "table": spec.table, "column": spec.column, "sample": spec.sample,
           "tier": spec.tier, "dependent": spec.dependent, "regressor": reg,
           "controls": "yes" if spec.controls else "no", "nobs": int(fit._N),
           "r2": float(fit._r2), "r2_within": float(fit._r2_within), "cluster": cluster, "note": ""}
    if reg not in fit.coef().index:
        nan = float("nan")
        row.update(coef=nan, se=nan, t=nan, p=nan, stars="", ci90_low=nan, ci90_high=nan,
                   ci95_low=nan, ci95_high=nan,
                   note=f"not identified: {reg} has no variation within pairs in this sample")
        return row
    coef = float(fit.coef()[reg])
    se = float(fit.se()[reg])
    t = float(fit.tstat()[reg])
    p = float(fit.pvalue()[reg])
    ci95 = fit.confint(alpha=0.05).loc[reg]
    ci90 = fit.confint(alpha=0.10).loc[reg]
    row.update(coef=coef, se=se, t=t, p=p, stars=stars(p), ci90_low=float(ci90.iloc[0]),
               ci90_high=float(ci90.iloc[1]), ci95_low=float(ci95.iloc[0]),
               ci95_high=float(ci95.iloc[1]))
    return row


def fit_specs(panel: pd.DataFrame, specs: list[Spec], cluster: str = "pair") -> pd.DataFrame:
    """Fit every spec; specs sharing sample, tier, regressors and controls share one pyfixest call
    (multiple-estimation syntax ``Y1 + Y2 ~ X | FE``). Every fit: pair and period effects,
    :data:`SSC`, singletons kept.

    Measured at full scale (benchmarks/models.py): pyfixest 0.60's cost is per model (model
    matrix, demeaning, vcov), so sharing more (``sw()`` steps, merging samples that select the same
    rows, one model for the three synergy columns) gave no measurable gain and is not done.
    """
    vcov = vcov_for(cluster)
    groups: dict[tuple, list[Spec]] = {}
    for s in specs:
        groups.setdefault((s.sample, s.tier, s.regressors, s.controls), []).append(s)
    rows = []
    for (sample, tier, _, _), members in groups.items():
        data = sample_rows(panel, sample, tier)
        deps = list(dict.fromkeys(m.dependent_column for m in members))
        fml = f"{' + '.join(deps)} ~ {members[0].rhs()} | pair_id + period"
        with warnings.catch_warnings():  # a regressor without within-pair variation is reported per row
            warnings.filterwarnings("ignore", message=r"(?s).*dropped due to multicollinearity")
            # adjusted R2 is undefined when pair effects exhaust the degrees of freedom (tiny samples)
            warnings.filterwarnings("ignore", message="divide by zero", category=RuntimeWarning)
            # a two-way clustered variance can be negative in tiny samples: its SE is then NaN
            warnings.filterwarnings("ignore", message="invalid value encountered in sqrt", category=RuntimeWarning)
            # pyfixest 0.60 calls pandas methods with inplace=, deprecated in pandas 3.1
            warnings.filterwarnings("ignore", message="The inplace keyword")
            fit = pf.feols(fml, data, vcov=vcov, ssc=SSC, fixef_rm="none", copy_data=False,
                           store_data=False, lean=False)
            fits = {m._depvar: m for m in fit.all_fitted_models.values()} if hasattr(fit, "all_fitted_models") else {fit._depvar: fit}
            for m in members:  # standard errors are computed here, on first access
                rows.append(_tidy_one(m, fits[m.dependent_column], cluster))
    return pd.DataFrame(rows)


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
    """Published rows beside their reproduced counterparts (one row per published coefficient)."""
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
    return out
