#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Train the digits classifier and write digits.nir (see README.md).

A ReLU network 64 -> 128 -> 10 without biases is trained in numpy, then converted to IF
neurons: each layer's threshold is its activation's 99.9th percentile over the training
images (data-based normalisation), weights become integer conductance levels.
"""

import os

# One BLAS thread: threads may split sums differently, and the same run must give the same bits.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import dataset  # noqa: E402
import nir_export  # noqa: E402
import snn  # noqa: E402

SEED = 11
HIDDEN = 128
CLASSES = 10
EPOCHS = 120
BATCH = 32
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 1e-4
STEPS = 32              # time steps per image (the graph itself does not depend on it)
# The float weights, hidden then output layer, row-major, in one float64 .npy
# (np.save writes the same bytes for the same array; np.savez stamps a time).
FLOAT_MODEL = "float-model.npy"
PERCENTILE = 99.9       # of a layer's activations: the rate-1 point of its neurons
LEVELS = 255            # conductance levels per device above G_MIN: |weight| <= 255


def relu(x):
    return np.maximum(x, 0.0)


def forward(w1, w2, x):
    h = relu(x @ w1.T)
    return h, h @ w2.T


def load_float_model(path, inputs):
    """The float network's (w1, w2) as train.py saved them."""
    flat = np.load(path)
    w1 = flat[:HIDDEN * inputs].reshape(HIDDEN, inputs)
    return w1, flat[HIDDEN * inputs:].reshape(CLASSES, HIDDEN)


def train_ann(x, y, rng):
    """Weights (hidden x 64, 10 x hidden) of a ReLU network trained with Adam."""
    params = [rng.normal(0, np.sqrt(2 / x.shape[1]), (HIDDEN, x.shape[1])),
              rng.normal(0, np.sqrt(2 / HIDDEN), (CLASSES, HIDDEN))]
    m = [np.zeros_like(p) for p in params]
    s = [np.zeros_like(p) for p in params]
    onehot = np.eye(CLASSES)[y]
    step = 0
    for _ in range(EPOCHS):
        order = rng.permutation(len(x))
        for b in range(0, len(x), BATCH):
            idx = order[b:b + BATCH]
            xb, tb = x[idx], onehot[idx]
            h, o = forward(*params, xb)
            p = np.exp(o - o.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            do = (p - tb) / len(idx)
            dh = (do @ params[1]) * (h > 0)
            grads = [dh.T @ xb, do.T @ h]
            step += 1
            for i, g in enumerate(grads):
                g = g + WEIGHT_DECAY * params[i]
                m[i] = 0.9 * m[i] + 0.1 * g
                s[i] = 0.999 * s[i] + 0.001 * g * g
                mh = m[i] / (1 - 0.9 ** step)
                sh = s[i] / (1 - 0.999 ** step)
                params[i] = params[i] - LEARNING_RATE * mh / (np.sqrt(sh) + 1e-8)
    return params


def convert(w1, w2, x):
    """IF layers [(integer weight levels, half-integer thresholds)] of the ReLU network.

    Input rates are x (a pixel's spikes per step).  A hidden neuron's threshold is the
    layer's PERCENTILE activation, so its rate is its ReLU activation over that; the
    output layer's threshold turns those rates into the output's activation over its
    PERCENTILE.  Then each layer is scaled so its largest |weight| is LEVELS, the
    threshold with it (an IF neuron that resets to 0 is unchanged by that).
    """
    h, o = forward(w1, w2, x)
    lam1 = np.percentile(h[h > 0], PERCENTILE)
    lam2 = np.percentile(o[o > 0], PERCENTILE)
    layers = []
    for w, th in ((w1, lam1), (w2, lam2 / lam1)):
        scale = LEVELS / np.abs(w).max()
        levels = np.rint(w * scale).astype(np.int64)
        layers.append((levels, np.full(w.shape[0], np.floor(th * scale) + 0.5)))
    return layers


def accuracy(pred, y):
    return float(np.mean(pred == y))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", default=dataset.HERE,
                    help="where to write digits.nir, digits.json (what the graph needs and "
                    "what training measured) and test-split.txt (default: %(default)s)")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    graph = os.path.join(args.dir, "digits.nir")
    report_path = os.path.join(args.dir, "digits.json")
    model_path = os.path.join(args.dir, FLOAT_MODEL)
    split = os.path.join(args.dir, os.path.basename(dataset.SPLIT_FILE))

    t0, cpu0 = time.monotonic(), time.process_time()
    images, labels = dataset.load()
    dataset.write_split(dataset.make_split(labels), split)
    train, test = dataset.read_split(split)
    x = images / dataset.LEVELS
    w1, w2 = train_ann(x[train], labels[train], np.random.default_rng(SEED))
    layers = convert(w1, w2, x[train])
    q1, q2 = (w / LEVELS for w, _ in layers)
    test_in = dataset.encode(images[test], STEPS)
    hidden, out = snn.run(layers, test_in)
    report = {
        "graph": os.path.basename(graph),
        "dt": nir_export.DT,
        "steps": STEPS,
        "encoding": "regular rate: intensity k/16 spikes per step (dataset.py)",
        "layers": [x.shape[1], HIDDEN, CLASSES],
        "train_images": len(train),
        "test_images": len(test),
        "float_accuracy": accuracy(forward(w1, w2, x[test])[1].argmax(axis=1), labels[test]),
        "float_levels_accuracy": accuracy(forward(q1, q2, x[test])[1].argmax(axis=1),
                                          labels[test]),
        "ideal_accuracy": accuracy(snn.predict(out), labels[test]),
        "ideal_train_accuracy": accuracy(
            snn.predict(snn.run(layers, dataset.encode(images[train], STEPS))[-1]),
            labels[train]),
    }
    nir_export.write(graph, layers)
    # The float network, so the demo scores it anew on every run.
    np.save(model_path, np.concatenate([w1.ravel(), w2.ravel()]))
    with open(report_path, "w", encoding="ascii") as f:
        json.dump(report, f, indent=1)
        f.write("\n")

    print(f"train {len(train)} images, test {len(test)}; "
          f"{x.shape[1]} -> {HIDDEN} IF -> {CLASSES} IF, T = {STEPS} steps")
    print(f"float ANN test accuracy             {report['float_accuracy']:.4f}")
    print(f"float ANN, weights on their levels  {report['float_levels_accuracy']:.4f}")
    print(f"spiking (ideal) train accuracy      {report['ideal_train_accuracy']:.4f}")
    print(f"spiking (ideal) test accuracy       {report['ideal_accuracy']:.4f}")
    print(f"spikes per test image: input {test_in.sum() / len(test):.0f}, "
          f"hidden {hidden.sum() / len(test):.0f}, output {out.sum() / len(test):.1f}")
    print(f"thresholds (weight levels): hidden {layers[0][1][0]}, output {layers[1][1][0]}")
    print(f"wrote {graph}, {model_path}, {report_path} and {split}: "
          f"{time.monotonic() - t0:.1f} s, "
          f"{time.process_time() - cpu0:.1f} s of CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
