"""Schemathesis against the live app: generated requests for every operation of the
OpenAPI document; no 5xx and no answer that breaks the schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings

from tests.helpers import Actions, create_integration
from tests.servers import ServerProcess, fresh_server_env, http_json, service_app, start_server

if TYPE_CHECKING:
    # imported where used: every test process imports this file to collect it, and only
    # the one that runs it needs schemathesis (0.13 s of CPU)
    import schemathesis

pytestmark = [pytest.mark.slow, pytest.mark.database_incidental]


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: str
) -> Iterator[ServerProcess]:
    """One real server with a site and an integration, for the whole module."""
    workdir = tmp_path_factory.mktemp("schemathesis")
    env = fresh_server_env(
        workdir,
        migrated_database,
        LIMIT_SUBMIT_PER_ADDRESS="100000/minute",
        LIMIT_WEBHOOK_PER_INTEGRATION="100000/minute",
        SPAM_MIN_FILL_SECONDS="0",
    )
    server = start_server(workdir, env, args=["--no-deliver"])
    try:
        with service_app(env) as app:
            Actions(app).create_site("blog", ["https://blog.example"])
            create_integration(app, "blog")
        yield server
    finally:
        server.stop()


def operations(url: str) -> list[schemathesis.APIOperation]:
    """Every operation of the live document."""
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_api_conforms_to_its_schema(live_server: ServerProcess) -> None:
    """Bounded generated examples per operation (schemathesis's strategies, driven directly:
    its pytest plugin does not run under pytest 9 yet)."""
    found = operations(live_server.url)
    assert len(found) >= 6
    failures: list[str] = []
    for operation in found:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=live_server.url, timeout=10)

        try:
            check()
        except Exception as error:  # collect all, report together
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)


def test_the_document_is_openapi_31(live_server: ServerProcess) -> None:
    status, _, document = http_json("GET", f"{live_server.url}/api/openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.1")  # type: ignore[index]
    assert set(document["webhooks"]) == {  # type: ignore[index]
        "comment.created",
        "comment.approved",
        "comment.rejected",
        "comment.spam",
        "comment.deleted",
        "person.erased",
    }
    assert "/api/v1/hooks/{integration}" in document["paths"]  # type: ignore[index]
