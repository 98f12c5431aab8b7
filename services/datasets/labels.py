"""Vietnamese and English names of the codes a dataset page shows: ISO 19115 topic categories
and maintenance frequencies, the platform's domains and field types."""

TOPIC = {
    "farming": ("Nông nghiệp", "Farming"), "biota": ("Sinh vật", "Biota"),
    "boundaries": ("Ranh giới hành chính", "Boundaries"),
    "climatologyMeteorologyAtmosphere": ("Khí hậu, khí tượng", "Climatology, meteorology"),
    "economy": ("Kinh tế", "Economy"), "elevation": ("Độ cao địa hình", "Elevation"),
    "environment": ("Môi trường", "Environment"),
    "geoscientificInformation": ("Địa chất, địa vật lý", "Geoscientific information"),
    "health": ("Y tế", "Health"),
    "imageryBaseMapsEarthCover": ("Ảnh, bản đồ nền, lớp phủ", "Imagery, base maps, land cover"),
    "intelligenceMilitary": ("Quốc phòng", "Intelligence, military"),
    "inlandWaters": ("Sông, hồ, kênh rạch", "Inland waters"), "location": ("Vị trí, địa chỉ",
                                                                            "Location"),
    "oceans": ("Biển", "Oceans"), "planningCadastre": ("Quy hoạch, địa chính",
                                                       "Planning, cadastre"),
    "society": ("Xã hội", "Society"), "structure": ("Công trình", "Structure"),
    "transportation": ("Giao thông", "Transportation"),
    "utilitiesCommunication": ("Hạ tầng kỹ thuật, viễn thông", "Utilities, communication"),
}
FREQUENCY = {
    "continual": ("Liên tục", "Continual"), "daily": ("Hằng ngày", "Daily"),
    "weekly": ("Hằng tuần", "Weekly"), "fortnightly": ("Hai tuần một lần", "Fortnightly"),
    "monthly": ("Hằng tháng", "Monthly"), "quarterly": ("Hằng quý", "Quarterly"),
    "biannually": ("Sáu tháng một lần", "Twice a year"), "annually": ("Hằng năm", "Annually"),
    "asNeeded": ("Khi cần", "As needed"), "irregular": ("Không định kỳ", "Irregular"),
    "notPlanned": ("Không có kế hoạch", "Not planned"), "unknown": ("Chưa rõ", "Unknown"),
}
DOMAIN = {
    "land": ("Đất đai", "Land"), "planning": ("Quy hoạch", "Planning"),
    "utility": ("Hạ tầng kỹ thuật", "Utilities"), "address": ("Địa chỉ", "Addresses"),
    "boundary": ("Ranh giới", "Boundaries"), "transport": ("Giao thông", "Transport"),
    "environment": ("Môi trường", "Environment"), "social": ("Xã hội", "Social"),
}
TYPE = {
    "string": ("Văn bản", "Text"), "integer": ("Số nguyên", "Integer"),
    "number": ("Số thực", "Number"), "boolean": ("Đúng/sai", "Boolean"),
    "date": ("Ngày", "Date"), "datetime": ("Ngày giờ", "Date and time"),
}
