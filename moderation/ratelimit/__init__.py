"""Rate limits of the submission pipeline: the gate, its Redis script, the in-memory and
SQLite counters and the keys. (Flask-Limiter's per-route limits are wired in
:mod:`moderation.web.limits` on the same storage.)"""

from moderation.ratelimit.admission import Admission, Breach, Check, Key
from moderation.ratelimit.gate import RateGate, gate, init_app
from moderation.ratelimit.keys import private_key
from moderation.ratelimit.sqlite_storage import SQLiteCounters
from moderation.ratelimit.storage import MemoryCounters, is_process_local, storage_settings

__all__ = [
    "Admission",
    "Breach",
    "Check",
    "Key",
    "MemoryCounters",
    "RateGate",
    "SQLiteCounters",
    "gate",
    "init_app",
    "is_process_local",
    "private_key",
    "storage_settings",
]
