"""Detached processes recorded in pid files, so `down` can always find and stop them."""

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if is_alive(pid) else None


def spawn(
    argv: Sequence[str], *, pid_file: Path, log_file: Path, env: dict[str, str] | None = None
) -> int:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def stop(pid_file: Path, *, timeout_s: float = 30.0) -> bool:
    """SIGTERM the recorded process group, SIGKILL it after `timeout_s`; True if one was running."""
    return bool(stop_all([pid_file], timeout_s=timeout_s))


def stop_all(pid_files: Sequence[Path], *, timeout_s: float = 30.0) -> list[Path]:
    """`stop` for several processes at once (e.g. the nodes of one cluster, which wait for
    each other while shutting down): returns the pid files of those that were running."""
    running = {pid_file: read_pid(pid_file) for pid_file in pid_files}
    pids = [pid for pid in running.values() if pid is not None]
    for pid in pids:
        _signal_group(pid, signal.SIGTERM)
    if not wait_until(lambda: not any(map(is_alive, pids)), timeout_s):
        for pid in pids:
            _signal_group(pid, signal.SIGKILL)
        wait_until(lambda: not any(map(is_alive, pids)), 10.0)
    for pid_file in pid_files:
        pid_file.unlink(missing_ok=True)
    return [pid_file for pid_file, pid in running.items() if pid is not None]


def kill(pid_file: Path) -> bool:
    """SIGKILL the recorded process group at once (a crash, for fault tests); True if it ran."""
    pid = read_pid(pid_file)
    if pid is None:
        return False
    _signal_group(pid, signal.SIGKILL)
    wait_until(lambda: not is_alive(pid), 10.0)
    pid_file.unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, sig)


def wait_until(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
