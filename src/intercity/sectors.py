"""The 42-sector classification of China's national input-output tables (NBS, 2012/2015/2017).

Codes are two-digit strings "01".."42". The study's three heterogeneity groups
(labor-, capital- and technology-intensive) are defined here once.
"""

from __future__ import annotations

import pandas as pd

_SECTORS: tuple[tuple[str, str, str], ...] = (
    ("01", "Agriculture, forestry, animal husbandry and fishery", "农林牧渔产品和服务"),
    ("02", "Mining and washing of coal", "煤炭采选产品"),
    ("03", "Exploitation of petroleum and natural gas", "石油和天然气开采产品"),
    ("04", "Mining and processing of metal ores", "金属矿采选产品"),
    ("05", "Mining and processing of nonmetal and other ores", "非金属矿和其他矿采选产品"),
    ("06", "Manufacture of foods and tobacco", "食品和烟草"),
    ("07", "Manufacture of textiles", "纺织品"),
    ("08", "Manufacture of wearing apparel, leather, fur, feather and related products", "纺织服装鞋帽皮革羽绒及其制品"),
    ("09", "Processing of timber and furniture", "木材加工品和家具"),
    ("10", "Manufacture of paper, printing, and articles for culture, education, sports", "造纸印刷和文教体育用品"),
    ("11", "Processing of petroleum, coking, and nuclear fuel", "石油、炼焦产品和核燃料加工品"),
    ("12", "Manufacture of chemical products", "化学产品"),
    ("13", "Manufacture of non-metallic mineral products", "非金属矿物制品"),
    ("14", "Smelting and processing of metals", "金属冶炼和压延加工品"),
    ("15", "Manufacture of metal products", "金属制品"),
    ("16", "Manufacture of general purpose machinery", "通用设备"),
    ("17", "Manufacture of special purpose machinery", "专用设备"),
    ("18", "Manufacture of transport equipment", "交通运输设备"),
    ("19", "Manufacture of electrical machinery and equipment", "电气机械和器材"),
    ("20", "Manufacture of communication equipment, computers and other electronic equipment", "通信设备、计算机和其他电子设备"),
    ("21", "Manufacture of instruments and meters", "仪器仪表"),
    ("22", "Other manufacturing", "其他制造产品"),
    ("23", "Comprehensive use of waste resources", "废品废料"),
    ("24", "Repair of metal products, machinery and equipment", "金属制品、机械和设备修理服务"),
    ("25", "Production and supply of electric power and heat power", "电力、热力的生产和供应"),
    ("26", "Production and supply of gas", "燃气生产和供应"),
    ("27", "Production and supply of water", "水的生产和供应"),
    ("28", "Construction", "建筑"),
    ("29", "Wholesale and retail trades", "批发和零售"),
    ("30", "Transport, storage, and postal services", "交通运输、仓储和邮政"),
    ("31", "Accommodation and catering", "住宿和餐饮"),
    ("32", "Information transmission, software and information technology services", "信息传输、软件和信息技术服务"),
    ("33", "Finance", "金融"),
    ("34", "Real estate", "房地产"),
    ("35", "Leasing and commercial services", "租赁和商务服务"),
    ("36", "Scientific research, and technical services", "科学研究和技术服务"),
    ("37", "Management of water conservancy, environment and public facilities", "水利、环境和公共设施管理"),
    ("38", "Resident, repair and other services", "居民服务、修理和其他服务"),
    ("39", "Education", "教育"),
    ("40", "Health care and social work", "卫生和社会工作"),
    ("41", "Culture, sports, and entertainment", "文化、体育和娱乐"),
    ("42", "Public administration, social security, and social organizations", "公共管理、社会保障和社会组织"),
)

#: The study's sector groups ("Heterogeneity" in the deck): sector codes per group.
SECTOR_GROUPS: dict[str, tuple[str, ...]] = {
    "labor": ("01",),  # agriculture, forestry, livestock, fishery products and services
    "capital": ("25",),  # production and supply of electricity and heat
    "tech": ("32",),  # information transmission, software and IT services
}

SECTOR_CODES: tuple[str, ...] = tuple(code for code, _, _ in _SECTORS)
#: Sectors whose products are mostly local: electricity and heat, gas, water, construction.
LOCAL_SECTORS: tuple[str, ...] = ("25", "26", "27", "28")


def tradability(code: str) -> str:
    """How far a sector's product travels: "local" (utilities, construction), "services"
    (codes 29-42) or "goods" (agriculture, mining, manufacturing)."""
    return "local" if code in LOCAL_SECTORS else "services" if int(code) >= 29 else "goods"

N_SECTORS: int = len(SECTOR_CODES)


def sector_table() -> pd.DataFrame:
    """One row per sector: code, name_en, name_zh, group (labor/capital/tech or "")."""
    group_of = {c: g for g, codes in SECTOR_GROUPS.items() for c in codes}
    return pd.DataFrame(
        [(c, en, zh, group_of.get(c, "")) for c, en, zh in _SECTORS],
        columns=["code", "name_en", "name_zh", "group"],
    )
