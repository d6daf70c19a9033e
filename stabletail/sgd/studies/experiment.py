"""The body of every study cell: train a model with plain SGD, measure the noise at checkpoints.

One cell = one configuration and one seed. The seed fixes the initialisation
(:func:`stabletail.sgd.models.build_model`) and the order of the minibatches;
every learning rate, width, activation... starts from its own fresh model.
At every checkpoint (an epoch count; 0 is the initialisation) the gradient noise
is harvested on each requested split at each requested harvest batch size, and
the measurements become tidy rows (:func:`measure` is the one place that talks
to the harvester).
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import torch

from ..datasets import ImageDataset, load_dataset
from ..models import build_model, get_loss

__all__ = ["run_cell", "measure"]

_MODEL_KEYS = {
    "fcn": ("width", "depth", "activation", "bias"),
    "alexnet": ("width", "activation", "dropout"),
}


@functools.lru_cache(maxsize=4)
def _dataset(
    name: str, data_dir: str | None, n_train: int | None, n_test: int | None, scaling: str
) -> ImageDataset:
    return load_dataset(name, data_dir, scaling=scaling).subset(n_train, n_test)


def _evaluate(model: torch.nn.Module, loss_fn: Any, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            loss, correct = 0.0, 0
            for i in range(0, len(y), 2000):
                out = model(x[i : i + 2000])
                loss += float(loss_fn(out, y[i : i + 2000])) * len(out)
                correct += int((out.argmax(1) == y[i : i + 2000]).sum())
    finally:
        model.train(was_training)
    return loss / len(y), correct / len(y)


def measure(
    model: torch.nn.Module,
    loss_fn: Any,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    params: Mapping[str, Any],
    seed: int,
) -> list[dict[str, Any]]:
    """Harvest the gradient noise at the current parameters and return tidy rows.

    Parameters
    ----------
    model, loss_fn
        Model and loss.
    x, y : torch.Tensor
        The split on which the noise is measured (fixed partition into
        minibatches of ``batch_size``, the published protocol).
    batch_size : int
        Harvest batch size.
    params : mapping
        Cell parameters; uses ``measures`` (subset of ``"alpha"``,
        ``"gaussianity"``, ``"direction"``), ``protocols`` (None = all),
        ``level``, ``harvest_options`` (passed to the harvester) and ``per_example``
        (when true, ``batch_size == 1`` is harvested with ``sampling="per_example"``:
        ``n_batches`` distinct single examples).
    seed : int
        Seed of the harvester's random subsets.

    Returns
    -------
    list of dict
        Rows with a ``measure`` column and that measure's columns.
    """
    from ..gaussianity import GAUSSIANITY_TESTS
    from ..harvest import MODEL, harvest
    from ..protocols import PROTOCOLS

    measures = set(params.get("measures", ["alpha"]))
    options = dict(params.get("harvest_options") or {})
    if params.get("per_example") and int(batch_size) == 1:  # b = 1: K distinct single examples
        options["sampling"] = "per_example"
    res = harvest(
        model, loss_fn, (x, y), batch_size,
        protocols=tuple(params.get("protocols") or PROTOCOLS) if "alpha" in measures else (),
        gaussianity_tests=GAUSSIANITY_TESTS if "gaussianity" in measures else None,
        directions="direction" in measures,
        level=float(params.get("level", 0.95)),
        random_state=int(seed),
        progress=False,
        **options,
    )
    common = {"harvest_status": res.status, "n_batches": res.n_batches}
    out: list[dict[str, Any]] = []
    for measure_name, table in (
        ("alpha", res.table),
        ("gaussianity", res.gaussianity),
        ("direction", res.directions),
    ):
        if measure_name not in measures:
            continue
        for row in table:
            r = {k: v for k, v in row.items() if k not in ("batch_size", "n_batches", "status")}
            r["layer"] = "model" if row["layer"] == MODEL else row["layer"]
            if measure_name == "alpha":  # 0 where too few minibatches make the row uninformative
                r["informative"] = 0.0 if str(row.get("status", "")).startswith("too_few") else 1.0
            out.append({"measure": measure_name, **r, "status": row.get("status", res.status), **common})
    return out


def run_cell(
    params: Mapping[str, Any],
    seed: int,
    device: str = "cpu",
    data_dir: str | None = None,
    *,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Train a fresh model and measure it at every checkpoint (one study cell).

    Parameters
    ----------
    params : mapping
        Cell parameters: ``dataset``, ``n_train``, ``n_test``, ``scaling`` (of the
        inputs, see :func:`~stabletail.sgd.datasets.load_dataset`), ``model``
        (``"fcn"`` or ``"alexnet"``) and its ``width``/``depth``/``activation``/
        ``bias``, ``loss``, ``lr``, ``momentum``, ``batch_size``, ``checkpoints``
        (epochs), ``splits``, ``harvest_batch_sizes`` (None = ``batch_size``),
        ``dtype`` and the measurement options of :func:`measure`.
    seed : int
        Initialisation and data-order seed.
    device : str
        torch device.
    data_dir : str, optional
        Data directory.
    progress : bool
        Show a progress bar over the checkpoints.

    Returns
    -------
    list of dict
        Tidy rows: the scalar parameters, ``epoch``, ``step``, ``split``,
        ``harvest_batch_size``, the training state at the checkpoint
        (``train_loss``, ``train_acc``, ``test_acc``) and the measurements.
    """
    data = _dataset(params["dataset"], data_dir, params.get("n_train"), params.get("n_test"),
                    params.get("scaling", "standardize"))
    dtype = getattr(torch, params.get("dtype", "float32"))
    kind = params.get("model", "fcn")
    spec = {"kind": kind, **{k: params[k] for k in _MODEL_KEYS[kind] if k in params}}
    model = build_model(spec, data.input_shape, data.n_classes, seed=seed, dtype=dtype, device=device)
    loss_fn = get_loss(params.get("loss", "cross_entropy"))
    splits = {s: data.tensors(s, device, dtype) for s in ("train", "test")}
    xtr, ytr = splits["train"]
    bs = int(params["batch_size"])
    opt = torch.optim.SGD(
        model.parameters(), lr=float(params["lr"]), momentum=float(params.get("momentum", 0.0))
    )
    gen = torch.Generator().manual_seed(int(seed))
    base = {k: v for k, v in params.items() if isinstance(v, (str, int, float, bool))}
    hbs = params.get("harvest_batch_sizes") or [bs]
    rows: list[dict[str, Any]] = []
    epoch, step, diverged = 0, 0, False
    checkpoints = sorted(set(int(c) for c in params["checkpoints"]))
    if progress:
        from tqdm.auto import tqdm

        checkpoints = tqdm(
            checkpoints, desc=f"seed {seed}: epochs", unit="checkpoint", leave=False, position=1
        )
    for cp in checkpoints:
        while epoch < cp and not diverged:
            model.train()
            order = torch.randperm(len(ytr), generator=gen).to(device)
            for i in range(0, len(ytr) - bs + 1, bs):  # the incomplete last batch is dropped
                idx = order[i : i + bs]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xtr[idx]), ytr[idx])
                if not torch.isfinite(loss):
                    diverged = True
                    break
                loss.backward()
                opt.step()
                step += 1
            epoch += 1
        if diverged:
            rows.append({**base, "epoch": cp, "step": step, "status": "diverged"})
            break
        train_loss, train_acc = _evaluate(model, loss_fn, xtr, ytr)
        _, test_acc = _evaluate(model, loss_fn, *splits["test"])
        state = {
            "epoch": cp,
            "step": step,
            "train_loss": train_loss,
            "train_acc": train_acc,
            "test_acc": test_acc,
        }
        for split in params.get("splits", ["train"]):
            x, y = splits[split]
            for hb in hbs:
                if int(hb) > len(y):
                    continue
                for r in measure(model, loss_fn, x, y, int(hb), params, seed):
                    rows.append({**base, **state, "split": split, "harvest_batch_size": int(hb), **r})
    return rows
