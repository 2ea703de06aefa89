"""The case list at scale: GET /cases over 100,000 cases on PostgreSQL, 20 clients at once, for the first page,
a committee and status, a party's two-character name and a page 200 deep; and the list as it was before keyset
paging (offset and an exact count(*) on every page, every column, single-column indexes), measured in SQL in the
same run. Prints one JSON line of figures, then a table.

    make bench            (or: python -m bench.case_list [--cases 100000] [--clients 20] [--database-url URL])

It makes a database of its own beside the one the URL names (bench_case_list, dropped at the end), migrated to the
revision before lists by keyset; fills it with COPY; measures the old list there; migrates it to the head (the
migration fills the parties' names and builds the indexes: timed); then starts the API with uvicorn in a process of
its own and measures the new list through HTTP, and in SQL as the old one was. Through HTTP twice: the clients
back to back (each sends its next request the moment it has an answer: the API's saturation), and as 20 staff at
work (each reads a list for 1-4 s before opening the next: what staff logged in at once see).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from core.db import make_engine, session_factory, transaction
from models.migrations import config, upgrade
from models.repo import CASES_ORDER, case_conditions, case_list_query
from models.schemas import CaseListFilters
from models.seed import seed_committees
from models.tables import Case, Committee

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DATABASE = "bench_case_list"
KEYSET_REVISION = "c4f7a9d2e6b1"  # lists by keyset: the bench measures the list before it and at the head
PAGE = 20
DEEP = 200  # the page a deep reader reaches by following next_cursor
# Staff at work read a list before opening the next (the same pause as bench.round_trip's staff at work).
PAUSE_S = (1.0, 4.0)
AT_WORK_REQUESTS = 300

# The two demo committees (models/seed.py) and the other districts of a city-wide installation.
DISTRICTS = ["静安", "长宁", "普陀", "虹口", "杨浦", "闵行", "宝山", "嘉定", "浦东", "金山", "松江", "青浦", "奉贤", "崇明"]
STATUS_WEIGHTS = {"registered": 4, "awaiting_consent": 4, "under_review": 3, "rejected": 3, "in_mediation": 12,
                  "appraisal": 4, "signing": 3, "performance": 4, "settled": 8, "failed": 4, "terminated": 3,
                  "archived": 48}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_ONE = "芳伟敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲兰斌飞红鹏宇浩凯婷雪琳晨阳欣怡"
GIVEN_TWO = ["秀英", "桂英", "小明", "建华", "志强", "海燕", "国强", "丽娟", "晓东", "春梅", "子涵", "一鸣", "思远",
             "雨桐", "浩然", "欣怡", "建国", "玉兰", "文博", "佳怡"]
HOSPITALS = ["人民医院", "中心医院", "中医医院", "妇幼保健院", "第一人民医院", "第六人民医院", "瑞金医院分院",
             "社区卫生服务中心", "口腔医院", "儿童医院"]
SEARCHED = ["王芳", "李伟", "张敏", "刘洋", "陈静", "杨磊", "黄勇", "赵丽", "吴杰", "周涛"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures_of(timings: list[float]) -> dict[str, float]:
    return {"p50": round(pct(timings, 0.5), 1), "p99": round(pct(timings, 0.99), 1), "n": len(timings)}


# ---------------------------------------------------------------- the database ----------------------------
def reachable(admin_url: str) -> str | None:
    """None, or why PostgreSQL cannot be used."""
    try:
        engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                               connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - whatever it is, the bench cannot run
        return str(error).splitlines()[0]
    return None


def recreate(admin_url: str, *, drop_only: bool = False, database: str = DATABASE) -> str:
    """The bench's own database beside the one `admin_url` names, made anew (or only dropped); its URL."""
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        if not drop_only:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{database}"


def committees() -> list[str]:
    return ["huangpu", "xuhui", *(f"bench-{i:02d}" for i in range(len(DISTRICTS)))]


