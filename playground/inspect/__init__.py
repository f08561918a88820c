"""Inspect a trained model: plain results (arrays, tables, small dataclasses) that the chart
functions in `playground.charts.inspect` draw. Every function takes `(built, dataset, ...)`,
e.g. `loaded.built, loaded.dataset` of a `playground.runner.load_run` result.

hooks.py        one forward pass with hooks on chosen layers (eval mode, batched)
activations.py  every layer's output on a batch: distribution, dead units, feature maps
neurons.py      2-D datasets: each hidden neuron's output over the plane (thumbnails)
evaluation.py   predictions, confusion matrix, per-class scores, worst mistakes / residuals
projection.py   the penultimate representation projected to 2-D with PCA
histograms.py   stored weight/gradient histograms of a layer on one value axis
"""

from playground.inspect.activations import (
    Activations,
    LayerActivation,
    feature_map_rows,
    layer_activations,
)
from playground.inspect.evaluation import (
    Confusion,
    Misclassified,
    Predictions,
    class_report,
    confusion,
    predict_split,
    worst_errors,
    worst_misclassified,
)
from playground.inspect.histograms import HistogramHistory, histogram_history, histogram_layers
from playground.inspect.neurons import NeuronLayer, NeuronMaps, neuron_layers, neuron_maps
from playground.inspect.projection import Projection, penultimate_projection

__all__ = [
    "Activations",
    "Confusion",
    "HistogramHistory",
    "LayerActivation",
    "Misclassified",
    "NeuronLayer",
    "NeuronMaps",
    "Predictions",
    "Projection",
    "class_report",
    "confusion",
    "feature_map_rows",
    "histogram_history",
    "histogram_layers",
    "layer_activations",
    "neuron_layers",
    "neuron_maps",
    "penultimate_projection",
    "predict_split",
    "worst_errors",
    "worst_misclassified",
]
