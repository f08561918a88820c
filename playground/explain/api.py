"""The one entry point pages, the CLI and reports call: run a method on a stored run, with
validation, timing and a small in-process cache."""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import asdict

import torch

from playground.errors import PlaygroundError
from playground.explain import methods as _methods  # noqa: F401  (registers every method)
from playground.explain._captum_helpers import check_method
from playground.explain.base import METHODS, Attribution, ExplainRequest, MethodInfo, Progress
from playground.explain.context import ExplainContext
from playground.store import RunStore

CACHE_SIZE = 32  # attributions kept per process
CONTEXT_CACHE_SIZE = 4  # loaded runs kept per process (datasets can take a second to build)

# Captum adds hooks to the model's modules while it runs; two explanations of one model at
# once would see each other's hooks, so they take turns.
_model_locks: weakref.WeakKeyDictionary[torch.nn.Module, threading.Lock] = (
    weakref.WeakKeyDictionary()
)
_locks_guard = threading.Lock()


def _quiet(fraction: float, message: str) -> None:
    return None


def available_methods(ctx: ExplainContext) -> list[MethodInfo]:
    """The registered methods that can explain this run (data kind, tokens, conv and hidden
    layers), in registration order."""
    usable = []
    for info in METHODS.values():
        try:
            check_method(ctx, info)
        except PlaygroundError:
            continue
        usable.append(info)
    return usable


def method_info(name: str) -> MethodInfo:
    """The registry entry for `name`; PlaygroundError listing the choices otherwise."""
    info = METHODS.get(name)
    if info is None:
        raise PlaygroundError(
            f"Unknown explanation method {name!r}.",
            f"Choose one of: {', '.join(sorted(METHODS))}.",
        )
    return info


def explain(
    ctx: ExplainContext, request: ExplainRequest, progress: Progress | None = None
) -> Attribution:
    """Run `request.method` on the context. Raises PlaygroundError (unknown method, wrong
    data kind, bad layer...) or Cancelled (from `progress`). Fills `seconds` and `params`."""
    info = method_info(request.method)
    check_method(ctx, info)
    start = time.perf_counter()
    with _lock_for(ctx.built.module):
        attr = info.fn(ctx, request, progress or _quiet)
    attr.seconds = time.perf_counter() - start
    attr.params = {**asdict(request), **attr.params}
    return attr


def weights_fingerprint(ctx: ExplainContext) -> str:
    """A short hash of the model's parameters and buffers: new weights, new fingerprint."""
    digest = hashlib.blake2b(digest_size=8)
    with torch.no_grad():
        for name, tensor in ctx.built.module.state_dict().items():
            digest.update(name.encode())
            digest.update(
                tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
            )
    return digest.hexdigest()


def cache_key(ctx: ExplainContext, request: ExplainRequest) -> str:
    """Request + run + the weights it ran on (a still-training run's newer checkpoint is a
    different key). Also a good `TaskRunner.submit` key."""
    return f"{request.key(ctx.run_id)}-{weights_fingerprint(ctx)}"


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[object, object] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: object) -> object | None:
        with self.lock:
            if key not in self.items:
                return None
            self.items.move_to_end(key)
            return self.items[key]

    def put(self, key: object, value: object) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_results = _LRU(CACHE_SIZE)
_contexts = _LRU(CONTEXT_CACHE_SIZE)


def explain_cached(
    ctx: ExplainContext, request: ExplainRequest, progress: Progress | None = None
) -> Attribution:
    """`explain`, served from the in-process cache when this request already ran on these
    weights. The cached Attribution is shared: treat it as read-only."""
    key = cache_key(ctx, request)
    hit = _results.get(key)
    if isinstance(hit, Attribution):
        return hit
    attr = explain(ctx, request, progress)
    _results.put(key, attr)
    return attr


def clear_cache() -> None:
    """Forget cached attributions and loaded runs."""
    _results.clear()
    _contexts.clear()


def context_for_run(run_id: str, store: RunStore | None = None) -> ExplainContext:
    """Load a stored run (dataset, model, latest saved weights) ready to explain.

    Loaded runs are kept while their weights file is unchanged, so coming back to a run is
    instant while a still-training run's newer checkpoint is picked up.
    """
    from playground.runner import load_run

    store = store or RunStore()
    path = store.weights_path(run_id)
    stamp = path.stat().st_mtime_ns if path.exists() else None
    key = (str(store.root.resolve()), run_id, stamp)
    hit = _contexts.get(key)
    if isinstance(hit, ExplainContext):
        return hit
    loaded = load_run(run_id, store)  # RunNotFoundError (a PlaygroundError) if missing
    ctx = ExplainContext.of(run_id, loaded.dataset, loaded.built)
    _contexts.put(key, ctx)
    return ctx


def _lock_for(module: torch.nn.Module) -> threading.Lock:
    with _locks_guard:
        lock = _model_locks.get(module)
        if lock is None:
            lock = _model_locks[module] = threading.Lock()
        return lock
