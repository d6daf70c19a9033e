"""Models of the gradient-noise studies: fully connected nets and a small AlexNet-style CNN.

- :class:`FCN` -- ``depth`` linear layers of ``width`` units with an activation
  between them (depth 2 is input-width-classes, the 784-100-10 net of the
  student study; Simsekli et al. 2019 vary width 4..1024 and depth 2..10 and use
  no bias).
- :class:`AlexNetSmall` -- five convolutions with ``width`` channels and three
  max-pools, then a three-layer classifier (the CIFAR "AlexNet" of Simsekli
  et al. 2019, whose width option scales the number of channels), He-initialised
  (He et al. 2015) so that its eight ReLU layers train from the first steps.
- :func:`linear_hinge_loss` -- the multi-class linear hinge loss of that study.
- :func:`build_model` -- construct either from a plain dict (the study configs),
  with a seeded initialisation that leaves torch's global RNG untouched.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch
from torch import nn

from .._validation import check_choice, check_int, check_scalar

__all__ = ["ACTIVATIONS", "FCN", "AlexNetSmall", "build_model", "linear_hinge_loss", "LOSSES", "get_loss"]

#: Activation layers by name (the ``activation`` of :class:`FCN` and :func:`build_model`).
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
    "identity": nn.Identity,
}


class FCN(nn.Module):
    """Fully connected classifier.

    Parameters
    ----------
    input_dim : int
        Number of inputs (images are flattened).
    width : int
        Units of every hidden layer.
    depth : int
        Number of linear layers (>= 1); depth 2 has one hidden layer.
    n_classes : int
        Outputs.
    activation : str
        One of :data:`ACTIVATIONS`.
    bias : bool
        Whether the linear layers have a bias.
    """

    def __init__(
        self,
        input_dim: int = 784,
        width: int = 100,
        depth: int = 2,
        n_classes: int = 10,
        activation: str = "relu",
        bias: bool = False,
    ) -> None:
        super().__init__()
        input_dim = check_int("input_dim", input_dim, 1)
        width = check_int("width", width, 1)
        depth = check_int("depth", depth, 1)
        n_classes = check_int("n_classes", n_classes, 1)
        check_choice("activation", activation, ACTIVATIONS)
        dims = [input_dim] + [width] * (depth - 1) + [n_classes]
        layers: list[nn.Module] = []
        for i in range(depth):
            layers.append(nn.Linear(dims[i], dims[i + 1], bias=bool(bias)))
            if i < depth - 1:
                layers.append(ACTIVATIONS[activation]())
        self.net = nn.Sequential(*layers)
        self.input_dim = input_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch.

        Parameters
        ----------
        x : torch.Tensor
            A batch of inputs, ``(n, ...)`` with ``input_dim`` values per row once flattened.

        Returns
        -------
        torch.Tensor
            ``(n, n_classes)`` logits.
        """
        return self.net(x.reshape(x.shape[0], self.input_dim))


