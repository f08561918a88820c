"""The Sweep page's form: what to vary (training options, layer parameters, the depth) with
ranges prefilled around the session's current values, and how to search (budget, sampler,
pruner, where trials run). Returns plain engine objects; nothing here runs a sweep."""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from playground.errors import PlaygroundError
from playground.model.spec import layer_kinds
from playground.sweeps.config import (
    OBJECTIVES,
    PRUNER_TITLES,
    PRUNERS,
    RAY_ENV,
    SAMPLER_TITLES,
    SAMPLERS,
)
from playground.sweeps.space import (
    MAX_REPEATS,
    Param,
    SearchSpace,
    activation_kinds,
    training_default,
    tunable_parameters,
)
from playground.train.config import TrainConfig

# Options a sweep over one model does not vary: where it runs and what it records.
NOT_SWEPT = ("device", "cpu_threads", "record_every", "augment", "reweigh")
HOW = {"range": "range", "log": "log range", "choice": "choice", "fixed": "fixed"}


def _options_of(name: str, default: Param) -> list[Any] | None:
    """Every value a choice parameter may take (for the multiselect), or None for ranges."""
    if name.endswith(".kind"):
        return activation_kinds()
    field = TrainConfig.model_fields.get(name)
    if field is not None:
        if field.annotation is bool:
            return [True, False]
        args = getattr(field.annotation, "__args__", None)
        if args and all(isinstance(a, str) for a in args):
            return list(args)
    return list(default.choices or []) if default.kind == "choice" else None


def param_widgets(default: Param, label: str, key: str) -> Param:
    """One parameter's row: a choice list, or how it varies (range, log range, fixed) and
    its bounds. Returns the Param the widgets describe."""
    options = _options_of(default.name, default)
    if options is not None:
        picked = st.multiselect(
            label, options, default=[c for c in default.choices or [] if c in options], key=key
        )
        if len(picked) == 1:
            return Param(name=default.name, kind="fixed", value=picked[0])
        return Param(name=default.name, kind="choice", choices=picked or default.choices)
    is_int = default.kind == "int"
    how_col, low_col, high_col = st.columns([1, 1, 1])
    hows = ["range", "log", "fixed"]
    start = "log" if default.log else "range"
    how = how_col.selectbox(
        label, hows, index=hows.index(start), format_func=HOW.get, key=f"{key}_how"
    )
    cast = int if is_int else float
    low_value = cast(default.low if default.low is not None else default.value or 0)
    high_value = cast(default.high if default.high is not None else low_value)
    step = 1 if is_int else None
    fmt = None if is_int else "%g"
    low = low_col.number_input(
        "value" if how == "fixed" else "from",
        value=low_value,
        step=step,
        format=fmt,
        key=f"{key}_low",
    )
    if how == "fixed":
        return Param(name=default.name, kind="fixed", value=cast(low))
    high = high_col.number_input("to", value=high_value, step=step, format=fmt, key=f"{key}_high")
    return Param(
        name=default.name,
        kind="int" if is_int else "float",
        low=float(low),
        high=float(high),
        log=how == "log",
    )


def space_editor(layers: list[dict[str, Any]], config: dict[str, Any]) -> SearchSpace:
    """Widgets for the search space, prefilled from the session's spec and options. Raises
    PlaygroundError for bounds that make no range (low above high, a log range from 0)."""
    st.markdown("**Training options**")
    options = [f for f in TrainConfig.model_fields if f not in NOT_SWEPT]
    chosen = st.multiselect(
        "Training options to vary",
        options,
        default=["lr"],
        format_func=TrainConfig.title,
        key="sw_options",
    )
    params: list[Param] = []
    try:
        for name in chosen:
            default = training_default(name, config.get(name, _field_default(name)))
            params.append(param_widgets(default, TrainConfig.title(name), f"sw_opt_{name}"))
        st.markdown("**Layer parameters**")
        tunables = {t.address: t for t in tunable_parameters({"layers": layers})}
        first_width = next((a for a in tunables if a.endswith("out_features")), None)
        picked = st.multiselect(
            "Layer parameters to vary",
            list(tunables),
            default=[first_width] if first_width else [],
            format_func=lambda a: tunables[a].label,
            key="sw_layers",
            help="Layers count from 0, as on the Build page. 'activation' swaps the layer's kind.",
        )
        for address in picked:
            tunable = tunables[address]
            params.append(param_widgets(tunable.default, tunable.label, f"sw_layer_{address}"))
        repeat = _repeat_widgets(layers)
        if repeat is not None:
            params.append(repeat)
        return SearchSpace(params=params)
    except ValueError as exc:  # pydantic's: bounds that make no range
        text = str(exc).split("\n")[-2 if "\n" in str(exc) else -1].strip()
        raise PlaygroundError(
            f"The search space is not valid: {text.removeprefix('Value error, ')}",
            "Check the bounds: 'from' at most 'to', and a log range from above 0.",
        ) from None


