"""The agent's part, against real processes and a real py-spy: finding the process, recording,
and stopping on time whatever happens."""

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from profiling import agent
from profiling import flamegraph as fg
from tests.profiling.conftest import FUNCTION


def test_it_resolves_a_pid_a_pid_file_and_a_unique_command_line(busy, tmp_path) -> None:
    target = busy()
    pid_file = tmp_path / "app.pid"
    pid_file.write_text(f"{target.pid}\n")
    for selector in (
        {"pid": target.pid},
        {"pid_file": str(pid_file)},
        {"cmdline_regex": target.marker},
    ):
        resolved = agent.resolve(selector)
        assert resolved.pid == target.pid
        assert target.marker in resolved.command


def test_no_matching_process_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(agent.SelectorError, match="No process on this host has a command line"):
        agent.resolve({"cmdline_regex": "no-such-process-[0-9a-f]{32}"})
    with pytest.raises(agent.SelectorError, match="Cannot read the PID file"):
        agent.resolve({"pid_file": str(tmp_path / "missing.pid")})
    (tmp_path / "bad.pid").write_text("not a pid")
    with pytest.raises(agent.SelectorError, match="does not hold a PID"):
        agent.resolve({"pid_file": str(tmp_path / "bad.pid")})
    with pytest.raises(agent.SelectorError, match="No process with PID 4194303"):
        agent.resolve({"pid": 4194303})
    with pytest.raises(agent.SelectorError, match="no process selector"):
        agent.resolve({})


def test_several_matches_list_the_candidates(busy) -> None:
    first = busy()
    second = busy(marker=first.marker)
    with pytest.raises(agent.SelectorError) as caught:
        agent.resolve({"cmdline_regex": first.marker})
    message = str(caught.value)
    assert message.startswith(f"2 processes match /{first.marker}/")
    assert f"PID {first.pid}: " in message and f"PID {second.pid}: " in message


def test_the_agent_never_selects_itself_or_its_parents() -> None:
    # A broad pattern ("python", "celery") matches the agent's own worker: it is skipped.
    assert {os.getpid(), os.getppid()} <= agent._own_family()


def _request(pid: int, duration_s: int = 2) -> agent.Request:
    return agent.Request(pid=pid, duration_s=duration_s, rate_hz=100)


def test_it_records_a_busy_process(busy, pyspy) -> None:
    target = busy()
    started = time.monotonic()
    recording = agent.record(_request(target.pid), pyspy=pyspy, should_cancel=lambda: False)
    assert recording.outcome == agent.Outcome.FINISHED, recording.error
    assert 1.5 < time.monotonic() - started < 2 + agent.MARGIN_S
    stacks = fg.parse_collapsed(recording.collapsed)
    assert 20 <= fg.total_samples(stacks) <= 220  # ~200 for 2 s at 100 Hz, fewer under load
    assert any(FUNCTION in frame for frames, _ in stacks for frame in frames)
    assert not recording.exited_early


def test_a_target_that_exits_ends_the_run_early_with_its_samples(busy, pyspy) -> None:
    target = busy(seconds=1.5)
    started = time.monotonic()
    recording = agent.record(_request(target.pid, 30), pyspy=pyspy, should_cancel=lambda: False)
    assert time.monotonic() - started < 5
    assert recording.outcome == agent.Outcome.FINISHED and recording.exited_early
    assert FUNCTION in recording.collapsed


def test_cancel_stops_py_spy_and_keeps_what_it_sampled(busy, pyspy) -> None:
    target = busy()
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    started = time.monotonic()
    recording = agent.record(_request(target.pid, 60), pyspy=pyspy, should_cancel=cancel.is_set)
    assert time.monotonic() - started < 1.0 + agent.POLL_S + agent.STOP_GRACE_S
    assert recording.outcome == agent.Outcome.CANCELLED
    assert 0 < fg.total_samples(fg.parse_collapsed(recording.collapsed)) < 200
    assert FUNCTION in recording.collapsed


@pytest.fixture
def hanging_pyspy(tmp_path: Path) -> str:
    """Stands in for a py-spy that never returns and ignores SIGINT."""
    script = tmp_path / "py-spy"
    script.write_text("#!/bin/sh\ntrap '' INT\nsleep 1000 &\nwait\nsleep 1000\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_a_hung_py_spy_is_killed_at_the_hard_timeout(busy, hanging_pyspy) -> None:
    target = busy()
    started = time.monotonic()
    recording = agent.record(
        _request(target.pid, 1), pyspy=hanging_pyspy, should_cancel=lambda: False, timeout_s=2
    )
    elapsed = time.monotonic() - started
    assert 2 <= elapsed < 2 + agent.POLL_S + agent.STOP_GRACE_S + 1
    assert recording.outcome == agent.Outcome.TIMED_OUT
    assert recording.error == "py-spy did not finish within 2 s and was stopped."
    assert recording.collapsed == ""


def test_py_spy_errors_are_explained(pyspy) -> None:
    recording = agent.record(_request(4194303), pyspy=pyspy, should_cancel=lambda: False)
    assert recording.outcome == agent.Outcome.FAILED
    assert "Stack backtrace" not in recording.error and recording.error
    assert agent._error_text("Permission Denied: Try running again", 1) == agent.PTRACE_HELP
    assert "SYS_PTRACE" in agent.PTRACE_HELP
