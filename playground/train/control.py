"""Pause, resume and stop, requested from another thread or process; the trainer checks
between steps.

The request is one small integer (RUN, PAUSE, STOP) read once per step: a plain attribute
here, a shared-memory cell for a worker process (executors/local.py), so the check costs
well under a microsecond and a request takes effect at the next step. While paused, the
trainer polls every POLL_SECONDS.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# STEP: take one step, then pause again (the GAN Lab's "one step per click").
RUN, PAUSE, STOP, STEP = 0, 1, 2, 3
POLL_SECONDS = 0.02


class StopRequested(Exception):
    pass


class RunControl:
    def __init__(self) -> None:
        self._requested = RUN

    # -- asking (any thread) -----------------------------------------------------------
    def pause(self) -> None:
        if self._read() != STOP:
            self._write(PAUSE)

    def resume(self) -> None:
        if self._read() != STOP:
            self._write(RUN)

    def stop(self) -> None:
        self._write(STOP)  # also wakes a paused trainer, which then stops

    def step_once(self) -> None:
        """Let a paused run take exactly one training step, then pause again."""
        if self._read() != STOP:
            self._write(STEP)

    @property
    def paused(self) -> bool:
        return self._read() == PAUSE

    @property
    def stop_requested(self) -> bool:
        return self._read() == STOP

    # -- where the request lives (overridden for shared memory) --------------------------
    def _read(self) -> int:
        return self._requested

    def _write(self, code: int) -> None:
        self._requested = code

    # -- the trainer's side ------------------------------------------------------------
    def checkpoint(
        self,
        on_pause: Callable[[], None] | None = None,
        on_resume: Callable[[], None] | None = None,
    ) -> None:
        """Called by the trainer before each step: blocks while paused, raises on stop."""
        code = self._read()
        if code == RUN:
            return
        if code == STOP:
            raise StopRequested
        if code == STEP:
            self._write(PAUSE)  # this step goes ahead; the next checkpoint pauses again
            return
        if on_pause:
            on_pause()
        while (code := self._read()) == PAUSE:
            self.wait_while_paused()
        if code == STOP:
            raise StopRequested
        if code == STEP:
            self._write(PAUSE)
        if on_resume:
            on_resume()

    def wait_while_paused(self) -> None:
        time.sleep(POLL_SECONDS)
