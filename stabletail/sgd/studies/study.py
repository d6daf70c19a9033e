"""What a study is: a :class:`Study` (axes, presets, summary keys, figures), the registry
:data:`STUDIES` the catalog fills, and the defaults the presets share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["Study", "STUDIES", "FigureSpec"]


@dataclass(frozen=True)
class FigureSpec:
    """One PNG: ``y`` (a summary metric) against ``x``, a line per ``hue``, panels by ``col``/``row``.

    ``where`` keeps only summary rows whose columns equal the given values
    (``"last"`` means the largest value of that column); ``hline`` draws a
    reference line; ``ref`` names a metric drawn dashed as a reference (for
    example the expected fraction under the null).
    """

    file: str
    y: str
    x: str
    hue: str | None = None
    col: str | None = None
    row: str | None = None
    where: Mapping[str, Any] = field(default_factory=dict)
    logx: bool = False
    hline: float | None = None
    ref: str | None = None
    title: str = ""
    ylabel: str = ""


@dataclass(frozen=True)
class Study:
    """A named experiment: config in, tidy rows out.

    Attributes
    ----------
    name, description : str
        Name and one-line description.
    claim : str
        The published claim the study tests.
    axes : tuple of str
        Config entries that are lists spanning the grid (one cell per
        combination and seed).
    presets : mapping
        ``"quick"`` and ``"paper"`` configurations.
    figures : tuple of FigureSpec
        Figures drawn from the seed-aggregated summary.
    """

    name: str
    description: str
    claim: str
    axes: tuple[str, ...]
    presets: Mapping[str, Mapping[str, Any]]
    figures: tuple[FigureSpec, ...] = ()
    keys: tuple[str, ...] = (
        "dataset", "scaling", "model", "loss", "activation", "width", "depth", "lr", "batch_size",
        "epoch", "step", "split", "harvest_batch_size", "measure", "protocol", "layer", "zeros", "test",
    )
    metrics: tuple[str, ...] = (
        "alpha", "fraction_not_rejected", "expected_fraction", "kappa", "resultant_length",
        "resultant_length_uniform", "norm_cv", "train_loss", "train_acc", "test_acc", "informative",
    )

    def run(
        self, params: dict[str, Any], seed: int, device: str = "cpu", data_dir: str | None = None,
        progress: bool = False,
    ) -> list[dict]:
        """Run one cell of this study (see :func:`~stabletail.sgd.studies.experiment.run_cell`).

        Parameters
        ----------
        params : dict
            The cell's configuration (one value per axis).
        seed : int
            The cell's seed.
        device : str, default "cpu"
            Where to train and harvest.
        data_dir : str, optional
            See :func:`~stabletail.sgd.datasets.default_data_dir`.
        progress : bool, default False
            Show progress bars.

        Returns
        -------
        list of dict
            The cell's rows.
        """
        from .experiment import run_cell

        return run_cell(params, seed, device=device, data_dir=data_dir, progress=progress)


def base_config(**kw: Any) -> dict[str, Any]:
    """Defaults shared by the studies: the 784-100-10 bias-free ReLU net, SGD, b = 500, lr = 0.1."""
    cfg: dict[str, Any] = {
        "dataset": ["mnist5k"],
        "n_train": None,
        "n_test": None,
        "scaling": "standardize",
        "model": "fcn",
        "width": 100,
        "depth": 2,
        "activation": "relu",
        "bias": False,
        "loss": "cross_entropy",
        "lr": 0.1,
        "momentum": 0.0,
        "batch_size": 500,
        "dtype": "float32",
        "checkpoints": [0, 1, 2, 4, 8],
        "splits": ["train"],
        "harvest_batch_sizes": None,
        "measures": ["alpha"],
        "protocols": None,
        "level": 0.95,
        "harvest_options": {},
        "seeds": [0, 1, 2],
    }
    cfg.update(kw)
    return cfg


WHOLE_MODEL = {"layer": "model", "measure": "alpha", "zeros": "included"}

#: The named studies, ``{name: Study}``, in the order the CLI lists them.
STUDIES: dict[str, Study] = {}


def register_study(study: Study) -> None:
    STUDIES[study.name] = study
