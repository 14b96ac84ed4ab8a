"""One draw of the design lab (:mod:`intercity.lab`): a synthetic world, its counterfactual
estimand and the study's estimates under every inference method.

A draw is determined by a :class:`DrawSpec` (world seed and size, knobs, periods, tiers, methods)
and computed by :func:`run_draw`, deterministically. What "the estimand" and each inference
method mean is written in :mod:`intercity.lab`. This module holds only what a draw runs, so that
the draws' cache key (which hashes this module and the package modules it imports) changes when,
and only when, the computation of a draw does.
"""

from __future__ import annotations

import math
import os
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from intercity import models, mrio as mrio_mod, panel as panel_mod, transfer
from intercity.schema import StudyData
from intercity.sources import synthetic

#: Level of every test (two-sided), as the study's stars and DeclareDesign's default.
ALPHA = 0.05
#: The CRV1 methods (clusterings): pair, origin city, two-way (origin and destination city).
CRV_METHODS: tuple[str, ...] = ("pair", "origin", "twoway")
#: Quantiles of the per-pair effects kept beside the mean estimand.
QUANTILES: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
#: The counterfactual that raises each model regressor.
REGRESSORS: dict[str, str] = {"connectivity_HSR": "hsr", "connectivity_I": "info"}


# ----------------------------------------------------------------------------- configuration

@dataclass(frozen=True)
class DrawSpec:
    """Everything that determines one draw (a world, its counterfactuals and its estimates).

    setting, draw: the knob setting's name and the draw's index (labels only, not in the key).
    seed: the world's seed; n_cities: its cities; periods, tiers_km: as the book's parameters.
    truth, world: the truth knobs and shape constants, sorted (name, value) pairs
    (:class:`intercity.sources.synthetic.Knobs`). families, methods, permutations, bootstrap,
    wild_cluster, treated_share, raise_hsr_lines, raise_info_log: as :class:`intercity.params.Lab`.
    """

    setting: str
    draw: int
    seed: int
    n_cities: int
    periods: tuple[tuple[int, int], ...]
    tiers_km: tuple[float, ...]
    truth: tuple[tuple[str, float], ...]
    world: tuple[tuple[str, float], ...]
    families: tuple[str, ...]
    methods: tuple[str, ...]
    permutations: int
    bootstrap: int
    wild_cluster: str
    treated_share: float
    raise_hsr_lines: int
    raise_info_log: float

    def determinants(self) -> dict[str, Any]:
        """What the draw's results depend on (not its setting's name or its index)."""
        d = asdict(self)
        d.pop("setting")
        d.pop("draw")
        return d

    @property
    def knobs(self) -> synthetic.Knobs:
        return synthetic.Knobs(**dict(self.truth), **dict(self.world))


def lab_specs(families: Iterable[str], tiers: list[str]) -> list[models.Spec]:
    """The study's models the lab estimates: baseline (baseline_direction columns 2 and 4: IT_direction
    on HSR or information with controls, all pairs), gradient (gradient_scale 1-4: IT, down- and
    up-gradient) and tier (tier_<tier> columns 1-4 of :func:`intercity.models.tier_specs`)."""
    families = tuple(families)
    pub = {s.key: s for s in models.published_specs()}
    out = []
    if "baseline" in families:
        out += [pub["baseline_direction:2"], pub["baseline_direction:4"]]
    if "gradient" in families:
        out += [pub[f"gradient_scale:{c}"] for c in (1, 2, 3, 4)]
    if "tier" in families:
        out += [s for s in models.tier_specs(tiers) if s.table.startswith("tier_")]
    return out


def family_of(spec: models.Spec) -> str:
    return "baseline" if spec.table.startswith("baseline") else "gradient" if spec.table.startswith(
        "gradient") else "tier"


# ----------------------------------------------------------------------------- one world

@dataclass
class DrawWorld:
    """A world with its solved MRIO, transfers and panel."""

    world: synthetic.World
    data: StudyData
    induced: dict[int, np.ndarray]
    panel: pd.DataFrame
    pairs: pd.DataFrame  # :func:`pair_differences` of the panel


def _years(periods) -> list[int]:
    ends = [y for p in periods for y in p]
    return list(range(min(ends) - 1, max(ends) + 1))


def _solve(mrio: dict) -> dict[int, np.ndarray]:
    return {year: mrio_mod.induced_output(m, label=year) for year, m in sorted(mrio.items())}


