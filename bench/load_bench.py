"""Load benchmark (issues 11 and 14): locust, headless, against production mode (scripts/serve.sh).

    .venv/bin/python bench/load_bench.py [--scenario mixed|ranking|api-ranking|api-update ...] [--users 50]
        [--run-time 60s] [--filers 10] [--target-rps N] [--locust /tmp/locust-venv/bin/locust]
        [--locust-processes 1] [--keep]

Several scenarios run one after the other against the same production mode (bench/api_bench.py runs the two API
ones).

locust is not in the project's requirements: install it in a virtual environment of its own,
``python3 -m venv /tmp/locust-venv && /tmp/locust-venv/bin/pip install -r bench/requirements.txt``.

1. Prepares PostgreSQL database ``ccfi_loadbench`` (``BENCH_DATABASE_URL`` to change it; dropped and created
   afresh, so never point it at a database you care about): ``migrate``, ``load_demo --allow-without-debug``
   (DEBUG is off; tasks in-process, reports not built), then opens an amendment of each city's approved 2024
   return as the city's filer, through the services (the demo's returns are all approved, and a filer edits only
   a draft; README, Filing and review). The amendments are never submitted: the published ranking stays as it is.
2. Starts production mode as the README says: ``bash scripts/serve.sh`` (migrate, collectstatic, honcho with
   gunicorn, the recompute and reports workers and beat) with ``DATABASE_URL``, ``CELERY_BROKER_URL`` on Redis DB 13,
   ``CACHE_URL`` on Redis DB 11 (both emptied first), a generated 64-character ``SECRET_KEY``,
   ``ALLOWED_HOSTS=127.0.0.1`` and a free ``PORT``; static and media files and the metrics directory go to a
   temporary folder. One change from production: ``SESSION_COOKIE_SECURE``, ``CSRF_COOKIE_SECURE`` and
   ``SECURE_SSL_REDIRECT`` are off, since the bench speaks plain HTTP to 127.0.0.1 (no TLS proxy) and a client
   sends no ``Secure`` cookie over it; and the API's request limits (``API_THROTTLE_ANON``, ``API_THROTTLE_USER``)
   are lifted (to a million a second; each request still pays its count, ccfi_portal.throttling), since every
   locust client comes from the one address 127.0.0.1.
   Waits (at most ``--ready-seconds``) for ``/readyz`` to answer 200.
3. Runs locust headless (``bench/load_locustfile.py``) with ``--users`` users for ``--run-time``:
   ``mixed``: ``--filers`` filers saving values through the API (login once each) and the rest anonymous readers
   (ranking, drill-downs, city profiles), with think times; ``ranking``: anonymous readers of ``/rankings/2024/``
   only, paced together at ``--target-rps`` (default 350); ``api-ranking``: anonymous readers of the published
   2024 ranking through the API (``/api/v1/scores/?year=2024&level=0&ordering=rank``), paced at 330 req/s
   (the target, 300, and 10 %);
   ``api-update``: each user a filer with its API token saving values on a return of its own
   (``PATCH /api/v1/returns/{id}/values/``), paced at 110 req/s together (the target and 10 %).
   Before each scenario, ``VACUUM (ANALYZE)`` of the database, as autovacuum would keep a production one.
4. Prints per request type: requests, failures, requests/s, p50/p95/p99 (ms), the failures, and the CPU used by
   locust and by the production processes (cores busy on average) over the run.
5. Stops serve.sh with SIGINT (then SIGTERM, then SIGKILL to its process group, each after a bounded wait),
   checks that none of its processes is left, empties Redis DB 13 and 11 and drops the database (unless ``--keep``).

Reviewers are not simulated: in production mode a reviewer logs in with a second factor (TOTP), and an approval
is one-shot (an approved return cannot be approved again; each approval also queues a full recompute), so it
cannot be repeated for a minute by a fixed set of users without scripting the whole submit/approve/amend cycle.
"""
import argparse
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
# BENCH_DATABASE_URL, BENCH_BROKER_URL and BENCH_CACHE_URL move the bench elsewhere (e.g. when two run at once).
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ccfi_loadbench")
DATABASE_NAME = DATABASE_URL.rsplit("/", 1)[1]
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/11")
YEAR = 2024
PASSWORD = "Ccfi-demo-2025"
STOP_SECONDS = 40
# scenario: (locust user classes, the requests/s all users ask for together, None: not paced). The API scenarios
# ask 10 % above their targets (300 and 100 req/s): paced at the target itself, the users' start and locust's
# pacing deliver a little less (297 of 300), so a server that meets the target could not show it.
SCENARIOS = {"mixed": (["Reader", "Filer"], None), "ranking": (["RankingReader"], 350),
             "api-ranking": (["ApiRankingReader"], 330), "api-update": (["ApiFiler"], 110)}

