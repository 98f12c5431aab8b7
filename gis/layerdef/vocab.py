"""The controlled vocabularies the layer model's keys map to in published metadata (DCAT-AP,
ISO 19115): the EU data themes of a layer's ``domain`` and ISO topic category, and the EU
frequency of its ISO maintenance frequency. Keyed by the model's values, never by layer ids;
a test checks every ``Domain`` value has its themes."""

from __future__ import annotations

from gis.layerdef.base import Text

EU = "http://publications.europa.eu/resource/authority"
DATA_THEME = f"{EU}/data-theme"
FREQUENCY = f"{EU}/frequency"

# The EU data-theme vocabulary (its English labels; Vietnamese ours)
THEMES: dict[str, Text] = {
    "AGRI": Text(vi="Nông nghiệp, thủy sản, lâm nghiệp và thực phẩm",
                 en="Agriculture, fisheries, forestry and food"),
    "ECON": Text(vi="Kinh tế và tài chính", en="Economy and finance"),
    "EDUC": Text(vi="Giáo dục, văn hóa và thể thao", en="Education, culture and sport"),
    "ENER": Text(vi="Năng lượng", en="Energy"),
    "ENVI": Text(vi="Môi trường", en="Environment"),
    "GOVE": Text(vi="Chính phủ và khu vực công", en="Government and public sector"),
    "HEAL": Text(vi="Y tế", en="Health"),
    "INTR": Text(vi="Vấn đề quốc tế", en="International issues"),
    "JUST": Text(vi="Tư pháp, hệ thống pháp luật và an toàn công cộng",
                 en="Justice, legal system and public safety"),
    "REGI": Text(vi="Vùng và đô thị", en="Regions and cities"),
    "SOCI": Text(vi="Dân số và xã hội", en="Population and society"),
    "TECH": Text(vi="Khoa học và công nghệ", en="Science and technology"),
    "TRAN": Text(vi="Giao thông vận tải", en="Transport"),
}

# layer ``domain`` -> EU data themes
DOMAIN_THEMES: dict[str, tuple[str, ...]] = {
    "land": ("REGI",),
    "planning": ("REGI",),
    "utility": ("REGI", "ENER"),
    "address": ("REGI", "GOVE"),
    "boundary": ("GOVE", "REGI"),
    "transport": ("TRAN",),
    "environment": ("ENVI",),
    "social": ("SOCI", "HEAL"),
}

# ISO 19115 MD_TopicCategoryCode -> EU data themes
TOPIC_THEMES: dict[str, tuple[str, ...]] = {
    "farming": ("AGRI",),
    "biota": ("ENVI",),
    "boundaries": ("GOVE", "REGI"),
    "climatologyMeteorologyAtmosphere": ("ENVI",),
    "economy": ("ECON",),
    "elevation": ("ENVI",),
    "environment": ("ENVI",),
    "geoscientificInformation": ("ENVI", "TECH"),
    "health": ("HEAL",),
    "imageryBaseMapsEarthCover": ("ENVI", "REGI"),
    "intelligenceMilitary": ("JUST",),
    "inlandWaters": ("ENVI",),
    "location": ("REGI",),
    "oceans": ("ENVI",),
    "planningCadastre": ("REGI",),
    "society": ("SOCI",),
    "structure": ("REGI",),
    "transportation": ("TRAN",),
    "utilitiesCommunication": ("ENER", "TECH"),
}

# ISO 19115 MD_MaintenanceFrequencyCode -> EU frequency
FREQUENCIES: dict[str, tuple[str, Text]] = {
    "continual": ("UPDATE_CONT", Text(vi="Cập nhật liên tục", en="continuously updated")),
    "daily": ("DAILY", Text(vi="Hằng ngày", en="daily")),
    "weekly": ("WEEKLY", Text(vi="Hằng tuần", en="weekly")),
    "fortnightly": ("BIWEEKLY", Text(vi="Hai tuần một lần", en="biweekly")),
    "monthly": ("MONTHLY", Text(vi="Hằng tháng", en="monthly")),
    "quarterly": ("QUARTERLY", Text(vi="Hằng quý", en="quarterly")),
    "biannually": ("ANNUAL_2", Text(vi="Hai lần một năm", en="semiannual")),
    "annually": ("ANNUAL", Text(vi="Hằng năm", en="annual")),
    "asNeeded": ("IRREG", Text(vi="Khi cần", en="irregular")),
    "irregular": ("IRREG", Text(vi="Không đều đặn", en="irregular")),
    "notPlanned": ("NEVER", Text(vi="Không cập nhật", en="never")),
    "unknown": ("UNKNOWN", Text(vi="Không rõ", en="unknown")),
}


def themes(domain: str, topic: str | None = None) -> list[str]:
    """The EU data-theme codes of a layer: its domain's, then its topic category's."""
    out = list(DOMAIN_THEMES[domain])
    for code in TOPIC_THEMES.get(topic or "", ()):
        if code not in out:
            out.append(code)
    return out