def _panel(w: synthetic.World, pair_year: pd.DataFrame, induced: dict[int, np.ndarray], periods,
           tiers_km) -> tuple[StudyData, pd.DataFrame]:
    data = StudyData(source="synthetic", cities=w.cities, city_year=w.city_year, pair_year=pair_year,
                     mrio={}, ledger=w.ledger)
    sectors = synthetic.SECTOR_CODES
    transfers = transfer.period_transfer(induced, list(periods), data.city_ids, sectors)
    panel, _ = panel_mod.build(data, transfers, tuple(tuple(p) for p in periods), tuple(tiers_km))
    return data, panel


def draw_world(spec: DrawSpec) -> DrawWorld:
    """Build the draw's world (:func:`intercity.sources.synthetic.world`), solve every MRIO year
    (structured Leontief solve) and form the pair panel."""
    years = _years(spec.periods)
    mrio_years = tuple(sorted({y for p in spec.periods for y in p}))
    w = synthetic.world(spec.n_cities, spec.seed, years, [tuple(p) for p in spec.periods], mrio_years, spec.knobs)
    induced = _solve(w.mrio())
    data, panel = _panel(w, w.pair_year(), induced, spec.periods, spec.tiers_km)
    return DrawWorld(world=w, data=data, induced=induced, panel=panel, pairs=pair_differences(panel))


def raised_years(periods, years: list[int]) -> list[int]:
    """The years whose connectivity the counterfactual raises: those of the last period after its
    first year (its first year also closes the previous period)."""
    a, b = periods[-1]
    return [y for y in years if a < y <= b]


def counterfactual(dw: DrawWorld, spec: DrawSpec, which: str) -> pd.DataFrame:
    """Per treated ordered pair: the change of connectivity and of IT and IT_direction in the last
    period when connectivity (``which`` = "hsr" or "info") is raised for a random share of pairs.

    Returns one row per treated ordered pair: regressor, pair_id, dconn (change of the regressor,
    connectivity_HSR or connectivity_I, in the last period), dIT and dIT_direction (their change
    in the last period), tier and ``in_<sample>`` (the pair is in the sample in both periods of the
    world's own panel). Treated pairs are drawn with a generator seeded by the world's seed and
    ``which``, the same in every knob setting. Raises ValueError for another ``which``.
    """
    w, periods = dw.world, spec.periods
    years = w.years
    ry = raised_years(periods, years)
    cols = [years.index(y) for y in ry]
    n = len(w.cities)
    rng = np.random.default_rng([spec.seed, 1 if which == "hsr" else 2])
    hsr, idx = w.hsr, w.idx
    if which == "hsr":
        iu, ju = np.triu_indices(n, 1)
        pick = rng.random(len(iu)) < spec.treated_share
        ti, tj = iu[pick], ju[pick]
        hsr = w.hsr.copy()
        for c in cols:
            hsr[ti, tj, c] += spec.raise_hsr_lines
            hsr[tj, ti, c] += spec.raise_hsr_lines
        idx = w.index_for(hsr)  # the index responds to HSR as the world's rule says
        treated = np.concatenate([ti * n + tj, tj * n + ti])
        regressor = "connectivity_HSR"
    elif which == "info":
        oi, dj = np.nonzero(~np.eye(n, dtype=bool))
        pick = rng.random(len(oi)) < spec.treated_share
        ti, tj = oi[pick], dj[pick]
        idx = w.idx.copy()
        for c in cols:
            idx[ti, tj, c] = np.expm1(np.log1p(idx[ti, tj, c]) + spec.raise_info_log)
        treated = ti * n + tj
        regressor = "connectivity_I"
    else:
        raise ValueError(f"counterfactual {which!r}: known 'hsr', 'info'")
    changed = tuple(y for y in w.mrio_years if y >= min(ry))
    induced = dict(dw.induced)
    induced.update(_solve(w.mrio(hsr, idx, only=changed)))
    _, cf = _panel(w, w.pair_year(hsr, idx), induced, periods, spec.tiers_km)
    last = f"{periods[-1][0]}-{periods[-1][1]}"
    base = dw.panel
    b = base[base["period"] == last].set_index("pair_id")
    c = cf[cf["period"] == last].set_index("pair_id")
    ids = np.sort(treated)
    out = pd.DataFrame({"pair_id": ids})
    out["dconn"] = (c.loc[ids, regressor] - b.loc[ids, regressor]).to_numpy()
    out["dIT"] = (c.loc[ids, "IT"] - b.loc[ids, "IT"]).to_numpy()
    out["dIT_direction"] = (c.loc[ids, "IT_direction"].astype(float) - b.loc[ids, "IT_direction"]).to_numpy()
    flags = dw.pairs.set_index("pair_id").reindex(ids)
    out["tier"] = flags["tier"].fillna("").to_numpy()
    for sample in _SAMPLE_FLAGS:
        out[f"in_{sample}"] = flags[f"in_{sample}"].fillna(False).to_numpy(bool)
    out.insert(0, "regressor", regressor)
    return out


