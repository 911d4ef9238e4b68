"""Fan-out benchmark: every city report of a published run, built by real Celery workers over Redis,
with one worker process and then with two.

    python bench/fanout_bench.py [--cities 300] [--languages zh-hans,en] [--workers 1,2] [--keep]

It builds a throwaway SQLite database in a temporary folder (WAL mode, as in settings; or uses
BENCH_DATABASE_URL, which it migrates and fills, so never point it at a database you care about): the
default methodology, ``--cities`` cities (the demo's 30, then synthetic ones whose population, GDP and
urbanisation numpy draws, with a fixed seed, from the demo cities' spread) with approved returns for
one period, drawn by the demo's own generator; then it computes the index and publishes it (with
REPORTS_BUILD_ON_PUBLISH off, so publishing builds nothing).

For each worker count it starts that many separate worker processes, each
``celery -A ccfi_portal worker -Q <prefix>reports --concurrency=1`` with the Procfile's
``--max-tasks-per-child=20`` (more processes = "more workers", as on more machines), on Redis database 12
(``BENCH_BROKER_URL`` to change it) and queues of its own (``CELERY_QUEUE_PREFIX=bench-<pid>-``). Once
every worker answers a ping, it asks for the builds through the real path: ``reports_request_for_run``
in a transaction (the white paper in each language, then each city's report in each language, one
task each), which the outbox hands to the broker after the commit. It polls the database until every
work request of the run is done or failed, and times from the first request to the last finish.
Between rounds it deletes the reports (rows and files) and the work requests, so the next round
really builds; then it stops the workers.

It prints, per round: cities, builds, workers, wall time, builds/s and failures; then the ratio of
the two wall times against the target (two workers ≤ 60 % of one worker's time; with two cores the
best possible is about 50 %). ``--languages en`` builds one language only (the builds are then asked
for with ``work_request``, exactly as ``reports_request_for_run`` does for each language).
"""
import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench_django import ROOT

BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12")
PREFIX = f"bench-{os.getpid()}-"
SYNTHETIC_SEED = 20251106
WORKER_READY_SECONDS = 90
POLL_SECONDS = 0.5


def setup(folder_env: dict[str, str]) -> str:
    """Django on the throwaway database, with the broker and this bench's queues named (so that the
    outbox hands the builds to Redis instead of running them in this process)."""
    os.environ.update(folder_env)
    from bench_django import setup_django

    return setup_django()


def synthetic_cities(count: int):
    """The demo's cities first, then synthetic ones drawn from their spread (log-normal population
    and GDP per head, normal urbanisation), reproducibly."""
    import numpy as np

    from indices.demo import DEMO_CITIES, DemoCity

    cities = list(DEMO_CITIES[:count])
    extra = count - len(cities)
    if extra <= 0:
        return cities
    rng = np.random.default_rng(SYNTHETIC_SEED)
    population = np.log([city.population for city in DEMO_CITIES])
    per_head = np.log([city.gdp / city.population for city in DEMO_CITIES])
    urbanisation = np.array([city.urbanisation for city in DEMO_CITIES])
    # Smaller cities than the demo's (which are the largest 30): shift population down by one spread.
    drawn_population = np.exp(rng.normal(population.mean() - population.std(), population.std(), extra))
    drawn_per_head = np.exp(rng.normal(per_head.mean(), per_head.std(), extra))
    drawn_urbanisation = np.clip(rng.normal(urbanisation.mean(), urbanisation.std(), extra), 40, 99.5)
    for index in range(extra):
        people = round(float(max(drawn_population[index], 50.0)), 2)
        cities.append(DemoCity(
            code=f"{900000 + index:06d}", name_zh=f"合成城市{index + 1:03d}", name_en=f"Synthetic city {index + 1:03d}",
            province_zh="合成省", province_en="Synthetic", slug=f"synthetic-{index + 1:03d}", population=people,
            gdp=round(people * float(drawn_per_head[index]), 2),
            urbanisation=round(float(drawn_urbanisation[index]), 1)))
    return cities


