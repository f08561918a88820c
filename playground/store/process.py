"""Identify the process that owns a running run, so a dead owner means 'interrupted'.

The owner string is host|pid|start-time: pids get reused (containers restart as the same
pid), but a pid together with its start time does not.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _start_time(pid: int) -> str:
    try:
        # Field 22 of /proc/PID/stat is the start time in clock ticks since boot.
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def current_owner() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}|{pid}|{_start_time(pid)}"


def owner_alive(owner: str | None) -> bool:
    if not owner:
        return False
    try:
        host, pid_text, started = owner.split("|")
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True  # another machine's process: we cannot tell, so do not touch its runs
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return started == "?" or _start_time(pid) == started
