#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""bench_report: the results of one `make bench` run as bench.json and a table.

Reads what each benchmark printed (the model core against Brian2 and over
tile counts, the compiler, ionpu-bench in the VM), writes them into one document with the
date, the machine and the commit, checks the goals of issue 17 against the
medians, and prints a Markdown table; with --readme, the table replaces
what README.md holds between its bench markers.  Nothing is typed in: a
figure no benchmark printed is listed as missing, never filled.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

# (key, statistic, comparison, bound): the goals, held to the runs' median,
# or to their smallest where every run has to meet it.
GOALS = [
    ("core_vs_brian2", "median", ">=", 25.0),
    ("uring64_vs_ioctl_batch1", "median", ">=", 3.0),
    ("driver_overhead_batch4096", "median", "<=", 1.5),
    ("programming_overhead", "median", "<", 0.10),
    ("multicard_matches_host", "min", "==", 1.0),
]

BEGIN = "<!-- bench: scripts/bench --update writes this table -->"
END = "<!-- end of bench -->"


def load(path):
    with open(path) as f:
        return json.load(f)


def machine():
    model = "unknown CPU"
    cores = os.cpu_count() or 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": model, "cores": cores, "host_kernel": platform.release()}


def commit():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=True,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("-dirty" if dirty.strip() else "")


def goal_met(value, op, bound):
    return {">=": value >= bound, "<=": value <= bound, "<": value < bound,
            "==": value == bound}[op]


def fmt(v):
    """Three significant digits; thousands grouped up to a billion."""
    if 1000 <= abs(v) < 1e9:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def table(doc):
    rows = [f"Measured {doc['date']} on {doc['machine']['cpu']} "
            f"({doc['machine']['cores']} cores), commit {doc['commit']}; "
            f"VM: Debian's {doc['vm_kernel']} under QEMU's TCG, four 16-tile cards. "
            "Median of the runs, smallest and largest beside it.",
            "",
            "| figure | median | min | max | unit | goal |",
            "|---|---|---|---|---|---|"]
    goals = {g["key"]: g for g in doc["goals"]}
    for key, f in doc["figures"].items():
        g = goals.get(key)
        mark = ""
        if g:
            of = "" if g["stat"] == "median" else f"{g['stat']} "
            mark = f"{of}{g['op']} {g['bound']:g}: {'met' if g['met'] else 'not met'}"
        rows.append(f"| `{key}` | {fmt(f['median'])} | {fmt(f['min'])} | {fmt(f['max'])} "
                    f"| {f['unit']} | {mark} |")
    c = doc["compile"]
    rows.append("")
    rows.append(f"Compiler: a full {c['full_card_tiles']}-tile card "
                f"({c['full_card_synapses']:,} synapses) in {c['full_card_compile_cpu_s']:.2f} s "
                f"of CPU; time per synapse at 1M synapses is {c['per_synapse_1m_vs_10k']:.2f}x "
                "that at 10k.")
    if doc["missing"]:
        rows.append("Not measured yet: " + ", ".join(f"`{k}`" for k in doc["missing"]) + ".")
    return "\n".join(rows) + "\n"


def update_readme(path, text):
    with open(path) as f:
        old = f.read()
    if BEGIN not in old or END not in old:
        sys.exit(f"bench_report: {path} has no bench markers")
    head, rest = old.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + BEGIN + "\n" + text + END + tail)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--core", required=True)
    p.add_argument("--scaling", required=True)
    p.add_argument("--compile", required=True)
    p.add_argument("--vm", required=True)
    p.add_argument("--kernel", required=True, help="the VM's kernel release")
    p.add_argument("--readme")
    a = p.parse_args()

    core, comp, vm = load(a.core), load(a.compile), load(a.vm)
    figures = dict(core["figures"])
    figures.update(load(a.scaling)["figures"])
    for key, f in vm["figures"].items():
        figures[key] = dict(f, runs=vm["runs"])
    goals = []
    for key, stat, op, bound in GOALS:
        if key in figures:
            goals.append({"key": key, "stat": stat, "op": op, "bound": bound,
                          "met": goal_met(figures[key][stat], op, bound)})
    doc = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "commit": commit(),
        "vm_kernel": a.kernel,
        "core_network": core["network"],
        "vm_seconds_per_side": vm["seconds"],
        "figures": figures,
        "compile": comp["figures"],
        "goals": goals,
        "missing": [g[0] for g in GOALS if g[0] not in figures],
    }
    # The split's verdict as the issue asks for it: true only if every run matched.
    if "multicard_matches_host" in figures:
        doc["multicard_matches_host"] = figures["multicard_matches_host"]["min"] == 1
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    text = table(doc)
    sys.stdout.write(text)
    if a.readme:
        update_readme(a.readme, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