def build_world(*, cities: int):
    """Methodology, cities, one period of approved returns, a methodologist; the index computed and published."""
    import datetime

    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import City, Role, User
    from indices.demo import CHONGQING, SOURCE_NOTE, demo_methodology_path, demo_values
    from indices.services import index_run_compute, index_run_publish
    from methodology.selectors import methodology_spec
    from methodology.services import methodology_import, methodology_publish
    from reporting.models import (
        IndicatorReturn,
        ObservationStatus,
        PeriodState,
        ReportingPeriod,
        ReturnState,
        ReturnValue,
    )

    demo_cities = synthetic_cities(cities)
    if CHONGQING not in {city.code for city in demo_cities}:
        raise SystemExit("--cities must be 3 or more (the demo's generator needs Chongqing, its third city)")
    with transaction.atomic():
        methodology = methodology_publish(version=methodology_import(
            text=demo_methodology_path().read_text(encoding="utf-8"), actor=None), actor=None)
        period = ReportingPeriod.objects.create(data_year=2024, opens_on=datetime.date(2025, 1, 15),
                                                due_on=datetime.date(2025, 3, 31), state=PeriodState.CLOSED,
                                                methodology=methodology)
        values = demo_values(methodology=methodology_spec(version=methodology), cities=demo_cities)
        rows = City.objects.bulk_create([
            City(code=city.code, name_zh=city.name_zh, name_en=city.name_en, province_zh=city.province_zh,
                 province_en=city.province_en) for city in demo_cities])
        now = timezone.now()
        returns = IndicatorReturn.objects.bulk_create([
            IndicatorReturn(city=city, period=period, revision=1, state=ReturnState.APPROVED, is_illustrative=True,
                            submitted_at=now, approved_at=now) for city in rows])
        indicators = {indicator.code: indicator for indicator in methodology.indicators.all()}
        ReturnValue.objects.bulk_create([
            ReturnValue(indicator_return=item, indicator=indicators[code], value=value,
                        observation_status=ObservationStatus.FINAL, source_note=SOURCE_NOTE)
            for item in returns for code, value in values[item.city.code][period.data_year].items()
        ], batch_size=2000)
        methodologist = User.objects.create_user(username="bench-methodologist", password=None)
        methodologist.groups.add(Group.objects.get(name=Role.METHODOLOGIST))
    run = index_run_compute(period=period)
    if not run.is_publishable:
        raise SystemExit(f"the run is not publishable: state {run.state}, {run.units} cities, {run.error}")
    return index_run_publish(run=run, actor=methodologist)


def start_workers(count: int, *, round_name: str, folder: str) -> tuple[list[subprocess.Popen], list[str]]:
    processes, names = [], []
    for index in range(count):
        name = f"{PREFIX}{round_name}-{index + 1}@%h"
        log = open(Path(folder, f"worker-{round_name}-{index + 1}.log"), "w")  # the worker process writes it
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ccfi_portal", "worker", "-Q", f"{PREFIX}reports", "-n", name,
             "--concurrency=1", "--max-tasks-per-child=20", "--max-memory-per-child=1048576", "--loglevel=INFO",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        names.append(name)
    return processes, names


def wait_ready(processes: list[subprocess.Popen], names: list[str]) -> float:
    """Seconds until every worker answers a ping (its process forked, WeasyPrint warmed up)."""
    import socket

    from ccfi_portal.celery import app

    expected = {name.replace("%h", socket.gethostname()) for name in names}
    started = time.perf_counter()
    while time.perf_counter() - started < WORKER_READY_SECONDS:
        if any(process.poll() is not None for process in processes):
            raise SystemExit("a worker exited at start: see worker-*.log in the bench folder (--keep)")
        answered = {name for reply in app.control.ping(destination=sorted(expected), timeout=1.0) for name in reply}
        if expected <= answered:
            return time.perf_counter() - started
    raise SystemExit(f"workers not ready within {WORKER_READY_SECONDS} s")


