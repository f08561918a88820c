"""The one entry point that turns a run request into a trained, stored run.

    record(request, store)            check everything, then record the run ('pending')
    execute(request, run_id, sink)    load the data, build, train; report RunUpdates to `sink`
    run_request(request, store)       both, in this process (CLI, tests, notebooks)

`execute` needs nothing but the request and what is passed in: it never opens the run store,
so it runs the same in a local worker process or on another machine. Its updates are applied
to the store by whoever owns it (`RunStore.apply_update`).

Memory: `check_request` refuses a model over the size limits (playground.model.limits) before
anything is allocated; if the machine still runs out (other programs, a smaller GPU), `execute`
ends the run 'failed' with what to try, never with a traceback.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from safetensors.torch import load as load_safetensors

from playground.data import Dataset, load_dataset
from playground.errors import PlaygroundError, TrainingError, WeightsError
from playground.model.build import BuiltModel
from playground.model.limits import check_run_limits, format_bytes
from playground.runs.naming import default_run_name
from playground.runs.reporter import RunReporter, UpdateSink
from playground.runs.request import RunRequest
from playground.runs.transfer import copy_weights, layer_lr_scales, plan_transfer
from playground.store import RunStore, RunUpdate
from playground.train import (
    Callback,
    HistogramRecorder,
    RunControl,
    TrainConfig,
    Trainer,
    TrainState,
)
from playground.train.augment.registry import check_augment
from playground.train.modes import get_mode


def sample_weights_for(request: RunRequest, dataset: Dataset) -> torch.Tensor | None:
    """Per-example loss weights the request asks for (reweighing), else None."""
    if not request.config.reweigh:
        return None
    # Imported here: only reweighing runs need the fairness package.
    from playground.fairness.reweighing import training_weights

    weights = training_weights(dataset, request.config.reweigh)
    return torch.as_tensor(weights, dtype=torch.float32)


@dataclass
class CheckedRequest:
    dataset: Dataset
    modules: dict[str, BuiltModel]  # shape tables, on the meta device

    @property
    def param_count(self) -> int:
        return sum(m.total_params for m in self.modules.values())

    def layer_labels(self) -> dict[str, str]:
        """Gradient-norm keys ("2", or "encoder.2" in a run of several modules) -> layer
        labels ("Linear(32)"); charts put the key in front."""
        single = len(self.modules) == 1
        return {
            (r.index if single else f"{name}.{r.index}"): r.label
            for name, built in self.modules.items()
            for r in built.rows
        }


def check_request(request: RunRequest, dataset: Dataset | None = None) -> CheckedRequest:
    """Everything that can be wrong with a request, found without training or allocating:
    the dataset and its parameters, the mode, every module's spec (on the meta device), the
    model size limits for the config's batch size, the module options, the reweighing
    attribute."""
    dataset = dataset or load_dataset(request.dataset, **request.dataset_params)
    mode = get_mode(request.mode)
    modules = mode.check(dataset, request.modules, request.mode_options)
    mode.epoch_size(dataset, request.config, request.mode_options)  # refuses an unfit sampler
    check_augment(request.config.augment, dataset.kind, dataset.task, request.mode)
    # A batch is never bigger than the training set (batch_size may ask for the whole of it).
    check_run_limits(modules, min(request.config.batch_size, max(len(dataset.train), 1)))
    for name, overrides in request.module_configs.items():
        if name not in modules:
            raise TrainingError(
                f"module_configs names '{name}', which is not a module of this run.",
                f"Modules: {', '.join(modules)}.",
            )
        TrainConfig.parse(request.config.model_dump(), **overrides)
    sample_weights_for(request, dataset)
    return CheckedRequest(dataset, modules)


def record(
    request: RunRequest,
    store: RunStore,
    checked: CheckedRequest | None = None,
    status: str = "pending",
    message: str = "",
) -> str:
    """Check the request (unless `checked` already is), then record the run in the store;
    returns its run id. A bad request raises (DatasetError, SpecError, TrainingError) before
    anything is stored."""
    checked = checked or check_request(request)
    lineage = dict(request.lineage)
    if request.start_from is not None:
        # Checked here, before anything is stored: a start that fits nothing is refused.
        stored = load_safetensors(start_weights(request, store))
        plan = plan_transfer(request.start_from, checked.modules, stored)
        lineage.update(plan.lineage(request.start_from))
    return store.create_run(
        dataset=checked.dataset.name,
        dataset_params=checked.dataset.params,
        spec=request.primary_spec.model_dump(),
        config=request.config.model_dump(),
        param_count=checked.param_count,
        name=request.name
        or default_run_name(
            checked.dataset.name,
            checked.dataset.params,
            request.primary_spec,
            request.config,
            request.mode,
        ),
        lineage=lineage,
        status=status,
        message=message,
        mode=request.mode,
        modules={k: v.model_dump() for k, v in request.modules.items()},
        request=request.model_dump(mode="json"),
    )


def build_trainer(
    request: RunRequest,
    dataset: Dataset | None = None,
    callbacks: Sequence[Callback] = (),
    control: RunControl | None = None,
    initial_weights: bytes | None = None,
) -> Trainer:
    """The trainer for a request, with `initial_weights` (safetensors bytes of a stored run,
    see `start_weights`) copied into the modules they fit."""
    dataset = dataset or load_dataset(request.dataset, **request.dataset_params)
    stored = plan = None
    scales: dict[str, dict[str, float]] = {}
    if initial_weights is not None and request.start_from is not None:
        stored = load_safetensors(initial_weights)
        checked = get_mode(request.mode).check(dataset, request.modules, request.mode_options)
        plan = plan_transfer(request.start_from, checked, stored)
        scales = layer_lr_scales(plan, request.start_from)
    trainer = Trainer(
        dataset,
        config=request.config,
        callbacks=callbacks,
        control=control,
        modules=request.modules,
        mode=request.mode,
        mode_options=request.mode_options,
        module_configs=request.module_configs,
        sample_weights=sample_weights_for(request, dataset),
        layer_lr_scales=scales,
    )
    if plan is not None and stored is not None:
        copy_weights(trainer.modules, plan, stored)
    return trainer


def execute(
    request: RunRequest,
    run_id: str,
    sink: UpdateSink,
    *,
    control: RunControl | None = None,
    callbacks: Sequence[Callback] = (),
    dataset: Dataset | None = None,
    initial_weights: bytes | None = None,
    live_boundary: bool = True,
) -> TrainState:
    """Train the request's run, reporting to `sink`. Never raises for a run that fails: the
    failure is its final status (a request that cannot even be built ends 'failed')."""
    reporter = RunReporter(run_id, sink, live_boundary=live_boundary)
    out_of_memory = ""
    try:
        trainer = build_trainer(request, dataset, (), control, initial_weights)
    except PlaygroundError as exc:
        return _failed(reporter, str(exc))
    except Exception as exc:  # building the weights, or moving them and the data to the device
        if not is_out_of_memory(exc):
            return _failed(reporter, f"{type(exc).__name__}: {exc}")
        out_of_memory = out_of_memory_message(
            str(exc), request, "while building the model", batch_matters=False
        )
    if out_of_memory:
        # Out here, the traceback (and whatever it held on to) is gone.
        release_memory()
        return _failed(reporter, out_of_memory)
    histograms = HistogramRecorder(reporter.add_histograms)
    advice = OutOfMemoryAdvice(request)
    # The advice goes first, so every callback after it sees the advised message; the
    # reporter goes last: an epoch row it sends is complete (every callback added to it).
    trainer.callbacks.extend([advice, *callbacks, histograms, reporter])
    state = trainer.run()
    if advice.ran_out:
        del trainer  # the trainer and its mode refer to each other: only gc frees them
        release_memory()
    return state


def _failed(reporter: RunReporter, message: str) -> TrainState:
    state = TrainState(status="failed", message=message)
    reporter.sink(RunUpdate(reporter.run_id, status="failed", message=message, final=True))
    return state


_OUT_OF_MEMORY = re.compile(
    r"out of memory|not enough memory|can't allocate memory|cannot allocate memory", re.I
)
_ASKED = re.compile(r"tried to allocate (\d+) bytes|tried to allocate ([\d.]+ [KMGT]iB)", re.I)


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is the CPU, CUDA or MPS allocator giving up (not a bug to show as one)."""
    return isinstance(exc, (MemoryError, torch.OutOfMemoryError)) or (
        isinstance(exc, RuntimeError) and _OUT_OF_MEMORY.search(str(exc)) is not None
    )


