"""Reference data of the demo clinic (in Chinese, as a clinic would write it).

Standard library only, so tools outside Django (``bench/soak_demo.py``) can import it.
"""

from __future__ import annotations

import datetime as dt

# Every seeded member logs in with this password (demo data only, never in production).
DEMO_MEMBER_PASSWORD = "medbook123"  # noqa: S105 - documented demo password

# (level, name, min_points, booking_lead_hours, can_cancel_late, discount, max_active, multiplier,
#  moves per booking (改约), moves per month (None: any))
LEVELS = [
    (1, "普通会员", 0, 0, False, "1.00", 2, "1.00", 1, 2),
    (2, "银卡会员", 500, 2, False, "0.95", 3, "1.20", 2, 4),
    (3, "金卡会员", 2000, 12, True, "0.90", 4, "1.50", 3, 8),
    (4, "钻石会员", 5000, 24, True, "0.80", 6, "2.00", 5, None),
]
# Share of demo members starting at each level.
LEVEL_WEIGHTS = [70, 18, 9, 3]

CHIEF, ASSOCIATE, ATTENDING, RESIDENT = "chief", "associate_chief", "attending", "resident"
TITLE_LABEL = {
    CHIEF: "主任医师",
    ASSOCIATE: "副主任医师",
    ATTENDING: "主治医师",
    RESIDENT: "住院医师",
}
TITLE_FEES = {CHIEF: "100.00", ASSOCIATE: "60.00", ATTENDING: "30.00", RESIDENT: "15.00"}
# The clinic's release rule (放号): sessions open to the public this many days ahead, at this time.
RELEASE_DAYS_AHEAD = 7
RELEASE_TIME = dt.time(8, 0)
HOLIDAYS = [
    (dt.date(2027, 1, 1), "元旦"),
    (dt.date(2027, 2, 6), "春节"),
    (dt.date(2027, 2, 7), "春节"),
    (dt.date(2027, 2, 8), "春节"),
    (dt.date(2027, 4, 5), "清明节"),
    (dt.date(2027, 5, 1), "劳动节"),
]
YEARS_BY_TITLE = {CHIEF: (25, 35), ASSOCIATE: (15, 24), ATTENDING: (8, 14), RESIDENT: (3, 6)}
EDUCATION = [  # (Chinese, English)
    ("医学博士，硕士研究生导师", "MD, PhD, supervisor of master's students"),
    ("医学博士，曾在美国梅奥诊所访问学习", "MD, PhD, visiting scholar at the Mayo Clinic"),
    ("医学硕士", "Master of Medicine"),
    ("毕业于北京协和医学院", "graduate of Peking Union Medical College"),
    ("毕业于复旦大学上海医学院", "graduate of Fudan University Shanghai Medical College"),
    ("毕业于中山大学中山医学院", "graduate of Sun Yat-sen University Zhongshan School of Medicine"),
    (
        "毕业于四川大学华西临床医学院",
        "graduate of West China School of Medicine, Sichuan University",
    ),
]
TITLE_LABEL_EN = {
    CHIEF: "Chief physician",
    ASSOCIATE: "Associate chief physician",
    ATTENDING: "Attending physician",
    RESIDENT: "Resident physician",
}

# code: (English name, the short names patients search for) — search matches these too.
DEPARTMENT_NAMES = {
    "cardiology": ("Cardiology", "心内, 心内科, 心脏科"),
    "gastroenterology": ("Gastroenterology", "消化, 消化科, 胃肠科"),
    "respiratory": ("Respiratory Medicine", "呼吸, 呼吸科"),
    "general-surgery": ("General Surgery", "普外, 普外科"),
    "orthopedics": ("Orthopedics", "骨外, 骨伤科"),
    "pediatrics": ("Pediatrics", "小儿科"),
    "obstetrics-gynecology": ("Obstetrics and Gynecology", "妇科, 产科"),
    "ophthalmology": ("Ophthalmology", "眼病"),
    "stomatology": ("Stomatology", "口腔, 牙科"),
    "dermatology": ("Dermatology", "皮肤"),
    "tcm": ("Traditional Chinese Medicine", "中医, 针灸"),
    "health-management": ("Health Management", "体检, 健康管理"),
}

