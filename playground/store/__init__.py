"""Run store: SQLite records plus safetensors weights."""

from playground.store.paths import data_dir
from playground.store.runs import RunRecord, RunStore
from playground.store.update import RunUpdate
from playground.store.writer import StoreWriter

__all__ = ["RunRecord", "RunStore", "RunUpdate", "StoreWriter", "data_dir"]
