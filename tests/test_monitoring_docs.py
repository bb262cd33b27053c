"""The dashboard and the alert rules in docs/monitoring use only metrics the service
exposes, and every metric the service exposes is documented."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

DOCS = Path(__file__).resolve().parent.parent / "docs" / "monitoring"
SUFFIXES = re.compile(r"_(total|bucket|count|sum|created)$")


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"METRICS_TOKEN": "docs"}


def exposed(client: FlaskClient) -> set[str]:
    text = client.get("/metrics", headers={"Authorization": "Bearer docs"}).get_data(as_text=True)
    return {
        SUFFIXES.sub("", family.name) for family in text_string_to_metric_families(text)
        if family.name.startswith("moderation_")
    }  # fmt: skip


def used_in(text: str) -> set[str]:
    return {SUFFIXES.sub("", name) for name in re.findall(r"\bmoderation_[a-z_]+", text)}


def test_dashboard_and_alerts_use_only_exposed_metrics(client: FlaskClient) -> None:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    expressions = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    rules = yaml.safe_load((DOCS / "alerts.yml").read_text())
    alerts = " ".join(rule["expr"] for group in rules["groups"] for rule in group["rules"])
    names = exposed(client)
    assert used_in(expressions) <= names, used_in(expressions) - names
    assert used_in(alerts) <= names, used_in(alerts) - names
    documented = used_in((DOCS / "README.md").read_text())
    assert names <= documented, names - documented