# code, name, location, description, doctors: (name, title, fee, specialties)
DEPARTMENTS = [
    (
        "cardiology",
        "心血管内科",
        "门诊楼3层A区",
        "诊治高血压、冠心病、心律失常、心力衰竭等心血管疾病，提供动态心电图与血压监测。",
        [
            ("王建国", CHIEF, "300.00", "冠心病介入治疗、复杂高血压、心力衰竭"),
            ("刘慧敏", ASSOCIATE, "50.00", "心律失常、房颤射频消融术后随访"),
            ("陈志强", ATTENDING, "20.00", "高血压、高脂血症的规范化管理"),
            ("杨晓琳", RESIDENT, "10.00", "心血管常见病、慢病随访"),
        ],
    ),
    (
        "gastroenterology",
        "消化内科",
        "门诊楼3层B区",
        "诊治胃炎、消化性溃疡、肝病、炎症性肠病，开展胃肠镜检查与早癌筛查。",
        [
            ("赵立新", CHIEF, "80.00", "消化道早癌内镜诊治、幽门螺杆菌感染"),
            ("孙美华", ASSOCIATE, "50.00", "炎症性肠病、功能性胃肠病"),
            ("周文博", ATTENDING, "20.00", "脂肪肝、慢性胃炎、胃食管反流病"),
        ],
    ),
    (
        "respiratory",
        "呼吸内科",
        "门诊楼3层C区",
        "诊治慢性咳嗽、哮喘、慢阻肺、肺结节，开展肺功能检查与睡眠呼吸监测。",
        [
            ("吴国栋", CHIEF, "80.00", "肺结节评估、慢阻肺、间质性肺病"),
            ("郑雅婷", ASSOCIATE, "50.00", "支气管哮喘、慢性咳嗽"),
            ("冯子轩", ATTENDING, "20.00", "呼吸道感染、睡眠呼吸暂停"),
        ],
    ),
    (
        "general-surgery",
        "普通外科",
        "门诊楼2层A区",
        "甲状腺、乳腺、疝气、胆囊等外科疾病的诊治与微创手术评估。",
        [
            ("何振华", CHIEF, "80.00", "甲状腺与乳腺肿瘤、腹腔镜微创手术"),
            ("许静怡", ASSOCIATE, "50.00", "胆囊结石、腹股沟疝"),
            ("高明远", ATTENDING, "20.00", "体表肿物、外科换药与伤口管理"),
        ],
    ),
    (
        "orthopedics",
        "骨科",
        "门诊楼2层B区",
        "诊治颈肩腰腿痛、骨关节炎、运动损伤与骨质疏松。",
        [
            ("林海峰", CHIEF, "100.00", "膝髋关节置换、骨关节炎"),
            ("罗晓东", ASSOCIATE, "50.00", "运动损伤、关节镜手术"),
            ("梁佳琪", ATTENDING, "20.00", "颈椎病、腰椎间盘突出症的保守治疗"),
        ],
    ),
    (
        "pediatrics",
        "儿科",
        "儿科楼1层",
        "为0-14岁儿童提供常见病诊治、生长发育评估与预防接种咨询。",
        [
            ("宋丽娟", CHIEF, "80.00", "小儿呼吸系统疾病、儿童哮喘"),
            ("唐思远", ASSOCIATE, "50.00", "儿童生长发育、矮小症评估"),
            ("韩雨萱", ATTENDING, "20.00", "小儿发热、腹泻等常见病"),
            ("曹浩然", RESIDENT, "10.00", "儿童常见病、疫苗接种咨询"),
        ],
    ),
    (
        "obstetrics-gynecology",
        "妇产科",
        "门诊楼4层A区",
        "提供孕期保健、产前检查、妇科疾病诊治与宫颈癌筛查。",
        [
            ("邓淑芬", CHIEF, "100.00", "高危妊娠管理、产前诊断"),
            ("彭晓燕", ASSOCIATE, "50.00", "子宫肌瘤、卵巢囊肿、妇科内分泌"),
            ("谢婉清", ATTENDING, "20.00", "孕期保健、宫颈癌筛查"),
        ],
    ),
    (
        "ophthalmology",
        "眼科",
        "门诊楼5层A区",
        "诊治白内障、青光眼、干眼症，提供儿童近视防控与验光配镜。",
        [
            ("蒋德明", CHIEF, "80.00", "白内障超声乳化手术、青光眼"),
            ("沈雪莹", ASSOCIATE, "50.00", "儿童近视防控、斜弱视"),
            ("潘一鸣", ATTENDING, "20.00", "干眼症、结膜炎"),
        ],
    ),
    (
        "stomatology",
        "口腔科",
        "门诊楼5层B区",
        "提供口腔检查、洁牙、补牙、根管治疗、种植与正畸咨询。",
        [
            ("钟建平", CHIEF, "60.00", "种植修复、复杂牙体牙髓治疗"),
            ("田雅文", ASSOCIATE, "40.00", "儿童及成人正畸"),
            ("袁博涛", ATTENDING, "20.00", "龋病、牙周病、洁治"),
        ],
    ),
    (
        "dermatology",
        "皮肤科",
        "门诊楼4层B区",
        "诊治湿疹、痤疮、银屑病、荨麻疹等皮肤病，提供皮肤镜检查。",
        [
            ("姜文华", CHIEF, "80.00", "银屑病、白癜风等疑难皮肤病"),
            ("范诗琪", ASSOCIATE, "50.00", "痤疮、玫瑰痤疮、激光美容"),
            ("石磊", ATTENDING, "20.00", "湿疹、荨麻疹、真菌感染"),
        ],
    ),
    (
        "tcm",
        "中医科",
        "门诊楼1层东侧",
        "中医内科调理、针灸推拿，擅长慢性病与亚健康的中西医结合治疗。",
        [
            ("黄永康", CHIEF, "100.00", "脾胃病、失眠的中医调理"),
            ("夏晓梅", ASSOCIATE, "50.00", "针灸治疗颈肩腰腿痛、面瘫"),
            ("董嘉怡", ATTENDING, "20.00", "月经不调、体质调理"),
        ],
    ),
    (
        "health-management",
        "健康管理中心",
        "门诊楼1层西侧",
        "体检报告解读与健康咨询，为会员提供免费的健康管理门诊。",
        [
            ("丁雪松", ATTENDING, "0.00", "体检报告解读、慢病风险评估（免费咨询）"),
            ("江若兰", ATTENDING, "0.00", "营养与体重管理咨询（免费咨询）"),
        ],
    ),
]

