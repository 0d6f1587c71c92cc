"""Log levels shared by every worker process of the demo shop.

Gunicorn runs the demo in several worker processes; a level changed through one of them
must be in force in all of them. The levels live in a small JSON file,
``<state dir>/log-levels.json``::

    {"version": 1, "levels": {"demo_shop.checkout": "DEBUG"}, "updated_by_pid": 4242}

Writers take an exclusive ``fcntl.flock`` on ``log-levels.json.lock``, read the file,
change it, and publish it atomically (temporary file, fsync, ``os.replace``). Each
published file gets an mtime strictly greater than the one it replaces, so the cheap
change check that readers do — ``(st_ino, st_mtime_ns, st_size)`` of the file — cannot
miss a write even when two writes land within one tick of the filesystem clock.

Readers (every worker, at the start of each request and from a background thread every
0.25 s) compare that signature with the last one they applied and, when it moved, read the
file and apply it: ``setLevel`` on every logger named in the file, and back to the
logger's own level (``NOTSET`` — inherit — for module loggers) for every logger that was
overridden before and no longer is.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
"""Level names that may be set (input is case-insensitive)."""

_NUMERIC = {name: logging.getLevelNamesMapping()[name] for name in LEVELS}

MAX_OVERRIDES = 256
"""At most this many loggers may be overridden at once (keeps the shared file small)."""

FILE_NAME = "log-levels.json"

log = logging.getLogger("demo_shop.levels")

Signature = tuple[int, int, int]


def effective_level_name(logger: logging.Logger) -> str:
    """The effective level of ``logger`` as one of :data:`LEVELS`.

    A numeric level between two named ones is reported as the next named level up: a
    logger at 15 emits INFO and above, so it answers ``INFO``. ``NOTSET`` on the root
    logger lets everything through and answers ``DEBUG``.
    """
    value = logger.getEffectiveLevel()
    for name in LEVELS:
        if value <= _NUMERIC[name]:
            return name
    return "CRITICAL"


class LevelStore:
    """The shared log-level file of one state directory, as seen by one process."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / FILE_NAME
        self.lock_path = Path(state_dir) / f"{FILE_NAME}.lock"
        self._mutex = threading.Lock()  # one syncing thread at a time in this process
        self._signature: Signature | None = None
        self._applied: dict[str, str] = {}
        self._own_levels: dict[str, int] = {}  # each logger's level before we touched it
        self.last_sync_monotonic: float | None = None

    # --- reading -------------------------------------------------------------------------

    def _stat_signature(self) -> Signature | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read(self) -> tuple[Signature | None, dict[str, str]]:
        """The file's signature and levels, read from one open file (consistent pair)."""
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                raw = f.read()
        except FileNotFoundError:
            return None, {}
        signature = (st.st_ino, st.st_mtime_ns, st.st_size)
        try:
            data = json.loads(raw)
            levels = data["levels"]
            if not isinstance(levels, dict):
                raise TypeError("levels is not an object")
            clean = {
                str(name): str(level).upper()
                for name, level in levels.items()
                if str(level).upper() in LEVELS
            }
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable log-level file %s: %s", self.path, exc)
            return signature, dict(self._applied)  # keep what is in force
        return signature, clean

    def sync(self) -> bool:
        """Apply the file's levels when it changed since the last sync. True if it did."""
        with self._mutex:
            self.last_sync_monotonic = time.monotonic()
            signature = self._stat_signature()
            if signature == self._signature:
                return False
            signature, levels = self._read()
            self._apply(levels)
            self._signature = signature
            return True

    def _apply(self, levels: Mapping[str, str]) -> None:
        changed: dict[str, str | None] = {}
        for name in set(self._applied) - set(levels):
            logger = logging.getLogger(name)
            logger.setLevel(self._own_levels.pop(name, logging.NOTSET))
            changed[name] = None
        for name, level in levels.items():
            if self._applied.get(name) == level:
                continue
            logger = logging.getLogger(name)
            self._own_levels.setdefault(name, logger.level)
            logger.setLevel(level)
            changed[name] = level
        self._applied = dict(levels)
        if changed:
            log.info("log levels applied", extra={"changes": changed})

    def overrides(self) -> dict[str, str]:
        """The levels this process has applied from the file."""
        with self._mutex:
            return dict(self._applied)

    # --- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def set_level(self, module: str, level: str | None) -> tuple[str, str]:
        """Set (or with ``None`` reset) the level of logger ``module`` in every worker.

        Returns ``(previous, effective)``: the effective level names in this process
        before and after the change. Raises ``OverflowError`` when ``module`` would be one
        override too many.
        """
        with self._locked(), self._mutex:
            signature, levels = self._read()  # the current file, not our possibly old view
            self._apply(levels)
            self._signature = signature
            logger = logging.getLogger(module)
            previous = effective_level_name(logger)
            if level is None:
                levels.pop(module, None)
            else:
                if module not in levels and len(levels) >= MAX_OVERRIDES:
                    raise OverflowError(f"at most {MAX_OVERRIDES} loggers can be overridden")
                levels[module] = level
            self._signature = self._publish(levels, signature)
            self._apply(levels)
            return previous, effective_level_name(logger)

    def _publish(self, levels: Mapping[str, str], old: Signature | None) -> Signature:
        data = {"version": 1, "levels": dict(sorted(levels.items())), "updated_by_pid": os.getpid()}
        payload = json.dumps(data, indent=2).encode() + b"\n"
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".log-levels.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            # Strictly increasing mtime: a reader's (inode, mtime, size) check never misses.
            mtime = max(time.time_ns(), (old[1] + 1) if old else 0)
            os.utime(tmp, ns=(mtime, mtime))
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        st = os.stat(self.path)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    # --- background ----------------------------------------------------------------------

    def start_watcher(self, interval: float = 0.25) -> threading.Thread:
        """A daemon thread that syncs every ``interval`` seconds (call it after fork)."""

        def watch() -> None:
            while True:
                try:
                    self.sync()
                except Exception:
                    log.exception("log-level sync failed")
                time.sleep(interval)

        thread = threading.Thread(target=watch, name="demo-shop-log-levels", daemon=True)
        thread.start()
        return thread
