"""Runs as requests: plain data in, a stored run out, executed here or in a worker."""

from playground.runs.execute import (
    CheckedRequest,
    RunOutcome,
    build_trainer,
    check_request,
    execute,
    record,
    run_request,
    start_weights,
)
from playground.runs.request import RunRequest, StartFrom

__all__ = [
    "CheckedRequest",
    "RunOutcome",
    "RunRequest",
    "StartFrom",
    "build_trainer",
    "check_request",
    "execute",
    "record",
    "run_request",
    "start_weights",
]
