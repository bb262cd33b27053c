"""Faults under load: (a) kill -9 of a server process, (b) PostgreSQL restarted, (c) Redis
stopped, (d) the webhook receiver down for a while. Each runs the same 32 clients as the
load test and then holds the database against every answer the clients got.

PostgreSQL and Redis are private instances of the module (never the shared ones on the
standard ports), and so are the two server processes of the first three: each test starts
any an earlier one left dead again, and holds only what it stored and logged against its
clients' answers. Longer, repeated faults: ``scripts/soak.sh``.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from moderation.ratelimit import RateGate
from tests.helpers import create_integration
from tests.private_services import (
    PrivatePostgres,
    PrivateRedis,
    private_postgres,
    private_redis,
)
from tests.servers import http_json, service_app
from tests.system_harness import (
    ONCE_PER_CI,
    SATURATION_LEAD,
    SCALES,
    SOAK,
    TRACEBACK,
    LoadRun,
    Scale,
    ServerSet,
    fault_windows,
    outage_answers,
    run_with_schedule,
    server_env,
)
from tests.system_ledger import (
    assert_nothing_lost,
    explain,
    last_comment_id,
    log_findings,
    report,
    sqlite_url,
    stored_comments,
    verify,
)
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.slow, ONCE_PER_CI]

#: After the database is back, requests may still fail this long (pooled connections
#: being replaced); after it, every answer must be a success again.
RECOVERY_GRACE = 2.5


@pytest.fixture(scope="module")
def postgres_cluster() -> Iterator[PrivatePostgres]:
    """One private cluster for the module (initdb and a start cost seconds); each test
    has a database of its own in it."""
    with private_postgres() as cluster:
        yield cluster


@pytest.fixture
def postgres(postgres_cluster: PrivatePostgres) -> PrivatePostgres:
    """The module's cluster, running (a test that stopped it and failed may have left it so)."""
    if not postgres_cluster.running():
        postgres_cluster.start()
    return postgres_cluster


@pytest.fixture(scope="module")
def redis_of_the_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_server(redis_of_the_module: PrivateRedis) -> PrivateRedis:
    """The module's Redis, running and empty: no limit counted by an earlier test."""
    if redis_of_the_module.process is None:  # stopped by a test that failed
        redis_of_the_module.start()
    redis_of_the_module.flush()
    return redis_of_the_module


def pair_settings(scale: Scale) -> dict[str, str]:
    """What the module's servers run with, for every fault. Site settings are cached 5 s
    by default, 1 s in the short run (the PostgreSQL stop outlives the cache either way).
    5 comments an hour per email: the load never reaches it (one email per comment), the
    Redis test's probe sending 7 from one email does, in process memory while Redis is
    away (an hour, not a minute: a sliding window that turns over during a slow probe may
    rightly let a sixth through once the five weigh less than four)."""
    staleness = 5.0 if scale is SOAK else 1.0
    return {"SITE_SETTINGS_STALENESS": f"{staleness:g}", "LIMIT_SUBMIT_PER_EMAIL": "5/hour"}


@dataclass
class Pair:
    """Two server processes and their database; ``after_id``: the last comment stored
    before the current test (the ledger holds the test's answers against the rest)."""

    servers: ServerSet
    database_url: str
    after_id: int = 0


@pytest.fixture(scope="module")
def pairs(
    postgres_cluster: PrivatePostgres, redis_of_the_module: PrivateRedis
) -> Iterator[dict[Scale, Pair]]:
    """The module's server pairs (one per scale), stopped at the end of the module, before
    the PostgreSQL and Redis they use."""
    started: dict[Scale, Pair] = {}
    try:
        yield started
    finally:
        for pair in started.values():
            pair.servers.close()


@pytest.fixture
def scaled_out(
    pairs: dict[Scale, Pair],
    postgres: PrivatePostgres,
    redis_server: PrivateRedis,
    scale: Scale,
    tmp_path_factory: pytest.TempPathFactory,
) -> Pair:
    """Two server processes on the private PostgreSQL and Redis, without delivery workers
    (no integration is created, they would have nothing to send), shared by the module's
    tests (each start costs a second and a half of CPU): started by the first test, then
    for each test any process an earlier one left dead started again, the logs and the
    ledger from this test on."""
    if scale not in pairs:
        folder = tmp_path_factory.mktemp("servers")
        database_url = postgres.create_database(f"faults_{uuid.uuid4().hex[:8]}")
        env = server_env(
            folder / "instance", database_url, redis_server.url, **pair_settings(scale)
        )
        args = ["--workers", "1", "--threads", "8", "--no-deliver"]
        servers = ServerSet(folder, env, args)
        pairs[scale] = Pair(servers, database_url)
        servers.start(2)
    pair = pairs[scale]
    pair.servers.begin()
    pair.after_id = last_comment_id(pair.database_url)
    return pair