def _says_out_of_memory(message: str) -> bool:
    """The same, from the trainer's "Type: text" message of a failed run."""
    if message.startswith(("OutOfMemoryError:", "MemoryError:")):
        return True
    return _OUT_OF_MEMORY.search(message) is not None


def out_of_memory_message(
    error: str, request: RunRequest, when: str, *, batch_matters: bool = True
) -> str:
    """What a person reads when a run runs out of memory: where, how much, what to try.
    `batch_matters` is False while building (the weights and the data do not depend on it)."""
    asked = _ASKED.search(error)
    amount = ""
    if asked:
        amount = f" (one allocation asked for {asked[2] or format_bytes(int(asked[1]))})"
    on_gpu = re.search(r"CUDA|MPS|GPU", error) is not None
    batch = request.config.batch_size
    tries = [
        f"a smaller batch size (now {batch}, e.g. {max(1, batch // 4)})"
        if batch_matters and batch > 1
        else "",
        "a smaller model (fewer units, channels or layers)",
        "training on the CPU (device 'cpu': slower, but it has all the machine's memory)"
        if on_gpu
        else "closing other programs that use memory",
    ]
    return (
        f"Ran out of memory {when}: {'the GPU' if on_gpu else 'this machine'} has no room "
        f"for this run{amount}. What to try: {'; '.join(t for t in tries if t)}."
    )


