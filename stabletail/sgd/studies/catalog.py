"""The seven named studies: presets, grid axes, summary keys and figures.

Each study is data (a :class:`Study`); all of them run the same cell body
(:func:`stabletail.sgd.studies.experiment.run_cell`) with different parameters.

Presets: ``quick`` runs on the embedded ``mnist5k`` digits (4,000 training and
1,000 test images) within minutes on a 2-core CPU; ``paper`` is the published
setup (full data sets, the published grids, 3 seeds), meant for a GPU.
"""

from __future__ import annotations

from .study import STUDIES, WHOLE_MODEL, FigureSpec, Study, base_config, register_study

__all__ = ["Study", "STUDIES", "FigureSpec"]


register_study(
    Study(
        name="activation",
        description=(
            "alpha of the gradient noise vs epoch, ReLU vs sigmoid, train and test noise "
            "(784-100-10, b = 500)"
        ),
        claim="student reproduction: sigmoid noise lighter-tailed than ReLU (about 1.4 vs 1.2 on MNIST)",
        axes=("dataset", "activation"),
        presets={
            "quick": base_config(
                activation=["relu", "sigmoid"],
                checkpoints=[0, 1, 2, 4, 6, 8, 12, 16, 20, 25, 30],
                splits=["train", "test"],
                seeds=[0, 1, 2, 3, 4],
            ),
            "paper": base_config(
                dataset=["mnist", "fashion-mnist"],
                activation=["relu", "sigmoid"],
                checkpoints=list(range(0, 21)),
                splits=["train", "test"],
                seeds=[0, 1, 2],
            ),
        },
        figures=(
            FigureSpec(
                "alpha_vs_epoch_pooled.png",
                "alpha",
                "epoch",
                hue="activation",
                col="split",
                row="dataset",
                where={**WHOLE_MODEL, "protocol": "pooled"},
                hline=2.0,
                title="pooled protocol (Simsekli et al.), whole model",
            ),
            FigureSpec(
                "alpha_vs_epoch_protocols.png",
                "alpha",
                "epoch",
                hue="activation",
                col="protocol",
                row="split",
                where=WHOLE_MODEL,
                hline=2.0,
                title="every protocol, whole model",
            ),
            FigureSpec(
                "accuracy_vs_epoch.png",
                "test_acc",
                "epoch",
                hue="activation",
                col="dataset",
                where={**WHOLE_MODEL, "protocol": "pooled", "split": "train"},
                ylabel="test accuracy",
            ),
        ),
    )
)

