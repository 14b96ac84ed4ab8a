"""The book's models through pyfixest directly: the timing reference for the exact engine.

This is how the package estimated the book before the engine (``models.fit_specs`` up to the
integration of issue 13): one ``pyfixest.feols`` call per (sample, tier, regressors, controls) with
the multiple-estimation syntax ``Y1 + Y2 ~ X | pair_id + period``, singletons kept, the small-sample
convention ``engine.SSC``, pyfixest's default demeaner (or ``demeaner=`` given), and every further
clustering re-computed on the same fit with ``Feols.vcov``. Benchmarks only: the package itself no
longer calls pyfixest (tests/test_models.py compares it with a converged pyfixest, model by model).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from intercity import engine, models

#: pyfixest ``vcov`` arguments of the clusterings it has ("dyadic" has none).
VCOV: dict[str, dict[str, str]] = {"pair": {"CRV1": "pair_id"}, "origin": {"CRV1": "origin"},
                                   "twoway": {"CRV1": "origin+dest"}}


def fit_book(panel: pd.DataFrame, specs: list, clusters: tuple[str, ...] = ("pair",),
             leave_out: dict | None = None, demeaner=None) -> pd.DataFrame:
    """One row per spec: key, nobs, coef and ``se_<c>`` for every clustering in ``clusters`` (NaN
    when pyfixest drops the reported regressor). ``leave_out``: control short names left out of
    every formula (as :func:`intercity.panel.controls_left_out` gives them)."""
    import pyfixest as pf

    leave_out = leave_out or {}
    controls = [c for c in models.CONTROL_COLUMNS if c.rsplit("_", 1)[0] not in leave_out]
    groups: dict[tuple, list] = {}
    for s in specs:
        groups.setdefault((s.sample, s.tier, s.regressors, s.controls), []).append(s)
    rows = []
    for (sample, tier, regressors, with_controls), members in groups.items():
        data = models.sample_rows(panel, sample, tier)
        deps = list(dict.fromkeys(m.dependent_column for m in members))
        rhs = " + ".join(list(regressors) + (controls if with_controls else []))
        kw = {"demeaner": demeaner} if demeaner is not None else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.feols(f"{' + '.join(deps)} ~ {rhs} | pair_id + period", data, vcov=VCOV[clusters[0]],
                           ssc=engine.SSC, fixef_rm="none", **kw)
            fits = ({f._depvar: f for f in fit.all_fitted_models.values()}
                    if hasattr(fit, "all_fitted_models") else {fit._depvar: fit})
            for m in members:
                f, reg = fits[m.dependent_column], m.regressors[0]
                row = {"key": m.key, "nobs": int(f._N), "coef": float(f.coef().get(reg, np.nan))}
                for c in clusters:
                    if c != clusters[0]:
                        f.vcov(VCOV[c])
                    row[f"se_{c}"] = float(f.se().get(reg, np.nan))
                if len(clusters) > 1:
                    f.vcov(VCOV[clusters[0]])
                rows.append(row)
    return pd.DataFrame(rows).set_index("key").loc[[s.key for s in specs]].reset_index()
