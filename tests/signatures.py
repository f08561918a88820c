"""Data signatures shared by the model-spec and code-export tests: one per input kind."""

from playground.model import DataSignature

FLAT = DataSignature((2,), 2, "binary")
IMAGE = DataSignature((1, 8, 8), 10, "multiclass")
SEQ = DataSignature((12, 3), 4, "multiclass")
TOKENS = DataSignature((12,), 4, "multiclass", tokens=True, vocab_size=8)
SIGNAL = DataSignature((3, 16), 1, "regression")  # (channels, length) for Conv1d