register_study(Study(
    name="learning-rate",
    description="alpha vs learning rate, a fresh initialisation for every rate, several seeds",
    claim="student reproduction: alpha depends on the learning rate (their sweep did not re-initialise)",
    axes=("dataset", "lr"),
    presets={
        "quick": base_config(lr=[0.001, 0.003, 0.01, 0.03, 0.1], checkpoints=[0, 2, 5, 10], seeds=[0, 1, 2]),
        "paper": base_config(dataset=["mnist", "fashion-mnist"],
                             lr=[0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
                             checkpoints=[0, 1, 2, 5, 10, 20], seeds=[0, 1, 2]),
    },
    figures=(
        FigureSpec("alpha_vs_lr.png", "alpha", "lr", hue="epoch", col="protocol", row="dataset",
                   where=WHOLE_MODEL, logx=True, hline=2.0,
                   title="alpha vs learning rate (fresh init per rate)"),
        FigureSpec("loss_vs_lr.png", "train_loss", "lr", hue="epoch", col="dataset",
                   where={**WHOLE_MODEL, "protocol": "pooled"}, logx=True, ylabel="training loss"),
    ),
))

# The CNN cells of the quick architecture preset. On 4,000 images b = 500 gives 8 SGD steps an
# epoch, too few for the eight-layer CNN: it trains at b = 50 (800 steps in 10 epochs) with
# lr 0.01 (lr 0.05 at b = 100 diverged for one seed), He initialisation (the model's default)
# and no dropout, and its noise is harvested at b = 500 like the FCN cells'. ``depth`` 8 is its
# number of weight layers (5 convolutions, 3 linear), fixed by the model.
_CNN_QUICK = {"model": "alexnet", "width": [32, 64], "depth": [8], "dropout": 0.0, "batch_size": 50,
              "lr": 0.01, "harvest_batch_sizes": [500]}

register_study(
    Study(
        name="architecture",
        description=(
            "alpha vs width and depth of fully connected nets (lr 0.1, b 500), beside the AlexNet-style CNN"
        ),
        claim=(
            "Simsekli et al. 2019: the noise is heavy-tailed (alpha < 2) for every width (4..1024) "
            "and depth (2..10)"
        ),
        axes=("dataset", "width", "depth"),
        presets={
            "quick": base_config(width=[8, 32, 128, 512], depth=[2, 3, 4], checkpoints=[0, 10], seeds=[0, 1],
                           extra_grids=[_CNN_QUICK]),
            "paper": base_config(
                dataset=["mnist", "cifar10"],
                width=[4, 8, 16, 32, 64, 128, 256, 512, 1024],
                depth=list(range(2, 11)),
                checkpoints=[0, 10, 50, 100],
                seeds=[0, 1, 2],
            ),
        },
        figures=(
            FigureSpec(
                "alpha_vs_width.png",
                "alpha",
                "width",
                hue="depth",
                col="protocol",
                row="dataset",
                where={**WHOLE_MODEL, "epoch": "last", "model": "fcn"},
                logx=True,
                hline=2.0,
                title="after training",
            ),
            FigureSpec(
                "alpha_vs_width_init.png",
                "alpha",
                "width",
                hue="depth",
                col="protocol",
                row="dataset",
                where={**WHOLE_MODEL, "epoch": 0, "model": "fcn"},
                logx=True,
                hline=2.0,
                title="at initialisation",
            ),
            FigureSpec(
                "alpha_vs_width_cnn.png",
                "alpha",
                "width",
                hue="epoch",
                col="protocol",
                row="dataset",
                where={**WHOLE_MODEL, "model": "alexnet"},
                logx=True,
                hline=2.0,
                title="AlexNet-style CNN",
            ),
        ),
    )
)

register_study(
    Study(
        name="gaussianity",
        description="fraction of coordinates judged Gaussian vs batch size and training phase",
        claim="Panigrahi et al. 2019: for batch sizes >= 256 per-parameter noise is Gaussian, at least early",
        axes=("dataset",),
        presets={
            "quick": base_config(
                checkpoints=[0, 2, 10, 30],
                harvest_batch_sizes=[32, 64, 128, 256, 512, 1024],
                measures=["gaussianity", "alpha"],
                protocols=["per_coordinate"],
                seeds=[0, 1, 2],
                harvest_options={"n_batches": 100, "sampling": "random"},
            ),
            "paper": base_config(
                dataset=["mnist", "cifar10"],
                checkpoints=[0, 1, 10, 50],
                harvest_batch_sizes=[32, 64, 128, 256, 512, 1024],
                measures=["gaussianity", "alpha"],
                protocols=["per_coordinate"],
                seeds=[0, 1, 2],
                harvest_options={"n_batches": 100, "sampling": "random"},
            ),
        },
        figures=(
            FigureSpec(
                "gaussian_fraction_vs_batch.png",
                "fraction_not_rejected",
                "harvest_batch_size",
                hue="epoch",
                col="test",
                row="dataset",
                where={"measure": "gaussianity", "layer": "model"},
                logx=True,
                ref="expected_fraction",
                ylabel="fraction not rejected",
                title="per-coordinate Gaussianity (dashed: expected under the null)",
            ),
            FigureSpec(
                "alpha_per_coordinate_vs_batch.png",
                "alpha",
                "harvest_batch_size",
                hue="epoch",
                col="dataset",
                where={"measure": "alpha", "layer": "model", "zeros": "included"},
                logx=True,
                hline=2.0,
                title="per-coordinate alpha (median over coordinates)",
            ),
        ),
    )
)

register_study(Study(
    name="direction",
    description="vMF concentration kappa of minibatch-gradient directions and norm variability over training",
    claim="Lee, Cho & Kang 2019: directional uniformity grows (kappa falls) as training proceeds",
    axes=("dataset", "activation"),
    presets={
        "quick": base_config(activation=["relu", "sigmoid"], checkpoints=[0, 1, 2, 4, 8, 12, 16, 20, 25, 30],
                       measures=["direction"], harvest_batch_sizes=[100], seeds=[0, 1, 2, 3, 4]),
        "paper": base_config(dataset=["mnist", "fashion-mnist"], activation=["relu", "sigmoid"],
                       checkpoints=list(range(0, 21)), measures=["direction"], harvest_batch_sizes=[100],
                       seeds=[0, 1, 2]),
    },
    figures=(
        FigureSpec("kappa_vs_epoch.png", "kappa", "epoch", hue="activation", col="dataset",
                   where={"measure": "direction", "layer": "model"}, ylabel="vMF kappa"),
        FigureSpec("norm_cv_vs_epoch.png", "norm_cv", "epoch", hue="activation", col="dataset",
                   where={"measure": "direction", "layer": "model"}, ylabel="CV of gradient norms"),
    ),
))

register_study(
    Study(
        name="protocols",
        description="pooled vs standardized vs per-coordinate vs norm alpha at the same checkpoints",
        claim="Xie et al. 2023 and others: pooling coordinates of unequal scale manufactures heavy tails",
        axes=("dataset", "scaling"),
        presets={
            # add scaling "unit" (--set 'scaling=["standardize","unit"]') to see zero-noise coordinates
            "quick": base_config(
                scaling=["standardize"],
                checkpoints=[0, 1, 4, 10, 20, 30],
                splits=["train", "test"],
                harvest_batch_sizes=[100, 500],
                seeds=[0, 1, 2, 3, 4],
            ),
            "paper": base_config(
                dataset=["mnist", "fashion-mnist", "cifar10"],
                scaling=["standardize"],
                checkpoints=[0, 1, 5, 10, 20, 50],
                splits=["train", "test"],
                harvest_batch_sizes=[100, 500],
                seeds=[0, 1, 2],
            ),
        },
        figures=(
            FigureSpec(
                "alpha_by_protocol.png",
                "alpha",
                "epoch",
                hue="protocol",
                col="harvest_batch_size",
                row="split",
                where={**WHOLE_MODEL, "scaling": "standardize"},
                hline=2.0,
                title="same checkpoints, every protocol (whole model, standardized inputs)",
            ),
            FigureSpec(
                "alpha_by_protocol_zeros.png",
                "alpha",
                "epoch",
                hue="protocol",
                col="zeros",
                row="scaling",
                where={"layer": "model", "measure": "alpha", "harvest_batch_size": "last", "split": "train"},
                hline=2.0,
                title="inputs standardized or in [0, 1]; zero-noise coordinates included or excluded",
            ),
            FigureSpec(
                "alpha_by_protocol_layers.png",
                "alpha",
                "epoch",
                hue="protocol",
                col="layer",
                row="harvest_batch_size",
                where={"measure": "alpha", "zeros": "included", "split": "train", "scaling": "standardize"},
                hline=2.0,
                title="per layer, training noise",
            ),
        ),
    )
)

_BATCH_SIZES = [1, 4, 16, 64, 256, 1024]

register_study(
    Study(
        name="batch-size",
        description=(
            "alpha (every protocol) and Gaussianity fractions vs harvest batch size b = 1 (single examples), "
            "4 .. 1024, at initialisation and after training, ReLU and sigmoid 784-100-10"
        ),
        claim=(
            "Simsekli et al. 2019 (generalised CLT): minibatch noise keeps the tail index of the "
            "per-example gradients when it is below 2, and turns Gaussian as b grows otherwise"
        ),
        axes=("dataset", "activation"),
        presets={
            # b = 1 is harvested with sampling="per_example" (K distinct examples), the others with
            # K random minibatches of b distinct examples
            "quick": {
                **base_config(
                    activation=["relu", "sigmoid"],
                    checkpoints=[0, 30],
                    harvest_batch_sizes=_BATCH_SIZES,
                    measures=["alpha", "gaussianity"],
                    seeds=[0, 1, 2, 3, 4],
                    harvest_options={"n_batches": 200, "sampling": "random"},
                ),
                "per_example": True,
            },
            "paper": {
                **base_config(
                    dataset=["mnist"],
                    activation=["relu", "sigmoid"],
                    checkpoints=[0, 1, 10, 50],
                    harvest_batch_sizes=_BATCH_SIZES,
                    measures=["alpha", "gaussianity"],
                    seeds=[0, 1, 2],
                    harvest_options={"n_batches": 200, "sampling": "random"},
                ),
                "per_example": True,
            },
        },
        figures=(
            FigureSpec(
                "alpha_vs_batch_size.png",
                "alpha",
                "harvest_batch_size",
                hue="epoch",
                col="protocol",
                row="activation",
                where=WHOLE_MODEL,
                logx=True,
                hline=2.0,
                title="every protocol, whole model; b = 1: single examples",
            ),
            FigureSpec(
                "gaussian_fraction_vs_batch_size.png",
                "fraction_not_rejected",
                "harvest_batch_size",
                hue="epoch",
                col="test",
                row="activation",
                where={"measure": "gaussianity", "layer": "model"},
                logx=True,
                ref="expected_fraction",
                ylabel="fraction not rejected",
                title="per-coordinate Gaussianity (dashed: expected under the null); b = 1: single examples",
            ),
        ),
    )
)
