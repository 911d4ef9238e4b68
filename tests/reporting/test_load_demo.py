"""load_demo: the default methodology, the 30 cities, the demo accounts and the illustrative returns."""
import datetime
import os
import subprocess
import sys
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import City, Role, User
from audit.models import AuditEvent
from indices.demo import (
    DEMO_PASSWORD,
    PUBLISHED_TOP_TEN,
    SOURCE_NOTE,
    demo_methodology_path,
    demo_methodology_spec,
    demo_values,
)
from indices.engine import spec
from indices.models import Score
from methodology.models import Indicator, IndicatorKind, MethodologyNode, MethodologyState, MethodologyVersion
from methodology.selectors import methodology_document
from reporting.models import (
    IndicatorReturn,
    ObservationStatus,
    PeriodPhase,
    ReportingPeriod,
    ReturnState,
    ReturnValue,
)

pytestmark = pytest.mark.django_db

# The design document's 30 cities, in its order.
CITY_CODES = [
    "310000", "110000", "500000", "440300", "440100", "330100", "510100", "320500", "320100", "370100",
    "120000", "420100", "610100", "430100", "410100", "370200", "330200", "350200", "340100", "350100",
    "210200", "210100", "530100", "450100", "520100", "230100", "220100", "130100", "360100", "140100",
]
CHONGQING = "500000"

# Binding codes, units and directions of the design document.
INDICATOR_UNITS = {
    "M1.1": ("count", 1), "M1.2": ("count", 1), "M1.3": ("count", 1),
    "M2.1": ("100 million yuan", 1), "M2.2": ("%", 1), "M2.3": ("yuan per person", 1),
    "M3.1": ("100 million yuan", 1), "M3.2": ("%", 1),
    "M4.1": ("%", -1), "M4.2": ("%", 1), "M4.3": ("%", 1),
    "E1.1": ("yuan per person", 1), "E1.2": ("yuan per person", 1), "E1.3": ("%", 1),
    "E2.1": ("count", 1), "E2.2": ("count", 1), "E2.3": ("100 million yuan", 1),
    "E3.1": ("10 thousand merchants", 1), "E3.2": ("%", 1), "E3.3": ("count", 1),
    "E4.1": ("per 10k residents", 1), "E4.2": ("%", 1),
    "V1.1": ("count", 1), "V1.2": ("%", 1),
    "V2.1": ("per 10k borrowers", -1), "V2.2": ("%", 1), "V2.3": ("per 10k residents", 1),
    "V3.1": ("%", 1), "V3.2": ("per 10k residents", 1),
    "V4.1": ("per million residents", -1), "V4.2": ("yuan per 10k yuan", -1), "V4.3": ("days", -1),
    "V4.4": ("score 0–4", 1),
}


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", allow_without_debug=True, stdout=out)
    return out.getvalue()


def stored_values() -> dict[str, dict[int, dict[str, Decimal]]]:
    """The illustrative values (the open period's empty drafts left out)."""
    values: dict[str, dict[int, dict[str, Decimal]]] = {}
    rows = ReturnValue.objects.filter(indicator_return__is_illustrative=True).values_list(
        "indicator_return__city__code", "indicator_return__period__data_year", "indicator__code", "value")
    for city_code, data_year, code, value in rows:
        values.setdefault(city_code, {}).setdefault(data_year, {})[code] = value
    return values


def snapshot() -> dict:
    """Every row load_demo touches, with the fields a second run must not change."""
    return {
        "versions": list(MethodologyVersion.objects.values_list("pk", "state", "published_at")),
        "nodes": MethodologyNode.objects.count(),
        "indicators": Indicator.objects.count(),
        "cities": list(City.objects.values_list("pk", "code", "name_zh", "name_en", "province_zh", "province_en")),
        "users": list(User.objects.order_by("pk").values_list("pk", "username", "password", "first_name", "city")),
        "memberships": list(User.groups.through.objects.order_by("pk").values_list("user", "group")),
        "groups": Group.objects.count(),
        "periods": list(ReportingPeriod.objects.values_list("pk", "data_year", "state", "methodology")),
        "returns": list(IndicatorReturn.objects.values_list("pk", "state", "updated_at", "approved_at")),
        "values": list(ReturnValue.objects.order_by("pk").values_list("pk", "value", "source_note")),
        "audit_events": AuditEvent.objects.count(),
    }


def test_it_loads_the_methodology_and_the_cities():
    load_demo()

    version = MethodologyVersion.objects.get(code="CCFI", version="2025.1")
    assert version.state == MethodologyState.PUBLISHED
    root = version.root()
    assert root.code == "CCFI"
    assert MethodologyNode.objects.filter(version=version, parent=root).count() == 3
    assert MethodologyNode.objects.filter(version=version, parent__parent=root).count() == 12
    scored = Indicator.objects.filter(version=version, kind=IndicatorKind.SCORED)
    assert {indicator.code: (indicator.unit_en, indicator.direction) for indicator in scored} == INDICATOR_UNITS
    context = Indicator.objects.filter(version=version, kind=IndicatorKind.CONTEXT)
    assert sorted(context.values_list("code", flat=True)) == ["BORROWERS", "GDP", "POP"]
    assert sorted(City.objects.values_list("code", flat=True)) == sorted(CITY_CODES)
    assert City.objects.get(code="610100").name_en == "Xi'an"


