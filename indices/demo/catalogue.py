"""What the demo consists of: the default methodology, the 30 cities, the accounts and the two
reporting periods, with the fixed submission and approval times of the illustrative returns."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.apps import apps

from accounts.models import Role
from indices.engine import spec as methodology_spec_module
from indices.engine.spec import MethodologySpec
from reporting.models import PeriodState, ReportingPeriod

DEMO_PASSWORD = "Ccfi-demo-2025"  # the demo's published password (README); production has no demo users  # nosec B105
DEMO_METHODOLOGY_CODE = "CCFI"
DEMO_METHODOLOGY_VERSION = "2025.1"
SOURCE_NOTE = "示例数据（合成） / Illustrative synthetic data"
CHONGQING = "500000"
# Returns are stamped in the portal's time zone, whatever the server's settings say.
DEMO_TIME_ZONE = ZoneInfo("Asia/Shanghai")


def demo_methodology_path() -> Path:
    """The default methodology document that ships with the portal."""
    return Path(apps.get_app_config("methodology").path) / "methodologies" / "ccfi-2025.1.json"


def demo_methodology_spec() -> MethodologySpec:
    return methodology_spec_module.loads(demo_methodology_path().read_text(encoding="utf-8"))


# The cities, accounts and periods.

@dataclass(frozen=True)
class DemoCity:
    """A demo city; population (10 thousand persons, end of 2023), GDP (100 million yuan, 2023) and
    urbanisation (%) are approximate public figures that size the synthetic values."""

    code: str
    name_zh: str
    name_en: str
    province_zh: str
    province_en: str
    slug: str
    population: float
    gdp: float
    urbanisation: float


DEMO_CITIES: tuple[DemoCity, ...] = (
    DemoCity("310000", "上海", "Shanghai", "上海市", "Shanghai", "shanghai", 2487.45, 47218.66, 89.5),
    DemoCity("110000", "北京", "Beijing", "北京市", "Beijing", "beijing", 2185.80, 43760.70, 87.8),
    DemoCity("500000", "重庆", "Chongqing", "重庆市", "Chongqing", "chongqing", 3191.43, 30145.79, 71.7),
    DemoCity("440300", "深圳", "Shenzhen", "广东省", "Guangdong", "shenzhen", 1779.01, 34606.40, 99.8),
    DemoCity("440100", "广州", "Guangzhou", "广东省", "Guangdong", "guangzhou", 1882.70, 30355.73, 86.8),
    DemoCity("330100", "杭州", "Hangzhou", "浙江省", "Zhejiang", "hangzhou", 1252.20, 20059.00, 84.2),
    DemoCity("510100", "成都", "Chengdu", "四川省", "Sichuan", "chengdu", 2140.30, 22074.70, 80.5),
    DemoCity("320500", "苏州", "Suzhou", "江苏省", "Jiangsu", "suzhou", 1295.80, 24653.40, 82.5),
    DemoCity("320100", "南京", "Nanjing", "江苏省", "Jiangsu", "nanjing", 954.70, 17421.40, 87.2),
    DemoCity("370100", "济南", "Jinan", "山东省", "Shandong", "jinan", 943.70, 12757.40, 74.5),
    DemoCity("120000", "天津", "Tianjin", "天津市", "Tianjin", "tianjin", 1364.00, 16737.30, 85.5),
    DemoCity("420100", "武汉", "Wuhan", "湖北省", "Hubei", "wuhan", 1377.40, 20011.70, 84.8),
    DemoCity("610100", "西安", "Xi'an", "陕西省", "Shaanxi", "xian", 1307.82, 12010.76, 79.6),
    DemoCity("430100", "长沙", "Changsha", "湖南省", "Hunan", "changsha", 1051.31, 14331.98, 83.3),
    DemoCity("410100", "郑州", "Zhengzhou", "河南省", "Henan", "zhengzhou", 1300.80, 13617.80, 80.0),
    DemoCity("370200", "青岛", "Qingdao", "山东省", "Shandong", "qingdao", 1037.15, 15760.34, 78.2),
    DemoCity("330200", "宁波", "Ningbo", "浙江省", "Zhejiang", "ningbo", 969.70, 16452.80, 79.2),
    DemoCity("350200", "厦门", "Xiamen", "福建省", "Fujian", "xiamen", 532.70, 8066.49, 90.8),
    DemoCity("340100", "合肥", "Hefei", "安徽省", "Anhui", "hefei", 985.30, 12673.80, 85.5),
    DemoCity("350100", "福州", "Fuzhou", "福建省", "Fujian", "fuzhou", 845.00, 12928.47, 73.5),
    DemoCity("210200", "大连", "Dalian", "辽宁省", "Liaoning", "dalian", 753.90, 8752.90, 80.1),
    DemoCity("210100", "沈阳", "Shenyang", "辽宁省", "Liaoning", "shenyang", 920.40, 8122.10, 85.2),
    DemoCity("530100", "昆明", "Kunming", "云南省", "Yunnan", "kunming", 868.00, 7864.76, 81.0),
    DemoCity("450100", "南宁", "Nanning", "广西壮族自治区", "Guangxi", "nanning", 894.08, 5469.06, 71.3),
    DemoCity("520100", "贵阳", "Guiyang", "贵州省", "Guizhou", "guiyang", 640.29, 5154.75, 80.0),
    DemoCity("230100", "哈尔滨", "Harbin", "黑龙江省", "Heilongjiang", "harbin", 939.50, 5576.30, 67.0),
    DemoCity("220100", "长春", "Changchun", "吉林省", "Jilin", "changchun", 910.19, 7002.10, 73.5),
    DemoCity("130100", "石家庄", "Shijiazhuang", "河北省", "Hebei", "shijiazhuang", 1122.35, 7534.20, 71.6),
    DemoCity("360100", "南昌", "Nanchang", "江西省", "Jiangxi", "nanchang", 656.82, 7324.00, 79.5),
    DemoCity("140100", "太原", "Taiyuan", "山西省", "Shanxi", "taiyuan", 545.37, 5573.74, 85.9),
)


# The published 2024 top ten, in order; the illustrative values are calibrated to rank so (values.CITY_STRENGTH).
PUBLISHED_TOP_TEN: tuple[str, ...] = (
    "310000", "110000", "500000", "440300", "440100", "330100", "510100", "320500", "320100", "370100",
)


DEMO_EMAIL_DOMAIN = "ccfi-demo.example"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    role: Role | None = None
    is_staff: bool = False
    is_superuser: bool = False
    city_code: str | None = None

    @property
    def email(self) -> str:
        """An address of the reserved .example domain: notifications reach the demo's mail folder, no one else."""
        return f"{self.username}@{DEMO_EMAIL_DOMAIN}"


