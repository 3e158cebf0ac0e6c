# SPDX-License-Identifier: GPL-2.0-only
"""10,000 calls leave the C heap where it was: no leak in the module or
under it (glibc's mallinfo2 counts what malloc handed out)."""
import ctypes
import gc

import numpy as np
import pytest

import ionpu

CALLS = 10_000


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def heap_in_use():
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    gc.collect()
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd


def growth(call):
    for _ in range(200):
        call()
    before = heap_in_use()
    for _ in range(CALLS):
        call()
    return heap_in_use() - before


@pytest.fixture(scope="module")
def small(shared_nir):
    return ionpu.load_nir(shared_nir / "lif_rockpool.nir")


def test_runs_do_not_leak(small):
    x = np.ones((20, small.inputs), np.float64)
    with ionpu.Host(ionpu.compile(small)) as h:
        grew = growth(lambda: h.run(x))
    # A leak of one output array or raster copy per call would be >= 200 kB.
    assert grew < 64 * 1024, f"the heap grew by {grew} bytes over {CALLS} runs"


def test_refusals_do_not_leak(small):
    bad = np.full((5, small.inputs), np.nan)

    def refuse():
        with pytest.raises(ValueError):
            h.run(bad)
    with ionpu.Host(ionpu.compile(small)) as h:
        grew = growth(refuse)
    assert grew < 64 * 1024, f"the heap grew by {grew} bytes over {CALLS} refusals"


def test_compile_and_host_do_not_leak(small):
    def cycle():
        with ionpu.Host(ionpu.compile(small)) as h:
            h.activity()
    grew = growth(cycle)
    assert grew < 64 * 1024, f"the heap grew by {grew} bytes over {CALLS} compiles"


def test_learning_sessions_do_not_leak(small):
    name = next(n["name"] for n in small.nodes if n["output"])
    x = np.ones((10, small.inputs), np.float32)
    with ionpu.Host(ionpu.compile(small, learn=[name])) as h:
        def session():
            with h.learn(name) as s:
                s.example(x, 0)
                s.weights()
                s.stats()
        grew = growth(session)
    assert grew < 64 * 1024, f"the heap grew by {grew} bytes over {CALLS} learning sessions"
