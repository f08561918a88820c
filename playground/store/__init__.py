"""Run store: SQLite records plus safetensors weights."""

from playground.store.paths import data_dir
from playground.store.recorder import StoreRecorder
from playground.store.runs import RunRecord, RunStore

__all__ = ["RunRecord", "RunStore", "StoreRecorder", "data_dir"]
