"""Loading the demo into the database: whatever is missing, found by natural key and never changed
once it exists; then each demo period's index is computed and published."""
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import City, Role, User
from audit.services import audit_record
from indices.demo.catalogue import (
    DEMO_CITIES,
    DEMO_FILING_YEAR,
    DEMO_METHODOLOGY_CODE,
    DEMO_METHODOLOGY_VERSION,
    DEMO_PASSWORD,
    DEMO_PERIODS,
    SOURCE_NOTE,
    demo_accounts,
    demo_filing_period,
    demo_methodology_path,
    demo_return_times,
)
from indices.demo.values import demo_values
from indices.models import IndexRun, RunState
from indices.services import index_run_compute, index_run_publish
from methodology.models import Indicator, MethodologyVersion
from methodology.selectors import methodology_spec
from methodology.services import methodology_import, methodology_publish
from reporting.models import IndicatorReturn, ObservationStatus, ReportingPeriod, ReturnState, ReturnValue
from reporting.services.periods import PeriodOpening, period_open_within


@dataclass
class DemoLoadSummary:
    methodology: str
    methodology_created: bool = False
    cities: int = 0
    accounts: int = 0
    periods: int = 0
    returns: int = 0
    values: int = 0
    skipped_periods: list[int] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return self.methodology_created or any((self.cities, self.accounts, self.periods, self.returns, self.values))


@transaction.atomic(durable=True)
def demo_load() -> DemoLoadSummary:
    """Load whatever part of the demo is missing, all or nothing; existing rows are never changed
    (no password is reset, no value overwritten), so running it again is harmless."""
    methodology, created = _demo_methodology_ensure()
    summary = DemoLoadSummary(methodology=f"{methodology.code} {methodology.version}", methodology_created=created)
    summary.cities = _demo_cities_ensure()
    summary.accounts = _demo_accounts_ensure()
    periods, summary.periods = _demo_periods_ensure(methodology=methodology)
    summary.periods += _demo_filing_period_ensure(methodology=methodology)
    usable = [period for period in periods if period.methodology_id == methodology.pk]
    summary.skipped_periods = [period.data_year for period in periods if period not in usable]
    summary.returns, summary.values = _demo_returns_ensure(methodology=methodology, periods=usable)
    if summary.created_anything:
        audit_record(actor=None, event_type="demo.load", details={
            "methodology_created": summary.methodology_created, "cities": summary.cities,
            "accounts": summary.accounts, "periods": summary.periods, "returns": summary.returns,
            "values": summary.values,
        })
    return summary


@dataclass
class DemoIndexOutcome:
    data_year: int
    run: IndexRun
    published: bool  # published by this call


def demo_index_ensure() -> list[DemoIndexOutcome]:
    """Compute each demo period's index and publish it (as the demo methodologist) unless the period
    already has a published run; the same data gives the same run, so a second call changes nothing."""
    methodologist = User.objects.filter(username="methodologist").first()
    outcomes = []
    for period in ReportingPeriod.objects.filter(data_year__in=[p.data_year for p in DEMO_PERIODS]).order_by(
            "data_year"):
        run = index_run_compute(period=period)
        publish = (methodologist is not None and run.state == RunState.SUCCEEDED and not run.is_provisional
                   and not period.runs.published().exists())
        if publish:
            run = index_run_publish(run=run, actor=methodologist)
        outcomes.append(DemoIndexOutcome(data_year=period.data_year, run=run, published=publish))
    return outcomes


def _demo_methodology_ensure() -> tuple[MethodologyVersion, bool]:
    """Import and publish the default methodology unless a version with its label exists."""
    existing = MethodologyVersion.objects.filter(code=DEMO_METHODOLOGY_CODE, version=DEMO_METHODOLOGY_VERSION).first()
    if existing is not None:
        return existing, False
    version = methodology_import(text=demo_methodology_path().read_text(encoding="utf-8"), actor=None)
    return methodology_publish(version=version, actor=None), True


