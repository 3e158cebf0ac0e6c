#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""core_scaling: the model core's synaptic events/s from 1 to 64 tiles, and on every core.

Runs bench_core (single-threaded) on 1, 4, 16 and 64 tiles of the network
bench/brian2_bench.py uses, each for about a second of its own time (the
simulated duration shrinks as the tiles grow), then the 64 tiles again on
as many threads as the machine has cores, --runs times in turn, and prints
{"figures": {...}} with the median and spread of each and two ratios taken
within each run: 64 tiles' events/s to one tile's, how much of one tile's
speed the core keeps when the card is full (cache and memory bandwidth,
not work, make the difference); and all cores' to one thread's.  The run
on all cores must give the same spikes as the one on one thread, or the
benchmark fails.
"""
import argparse
import json
import os
import subprocess
import sys

TILES = (1, 4, 16, 64)
# Simulated tile-seconds that take about a second at ~4e9 events/s.
TILE_SECONDS = 1200.0


def run(core, tiles, threads=1):
    """bench_core's fields (events_per_s, output_spikes, ...) as strings."""
    out = subprocess.run([core, "--tiles", str(tiles), "--threads", str(threads),
                          "--duration", f"{TILE_SECONDS / tiles:g}"], check=True,
                         capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("fabric:"))
    return dict(kv.split("=") for kv in line.split()[1:])


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def spread(values, unit):
    v = sorted(values)
    n = len(v)
    median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return {"median": median, "min": v[0], "max": v[-1], "runs": n, "unit": unit}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fabric", required=True, help="bench_core binary")
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    if a.runs < 1:
        p.error("--runs must be at least 1")
    threads = min(cores(), TILES[-1])
    rates = {t: [] for t in TILES}
    ratios, all_cores, speedups = [], [], []
    for _ in range(a.runs):
        this = {t: run(a.fabric, t) for t in TILES}
        for t in TILES:
            rates[t].append(float(this[t]["events_per_s"]))
        ratios.append(rates[TILES[-1]][-1] / rates[TILES[0]][-1])
        spread_out = run(a.fabric, TILES[-1], threads)
        one = this[TILES[-1]]
        if (spread_out["output_spikes"], spread_out["events"]) != \
                (one["output_spikes"], one["events"]):
            sys.exit(f"core_scaling: {threads} threads gave {spread_out['output_spikes']} "
                     f"spikes and {spread_out['events']} events, one thread "
                     f"{one['output_spikes']} and {one['events']}")
        all_cores.append(float(spread_out["events_per_s"]))
        speedups.append(all_cores[-1] / rates[TILES[-1]][-1])
    figures = {f"core_events_per_s_{t}_tiles": spread(rates[t], "events/s") for t in TILES}
    figures["core_64_vs_1_tile"] = spread(ratios, "x")
    figures["core_threads"] = spread([threads] * a.runs, "threads")
    figures["core_events_per_s_all_cores"] = spread(all_cores, "events/s")
    figures["core_all_cores_vs_1_thread"] = spread(speedups, "x")
    json.dump({"figures": figures}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
