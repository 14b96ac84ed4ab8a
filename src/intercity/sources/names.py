"""One alias table: every city-name variant of the public inputs -> 6-digit adcode.

The reference list is ``cpca``'s adcode table: every prefecture-level unit (cities 市, autonomous
prefectures 自治州, prefectures 地区, leagues 盟) and the four municipalities. A name is matched
in three steps:

1. exact full name (``石家庄市``, ``黔南布依族苗族自治州``);
2. short name: suffixes 市/地区/盟/自治州 stripped, and for autonomous prefectures the
   ethnic-group names before 自治州 too (``黔南``, ``恩施``, ``巴音郭楞``), matched only when
   the short name is unique among prefecture-level units;
3. :data:`ALIASES`: the irregular names (former names, Baidu abbreviations, typos of the
   yearbooks).

Names that match none of these are returned as unmatched, and :func:`match_names` writes one
ledger row per unmatched name naming the input file. Units that are not prefecture-level
cities of the study universe (autonomous prefectures, county-level cities) are matched to
their adcode here; the universe filter happens in :mod:`intercity.sources.public`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import pandas as pd

#: Municipalities (province-level), which count as cities.
MUNICIPALITIES = {"110000": "北京市", "120000": "天津市", "310000": "上海市", "500000": "重庆市"}

#: Ethnic-group names that precede 自治州 (longest first when stripping).
_ETHNIC = ("柯尔克孜", "哈萨克", "土家族", "布依族", "傈僳族", "哈尼族", "景颇族", "朝鲜族", "蒙古族",
           "蒙古", "藏族", "羌族", "苗族", "彝族", "傣族", "白族", "壮族", "侗族", "回族")

#: Irregular names -> adcode. Each entry says why it cannot be matched by rule.
ALIASES: dict[str, str] = {
    "襄樊": "420600",      # Xiangfan, renamed Xiangyang 2010
    "襄樊市": "420600",
    "思茅": "530800",      # Simao, renamed Pu'er 2007
    "思茅市": "530800",
    "普洱": "530800",
    "普洱市": "530800",
    "天津西": "120000",    # a Tianjin station named as a line end
    "巴音郭楞": "652800",  # short form of 巴音郭楞蒙古自治州 (蒙古 without 族)
    "大兴安岭": "232700",
    "黔西南": "522300",
    "黔东南": "522600",
    "西双版纳": "532800",
    "克孜勒苏": "653000",
    "博尔塔拉": "652700",
    "阿拉善": "152900",
    "锡林郭勒": "152500",
    "兴安": "152200",
    "伊犁": "654000",
    "湘西": "433100",
    "延边": "222400",
    "甘孜": "513300",
    "阿坝": "513200",
    "凉山": "513400",
    "海西": "632800",
    "海北": "632200",
    "海南": "632500",      # Baidu list: 海南 (Qinghai prefecture) sits among the Qinghai units
    "黄南": "632300",
    "果洛": "632600",
    "玉树": "632700",
    "德宏": "533100",
    "怒江": "533300",
    "迪庆": "533400",
    "楚雄": "532300",
    "红河": "532500",
    "文山": "532600",
    "大理": "532900",
    "临夏": "622900",
    "甘南": "623000",
    "昌吉": "652300",
    "恩施": "422800",
    "黔南": "522700",
    "铜仁地区": "520600",  # became 铜仁市 2011
    "毕节地区": "520500",  # became 毕节市 2011
    "哈密地区": "650500",  # became 哈密市 2016
    "吐鲁番地区": "650400",  # became 吐鲁番市 2015
    "日喀则地区": "540200",
    "昌都地区": "540300",
    "林芝地区": "540400",
    "山南地区": "540500",
    "海东地区": "630200",
}

#: Typos of the City Statistical Yearbook extracts (each checked against the row's English name
#: and its place among the province's cities); applied only to yearbook files.
YEARBOOK_TYPOS: dict[str, str] = {
    "宜城市": "341800",  # yearbook_2011: listed last among Anhui cities, where 宣城市 is missing
    "四安市": "610100",  # yearbook_2012: English "Xi'an"
    "宿辽市": "321300",  # yearbook_2012: English "Suqian"
    "洒泉市": "620900",  # yearbook_2012: English "Jiuquan"
    "鸡两市": "230300",  # yearbook_2012: English "Jixi"
    "毫州市": "341600",  # yearbook_2017: English "Bozhou" (亳州)
}

#: County-level or abolished units some inputs list as cities: name -> explanation (unmatched).
NOT_PREFECTURES: dict[str, str] = {
    "巢湖": "Chaohu, prefecture-level city abolished 2011 (split between Hefei and Wuhu)",
    "巢湖市": "Chaohu, prefecture-level city abolished 2011 (split between Hefei and Wuhu)",
    "莱芜": "Laiwu, merged into Jinan 2019 (not in the current adcode list)",
    "莱芜市": "Laiwu, merged into Jinan 2019 (not in the current adcode list)",
    "济源": "Jiyuan, county-level unit directly under Henan province",
    "仙桃": "county-level city directly under Hubei province",
    "潜江": "county-level city directly under Hubei province",
    "天门": "county-level city directly under Hubei province",
    "神农架": "forestry district directly under Hubei province",
    "石河子": "county-level city directly under Xinjiang",
    "五家渠": "county-level city directly under Xinjiang",
    "阿拉尔": "county-level city directly under Xinjiang",
    "图木舒克": "county-level city directly under Xinjiang",
}
for _n in ("东方", "临高", "乐东", "五指山", "保亭", "文昌", "澄迈", "琼海", "白沙", "陵水", "万宁",
           "定安", "屯昌", "琼中", "昌江"):
    NOT_PREFECTURES[_n] = "county-level unit directly under Hainan province"

_SUFFIXES = ("自治州", "地区", "市", "盟")


def clean(name: object) -> str:
    """Normalise a raw name: NFKC, drop whitespace, Excel's ``_x000D_`` and zero-width characters."""
    s = unicodedata.normalize("NFKC", str(name)).replace("_x000D_", "")
    return re.sub(r"[\s\u200b-\u200f\ufeff]+", "", s)


