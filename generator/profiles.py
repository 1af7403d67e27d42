"""The generator's knobs: how many units of each type a reporting unit has, how big they are, and
who their members are. Figures are per reporting unit at scale 1.0 (the whole city: about 1M
members, 3,843 administrative villages, 30k admissions a year). Codes are the labels of the
seed code lists; only the weights are chosen here.
"""

from __future__ import annotations

# Unit types by the seed's labels (checked against code_values.csv when the generator starts).
COMMITTEE_DISTRICT = "区县党委"
COMMITTEE_SYSTEM = "系统党委"
TOWNSHIP = "乡镇"
VILLAGE = "行政村"
STREET = "街道"
COMMUNITY = "社区"
COMPOUND = "居民小区"
SOE_WHOLLY = "国有独资企业"
SOE_HOLDING = "国有控股企业"
NPE = "非公有制企业"
SOCIAL = "社会组织"
ORGAN = "机关"
UNIVERSITY = "高等院校"
HOSPITAL = "医疗卫生机构"
RESEARCH = "科研院所"
INSTITUTION = "其他事业单位"

SOES = (SOE_WHOLLY, SOE_HOLDING)
TWO_NEW = (NPE, SOCIAL)
ENTERPRISES = (SOE_WHOLLY, SOE_HOLDING, NPE)

# Host-unit counts per area group (districts and counties), before the district factor.
AREA_PROFILES: dict[str, dict[str, float]] = {
    "市内六区": {
        ORGAN: 60, STREET: 11, COMMUNITY: 90, COMPOUND: 250, NPE: 1400, SOCIAL: 150,
        SOE_WHOLLY: 10, SOE_HOLDING: 8, INSTITUTION: 60,
    },
    "环城四区": {
        ORGAN: 60, STREET: 4, COMMUNITY: 30, COMPOUND: 120, TOWNSHIP: 9, NPE: 1100, SOCIAL: 60,
        SOE_WHOLLY: 8, SOE_HOLDING: 6, INSTITUTION: 80,
    },
    "远郊": {
        ORGAN: 70, STREET: 2, COMMUNITY: 15, COMPOUND: 50, TOWNSHIP: 25, NPE: 700, SOCIAL: 40,
        SOE_WHOLLY: 6, SOE_HOLDING: 4, INSTITUTION: 120,
    },
    "滨海": {
        ORGAN: 60, STREET: 6, COMMUNITY: 40, COMPOUND: 120, TOWNSHIP: 3, NPE: 1300, SOCIAL: 60,
        SOE_WHOLLY: 10, SOE_HOLDING: 10, INSTITUTION: 60,
    },
}  # fmt: skip

# A reporting unit that only succeeds others (滨海新区 from 2010H1) starts with its own organs
# and what is founded after it starts; the predecessors' units and members move to it.
SUCCESSOR_PROFILE: dict[str, float] = {ORGAN: 15, NPE: 150, SOCIAL: 10, COMPOUND: 10}

SYSTEM_PROFILES: dict[str, dict[str, float]] = {
    "XT01": {ORGAN: 2, SOE_WHOLLY: 120, SOE_HOLDING: 100},
    "XT02": {ORGAN: 2, UNIVERSITY: 45, INSTITUTION: 20},
    "XT03": {ORGAN: 2, HOSPITAL: 180, INSTITUTION: 15},
    "XT04": {ORGAN: 2, RESEARCH: 60, NPE: 300},
    "XT05": {ORGAN: 3, INSTITUTION: 60},
    "XT06": {ORGAN: 220, INSTITUTION: 80},
}
SYSTEM_HIGH_TECH = ("XT04",)  # every 非公有制企业 of these systems is high-tech

# Administrative villages per district at scale 1.0 (sum 3,843, the 2009 figure).
VILLAGES: dict[str, int] = {
    "120101": 3, "120102": 3, "120103": 3, "120104": 3, "120105": 3, "120106": 3,
    "120107": 25, "120108": 67, "120109": 87,
    "120110": 110, "120111": 170, "120112": 165, "120113": 130,
    "120114": 692, "120115": 766, "120221": 281, "120223": 383, "120225": 949,
}  # fmt: skip