class AlexNetSmall(nn.Module):
    """Small AlexNet-style CNN (five convolutions, three max-pools, three linear layers).

    Parameters
    ----------
    in_channels : int
        Image channels (1 for MNIST, 3 for CIFAR-10).
    image_size : int
        Height = width of the input images (>= 16).
    n_classes : int
        Outputs.
    width : int
        Channels of every convolution (Simsekli et al.'s scale; 64 in their default).
    hidden : int, optional
        Units of the two hidden linear layers (default ``4 * width``).
    activation : str
        One of :data:`ACTIVATIONS`.
    dropout : float
        Dropout probability before the hidden linear layers (inactive in eval mode).
    init : {"he", "torch"}
        ``"he"`` (default): every weight drawn from ``N(0, 2 / fan_in)`` and every
        bias 0 (He et al. 2015, "Delving deep into rectifiers"), which keeps the
        variance of the activations constant through ReLU layers; ``"torch"``:
        PyTorch's default (uniform, bound ``1 / sqrt(fan_in)``), under which the
        signal shrinks by about ``sqrt(3)`` per layer and the eight-layer net
        learned nothing in 10 epochs on the embedded digits (test accuracy 0.10).
    """

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 32,
        n_classes: int = 10,
        width: int = 64,
        hidden: int | None = None,
        activation: str = "relu",
        dropout: float = 0.5,
        init: str = "he",
    ) -> None:
        super().__init__()
        check_choice("init", init, ("he", "torch"))
        in_channels = check_int("in_channels", in_channels, 1)
        image_size = check_int("image_size", image_size, 16)
        width = check_int("width", width, 1)
        hidden = 4 * width if hidden is None else check_int("hidden", hidden, 1)
        dropout = check_scalar("dropout", dropout, 0.0, 1.0, high_open=True)
        check_choice("activation", activation, ACTIVATIONS)
        act = ACTIVATIONS[activation]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, kernel_size=4, stride=2, padding=2), act(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(width, width, kernel_size=5, padding=2), act(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(width, width, kernel_size=3, padding=1), act(),
            nn.Conv2d(width, width, kernel_size=3, padding=1), act(),
            nn.Conv2d(width, width, kernel_size=3, padding=1), act(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, in_channels, image_size, image_size)).numel()
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(n_flat, hidden), act(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), act(),
            nn.Linear(hidden, n_classes),
        )
        if init == "he":
            with torch.no_grad():
                for mod in self.modules():
                    if isinstance(mod, (nn.Conv2d, nn.Linear)):
                        mod.weight.normal_(0.0, math.sqrt(2.0 / mod.weight[0].numel()))
                        mod.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch.

        Parameters
        ----------
        x : torch.Tensor
            A batch of images, ``(n, in_channels, image_size, image_size)``.

        Returns
        -------
        torch.Tensor
            ``(n, n_classes)`` logits.
        """
        return self.classifier(self.features(x).flatten(1))


def linear_hinge_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Multi-class linear hinge loss, mean over samples and classes.

    With ``t_ic = +1`` for the true class and ``-1`` otherwise, the loss is
    ``mean_{i,c} max(0, 1 - t_ic * output_ic)`` (Simsekli et al. 2019).

    Parameters
    ----------
    output : torch.Tensor
        Scores, shape ``(n, n_classes)``.
    target : torch.Tensor
        int64 labels, shape ``(n,)``.

    Returns
    -------
    torch.Tensor
        Scalar loss.
    """
    signs = torch.full_like(output, -1.0)
    signs.scatter_(1, target.unsqueeze(1), 1.0)
    return torch.clamp(1.0 - signs * output, min=0.0).mean()


#: Loss functions by name (:func:`get_loss`).
LOSSES = {"cross_entropy": nn.functional.cross_entropy, "linear_hinge": linear_hinge_loss}


def get_loss(name: str) -> Any:
    """The loss function called ``name``.

    Parameters
    ----------
    name : {"cross_entropy", "linear_hinge"}
        A key of :data:`LOSSES`.

    Returns
    -------
    callable
        ``loss(logits, targets) -> scalar tensor``.

    Raises
    ------
    ValueError
        If ``name`` is not a known loss.
    """
    return LOSSES[check_choice("loss", name, LOSSES)]


def build_model(
    spec: Mapping[str, Any],
    input_shape: tuple[int, ...],
    n_classes: int,
    *,
    seed: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: Any = "cpu",
) -> nn.Module:
    """Build a model from a plain specification.

    Parameters
    ----------
    spec : mapping
        ``{"kind": "fcn", "width": ..., "depth": ..., "activation": ..., "bias": ...}``
        or ``{"kind": "alexnet", "width": ..., ...}``; other keys are passed to the
        class.
    input_shape : tuple of int
        ``(channels, height, width)`` of one input.
    n_classes : int
        Outputs.
    seed : int, optional
        Seed of the initialisation. The global torch RNG is forked, so the
        caller's random state is unchanged.
    dtype, device
        Parameter dtype and device.

    Returns
    -------
    torch.nn.Module
    """
    spec = dict(spec)
    kind = check_choice("kind", spec.pop("kind", "fcn"), ("fcn", "alexnet"))
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(check_int("seed", seed, 0))
        if kind == "fcn":
            model: nn.Module = FCN(input_dim=math.prod(input_shape), n_classes=n_classes, **spec)
        else:
            model = AlexNetSmall(
                in_channels=input_shape[0], image_size=input_shape[-1], n_classes=n_classes, **spec
            )
    return model.to(device=device, dtype=dtype)
