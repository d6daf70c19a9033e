"""The shard interface: which minibatch rows this process computes, and how accumulators combine.

The harvest driver (:func:`stabletail.sgd.harvest.run`) computes the
minibatch rows ``[start, stop)`` that its shard names and, after each pass, asks
the shard to turn this process's accumulators into those of the whole
partition. :class:`LocalShard` is the single-process shard (all rows, nothing to
combine); :mod:`stabletail.sgd.distributed` subclasses it with collectives.
"""

from __future__ import annotations

import torch

from ..._typing import SeedLike
from .._noisepass import MainPass
from .._torchstats import PrePass

__all__ = ["LocalShard"]


class LocalShard:
    """All the rows in one process; subclass it to share the rows out.

    Attributes
    ----------
    world_size, rank : int
        Number of shards and this one's number (1 and 0 here).
    device : torch.device
        The model's device (set by the driver before any hook runs).
    """

    world_size: int = 1
    rank: int = 0

    def __init__(self) -> None:
        self.device = torch.device("cpu")

    def seed(self, random_state: SeedLike) -> SeedLike:
        """The random state every shard uses (the same on all).

        Parameters
        ----------
        random_state : int, numpy.random.Generator or None
            The harvest's ``random_state`` option.

        Returns
        -------
        int, numpy.random.Generator or None
        """
        return random_state

    def rows(self, k: int, rank: int | None = None) -> tuple[int, int]:
        """Minibatch rows ``[start, stop)`` of shard ``rank`` (default: this one) out of ``k``.

        Parameters
        ----------
        k : int
            Number of minibatches of the whole partition.
        rank : int, optional
            The shard (default: this one).

        Returns
        -------
        start, stop : int
        """
        return 0, k

    def all_sum(self, t: torch.Tensor) -> torch.Tensor:
        """Sum ``t`` over the shards, in place.

        Parameters
        ----------
        t : torch.Tensor
            This shard's part.

        Returns
        -------
        torch.Tensor
            ``t``, now holding the sum.
        """
        return t

    def any_shard(self, flag: bool) -> bool:
        """True when ``flag`` is True on some shard.

        Parameters
        ----------
        flag : bool
            This shard's value.

        Returns
        -------
        bool
        """
        return flag

    def combine_first_pass(self, pre: PrePass, n_rows: int) -> torch.Tensor:
        """Make ``pre`` hold the first-pass sums of every shard's rows.

        Parameters
        ----------
        pre : PrePass
            This shard's first-pass accumulators, updated in place.
        n_rows : int
            Number of minibatch rows this shard accumulated.

        Returns
        -------
        torch.Tensor
            The zero-noise mask of the whole partition (bool, one per coordinate).
        """
        return pre.zero_mask()

    def combine_noise_pass(self, main: MainPass) -> None:
        """Make ``main`` hold the noise sums of every shard's rows (``MainPass.summable``).

        Parameters
        ----------
        main : MainPass
            This shard's noise-pass accumulators, updated in place.
        """