def short_name(full: str) -> str:
    """Short form of a prefecture name: ``黔南布依族苗族自治州`` -> ``黔南``, ``石家庄市`` -> ``石家庄``."""
    s = clean(full)
    for suf in _SUFFIXES:
        if s.endswith(suf) and len(s) > len(suf) + 1:
            s = s[: -len(suf)]
            break
    changed = True
    while changed:
        changed = False
        for eth in _ETHNIC:
            if s.endswith(eth) and len(s) > len(eth) + 1:
                s, changed = s[: -len(eth)], True
    return s


@lru_cache(maxsize=1)
def prefectures() -> pd.DataFrame:
    """All prefecture-level units and municipalities: adcode (6 digits), name, short."""
    path = resources.files("cpca").joinpath("resources/adcodes.csv")
    with path.open("r", encoding="utf-8") as fh:
        raw = pd.read_csv(fh, dtype={"adcode": str})
    pref = raw[(raw["adcode"].str[4:] == "00000000") & (raw["adcode"].str[2:4] != "00")
               & ~raw["name"].isin(["市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"])]
    out = pd.DataFrame({"adcode": pref["adcode"].str[:6], "name": pref["name"].map(clean)})
    out = pd.concat([out, pd.DataFrame({"adcode": list(MUNICIPALITIES), "name": list(MUNICIPALITIES.values())})])
    out = out.drop_duplicates("adcode").sort_values("adcode").reset_index(drop=True)
    out["short"] = out["name"].map(short_name)
    return out


@lru_cache(maxsize=1)
def _lookup() -> tuple[dict[str, str], dict[str, str]]:
    p = prefectures()
    full = dict(zip(p["name"], p["adcode"]))
    counts = p["short"].value_counts()
    short = {s: a for s, a in zip(p["short"], p["adcode"]) if counts[s] == 1}
    return full, short


def to_adcode(name: object, extra: dict[str, str] | None = None) -> str | None:
    """Adcode of one name, or None when it matches no rule and no alias (``extra``: more aliases)."""
    s = clean(name)
    if not s or s == "nan":
        return None
    if extra and s in extra:
        return extra[s]
    full, short = _lookup()
    if s in full:
        return full[s]
    if s in ALIASES:
        return ALIASES[s]
    if s in NOT_PREFECTURES:
        return None
    key = short_name(s)
    if key in short:
        return short[key]
    return ALIASES.get(key)


@lru_cache(maxsize=1)
def _counties() -> dict[str, list[str]]:
    """County-level unit name (as listed, and without 市/县/区) -> adcodes of its prefecture."""
    path = resources.files("cpca").joinpath("resources/adcodes.csv")
    with path.open("r", encoding="utf-8") as fh:
        raw = pd.read_csv(fh, dtype={"adcode": str})
    county = raw[(raw["adcode"].str[6:] == "000000") & (raw["adcode"].str[4:6] != "00")]
    out: dict[str, set[str]] = {}
    for code, name in zip(county["adcode"], county["name"].map(clean)):
        parent = code[:2] + "0000" if code[:2] + "0000" in MUNICIPALITIES else code[:4] + "00"
        for key in {name, re.sub(r"(市|县|区)$", "", name)}:
            if len(key) >= 2:
                out.setdefault(key, set()).add(parent)
    return {k: sorted(v) for k, v in out.items()}


def parent_prefecture(name: object) -> str | None:
    """Adcode of the prefecture containing a county-level unit of this name (None if not unique)."""
    hits = _counties().get(clean(name), [])
    return hits[0] if len(hits) == 1 else None


def why_unmatched(name: object) -> str:
    """The reason recorded in the ledger for a name :func:`to_adcode` cannot place."""
    s = clean(name)
    return NOT_PREFECTURES.get(s, NOT_PREFECTURES.get(short_name(s), "name matches no prefecture-level unit "
                                                                     "(exact, short form or alias)"))


def match_names(names: pd.Series | list, source: str, stage: str = "names",
                extra: dict[str, str] | None = None) -> tuple[pd.Series, pd.DataFrame]:
    """Map names to adcodes; return (adcodes aligned with ``names``, None where unmatched; ledger).

    The ledger has one row per distinct unmatched name: stage, kind='city', key='' (no adcode),
    name, reason naming ``source`` (the input file).
    """
    ser = pd.Series(list(names) if not isinstance(names, pd.Series) else names)
    codes = pd.Series([to_adcode(n, extra) for n in ser], index=ser.index, dtype=object)
    bad = sorted({clean(n) for n, c in zip(ser, codes) if c is None and clean(n) not in ("", "nan")})
    ledger = pd.DataFrame([(stage, "city", "", n, f"{source}: {why_unmatched(n)}") for n in bad],
                          columns=["stage", "kind", "key", "name", "reason"])
    return codes, ledger
