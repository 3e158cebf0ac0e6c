# SPDX-License-Identifier: GPL-2.0-only
"""The converted network as the card runs it in ideal mode, and how a prediction is read.

Layers of NIR IF neurons (dv/dt = r I, spike when v > v_threshold, then v = 0) with
r = 1 / dt, so one step adds the step's input current to v.  Weights are integer
conductance levels (-255..255) and thresholds lie halfway between integers, so v is an
exact integer in float32 whatever order the card adds a step's inputs in: this model and
the card's agree spike for spike.

Timing as on the card: host input of step t is integrated in step t; a hidden spike of
step t reaches the output layer in step t + 1.
"""

import numpy as np


def run(layers, raster):
    """Spike rasters of every layer for input rasters (N x T x inputs, 0/1).

    layers: list of (weight levels, out x in; thresholds, out).  Returns a list of
    N x T x out uint8 rasters, one per layer.
    """
    n, steps, _ = raster.shape
    v = [np.zeros((n, len(th)), dtype=np.float64) for _, th in layers]
    out = [np.zeros((n, steps, len(th)), dtype=np.uint8) for _, th in layers]
    for t in range(steps):
        # Each layer sees the previous layer's spikes of the previous step.
        for i in reversed(range(len(layers))):
            w, th = layers[i]
            if i == 0:
                src = raster[:, t, :]
            elif t > 0:
                src = out[i - 1][:, t - 1, :]
            else:
                continue
            v[i] += src.astype(np.float64) @ w.T.astype(np.float64)
            fired = v[i] > th
            v[i][fired] = 0.0
            out[i][:, t, :] = fired
    return out


def predict(out_raster):
    """The output neuron with the most spikes; ties go to the one that spiked first,
    then to the lowest index (no spike at all: neuron 0).

    out_raster: N x T x classes.  Returns (N,) class indices.
    """
    r = np.asarray(out_raster, dtype=np.int64)
    counts = r.sum(axis=1)
    steps = r.shape[1]
    first = np.where(r.any(axis=1), r.argmax(axis=1), steps)
    # Most spikes first, then earliest first spike, then lowest index.
    key = counts * (steps + 1) - first
    return key.argmax(axis=1)
