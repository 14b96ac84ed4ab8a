"""The fetch step: manifest parsing, mirror copies, sha256 checks, idempotence (no network)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import shutil
from pathlib import Path

import pytest

from intercity.sources import fetch

from conftest import MIRROR, needs_mirror

REAL_MIRROR = MIRROR or Path("public-data-mirror-absent")
FIELDS = list(fetch.MANIFEST_COLUMNS)


def _write_manifest(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({"licence": "x", "citation": "x", "variables": "x", "transform": "none",
                        "url": "https://example.invalid/x", **r})
    return path


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Path, Path]:
    m = tmp_path / "mirror"
    (m / "sub").mkdir(parents=True)
    (m / "sub" / "a.txt").write_text("0 1 2.5\n1 0 3.5\n", encoding="utf-8")
    (m / "b.csv").write_text("index,name\n0,北京\n", encoding="utf-8")
    rows = [{"path": p, "sha256": hashlib.sha256((m / p).read_bytes()).hexdigest()}
            for p in ("sub/a.txt", "b.csv")]
    return m, _write_manifest(tmp_path / "manifest.csv", rows)


def test_copy_then_idempotent(mirror, tmp_path):
    m, man = mirror
    dest = tmp_path / "raw"
    assert fetch.fetch(dest, mirror=m, manifest=man) == {"sub/a.txt": "copied", "b.csv": "copied"}
    assert (dest / "sub" / "a.txt").read_bytes() == (m / "sub" / "a.txt").read_bytes()
    assert fetch.fetch(dest, mirror=m, manifest=man) == {"sub/a.txt": "verified", "b.csv": "verified"}


def test_corrupted_mirror_file_names_file_and_hashes(mirror, tmp_path):
    m, man = mirror
    good = hashlib.sha256((m / "b.csv").read_bytes()).hexdigest()
    (m / "b.csv").write_text("index,name\n0,南京\n", encoding="utf-8")
    bad = hashlib.sha256((m / "b.csv").read_bytes()).hexdigest()
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch(tmp_path / "raw", mirror=m, manifest=man)
    msg = str(err.value)
    assert "b.csv" in msg and good in msg and bad in msg
    assert not (tmp_path / "raw" / "b.csv").exists()


def test_corrupted_local_copy_is_replaced(mirror, tmp_path):
    m, man = mirror
    dest = tmp_path / "raw"
    fetch.fetch(dest, mirror=m, manifest=man)
    (dest / "b.csv").write_text("tampered", encoding="utf-8")
    assert fetch.fetch(dest, mirror=m, manifest=man)["b.csv"] == "copied"
    assert fetch.sha256_of(dest / "b.csv") == fetch.sha256_of(m / "b.csv")


def test_missing_in_mirror_and_no_download(mirror, tmp_path, monkeypatch):
    m, man = mirror
    (m / "sub" / "a.txt").unlink()
    with pytest.raises(fetch.FetchError, match="sub/a.txt: not found in the data mirror"):
        fetch.fetch(tmp_path / "raw", mirror=m, manifest=man)
    monkeypatch.setattr(fetch, "default_mirror", lambda: None)
    with pytest.raises(fetch.FetchError, match="sub/a.txt: not in .* downloads are disabled"):
        fetch.fetch(tmp_path / "raw2", manifest=man, allow_download=False)


def test_default_mirror_env(monkeypatch, tmp_path):
    monkeypatch.setenv(fetch.ENV_MIRROR, str(tmp_path))
    assert fetch.default_mirror() == tmp_path


def test_malformed_manifest_names_line(tmp_path):
    man = _write_manifest(tmp_path / "m.csv", [{"path": "a", "sha256": "abc"}])
    with pytest.raises(fetch.FetchError, match=r"line 2 \(a\): sha256"):
        fetch.read_manifest(man)
    man = _write_manifest(tmp_path / "m2.csv", [{"path": "../a", "sha256": "0" * 64}])
    with pytest.raises(fetch.FetchError, match="relative inside the mirror"):
        fetch.read_manifest(man)
    man = _write_manifest(tmp_path / "m3.csv", [{"path": "a", "sha256": "0" * 64, "transform": "zip"}])
    with pytest.raises(fetch.FetchError, match="transform 'zip'"):
        fetch.read_manifest(man)


def test_transforms():
    raw = "线路,类型\n".encode("gbk")
    assert fetch.transform_bytes(raw, "gbk->utf8", "x") == "线路,类型\n".encode("utf-8")
    z1, z2 = fetch.transform_bytes(b"abc", "gzip", "x"), fetch.transform_bytes(b"abc", "gzip", "x")
    assert z1 == z2 and gzip.decompress(z1) == b"abc"  # deterministic (mtime 0)
    with pytest.raises(fetch.FetchError, match="transcribed by hand"):
        fetch.transform_bytes(b"", "transcribed", "cities.csv")


def test_project_manifest_is_complete():
    entries = fetch.read_manifest()
    assert len(entries) == len({e.path for e in entries}) == 44
    for e in entries:
        assert e.url.startswith("https://"), e.path
        assert e.licence and e.citation and e.variables, e.path




@needs_mirror
def test_manifest_matches_real_mirror():
    sums = {}
    for line in (REAL_MIRROR / "SHA256SUMS").read_text().splitlines():
        h, p = line.split(None, 1)
        sums[p.strip().removeprefix("./")] = h
    assert {e.path: e.sha256 for e in fetch.read_manifest()} == sums


@needs_mirror
def test_real_file_corrupted_in_a_mirror_copy(tmp_path):
    entry = next(e for e in fetch.read_manifest() if e.path == "baidu_index/cities-c322.csv")
    m = tmp_path / "mirror"
    (m / "baidu_index").mkdir(parents=True)
    data = bytearray((REAL_MIRROR / entry.path).read_bytes())
    data[-2] ^= 0x01
    (m / entry.path).write_bytes(bytes(data))
    man = _write_manifest(tmp_path / "m.csv", [{"path": entry.path, "sha256": entry.sha256}])
    with pytest.raises(fetch.FetchError, match="checksum mismatch for baidu_index/cities-c322.csv"):
        fetch.fetch(tmp_path / "raw", mirror=m, manifest=man)
    shutil.copy(REAL_MIRROR / entry.path, m / entry.path)
    assert fetch.fetch(tmp_path / "raw", mirror=m, manifest=man) == {entry.path: "copied"}