def test_the_methodology_file_is_canonical_and_stored_unchanged():
    file_bytes = demo_methodology_path().read_bytes()
    assert spec.dumps(spec.loads(file_bytes.decode("utf-8"))).encode("utf-8") == file_bytes

    load_demo()

    version = MethodologyVersion.objects.get(code="CCFI", version="2025.1")
    assert methodology_document(version=version).encode("utf-8") == file_bytes


def test_it_is_idempotent():
    first_output = load_demo()
    before = snapshot()

    second_output = load_demo()

    assert snapshot() == before
    assert "Created 30 cities, 35 accounts, 3 reporting periods, 60 illustrative returns" in first_output
    assert "Nothing new" in second_output
    assert "Created" not in second_output


def test_a_newcomer_finds_the_next_year_open_for_filing(client):
    """2023 and 2024 approved and published; 2025 open, due four weeks after the load, opened as the secretariat
    opens a period: every city's return waiting as an empty draft."""
    load_demo()
    filing = ReportingPeriod.objects.get(data_year=2025)
    today = timezone.localdate()
    assert filing.phase == PeriodPhase.OPEN and filing.due_on == today + datetime.timedelta(days=28)
    assert filing.locks_on == today + datetime.timedelta(days=60)
    drafts = IndicatorReturn.objects.filter(period=filing)
    assert sorted(drafts.values_list("city__code", flat=True)) == sorted(CITY_CODES)
    assert set(drafts.values_list("state", "revision", "is_illustrative")) == {(ReturnState.DRAFT, 1, False)}
    assert ReturnValue.objects.filter(indicator_return__period=filing).count() == 30 * 36
    assert not ReturnValue.objects.filter(indicator_return__period=filing, value__isnull=False).exists()
    assert AuditEvent.objects.filter(event_type="period.open", details__data_year=2025).count() == 1
    assert {period.data_year: period.runs.published().exists() for period in ReportingPeriod.objects.all()} == {
        2023: True, 2024: True, 2025: False}
    client.force_login(User.objects.get(username="filer-chongqing"))
    page = client.get(reverse("reporting:dashboard")).content.decode()
    draft = drafts.get(city__code=CHONGQING)
    assert reverse("reporting:return_detail", args=[draft.pk]) in page
    assert 'data-testid="completeness-2025">0/36<' in page
    assert 'data-testid="phase-2025">填报中<' in page and 'data-testid="phase-2024">已过截止日<' in page


def test_the_2024_top_ten_is_the_published_order():
    """The illustrative values are calibrated so that the demo's published 2024 ranking opens with the
    published top ten, in its order (the ranking page still labels them illustrative)."""
    load_demo()
    run = ReportingPeriod.objects.get(data_year=2024).runs.published().get()
    ranked = list(Score.objects.filter(run=run, level=0).order_by("rank").values_list("city__code", "rank"))
    assert [code for code, _rank in ranked[:10]] == list(PUBLISHED_TOP_TEN) == [
        "310000", "110000", "500000", "440300", "440100", "330100", "510100", "320500", "320100", "370100"]
    assert [rank for _code, rank in ranked[:10]] == list(range(1, 11))  # no ties


def test_every_demo_account_has_an_address_and_the_demo_mail_goes_to_files():
    """Notifications reach the demo's mail folder: each account has an address of the reserved .example domain, and
    with DEBUG on (the demo) the settings write each message as a file in var/mail/."""
    load_demo()
    assert not User.objects.filter(email="").exists()
    assert User.objects.get(username="filer-chongqing").email == "filer-chongqing@ccfi-demo.example"
    script = "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH)"
    shown = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "ccfi_portal.settings", "DEBUG": "true",
             "SECRET_KEY": settings.SECRET_KEY}, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["django.core.mail.backends.filebased.EmailBackend",
                                    str(settings.BASE_DIR / "var" / "mail")]


def test_it_keeps_existing_passwords():
    load_demo()
    filer = User.objects.get(username="filer-chongqing")
    assert filer.check_password(DEMO_PASSWORD)
    filer.set_password("Changed-by-the-filer-1")
    filer.save()

    load_demo()

    assert User.objects.get(username="filer-chongqing").check_password("Changed-by-the-filer-1")


def test_every_role_has_a_demo_account_and_every_city_one_filer():
    load_demo()

    for role in Role:
        assert User.objects.filter(groups__name=role).exists(), role
    for username in ("reviewer", "methodologist", "secadmin", "auditadmin"):
        assert User.objects.get(username=username).first_name
    assert User.objects.get(username="admin").is_superuser
    filers = User.objects.filter(groups__name=Role.FILER)
    assert sorted(filers.values_list("city__code", flat=True)) == sorted(CITY_CODES)
    assert filers.get(username="filer-xian").city.name_en == "Xi'an"
    assert filers.get(username="filer-chongqing").first_name == "重庆市地方金融管理局填报员"