PREPARE = r"""
import json
from django.contrib.auth import get_user_model
from accounts.tokens import api_token_create
from indices.demo.catalogue import demo_accounts
from indices.models import IndexRun
from reporting import services
from reporting.models import OPEN_STATES, IndicatorReturn, ReportingPeriod, ReturnState
from reporting.selectors.values import return_values

period = ReportingPeriod.objects.get(data_year=%(year)d)
open_period = ReportingPeriod.objects.get(data_year=%(year)d + 1)
users = get_user_model().objects
filers, api_filings = [], []
for account in demo_accounts():
    if not account.city_code:
        continue
    filer = users.get(username=account.username)
    draft = IndicatorReturn.objects.filter(period=period, city__code=account.city_code, state__in=OPEN_STATES).first()
    if draft is None:
        approved = IndicatorReturn.objects.get(period=period, city__code=account.city_code, state=ReturnState.APPROVED)
        draft = services.return_reopen_for_amendment(indicator_return=approved, actor=filer,
                                                     reason="Load benchmark (bench/load_bench.py)")
    values = {code: format(row.value.normalize(), "f") for code, row in return_values(indicator_return=draft).items()
              if row.value is not None}
    filers.append({"username": account.username, "city": account.city_code, "return_id": draft.pk,
                   "values": values})
    token = api_token_create(user=filer, name="load benchmark", days=1, verified=False).secret
    current = services.return_start(period=open_period, city=filer.city, actor=filer)
    api_filings += [{**filers[-1], "token": token}, {**filers[-1], "token": token, "return_id": current.pk}]
run = IndexRun.objects.published().get(period=period)
json.dump({"filers": filers, "api_filings": api_filings, "run_id": run.pk}, open(%(out)r, "w"))
print(f"prepare: {len(filers)} amendments open for filing, {len(api_filings)} returns for API filers")
"""


def log(message: str) -> None:
    print(f"[load_bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_flush(url: str) -> None:
    database = url.rsplit("/", 1)[1]
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", database, "FLUSHDB"], check=True,
                   stdout=subprocess.DEVNULL, timeout=30)


