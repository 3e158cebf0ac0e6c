#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Classify the 8x8 digits' test split with the committed spiking network, in Python.

Loads examples/digits/digits.nir, encodes the test images as spike rasters
(examples/digits/dataset.py), runs them as one batch on a card (or on the host
reference with --host), and prints the accuracy and the modeled energy.

    PYTHONPATH=build/python examples/python/digits.py --host
    examples/python/digits.py --card /dev/ionpu0 --physical   # after make install
"""
import argparse
import json
import os
import sys

import ionpu

DIGITS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "digits")
sys.path.insert(0, DIGITS)
import dataset  # noqa: E402  the split and the spike encoding, from examples/digits
import snn  # noqa: E402  predict(): the output neuron that fired most


def run(runner, x):
    """The output rasters and the modeled energy of the run, in joules."""
    before = runner.activity()["energy_j"]
    out = runner.run(x)
    return out, runner.activity()["energy_j"] - before


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--host", action="store_true", help="run on the host reference")
    where.add_argument("--card", help="the card: /dev/ionpuN, N or a PCI address "
                       "(default: the first the driver serves)")
    ap.add_argument("--physical", action="store_true", help="the card's physical mode")
    ap.add_argument("--limit", type=int, help="only the first N test images")
    args = ap.parse_args()

    with open(os.path.join(DIGITS, "digits.json"), encoding="ascii") as f:
        steps = json.load(f)["steps"]
    images, labels = dataset.load()
    test = dataset.read_split()[1][:args.limit]
    x = dataset.encode(images[test], steps)            # images x steps x 64, uint8
    net = ionpu.load_nir(os.path.join(DIGITS, "digits.nir"))

    if args.host:
        with ionpu.Host(ionpu.compile(net)) as runner:
            out, energy = run(runner, x)
    else:
        with ionpu.open(args.card) as card:
            plan = ionpu.compile(net, card=card)
            with card.load(plan, physical=args.physical) as runner:
                out, energy = run(runner, x)

    accuracy = (snn.predict(out) == labels[test]).mean()
    print(f"{len(test)} test images: accuracy {100 * accuracy:.2f} %, "
          f"{energy / len(test) * 1e9:.3f} nJ per inference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