# Size of a district's unit counts relative to its area group's profile.
DISTRICT_FACTOR: dict[str, float] = {
    "120101": 0.7, "120104": 1.2, "120103": 1.1, "120107": 1.3, "120108": 0.5, "120109": 0.8,
    "120221": 0.8, "120225": 1.1,
}  # fmt: skip

# Members at scale 1.0 (about 1.0M in all).
MEMBERS: dict[str, int] = {
    "120101": 45_000, "120102": 60_000, "120103": 65_000, "120104": 75_000, "120105": 60_000,
    "120106": 55_000, "120107": 50_000, "120108": 18_000, "120109": 32_000, "120116": 3_000,
    "120110": 35_000, "120111": 35_000, "120112": 35_000, "120113": 35_000,
    "120114": 35_000, "120115": 35_000, "120221": 25_000, "120223": 35_000, "120225": 45_000,
    "XT01": 90_000, "XT02": 62_000, "XT03": 30_000, "XT04": 15_000, "XT05": 10_000, "XT06": 25_000,
}  # fmt: skip

# Growth of host units per half-year (share of the stock count): new firms, new compounds.
GROWTH: dict[str, float] = {NPE: 0.03, SOCIAL: 0.03, COMPOUND: 0.02}

# Expected members of a unit (relative; scaled so a reporting unit has its MEMBERS).
SIZE: dict[str, float] = {
    COMMITTEE_DISTRICT: 30, COMMITTEE_SYSTEM: 30, ORGAN: 25, STREET: 25, COMMUNITY: 70,
    COMPOUND: 8, TOWNSHIP: 80, VILLAGE: 35, SOE_WHOLLY: 80, SOE_HOLDING: 60, UNIVERSITY: 1300,
    HOSPITAL: 150, RESEARCH: 200, INSTITUTION: 40,
}  # fmt: skip
SYSTEM_SOE_SIZE = 6.0  # municipal SOE groups are this many times a district's SOE
MEMBERS_PER_BRANCH = 20  # big units get one 党支部 per this many members

# Member categories: which demographic table a member's organization draws from.
CATEGORY_OF_UNIT: dict[str, str] = {
    COMMITTEE_DISTRICT: "organ", COMMITTEE_SYSTEM: "organ", ORGAN: "organ", STREET: "organ",
    COMMUNITY: "community", COMPOUND: "community", TOWNSHIP: "township", VILLAGE: "village",
    SOE_WHOLLY: "enterprise", SOE_HOLDING: "enterprise", NPE: "enterprise", SOCIAL: "enterprise",
    UNIVERSITY: "university", HOSPITAL: "professional", RESEARCH: "professional",
    INSTITUTION: "professional",
}  # fmt: skip
CATEGORIES = ("organ", "community", "township", "village", "enterprise", "university", "professional")

# Age on the reference date: (mean, sd, min, max); university adds a student share.
AGE = {
    "organ": (44, 10, 22, 85), "community": (62, 12, 22, 95), "township": (45, 9, 22, 70),
    "village": (52, 14, 20, 90), "enterprise": (42, 10, 20, 80), "university": (45, 10, 23, 85),
    "professional": (43, 11, 22, 85),
}  # fmt: skip
STUDENT_SHARE = {"university": 0.45}
FEMALE = {
    "organ": 0.27, "community": 0.42, "township": 0.18, "village": 0.12, "enterprise": 0.24,
    "university": 0.40, "professional": 0.45,
}  # fmt: skip
FLOATING = {
    "organ": 0.005, "community": 0.04, "township": 0.01, "village": 0.07, "enterprise": 0.05,
    "university": 0.02, "professional": 0.01,
}  # fmt: skip

_EDU_KEYS = ("研究生", "大学本科", "大学专科", "中专", "高中", "初中及以下")
EDUCATION: dict[str, dict[str, float]] = {
    cat: dict(zip(_EDU_KEYS, w, strict=True))
    for cat, w in {
        "organ": (6, 45, 30, 6, 9, 4),
        "community": (1, 8, 12, 12, 30, 37),
        "township": (2, 25, 35, 12, 18, 8),
        "village": (0, 1, 3, 8, 30, 58),
        "enterprise": (2, 18, 25, 20, 22, 13),
        "university": (45, 40, 8, 2, 3, 2),
        "professional": (12, 40, 28, 10, 6, 4),
        "elderly": (1, 6, 8, 10, 25, 50),
    }.items()
}
ADMISSION_EDUCATION: dict[str, dict[str, float]] = {
    cat: dict(zip(_EDU_KEYS, w, strict=True))
    for cat, w in {
        "organ": (10, 55, 25, 5, 4, 1),
        "community": (3, 25, 25, 15, 20, 12),
        "township": (3, 35, 35, 12, 10, 5),
        "village": (0, 4, 10, 18, 40, 28),
        "enterprise": (4, 30, 30, 15, 13, 8),
        "university": (30, 62, 8, 0, 0, 0),
        "professional": (15, 45, 25, 10, 4, 1),
    }.items()
}

