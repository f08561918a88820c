"""Run store: SQLite records plus safetensors weights."""

from playground.store.paths import data_dir
from playground.store.runs import RunRecord, RunStore
from playground.store.update import RunUpdate

__all__ = ["RunRecord", "RunStore", "RunUpdate", "data_dir"]
