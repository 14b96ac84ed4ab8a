"""Recompute one cell of the design lab's size table without the package's estimation code.

    python tests/independent/lab_size_cell.py --results results/default --cache data/processed \
        [--setting no_effect] [--model gradient_scale:3]

Reads ``design_lab_draws.csv`` (which worlds belong to the setting: their ``draw_key``) and
``design_lab.csv`` (the package's rejection rate for the cell) from ``--results``, and each
world's saved panel ``<cache>/lab/panel-<draw_key>.parquet``. For every world it estimates the
model with its own code, imports nothing from ``intercity``:

* the study's model: dependent ~ regressor + the 12 controls | pair effects + period effects, on
  the rows of the model's sample (down- or up-gradient, or all pairs), singletons kept;
* the within transformation by alternating projections (subtract pair means, then period means,
  until the largest change is below 1e-13), not by first differences as the package does;
* OLS on the transformed data, residuals, and the CRV1 variance clustered by pair,
  V = c (X'X)^-1 (sum_g s_g s_g') (X'X)^-1 with scores s_g summed over the pair's rows and
  c = G/(G-1) (N-1)/(N-K), N rows, G pairs, K = regressors + 2 (the period effect and the
  intercept; the pair effects are nested in the clusters); a two-sided t test with G - 1 degrees
  of freedom at 5%.

Prints a JSON line with both rejection counts and the largest coefficient gap to the package's
saved estimates; exits 1 if the counts differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

CONTROLS = [f"{c}_{s}" for s in ("i", "j") for c in ("edl", "ul", "fil", "hcl", "ftl", "gel")]
#: The study's models the check can redo: key -> (dependent, regressor, sample rule).
MODELS = {
    "baseline_direction:2": ("IT_direction", "connectivity_HSR", None),
    "baseline_direction:4": ("IT_direction", "connectivity_I", None),
    "gradient_scale:1": ("IT", "connectivity_HSR", 1),
    "gradient_scale:2": ("IT", "connectivity_HSR", 0),
    "gradient_scale:3": ("IT", "connectivity_I", 1),
    "gradient_scale:4": ("IT", "connectivity_I", 0),
}


def within(values: np.ndarray, pair: np.ndarray, period: np.ndarray, tol: float = 1e-13) -> np.ndarray:
    """Remove pair and period means by alternating projections (columns at once)."""
    out = values.astype(float).copy()
    pcode, pinv = np.unique(pair, return_inverse=True)
    tcode, tinv = np.unique(period, return_inverse=True)
    npair, nper = np.bincount(pinv), np.bincount(tinv)
    for _ in range(10_000):
        before = out.copy()
        for inv, cnt in ((pinv, npair), (tinv, nper)):
            sums = np.zeros((cnt.size, out.shape[1]))
            np.add.at(sums, inv, out)
            out -= (sums / cnt[:, None])[inv]
        if np.abs(out - before).max() <= tol * max(1.0, np.abs(values).max()):
            break
    return out


def fit(panel: pd.DataFrame, model: str) -> tuple[float, float, int]:
    """(coefficient, p value, clusters) of ``model`` on one world's panel, CRV1 by pair."""
    dep, reg, side = MODELS[model]
    rows = panel if side is None else panel[panel["down_gradient"] == side]
    cols = [dep, reg, *CONTROLS]
    z = within(rows[cols].to_numpy(float), rows["pair_id"].to_numpy(), rows["period"].to_numpy())
    y, X = z[:, 0], z[:, 1:]
    xtx_inv = np.linalg.inv(X.T @ X)
    b = xtx_inv @ X.T @ y
    e = y - X @ b
    codes = np.unique(rows["pair_id"].to_numpy(), return_inverse=True)[1]
    G = codes.max() + 1
    scores = np.zeros((G, X.shape[1]))
    np.add.at(scores, codes, X * e[:, None])
    n, k = len(rows), X.shape[1] + 2
    v = G / (G - 1) * (n - 1) / (n - k) * xtx_inv @ (scores.T @ scores) @ xtx_inv
    t = b[0] / np.sqrt(v[0, 0])
    return float(b[0]), float(2 * stats.t.sf(abs(t), G - 1)), int(G)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", required=True, help="results/<set> folder with design_lab*.csv")
    ap.add_argument("--cache", required=True, help="cache folder holding lab/panel-<key>.parquet")
    ap.add_argument("--setting", default="no_effect")
    ap.add_argument("--model", default="gradient_scale:3", choices=sorted(MODELS))
    args = ap.parse_args(argv)
    res = Path(args.results)
    draws = pd.read_csv(res / "design_lab_draws.csv")
    summary = pd.read_csv(res / "design_lab.csv")
    mine = draws[(draws["setting"] == args.setting) & (draws["key"] == args.model) & (draws["method"] == "pair")]
    cell = summary[(summary["setting"] == args.setting) & (summary["key"] == args.model)
                   & (summary["method"] == "pair")].iloc[0]
    rejections, gaps, pgaps, used = 0, [], [], 0
    for r in mine.itertuples():
        if not (np.isfinite(r.coef) and np.isfinite(r.p)):
            continue  # the package did not count this world (model not identified there)
        panel = pd.read_parquet(Path(args.cache) / "lab" / f"panel-{r.draw_key}.parquet")
        b, p, _ = fit(panel, args.model)
        rejections += int(p <= 0.05)
        gaps.append(abs(b - r.coef) / max(1.0, abs(r.coef)))
        pgaps.append(abs(p - r.p))
        used += 1
    package = int(round(cell["rejection_rate"] * cell["n_draws"]))
    out = {"setting": args.setting, "model": args.model, "method": "pair", "worlds": used,
           "package_worlds": int(cell["n_draws"]), "package_rejections": package,
           "independent_rejections": rejections, "independent_rate": rejections / used if used else None,
           "max_relative_coef_gap": max(gaps) if gaps else None, "max_p_gap": max(pgaps) if pgaps else None}
    print(json.dumps(out))
    return 0 if package == rejections and used == int(cell["n_draws"]) else 1


if __name__ == "__main__":
    sys.exit(main())
