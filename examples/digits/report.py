# SPDX-License-Identifier: GPL-2.0-only
"""The demo's figures: the digit classifier on the host reference and on the card.

Reads the summaries `ionpu-run --json` wrote for the host reference and for the
card in ideal and physical mode (all over the same test split), scores the float
model on that split here, and prints the table, writes summary.json and a picture
of one test digit going through the card.  Every figure comes from this run.

Exit status 1 when the card's ideal mode predicted anything the host reference
did not, or when physical mode is more than 2 points below the float model.
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dataset  # noqa: E402  (beside this file)
import train  # noqa: E402

# How far below the float model physical mode may be, as a fraction.
PHYSICAL_TOLERANCE = 0.02
SHADES = " .:-=+*#%@"


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def float_accuracy(model_path, images, labels):
    """The float network (ReLU, the weights before conversion) on the test images."""
    w1, w2 = train.load_float_model(model_path, images.shape[1])
    out = train.forward(w1, w2, images / dataset.LEVELS)[1]
    return float(np.mean(np.argmax(out, axis=1) == labels))


def row(name, acc, run=None):
    """A table line; a run's speed, activity and energy where it has them."""
    if run is None:
        rest = f"{'-':>14} {'-':>13} {'-':>17} {'-':>15}"
    else:
        per = run["per_inference"]
        rest = (f"{run['inferences_per_s']:14.1f} {per['spikes']:13.1f} "
                f"{per['synaptic_events']:17.0f} {per['energy_j'] * 1e9:12.3f} nJ")
    return f"{name:<16} {100 * acc:8.2f} % {rest}"


