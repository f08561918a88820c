"""What a browser session was working on (dataset, model, options, run), kept under a token
that the page's URL carries, so that a reload or a bookmark comes back to the same place.

Plain JSON files, one per token: they hold only choices (no data, no weights), and the token
is checked before it becomes a file name, so a crafted URL cannot reach outside the folder.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KEEP_DAYS = 30  # a session untouched this long is forgotten


def new_token() -> str:
    """A fresh session token, safe in a URL and as a file name."""
    return secrets.token_urlsafe(12)


class SessionSnapshots:
    """Save and load a session's choices under `root/sessions/<token>.json`."""

    def __init__(self, root: Path) -> None:
        self.folder = Path(root) / "sessions"

    def _path(self, token: str) -> Path | None:
        return self.folder / f"{token}.json" if _TOKEN.match(token or "") else None

    def save(self, token: str, state: dict[str, Any]) -> None:
        path = self._path(token)
        if path is None:
            raise ValueError(f"{token!r} is not a session token")
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(state, sort_keys=True, default=list)
        if path.exists() and path.read_text() == text:
            return  # most reruns change nothing: skip the write
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(path)  # atomic: a reader never sees half a file

    def load(self, token: str) -> dict[str, Any] | None:
        """The saved choices, or None for an unknown, malformed or unreadable token."""
        path = self._path(token)
        if path is None or not path.is_file():
            return None
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) else None

    def prune(self, max_age_days: float = KEEP_DAYS, now: float | None = None) -> int:
        """Forget sessions untouched for `max_age_days`; returns how many were removed."""
        if not self.folder.is_dir():
            return 0
        cutoff = (time.time() if now is None else now) - max_age_days * 86400
        removed = 0
        for path in self.folder.glob("*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                continue  # another server pruned it first
        return removed
