"""The CEADs loader on tiny files written in the real layouts (.mat struct, 4-header-row xlsx)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.io

from intercity.sources import ceads

CITIES = ("110000", "120000")
SECTORS = ("01", "02")


def _arrays(k: int = 3):
    rng = np.random.default_rng(1)
    Z = rng.uniform(1, 5, (4, 4))
    F = rng.uniform(1, 5, (4, 2 * k))  # k final-demand categories per city, city-major
    E = rng.uniform(0, 2, (4, 1))
    return Z, F, E


def test_mat_roundtrip(tmp_path):
    Z, F, E = _arrays()
    path = tmp_path / "city_mrio.mat"
    scipy.io.savemat(path, {"MRIO": {"Z": Z, "F": F, "VA": np.ones((1, 4)), "IM": np.ones((1, 4)), "Export": E}})
    m = ceads.load(path, CITIES, SECTORS)
    np.testing.assert_allclose(m.Z, Z)
    np.testing.assert_allclose(m.F, F.reshape(4, 2, 3).sum(axis=2))
    np.testing.assert_allclose(m.x, Z.sum(1) + F.sum(1) + E[:, 0])
    assert m.cities == CITIES


def test_mat_errors_name_file_and_problem(tmp_path):
    Z, F, _ = _arrays()
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, {"MRIO": {"Z": Z}})
    with pytest.raises(ceads.CEADSError, match=r"bad.mat: struct 'MRIO' lacks field\(s\) \['F'\]"):
        ceads.load(path, CITIES, SECTORS)
    scipy.io.savemat(path, {"other": Z})
    with pytest.raises(ceads.CEADSError, match="bad.mat: no struct 'MRIO'"):
        ceads.load(path, CITIES, SECTORS)
    scipy.io.savemat(path, {"MRIO": {"Z": Z, "F": F}})
    with pytest.raises(ceads.CEADSError, match=r"Z has 4 rows but 3 cities x 2 sectors = 6"):
        ceads.load(path, CITIES + ("130100",), SECTORS)
    Zn = Z.copy()
    Zn[1, 2] = np.nan
    scipy.io.savemat(path, {"MRIO": {"Z": Zn, "F": F}})
    with pytest.raises(ceads.CEADSError, match="Z has a non-finite value at row 1, column 2"):
        ceads.load(path, CITIES, SECTORS)
    (tmp_path / "x.csv").write_text("1")
    with pytest.raises(ceads.CEADSError, match="unknown format '.csv'"):
        ceads.load(tmp_path / "x.csv", CITIES, SECTORS)


def _xlsx(path, Z, F, E, bad=None):
    n_rows = 4
    head = [["CEADs city MRIO"] + [""] * (2 + 4 + F.shape[1] + 1),
            ["", "", ""] + ["Beijing"] * 2 + ["Tianjin"] * 2 + ["Beijing"] * 3 + ["Tianjin"] * 3 + ["Export"],
            ["", "", ""] + ["01", "02"] * 2 + ["rural", "urban", "gcf"] * 2 + [""],
            ["region", "code", "sector"] + ["intermediate"] * 4 + ["final demand"] * 6 + ["Export"]]
    body = []
    for k in range(4):
        row = [CITIES[k // 2], SECTORS[k % 2], f"s{k}"] + list(Z[k]) + list(F[k]) + [E[k, 0]]
        body.append(row)
    if bad:
        body[bad[0]][bad[1]] = "n/a"
    pd.DataFrame(head[:n_rows] + body).to_excel(path, header=False, index=False)


def test_xlsx_layout(tmp_path):
    Z, F, E = _arrays()
    path = tmp_path / "mrio.xlsx"
    _xlsx(path, Z, F, E)
    m = ceads.load(path, CITIES, SECTORS)
    np.testing.assert_allclose(m.Z, Z)
    np.testing.assert_allclose(m.F, F.reshape(4, 2, 3).sum(axis=2))
    np.testing.assert_allclose(m.x, Z.sum(1) + F.sum(1) + E[:, 0])


def test_xlsx_errors(tmp_path):
    Z, F, E = _arrays()
    path = tmp_path / "mrio.xlsx"
    _xlsx(path, Z, F, E, bad=(2, 8))
    with pytest.raises(ceads.CEADSError, match=r"mrio.xlsx: non-numeric value 'n/a' at row 7, column 9"):
        ceads.load(path, CITIES, SECTORS)
    _xlsx(path, Z, F, E)
    with pytest.raises(ceads.CEADSError, match="data rows after 4 header rows, expected 6"):
        ceads.load(path, CITIES + ("130100",), SECTORS)
