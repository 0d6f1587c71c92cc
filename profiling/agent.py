"""What the profiling agent does on the target's host: find the process, run py-spy once.

No database here: `actions.profile_execute` drives this and records the outcome.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import psutil

# py-spy needs a moment to attach and to write its output after the last sample; past
# duration + this margin it is stopped, whatever it is doing.
MARGIN_S = 5.0
# After SIGINT py-spy writes what it has; a py-spy that does not exit by then is killed.
STOP_GRACE_S = 3.0
POLL_S = 0.2
MAX_CANDIDATES_SHOWN = 10

PTRACE_HELP = (
    "py-spy was not allowed to read the process's memory. The agent needs ptrace rights on "
    "the target: run it as root or as the target's user (with kernel.yama.ptrace_scope ≤ 1), "
    "and in a container add the SYS_PTRACE capability (docker-compose: cap_add: [SYS_PTRACE]) "
    'and share the target\'s PID namespace (pid: "service:<target>").'
)


class SelectorError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    pid: int
    command: str


def _command(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline()) or proc.name()
    except (psutil.AccessDenied, psutil.ZombieProcess):
        return "?"


def _by_pid(pid: int, *, source: str) -> Target:
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            raise psutil.NoSuchProcess(pid)
    except psutil.NoSuchProcess as exc:
        raise SelectorError(f"No process with PID {pid} ({source}) on this host.") from exc
    return Target(pid, _command(proc))


def _own_family() -> set[int]:
    """The agent itself and its ancestors: a broad pattern must never select the profiler."""
    me = psutil.Process()
    return {me.pid, *(p.pid for p in me.parents())}


def _by_regex(pattern: str) -> Target:
    regex = re.compile(pattern)
    skip = _own_family()
    matches: list[Target] = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        info = proc.info
        cmdline = info.get("cmdline") or []
        if proc.pid in skip or not cmdline or info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        command = " ".join(cmdline)
        if regex.search(command):
            matches.append(Target(proc.pid, command))
    if not matches:
        raise SelectorError(f"No process on this host has a command line matching /{pattern}/.")
    if len(matches) > 1:
        shown = "; ".join(f"PID {t.pid}: {t.command[:120]}" for t in matches[:MAX_CANDIDATES_SHOWN])
        more = len(matches) - MAX_CANDIDATES_SHOWN
        raise SelectorError(
            f"{len(matches)} processes match /{pattern}/, profiling needs exactly one "
            f"(narrow the pattern or use a PID file). Candidates: {shown}"
            + (f"; and {more} more." if more > 0 else ".")
        )
    return matches[0]


def resolve(selector: dict[str, object]) -> Target:
    """The one process `selector` designates on this host, else SelectorError saying why."""
    if len(selector) != 1:
        raise SelectorError("The service has no process selector: set process_selector first.")
    kind, value = next(iter(selector.items()))
    if kind == "pid" and isinstance(value, int):
        return _by_pid(value, source="configured PID")
    if kind == "pid_file" and isinstance(value, str):
        try:
            text = Path(value).read_text().strip()
        except OSError as exc:
            raise SelectorError(f"Cannot read the PID file {value}: {exc.strerror}.") from exc
        if not text.isdigit():
            raise SelectorError(f"The PID file {value} does not hold a PID ({text[:40]!r}).")
        return _by_pid(int(text), source=f"from {value}")
    if kind == "cmdline_regex" and isinstance(value, str):
        return _by_regex(value)
    raise SelectorError(f"Unknown process selector {kind!r}.")


# --- py-spy ---------------------------------------------------------------------------------


class Outcome(StrEnum):
    FINISHED = "finished"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    FAILED = "failed"


@dataclass(frozen=True)
class Recording:
    outcome: Outcome
    collapsed: str  # what py-spy wrote, possibly partial, possibly empty
    sampled_s: float
    exited_early: bool  # the target exited before the duration was up
    error: str = ""


@dataclass(frozen=True)
class Request:
    pid: int
    duration_s: int
    rate_hz: int
    idle: bool = False
    native: bool = False
    subprocesses: bool = False
    gil: bool = False


def pyspy_path(configured: str = "") -> str:
    """The configured py-spy, else the one installed beside this Python, else PATH's."""
    if configured:
        return configured
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    return shutil.which("py-spy") or "py-spy"


def command(request: Request, *, pyspy: str, output: Path) -> list[str]:
    # Raw = collapsed stacks, one run gives everything: speedscope and SVG are derived.
    # --function: one frame per function (not per line), which is what a flamegraph reads.
    # --nonblocking: never pause the target to read it, the least intrusive mode.
    args = [
        pyspy, "record", "--pid", str(request.pid), "--duration", str(request.duration_s),
        "--rate", str(request.rate_hz), "--format", "raw", "--output", str(output),
        "--function", "--nonblocking",
    ]  # fmt: skip
    for flag, on in (
        ("--idle", request.idle),
        ("--native", request.native),
        ("--subprocesses", request.subprocesses),
        ("--gil", request.gil),
    ):
        if on:
            args.append(flag)
    return args


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT first (py-spy then writes the samples it has), SIGKILL to the whole process
    group if it does not exit in time."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def _error_text(log: str, returncode: int) -> str:
    if "Permission Denied" in log or "Operation not permitted" in log:
        return PTRACE_HELP
    # py-spy prints a Rust backtrace after the message; the message is what helps.
    lines = [ln for ln in log.split("Stack backtrace:")[0].splitlines() if ln.strip()]
    message = " ".join(ln.removeprefix("py-spy> ").strip() for ln in lines[-4:])
    return message or f"py-spy exited with status {returncode}."


def record(
    request: Request,
    *,
    pyspy: str,
    should_cancel: Callable[[], bool],
    timeout_s: float | None = None,
) -> Recording:
    """Run py-spy once for the request's duration. Stops it on cancel or when the hard timeout
    (duration + MARGIN_S unless given) passes; any partial output is returned."""
    deadline_s = timeout_s if timeout_s is not None else request.duration_s + MARGIN_S
    with tempfile.TemporaryDirectory(prefix="prodbug-profile-") as tmp:
        output, log_path = Path(tmp) / "profile.txt", Path(tmp) / "py-spy.log"
        started = time.monotonic()
        with log_path.open("wb") as log:
            try:
                proc = subprocess.Popen(
                    command(request, pyspy=pyspy, output=output),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own group: a stop reaches any children too
                )
            except OSError as exc:
                return Recording(Outcome.FAILED, "", 0.0, False, f"Cannot run {pyspy}: {exc}")
            outcome = Outcome.FINISHED
            try:
                while proc.poll() is None:
                    if time.monotonic() - started > deadline_s:
                        outcome = Outcome.TIMED_OUT
                        break
                    if should_cancel():
                        outcome = Outcome.CANCELLED
                        break
                    time.sleep(POLL_S)
            finally:  # also on Celery's soft time limit: py-spy never outlives the task
                _stop(proc)
        sampled_s = time.monotonic() - started
        text = log_path.read_text(errors="replace")
        collapsed = output.read_text(errors="replace") if output.exists() else ""
    if outcome == Outcome.FINISHED and proc.returncode != 0:
        return Recording(
            Outcome.FAILED, collapsed, sampled_s, False, _error_text(text, proc.returncode)
        )
    error = ""
    if outcome == Outcome.TIMED_OUT:
        error = f"py-spy did not finish within {deadline_s:.0f} s and was stopped."
    exited = "because process exited" in text
    return Recording(outcome, collapsed, sampled_s, exited, error)
