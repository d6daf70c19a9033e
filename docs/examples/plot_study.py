"""
Run a study from Python and plot it
===================================

The ``protocols`` study, shrunk to seconds (400 training digits, 4 seeds, two checkpoints):
the same call as ``stabletail study protocols`` with overrides, its tidy table, and a plot of
alpha by protocol made from that table. Re-running the call with the same ``out`` resumes.
"""

import csv
import tempfile

import matplotlib.pyplot as plt
import torch

from stabletail.sgd.studies import run_study

torch.set_num_threads(1)
out = tempfile.mkdtemp()
tiny = {"n_train": 400, "n_test": 200, "batch_size": 100, "checkpoints": [0, 1]}
run = run_study("protocols", out, overrides=tiny, seeds=4, progress=False, figures=False)
print(run.n_cells, "cells in", round(run.seconds, 1), "s; table:", run.table.name)

with open(run.summary, newline="") as fh:
    summary = list(csv.DictReader(fh))
print(list(summary[0]))

# %%
# alpha of the whole model (train noise, zeros included) by protocol at the two checkpoints: the
# mean over the 4 seeds with its 95% interval (``alpha_low``, ``alpha_high``).
rows = [r for r in summary if r["layer"] == "model" and r["zeros"] == "included" and r["split"] == "train"]
protocols = sorted({r["protocol"] for r in rows})
fig, ax = plt.subplots(figsize=(6, 3.5))
for shift, step in ((-0.1, "0"), (0.1, max(r["step"] for r in rows))):
    sel = {r["protocol"]: r for r in rows if r["step"] == step}
    mean = [float(sel[p]["alpha_mean"]) for p in protocols]
    low = [float(sel[p]["alpha_low"]) for p in protocols]
    high = [float(sel[p]["alpha_high"]) for p in protocols]
    ax.errorbar([k + shift for k in range(len(protocols))], mean,
                yerr=[[m - lo for m, lo in zip(mean, low)], [h - m for m, h in zip(mean, high)]],
                fmt="o", label=f"step {step}")
ax.set_xticks(range(len(protocols)), protocols)
ax.set_ylabel("alpha (whole model)")
ax.legend()
fig.tight_layout()
plt.show()
