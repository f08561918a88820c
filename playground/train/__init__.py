"""Training: config, trainer with events, pause/resume/stop control."""

from playground.store.histograms import HistogramRow
from playground.train.config import TrainConfig
from playground.train.control import RunControl
from playground.train.events import FINAL_STATUSES, Callback, TrainState
from playground.train.histograms import HistogramRecorder, StepHistogramRecorder
from playground.train.trainer import Trainer

__all__ = [
    "FINAL_STATUSES",
    "Callback",
    "HistogramRecorder",
    "HistogramRow",
    "RunControl",
    "StepHistogramRecorder",
    "TrainConfig",
    "TrainState",
    "Trainer",
]
