"""Gradient-noise harvesting for PyTorch models (needs torch; never imports matplotlib).

- :func:`harvest` -- the noise of a model at its current parameters, every
  tail-index protocol side by side (:mod:`stabletail.sgd.protocols`), Gaussianity
  tests and directional statistics, in one tidy table (:class:`HarvestResult`);
  its options as one object, :class:`HarvestOptions`.
- :class:`TailIndexMonitor` -- a hook for a plain training loop that harvests
  every N steps and appends rows to a CSV/JSON log.
- :func:`gaussianity`, :func:`normality_pvalues` -- per-coordinate normality tests.
- :func:`vmf_kappa`, :func:`bessel_ratio`, :func:`direction_summary` -- von
  Mises-Fisher concentration of gradient directions.
- :func:`load_dataset`, :func:`download_dataset` -- MNIST, Fashion-MNIST, CIFAR-10 and
  the embedded offline default; :class:`FCN`, :class:`AlexNetSmall`,
  :func:`build_model` -- the models of the studies.
- :mod:`stabletail.sgd.studies` -- the named reproduction studies (imported on its own).
"""

from __future__ import annotations

from .datasets import (
    DATASETS,
    DatasetNotFoundError,
    ImageDataset,
    default_data_dir,
    download_dataset,
    load_dataset,
)
from .direction import bessel_ratio, direction_summary, vmf_kappa
from .gaussianity import GAUSSIANITY_TESTS, gaussianity, normality_pvalues
from .harvest import MIN_BATCHES, MODEL, TABLE_COLUMNS, HarvestOptions, HarvestResult, harvest
from .models import FCN, AlexNetSmall, build_model, linear_hinge_loss
from .monitor import LOG_COLUMNS, TailIndexMonitor
from .protocols import PER_COORDINATE_ESTIMATORS, PROTOCOLS

__all__ = [
    "harvest",
    "HarvestResult",
    "HarvestOptions",
    "MODEL",
    "TABLE_COLUMNS",
    "MIN_BATCHES",
    "TailIndexMonitor",
    "LOG_COLUMNS",
    "PROTOCOLS",
    "PER_COORDINATE_ESTIMATORS",
    "GAUSSIANITY_TESTS",
    "gaussianity",
    "normality_pvalues",
    "vmf_kappa",
    "bessel_ratio",
    "direction_summary",
    "load_dataset",
    "download_dataset",
    "ImageDataset",
    "DATASETS",
    "DatasetNotFoundError",
    "default_data_dir",
    "FCN",
    "AlexNetSmall",
    "build_model",
    "linear_hinge_loss",
]
