"""Regression tables in the study's layout: each column's published numbers beside this build's.

The deck prints a standard error in some parentheses and a t statistic in others; the published
cell is shown as printed with the convention it appears to follow (:func:`models.paren_convention`).
This build's cell shows the standard error in parentheses and the t statistic in brackets.
"""

from __future__ import annotations

import pandas as pd

ROWS = ("regressor", "coefficient", "(parenthesis)", "[t]", "dependent", "sample", "controls",
        "pair and period FE", "N", "R²")


def _stars(coef: float, stars: str, digits: int = 3) -> str:
    if pd.isna(coef):
        return "not identified"
    return f"{coef:.{digits}g}{stars}" if abs(coef) < 1e-3 else f"{coef:.{digits}f}{stars}"


def study_layout(compared: pd.DataFrame, table: str) -> pd.DataFrame:
    """One published table (rows of :func:`models.compare_published`) as the study lays it out,
    with a "published" and a "this build" column per model column."""
    sub = compared[compared["table"] == table].sort_values("column")
    if sub.empty:
        raise KeyError(f"no published table named {table!r}")
    out = {}
    for r in sub.itertuples():
        out[f"({r.column}) published"] = [
            r.regressor, _stars(r.published_coef, r.published_stars),
            f"({r.published_paren:g}) {r.paren_is}", "", r.dependent, r.sample, r.controls,
            "yes", f"{int(r.published_nobs):,}", f"{r.published_r2:.3f}"]
        out[f"({r.column}) this build"] = [
            r.regressor, _stars(r.coef, r.stars), "" if pd.isna(r.se) else f"({r.se:.3g}) se",
            "" if pd.isna(r.t) else f"[{r.t:.2f}]", r.dependent, r.sample, r.controls,
            "yes", f"{int(r.nobs):,}", f"{r.r2:.3f}"]
    return pd.DataFrame(out, index=list(ROWS)).reset_index(names="")
