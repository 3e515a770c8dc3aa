"""Words of the synthetic report history: what citizens write, what officers answer.

Short Vietnamese templates per category, in the register of Hue-S reports. ``{place}`` is the
pre-2025 ward/commune name nearest to the report (the names people still use), so descriptions
read like local ones. None of this text names a person.
"""

from __future__ import annotations

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "garbage": (
        "Rác thải sinh hoạt tồn đọng nhiều ngày tại khu vực {place}, bốc mùi hôi thối.",
        "Có người đổ rác, xà bần trái phép ven đường ở {place}, đề nghị xử lý.",
        "Điểm tập kết rác ở {place} quá tải, rác tràn ra lòng đường.",
        "Xe thu gom rác không đến khu dân cư {place} mấy hôm nay.",
    ),
    "sidewalk_encroachment": (
        "Quán ăn bày bàn ghế chiếm hết vỉa hè tại {place}, người đi bộ phải xuống lòng đường.",
        "Hàng rong và xe máy đậu kín vỉa hè đoạn gần chợ {place}.",
        "Cửa hàng để hàng hóa, bảng hiệu lấn chiếm lòng đường ở {place}.",
    ),
    "road_damage": (
        "Mặt đường ở {place} xuất hiện ổ gà lớn, rất nguy hiểm cho xe máy.",
        "Đường bê tông qua {place} bị sụt lún, nứt vỡ sau mưa.",
        "Nắp hố ga bị vỡ, hở miệng giữa đường tại {place}.",
    ),
    "street_lighting": (
        "Đèn đường khu vực {place} không sáng nhiều đêm liền, rất tối.",
        "Cột đèn chiếu sáng ở {place} bật cả ban ngày.",
        "Cả dãy đèn đường đoạn qua {place} bị hỏng.",
    ),
    "drainage_flooding": (
        "Cống thoát nước tại {place} bị tắc, mưa xuống là ngập.",
        "Nước ngập sâu sau mưa lớn ở {place}, nước thải tràn vào nhà dân.",
        "Mương thoát nước khu vực {place} bồi lấp, nước không thoát được.",
    ),
    "fallen_tree": (
        "Cây xanh bị gãy đổ chắn ngang đường tại {place}.",
        "Cành cây khô lớn có nguy cơ rơi xuống đường ở {place}.",
        "Cây nghiêng sát đường dây điện tại {place} sau gió mạnh.",
    ),
    "water_supply": (
        "Khu vực {place} bị mất nước sinh hoạt từ sáng.",
        "Ống nước bị vỡ, nước chảy lênh láng ra đường ở {place}.",
        "Nước máy ở {place} đục và có mùi lạ.",
    ),
    "electricity": (
        "Khu dân cư {place} bị mất điện kéo dài.",
        "Dây điện võng thấp qua đường tại {place}, rất nguy hiểm.",
        "Trụ điện ở {place} bị nghiêng, có nguy cơ đổ.",
    ),
    "construction_violation": (
        "Công trình tại {place} đang xây dựng không có biển báo giấy phép.",
        "Nhà dân ở {place} cơi nới lấn ra đường kiệt.",
        "Vật liệu xây dựng đổ chiếm lòng đường nhiều ngày ở {place}.",
    ),
    "noise": (
        "Hát karaoke ồn ào đến khuya tại {place}, ảnh hưởng người dân nghỉ ngơi.",
        "Loa kẹo kéo mở rất lớn ở khu dân cư {place}.",
        "Công trình ở {place} thi công gây ồn ngoài giờ cho phép.",
    ),
    "illegal_advertising": (
        "Quảng cáo, rao vặt dán tràn lan trên cột điện ở {place}.",
        "Băng rôn quảng cáo treo trái phép trên đường qua {place}.",
    ),
    "traffic_order": (
        "Đèn tín hiệu giao thông tại nút giao ở {place} bị hỏng.",
        "Ô tô đỗ sai quy định gây ùn tắc ở {place}.",
        "Đoạn đường qua {place} thiếu biển báo, hay xảy ra va chạm.",
    ),
    "tourism_services": (
        "Du khách bị chèo kéo, đeo bám tại khu vực {place}.",
        "Dịch vụ xích lô, thuyền ở {place} nói thách giá với khách du lịch.",
        "Quán ăn gần điểm tham quan ở {place} không niêm yết giá, chặt chém khách.",
    ),
    "food_safety": (
        "Cơ sở kinh doanh ăn uống ở {place} mất vệ sinh.",
        "Nghi ngờ thực phẩm không rõ nguồn gốc bán tại chợ {place}.",
    ),
    "other": (
        "Đề nghị chính quyền kiểm tra, xử lý vấn đề đô thị tại {place}.",
        "Phản ánh tình trạng mất an toàn, mất mỹ quan ở {place}.",
    ),
}