_OCC_KEYS = (
    "工人", "农牧渔民", "党政机关工作人员", "企事业单位管理人员", "专业技术人员", "军人武警", "学生",
    "离退休人员", "其他职业人员",
)  # fmt: skip
OCCUPATION: dict[str, dict[str, float]] = {
    cat: dict(zip(_OCC_KEYS, w, strict=True))
    for cat, w in {
        "organ": (1, 0, 80, 8, 8, 1, 0, 0, 2),
        "community": (10, 1, 3, 8, 8, 0, 1, 45, 24),
        "township": (2, 10, 70, 8, 8, 0, 0, 0, 2),
        "village": (4, 80, 0, 3, 2, 0, 1, 0, 10),
        "enterprise": (45, 0, 0, 28, 20, 0, 0, 0, 7),
        "university": (1, 0, 3, 10, 40, 0, 45, 0, 1),
        "professional": (3, 0, 2, 15, 75, 0, 0, 0, 5),
    }.items()
}
RETIREMENT_AGE = 60  # a stock member older than this on the reference date is mostly 离退休人员

# Admissions: the city shares the reference figures give (34-36% women, ~80% aged <= 35).
ADMISSIONS_PER_HALF_YEAR = 15_000  # at scale 1.0, city-wide
ADMISSION_RATE_FACTOR = {"university": 4.0, "village": 0.8, "community": 0.5}
ADMISSION_FEMALE_DELTA = {"professional": 0.15, "community": 0.1, "village": -0.12, "township": -0.05}
ADMISSION_YOUNG_SHARE = 0.76  # admitted at 18..35
LEAVE_RATE = 0.018  # members leaving (deaths, transfers out) per half-year
TRANSFER_IN_RATE = 0.004  # members transferred in from outside the city per half-year
VILLAGE_CADRE_SHARE = 0.12  # members of a village organization who are 村干部
TOWNSHIP_CADRE_SHARE = 0.35  # members of a township organization who are 乡镇干部

# Activities per organization and half-year, by organization type (Poisson means).
ACTIVITY_RATES: dict[str, dict[str, float]] = {
    "党委": {"党委会": 4, "集中培训": 0.8, "党课": 1.5, "民主评议": 0.5, "检查评估": 0.15,
             "联系服务群众": 1.5, "其他": 1.5},
    "党工委": {"党委会": 3, "集中培训": 0.8, "党课": 1, "检查评估": 0.2, "联系服务群众": 1.5, "其他": 2},
    "党总支": {"支委会": 5, "支部党员大会": 1.5, "党课": 2, "集中培训": 0.3, "民主评议": 0.6,
               "联系服务群众": 1.5, "其他": 1},
    "党支部": {"支委会": 6, "支部党员大会": 3, "党小组会": 3.5, "党课": 2.5, "民主评议": 0.7,
               "联系服务群众": 2, "其他": 1.3},
    "联合党支部": {"支委会": 4, "支部党员大会": 2.5, "党课": 2, "民主评议": 0.6, "联系服务群众": 1,
                   "其他": 1},
    "临时党支部": {"支部党员大会": 1, "其他": 1},
    "党小组": {"党小组会": 3},
}  # fmt: skip
COMMITTEE_MEETING_HIT = 0.9  # share of (unit, period) whose committee holds a 强基创先 党委会
ANNUAL_INSPECTION_HIT = 0.9  # share of (unit, year) inspected by the 市委组织部
EVALUATION_HIT = 0.8  # share of university / hospital committees evaluated in a year

