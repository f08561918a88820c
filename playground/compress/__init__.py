"""Compression for small devices: pruning, dynamic int8 quantisation, and a measured table.

    result = compress_run(load_run(run_id), CompressOptions(sparsities=[0.5, 0.9]))
    result.table()  # size on disk, weights, CPU latency at batch 1 and 256, test score

One file per concern: prune.py and quantize.py (registries of methods), finetune.py,
serialize.py (safetensors files, dense / sparse / int8), measure.py, report.py.
"""

from playground.compress.prune import PRUNERS, make_permanent, prunable_layers, zero_units
from playground.compress.quantize import DEPRECATION_NOTE, QUANTIZERS
from playground.compress.report import (
    CompressionError,
    CompressionLevel,
    CompressionResult,
    CompressOptions,
    check_compressible,
    compress_run,
    reload_level,
)

__all__ = [
    "DEPRECATION_NOTE",
    "PRUNERS",
    "QUANTIZERS",
    "CompressOptions",
    "CompressionError",
    "CompressionLevel",
    "CompressionResult",
    "check_compressible",
    "compress_run",
    "make_permanent",
    "prunable_layers",
    "reload_level",
    "zero_units",
]