def estimands(effects: dict[str, pd.DataFrame], specs: list[models.Spec]) -> pd.DataFrame:
    """Per model: the per-unit effect of its reported regressor on its dependent among the treated
    pairs of its sample (mean, quantiles, count). ``effects``: regressor -> :func:`counterfactual`."""
    rows = []
    for s in specs:
        reg = s.regressors[0]
        e = effects[reg]
        mask = np.ones(len(e), bool)
        if models.SAMPLES[s.sample] is not None:
            mask &= e[f"in_{s.sample}"].to_numpy()
        if s.tier:
            mask &= (e["tier"] == s.tier).to_numpy()
        sub = e[mask & (e["dconn"].to_numpy() != 0)]
        ratio = (sub[f"d{s.dependent_column}"] / sub["dconn"]).to_numpy(float)
        row = {"key": s.key, "n_treated": int(len(ratio)),
               "estimand": float(ratio.mean()) if len(ratio) else math.nan,
               "dconn_mean": float(sub["dconn"].mean()) if len(sub) else math.nan}
        for q in QUANTILES:
            row[f"estimand_q{int(round(q * 100)):02d}"] = float(np.quantile(ratio, q)) if len(ratio) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- estimation

#: Samples of :data:`intercity.models.SAMPLES` (their rule: column == value, in both periods).
_SAMPLE_FLAGS: tuple[str, ...] = tuple(k for k, v in models.SAMPLES.items() if v is not None)
#: Panel columns differenced for the models (dependents, regressors, controls).
_DIFFERENCED: tuple[str, ...] = ("IT", "IT_direction", "connectivity_HSR", "connectivity_I", *models.CONTROL_COLUMNS)


