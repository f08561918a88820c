"""Compress a stored run: every level (original, each pruning method x sparsity, int8) with
its measured file sizes, weights, CPU latency and test score, in one table."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from torch import nn

from playground.compress.finetune import fine_tune
from playground.compress.measure import batch_of, count_params, cpu_threads, latency_ms, test_score
from playground.compress.prune import PRUNERS, make_permanent
from playground.compress.quantize import QUANTIZERS
from playground.compress.serialize import save_dense, save_int8, save_sparse
from playground.errors import PlaygroundError
from playground.runner import LoadedRun

Progress = Callable[[float, str], None]
LATENCY_BATCHES = (1, 256)


class CompressionError(PlaygroundError):
    """A run or a choice that compression cannot take."""


class CompressOptions(BaseModel):
    """What to try. Plain data: the page and the CLI build it, the task key is its JSON."""

    model_config = ConfigDict(extra="forbid")

    methods: list[str] = Field(default_factory=lambda: ["unstructured", "structured"])
    sparsities: list[float] = Field(default_factory=lambda: [0.5, 0.9])
    finetune_epochs: int = Field(default=0, ge=0, le=1000)
    quantize: list[str] = Field(default_factory=lambda: ["int8_dynamic"])
    threads: int = Field(default=1, ge=1, le=256, description="CPU threads while timing")
    repeats: int = Field(default=20, ge=1, le=10_000, description="timed passes per batch")
    seed: int = 0

    @classmethod
    def make(cls, **values: object) -> CompressOptions:
        """Validated options, or a CompressionError naming the first bad value."""
        try:
            return cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise CompressionError(
                f"Compression option {where}: {first['msg']}.", "Change that option and retry."
            ) from None

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: list[str]) -> list[str]:
        unknown = [m for m in value if m not in PRUNERS]
        if unknown:
            raise ValueError(f"unknown pruning method {unknown[0]!r}; one of {', '.join(PRUNERS)}")
        return value

    @field_validator("quantize")
    @classmethod
    def _known_quantizers(cls, value: list[str]) -> list[str]:
        unknown = [q for q in value if q not in QUANTIZERS]
        if unknown:
            raise ValueError(f"unknown quantiser {unknown[0]!r}; one of {', '.join(QUANTIZERS)}")
        return value

    @field_validator("sparsities")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        if any(not 0.0 < s < 1.0 for s in value):
            raise ValueError("each sparsity is a fraction between 0 and 1, e.g. 0.5")
        return sorted(set(value))


@dataclass
class CompressionLevel:
    """One row of the table, with its model and files (format name -> file bytes)."""

    name: str  # "original", "unstructured 50%", "int8_dynamic"
    method: str  # "original", a PRUNERS or QUANTIZERS name
    sparsity: float | None  # the target fraction; None for original / quantised
    model: nn.Module
    files: dict[str, bytes]
    params: int
    nonzero: int
    latency_ms: dict[int, float]  # batch size -> median ms
    score: float
    finetune_epochs: int = 0

    @property
    def size_bytes(self) -> int:
        """The file a user would ship: dense for float models, int8 for quantised ones."""
        return len(self.files.get("dense") or self.files["int8"])

    @property
    def smallest_bytes(self) -> int:
        return min(len(data) for data in self.files.values())


@dataclass
class CompressionResult:
    run_id: str
    score_name: str  # "acc" or "r2"
    threads: int
    repeats: int
    levels: list[CompressionLevel]
    notes: list[str] = field(default_factory=list)

    def level(self, name: str) -> CompressionLevel:
        return next(level for level in self.levels if level.name == name)

    def table(self) -> pd.DataFrame:
        """One row per level; sizes in bytes as measured, latency in ms."""
        rows = []
        for lv in self.levels:
            rows.append(
                {
                    "level": lv.name,
                    "method": lv.method,
                    "sparsity": lv.sparsity,
                    "finetune_epochs": lv.finetune_epochs,
                    "size_bytes": lv.size_bytes,
                    "sparse_bytes": len(lv.files["sparse"]) if "sparse" in lv.files else None,
                    "params": lv.params,
                    "nonzero_params": lv.nonzero,
                    **{f"latency_ms_b{b}": ms for b, ms in lv.latency_ms.items()},
                    f"test_{self.score_name}": lv.score,
                }
            )
        return pd.DataFrame(rows)


def check_compressible(loaded: LoadedRun) -> None:
    if loaded.record.mode != "supervised":
        raise CompressionError(
            f"Compression works on supervised runs; this is a {loaded.record.mode} run, "
            "whose modules have no test score to keep.",
            "Export its modules to ONNX instead, or pick a supervised run.",
        )


def _measure(
    name: str,
    method: str,
    sparsity: float | None,
    model: nn.Module,
    files: dict[str, bytes],
    loaded: LoadedRun,
    options: CompressOptions,
    epochs: int = 0,
) -> CompressionLevel:
    x = loaded.dataset.test.x
    params, nonzero = count_params(model)
    with cpu_threads(options.threads):
        latency = {b: latency_ms(model, batch_of(x, b), options.repeats) for b in LATENCY_BATCHES}
    score = test_score(model, loaded.dataset, loaded.config.loss)
    return CompressionLevel(
        name, method, sparsity, model, files, params, nonzero, latency, score, epochs
    )


def compress_run(
    loaded: LoadedRun, options: CompressOptions | None = None, progress: Progress | None = None
) -> CompressionResult:
    """Measure the run's model, then each pruning method at each sparsity (fine-tuned for
    `finetune_epochs` with masks held, then made permanent) and each quantiser."""
    check_compressible(loaded)
    options = options or CompressOptions()
    report = progress or (lambda fraction, message: None)
    original = copy.deepcopy(loaded.model).cpu().eval()
    steps = 1 + len(options.methods) * len(options.sparsities) + len(options.quantize)
    done = 0

    def step(message: str) -> None:
        report(done / steps, message)

    step("Measuring the original model")
    levels = [
        _measure(
            "original",
            "original",
            None,
            original,
            {"dense": save_dense(original), "sparse": save_sparse(original)},
            loaded,
            options,
        )
    ]
    done += 1
    for method in options.methods:
        for sparsity in options.sparsities:
            name = f"{method} {sparsity:.0%}"
            step(f"Pruning: {name}")
            model = copy.deepcopy(original)
            PRUNERS[method].apply(model, sparsity)
            if options.finetune_epochs:
                fine_tune(
                    model,
                    loaded.dataset,
                    loaded.config,
                    options.finetune_epochs,
                    options.seed,
                    # Each epoch is a chance to cancel (progress raises Cancelled).
                    on_epoch=lambda k, name=name: step(
                        f"Fine-tuning {name}: epoch {k}/{options.finetune_epochs}"
                    ),
                )
            make_permanent(model)
            files = {"dense": save_dense(model), "sparse": save_sparse(model)}
            levels.append(
                _measure(
                    name, method, sparsity, model, files, loaded, options, options.finetune_epochs
                )
            )
            done += 1
    notes = []
    for name in options.quantize:
        step(f"Quantising: {name}")
        quantizer = QUANTIZERS[name]
        model = quantizer.apply(original)
        levels.append(
            _measure(name, name, None, model, {"int8": save_int8(model)}, loaded, options)
        )
        if quantizer.note:
            notes.append(quantizer.note)
        done += 1
    report(1.0, "Done")
    return CompressionResult(
        loaded.record.id,
        "r2" if loaded.dataset.task == "regression" else "acc",
        options.threads,
        options.repeats,
        levels,
        notes,
    )


def reload_level(level: CompressionLevel, float_model: nn.Module, fmt: str) -> nn.Module:
    """A level's model back from one of its files (`fmt` a key of level.files), loaded into
    a copy of `float_model` (the run's architecture)."""
    from playground.compress.serialize import LOADERS

    if fmt not in level.files:
        raise CompressionError(
            f"The {level.name} level has no {fmt} file.",
            f"Choose one of: {', '.join(level.files)}.",
        )
    return LOADERS[fmt](copy.deepcopy(float_model).cpu(), level.files[fmt])


__all__ = [
    "CompressOptions",
    "CompressionError",
    "CompressionLevel",
    "CompressionResult",
    "check_compressible",
    "compress_run",
    "reload_level",
]