def all_healthy(servers: ServerSet) -> list[int]:
    return [http_json("GET", f"{url}/healthz", timeout=10)[0] for url in servers.urls]


@pytest.mark.parametrize("scale", SCALES)
def test_kill_9_of_a_server_process_mid_load(
    request: pytest.FixtureRequest, scaled_out: Pair, scale: Scale
) -> None:
    servers = scaled_out.servers
    run = LoadRun(servers.urls, scale.clients, scale.fault_seconds)
    windows = fault_windows(scale.fault_seconds, scale.fault_cycles, 0.3, 0.6)

    def kill(victim: int) -> None:
        servers.kill(victim)  # every thread of both servers busy (clients in flight)
        run.calm(scale.calm_pause)  # the survivor serves, the victim starts again

    actions = []
    for cycle, (kill_at, restart_at) in enumerate(windows):
        victim = cycle % 2
        actions.append((kill_at - SATURATION_LEAD, f"saturate{cycle}", run.saturate))
        actions.append((kill_at, f"kill{cycle}", lambda v=victim: kill(v)))
        actions.append((restart_at, f"restart{cycle}", lambda v=victim: servers.replace(v)))
    marks = run_with_schedule(run, actions)
    counts = verify(run, scaled_out.database_url, scaled_out.after_id)
    logs = servers.logs()

    posts = run.posts()
    acked_before = sum(a.ok for a in posts if a.ended < marks["kill0:start"])
    acked_after = sum(a.ok for a in posts if a.started > marks["kill0"])
    outages = [
        (cycle % 2, marks[f"kill{cycle}:start"], marks[f"restart{cycle}"])
        for cycle in range(len(windows))
    ]
    survivor_acked_while_down = [
        sum(a.ok for a in posts if a.server != victim and down <= a.started and a.ended <= up)
        for victim, down, up in outages
    ]
    # connection errors belong to a killed process, while it was down (or in flight)
    errors_elsewhere = [
        a.describe()
        for a in run.attempts
        if a.status is None
        and not any(
            a.server == victim and down - 0.1 <= a.ended and a.started <= up
            for victim, down, up in outages
        )
    ]
    report(
        request.config,
        f"fault kill -9 ({len(windows)}x), 2 processes, {scale.clients} clients",
        counts,
        acked_before_kill=acked_before,
        acked_after_kill=acked_after,
        survivor_acked_while_victim_down=survivor_acked_while_down,
        **log_findings(logs),
    )
    message = explain(counts, logs)
    assert_nothing_lost(counts, logs)
    assert counts.http_5xx == 0, message
    # the killed process's clients saw connection errors, not answers
    assert counts.connection_errors > 0, message
    # ... and only they did: the other process kept serving all along
    assert errors_elsewhere == [], "\n".join(errors_elsewhere[:10])
    assert min(survivor_acked_while_down) > 0, survivor_acked_while_down
    assert acked_before > 0 and acked_after > 0
    # the restarted process serves again
    assert all_healthy(servers) == [200, 200]