def _field_default(name: str) -> Any:
    return TrainConfig.model_fields[name].get_default(call_default_factory=True)


def _repeat_widgets(layers: list[dict[str, Any]]) -> Param | None:
    if not st.checkbox(
        "Vary the depth: repeat a block of layers",
        key="sw_repeat_on",
        help="The block's layers appear this many times in a trial's model (1 = as built).",
    ):
        return None
    kinds = layer_kinds()

    def label(i: int) -> str:
        return f"{i} {kinds[layers[i]['kind']].model_validate(layers[i]).describe()}"

    c1, c2, c3, c4 = st.columns(4)
    count = len(layers)
    first = c1.selectbox(
        "First layer of the block", range(count), format_func=label, key="sw_rep_first"
    )
    last = c2.selectbox(
        "Last layer of the block",
        range(first, count),
        index=min(1, count - 1 - first),
        format_func=label,
        key="sw_rep_last",
    )
    low = c3.number_input("Fewest copies", 1, MAX_REPEATS, 1, key="sw_rep_low")
    high = c4.number_input("Most copies", 1, MAX_REPEATS, 3, key="sw_rep_high")
    return Param(name=f"repeat.{first}-{last}", kind="int", low=int(low), high=int(high))


def sweep_settings(capacity: int) -> dict[str, Any]:
    """Budget and search: the SweepConfig fields besides the base run and the space."""
    st.markdown("**Budget and search**")
    c1, c2, c3 = st.columns(3)
    trials = c1.number_input("Trials", 1, 500, 12, key="sw_trials")
    minutes = c2.number_input(
        "Time budget (minutes, 0 = none)", 0.0, 24 * 60.0, 0.0, step=1.0, key="sw_minutes"
    )
    workers = c3.number_input(
        "Trials at once",
        1,
        64,
        min(2, capacity),
        key="sw_workers",
        help=f"This machine trains {capacity} runs at once; on Ray, as many as its CPUs allow.",
    )
    c4, c5, c6 = st.columns(3)
    sampler = c4.selectbox(
        "Sampler", list(SAMPLERS), format_func=SAMPLER_TITLES.get, key="sw_sampler"
    )
    pruner = c5.selectbox(
        "Pruning", list(PRUNERS), index=1, format_func=PRUNER_TITLES.get, key="sw_pruner"
    )
    objective = c6.selectbox(
        "Objective",
        list(OBJECTIVES),
        format_func=lambda o: "auto (validation accuracy, or R²)" if o == "auto" else o,
        key="sw_objective",
    )
    c7, c8 = st.columns(2)
    ray = c7.text_input(
        "Ray address",
        value=os.environ.get(RAY_ENV, ""),
        placeholder="empty: this machine's worker processes",
        key="sw_ray",
        help="auto, HOST:6379 or ray://HOST:10001 to train the trials on a Ray cluster (see the "
        "README); 'local' starts Ray in this server.",
    )
    name = c8.text_input("Sweep name", placeholder="optional", key="sw_name")
    return {
        "trials": int(trials),
        "timeout": float(minutes) * 60 if minutes else None,
        "workers": int(workers),
        "sampler": sampler,
        "pruner": pruner,
        "objective": objective,
        "ray_address": ray.strip() or None,
        "name": name.strip(),
    }
