"""The harvest's result: the table's columns (defined once), the result type and its files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._io import atomic_write, csv_text, write_json
from ..._validation import check_choice
from ..protocols import min_batches

#: The ``layer`` value of whole-model rows.
MODEL = "__model__"

#: ``{protocol: the fewest minibatches K at which its rows inform}`` (from the registry,
#: :mod:`stabletail.sgd.protocols`; the measurements behind each floor are in its module). Rows
#: below get status ``"too_few_minibatches(K>=...)"``.
MIN_BATCHES: dict[str, int] = min_batches()

#: Columns of :attr:`HarvestResult.table`, in order.
TABLE_COLUMNS: tuple[str, ...] = (
    "layer",
    "protocol",
    "zeros",
    "estimator",
    "alpha",
    "stderr",
    "ci_low",
    "ci_high",
    "level",
    "n",
    "block_size",
    "n_coordinates",
    "n_zero",
    "q05",
    "q25",
    "q75",
    "q95",
    "frac_ge_2",
    "n_batches",
    "batch_size",
    "status",
)


@dataclass(frozen=True, eq=False)
class HarvestResult:
    """Gradient noise of a model at one set of parameters.

    Attributes
    ----------
    status : str
        ``"ok"``; ``"nonfinite"`` when some minibatch gradient (or loss) is
        NaN/inf (a diverged run: no statistic is computed, ``alpha`` is NaN);
        ``"inconsistent_batches"`` when the second pass of a streaming harvest
        saw different minibatches than the first (a data loader that
        reshuffles; the statistics are then unreliable).
    message : str
        Human-readable explanation of ``status``.
    table : tuple of dict
        The tidy tail-index table, one row per (layer, protocol, zeros); keys
        :data:`TABLE_COLUMNS`:

        - ``layer``: parameter name, or :data:`MODEL` for the whole model;
        - ``protocol``: ``"pooled"``, ``"standardized"``, ``"per_coordinate"``, ``"norm"``;
        - ``zeros``: ``"included"`` or ``"excluded"`` (zero-noise coordinates);
        - ``estimator``: ``"mohammadi"`` or ``"log_moment"``;
        - ``alpha``, ``stderr``, ``ci_low``, ``ci_high``, ``level``: the estimate
          and its confidence interval at ``level`` (for ``per_coordinate``: the
          median of the unclipped coordinate alphas and the order-statistic
          interval of the median; it may exceed 2);
        - ``n``: sample size entering the estimate (entries for pooled and
          standardized, coordinates for per_coordinate, noise vectors for norm);
        - ``block_size``: Mohammadi's ``K1`` (0 for log-moment);
        - ``n_coordinates``: coordinates of the layer in this variant;
        - ``n_zero``: zero-noise coordinates of the layer;
        - ``q05``, ``q25``, ``q75``, ``q95``: quantiles of the (unclipped)
          coordinate alphas (per_coordinate only, NaN otherwise);
        - ``frac_ge_2``: fraction of coordinates whose alpha is at or above 2
          (per_coordinate only, NaN otherwise);
        - ``n_batches``, ``batch_size``: ``K`` and the minibatch size;
        - ``status``: ``"ok"``, ``"undefined"`` (no finite estimate possible,
          e.g. a one-element layer with prime ``K``; for ``per_coordinate`` only
          when no coordinate has an estimate: its median is ``inf`` when most
          coordinates of the layer have no noise), ``"too_few_minibatches(K>=32)"``
          (per-coordinate and norm rows with fewer minibatches than
          :data:`MIN_BATCHES` asks: the number is reported but does not inform) or the
          result's status.
    gaussianity : tuple of dict
        One row per (layer, test): ``layer`` plus the keys of
        :func:`stabletail.sgd.gaussianity.gaussianity` (zero-noise coordinates
        are never tested).
    directions : tuple of dict
        One row per layer: ``layer``, ``dim``, ``n``, ``resultant_length``,
        ``resultant_length_uniform``, ``kappa``, ``kappa_banerjee``,
        ``norm_mean``, ``norm_std``, ``norm_cv`` of the minibatch gradients.
    layers : tuple of dict
        One row per parameter tensor and the model: ``layer``, ``shape``,
        ``offset``, ``n_params``, ``n_zero``, ``full_grad_norm``.
    n_batches, batch_size, n_params, n_passes, n_nonfinite : int
        ``K``, the minibatch size (None when the data loader decides), ``d``,
        passes over the data (1 or 2, plus 1 for an exact full gradient), and
        the number of minibatches with a non-finite gradient.
    full_gradient : numpy.ndarray, shape (d,)
        The full gradient (float64).
    grad_norms, noise_norms : numpy.ndarray, shape (K, n_layers + 1)
        Norms of ``g_k`` and of ``e_k`` per layer; last column the whole model.
    batch_losses : numpy.ndarray, shape (K,)
    noise : numpy.ndarray of shape (K, d), or None
        The noise matrix (``store=True`` only).
    per_coordinate_alpha : numpy.ndarray of shape (d,), or None
        ``alpha_j`` of every coordinate, unclipped (``inf`` for zero-noise
        coordinates; ``store=True`` only).
    per_coordinate_jarque_bera : numpy.ndarray of shape (2, d), or None
        The Jarque-Bera statistic (row 0) and p-value (row 1) of every coordinate's
        ``K`` noise values, from the power sums of the noise pass (NaN for zero-noise
        coordinates; ``store=True`` with ``"jarque_bera"`` among the tests only).
    seconds : float
        Wall time of the harvest.
    examples : numpy.ndarray of shape (K,), or None
        ``sampling="per_example"``: the index in ``data`` of the example of each row
        (row ``k`` is the gradient of example ``examples[k]``); None for minibatch rows.
    """

    status: str
    message: str
    table: tuple[dict[str, Any], ...]
    gaussianity: tuple[dict[str, Any], ...]
    directions: tuple[dict[str, Any], ...]
    layers: tuple[dict[str, Any], ...]
    n_batches: int
    batch_size: int | None
    n_params: int
    n_passes: int
    n_nonfinite: int
    full_gradient: np.ndarray
    grad_norms: np.ndarray
    noise_norms: np.ndarray
    batch_losses: np.ndarray
    noise: np.ndarray | None
    per_coordinate_alpha: np.ndarray | None
    seconds: float
    examples: np.ndarray | None = None
    per_coordinate_jarque_bera: np.ndarray | None = None

    def rows(
        self, protocol: str | None = None, layer: str | None = None, zeros: str | None = None
    ) -> list[dict[str, Any]]:
        """Rows of :attr:`table` matching the given values (None matches all).

        Parameters
        ----------
        protocol : str, optional
            A protocol of :data:`~stabletail.sgd.protocols.PROTOCOLS`.
        layer : str, optional
            A parameter tensor's name, or :data:`MODEL` for the whole model.
        zeros : {"included", "excluded"}, optional
            With or without the zero-noise coordinates.

        Returns
        -------
        list of dict
        """
        return [
            r
            for r in self.table
            if (protocol is None or r["protocol"] == protocol)
            and (layer is None or r["layer"] == layer)
            and (zeros is None or r["zeros"] == zeros)
        ]

    def alpha(self, protocol: str = "pooled", layer: str = MODEL, zeros: str = "included") -> float:
        """The ``alpha`` of one row of :attr:`table`.

        Parameters
        ----------
        protocol : str, optional
            A protocol of :data:`~stabletail.sgd.protocols.PROTOCOLS` (default ``"pooled"``).
        layer : str, optional
            A parameter tensor's name, or :data:`MODEL` for the whole model (the default).
        zeros : {"included", "excluded"}, optional
            With or without the zero-noise coordinates (default ``"included"``).

        Returns
        -------
        float

        Raises
        ------
        KeyError
            If the table has no such row.
        """
        found = self.rows(protocol, layer, zeros)
        if not found:
            raise KeyError(f"no row for protocol={protocol!r}, layer={layer!r}, zeros={zeros!r}")
        return float(found[0]["alpha"])

    def to_csv(self, path: str | os.PathLike[str], which: str = "table") -> None:
        """Write :attr:`table` (or ``"gaussianity"``, ``"directions"``, ``"layers"``, ``"examples"``) as
        CSV, atomically. ``"examples"`` (per-example harvests only): one line per row, its ``row``,
        ``example`` (index in ``data``) and ``loss``.

        Parameters
        ----------
        path : path-like
            The file to write.
        which : {"table", "gaussianity", "directions", "layers", "examples"}, default "table"
            Which table.

        Raises
        ------
        ValueError
            For another ``which``, or ``"examples"`` of a harvest of minibatches.
        """
        check_choice("which", which, ("table", "gaussianity", "directions", "layers", "examples"))
        if which == "examples":
            if self.examples is None:
                raise ValueError("which='examples' needs a harvest with sampling='per_example'")
            rows = [{"row": k, "example": int(i), "loss": float(v)}
                    for k, (i, v) in enumerate(zip(self.examples, self.batch_losses))]
            atomic_write(path, csv_text(rows, ["row", "example", "loss"]))
            return
        rows = list(getattr(self, which))
        columns = TABLE_COLUMNS if which == "table" else (list(rows[0]) if rows else [])
        atomic_write(path, csv_text(rows, columns))

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the tables and scalar fields as one JSON document, atomically (NaN and
        infinities become ``null``, as in every JSON file of the package).

        Parameters
        ----------
        path : path-like
            The file to write.
        """
        doc = {
            "status": self.status,
            "message": self.message,
            "n_batches": self.n_batches,
            "batch_size": self.batch_size,
            "n_params": self.n_params,
            "n_passes": self.n_passes,
            "n_nonfinite": self.n_nonfinite,
            "seconds": self.seconds,
            "table": list(self.table),
            "gaussianity": list(self.gaussianity),
            "directions": list(self.directions),
            "layers": list(self.layers),
        }
        if self.examples is not None:
            doc["examples"] = [int(i) for i in self.examples]
        write_json(path, doc)


# ----------------------------------------------------------------------------- data