class OutOfMemoryAdvice(Callback):
    """Turns the trainer's raw out-of-memory failure into `out_of_memory_message`. The trainer
    ends a run that raises with status 'failed' and the error's text as the message; this
    callback rewrites that text before the reporter sends it."""

    def __init__(self, request: RunRequest) -> None:
        self.request = request
        self.ran_out = False

    def on_status(self, trainer: Trainer, status: str) -> None:
        state = trainer.state
        if status != "failed" or not _says_out_of_memory(state.message):
            return
        self.ran_out = True
        when = (
            "while scoring the trained model"
            if state.message.startswith("Evaluation failed")
            else f"while training (epoch {state.epoch + 1}, after {state.step} steps)"
        )
        state.message = out_of_memory_message(state.message, self.request, when)


def release_memory() -> None:
    """Give memory back after a run: collect the cycles a finished trainer leaves, and
    return the GPU's cached blocks so the next run (or another program) can use them."""
    gc.collect()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


@dataclass
class RunOutcome:
    run_id: str
    state: TrainState


def run_request(
    request: RunRequest,
    store: RunStore | None = None,
    *,
    callbacks: Sequence[Callback] = (),
    control: RunControl | None = None,
    dataset: Dataset | None = None,
) -> RunOutcome:
    """Record and train a request in this process, writing to `store` as it goes."""
    store = store or RunStore()
    checked = check_request(request, dataset)
    dataset = checked.dataset
    run_id = record(request, store, checked)
    state = execute(
        request,
        run_id,
        store.apply_update,
        control=control,
        callbacks=callbacks,
        dataset=dataset,
        initial_weights=start_weights(request, store),
        live_boundary=False,
    )
    return RunOutcome(run_id, state)


def start_weights(request: RunRequest, store: RunStore) -> bytes | None:
    """The stored weights a request starts from, as bytes to hand to `execute` (a worker
    does not read this machine's store)."""
    if request.start_from is None:
        return None
    store.get_run(request.start_from.run_id)  # a clear error for an unknown run
    path = store.weights_path(request.start_from.run_id)
    if not path.exists():
        raise PlaygroundError(
            f"Run {request.start_from.run_id} has no saved weights to start from.",
            "Pick a run that trained for at least one epoch.",
        )
    data = path.read_bytes()
    try:
        load_safetensors(data)  # refused here, not in a worker after the run is recorded
    except Exception as exc:  # safetensors raises its own error type for any damage
        raise WeightsError(
            f"The weights file of run {request.start_from.run_id} cannot be read "
            f"({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}).",
            "Start from another run, or train this one again.",
        ) from None
    return data
