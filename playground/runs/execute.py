"""The one entry point that turns a run request into a trained, stored run.

    record(request, store)            check everything, then record the run ('pending')
    execute(request, run_id, sink)    load the data, build, train; report RunUpdates to `sink`
    run_request(request, store)       both, in this process (CLI, tests, notebooks)

`execute` needs nothing but the request and what is passed in: it never opens the run store,
so it runs the same in a local worker process or on another machine. Its updates are applied
to the store by whoever owns it (`RunStore.apply_update`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from safetensors.torch import load as load_safetensors

from playground.data import Dataset, load_dataset
from playground.errors import PlaygroundError, TrainingError
from playground.model.build import BuiltModel
from playground.runs.naming import default_run_name
from playground.runs.reporter import RunReporter, UpdateSink
from playground.runs.request import RunRequest
from playground.store import RunStore, RunUpdate
from playground.train import (
    Callback,
    HistogramRecorder,
    RunControl,
    TrainConfig,
    Trainer,
    TrainState,
)
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
    module options, the reweighing attribute."""
    dataset = dataset or load_dataset(request.dataset, **request.dataset_params)
    mode = get_mode(request.mode)
    modules = mode.check(dataset, request.modules, request.mode_options)
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
    return store.create_run(
        dataset=checked.dataset.name,
        dataset_params=checked.dataset.params,
        spec=request.primary_spec.model_dump(),
        config=request.config.model_dump(),
        param_count=checked.param_count,
        name=request.name
        or default_run_name(
            checked.dataset.name, checked.dataset.params, request.primary_spec, request.config
        ),
        lineage=request.lineage,
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
    )
    if initial_weights is not None:
        _copy_matching(trainer, load_safetensors(initial_weights), request)
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
    try:
        trainer = build_trainer(request, dataset, (), control, initial_weights)
    except PlaygroundError as exc:
        return _failed(reporter, str(exc))
    except Exception as exc:  # e.g. out of memory while building
        return _failed(reporter, f"{type(exc).__name__}: {exc}")
    histograms = HistogramRecorder(reporter.add_histograms)
    # The reporter goes last: an epoch row it sends is complete (every callback added to it).
    trainer.callbacks.extend([*callbacks, histograms, reporter])
    return trainer.run()


def _failed(reporter: RunReporter, message: str) -> TrainState:
    state = TrainState(status="failed", message=message)
    reporter.sink(RunUpdate(reporter.run_id, status="failed", message=message, final=True))
    return state


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
    return path.read_bytes()


def _copy_matching(trainer: Trainer, stored: dict[str, torch.Tensor], request: RunRequest) -> None:
    """Copy stored tensors into the trainer's modules where names and shapes match."""
    wanted = request.start_from.modules if request.start_from else None
    single = len(trainer.modules) == 1
    # A one-module run stores plain keys ("0.weight"); several store "name.0.weight".
    stored_single = not any(k.split(".", 1)[0] in trainer.modules for k in stored)
    copied = 0
    with torch.no_grad():
        for name, built in trainer.modules.items():
            if wanted is not None and name not in wanted:
                continue
            for key, tensor in built.module.state_dict().items():
                source = stored.get(key if stored_single and single else f"{name}.{key}")
                if source is not None and source.shape == tensor.shape:
                    tensor.copy_(source)
                    copied += 1
    if copied == 0:
        raise PlaygroundError(
            "None of the stored run's weights fit this model (no layer has the same name and shape).",
            "Start from a run with the same layers, or train from scratch.",
        )