def stop_workers(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # warm shutdown of the worker and its pool child
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def request_builds(run, languages: list[str]) -> None:
    """The real path: ``reports_request_for_run`` in a transaction; the outbox queues after the commit."""
    from django.conf import settings
    from django.db import transaction

    from indices.models import ReportKind
    from indices.outbox import BUILD_REPORT_TASK, work_request
    from indices.reports.services import LANGUAGES, reports_request_for_run

    assert settings.REPORTS_CITY_ON_PUBLISH, "city reports are not requested (REPORTS_CITY_ON_PUBLISH off)"
    with transaction.atomic():
        if tuple(languages) == LANGUAGES:
            reports_request_for_run(run)
            return
        for language in languages:  # as reports_request_for_run does, for the chosen languages only
            work_request(task=BUILD_REPORT_TASK, args=[run.pk, ReportKind.WHITE_PAPER, language], run_id=run.pk)
        codes = list(run.scores.filter(level=0).values_list("city__code", flat=True).order_by("city__code"))
        for code in codes:
            for language in languages:
                work_request(task=BUILD_REPORT_TASK, args=[run.pk, ReportKind.CITY, language, code], run_id=run.pk)


def wait_done(run, expected: int, *, timeout: float) -> None:
    from indices.models import UNFINISHED_WORK, WorkRequest

    started, last_print = time.perf_counter(), 0.0
    while True:
        requests = WorkRequest.objects.filter(run=run)
        unfinished = requests.filter(state__in=UNFINISHED_WORK).count()
        if requests.count() == expected and unfinished == 0:
            return
        elapsed = time.perf_counter() - started
        if elapsed - last_print >= 30:
            print(f"    ... {expected - unfinished} of {expected} finished after {elapsed:.0f} s", flush=True)
            last_print = elapsed
        if elapsed > timeout:
            raise SystemExit(f"not finished after {timeout:.0f} s: {unfinished} of {expected} unfinished")
        time.sleep(POLL_SECONDS)


def clear_reports(run) -> None:
    """Delete the run's reports (rows and files) and work requests, so the next round really builds."""
    from indices.models import Report, WorkRequest

    for report in Report.objects.filter(run=run):
        if report.file:
            report.file.storage.delete(report.file.name)
    Report.objects.filter(run=run).delete()
    WorkRequest.objects.filter(run=run).delete()


def run_round(run, *, workers: int, languages: list[str], cities: int, folder: str, timeout: float) -> dict:
    from django.db.models import Max, Min

    from indices.models import Report, ReportState, WorkRequest, WorkState

    clear_reports(run)
    load_before = os.getloadavg()[0]
    processes, names = start_workers(workers, round_name=f"w{workers}", folder=folder)
    try:
        ready = wait_ready(processes, names)
        expected = (cities + 1) * len(languages)
        started = time.perf_counter()
        request_builds(run, languages)
        wait_done(run, expected, timeout=timeout)
        polled = time.perf_counter() - started
        load_after = os.getloadavg()[0]
    finally:
        stop_workers(processes)
    requests = WorkRequest.objects.filter(run=run)
    bounds = requests.aggregate(first=Min("created_at"), last=Max("finished_at"))
    wall = (bounds["last"] - bounds["first"]).total_seconds()
    failed = requests.filter(state=WorkState.FAILED).count()
    built = Report.objects.filter(run=run, state=ReportState.SUCCEEDED).count()
    seconds = [item.result.get("seconds") or 0 for item in requests.filter(state=WorkState.DONE)]
    return {"workers": workers, "builds": expected, "wall": wall, "polled": polled, "failed": failed,
            "built": built, "ready": ready, "build_seconds": sum(seconds),
            "load": (load_before, load_after)}


def clean_broker() -> None:
    """Remove this bench's queues and bindings from the broker (the queues are empty by now)."""
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    keys = [key for pattern in (f"*{PREFIX}*",) for key in client.scan_iter(match=pattern)]
    if keys:
        client.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=300, help="how many cities (default 300; 3 or more)")
    parser.add_argument("--languages", default="zh-hans,en", help="report languages (default zh-hans,en)")
    parser.add_argument("--workers", default="1,2", help="worker process counts, one round each (default 1,2)")
    parser.add_argument("--timeout", type=float, default=1800, help="give up on a round after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and print its path")
    args = parser.parse_args()
    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    worker_counts = [int(count) for count in args.workers.split(",")]

    folder = setup({"CELERY_BROKER_URL": BROKER_URL, "CELERY_RESULT_BACKEND": BROKER_URL,
                    "CELERY_QUEUE_PREFIX": PREFIX, "REPORTS_BUILD_ON_PUBLISH": "false",
                    "REPORTS_CITY_ON_PUBLISH": "true"})
    from django.conf import settings
    from django.core.management import call_command

    import indices.tasks  # noqa: F401  (registers the tasks the outbox hands over)
    from indices.reports.services import LANGUAGES

    unknown = set(languages) - set(LANGUAGES)
    if unknown:
        raise SystemExit(f"unknown language(s) {', '.join(sorted(unknown))}; the portal's: {', '.join(LANGUAGES)}")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    run = build_world(cities=args.cities)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} in {folder}; "
          f"broker {BROKER_URL}, queue {PREFIX}reports")
    print(f"{args.cities} cities with approved returns, index computed and published in "
          f"{time.perf_counter() - started:.1f} s (run {run.pk}, {run.units} cities)")
    print(f"machine: {os.cpu_count()} cores; languages: {', '.join(languages)}; builds per round: "
          f"{len(languages)} white paper(s) + {args.cities * len(languages)} city reports; "
          f"workers: separate processes, each --concurrency=1 --max-tasks-per-child=20 (Procfile)", flush=True)

    results = []
    try:
        for workers in worker_counts:
            print(f"round: {workers} worker process(es) ...", flush=True)
            result = run_round(run, workers=workers, languages=languages, cities=args.cities, folder=folder,
                               timeout=args.timeout)
            results.append(result)
            print(f"  cities {args.cities}  builds {result['builds']}  workers {workers}  "
                  f"wall {result['wall']:.1f} s  {result['builds'] / result['wall']:.2f} builds/s  "
                  f"failures {result['failed']}  (reports built {result['built']}; workers ready in "
                  f"{result['ready']:.1f} s, not timed; sum of build times {result['build_seconds']:.0f} s; "
                  f"load average {result['load'][0]:.1f} before, {result['load'][1]:.1f} after)",
                  flush=True)
    finally:
        clean_broker()
    if len(results) >= 2:
        one, two = results[0], results[1]
        ratio = two["wall"] / one["wall"]
        print(f"ratio {two['workers']} workers / {one['workers']} worker: {ratio * 100:.1f} % of the time "
              f"(speed-up {1 / ratio:.2f}x); target ≤ 60 %: {'met' if ratio <= 0.60 else 'NOT met'}")
        print(f"(this machine has {os.cpu_count()} cores: with 2 cores the best possible is about 50 %; other "
              f"processes on the machine (the load average above) take cores from the workers)")
    if args.keep:
        print(f"database, reports and worker logs kept in {folder}")
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