def seed(engine: Engine) -> None:
    with transaction(session_factory(engine)) as session:
        seed_committees(session=session)
        for i, district in enumerate(DISTRICTS):
            session.add(Committee(id=f"bench-{i:02d}", name=f"上海市{district}区医疗纠纷人民调解委员会",
                                  short_name=f"沪{district[0]}", city="上海市"))


def _zipf(items: str | list[str]) -> tuple[list[str], list[float]]:
    return list(items), [1 / (rank + 5) for rank in range(len(items))]


_SURNAMES, _GIVEN_ONE, _GIVEN_TWO = _zipf(SURNAMES), _zipf(GIVEN_ONE), _zipf(GIVEN_TWO)


def _pick(rng: random.Random, weighted: tuple[list[str], list[float]]) -> str:
    return rng.choices(*weighted)[0]


def a_name(rng: random.Random) -> str:
    """Chinese names as they come, common surnames far more often (王 about 6%): mostly two characters (王芳),
    some three (王秀英, 王芳芳), now and then a compound surname."""
    surname = _pick(rng, _SURNAMES)
    roll = rng.random()
    if roll < 0.55:
        return surname + _pick(rng, _GIVEN_ONE)
    if roll < 0.97:
        return surname + (_pick(rng, _GIVEN_TWO) if rng.random() < 0.5 else _pick(rng, _GIVEN_ONE) * 2)
    return rng.choice(["欧阳", "司马", "上官"]) + _pick(rng, _GIVEN_ONE)


