"""Report benchmark: the white paper in both languages and a city report, built from the demo data.

    python bench/report_bench.py [--repeat N] [--out DIR] [--keep]

It builds a throwaway SQLite database in a temporary folder (or uses BENCH_DATABASE_URL, which it
migrates and fills, so never point it at a database you care about), loads the demo (30 cities, two
years of illustrative returns), makes sure both years have a published index, then times:

- each edition of the white paper on its own (one process, data already read: what a Celery worker
  spends on one task);
- both editions at once in two processes (what two workers do after a publish);
- one city report.

It prints seconds and page counts. Targets (issue 5): each edition < 10 s, a city report < 2 s.
``--repeat N`` builds each edition N times in one process and prints the fastest, median and slowest
(the figures move by 10-15 % when anything else runs on the machine).
``--out DIR`` also writes the PDFs there, to look at them (pdftoppm -png -r 50).
"""
import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench_django import setup_django


def published_runs():
    """Demo data and a published run for each demo year."""
    from indices.demo import demo_index_ensure, demo_load

    demo_load()
    return [outcome.run for outcome in demo_index_ensure()]


def build_one(run_id: int, language: str, out: str | None) -> tuple[str, float, int]:
    from django.db import connection

    from indices.models import IndexRun, ReportKind
    from indices.reports.builder import report_render_pdf

    connection.close()  # a forked process opens its own connection
    run = IndexRun.objects.get(pk=run_id)
    started = time.perf_counter()
    rendered = report_render_pdf(run=run, kind=ReportKind.WHITE_PAPER, language=language)
    seconds = time.perf_counter() - started
    if out:
        Path(out, f"white-paper-{language}.pdf").write_bytes(rendered.content)
    return language, seconds, rendered.pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="build each edition this many times (default 1)")
    parser.add_argument("--out", help="write the PDFs into this folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and print its path")
    args = parser.parse_args()
    folder = setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    runs = published_runs()
    run = runs[-1]
    print(f"demo loaded and index published in {time.perf_counter() - started:.1f} s "
          f"(data year {run.period.data_year}, {run.units} cities)")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)

    from indices.models import ReportKind
    from indices.reports.builder import harfbuzz_subset_available, report_engine_warm_up, report_render_pdf
    from indices.reports.data import report_data

    print(f"HarfBuzz subsetter: {'yes' if harfbuzz_subset_available() else 'NO (fontTools fallback, slow)'}")
    # Warm-up: WeasyPrint's import, fontconfig's font list and the run's data, read once per worker process.
    started = time.perf_counter()
    report_engine_warm_up()
    print(f"WeasyPrint imported and fonts read in {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    report_data(run=run)
    print(f"report data read in {time.perf_counter() - started:.2f} s")

    for language in ("zh-hans", "en"):
        timings = []
        for _attempt in range(max(args.repeat, 1)):
            language, seconds, pages = build_one(run.pk, language, args.out)
            timings.append(seconds)
        if len(timings) == 1:
            print(f"white paper {language:8s} {seconds:6.2f} s  {pages} pages  (one process)")
        else:
            print(f"white paper {language:8s} {min(timings):6.2f} s fastest, "
                  f"{statistics.median(timings):.2f} s median, {max(timings):.2f} s slowest of {len(timings)}  "
                  f"{pages} pages  (one process)")

    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(build_one, [run.pk, run.pk], ["zh-hans", "en"], [None, None]))
    wall = time.perf_counter() - started
    for language, seconds, pages in results:
        print(f"white paper {language:8s} {seconds:6.2f} s  {pages} pages  (two processes in parallel)")
    print(f"both editions in parallel: {wall:.2f} s wall clock")

    city = report_data(run=run).cities[0]
    for language in ("zh-hans", "en"):
        started = time.perf_counter()
        rendered = report_render_pdf(run=run, kind=ReportKind.CITY, language=language, city=city)
        seconds = time.perf_counter() - started
        print(f"city report {language:8s} {seconds:6.2f} s  {rendered.pages} pages  ({city.name_en})")
        if args.out:
            Path(args.out, f"city-{city.code}-{language}.pdf").write_bytes(rendered.content)
    if args.keep:
        print(f"database kept in {folder}")


if __name__ == "__main__":
    main()
