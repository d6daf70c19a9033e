"""
Harvest the gradient noise of a small model
===========================================

Take the 784-100-10 network of the student study at initialisation, on the embedded digits,
harvest the stochastic gradient noise of 40 minibatches of 100 examples, and read the
tail-index table: every protocol of the literature side by side, with intervals.
"""

import matplotlib.pyplot as plt
import torch

from stabletail.sgd import MODEL, build_model, harvest, load_dataset

torch.set_num_threads(1)
data = load_dataset("mnist5k")
X = torch.from_numpy(data.x_train[:4000])
y = torch.from_numpy(data.y_train[:4000])
spec = {"kind": "fcn", "width": 100, "depth": 2, "activation": "relu", "bias": False}
model = build_model(spec, data.input_shape, data.n_classes, seed=0)
res = harvest(model, torch.nn.functional.cross_entropy, (X, y), batch_size=100, random_state=0)
print(res.status, res.n_batches, res.n_params)
rows = res.rows(layer=MODEL, zeros="included")
for row in rows:
    print(f"{row['protocol']:15s} alpha = {row['alpha']:.2f}  [{row['ci_low']:.2f}, {row['ci_high']:.2f}]")

# %%
# The whole-model estimates with their 95% intervals.
fig, ax = plt.subplots(figsize=(6, 3.5))
for k, row in enumerate(rows):
    ax.errorbar([k], [row["alpha"]], yerr=[[row["alpha"] - row["ci_low"]], [row["ci_high"] - row["alpha"]]],
                fmt="o", color=f"C{k}")
ax.set_xticks(range(len(rows)), [r["protocol"] for r in rows])
ax.axhline(2.0, color="k", lw=0.8, ls=":")
ax.set_ylabel("alpha (whole model)")
fig.tight_layout()
plt.show()
