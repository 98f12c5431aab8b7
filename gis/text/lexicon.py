"""Common Vietnamese syllables in place names, land records and personal names.

A short value can read as valid syllables in two encodings ("Sơn" / "Sôn", "Vũ" / "Vò");
a familiar syllable tips the balance. Lower case, NFC; hand-picked, not exhaustive.
"""

COMMON = frozenset(
    """
    phường xã thị trấn thành phố quận huyện tỉnh ấp khu vực tổ khóm đường hẻm kiệt số nhà
    cầu chợ bến sông rạch kênh mương ngã ba bảy tư năm sáu tám chín mười một hai
    đất ở tại đô nông thôn trồng lúa nước cây lâu hằng khác rừng sản xuất phòng hộ đặc dụng
    nuôi thủy sản làm muối mặt chưa sử dụng bằng đồi núi cơ quan công trình sự nghiệp
    quốc phòng an ninh giáo dục y tế văn hóa hoá thể thao thương mại dịch vụ kinh doanh
    giao thông lợi năng lượng tôn tín ngưỡng nghĩa trang địa chuyên dùng hồ ao bãi thải
    ủy ủy ban nhân dân hội đồng trường học viện bệnh trạm xí nghiệp nhà máy kho
    cần thơ ninh kiều cái khế răng bình thủy môn thốt nốt phong điền cờ đỏ vĩnh thạnh
    hậu giang sóc trăng long tuyền hưng lợi thới trà nóc phú thứ phước trường lạc
    tân châu xuân khánh hòa hoà nhơn ái giai mỹ trung lộc đông tây nam bắc tiến thắng
    quới hiệp thuận kiên nhứt nhất tây đô mới cũ
    nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý
    văn thị hữu đức công quang minh ngọc thanh hồng thu hương lan mai đào cúc
    anh bảo bích chi dũng duy giang hạnh hải hiếu hiền hoa hùng huy khoa linh
    loan luân nga nghĩa ngân nhung phúc phương quân quốc quỳnh sơn tâm tài thảo thắm
    thủy thúy tiên toàn trang trí trinh tú tuấn tùng uyên vân việt vinh yến
    của và các những trên dưới trong ngoài giữa gần cạnh theo
    """.split()
)