def render_terminal(image, inputs, outputs, label, predicted):
    """One digit, its input raster's spike counts and the output spikes over time."""
    lines = [f"test image {label}: predicted {predicted} by the card in physical mode"]
    steps = outputs.shape[0]
    for r in range(8):
        pix = "".join(SHADES[min(len(SHADES) - 1, int(v) * len(SHADES) // 17)] * 2
                      for v in image[r * 8:(r + 1) * 8])
        spikes = inputs[:, r * 8:(r + 1) * 8].sum()
        lines.append(f"  {pix}   row {r}: {int(spikes):3d} input spikes")
    lines.append(f"  output spikes over {steps} steps (| = spike):")
    for j in range(outputs.shape[1]):
        mark = " <" if j == predicted else ""
        lines.append(f"    {j}: " + "".join("|" if s else "." for s in outputs[:, j]) +
                     f" {int(outputs[:, j].sum()):2d}{mark}")
    return "\n".join(lines)


def picture(path, image, inputs, outputs, label, predicted):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6),
                             gridspec_kw={"width_ratios": [1, 2.2, 2.2]})
    axes[0].imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=dataset.LEVELS)
    axes[0].set_title(f"test digit: {label}")
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    t, ch = np.nonzero(inputs)
    axes[1].scatter(t, ch, s=2, marker="|", color="black")
    axes[1].set_xlim(-0.5, inputs.shape[0] - 0.5)
    axes[1].set_ylim(-0.5, inputs.shape[1] - 0.5)
    axes[1].set_xlabel("time step")
    axes[1].set_ylabel("input channel (pixel)")
    axes[1].set_title("input spikes")
    t, j = np.nonzero(outputs)
    colors = ["tab:green" if k == predicted else "tab:gray" for k in j]
    axes[2].scatter(t, j, s=40, marker="|", c=colors)
    axes[2].set_xlim(-0.5, outputs.shape[0] - 0.5)
    axes[2].set_ylim(-0.5, outputs.shape[1] - 0.5)
    axes[2].set_yticks(range(outputs.shape[1]))
    axes[2].set_xlabel("time step")
    axes[2].set_ylabel("output neuron (class)")
    axes[2].set_title(f"card, physical mode: predicts {predicted}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", required=True, help="ionpu-run --host --json summary")
    ap.add_argument("--ideal", required=True, help="the card's, ideal mode")
    ap.add_argument("--physical", required=True, help="the card's, physical mode")
    ap.add_argument("--physical-raster", required=True,
                    help="the card's output rasters in physical mode (.npy)")
    ap.add_argument("--inputs", required=True, help="the test split's input rasters (.npy)")
    ap.add_argument("--model", default=os.path.join(HERE, train.FLOAT_MODEL))
    ap.add_argument("--out", required=True, help="directory for summary.json and the PNG")
    ap.add_argument("--show", type=int, default=0, help="test image to draw")
    args = ap.parse_args()

    images, labels = dataset.load()
    _, test = dataset.read_split()
    images, labels = images[test], labels[test]
    runs = {k: load_json(getattr(args, k)) for k in ("host", "ideal", "physical")}
    for name, run in runs.items():
        if run["samples"] != len(test):
            sys.exit(f"report: the {name} run has {run['samples']} samples, "
                     f"the test split {len(test)}")
    acc_float = float_accuracy(args.model, images, labels)
    ideal_matches = runs["ideal"]["predictions"] == runs["host"]["predictions"]
    counts_match = runs["ideal"]["spike_counts"] == runs["host"]["spike_counts"]

    print(f"{'':<16} {'accuracy':>10} {'inferences/s':>14} {'spikes/inf':>13} "
          f"{'syn. events/inf':>17} {'energy/inf':>15}")
    print(row("float model", acc_float))
    print(row("host reference", runs["host"]["accuracy"], runs["host"]))
    print(row("card, ideal", runs["ideal"]["accuracy"], runs["ideal"]))
    print(row("card, physical", runs["physical"]["accuracy"], runs["physical"]))
    print(f"{len(test)} test images never used in training; ideal mode "
          f"{'equals' if ideal_matches else 'DIFFERS FROM'} the host reference on every "
          f"prediction{' and output spike count' if counts_match else ''}")

    raster = np.load(args.physical_raster)
    inputs = np.load(args.inputs)
    k = args.show
    predicted = runs["physical"]["predictions"][k]
    print(render_terminal(images[k], inputs[k], raster[k], labels[k], predicted))
    os.makedirs(args.out, exist_ok=True)
    png = os.path.join(args.out, "digit.png")
    picture(png, images[k], inputs[k], raster[k], labels[k], predicted)

    summary = {
        "test_images": len(test),
        "float_accuracy": acc_float,
        "host_accuracy": runs["host"]["accuracy"],
        "ideal_accuracy": runs["ideal"]["accuracy"],
        "physical_accuracy": runs["physical"]["accuracy"],
        "host_inferences_per_s": runs["host"]["inferences_per_s"],
        "ideal_inferences_per_s": runs["ideal"]["inferences_per_s"],
        "physical_inferences_per_s": runs["physical"]["inferences_per_s"],
        "energy_per_inference_j": runs["physical"]["per_inference"]["energy_j"],
        "ideal_energy_per_inference_j": runs["ideal"]["per_inference"]["energy_j"],
        "spikes_per_inference": runs["physical"]["per_inference"]["spikes"],
        "synaptic_events_per_inference":
            runs["physical"]["per_inference"]["synaptic_events"],
        "ideal_matches_host": ideal_matches,
        "programming": runs["physical"].get("programming"),
        "picture": png,
    }
    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.join(args.out, 'summary.json')} and {png}")

    failed = []
    if not ideal_matches:
        failed.append("the card's ideal mode differs from the host reference")
    if summary["physical_accuracy"] < acc_float - PHYSICAL_TOLERANCE:
        failed.append(f"physical mode is {100 * (acc_float - summary['physical_accuracy']):.2f} "
                      f"points below the float model (at most "
                      f"{100 * PHYSICAL_TOLERANCE:.0f} allowed)")
    for f in failed:
        print(f"report: {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
