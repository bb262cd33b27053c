"""The README is the front door: every setting is documented there with its default."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation.config import DEFAULTS

pytestmark = pytest.mark.any_database

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_setting_is_documented(name: str) -> None:
    assert f"| `{name}` |" in README, f"{name} is missing from the README's configuration table"


def test_the_two_commands_are_there() -> None:
    assert "./scripts/serve.sh" in README
    assert "./scripts/test.sh" in README