RESULTS: dict[str, tuple[str, ...]] = {
    "garbage": (
        "Đã thu gom, vận chuyển rác và vệ sinh khu vực.",
        "Đã xử lý điểm đổ rác trái phép, nhắc nhở người dân.",
    ),
    "sidewalk_encroachment": (
        "Đã kiểm tra, yêu cầu các hộ kinh doanh trả lại vỉa hè.",
        "Đã lập biên bản, xử lý vi phạm.",
    ),
    "road_damage": ("Đã vá ổ gà, hoàn trả mặt đường.", "Đã thay nắp hố ga, đảm bảo an toàn giao thông."),
    "street_lighting": ("Đã sửa chữa, thay bóng đèn; hệ thống hoạt động bình thường.",),
    "drainage_flooding": ("Đã nạo vét, khơi thông cống thoát nước.", "Đã bố trí máy bơm, nước đã rút."),
    "fallen_tree": ("Đã cưa dọn cây gãy đổ, thông tuyến đường.", "Đã cắt tỉa cành khô, đảm bảo an toàn."),
    "water_supply": ("Đã sửa chữa đường ống, cấp nước trở lại.", "Đã súc xả đường ống, chất lượng nước đạt chuẩn."),
    "electricity": ("Đã khắc phục sự cố, cấp điện trở lại.", "Đã căng lại dây, gia cố trụ điện."),
    "construction_violation": ("Đã kiểm tra, lập biên bản và đình chỉ thi công sai phép.", "Đã yêu cầu dọn vật liệu."),
    "noise": ("Đã kiểm tra, nhắc nhở và xử phạt hộ gây ồn.",),
    "illegal_advertising": ("Đã bóc gỡ quảng cáo, rao vặt trái phép.",),
    "traffic_order": ("Đã sửa chữa đèn tín hiệu.", "Đã bố trí lực lượng phân luồng, xử lý xe đỗ sai quy định."),
    "tourism_services": ("Đã kiểm tra, xử phạt cơ sở vi phạm và yêu cầu niêm yết giá.",),
    "food_safety": ("Đã kiểm tra cơ sở, xử phạt và yêu cầu khắc phục.",),
    "other": ("Đã kiểm tra và xử lý theo thẩm quyền.",),
}

REJECTIONS = (
    "Nội dung phản ánh không thuộc phạm vi xử lý của hệ thống.",
    "Không đủ thông tin để xác minh; đề nghị người dân cung cấp thêm.",
    "Qua kiểm tra, vụ việc không như nội dung phản ánh.",
)

EXTENSION_REASONS = (
    "Cần phối hợp với đơn vị liên quan để xử lý dứt điểm.",
    "Chờ vật tư, thiết bị thay thế.",
    "Thời tiết mưa lớn, chưa thể thi công.",
    "Khối lượng công việc lớn, cần thêm thời gian.",
)

EXTENSION_REFUSAL = "Không đủ căn cứ gia hạn; yêu cầu xử lý đúng hạn."
ESCALATION_NOTE = "Deadline passed: escalated to the city level"  # as geo/sql/reports/escalate_overdue.sql writes it

PRAISE = ("Xử lý nhanh, cảm ơn.", "Rất hài lòng.", "Cảm ơn chính quyền đã quan tâm.")
COMPLAINTS = ("Chưa xử lý triệt để.", "Vẫn còn như cũ.", "Xử lý chậm.")

CALL_NOTES_IN = (
    "Hỏi tình trạng xử lý phản ánh đã gửi",
    "Hỏi thông tin, thủ tục hành chính",
    "Góp ý, kiến nghị chung",
    "Cuộc gọi không có nội dung",
)
CALL_NOTE_FILED = "Tiếp nhận phản ánh qua tổng đài 1900 1075"
CALL_NOTE_RESULT = "Gọi lại thông báo kết quả xử lý"
CALL_NOTE_VERIFY = "Gọi xác minh thông tin phản ánh"