# The doctor the demo's ``doctor`` login is: sees patients every morning and afternoon, weekends
# too, so the queue has a session today whatever day the demo is shown.
DEMO_DOCTOR = "陈志强"

# (session, start, end)
SESSIONS = {
    "morning": ("08:00", "11:30"),
    "afternoon": ("13:30", "17:00"),
    "evening": ("18:00", "20:30"),
}
ROOMS = [f"{n}诊室" for n in range(1, 13)]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英文华建国红志强玉兰海燕俊峰婷婷雪梅晓东子涵浩然"
    "思远欣怡雨萱梓轩一诺佳琪宇航嘉怡诗涵若曦博文睿泽晨阳欣然梦琪家豪天佑紫萱浩宇雅静鹏飞丽娟志明建华淑珍"
)
PHONE_PREFIXES = [
    "138",
    "139",
    "150",
    "151",
    "186",
    "187",
    "135",
    "136",
    "158",
    "177",
    "188",
    "159",
]


def demo_phone(index: int) -> str:
    """The mobile number (without +86) of the demo's member number ``index``."""
    return f"{PHONE_PREFIXES[index % len(PHONE_PREFIXES)]}{index:08d}"


ID_AREAS = ["110105", "310104", "440106", "330106", "510107", "420106"]
CANCEL_REASONS = ["行程有变", "已在其他医院就诊", "身体已好转", "工作安排冲突", "预约错了时间"]
ADJUSTMENT_NOTES = ["会员日活动赠送", "问卷调研奖励", "投诉处理补偿"]
SUSPEND_REASON = "医生临时外出会诊"
# Why the front desk cancelled for a patient (by phone or at the desk).
STAFF_CANCEL_REASONS = ["患者来电取消", "患者到前台申请取消", "医生调班，已电话通知患者改约"]
# What members spent points on.
REDEMPTION_NOTES = ["兑换体检套餐优惠券", "兑换洁牙服务", "兑换健康讲座名额"]
# A clinic has more front-desk staff than the demo's one login: this clerk cancelled some of
# the past appointments for patients (no password: nobody logs in as her).
HISTORY_CLERK = ("zhangmin", "张敏（前台）")
# Sessions suspended (停诊) after members had booked them: a past one and an upcoming one.
SUSPEND_AFTER_BOOKING_REASONS = ["医生参加急诊抢救", "医生临时外出会诊"]
# The demo clinic's contact details (fictional), editable in the console (诊所信息).
CLINIC = {
    "name": "MedBook 会员诊所",
    "address": "上海市徐汇区宜山路 700 号 B 座 1–3 层",
    "phone": "021-6000 1234",
    "hours": "周一至周日 08:00–17:30（法定节假日以通知为准）",
    "name_en": "MedBook Members' Clinic",
    "address_en": "Floors 1–3, Building B, 700 Yishan Road, Xuhui District, Shanghai",
    "hours_en": "Daily 08:00–17:30 (public holidays as announced)",
}