TOPICS: dict[str, tuple[str, ...]] = {
    "党委会": ("研究干部任免事项", "传达学习上级会议精神", "研究年度工作计划", "讨论党费收缴使用",
               "研究基层组织建设", "听取党风廉政建设汇报"),
    "集中培训": ("基层党组织书记培训班", "村干部集中轮训", "入党积极分子培训班", "党务干部业务培训",
                 "新党员培训班"),
    "支部党员大会": ("讨论接收预备党员", "预备党员转正", "选举支部委员会", "学习党章"),
    "支委会": ("研究发展党员工作", "研究支部工作安排", "讨论党员教育管理"),
    "党小组会": ("学习讨论", "党员谈心交流"),
    "党课": ("学习党章党规", "保持共产党员先进性", "学习十七大精神"),
    "民主评议": ("民主评议党员", "年度民主评议"),
    "检查评估": ("基层党建工作检查", "党建工作目标考核"),
    "联系服务群众": ("走访困难群众", "党员志愿服务", "为民办实事"),
    "其他": ("参观学习", "主题党日", "文体活动"),
}  # fmt: skip
PROJECT_WORD = "强基创先"
PROJECT_TOPICS = ("研究部署强基创先工作", "听取强基创先工程进展汇报", "强基创先工程推进会")
DECOY_TOPICS = ("研究强基工程有关事项", "研究创先争优工作")  # near misses: no 强基创先
CITY_ORGANIZATION_DEPARTMENT = "市委组织部"

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
SURNAME_WEIGHTS = (
    7.2, 7.1, 6.8, 5.4, 4.4, 3.1, 2.3, 1.9, 1.7, 1.6, 1.5, 1.5, 1.3, 1.3, 1.2, 1.2, 1.2, 1.1, 1.0, 1.0,
    0.9, 0.9, 0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5, 0.5, 0.5, 0.5,
    0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4,
)  # fmt: skip
GIVEN_CHARS = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文辉玉红志宏海峰春梅"
PLACE_CHARS = "东西南北中新华兴安康平和宁丰盛泰荣福昌永长顺利民建光明前进胜利"
FIRM_WORDS = ("科技", "实业", "贸易", "机械", "电子", "建材", "物流", "食品", "化工", "纺织", "商贸", "软件")
SOCIAL_WORDS = ("协会", "商会", "促进会", "学会", "服务中心", "基金会")
FLOATING_MANAGERS = (
    "北京市流动党员服务中心", "上海市流动党员党委", "广东省深圳市流动党员党总支", "河北省流动党员服务站",
    "江苏省苏州市流动党员党支部", "本区流动党员党总支", "所在街道流动党员服务站",
)  # fmt: skip
BUREAUS = (
    "发展改革委", "财政局", "民政局", "教育局", "卫生局", "人事局", "建设委", "商务委", "司法局", "统计局",
    "审计局", "文化局", "环保局", "水务局", "农委", "科委", "法院", "检察院", "人大机关", "政协机关",
    "委办公室", "信访办",
)  # fmt: skip
COMPOUND_SUFFIXES = ("花园", "苑", "里", "新村", "家园", "公寓")
SOE_WORDS = ("钢铁", "机电", "化工", "纺织", "医药", "建工", "港口", "电子", "食品", "物资")
INSTITUTION_WORDS: dict[str, tuple[str, ...]] = {
    UNIVERSITY: ("大学", "学院", "职业技术学院", "师范大学", "理工大学"),
    HOSPITAL: ("医院", "中心医院", "中医医院", "妇产医院", "卫生院", "疾控中心"),
    RESEARCH: ("研究所", "研究院", "研究中心", "设计院"),
    INSTITUTION: ("中学", "小学", "图书馆", "文化馆", "报社", "广播电视台", "事务中心"),
}
EVALUATED_UNITS = (UNIVERSITY, HOSPITAL)  # their committees get a yearly 检查评估

# Rating pools for units that miss (or are not measured by) their target rating.
RATING_OTHER = {"五好": 30, "先进": 15, "一般": 30, "后进": 5, "未评定": 10}
RATING_OTHER_VILLAGE = {"五好": 10, "先进": 15, "一般": 50, "后进": 10, "未评定": 15}
RATING_OTHER_SOE = {"先进": 20, "一般": 50, "后进": 10, "未评定": 20}
SOE_STATUS = {"正常": 85, "困难": 8, "停产": 3, "关闭": 2, "破产": 2}
NPE_STATUS = {"正常": 88, "困难": 6, "停产": 3, "关闭": 2, "破产": 1}