def database_reset(create: bool) -> None:
    args = ["-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(["dropdb", *args, "--if-exists", DATABASE_NAME], check=True, timeout=60)
    if create:
        subprocess.run(["createdb", *args, DATABASE_NAME], check=True, timeout=60)


def node_codes() -> list[str]:
    """The ranking's drill-down nodes: every node of the default methodology's tree below the root."""
    document = json.loads((ROOT / "methodology" / "methodologies" / "ccfi-2025.1.json").read_text("utf-8"))
    codes, stack = [], list(document["tree"]["children"])
    while stack:
        node = stack.pop(0)
        if node["type"] == "node":
            codes.append(node["code"])
            stack.extend(node.get("children", []))
    return codes


def prepare(env: dict[str, str], folder: Path) -> Path:
    """migrate, load_demo and open the amendments, with tasks in-process (no broker) and no reports built."""
    prepare_env = {name: value for name, value in env.items()
                   if name not in ("CELERY_BROKER_URL", "CACHE_URL", "DJANGO_ENV", "PROMETHEUS_MULTIPROC_DIR")}
    # The amendments' notification e-mails stay in memory (the console backend would print 60 of them).
    prepare_env.update(REPORTS_BUILD_ON_PUBLISH="false", LOG_LEVEL="WARNING",
                       EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    started = time.monotonic()
    for command in (["migrate", "--noinput", "-v0"], ["load_demo", "--allow-without-debug"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=prepare_env, check=True, timeout=900)
    out = folder / "filers.json"
    subprocess.run([PYTHON, "manage.py", "shell", "-c", PREPARE % {"year": YEAR, "out": str(out)}], cwd=ROOT,
                   env=prepare_env, check=True, timeout=300)
    data = json.loads(out.read_text("utf-8"))
    data.update(year=YEAR, password=PASSWORD, nodes=node_codes(),
                cities=sorted({filing["city"] for filing in data["filers"]}))
    out.write_text(json.dumps(data), "utf-8")
    log(f"prepared in {time.monotonic() - started:.1f} s: {len(data['filers'])} filers, "
        f"{len(data['cities'])} cities, {len(data['nodes'])} drill-down nodes")
    return out


def wait_ready(base: str, server: subprocess.Popen, seconds: float) -> float:
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"serve.sh ended with code {server.returncode} before /readyz answered 200")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise SystemExit(f"/readyz did not answer 200 within {seconds:.0f} s")


def proc_stats():
    """Every process on the machine: (pid, name, the fields of /proc/<pid>/stat after the name, its path), skipping
    one that ends while it is read."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        yield int(entry.name), stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split(), entry


def process_tree(root: int) -> dict[int, tuple[str, int]]:
    """``root`` and its descendants (honcho puts each of its processes in a session of its own, so a process
    group would miss them): pid -> (command line, CPU ticks used so far)."""
    table = {}
    for pid, _name, fields, entry in proc_stats():
        if fields[0] == "Z":
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        table[pid] = (int(fields[1]), command, int(fields[11]) + int(fields[12]))  # ppid, utime+stime
    found, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        if pid in table and pid not in found:
            found[pid] = table[pid][1:]
            frontier.extend(child for child, (parent, _, _) in table.items() if parent == pid)
    return found


def alive(pids) -> list[int]:
    return [pid for pid in pids if _state(pid) not in ("", "Z")]


def _state(pid: int) -> str:
    """The process's state letter, or "" if it is gone (even between two reads)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
    except OSError:
        return ""


def cpu_by_kind(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per kind of process (gunicorn, celery, other) between two group_processes readings."""
    ticks = os.sysconf("SC_CLK_TCK")
    kinds: dict[str, float] = {}
    for pid, (command, used) in after.items():
        kind = "gunicorn" if "gunicorn" in command else "celery" if "celery" in command else "other"
        kinds[kind] = kinds.get(kind, 0.0) + (used - before.get(pid, (command, 0))[1]) / ticks
    return kinds


SERVICES = {"postgres": "postgresql", "redis-server": "redis"}


def service_ticks() -> dict[int, tuple[str, int]]:
    """The machine's PostgreSQL and Redis server processes (the connections' backends and the servers' own):
    pid -> (kind, CPU ticks used so far by it and its ended children: a backend that ended adds its time to the
    postmaster's); the machine is meant to be quiet but for the bench."""
    return {pid: (SERVICES[name], sum(int(value) for value in fields[11:15]))  # utime, stime, reaped children's
            for pid, name, fields, _entry in proc_stats() if name in SERVICES}


def stop(server: subprocess.Popen) -> None:
    """SIGINT to serve.sh (honcho stops every process), then SIGTERM and SIGKILL to whatever of its process tree
    is left, each after a bounded wait; then checks that none of those processes is left."""
    tracked = set(process_tree(server.pid))
    started = time.monotonic()
    for signum, seconds in ((signal.SIGINT, STOP_SECONDS), (signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        targets = alive(tracked)
        if not targets:
            break
        if signum != signal.SIGINT:
            log(f"{len(targets)} processes left; sending {signal.Signals(signum).name} to {targets}")
        for pid in targets if signum != signal.SIGINT else [server.pid]:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + seconds
        while alive(tracked) and time.monotonic() < deadline:
            if server.poll() is None:
                try:
                    server.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
            else:
                time.sleep(0.5)
    if server.poll() is None:
        server.wait(timeout=5)
    left = alive(tracked)
    if left:
        log(f"PROCESSES LEFT: {left}")
    else:
        log(f"production mode stopped in {time.monotonic() - started:.1f} s (serve.sh exit code {server.returncode}); "
            f"none of its {len(tracked)} processes is left")


def report(prefix: Path, seconds: float, locust_cpu: float, server_cpu: dict[str, float]) -> dict:
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    print()
    header = f"{'request':<44} {'requests':>8} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>7}"
    print(header)
    print("-" * len(header))
    summary = {}
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all requests"
        label = f"{row['Type']} {name}" if row["Type"] else name
        print(f"{label[:44]:<44} {row['Request Count']:>8} {row['Failure Count']:>5} "
              f"{float(row['Requests/s']):>7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6} "
              f"{float(row['Max Response Time']):>7.0f}")
        summary[label] = row
    print("(times in ms; locust rounds percentiles above 100 ms to 10 ms)")
    failures = list(csv.DictReader(open(f"{prefix}_failures.csv", encoding="utf-8")))
    for row in failures:
        print(f"FAILURE {row['Method']} {row['Name']}: {row['Error']} × {row['Occurrences']}")
    if not failures:
        print("no failures")
    print(f"CPU over the run ({seconds:.0f} s wall): locust {locust_cpu:.1f} s ({locust_cpu / seconds:.2f} cores), "
          + ", ".join(f"{kind} {used:.1f} s ({used / seconds:.2f} cores)" for kind, used in sorted(server_cpu.items())))
    return summary


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def database_vacuum() -> None:
    """VACUUM ANALYZE the bench's database, as autovacuum keeps a production one: the demo's load and each run's
    saves leave tables without statistics and with dead rows, and a machine's PostgreSQL may run with autovacuum
    off (this workplace's does), where a second run against the same database cost PostgreSQL twice the CPU."""
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DATABASE_NAME, "-X", "-q", "-At"]
    started = time.monotonic()
    subprocess.run([*psql, "-c", "VACUUM (ANALYZE)"], check=True, timeout=600)
    autovacuum = subprocess.run([*psql, "-c", "SHOW autovacuum"], check=True, timeout=60, capture_output=True,
                                text=True).stdout.strip()
    log(f"VACUUM (ANALYZE) of {DATABASE_NAME} in {time.monotonic() - started:.1f} s (the server's autovacuum: "
        f"{autovacuum})")


def run_scenario(args, scenario: str, *, base: str, folder: Path, data: Path, server: subprocess.Popen) -> dict:
    """One locust run of ``scenario`` against the running production mode, and its report."""
    database_vacuum()
    users, default_rps = SCENARIOS[scenario]
    target_rps = args.target_rps or default_rps or 0
    prefix = folder / f"locust-{scenario}"
    command = [args.locust, "-f", str(ROOT / "bench" / "load_locustfile.py"), "--headless",
               "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", args.run_time,
               "--host", base, "--csv", str(prefix), "--only-summary", "--stop-timeout", "10",
               "--loglevel", "WARNING", *users]
    if args.locust_processes > 1:
        command[-len(users):-len(users)] = ["--processes", str(args.locust_processes)]
    locust_env = {**os.environ, "LOAD_BENCH_DATA": str(data), "LOAD_BENCH_FILERS": str(args.filers),
                  "LOAD_BENCH_TARGET_RPS": str(target_rps), "LOAD_BENCH_USERS": str(args.users)}
    log(f"locust ({scenario}): " + " ".join(command))
    load_before = load_average()
    before_server, before_services = process_tree(server.pid), service_ticks()
    before_children = os.times()
    started = time.monotonic()
    locust = subprocess.run(command, env=locust_env, cwd=folder, timeout=3600, stdout=subprocess.DEVNULL,
                            stderr=open(folder / f"locust-{scenario}.log", "wb"))
    seconds = time.monotonic() - started
    after_children = os.times()
    server_cpu = cpu_by_kind(before_server, process_tree(server.pid))
    ticks = os.sysconf("SC_CLK_TCK")
    # All of them after, less all of them before: a backend that ended during the run (Django closes a connection
    # after CONN_MAX_AGE) moved its whole time, before the run too, to the postmaster's; counted per process still
    # running, that earlier part was counted again (a second run showed PostgreSQL at twice the CPU a save).
    for readings, sign in ((service_ticks(), 1), (before_services, -1)):
        for kind, used in readings.values():
            server_cpu[kind] = server_cpu.get(kind, 0.0) + sign * used / ticks
    locust_cpu = (after_children.children_user - before_children.children_user
                  + after_children.children_system - before_children.children_system)
    log(f"locust exit code {locust.returncode} (1: some request failed); scenario {scenario}, "
        f"{args.users} users" + (f", {args.filers} filers" if scenario == "mixed" else
                                 f", paced at {target_rps:.0f} req/s together"))
    summary = report(prefix, seconds, locust_cpu, server_cpu)
    # The machine's load (1, 5, 15 min) before and after: other work on the machine shows here.
    print(f"load average before {load_before}, after {load_average()} ({os.cpu_count()} cores)")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", nargs="+", choices=list(SCENARIOS), default=["mixed"],
                        help="one or more, run one after the other against the same production mode")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=25)
    parser.add_argument("--run-time", default="60s")
    parser.add_argument("--filers", type=int, default=10, help="mixed: filer users among --users (at most 30)")
    parser.add_argument("--target-rps", type=float, default=None,
                        help="paced scenarios: requests/s asked for, all users together (default: the scenario's)")
    parser.add_argument("--locust", default=os.environ.get("LOCUST", "/tmp/locust-venv/bin/locust"))
    parser.add_argument("--locust-processes", type=int, default=1,
                        help="locust's --processes (worker processes of locust itself; 1: none, the plain runner)")
    parser.add_argument("--ready-seconds", type=float, default=180)
    parser.add_argument("--keep", action="store_true", help="keep the database and the temporary folder")
    args = parser.parse_args(argv)
    if not Path(args.locust).exists() and not shutil.which(args.locust):
        raise SystemExit(f"no locust at {args.locust}: see bench/requirements.txt")
    if not 0 < args.filers <= 30:
        raise SystemExit("--filers: 1 to 30 (one demo filer per user)")
    if "api-update" in args.scenario and args.users > 60:
        raise SystemExit("api-update: at most 60 users (one return each)")

    folder = Path(tempfile.mkdtemp(prefix="ccfi-loadbench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "CELERY_BROKER_URL": BROKER_URL, "CACHE_URL": CACHE_URL,
           "SECRET_KEY": secrets.token_urlsafe(48), "ALLOWED_HOSTS": "127.0.0.1", "PORT": str(port),
           "HOST": "127.0.0.1", "DEBUG": "false", "STATIC_ROOT": str(folder / "static"),
           "MEDIA_ROOT": str(folder / "media"), "PROMETHEUS_MULTIPROC_DIR": str(folder / "prometheus"),
           "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false",
           "SECURE_SSL_REDIRECT": "false",
           # Every locust client comes from 127.0.0.1, and the API limits requests per address (anonymous) and per
           # user: production's limits would refuse almost all of them (429), so the bench lifts them (each request
           # is still counted, in one Redis command: ccfi_portal.throttling).
           "API_THROTTLE_ANON": "1000000/s", "API_THROTTLE_USER": "1000000/s"}
    env.pop("CELERY_RESULT_BACKEND", None)
    server = None
    try:
        log(f"database {DATABASE_NAME} (afresh), Redis {BROKER_URL} (broker) and {CACHE_URL} (cache) emptied; "
            f"folder {folder}")
        database_reset(create=True)
        redis_flush(BROKER_URL)
        redis_flush(CACHE_URL)
        data = prepare(env, folder)

        # serve.sh creates the metrics directory only after its migrate, which already writes metrics there.
        (folder / "prometheus").mkdir()
        server_log = open(folder / "serve.log", "wb")
        server = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=ROOT, env=env, stdout=server_log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            ready = wait_ready(base, server, args.ready_seconds)
        except SystemExit:
            lines = (folder / "serve.log").read_text("utf-8", errors="replace").splitlines()
            print("\n".join(["serve.sh's last lines:", *lines[-30:]]), file=sys.stderr)
            raise
        web = sum("gunicorn" in command for command, _ in process_tree(server.pid).values())
        log(f"production mode ready in {ready:.1f} s on {base} ({web} processes naming gunicorn: honcho's shell, "
            f"the master and {env.get('WEB_CONCURRENCY', 'serve.sh')} workers); log {folder / 'serve.log'}")
        for scenario in args.scenario:
            run_scenario(args, scenario, base=base, folder=folder, data=data, server=server)
    finally:
        if server is not None:
            stop(server)
        redis_flush(BROKER_URL)
        redis_flush(CACHE_URL)
        if args.keep:
            log(f"kept: database {DATABASE_NAME}, folder {folder}")
        else:
            database_reset(create=False)
            shutil.rmtree(folder, ignore_errors=True)
            log(f"dropped {DATABASE_NAME}, emptied Redis {BROKER_URL} and {CACHE_URL}, removed {folder}")


if __name__ == "__main__":
    sys.exit(main())