# English names (shown on English pages; the Chinese ones stay the source).
LEVEL_NAMES_EN = {1: "Standard", 2: "Silver", 3: "Gold", 4: "Diamond"}
LOCATIONS_EN = {
    "门诊楼3层A区": "Outpatient Building, 3F, Zone A",
    "门诊楼3层B区": "Outpatient Building, 3F, Zone B",
    "门诊楼3层C区": "Outpatient Building, 3F, Zone C",
    "门诊楼2层A区": "Outpatient Building, 2F, Zone A",
    "门诊楼2层B区": "Outpatient Building, 2F, Zone B",
    "儿科楼1层": "Pediatrics Building, 1F",
    "门诊楼4层A区": "Outpatient Building, 4F, Zone A",
    "门诊楼5层A区": "Outpatient Building, 5F, Zone A",
    "门诊楼5层B区": "Outpatient Building, 5F, Zone B",
    "门诊楼4层B区": "Outpatient Building, 4F, Zone B",
    "门诊楼1层东侧": "Outpatient Building, 1F, East",
    "门诊楼1层西侧": "Outpatient Building, 1F, West",
}
ROOMS_EN = {room: f"Room {n}" for n, room in enumerate(ROOMS, start=1)}
SPECIALTIES_EN = {
    "冠心病介入治疗、复杂高血压、心力衰竭": "Coronary stents, complex hypertension, heart failure",
    "心律失常、房颤射频消融术后随访": "Arrhythmia, follow-up after AF ablation",
    "高血压、高脂血症的规范化管理": "Managing hypertension and high cholesterol",
    "心血管常见病、慢病随访": "Common heart conditions, chronic care follow-up",
    "消化道早癌内镜诊治、幽门螺杆菌感染": "Endoscopy for early GI cancer, H. pylori infection",
    "炎症性肠病、功能性胃肠病": "Inflammatory bowel disease, functional GI disorders",
    "脂肪肝、慢性胃炎、胃食管反流病": "Fatty liver, chronic gastritis, reflux disease",
    "肺结节评估、慢阻肺、间质性肺病": "Lung nodules, COPD, interstitial lung disease",
    "支气管哮喘、慢性咳嗽": "Asthma, chronic cough",
    "呼吸道感染、睡眠呼吸暂停": "Respiratory infections, sleep apnea",
    "甲状腺与乳腺肿瘤、腹腔镜微创手术": "Thyroid and breast tumours, laparoscopic surgery",
    "胆囊结石、腹股沟疝": "Gallstones, inguinal hernia",
    "体表肿物、外科换药与伤口管理": "Skin lumps, dressings and wound care",
    "膝髋关节置换、骨关节炎": "Knee and hip replacement, osteoarthritis",
    "运动损伤、关节镜手术": "Sports injuries, arthroscopy",
    "颈椎病、腰椎间盘突出症的保守治疗": "Non-surgical care of neck and lumbar disc problems",
    "小儿呼吸系统疾病、儿童哮喘": "Children's respiratory illness, childhood asthma",
    "儿童生长发育、矮小症评估": "Child growth and development, short stature",
    "小儿发热、腹泻等常见病": "Fever, diarrhoea and other common childhood illness",
    "儿童常见病、疫苗接种咨询": "Common childhood illness, vaccination advice",
    "高危妊娠管理、产前诊断": "High-risk pregnancy, prenatal diagnosis",
    "子宫肌瘤、卵巢囊肿、妇科内分泌": "Fibroids, ovarian cysts, gynaecological endocrinology",
    "孕期保健、宫颈癌筛查": "Pregnancy care, cervical cancer screening",
    "白内障超声乳化手术、青光眼": "Cataract surgery (phaco), glaucoma",
    "儿童近视防控、斜弱视": "Myopia control in children, squint and lazy eye",
    "干眼症、结膜炎": "Dry eye, conjunctivitis",
    "种植修复、复杂牙体牙髓治疗": "Implants, complex root canal treatment",
    "儿童及成人正畸": "Orthodontics for children and adults",
    "龋病、牙周病、洁治": "Tooth decay, gum disease, cleaning",
    "银屑病、白癜风等疑难皮肤病": "Psoriasis, vitiligo and other difficult skin conditions",
    "痤疮、玫瑰痤疮、激光美容": "Acne, rosacea, cosmetic laser",
    "湿疹、荨麻疹、真菌感染": "Eczema, hives, fungal infections",
    "脾胃病、失眠的中医调理": "TCM care for digestion and insomnia",
    "针灸治疗颈肩腰腿痛、面瘫": "Acupuncture for neck, back and joint pain, facial palsy",
    "月经不调、体质调理": "Irregular periods, constitution care",
    "体检报告解读、慢病风险评估（免费咨询）": "Check-up results, chronic disease risk (free)",
    "营养与体重管理咨询（免费咨询）": "Nutrition and weight advice (free)",
}


