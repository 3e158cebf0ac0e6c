#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Run digits.nir over the test split with ionpu-run and score it (see README.md).

The test images are encoded as spike rasters (images x T x 64, uint8 .npy), run as one
batch by `ionpu-run --host` (the card's model core in software, ideal mode, each image
from rest), and predicted from the output rasters (images x T x 10) by snn.predict.
The same rasters also go through snn.py's model of the card: both must agree spike for
spike.  --export writes the split's rasters and labels for other runners instead.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import dataset
import nir_export
import snn

REPO = os.path.dirname(os.path.dirname(dataset.HERE))


def export(out_dir, rasters, labels):
    """The split as ionpu-run takes it: a batch of rasters and one label per image."""
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "test-inputs.npy"), rasters)
    np.save(os.path.join(out_dir, "test-labels.npy"), labels.astype(np.int64))


def run_host(ionpu_run, graph, rasters, tmp):
    """Output rasters (N x T x outputs) of one ionpu-run --host over the batch."""
    in_path = os.path.join(tmp, "in.npy")
    out_path = os.path.join(tmp, "out.npy")
    np.save(in_path, rasters)
    run = subprocess.run([ionpu_run, "--host", graph, "--input", in_path,
                          "--output", out_path], capture_output=True, text=True)
    if run.returncode:
        sys.stderr.write(run.stdout + run.stderr)
        raise RuntimeError(f"ionpu-run failed (exit {run.returncode})")
    return np.load(out_path)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--graph", default=os.path.join(dataset.HERE, "digits.nir"))
    ap.add_argument("--report", default=os.path.join(dataset.HERE, "digits.json"),
                    help="train.py's report: T and the float accuracy (default: %(default)s)")
    ap.add_argument("--ionpu-run", default=os.path.join(REPO, "build", "tools", "ionpu-run"))
    ap.add_argument("--steps", type=int, help="time steps per image (default: the report's)")
    ap.add_argument("--limit", type=int, help="only the first N test images")
    ap.add_argument("--export", metavar="DIR",
                    help="write the test rasters and labels to DIR and run nothing")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args()

    with open(args.report, encoding="ascii") as f:
        report = json.load(f)
    steps = args.steps or report["steps"]
    images, labels = dataset.load()
    _, test = dataset.read_split()
    test = test[:args.limit]
    rasters = dataset.encode(images[test], steps)
    if args.export:
        export(args.export, rasters, labels[test])
        print(f"wrote {len(test)} rasters of {steps} x 64 and their labels to {args.export}",
              file=sys.stderr)
        return 0

    model_out = snn.run(nir_export.read(args.graph), rasters)[-1]
    t0 = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="ionpu-digits-") as tmp:
            host_out = run_host(args.ionpu_run, args.graph, rasters, tmp)
    except (OSError, RuntimeError) as e:
        print(f"evaluate.py: {e}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - t0
    host_pred, model_pred = snn.predict(host_out), snn.predict(model_out)
    results = {
        "test_images": len(test),
        "steps": steps,
        "float_accuracy": report["float_accuracy"],
        "host_accuracy": float(np.mean(host_pred == labels[test])),
        "model_accuracy": float(np.mean(model_pred == labels[test])),
        "host_matches_model": bool(np.array_equal(host_out, model_out)),
        "host_output_spikes_per_inference": float(host_out.sum() / len(test)),
        "host_seconds": seconds,
    }
    print(f"{len(test)} test images, T = {steps} steps, one ionpu-run --host batch")
    print(f"float ANN accuracy                {results['float_accuracy']:.4f}")
    print(f"host reference (ideal) accuracy   {results['host_accuracy']:.4f}")
    print(f"snn.py model accuracy             {results['model_accuracy']:.4f}")
    print(f"host output rasters equal the model's: {results['host_matches_model']}")
    print(f"output spikes per inference {results['host_output_spikes_per_inference']:.1f}, "
          f"{seconds:.1f} s ({len(test) / seconds:.0f} images/s with process start-up)")
    if args.json:
        with open(args.json, "w", encoding="ascii") as f:
            json.dump(results, f, indent=1)
            f.write("\n")
    return 0 if results["host_matches_model"] else 1


if __name__ == "__main__":
    sys.exit(main())
