"""Pause, resume and stop, requested from any thread; the trainer checks between steps."""

from __future__ import annotations

import threading
from collections.abc import Callable


class StopRequested(Exception):
    pass


class RunControl:
    def __init__(self) -> None:
        self._not_paused = threading.Event()
        self._not_paused.set()
        self._stop = threading.Event()

    def pause(self) -> None:
        self._not_paused.clear()

    def resume(self) -> None:
        self._not_paused.set()

    def stop(self) -> None:
        self._stop.set()
        self._not_paused.set()  # wake a paused trainer so it can stop

    @property
    def paused(self) -> bool:
        return not self._not_paused.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def checkpoint(
        self,
        on_pause: Callable[[], None] | None = None,
        on_resume: Callable[[], None] | None = None,
    ) -> None:
        """Called by the trainer before each step: blocks while paused, raises on stop."""
        if self._stop.is_set():
            raise StopRequested
        if not self._not_paused.is_set():
            if on_pause:
                on_pause()
            self._not_paused.wait()
            if self._stop.is_set():
                raise StopRequested
            if on_resume:
                on_resume()