def name_in_pinyin(name: str) -> str:
    """A doctor's name as English pages write it: "王建国" → "Wang Jianguo"."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(name)
    return " ".join(part.capitalize() for part in (syllables[0], "".join(syllables[1:])) if part)


# The records (病历) of the demo member 13800000000's latest completed visits, newest first:
# chief complaint, ICD-10 code, advice, prescriptions (one a line), follow-up in days (0: none).
# The record a doctor of each department writes at the demo member's visit (chief complaint,
# ICD-10 code from records/data/icd10.csv, advice, prescriptions, follow-up in days or 0).
DEMO_VISIT_RECORDS = {
    "cardiology": (
        "反复头晕一月，自测血压偏高",
        "I10",
        "低盐饮食，每日早晚各测一次血压并记录",
        "苯磺酸氨氯地平片 5mg 口服 每日一次",
        28,
    ),
    "gastroenterology": (
        "上腹部隐痛、饭后腹胀三周",
        "K29.5",
        "规律进食，少食辛辣油腻，戒烟限酒",
        "奥美拉唑肠溶胶囊 20mg 口服 每日两次 早晚餐前",
        0,
    ),
    "respiratory": (
        "咳嗽、咳少量白痰一周",
        "J20.9",
        "多饮水，注意休息；出现高热或气促请及时复诊",
        "氨溴索片 30mg 口服 每日三次",
        7,
    ),
    "general-surgery": (
        "右侧腹股沟可复性包块半年",
        "K40.9",
        "避免提重物及剧烈咳嗽，择期手术",
        "",
        14,
    ),
    "orthopedics": (
        "双膝关节疼痛，上下楼加重两月",
        "M17.9",
        "控制体重，减少爬楼及深蹲，可做股四头肌锻炼",
        "塞来昔布胶囊 0.2g 口服 每日一次 饭后",
        21,
    ),
    "pediatrics": (
        "咽痛、咳嗽伴低热两天",
        "J06.9",
        "多饮水，注意休息；体温超过38.5℃或症状加重请及时复诊",
        "小儿氨酚黄那敏颗粒 1袋 口服 每日三次\n布洛芬混悬液 5ml 口服 发热时服用",
        7,
    ),
    "obstetrics-gynecology": (
        "经期下腹痛半年",
        "N94.6",
        "经期注意保暖，避免生冷饮食",
        "布洛芬缓释胶囊 0.3g 口服 疼痛时服用",
        0,
    ),
    "ophthalmology": (
        "双眼视物模糊，看远处不清一年",
        "H52.1",
        "验光配镜，注意用眼卫生，每用眼40分钟休息10分钟",
        "玻璃酸钠滴眼液 1滴 滴眼 每日三次",
        180,
    ),
    "stomatology": (
        "右下后牙遇冷热酸痛一月",
        "K02.9",
        "早晚刷牙，使用牙线，少吃甜食",
        "",
        14,
    ),
    "dermatology": (
        "四肢皮肤瘙痒、红斑反复三月",
        "L20.9",
        "避免搔抓及热水烫洗，洗澡后涂抹保湿剂",
        "丁酸氢化可的松乳膏 外用 每日两次\n氯雷他定片 10mg 口服 每晚一次",
        14,
    ),
    "tcm": (
        "入睡困难、多梦易醒两月",
        "G47.0",
        "规律作息，睡前避免使用手机及饮用浓茶咖啡",
        "酸枣仁汤加减 七剂 水煎服 每日一剂",
        7,
    ),
    "health-management": (
        "年度健康体检",
        "Z00.0",
        "血脂偏高，建议低脂饮食、每周运动三次以上，三个月后复查血脂",
        "",
        90,
    ),
}
