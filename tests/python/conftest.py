# SPDX-License-Identifier: GPL-2.0-only
"""pytest setup for the ionpu module's tests.

The module is imported from the build tree ($IONPU_BUILD/python, default
build/); with IONPU_TAP=FILE the results are also written there as TAP, one
line per test, so that scripts/check counts them with the other stages.
"""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("IONPU_BUILD", ROOT / "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
sys.path.insert(0, str(BUILD / "python"))

# tests/python/vm runs in the test VM, on a card, without pytest.
collect_ignore = ["vm"]

# The real NIR graphs of ../shared/nir beside the clone.
SHARED_NIR = ROOT.parent / "shared" / "nir"


@pytest.fixture(scope="session")
def build_dir():
    return BUILD


@pytest.fixture(scope="session")
def digits_nir():
    return ROOT / "examples" / "digits" / "digits.nir"


# Images of the digits' test split the tests run.
DIGITS_SPLIT = 120


@pytest.fixture(scope="session")
def digits_split(tmp_path_factory):
    """The first DIGITS_SPLIT images of the digits' test split as evaluate.py hands them
    to a runner: test-inputs.npy (images x steps x 64) and test-labels.npy."""
    out = tmp_path_factory.mktemp("digits")
    subprocess.run(["/usr/bin/python3", str(ROOT / "examples" / "digits" / "evaluate.py"),
                    "--limit", str(DIGITS_SPLIT), "--export", str(out)],
                   env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def shared_nir():
    if not SHARED_NIR.is_dir():
        pytest.skip(f"{SHARED_NIR} absent (../shared/nir/ is not beside the clone)")
    return SHARED_NIR


class TapWriter:
    """One TAP line per test: failed if any phase failed, skipped if skipped."""

    def __init__(self, path):
        self.path = path
        self.results = {}

    def pytest_runtest_logreport(self, report):
        prev = self.results.get(report.nodeid)
        if prev and prev[0] == "failed":
            return
        if report.failed:
            self.results[report.nodeid] = ("failed", "")
        elif report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            self.results[report.nodeid] = ("skipped", reason)
        elif report.when == "call":
            self.results[report.nodeid] = ("passed", "")

    def pytest_sessionfinish(self, session):
        lines = ["TAP version 13", f"1..{len(self.results)}"]
        for n, (nodeid, (outcome, reason)) in enumerate(self.results.items(), 1):
            name = nodeid.replace("#", "")
            if outcome == "passed":
                lines.append(f"ok {n} {name}")
            elif outcome == "skipped":
                lines.append(f"# SKIP: {reason}")
                lines.append(f"ok {n} {name} # SKIP")
            else:
                lines.append(f"not ok {n} {name}")
        with open(self.path, "w") as f:
            f.write("\n".join(lines) + "\n")


def pytest_configure(config):
    tap = os.environ.get("IONPU_TAP")
    if tap:
        config.pluginmanager.register(TapWriter(tap), "ionpu-tap")
