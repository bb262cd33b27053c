"""The README is the front door: every setting is documented there with its default, and
its Development section draws every folder of the repository (issue 13), no more, no less."""

from __future__ import annotations

import shutil
import subprocess
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


#: Folders the drawing names by their parent's line (one folder per language).
DRAWN_BY_THEIR_PARENT = ("moderation/translations/",)


def drawn_folders() -> set[str]:
    """The folders the Development section draws, one line each (two spaces a level; a
    line may name a folder and its child, as ``templates/dashboard/``)."""
    section = README.split("\n## Development\n", 1)[1]
    drawing = section.split("```\n", 2)[1]
    folders: set[str] = set()
    parents: list[str] = []
    for line in drawing.splitlines():
        name = line.split()[0]
        depth = (len(line) - len(line.lstrip(" "))) // 2
        if not name.endswith("/"):
            continue  # the package's own modules (*.py)
        parents[depth:] = [name.rstrip("/")]
        path = "/".join(parents)
        folders.update("/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 2))
    return folders


def tracked_folders() -> set[str]:
    """Every folder of the repository holding a tracked file (and the folders above it)."""
    root = Path(__file__).resolve().parent.parent
    listed = subprocess.run(
        ["git", "ls-files"], cwd=root, capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    folders: set[str] = set()
    for file in listed:
        parts = file.split("/")[:-1]
        folders.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
    return {
        folder
        for folder in folders
        if not any(folder.startswith(parent) for parent in DRAWN_BY_THEIR_PARENT)
    }


@pytest.mark.skipif(
    not (Path(__file__).resolve().parent.parent / ".git").exists() or not shutil.which("git"),
    reason="not a git checkout",
)
def test_the_development_section_draws_every_folder() -> None:
    drawn, tracked = drawn_folders(), tracked_folders()
    assert sorted(tracked - drawn) == [], "folders the README does not draw"
    assert sorted(drawn - tracked) == [], "folders the README draws that are not there"