@pytest.mark.parametrize("scale", SCALES)
def test_postgresql_restarted_mid_load(
    request: pytest.FixtureRequest,
    scaled_out: Pair,
    postgres: PrivatePostgres,
    redis_server: PrivateRedis,
    scale: Scale,
) -> None:
    """Twice per cycle: stopped for several seconds then started (longer than any
    per-process cache of settings lives), and restarted at once (``pg_ctl restart -m
    fast``: every pooled connection dies while the server is already back)."""
    servers = scaled_out.servers
    staleness = float(pair_settings(scale)["SITE_SETTINGS_STALENESS"])
    downtime = max(staleness + 1.0, 2.5)
    # a cycle holds the stop, the restart, and after each the grace and then a stretch
    # in which every answer must be a success: 17 s at the least with the default cache
    period = max(
        scale.fault_seconds * 1.25 / scale.fault_cycles,
        downtime + 2 * (RECOVERY_GRACE + 1.5) + 3.0,
    )
    seconds = period * scale.fault_cycles
    run = LoadRun(servers.urls, scale.clients, seconds)
    windows = fault_windows(seconds, scale.fault_cycles, 0.06, 0.68)
    door_statuses: list[dict[str, int | None]] = []
    door_problems: list[str] = []

    def ask_every_door() -> None:
        for url in servers.urls:
            statuses, problems = outage_answers(url)
            door_statuses.append(statuses)
            door_problems.extend(problems)

    back: list[float] = []

    def stop_postgres() -> None:
        run.seconds += HOLD  # the load goes on until the restart is over
        postgres.stop("fast")  # cut under saturation: transactions in flight
        run.calm(scale.calm_pause)

    def start_postgres() -> None:
        postgres.start()
        back.append(run.now())

    def settle() -> None:
        # before the restart, a stretch in which every answer must be a success, however
        # long the start took (pg_ctl waits until the server accepts connections); its
        # end at full speed, so the restart cuts transactions in flight (saturate waits
        # SATURATION_LEAD for it after a calm)
        lead = SATURATION_LEAD if run.pause else 0.0
        time.sleep(max(0.0, back[-1] + RECOVERY_GRACE + 1.5 - lead - run.now()))
        run.saturate()

    def restart_postgres() -> None:
        postgres.restart()
        run.calm(scale.calm_pause)
        run.seconds = max(run.seconds - HOLD, run.now() + RECOVERY_GRACE + 1.5)

    actions = []
    outages = []  # (the mark when it went away, the mark when it was back)
    for cycle, (stop_at, restart_at) in enumerate(windows):
        actions.append((stop_at - SATURATION_LEAD, f"saturate{cycle}", run.saturate))
        actions.append((stop_at, f"stop{cycle}", stop_postgres))
        actions.append((stop_at + 1.0, f"doors{cycle}", ask_every_door))
        actions.append((stop_at + downtime - 0.7, f"doors-later{cycle}", ask_every_door))
        actions.append((stop_at + downtime, f"start{cycle}", start_postgres))
        actions.append((restart_at - 0.01, f"settle{cycle}", settle))
        actions.append((restart_at, f"restart{cycle}", restart_postgres))
        outages += [(f"stop{cycle}:start", f"start{cycle}")]
        outages += [(f"restart{cycle}:start", f"restart{cycle}")]
    marks = run_with_schedule(run, actions)
    counts = verify(run, scaled_out.database_url, scaled_out.after_id)
    logs = servers.logs()

    unavailable = [a for a in run.attempts if a.status == 503]
    badly_answered = [
        a.describe()
        for a in unavailable
        if not a.retry_after or "problem+json" not in a.content_type or TRACEBACK in a.body
    ]
    failing_after_recovery = []
    recovery_seconds = []
    for number, (_, up) in enumerate(outages):
        back = marks[up]
        following = outages[number + 1][0] if number + 1 < len(outages) else None
        next_fault = marks[following] if following else run.seconds + 60
        failing_after_recovery += [
            a.describe()
            for a in run.attempts
            if back + RECOVERY_GRACE <= a.started and a.ended < next_fault and not a.ok
        ]
        for server in range(2):
            first = min(
                (a.ended for a in run.posts() if a.ok and a.server == server and a.started >= back),
                default=None,
            )
            recovery_seconds.append(round(first - back, 2) if first is not None else None)
    report(
        request.config,
        f"fault PostgreSQL stop {downtime:g}s + start, and restart -m fast "
        f"({len(windows)}x each), 2 processes, {scale.clients} clients",
        counts,
        recovery_seconds_per_server=recovery_seconds,
        doors_while_down=door_statuses[0],
        doors_later_while_down=door_statuses[len(servers.urls)],
        **log_findings(logs),
    )
    message = explain(counts, logs)
    assert_nothing_lost(counts, logs)
    # while the database was away: 503 with Retry-After, never a 500 nor a traceback
    assert counts.http_5xx == counts.http_503 > 0, message
    assert badly_answered == [], "\n".join(badly_answered[:10])
    # every other door too: reads, the form, health, the dashboard
    assert door_problems == [], "\n".join(door_problems)
    assert counts.connection_errors == 0, message
    # and the service recovered by itself, each time
    assert None not in recovery_seconds, message
    assert failing_after_recovery == [], "\n".join(failing_after_recovery[:10])
    assert all_healthy(servers) == [200, 200]