def fill(engine: Engine, cases: int, seed_value: int = 7) -> tuple[float, list[str]]:
    """`cases` cases with COPY, spread over the committees, the statuses and three years; some assigned to
    mediators' accounts. Returns the seconds it took and the mediators' ids."""
    rng = random.Random(seed_value)
    ids = committees()
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    mediators = [f"mediator-{i:03d}" for i in range(60)]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = 3 * 365 * 24 * 3600
    columns = ("id", "number", "committee_id", "status", "application_type", "applicant_side", "patient_name",
               "institution_name", "facts", "claim_amount", "requests", "registration", "mediators",
               "agreement_version", "signatures", "search_text", "due_date", "due_provisional", "clock_paused",
               "deadlines", "payment_overdue", "version", "registered_at", "updated_at", "consents", "payments",
               "institution_key")
    began = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        assigned: list[tuple[str, str]] = []
        with cursor.copy(f"COPY cases ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for n in range(cases):
                committee = ids[n % len(ids)] if rng.random() < 0.5 else rng.choice(ids)
                status = rng.choices(statuses, weights)[0]
                patient = a_name(rng)
                hospital = f"上海市{rng.choice(DISTRICTS)}区{rng.choice(HOSPITALS)}"
                registered = start + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))
                case_id = uuid.UUID(int=rng.getrandbits(128)).hex
                number = f"〔{registered.year}〕沪医调字第{n + 1}号"
                facts = f"患者{patient}于{registered:%Y年%m月}在{hospital}就诊，术后出现并发症。患方认为医方存在过错。"
                requests = "要求医方赔偿医疗费、误工费、护理费等各项损失。"
                representatives = [{"name": a_name(rng), "relation": "患者之子", "role": "agent"}] \
                    if rng.random() < 0.3 else []
                registration = {"committee_id": committee, "application_type": "one_side", "applicant_side": "patient",
                                "patient": {"name": patient}, "patient_representatives": representatives,
                                "institution": {"name": hospital}, "facts": facts, "claim_amount": "50000.00",
                                "requests": requests}
                names = [patient, hospital, *(r["name"] for r in representatives)]
                search_text = "\n".join([number, *names, facts, requests]).lower()
                accepted = status not in ("registered", "awaiting_consent", "under_review", "rejected")
                case_mediators = rng.sample(mediators, 1) if accepted else []
                assigned += [(case_id, m) for m in case_mediators]
                due = (registered + timedelta(days=45)).date() if accepted else None
                copy.write_row((
                    case_id, number, committee, status, "one_side", "patient", patient, hospital, facts,
                    Decimal(rng.randrange(1000, 500000)), requests, json.dumps(registration, ensure_ascii=False),
                    json.dumps(case_mediators), 0, "{}", search_text, due, False, False, "[]", False, 1, registered,
                    registered, "[]", "[]", hospital))
        with cursor.copy("COPY case_mediators (case_id, user_id) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in assigned:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - began, mediators


def analyse(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


# ---------------------------------------------------------------- the queries -----------------------------
Statement = tuple[str, dict[str, Any]]  # SQL for psycopg and its parameters


def compiled(engine: Engine, query: Any) -> Statement:
    found = query.compile(dialect=engine.dialect)
    return found.string, dict(found.params)


def old_list(engine: Engine, filters: CaseListFilters, offset: int) -> list[Statement]:
    """GET /cases as it was: the exact count, then every column of a page at an offset — the columns the table had
    then (the database is at the revision before keyset pages; the case has gained columns since)."""
    conditions = case_conditions(filters)
    then = {column["name"] for column in inspect(engine).get_columns(Case.__tablename__)}
    columns = [column for column in Case.__table__.columns if column.name in then]
    return [compiled(engine, select(func.count()).select_from(Case).where(*conditions)),
            compiled(engine, select(*columns).where(*conditions).order_by(col(Case.registered_at).desc(),
                                                                          col(Case.id)).limit(PAGE).offset(offset))]


def new_list(engine: Engine, filters: CaseListFilters, after: tuple[Any, ...] | None) -> list[Statement]:
    """The list by keyset as models/repo.py search_cases asks it (the summary's columns, the page's order)."""
    asked: list[Statement] = []  # what the list asks first (how many names begin so), as it asks it

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        asked.append((statement, dict(parameters)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            build, keyset, _ = case_list_query(session, filters)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return [*asked, compiled(engine, build(after).order_by(*keyset.order_by()).limit(PAGE + 1))]


def in_sql(url: str, variants: list[list[Statement]], *, clients: int, requests: int) -> list[float]:
    """`requests` lists from `clients` connections at once, the variants in turn: the database's part. With
    pgbench (a client in C: what is timed is the database) when it is installed, else from Python threads."""
    if shutil.which("pgbench"):
        return in_pgbench(url, variants, clients=clients, requests=requests)
    return in_threads(url, variants, clients=clients, requests=requests)


def in_pgbench(url: str, variants: list[list[Statement]], *, clients: int, requests: int) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="bench-case-list-") as folder:
        scripts: list[str] = []
        with psycopg.connect(url) as connection:
            cursor = psycopg.ClientCursor(connection)
            for i, statements in enumerate(variants):
                script = Path(folder, f"variant{i}.sql")
                script.write_text("".join(f"{cursor.mogrify(sql, params)};\n" for sql, params in statements))
                scripts += ["-f", str(script)]
        command = ["pgbench", "-n", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
                   "-t", str(max(2, requests // clients + 1)), "-l", f"--log-prefix={folder}/log", *scripts, url]
        subprocess.run(command, check=True, capture_output=True, text=True)
        # each line: client, transaction (from 1), latency in µs...; a connection's first is its warm-up
        rows = [line.split() for log in Path(folder).glob("log*") for line in log.read_text().splitlines()]
        return [int(row[2]) / 1000 for row in rows if row and int(row[1]) > 1]


def in_threads(url: str, variants: list[list[Statement]], *, clients: int, requests: int) -> list[float]:
    timings: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            for sql, params in variants[0]:  # the connection's warm-up, not timed
                connection.execute(sql, params).fetchall()
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                began = time.perf_counter()
                for sql, params in variants[n % len(variants)]:
                    connection.execute(sql, params).fetchall()
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    timings.append(elapsed)

    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    return timings


async def over_http(base: str, variants: list[dict[str, Any]], *, clients: int, requests: int,
                    path: str = "/cases") -> list[float]:
    """`requests` GETs from `clients` clients at once (each sends its next as soon as it has an answer)."""
    timings: list[float] = []
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as api:

        async def client() -> None:
            while (n := next(counter, None)) is not None:
                began = time.perf_counter()
                response = await api.get(path, params=variants[n % len(variants)])
                elapsed = (time.perf_counter() - began) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"GET /cases answered {response.status_code}: {response.text[:300]}")
                timings.append(elapsed)

        await asyncio.gather(*(client() for _ in range(clients)))
    return timings


async def at_work(base: str, lists: dict[str, list[dict[str, Any]]], *, clients: int,
                  requests: int) -> dict[str, list[float]]:
    """`clients` staff at work: each opens a list, reads it for a while (PAUSE_S, seeded) and opens the next, the
    lists in turn; `requests` in all. Each list's timings."""
    names = list(lists)
    timings: dict[str, list[float]] = {name: [] for name in lists}
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as api:

        async def person(pauses: random.Random) -> None:
            while (n := next(counter, None)) is not None:
                await asyncio.sleep(pauses.uniform(*PAUSE_S))
                name = names[n % len(names)]  # each list as often, its variants in turn
                params = lists[name][(n // len(names)) % len(lists[name])]
                began = time.perf_counter()
                response = await api.get("/cases", params=params)
                elapsed = (time.perf_counter() - began) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"GET /cases answered {response.status_code}: {response.text[:300]}")
                timings[name].append(elapsed)

        await asyncio.gather(*(person(random.Random(n)) for n in range(clients)))
    return timings


# ---------------------------------------------------------------- the API ---------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(database_url: str, port: int, workers: int, code: Path | None = None) -> subprocess.Popen[bytes]:
    """The API of this code (or of the code in `code`) on `port`, in processes of its own."""
    code = code or Path(__file__).resolve().parents[1]
    data_dir = tempfile.mkdtemp(prefix="mediation-bench-list-")
    env = {**os.environ, "MEDIATION_DATABASE_URL": database_url, "MEDIATION_DATA_DIR": data_dir,
           "MEDIATION_DEV_MODE": "true", "MEDIATION_LOG_LEVEL": "WARNING", "PYTHONPATH": str(code)}
    launcher = Path(__file__).with_name("api_server.py")  # uvicorn, TCP_NODELAY on (this checkout's, any code)
    command = [sys.executable, "-c", f"import runpy; runpy.run_path({str(launcher)!r}, run_name='__main__')",
               "api.main:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
               # a worker busy under the load is not a dead one; idle clients keep their connection
               "--timeout-worker-healthcheck", "60", "--timeout-keep-alive", "60"]
    process = subprocess.Popen(command, env=env, cwd=code, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
        if process.poll() is not None:
            raise RuntimeError("the API did not start")
    raise RuntimeError("the API did not answer within 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)


def deep_cursors(base: str, count: int) -> list[str]:
    """The cursors of pages DEEP to DEEP + count - 1 of the whole list, reached by following next_cursor."""
    cursors, cursor = [], None
    with httpx.Client(base_url=base, timeout=60) as api:
        for page in range(1, DEEP + count):
            body = api.get("/cases", params={"limit": PAGE, **({"cursor": cursor} if cursor else {})}).json()
            cursor = body["next_cursor"]
            if page >= DEEP - 1:
                cursors.append(cursor)
    return cursors


# ---------------------------------------------------------------- the run ---------------------------------
def main(admin_url: str, cases: int, clients: int, requests: int, workers: int,
         before_code: Path | None = None) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    url = recreate(admin_url)
    engine = make_engine(url, pool_size=clients, max_overflow=0)
    try:
        before = ScriptDirectory.from_config(config()).get_revision(KEYSET_REVISION).down_revision
        upgrade(engine, str(before))
        seed(engine)
        insert_s, mediators = fill(engine, cases)
        analyse(engine)
        rng = random.Random(11)
        statuses = ["in_mediation", "registered", "settled", "archived", "signing"]
        filtered = [CaseListFilters(committee_id=c, status=s) for c in committees()[:4] for s in statuses]
        queries = {  # the four lists the issue names, as the old list answered them
            "first_page": [old_list(engine, CaseListFilters(), 0)],
            "committee_status": [old_list(engine, f, 0) for f in filtered],
            "party_name": [old_list(engine, CaseListFilters(q=name), 0) for name in SEARCHED],
            "deep_page": [old_list(engine, CaseListFilters(), (DEEP - 1 + i) * PAGE) for i in range(10)],
        }
        per_query = max(requests // 4, clients)
        old = {name: in_sql(url, variants, clients=clients, requests=max(per_query // 4, clients))
               for name, variants in queries.items()}
        old_http: dict[str, list[float]] = {}
        if before_code is not None:  # the API as it was, on the database as it was
            port = free_port()
            api = start_api(url, port, workers, before_code)
            base = f"http://127.0.0.1:{port}"
            try:
                before = {
                    "first_page": [{"limit": PAGE}],
                    "committee_status": [{"committee_id": f.committee_id, "status": f.status, "limit": PAGE}
                                         for f in filtered],
                    "party_name": [{"q": name, "limit": PAGE} for name in SEARCHED],
                    "deep_page": [{"limit": PAGE, "offset": (DEEP - 1 + i) * PAGE} for i in range(10)],
                }
                old_http = {name: asyncio.run(over_http(base, variants, clients=clients,
                                                        requests=max(per_query // 4, clients)))
                            for name, variants in before.items()}
            finally:
                stop(api)

        began = time.perf_counter()
        upgrade(engine, "head")  # the migration: the parties' names filled in, the indexes built
        migrate_s = time.perf_counter() - began
        analyse(engine)

        rates: dict[str, int] = {}
        port = free_port()
        api = start_api(url, port, workers)
        base = f"http://127.0.0.1:{port}"
        try:
            cursors = deep_cursors(base, 10)
            http = {
                "first_page": [{"limit": PAGE}],
                "committee_status": [{"committee_id": f.committee_id, "status": f.status, "limit": PAGE}
                                     for f in filtered],
                "party_name": [{"party": name, "limit": PAGE} for name in SEARCHED],
                "deep_page": [{"limit": PAGE, "cursor": c} for c in cursors],
                "mediator": [{"mediator_id": m, "limit": PAGE} for m in rng.sample(mediators, 10)],
            }
            asyncio.run(over_http(base, [v for vs in http.values() for v in vs], clients=clients, requests=200))
            new_http = {}
            for name, variants in http.items():
                began = time.perf_counter()
                new_http[name] = asyncio.run(over_http(base, variants, clients=clients, requests=per_query))
                rates[name] = round(per_query / (time.perf_counter() - began))
            staff = at_work(base, http, clients=clients, requests=AT_WORK_REQUESTS)
            at_work_http = asyncio.run(staff)
            # the floors: what any request costs through the API's middleware and routing, here, and any read
            # of the database (the two committees)
            health = asyncio.run(over_http(base, [{}], clients=clients, requests=per_query, path="/health"))
            small = asyncio.run(over_http(base, [{}], clients=clients, requests=per_query, path="/committees"))
        finally:
            stop(api)
        deep_keys = [CASES_ORDER.decode(c) for c in cursors]
        new_queries = {
            "first_page": [new_list(engine, CaseListFilters(), None)],
            "committee_status": [new_list(engine, f, None) for f in filtered],
            "party_name": [new_list(engine, CaseListFilters(party=name), None) for name in SEARCHED],
            "deep_page": [new_list(engine, CaseListFilters(), key) for key in deep_keys],
        }
        new_sql = {name: in_sql(url, variants, clients=clients, requests=per_query)
                   for name, variants in new_queries.items()}
        with engine.connect() as connection:
            names = connection.execute(text("SELECT count(*) FROM case_party_names")).scalar_one()
            two = connection.execute(text("SELECT count(*) FROM cases WHERE char_length(patient_name) = 2")).scalar_one()
    finally:
        engine.dispose()
        recreate(admin_url, drop_only=True)
    return {
        "cases": cases, "clients": clients, "api_workers": workers, "page": PAGE, "deep_page": DEEP,
        "committees": len(committees()), "two_character_patient_names": two, "party_names": names,
        "api_ms": {name: figures_of(t) for name, t in new_http.items()},
        "api_at_work_pause_s": list(PAUSE_S),
        "api_at_work_ms": {"all": figures_of([t for ts in at_work_http.values() for t in ts]),
                           **{name: figures_of(t) for name, t in at_work_http.items()}},
        "api_requests_per_s": rates, "api_health_ms": figures_of(health), "api_committees_ms": figures_of(small),
        "sql_keyset_ms": {name: figures_of(t) for name, t in new_sql.items()},
        "sql_before_ms": {name: figures_of(t) for name, t in old.items()},
        **({"api_before_ms": {name: figures_of(t) for name, t in old_http.items()}} if old_http else {}),
        "insert_s": round(insert_s, 1), "migration_s": round(migrate_s, 1),
        "sql_client": "pgbench" if shutil.which("pgbench") else "psycopg threads",
        "database": "postgresql", "cpus": os.cpu_count(),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],  # others' work on the machine
    }


def table(figures: dict[str, Any]) -> str:
    def pair(found: dict[str, float] | None) -> str:
        return f"{found['p50']} / {found['p99']}" if found else ""

    lines = [f"{figures['cases']:,} cases, {figures['clients']} clients at once, pages of {figures['page']}, p50 / p99 ms",
             f"{'list':18} {'API':>16} {'SQL':>16} {'SQL before':>18} {'API before':>18}"]
    for name, api in figures["api_ms"].items():
        lines.append(f"{name:18} {pair(api):>16} {pair(figures['sql_keyset_ms'].get(name)):>16}"
                     f" {pair(figures['sql_before_ms'].get(name)):>18}"
                     f" {pair(figures.get('api_before_ms', {}).get(name)):>18}")
    lines.append(f"{'staff at work':18} {pair(figures['api_at_work_ms']['all']):>16}  (the same clients, each "
                 f"reading a list {figures['api_at_work_pause_s'][0]:g}-{figures['api_at_work_pause_s'][1]:g} s "
                 "before the next)")
    floor = figures["api_health_ms"]
    lines.append(f"{'GET /health':18} {pair(floor):>16}  (the same clients: what any request costs here)")
    lines.append(f"{'GET /committees':18} {pair(figures['api_committees_ms']):>16}  (any read of the database: two "
                 "rows)")
    lines.append(f"migration on {figures['cases']:,} cases (names filled in, indexes built): {figures['migration_s']} s")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url",
                        default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or ADMIN_URL,
                        help="a PostgreSQL server's database to connect to as an administrator (the bench makes "
                             f"and drops {DATABASE} beside it)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4000, help="requests over HTTP, in all four lists")
    parser.add_argument("--before-code", type=Path, help="a copy of the code before lists by keyset (git archive "
                        "of its commit): its API is measured too, on the database as it was")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="uvicorn worker processes of the API (default: one per core, at most 4)")
    args = parser.parse_args()
    if args.cases < (DEEP + 10) * PAGE:
        parser.error(f"--cases: at least {(DEEP + 10) * PAGE:,}, so that page {DEEP} and the ten after it exist")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: the API and the database go too
    why = reachable(args.database_url)
    if why is not None:
        print(json.dumps({"bench": "case_list", "skipped": f"PostgreSQL unreachable at {args.database_url}: {why}"}))
        print(f"bench.case_list skipped: PostgreSQL is unreachable at {args.database_url} ({why}); give one with "
              "--database-url postgresql://user@host:port/db")
        sys.exit(0)
    result = main(args.database_url, args.cases, args.clients, args.requests, args.workers, args.before_code)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    print(table(result), flush=True)
