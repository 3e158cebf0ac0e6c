# SPDX-License-Identifier: GPL-2.0-only
"""The 8x8 digits of Debian's python3-sklearn, their fixed split and their spike encoding.

Images are sklearn.datasets.load_digits(): 1797 images of 8x8 pixels with integer
intensities 0..16, shipped with scikit-learn (no download).  Pixels are read row by
row, so input channel 8 * row + column is that pixel.

Encoding: deterministic regular rate coding.  A pixel of intensity k spikes in step t
(0 <= t < T) when floor(((t + 1) k + 8) / 16) > floor((t k + 8) / 16), that is k/16
spikes a step spread evenly, the first after half a period: intensity 16 spikes every
step, 0 never.  It is integer arithmetic, so every platform makes the same rasters.
"""

import os

import numpy as np
from sklearn.datasets import load_digits

LEVELS = 16                 # the data set's largest pixel intensity
TEST_FRACTION = 0.3         # of each class, the last ones of a fixed permutation
SPLIT_SEED = 2026
HERE = os.path.dirname(os.path.abspath(__file__))
SPLIT_FILE = os.path.join(HERE, "test-split.txt")


def load():
    """All images as integer intensities (N x 64, int64) and their labels (N,)."""
    d = load_digits()
    return d.data.astype(np.int64), d.target.astype(np.int64)


def make_split(labels):
    """Test indices: per class, the last TEST_FRACTION of a seeded permutation, sorted."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    test = []
    for c in np.unique(labels):
        mine = order[labels[order] == c]
        test.extend(mine[len(mine) - int(round(TEST_FRACTION * len(mine))):])
    return np.sort(np.asarray(test, dtype=np.int64))


def write_split(test_idx, path=SPLIT_FILE):
    with open(path, "w", encoding="ascii") as f:
        f.write("# indices into sklearn.datasets.load_digits() held out for testing\n")
        f.writelines(f"{i}\n" for i in test_idx)


def read_split(path=SPLIT_FILE):
    """The committed split: (train indices, test indices)."""
    test = np.loadtxt(path, dtype=np.int64, comments="#")
    n = len(load()[1])
    train = np.setdiff1d(np.arange(n), test)
    return train, test


def encode(images, steps):
    """Spike rasters (N x steps x 64, uint8) of integer images (N x 64)."""
    k = np.asarray(images, dtype=np.int64)[:, None, :]
    t = np.arange(steps, dtype=np.int64)[None, :, None]
    half = LEVELS // 2
    return (((t + 1) * k + half) // LEVELS > (t * k + half) // LEVELS).astype(np.uint8)