def _demo_cities_ensure() -> int:
    existing = set(City.objects.values_list("code", flat=True))
    created = 0
    for city in DEMO_CITIES:
        if city.code in existing:
            continue
        row = City(code=city.code, name_zh=city.name_zh, name_en=city.name_en,
                   province_zh=city.province_zh, province_en=city.province_en)
        row.full_clean()
        row.save()
        created += 1
    return created


def _demo_accounts_ensure() -> int:
    """Create missing accounts; one hash of the shared, published demo password serves them all,
    because hashing it 35 times with the production hasher takes about 20 seconds."""
    existing = set(User.objects.values_list("username", flat=True))
    missing = [account for account in demo_accounts() if account.username not in existing]
    if not missing:
        return 0
    password = make_password(DEMO_PASSWORD)
    cities = {city.code: city for city in City.objects.filter(code__in=[city.code for city in DEMO_CITIES])}
    groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
    for account in missing:
        user = User(username=account.username, first_name=account.first_name, email=account.email, password=password,
                    is_staff=account.is_staff, is_superuser=account.is_superuser,
                    city=cities[account.city_code] if account.city_code else None)
        user.full_clean()
        user.save()
        if account.role:
            user.groups.add(groups[account.role])
    return len(missing)


def _demo_periods_ensure(*, methodology: MethodologyVersion) -> tuple[list[ReportingPeriod], int]:
    periods, created = [], 0
    for demo_period in DEMO_PERIODS:
        period = ReportingPeriod.objects.filter(data_year=demo_period.data_year).first()
        if period is None:
            period = ReportingPeriod(data_year=demo_period.data_year, state=demo_period.state,
                                     opens_on=demo_period.opens_on, due_on=demo_period.due_on,
                                     methodology=methodology)
            period.full_clean()
            period.save()
            created += 1
        periods.append(period)
    return periods, created


def _demo_filing_period_ensure(*, methodology: MethodologyVersion) -> int:
    """The period open for filing, opened as the secretariat opens one: every city's return an empty draft
    (created once; its dates count from that day)."""
    if ReportingPeriod.objects.filter(data_year=DEMO_FILING_YEAR).exists():
        return 0
    demo_period, locks_on = demo_filing_period(today=timezone.localdate())
    period_open_within(opening=PeriodOpening(data_year=demo_period.data_year, opens_on=demo_period.opens_on,
                                             due_on=demo_period.due_on, locks_on=locks_on, methodology=methodology),
                       actor=None)
    return 1


def _demo_returns_ensure(*, methodology: MethodologyVersion, periods: list[ReportingPeriod]) -> tuple[int, int]:
    """An approved illustrative revision 1 per city and period, unless that city already has one."""
    values = demo_values(methodology=methodology_spec(version=methodology))
    indicators = {indicator.code: indicator for indicator in Indicator.objects.filter(version=methodology)}
    cities = {city.code: city for city in City.objects.filter(code__in=[city.code for city in DEMO_CITIES])}
    taken = set(IndicatorReturn.objects.filter(period__in=periods, revision=1).values_list("city_id", "period_id"))
    new_returns = []
    for period in periods:
        for index, demo_city in enumerate(DEMO_CITIES):
            city = cities[demo_city.code]
            if (city.pk, period.pk) in taken:
                continue
            submitted_at, approved_at = demo_return_times(period=period, city_index=index)
            new_returns.append(IndicatorReturn(
                city=city, period=period, revision=1, state=ReturnState.APPROVED, is_illustrative=True,
                submitted_at=submitted_at, approved_at=approved_at,
            ))
    IndicatorReturn.objects.bulk_create(new_returns)
    new_values = [
        ReturnValue(indicator_return=indicator_return, indicator=indicators[code], value=value,
                    observation_status=ObservationStatus.FINAL, source_note=SOURCE_NOTE)
        for indicator_return in new_returns
        for code, value in values[indicator_return.city.code][indicator_return.period.data_year].items()
    ]
    ReturnValue.objects.bulk_create(new_values)
    return len(new_returns), len(new_values)