def pair_differences(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per pair seen in both periods of a two-period panel: pair_id, origin, dest, tier,
    the first difference (last period minus first) of every model column (:data:`_DIFFERENCED`,
    same names) and ``in_<sample>`` (the pair is in the sample in both periods).

    With two periods and pair and period fixed effects the within estimator equals OLS of the
    differenced dependent on the differenced regressors with an intercept (the period effect) over
    these pairs; a pair in a sample in only one period is a singleton there and carries no within
    variation. Raises ValueError when the panel does not have exactly two periods.
    """
    periods = sorted(panel["period"].unique())
    if len(periods) != 2:
        raise ValueError(f"the design lab needs exactly two periods, got {periods}")
    a = panel[panel["period"] == periods[0]].set_index("pair_id")
    b = panel[panel["period"] == periods[1]].set_index("pair_id")
    both = a.index.intersection(b.index, sort=False)
    a, b = a.loc[both], b.loc[both]
    cols = [c for c in _DIFFERENCED if c in panel.columns]
    out = pd.DataFrame({"pair_id": both.to_numpy(), "origin": b["origin"].to_numpy(), "dest": b["dest"].to_numpy(),
                        "tier": b["tier"].to_numpy()})
    diff = b[cols].to_numpy(float) - a[cols].to_numpy(float)
    for k, c in enumerate(cols):
        out[c] = diff[:, k]
    for sample in _SAMPLE_FLAGS:
        col, val = models.SAMPLES[sample]
        out[f"in_{sample}"] = (a[col].to_numpy() == val) & (b[col].to_numpy() == val)
    return out


def _fd(pairs: pd.DataFrame, spec: models.Spec) -> pd.DataFrame:
    """The differenced data of a spec (:func:`pair_differences` rows of its sample and tier): its
    dependent, regressors and controls, with pair_id, origin and dest."""
    mask = np.ones(len(pairs), bool)
    if models.SAMPLES[spec.sample] is not None:
        mask &= pairs[f"in_{spec.sample}"].to_numpy()
    if spec.tier:
        mask &= (pairs["tier"] == spec.tier).to_numpy()
    cols = [spec.dependent_column, *spec.regressors, *(models.CONTROL_COLUMNS if spec.controls else ())]
    return pairs.loc[mask, ["pair_id", "origin", "dest", *cols]].reset_index(drop=True)


def estimate(panel: pd.DataFrame, specs: list[models.Spec], clusters: tuple[str, ...] = CRV_METHODS
             ) -> pd.DataFrame:
    """Coefficient of each spec's reported regressor with CRV1 inference under each clustering.

    The ONE place where the lab estimates, and it estimates as the book does:
    :func:`intercity.models.fit_specs` (pair and period effects, singletons kept, the exact engine
    :func:`intercity.engine.fit`, equal to pyfixest to 1e-8, small-sample factors of
    :data:`intercity.engine.SSC`), with the book's identification rule (a model is identified when
    its regressor survives the within transformation and its residual degrees of freedom are at
    least its parameters; a clustering is reported when its clusters allow it). Returns one row per
    spec: key, coef, nobs, n_pairs, df_resid, identified, and per clustering c (pair, origin city,
    two-way): se_c, p_c, ci95_low_c, ci95_high_c (95%, t with G - 1 degrees of freedom), G_c; NaN
    where not identified or not reported.
    """
    fit = models.fit_specs(panel, specs, cluster="pair")
    out = pd.DataFrame({"key": fit["key"], "nobs": fit["nobs"].astype(int), "n_pairs": fit["n_pairs"].astype(int),
                        "df_resid": fit["df_resid"], "coef": fit["coef"].astype(float),
                        "identified": fit["identified"].astype(bool)})
    for c in clusters:
        for col in ("se", "p", "ci95_low", "ci95_high"):
            out[f"{col}_{c}"] = fit[f"{col}_{c}"].astype(float)
        out[f"G_{c}"] = fit[f"g_{c}"].astype(float)
    return out


def _residualise(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    return v - q @ (q.T @ v)


def _design(fd: pd.DataFrame, spec: models.Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, x, Q): differenced dependent and reported regressor, and an orthonormal basis of the
    intercept and the other differenced columns (collinear ones dropped)."""
    reg = spec.regressors[0]
    others = [c for c in fd.columns if c not in ("pair_id", "origin", "dest", spec.dependent_column, reg)]
    z = np.column_stack([np.ones(len(fd))] + [fd[c].to_numpy(float) for c in others])
    q, r = np.linalg.qr(z)
    d = np.abs(np.diag(r))
    q = q[:, d > 1e-10 * max(1.0, d.max())]
    return fd[spec.dependent_column].to_numpy(float), fd[reg].to_numpy(float), q


