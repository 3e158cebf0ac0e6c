# SPDX-License-Identifier: GPL-2.0-only
"""examples/python/digits.py, as a user runs it, scores the test split as
ionpu-run does on the same images."""
import json
import os
import re
import subprocess

from conftest import DIGITS_SPLIT as LIMIT, ROOT

PYTHON = "/usr/bin/python3"

def test_digits_example_scores_as_ionpu_run(build_dir, digits_split, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(build_dir / "python"), PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([PYTHON, str(ROOT / "examples" / "python" / "digits.py"), "--host",
                          "--limit", str(LIMIT)],
                         env=env, check=True, capture_output=True, text=True).stdout
    m = re.fullmatch(rf"{LIMIT} test images: accuracy ([0-9.]+) %, ([0-9.]+) nJ per inference\n",
                     out)
    assert m, out

    digits = ROOT / "examples" / "digits"
    subprocess.run([str(build_dir / "tools" / "ionpu-run"), "--host", str(digits / "digits.nir"),
                    "-i", str(digits_split / "test-inputs.npy"), "-o", str(tmp_path / "out.npy"),
                    "-l", str(digits_split / "test-labels.npy"), "-j", str(tmp_path / "run.json")],
                   check=True, capture_output=True)
    with open(tmp_path / "run.json", encoding="ascii") as f:
        want = json.load(f)
    assert m.group(1) == f"{100 * want['accuracy']:.2f}"
    assert float(m.group(2)) == round(want["per_inference"]["energy_j"] * 1e9, 3)
