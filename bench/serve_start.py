"""CPU of one ``moderation serve`` start and stop as the tests start it (issue 13): user+sys
of the server and every process under it (``RUSAGE_CHILDREN``), per checkout, the starts
interleaved between checkouts so the machine's load falls on each alike. Four cases: a
fresh instance (the server migrates) or a copy of a migrated SQLite database (the tests'
``fresh_server_env(tmp_path, migrated_database)``), each with the delivery worker and with
``--no-deliver``. Prints the median and range of N runs per case and checkout.

    .venv/bin/python bench/serve_start.py N TREE [TREE ...]

Each TREE is a source checkout (``git archive`` of a commit, or a worktree), put first on
the server's ``PYTHONPATH``; this checkout's venv and tests/servers.py run them all. Run
with PYTHONDONTWRITEBYTECODE unset (as scripts/test.sh does): otherwise every start
compiles the package again.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation import create_app
from moderation.extensions import db
from tests.databases import BASE_CONFIG, migrate
from tests.servers import fresh_server_env, start_server

CASES = [
    ("fresh", []),
    ("fresh", ["--no-deliver"]),
    ("migrated", []),
    ("migrated", ["--no-deliver"]),
]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def migrated_template(folder: Path) -> str:
    """A migrated, empty SQLite database, as the tests' ``migrated_database`` fixture makes."""
    url = f"sqlite:///{folder / 'template.db'}"
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url}, instance_path=str(folder / "i"))
    migrate(app)
    with app.app_context():
        db.engine.dispose()
    return url


def one_start(tree: str, kind: str, args: list[str], template: str) -> float:
    """CPU of one start (until /healthz answers) and stop (SIGTERM, waited for)."""
    workdir = Path(tempfile.mkdtemp(prefix="serve-start-"))
    try:
        env = fresh_server_env(workdir, template if kind == "migrated" else "")
        env["PYTHONPATH"] = tree
        before = children_cpu()
        server = start_server(workdir, env, args=list(args))
        server.stop()
        return children_cpu() - before
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    runs, trees = int(sys.argv[1]), [str(Path(tree).resolve()) for tree in sys.argv[2:]]
    with tempfile.TemporaryDirectory() as scratch:
        template = migrated_template(Path(scratch))
        results: dict[tuple[str, str, str], list[float]] = {}
        for _ in range(runs):
            for kind, args in CASES:
                for tree in trees:
                    key = (kind, " ".join(args) or "(deliver)", tree)
                    results.setdefault(key, []).append(one_start(tree, kind, args, template))
    for (kind, args, tree), values in results.items():
        print(
            f"{kind:9} {args:13} {tree}: median {statistics.median(values):.2f} s "
            f"({min(values):.2f}-{max(values):.2f}, n={len(values)})"
        )


if __name__ == "__main__":
    main()