def test_every_return_is_approved_illustrative_and_complete():
    load_demo()

    returns = IndicatorReturn.objects.select_related("period").filter(period__data_year__in=[2023, 2024])
    assert returns.count() == 60
    for indicator_return in returns:
        assert indicator_return.state == ReturnState.APPROVED
        assert indicator_return.is_illustrative
        assert indicator_return.revision == 1
        period = indicator_return.period
        assert period.opens_on <= indicator_return.submitted_at.date() < indicator_return.approved_at.date()
        assert indicator_return.approved_at.date() <= period.due_on
    demo_values_stored = ReturnValue.objects.filter(indicator_return__period__data_year__in=[2023, 2024])
    assert demo_values_stored.count() == 60 * 36
    assert set(demo_values_stored.values_list("observation_status", "source_note")) == {
        (ObservationStatus.FINAL, SOURCE_NOTE)}


def test_every_value_is_within_its_bounds_and_decimals():
    load_demo()

    variables = {item.code: item for item in Indicator.objects.all()}
    values = stored_values()
    for city_code, years in values.items():
        for data_year, row in years.items():
            for code, value in row.items():
                variable, where = variables[code], (city_code, data_year, code, value)
                assert variable.hard_min <= value <= variable.hard_max, where
                assert variable.soft_min <= value <= variable.soft_max, where
                assert value == value.quantize(Decimal(1).scaleb(-variable.decimals)), where
        for code, value in years[2024].items():
            previous, tolerance = years[2023][code], variables[code].yoy_tolerance_pct
            if tolerance is not None and previous:
                assert abs(value / previous - 1) * 100 <= Decimal(tolerance), (city_code, code, previous, value)


def test_the_cross_field_relations_hold_for_every_city():
    load_demo()

    values = stored_values()
    assert sorted(values) == sorted(CITY_CODES)
    for city_code, years in values.items():
        for row in years.values():
            per_head = row["M2.1"] * 10 ** 8 / (row["POP"] * 10 ** 4)
            assert abs(row["M2.3"] / per_head - 1) <= Decimal("0.01"), city_code
            assert row["BORROWERS"] < row["POP"], city_code
            # First-time borrowers in a year are a small part of all borrowers.
            first_time_share = row["E4.1"] * row["POP"] / (row["BORROWERS"] * 10 ** 4)
            assert Decimal("0.01") <= first_time_share <= Decimal("0.15"), city_code
            # Fewer complaints than 1 per 100 borrowers, fewer residents reached than live there.
            assert row["V2.1"] < 100 and row["V2.3"] <= 10 ** 4, city_code
            assert row["M1.1"] >= row["M1.2"] + row["M1.3"], city_code
            assert (row["M3.2"] > 0) == (row["M1.2"] > 0), city_code
        growth = (years[2024]["M2.1"] / years[2023]["M2.1"] - 1) * 100
        assert abs(years[2024]["M2.2"] - growth) <= Decimal("0.5"), city_code
    for data_year in (2023, 2024):
        assert sum(values[code][data_year]["M3.2"] for code in CITY_CODES) <= 100


def test_the_chongqing_facts():
    load_demo()

    chongqing = stored_values()[CHONGQING]
    latest = chongqing[2024]
    assert latest["M2.1"] == Decimal("8922.53")
    assert latest["M2.2"] == Decimal("9.9")
    assert chongqing[2023]["M2.1"] == Decimal("8118.77")
    assert latest["M1.1"] >= 80
    assert (latest["M1.2"], latest["M1.3"], latest["M3.2"], latest["V4.4"]) == (3, 37, Decimal("29.1"), 4)
    for data_year in (2023, 2024):
        patents = {city_code: years[data_year]["E2.1"] for city_code, years in stored_values().items()}
        others = max(value for city_code, value in patents.items() if city_code != CHONGQING)
        assert patents[CHONGQING] > 10 * others
        # Two-thirds of the industry's invention patents.
        assert patents[CHONGQING] * 3 >= sum(patents.values()) * 2


def test_the_values_are_reproducible():
    methodology = demo_methodology_spec()
    generated = demo_values(methodology=methodology)
    assert demo_values(methodology=methodology) == generated
    assert demo_values(methodology=methodology, seed=7) != generated
    chongqing_fingerprint = sum(sum(row.values()) for row in generated[CHONGQING].values())

    load_demo()

    assert stored_values() == generated
    stored_chongqing = stored_values()[CHONGQING]
    assert sum(sum(row.values()) for row in stored_chongqing.values()) == chongqing_fingerprint


def test_it_refuses_to_run_without_debug_unless_told(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="runs only with DEBUG=true"):
        call_command("load_demo")
    assert not User.objects.exists()
