"""What a run's inner modules receive, so their activations can be inspected like a model's:
a decoder takes the encoder's codes of real rows, a generator takes the run's fixed noise.
Modules fed the data itself (a supervised model, an encoder, a discriminator) need nothing
from here."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from playground.data import Dataset
from playground.errors import PlaygroundError
from playground.inspect.hooks import select_rows
from playground.model.build import BuiltModel

# Modules whose input is not the data, whatever its shape (a 2-D GAN's noise is 2-D too).
NOT_FED = ("decoder", "generator")


def fed_by_data(name: str | None, built: BuiltModel, dataset: Dataset) -> bool:
    """Whether the module `name` (None: a supervised run's model) takes the data's rows."""
    return name not in NOT_FED and tuple(built.input_shape) == tuple(dataset.input_shape)


@torch.no_grad()
def module_inputs(
    modules: Mapping[str, BuiltModel],
    module: str,
    dataset: Dataset,
    split: str,
    limit: int,
    seed: int = 0,
) -> tuple[torch.Tensor, str]:
    """(inputs for `module`, what they are in words): the encoder's mean codes of the
    split's first `limit` rows for a decoder, the run's fixed noise (its coverage noise, the
    samples the Generative page shows) for a generator."""
    built = modules[module]
    if module == "decoder" and "encoder" in modules:
        # Here, not at the top: the modes import the inspect package's users.
        from playground.train.modes.autoencoder import split_code

        _, x, _ = select_rows(dataset, split, None, limit)
        encoder = modules["encoder"].module.eval()
        codes, _ = split_code(encoder(x), int(built.input_shape[0]))
        return codes, f"the encoder's codes of {len(codes)} {split} rows"
    if module == "generator":
        from playground.analysis.gan import gan_noise

        noise = gan_noise(int(built.input_shape[0]), seed, count=limit)
        return noise, f"{len(noise)} vectors of the run's fixed noise"
    raise PlaygroundError(
        f"The {module} of this run is not fed the data, and the playground does not know "
        "what it receives.",
        "Pick a module the data flows into.",
    )