STAFF_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "系统管理员（演示）", is_staff=True, is_superuser=True),
    DemoAccount("reviewer", "指数秘书处审核员", Role.REVIEWER),
    DemoAccount("methodologist", "指数秘书处方法研究员", Role.METHODOLOGIST, is_staff=True),
    DemoAccount("secadmin", "系统安全管理员", Role.SECURITY_ADMIN, is_staff=True),
    DemoAccount("auditadmin", "系统审计管理员", Role.AUDIT_ADMIN, is_staff=True),
)


def demo_accounts() -> list[DemoAccount]:
    """The secretariat accounts, then one filer per city (``filer-<english slug>``)."""
    filers = [
        DemoAccount(f"filer-{city.slug}", f"{city.name_zh}市地方金融管理局填报员", Role.FILER, city_code=city.code)
        for city in DEMO_CITIES
    ]
    return [*STAFF_ACCOUNTS, *filers]


@dataclass(frozen=True)
class DemoPeriod:
    data_year: int
    state: PeriodState
    opens_on: date
    due_on: date


DEMO_PERIODS: tuple[DemoPeriod, ...] = (
    DemoPeriod(2023, PeriodState.CLOSED, date(2024, 1, 15), date(2024, 3, 31)),
    DemoPeriod(2024, PeriodState.OPEN, date(2025, 1, 15), date(2025, 3, 31)),
)
DEMO_YEARS = tuple(period.data_year for period in DEMO_PERIODS)
# A newcomer files at once: the next data year is open, with no values yet, due four weeks after the demo is loaded.
DEMO_FILING_YEAR = 2025
DEMO_FILING_DAYS_TO_DUE = 28
DEMO_FILING_DAYS_TO_LOCK = 60


def demo_filing_period(*, today: date) -> tuple[DemoPeriod, date]:
    """The open period of the demo and its lock date, counted from the day the demo is loaded."""
    opens_on = max(today - timedelta(days=7), date(DEMO_FILING_YEAR + 1, 1, 1))
    return (DemoPeriod(DEMO_FILING_YEAR, PeriodState.OPEN, opens_on, today + timedelta(days=DEMO_FILING_DAYS_TO_DUE)),
            today + timedelta(days=DEMO_FILING_DAYS_TO_LOCK))


def demo_return_times(*, period: DemoPeriod | ReportingPeriod, city_index: int) -> tuple[datetime, datetime]:
    """Fixed submission and approval times, staggered by city, all before the period's deadline."""
    submitted_at = datetime.combine(period.opens_on + timedelta(days=20 + city_index), time(10, 0),
                                    tzinfo=DEMO_TIME_ZONE)
    return submitted_at, submitted_at + timedelta(days=5, hours=5, minutes=30)