def _pair_t(ry: np.ndarray, rx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and heteroskedasticity-robust t statistics of ``ry`` on each column of ``rx``
    (both already residualised on the other regressors): b = rx'ry / rx'rx, e = ry - b rx,
    t = b / sqrt(sum (rx e)^2 / (rx'rx)^2). On first differences one row is one pair, so this is the
    pair-clustered CRV1 t of the fixed-effects model up to its constant small-sample factor."""
    sxx = np.einsum("ij,ij->j", rx, rx)
    b = (rx.T @ ry) / sxx
    e = ry[:, None] - rx * b[None, :]
    return b, b / np.sqrt(np.einsum("ij,ij->j", rx * e, rx * e) / sxx ** 2)


def permutation_pvalue(fd: pd.DataFrame, spec: models.Spec, permutations: int,
                       rng: np.random.Generator, batch: int = 100) -> tuple[float, float]:
    """Randomization inference for the reported regressor on first differences ``fd`` (:func:`_fd`).

    With two periods and pair and period effects the within estimator is OLS of the differenced
    dependent on the differenced regressors with an intercept (the period effect); permuting a
    regressor's path over both periods across pairs permutes its difference. The other regressors
    and the controls stay with their pairs (Frisch-Waugh-Lovell: both sides are residualised on
    them, the permuted regressor afresh for each permutation). The statistic is the study's own
    pair-clustered t (studentised: :func:`_pair_t`), as pyfixest's ``ritest(type="randomization-t")``;
    a studentised permutation test stays valid when the outcome's variance differs between the
    pairs that get connectivity and the others, where permuting the bare coefficient over-rejects
    (DiCiccio and Romano 2017, JASA 112(519); Young 2019, QJE 134(2)). Returns (coefficient, p),
    p = (1 + #{|t*| >= |t|}) / (1 + R), two-sided; exact for the sharp null of no effect when the
    paths are exchangeable across pairs. NaN when the regressor has no variation left.
    """
    y, x, q = _design(fd, spec)
    ry = _residualise(q, y)
    rx = _residualise(q, x)
    if float(rx @ rx) <= 1e-12 * max(1.0, float(x @ x)):
        return math.nan, math.nan
    b, t = _pair_t(ry, rx[:, None])
    hits, done = 0, 0
    while done < permutations:
        m = min(batch, permutations - done)
        xp = np.stack([x[rng.permutation(len(x))] for _ in range(m)], axis=1)
        tp = _pair_t(ry, _residualise(q, xp))[1]
        hits += int((np.abs(tp) >= abs(t[0]) * (1 - 1e-12)).sum())
        done += m
    return float(b[0]), (1 + hits) / (1 + permutations)


def rademacher(n_clusters: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Rademacher weights (n_clusters, B): every one of the 2^G sign vectors when 2^G < reps (full
    enumeration, as ``wildboottest`` does; B = 2^G), else ``reps`` random draws."""
    if n_clusters < 31 and 2 ** n_clusters < reps:
        codes = np.arange(2 ** n_clusters)
        return 1.0 - 2.0 * ((codes[None, :] >> np.arange(n_clusters)[:, None]) & 1)
    return rng.choice(np.array([-1.0, 1.0]), size=(n_clusters, reps))


def wild_pvalue(fd: pd.DataFrame, spec: models.Spec, reps: int, cluster: str, rng: np.random.Generator,
                batch: int = 200) -> float:
    """Wild cluster restricted bootstrap (WCR11) p value of the reported regressor, two-sided.

    On the first-differenced regression (:func:`_fd`; intercept = period effect) with clusters
    ``cluster`` ("origin" city or "pair"): the restricted fit (regressor's coefficient 0) gives
    residuals u~; each bootstrap sample is y* = fit~ + v_g u~ with Rademacher weights v_g
    (:func:`rademacher`); the statistic is the CRV1 t of the regressor,
    t* = b* / se*, with b* = rx'y*/rx'rx (rx: the regressor residualised on the other columns,
    Frisch-Waugh-Lovell) and se*^2 = c sum_g (sum_{i in g} rx_i e*_i)^2 / (rx'rx)^2, e* the
    unrestricted residuals of y*; p = share of |t*| >= |t| (Cameron, Gelbach and Miller 2008;
    Roodman, MacKinnon, Nielsen and Webb 2019). This is the algorithm of ``wildboottest`` (as
    pyfixest's ``Feols.wildboottest(impose_null=True, bootstrap_type="11")`` runs it), vectorised
    over replications; tests/test_lab.py checks that the p values agree exactly under full
    enumeration, on the fixed-effects model too. The small-sample factor c cancels from p. Ties
    (|t*| = |t| up to rounding, as for the all-equal weight vectors, which give y* = y) count as
    exceedances; ``wildboottest`` counts |t*| > |t| and so counts them or not by rounding. Returns
    NaN when the regressor has no variation left after the other columns.
    """
    y, x, q = _design(fd, spec)
    rx = _residualise(q, x)
    sxx = float(rx @ rx)
    if sxx <= 1e-12 * max(1.0, float(x @ x)):
        return math.nan
    qw, _ = np.linalg.qr(np.column_stack([q, rx]))  # basis of the unrestricted design
    key = fd["pair_id"] if cluster == "pair" else fd["origin"]
    g, n_g = pd.factorize(key)[0], int(key.nunique())
    # the observed t statistic (any constant small-sample factor cancels from the p value)
    e = _residualise(qw, y)
    b = float(rx @ y) / sxx
    se = math.sqrt(float((np.bincount(g, weights=rx * e, minlength=n_g) ** 2).sum())) / sxx
    t = b / se
    u = _residualise(q, y)  # restricted residuals (null imposed)
    v = rademacher(n_g, reps, rng)
    ind = sp.csr_matrix((rx, (g, np.arange(len(g)))), shape=(n_g, len(g)))  # cluster sums of rx * (.)
    tb = []
    for lo in range(0, v.shape[1], batch):
        ystar = u[:, None] * v[g, lo:lo + batch]
        bstar = (rx @ ystar) / sxx
        sums = ind @ _residualise(qw, ystar)
        tb.append(bstar / (np.sqrt((sums ** 2).sum(axis=0)) / sxx))
    # |t*| = |t| exactly for v = +-1 everywhere (y* = y): such ties count as exceedances
    return float(np.mean(np.abs(np.concatenate(tb)) >= abs(t) * (1 - 1e-9)))


# ----------------------------------------------------------------------------- one draw

#: Columns of the slim panel saved with each draw (enough to re-estimate every lab model).
PANEL_COLUMNS: tuple[str, ...] = ("period", "origin", "dest", "pair_id", "IT", "IT_direction", "connectivity_HSR",
                                  "connectivity_I", "down_gradient", "tier", *models.CONTROL_COLUMNS)


def run_draw(spec: DrawSpec) -> dict[str, pd.DataFrame]:
    """One draw: world, solve, counterfactual estimands, estimates under every method.

    Returns {"results": one row per (model, method) with coef, se, p, ci95_low, ci95_high and the
    model's estimand columns, "panel": the slim panel (:data:`PANEL_COLUMNS`),
    "effects": the per-pair counterfactual effects, "timing": seconds per step, with the host and
    process that ran it}. Deterministic in ``spec`` (every random step is seeded from
    ``spec.seed``; run with one BLAS thread, as the build does, for bit-identical results).
    """
    t = {"start": time.perf_counter()}
    dw = draw_world(spec)
    t["world"] = time.perf_counter()
    tiers = panel_mod.tier_labels(spec.tiers_km)
    specs = lab_specs(spec.families, tiers)
    regs = {s.regressors[0] for s in specs}
    effects = {r: counterfactual(dw, spec, REGRESSORS[r]) for r in sorted(regs)}
    truth = estimands(effects, specs)
    t["counterfactual"] = time.perf_counter()
    crv = [m for m in spec.methods if m in CRV_METHODS] or ["pair"]
    est = estimate(dw.panel, specs, tuple(crv))
    t["estimate"] = time.perf_counter()
    rows = []
    for k, s in enumerate(specs):
        e = est.iloc[k]
        base = {"key": s.key, "family": family_of(s), "dependent": s.dependent_column, "regressor": s.regressors[0],
                "sample": s.sample, "tier": s.tier, "nobs": int(e["nobs"]), "n_pairs": int(e["n_pairs"]),
                "identified": bool(e["identified"])}
        for m in spec.methods:
            r = {**base, "method": m, "coef": float(e["coef"]), "se": math.nan, "p": math.nan,
                 "ci95_low": math.nan, "ci95_high": math.nan}
            if m in CRV_METHODS:
                r.update(se=e[f"se_{m}"], p=e[f"p_{m}"], ci95_low=e[f"ci95_low_{m}"], ci95_high=e[f"ci95_high_{m}"])
            elif m == "ri" and e["identified"]:
                rng = np.random.default_rng([spec.seed, 3, k])
                r["p"] = permutation_pvalue(_fd(dw.pairs, s), s, spec.permutations, rng)[1]
            elif m == "wild":
                if s.regressors[0] != "connectivity_HSR":
                    continue  # the wild bootstrap is run for the HSR models
                if e["identified"]:
                    r["p"] = wild_pvalue(_fd(dw.pairs, s), s, spec.bootstrap, spec.wild_cluster,
                                         np.random.default_rng([spec.seed, 4, k]))
            rows.append(r)
    t["resampling"] = time.perf_counter()
    results = pd.DataFrame(rows).merge(truth, on="key", how="left", validate="many_to_one")
    results.insert(0, "seed", spec.seed)
    timing = pd.DataFrame([{"step": a, "seconds": t[a] - t[b], "host": socket.gethostname(), "pid": os.getpid()}
                           for a, b in (("world", "start"), ("counterfactual", "world"),
                                        ("estimate", "counterfactual"), ("resampling", "estimate"))])
    eff = pd.concat(effects.values(), ignore_index=True)
    return {"results": results, "panel": dw.panel[list(PANEL_COLUMNS)].copy(), "effects": eff, "timing": timing}


