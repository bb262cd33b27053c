"""CPU of the ``moderation`` command's starts (issue 13): user+sys of each subprocess
(``RUSAGE_CHILDREN``), run N times per checkout, interleaved between the checkouts; prints
the median and the range. Each ROOT is a checkout with its venv in ROOT/.venv; SQLite
instances in temporary folders. ONLY=WORD runs the cases whose name holds WORD.

    python3 bench/startup_cpu.py N ROOT [ROOT ...]
"""

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

N = int(sys.argv[1])
roots = sys.argv[2:]


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def env_for(inst):
    return dict(
        os.environ,
        MODERATION_INSTANCE_PATH=inst,
        MODERATION_DATABASE_URL=f"sqlite:///{inst}/db.sqlite",
        MODERATION_SECRET_KEY="benchmark-secret-key-not-for-production",  # noqa: S106
        MODERATION_RATELIMIT_STORAGE_URI="memory://",
    )


def run(cmd, env):
    start = cpu()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return cpu() - start


def serve(root, port, *extra):
    inst = tempfile.mkdtemp(prefix="startup-serve-")
    os.chmod(inst, 0o700)
    start = cpu()
    p = subprocess.Popen(
        [f"{root}/.venv/bin/moderation", "serve", "--port", str(port), *extra],
        env=env_for(inst),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except Exception:
            time.sleep(0.05)
    p.terminate()
    p.wait()
    shutil.rmtree(inst)
    return cpu() - start


prepared = {}
for root in roots:
    inst = tempfile.mkdtemp(prefix="startup-cli-")
    os.chmod(inst, 0o700)
    subprocess.run(
        [f"{root}/.venv/bin/moderation", "db", "upgrade"],
        env=env_for(inst),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        [
            f"{root}/.venv/bin/moderation",
            "sites",
            "create",
            "blog",
            "--name",
            "Blog",
            "--origin",
            "https://blog.example",
        ],
        env=env_for(inst),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    prepared[root] = inst
cases = {
    "import moderation.cli": lambda r: run(
        [f"{r}/.venv/bin/python", "-c", "import moderation.cli"], env_for(prepared[r])
    ),
    "moderation --help": lambda r: run(
        [f"{r}/.venv/bin/moderation", "--help"], env_for(prepared[r])
    ),
    "moderation sites list": lambda r: run(
        [f"{r}/.venv/bin/moderation", "sites", "list"], env_for(prepared[r])
    ),
    "serve --no-deliver (fresh SQLite) to /healthz, stop": lambda r: serve(r, 8095, "--no-deliver"),
    "serve (fresh SQLite, delivery worker) to /healthz, stop": lambda r: serve(r, 8096),
}
only = os.environ.get("ONLY")
results = {(c, r): [] for c in cases for r in roots}
for i in range(N):
    for case, fn in cases.items():
        if only and only not in case:
            continue
        for root in roots if i % 2 == 0 else roots[::-1]:
            results[(case, root)].append(fn(root))
for (case, root), values in results.items():
    if values:
        print(
            f"{case:42s} {root:25s} median {statistics.median(values):.3f} s  ({min(values):.3f}-{max(values):.3f}, n={len(values)})"
        )
