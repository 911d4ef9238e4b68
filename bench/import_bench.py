"""Import benchmark: one XLSX with the returns of 300 cities × 36 values (33 indicators and 3
context variables), previewed (dry run) and then applied through the real import services.

    python bench/import_bench.py [--cities 300] [--keep]

It builds a throwaway SQLite database in a temporary folder (or uses BENCH_DATABASE_URL, which it
migrates and fills, so never point it at a database you care about): the default methodology,
300 cities with last year's approved returns and this year's empty drafts, and an administrator
who loads the file. It prints rows per second for each step and the total. Target: under 10 s.
"""
import argparse
import io
import time

from bench_django import setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=300, help="how many cities the file covers (default 300)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and print its path")
    args = parser.parse_args()

    folder = setup_django()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    settings.REPORTING_IMPORT_MAX_BYTES = 20 * 1024 * 1024
    settings.REPORTING_IMPORT_MAX_ROWS = max(settings.REPORTING_IMPORT_MAX_ROWS, args.cities * 40)
    call_command("migrate", verbosity=0)
    world = build_world(cities=args.cities)
    upload_bytes = build_workbook(world)
    rows = args.cities * len(world["codes"])
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; "
          f"file: {rows} rows, {len(upload_bytes) / 1024:.0f} KB")

    from reporting.models import ImportState, ValueChange
    from reporting.services import values_import_apply, values_import_preview

    started = time.perf_counter()
    report = values_import_preview(period=world["period"], actor=world["admin"],
                                   upload=SimpleUploadedFile("bench.xlsx", upload_bytes))
    previewed = time.perf_counter()
    assert report.state == ImportState.PREVIEWED, report.summary
    assert ValueChange.objects.count() == 0, "the dry run wrote values"
    report = values_import_apply(report=report, actor=world["admin"])
    applied = time.perf_counter()
    assert report.state == ImportState.APPLIED, report.summary
    changes = ValueChange.objects.count()

    preview_s, apply_s, total_s = previewed - started, applied - previewed, applied - started
    print(f"dry run (check, parse, validate, roll back): {preview_s:6.2f} s  {rows / preview_s:8.0f} rows/s")
    print(f"confirm (parse, validate, write, audit):     {apply_s:6.2f} s  {rows / apply_s:8.0f} rows/s")
    print(f"total:                                       {total_s:6.2f} s  {rows / total_s:8.0f} rows/s "
          f"({changes} value changes recorded)")
    print("target under 10 s:", "met" if total_s < 10 else "NOT met")
    if args.keep:
        print("database kept in", folder)


def build_world(*, cities: int) -> dict:
    """The methodology, the cities, last year's approved returns, this year's drafts, an administrator."""
    import datetime

    from django.utils import timezone

    from accounts.models import City, User
    from indices.demo import DEMO_CITIES, demo_methodology_path, demo_values
    from methodology.services import methodology_import, methodology_publish
    from reporting.models import IndicatorReturn, PeriodState, ReportingPeriod, ReturnState, ReturnValue
    from reporting.selectors import period_spec
    from reporting.validation import variables

    methodology = methodology_publish(version=methodology_import(
        text=demo_methodology_path().read_text(encoding="utf-8"), actor=None), actor=None)
    today = timezone.localdate()
    last = ReportingPeriod.objects.create(data_year=2023, opens_on=datetime.date(2024, 1, 15),
                                          due_on=datetime.date(2024, 3, 31), state=PeriodState.CLOSED,
                                          methodology=methodology)
    period = ReportingPeriod.objects.create(data_year=2024, opens_on=today - datetime.timedelta(days=10),
                                            due_on=today + datetime.timedelta(days=30), methodology=methodology)
    spec = period_spec(period=period)
    demo = demo_values(methodology=spec)
    rows = City.objects.bulk_create([
        City(code=f"{900000 + index:06d}", name_zh=f"测试城市{index:03d}", name_en=f"Bench city {index:03d}",
             province_zh="测试省", province_en="Bench") for index in range(cities)])
    indicators = {indicator.code: indicator for indicator in methodology.indicators.all()}
    templates = [demo[city.code] for city in DEMO_CITIES]
    approved = IndicatorReturn.objects.bulk_create([
        IndicatorReturn(city=city, period=last, state=ReturnState.APPROVED, approved_at=timezone.now())
        for city in rows])
    drafts = IndicatorReturn.objects.bulk_create([IndicatorReturn(city=city, period=period) for city in rows])
    values = []
    for index, (old, new) in enumerate(zip(approved, drafts, strict=True)):
        years = templates[index % len(templates)]
        values += [ReturnValue(indicator_return=old, indicator=indicators[code], value=value)
                   for code, value in years[2023].items()]
        values += [ReturnValue(indicator_return=new, indicator=indicators[code]) for code in indicators]
    ReturnValue.objects.bulk_create(values, batch_size=2000)
    admin = User.objects.create_superuser(username="bench-admin", password=None)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # planner statistics, as a database in use has them
            cursor.execute("ANALYZE")
    return {"period": period, "cities": rows, "codes": list(variables(spec)), "templates": templates,
            "admin": admin}


def build_workbook(world: dict) -> bytes:
    import openpyxl

    from reporting.resources import COLUMNS

    # A normal workbook, as Excel, WPS and the portal's own template write it: with the sheet's
    # <dimension> element. (openpyxl's write-only mode leaves it out, and a reader must then scan the
    # whole sheet once more to size it: about 2 s for this file.)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "2024"
    sheet.append([f"{zh} {key}" for key, zh in COLUMNS])
    for index, city in enumerate(world["cities"]):
        this_year = world["templates"][index % len(world["templates"])][2024]
        for code in world["codes"]:
            sheet.append([city.code, city.name_zh, code, "", "", None, float(this_year[code]), "final",
                          "统计年鉴 2025 表 3-1", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


if __name__ == "__main__":
    main()
