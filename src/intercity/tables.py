"""Regression tables in the study's layout: each column's published numbers beside this build's.

The deck prints a standard error in some parentheses and a t statistic in others; the published
cell is shown as printed with the convention it appears to follow (:func:`models.paren_convention`).
This build's column shows the coefficient with the stars of the study's pair-clustered standard
error, that standard error in parentheses with its t statistic in brackets, and on its own row the
two-way clustered standard error (origin and destination city) with its p value and stars. The
controls that entered each model and those left out are named; :func:`note` says why they were
left out and in which money unit the transfer was expressed before its signed log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ROWS = ("regressor", "coefficient", "(parenthesis)", "two-way SE (p)", "dependent", "sample",
        "controls", "controls entered", "controls left out", "pair and period FE", "N", "R²", "note")


def _number(v: float, digits: int = 3) -> str:
    return f"{v:.{digits}g}" if v != 0 and abs(v) < 1e-3 else f"{v:.{digits}f}"


def _stars(coef: float, stars: str, digits: int = 3) -> str:
    if pd.isna(coef):
        return "not identified"
    return f"{_number(coef, digits)}{stars}"


def _bases(columns: list[str]) -> list[str]:
    """["edl_i", "ul_i", "edl_j"] -> ["edl", "ul"]: control names without the i / j suffix."""
    return list(dict.fromkeys(c.rsplit("_", 1)[0] for c in columns))


def _split(value) -> list[str]:
    return [c for c in str(value).split(";") if c] if isinstance(value, str) else []


def _left_out(value) -> dict[str, str]:
    """``controls_out`` ("col: reason; col: reason") -> {column: reason}."""
    if not isinstance(value, str) or not value:
        return {}
    return dict(part.split(": ", 1) for part in value.split("; "))


def study_layout(compared: pd.DataFrame, table: str) -> pd.DataFrame:
    """One published table (rows of :func:`models.compare_published`) as the study lays it out,
    with a "published" and a "this build" column per model column (rows :data:`ROWS`)."""
    sub = compared[compared["table"] == table].sort_values("column")
    if sub.empty:
        raise KeyError(f"no published table named {table!r}")
    out = {}
    for r in sub.itertuples():
        out[f"({r.column}) published"] = [
            r.regressor, _stars(r.published_coef, r.published_stars),
            f"({r.published_paren:g}) {r.paren_is}", "", r.dependent, r.sample, r.controls, "", "",
            "yes", f"{int(r.published_nobs):,}", f"{r.published_r2:.3f}", ""]
        pair = "" if pd.isna(r.se_pair) else f"({_number(r.se_pair)}) se [t {r.t_pair:.2f}]"
        two = "" if pd.isna(r.se_twoway) else f"({_number(r.se_twoway)}) p {r.p_twoway:.3f}{r.stars_twoway}"
        out[f"({r.column}) this build"] = [
            r.regressor, _stars(r.coef, r.stars_pair), pair, two, r.dependent, r.sample, r.controls,
            ", ".join(_bases(_split(r.controls_in))), ", ".join(_bases(list(_left_out(r.controls_out)))),
            "yes", f"{int(r.nobs):,}", f"{r.r2:.3f}", r.note if isinstance(r.note, str) else ""]
    return pd.DataFrame(out, index=list(ROWS)).reset_index(names="")


def note(rows: pd.DataFrame, table: str | None = None, title: str | None = None) -> str:
    """A table's note: what the clusterings are, why each control left out was left out (once per
    control), and the money unit of the transfer before its signed log. ``rows``: estimates or
    :func:`models.compare_published` rows, restricted to ``table`` when given."""
    sub = rows if table is None else rows[rows["table"] == table]
    if sub.empty:
        raise KeyError(f"no estimates for table {table!r}")
    reasons: dict[str, str] = {}
    for value in sub["controls_out"]:
        for col, why in _left_out(value).items():
            reasons.setdefault(col.rsplit("_", 1)[0], why)
    units = sorted(set(sub["money_unit"].dropna())) if "money_unit" in sub else []
    parts = [title] if title else []
    parts.append("This build: stars on the coefficient from the pair-clustered SE (the study's clustering); "
                 "two-way SE clustered by origin and destination city, with its p value and stars "
                 "(*** p < 0.01, ** p < 0.05, * p < 0.1)")
    if reasons:
        parts.append("Controls left out (of both cities): " + "; ".join(f"{k}: {v}" for k, v in reasons.items()))
    if units:
        parts.append(f"Transfers in {', '.join(units)} before the signed log IT = sign(T) ln(1 + |T|) "
                     "(parameter money_unit)")
    return ". ".join(parts) + "."


def clustering_summary(rows: pd.DataFrame, tables: list[str] | tuple[str, ...], prefix: str) -> dict[str, str]:
    """Numbers for a chapter's sentence on why two-way clustering is shown. ``rows``: estimates or
    :func:`models.compare_published` rows; ``tables``: table names or name prefixes (e.g. "tier_").

    Over the models of those tables: ``<prefix>_models`` and ``_not_identified`` (no estimate, see
    :mod:`intercity.models`); over the coefficients with both standard errors: ``_n``, the two-way /
    pair SE ratio's median, min and max (``_ratio_median``, ``_ratio_min``, ``_ratio_max``),
    ``_starred_pair`` (with stars under pair clustering) and ``_lose_stars`` (of those, without
    stars under two-way clustering). Values are strings for the prose."""
    mine = rows[rows["table"].astype(str).str.startswith(tuple(tables))]
    sub = mine[mine["se_pair"].notna() & mine["se_twoway"].notna()]
    ratio = (sub["se_twoway"] / sub["se_pair"]).to_numpy(dtype=float)
    starred = sub["stars_pair"].fillna("") != ""
    lose = starred & (sub["stars_twoway"].fillna("") == "")
    fmt = (lambda v: f"{v:.2f}") if len(ratio) else (lambda v: "n/a")
    return {f"{prefix}_models": str(len(mine)),
            f"{prefix}_not_identified": str(int((~mine["identified"].astype(bool)).sum())),
            f"{prefix}_n": str(len(sub)),
            f"{prefix}_ratio_median": fmt(np.median(ratio) if len(ratio) else np.nan),
            f"{prefix}_ratio_min": fmt(ratio.min() if len(ratio) else np.nan),
            f"{prefix}_ratio_max": fmt(ratio.max() if len(ratio) else np.nan),
            f"{prefix}_starred_pair": str(int(starred.sum())), f"{prefix}_lose_stars": str(int(lose.sum()))}
