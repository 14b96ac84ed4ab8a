"""Per-stage cache keys name their inputs: a change of a stage's code or data files changes its
key (and the keys downstream), a change elsewhere (a caption in a figure module) changes none."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from intercity import bundle, cachekey, params, paths, pipeline


@pytest.fixture()
def sandbox(tmp_path, monkeypatch):
    """A copy of the package sources and of data/ that the keys read, to edit freely."""
    pkg = tmp_path / "src" / "intercity"
    shutil.copytree(cachekey._ROOT, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(paths.PROJECT_ROOT / "data" / "reference", tmp_path / "data" / "reference")
    shutil.copy(paths.PROJECT_ROOT / "data" / "manifest.csv", tmp_path / "data" / "manifest.csv")
    shutil.copytree(paths.PROJECT_ROOT / "data" / "derived", tmp_path / "data" / "derived")
    monkeypatch.setattr(cachekey, "_ROOT", pkg)
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)
    cachekey.closure.cache_clear()
    yield tmp_path, pkg
    cachekey.closure.cache_clear()


def _keys(source: str = "synthetic") -> dict[str, str]:
    cachekey.closure.cache_clear()
    p = params.from_mapping({"data_source": source, "scale": 0.15, "seed": 1})
    b = bundle.cache_key(p)
    m = pipeline.measurement_key(p, b)
    s = pipeline.Study(params=p, data=None, transfers=None, panel=None, ledger=None, checks=None,
                       cache=Path("/nowhere") / b)
    return {"bundle": b, "measurement": m, "models": pipeline.models_key(s)}


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_a_caption_edit_rebuilds_nothing(sandbox):
    _, pkg = sandbox
    before = {s: _keys(s) for s in ("synthetic", "public")}
    for module in ("figures.py", "report.py", "staticfig.py", "runner.py"):
        _append(pkg / module, "\n# a caption edited\n")
    assert {s: _keys(s) for s in ("synthetic", "public")} == before


def test_editing_the_published_tables_reestimates_the_models_only(sandbox):
    root, _ = sandbox
    before = _keys()
    _append(root / "data" / "reference" / "published_tables.csv", "\n")
    after = _keys()
    assert after["bundle"] == before["bundle"] and after["measurement"] == before["measurement"]
    assert after["models"] != before["models"]


def test_descriptive_statistics_rebuild_the_synthetic_bundle_and_everything_after(sandbox):
    root, _ = sandbox
    before = _keys()
    _append(root / "data" / "reference" / "descriptive_stats.csv", "\n")
    after = _keys()
    assert all(after[k] != before[k] for k in before)


@pytest.mark.parametrize("module, changed", [
    ("models.py", {"models"}),
    ("transfer.py", {"measurement", "models"}),
    ("mrio.py", {"bundle", "measurement", "models"}),
    ("sources/synthetic.py", {"bundle", "measurement", "models"}),
    ("sources/rail.py", set()),  # the synthetic source does not read it
])
def test_code_edits_rebuild_their_stage_and_those_after(sandbox, module, changed):
    _, pkg = sandbox
    before = _keys()
    _append(pkg / module, "\n# edited\n")
    after = _keys()
    assert {k for k in before if after[k] != before[k]} == changed


def test_public_inputs_are_in_the_public_key_only(sandbox):
    root, pkg = sandbox
    before = {s: _keys(s) for s in ("synthetic", "public")}
    _append(root / "data" / "manifest.csv", "\n")
    _append(pkg / "sources" / "rail.py", "\n# edited\n")
    after = {s: _keys(s) for s in ("synthetic", "public")}
    assert after["synthetic"] == before["synthetic"]
    assert after["public"]["bundle"] != before["public"]["bundle"]


def test_cited_hsr_opening_dates_key_the_public_bundle_only(sandbox):
    root, _ = sandbox
    before = {s: _keys(s) for s in ("synthetic", "public")}
    _append(root / "data" / "derived" / "hsr_opening_dates.csv", "\n")
    after = {s: _keys(s) for s in ("synthetic", "public")}
    assert after["synthetic"] == before["synthetic"]
    assert after["public"]["bundle"] != before["public"]["bundle"]


def test_closure_follows_lazy_imports():
    names = cachekey.closure(("intercity.bundle",))
    assert "intercity.sources.fetch" in names  # imported inside resolve_source
    assert "intercity.figures" not in names and "intercity.report" not in names