@pytest.mark.parametrize("scale", SCALES)
def test_redis_stopped_mid_load(
    request: pytest.FixtureRequest,
    scaled_out: Pair,
    postgres: PrivatePostgres,
    redis_server: PrivateRedis,
    scale: Scale,
) -> None:
    # the limit of 5 comments an hour per email: see pair_settings
    servers = scaled_out.servers
    probes: list[list[tuple[int | None, str | None]]] = []
    door_problems: list[str] = []

    def stop_redis_and_probe(cycle: int) -> None:
        run.seconds += HOLD  # the load goes on until Redis is back (start_redis ends it)
        # under saturation, all along the outage (both processes must keep serving it,
        # however long each takes to find Redis gone): requests counting in Redis in flight
        redis_server.stop()
        statuses = []
        for number in range(7):
            attempt = run.submit(
                0,
                1000 + cycle,
                number,
                email=f"probe{cycle}.{run.run_id}@example.com",
                address=f"198.51.100.{1 + cycle % 250}",
                probe=True,
            )
            statuses.append((attempt.status, attempt.retry_after))
        probes.append(statuses)
        for url in servers.urls:
            answers, problems = outage_answers(url)
            door_problems.extend(problems)
            door_problems.extend(f"{door}: {n}" for door, n in answers.items() if n and n >= 500)

    def start_redis() -> None:
        redis_server.start()
        run.calm(scale.calm_pause)
        run.seconds -= HOLD  # the load ends as planned; the return to Redis is seen after it

    run = LoadRun(servers.urls, scale.clients, scale.fault_seconds)
    windows = fault_windows(scale.fault_seconds, scale.fault_cycles, 0.2, 0.5)
    actions = []
    for cycle, (stop_at, start_at) in enumerate(windows):
        actions.append((stop_at - SATURATION_LEAD, f"saturate{cycle}", run.saturate))
        actions.append((stop_at, f"redis-stop{cycle}", lambda c=cycle: stop_redis_and_probe(c)))
        actions.append((start_at, f"redis-start{cycle}", start_redis))
    marks = run_with_schedule(run, actions)
    back_on_redis = counted_in_redis_again(run, redis_server)
    counts = verify(run, scaled_out.database_url, scaled_out.after_id)
    logs = servers.logs()
    keys_after_return = redis_server.key_count()

    acked_while_down = [
        sum(
            a.ok
            for a in run.posts()
            if a.server == server
            and marks["redis-stop0:start"] <= a.started
            and a.ended <= marks["redis-start0:start"]
            and not a.probe
        )
        for server in range(2)
    ]
    report(
        request.config,
        f"fault Redis stopped ({len(windows)}x), 2 processes, {scale.clients} clients",
        counts,
        acked_per_server_while_redis_down=acked_while_down,
        probe_statuses=[[status for status, _ in probe] for probe in probes],
        redis_keys_after_return=keys_after_return,
        back_on_redis=back_on_redis,
        **log_findings(logs),
    )
    message = explain(counts, logs)
    assert_nothing_lost(counts, logs)
    # the service kept answering, and answered well
    assert counts.http_5xx == 0, message
    assert counts.connection_errors == 0, message
    assert counts.refused == 0, message
    assert min(acked_while_down) > 0, acked_while_down
    assert door_problems == [], "\n".join(door_problems)
    # limits went on in process memory (as documented), with Retry-After on refusals
    for probe in probes:
        assert [status for status, _ in probe] == [202] * 5 + [429] * 2, probe
        assert all(retry for status, retry in probe if status == 429), probe
    assert counts.limited == 2 * len(probes), message
    assert "rate-limit storage unreachable" in logs
    # and each process went back to Redis once it returned
    assert back_on_redis == [True, True]


#: How long a fault may hold a run open past its planned end (its action ends the hold).
HOLD = 60.0


def counted_in_redis_again(run: LoadRun, redis_server: PrivateRedis) -> list[bool]:
    """Whether each server counts its limits in Redis again: a process that found Redis
    away tries it again RateGate.RECHECK_SECONDS later, so each is sent a comment every
    quarter second until one adds counters to Redis (the new email's), a few seconds at
    most. (The load itself has ended: seconds of it would cost more than these waits.)"""
    deadline = time.monotonic() + RateGate.RECHECK_SECONDS + 10
    back = []
    number = 0
    for server in range(len(run.urls)):
        while True:
            before = redis_server.key_count()
            attempt = run.submit(server, 2000 + server, number)
            number += 1
            if attempt.ok and redis_server.key_count() > before:
                back.append(True)
                break
            if time.monotonic() > deadline:
                back.append(False)
                break
            time.sleep(0.25)
    return back


