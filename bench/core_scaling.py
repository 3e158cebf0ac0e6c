#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""core_scaling: the model core's synaptic events/s from 1 to 64 tiles.

Runs bench_core (single-threaded) on 1, 4, 16 and 64 tiles of the network
bench/brian2_bench.py uses, each for about a second of its own time (the
simulated duration shrinks as the tiles grow), --runs times in turn, and
prints {"figures": {...}} with the median and spread of each and the ratio
of 64 tiles' events/s to one tile's, taken within each run: how much of
one tile's speed the core keeps when the card is full (cache and memory
bandwidth, not work, make the difference).
"""
import argparse
import json
import subprocess
import sys

TILES = (1, 4, 16, 64)
# Simulated tile-seconds that take about a second at ~4e9 events/s.
TILE_SECONDS = 1200.0


def run(core, tiles):
    out = subprocess.run([core, "--tiles", str(tiles), "--duration",
                          f"{TILE_SECONDS / tiles:g}"], check=True,
                         capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("fabric:"))
    fields = dict(kv.split("=") for kv in line.split()[1:])
    return float(fields["events_per_s"])


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
    rates = {t: [] for t in TILES}
    ratios = []
    for _ in range(a.runs):
        this = {t: run(a.fabric, t) for t in TILES}
        for t in TILES:
            rates[t].append(this[t])
        ratios.append(this[TILES[-1]] / this[TILES[0]])
    figures = {f"core_events_per_s_{t}_tiles": spread(rates[t], "events/s") for t in TILES}
    figures["core_64_vs_1_tile"] = spread(ratios, "x")
    json.dump({"figures": figures}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
