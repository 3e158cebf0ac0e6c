#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""bench-core: the compute fabric against Brian2 on the same network.

Runs bench_core (the fabric, single-threaded) and then the same network in
Brian2's cpp_standalone target (single-threaded, OpenMP off), and prints
synaptic events per second of each and their ratio.  Brian2's figure is
its run time only (code generation and compilation excluded), as Brian2
itself reports it.  With --runs N both sides run N times in turn (Brian2's
program is built once) and each figure is the median of the N, with the
smallest and largest beside it; the ratio is taken within each run.
--json prints the figures as {"figures": {...}} instead (docs/bench.md).

The network (both sides): TILES blocks of 256 Poisson inputs at RATE Hz,
each input connected to all 256 LIF neurons of its block (tau 20 ms,
threshold 1, reset 0, forward Euler with dt 1 ms), weight
WEIGHT * level(block, row, col) with the integer level bench_core.c uses;
DURATION seconds.  A synaptic event is one input spike reaching one
synapse: input spikes x 256 on both sides.
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fabric", required=True, help="bench_core binary")
    p.add_argument("--build", required=True, help="directory for Brian2")
    p.add_argument("--tiles", type=int, default=64)
    p.add_argument("--rate", type=float, default=50.0)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--dt", type=float, default=1e-3)
    p.add_argument("--weight", type=float, default=0.5)
    p.add_argument("--target", type=float, default=25.0,
                   help="ratio the fabric should reach")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.runs < 1:
        p.error("--runs must be at least 1")
    return a


def run_fabric(a):
    cmd = [a.fabric, "--tiles", str(a.tiles), "--rate", str(a.rate),
           "--duration", str(a.duration), "--dt", str(a.dt),
           "--weight", str(a.weight)]
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("fabric:"))
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.e+-]+)", line)}


def levels(tiles):
    """level(tile, row, col) of bench_core.c, as (tiles, 256, 256)."""
    t = np.arange(tiles)[:, None, None]
    row = np.arange(256)[None, :, None]
    col = np.arange(256)[None, None, :]
    return (row * 131 + col * 71 + t * 29) % 9 - 4


def build_brian2(a):
    """Brian2's program for the network, built (not run) once."""
    import brian2 as b2

    # build() takes its own directory, "output" in the cwd unless given.
    where = os.path.abspath(os.path.join(a.build, "brian2"))
    b2.set_device("cpp_standalone", build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    b2.defaultclock.dt = a.dt * b2.second
    n = a.tiles * 256
    tau = 20e-3 * b2.second
    inputs = b2.PoissonGroup(n, rates=a.rate * b2.Hz)
    neurons = b2.NeuronGroup(n, "dv/dt = -v / tau : 1", threshold="v > 1",
                             reset="v = 0", method="euler",
                             namespace={"tau": tau})
    syn = b2.Synapses(inputs, neurons, "w : 1", on_pre="v_post += w")
    tile, row, col = np.meshgrid(np.arange(a.tiles), np.arange(256),
                                 np.arange(256), indexing="ij")
    syn.connect(i=(tile * 256 + row).ravel(), j=(tile * 256 + col).ravel())
    # NIR's Euler step adds dt/tau * r * I; Brian2 adds on_pre directly.
    syn.w = (levels(a.tiles) * a.weight * a.dt / 20e-3).ravel()
    count_in = b2.SpikeMonitor(inputs, record=False)
    count_out = b2.SpikeMonitor(neurons, record=False)
    b2.run(a.duration * b2.second)
    b2.device.build(directory=where, run=False)
    return b2, where, count_in, count_out


def run_brian2(built):
    b2, where, count_in, count_out = built
    b2.device.run(directory=where, with_output=False, run_args=[])
    secs = b2.device._last_run_time
    spikes = int(count_in.num_spikes)
    return {"input_spikes": spikes, "events": spikes * 256.0,
            "output_spikes": int(count_out.num_spikes), "seconds": secs,
            "events_per_s": spikes * 256.0 / secs}


def spread(values):
    v = sorted(values)
    n = len(v)
    median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return {"median": median, "min": v[0], "max": v[-1], "runs": n}


def main():
    a = parse_args()
    built = build_brian2(a)
    fab, br = [], []
    for _ in range(a.runs):
        fab.append(run_fabric(a))
        br.append(run_brian2(built))
    ratios = [f["events_per_s"] / b["events_per_s"] for f, b in zip(fab, br)]
    figures = {
        "core_events_per_s": spread([f["events_per_s"] for f in fab]),
        "brian2_events_per_s": spread([b["events_per_s"] for b in br]),
        "core_seconds_per_run": spread([f["seconds"] for f in fab]),
        "brian2_seconds_per_run": spread([b["seconds"] for b in br]),
        "core_vs_brian2": spread(ratios),
        "core_bytes_per_synapse": spread([f["bytes_per_synapse"] for f in fab]),
    }
    units = {"core_events_per_s": "events/s", "brian2_events_per_s": "events/s",
             "core_seconds_per_run": "s", "brian2_seconds_per_run": "s",
             "core_vs_brian2": "x", "core_bytes_per_synapse": "B"}
    for k, u in units.items():
        figures[k]["unit"] = u
    if a.json:
        json.dump({"network": {"tiles": a.tiles, "rate_hz": a.rate,
                               "duration_s": a.duration, "dt_s": a.dt},
                   "figures": figures}, sys.stdout)
        print()
        return 0
    print(f"network: {a.tiles * 256} inputs at {a.rate:g} Hz -> "
          f"{a.tiles * 256} LIF neurons, {a.tiles * 65536} synapses, "
          f"{a.duration:g} s at dt {a.dt * 1e3:g} ms; {a.runs} run(s)")
    for name, runs in (("fabric", fab), ("brian2 cpp_standalone", br)):
        r = runs[-1]
        print(f"{name:>22}: {r['events']:.4g} events "
              f"({int(r['input_spikes'])} input spikes, "
              f"{int(r['output_spikes'])} output spikes) in "
              f"{r['seconds']:.3f} s = {r['events_per_s']:.3g} events/s")
    ratio = figures["core_vs_brian2"]
    verdict = "met" if ratio["median"] >= a.target else "NOT met"
    print(f"{'ratio':>22}: {ratio['median']:.1f}x median of {a.runs} "
          f"({ratio['min']:.1f}-{ratio['max']:.1f}; target {a.target:g}x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