def wait_until(condition: Callable[[], object], failure: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)


def outbox_states(database_url: str) -> tuple[Counter[str], set[str], int]:
    """States of the outbox, its message ids, and attempts that reached nobody."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT state, message_id FROM outbox")).all()
            unreached = connection.execute(
                text("SELECT count(*) FROM delivery_attempts WHERE status_code IS NULL")
            ).scalar_one()
    finally:
        engine.dispose()
    return Counter(str(row[0]) for row in rows), {str(row[1]) for row in rows}, int(unreached)


@pytest.mark.parametrize("scale", SCALES)
def test_webhook_receiver_down_for_a_while(
    tmp_path: Path, request: pytest.FixtureRequest, scale: Scale
) -> None:
    instance = tmp_path / "instance"
    database_url = sqlite_url(instance)
    env = server_env(
        instance,
        "",
        "memory://",
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
        WEBHOOK_BACKOFF_BASE="0.2",
        WEBHOOK_MAX_ATTEMPTS="30",
    )
    receiver = Receiver(secret="").start()
    clients = scale.clients
    try:
        # the embedded default: one process, its own delivery worker beside it
        with ServerSet(tmp_path, env, ["--workers", "1", "--threads", "8"]) as servers:
            servers.start(1)
            with service_app(env) as app:
                _, receiver.secret = create_integration(
                    app, "blog", receiver.url, ("comment.created",), name="R"
                )
            # the worker starts beside the server, and may still be starting: the receiver
            # goes down while deliveries flow, not before the first one is tried
            servers.processes[0].wait_for_output("webhook delivery worker started")
            run = LoadRun(servers.urls, clients, scale.fault_seconds)
            windows = fault_windows(scale.fault_seconds, scale.fault_cycles, 0.2, 0.55)

            def receiver_down() -> None:
                run.seconds += HOLD  # the load goes on until the receiver is back
                wait_until(lambda: receiver.accepted, "no delivery reached the receiver")
                receiver.stop()  # with comments flowing at full speed
                run.calm(scale.calm_pause)  # events pile up in the outbox meanwhile

            def receiver_up() -> None:
                # back once a delivery found it down (at once, on any but a busy machine)
                wait_until(lambda: outbox_states(database_url)[2], "no attempt found it down")
                receiver.start()
                run.seconds = max(run.seconds - HOLD, run.now() + 1)

            actions = []
            for cycle, (down_at, up_at) in enumerate(windows):
                actions.append((down_at - SATURATION_LEAD, f"saturate{cycle}", run.saturate))
                actions.append((down_at, f"receiver-down{cycle}", receiver_down))
                actions.append((up_at, f"receiver-up{cycle}", receiver_up))
            run_with_schedule(run, actions)

            # every event arrives once the receiver is back (bounded wait)
            deadline = time.monotonic() + max(60.0, scale.fault_seconds * 2)
            states, message_ids, unreached = outbox_states(database_url)
            while states.get("pending", 0) and time.monotonic() < deadline:
                time.sleep(0.25)
                states, message_ids, unreached = outbox_states(database_url)
            counts = verify(run, database_url)
            logs = servers.logs()
            stored_ids = {row["id"] for row in stored_comments(database_url)}
    finally:
        receiver.stop()

    accepted = receiver.accepted_ids()
    payload_ids = Counter(payload["data"]["id"] for payload in receiver.payloads())
    report(
        request.config,
        f"fault webhook receiver down ({len(windows)}x), SQLite, {clients} clients",
        counts,
        outbox=dict(states),
        events_accepted=len(accepted),
        accepted_more_than_once=sum(n > 1 for n in accepted.values()),
        attempts_unreached=unreached,
        refused_signatures=receiver.refused_signatures,
        **log_findings(logs),
    )
    message = explain(counts, logs)
    assert_nothing_lost(counts, logs)
    assert counts.http_5xx == 0 and counts.connection_errors == 0, message
    assert unreached > 0, "the receiver was never found down: the fault did not happen"
    assert dict(states) == {"delivered": counts.stored}, states
    # each event accepted exactly once, none missing, one per stored comment
    assert set(accepted) == message_ids
    assert set(accepted.values()) == {1}, [m for m, n in accepted.items() if n > 1][:10]
    assert set(payload_ids) == stored_ids
    assert receiver.refused_signatures == 0
