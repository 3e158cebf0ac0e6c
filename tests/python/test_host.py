# SPDX-License-Identifier: GPL-2.0-only
"""The host reference through Python: the same spikes as ionpu-run, batches,
state carried over, input types, counters."""
import errno
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import ionpu

# The shared graphs and what compile needs for them: the Braille RNN's
# CubaLIF has a tau_syn below the 1 ms step.
SHARED = {
    "two_lif_neurons.nir": False,
    "lif_rockpool.nir": False,
    "braille_noDelay_bias_zero_subgraph.nir": True,
}


def raster(shape, seed, rate=0.3):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) < rate).astype(np.float32)


@pytest.fixture(scope="module")
def digits(digits_nir):
    plan = ionpu.compile(ionpu.load_nir(digits_nir))
    with ionpu.Host(plan) as h:
        yield h


def ionpu_run(build_dir, graph, x, tmp_path, unstable):
    np.save(tmp_path / "in.npy", x)
    cmd = [str(build_dir / "tools" / "ionpu-run"), "--host", "-i", str(tmp_path / "in.npy"),
           "-o", str(tmp_path / "out.npy"), str(graph)]
    if unstable:
        cmd.insert(1, "--allow-unstable")
    subprocess.run(cmd, check=True, capture_output=True)
    return np.load(tmp_path / "out.npy")


def test_version_is_the_library_s(build_dir):
    out = subprocess.run([str(build_dir / "tools" / "ionpu-run"), "--version"],
                         check=True, capture_output=True, text=True).stdout
    assert ionpu.__version__ and ionpu.__version__ in out


@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_graph_equals_ionpu_run(shared_nir, build_dir, tmp_path, name):
    net = ionpu.load_nir(shared_nir / name)
    plan = ionpu.compile(net, allow_unstable=SHARED[name])
    x = raster((300, net.inputs), seed=len(name))
    with ionpu.Host(plan) as h:
        assert (h.inputs, h.outputs) == (net.inputs, net.outputs)
        y = h.run(x)
        # two_lif_neurons' output neuron never fires (threshold 20): its
        # first neuron's spikes show the network ran.
        assert h.activity()["spikes_out"] > 0, f"{name}: no neuron spiked"
    want = ionpu_run(build_dir, shared_nir / name, x, tmp_path, SHARED[name])
    assert y.dtype == np.uint8 and y.shape == (300, net.outputs)
    assert np.array_equal(y, want)


def test_digits_batch_equals_ionpu_run(digits_nir, digits, build_dir, tmp_path):
    x = raster((5, 40, 64), seed=7, rate=0.5)
    y = digits.run(x)
    assert y.shape == (5, 40, 10)
    assert np.array_equal(y, ionpu_run(build_dir, digits_nir, x, tmp_path, False))
    for k in range(5):
        assert np.array_equal(y[k], digits.run(x[k])), f"sample {k} is not a run from rest"


def test_bytes_and_path_give_the_same_network(digits_nir):
    a = ionpu.load_nir(digits_nir)
    b = ionpu.load_nir(digits_nir.read_bytes())
    c = ionpu.load_nir(str(digits_nir))
    assert a.nodes == b.nodes == c.nodes
    assert [n["name"] for n in a.nodes if n["output"]] == ["output"]
    assert (a.inputs, a.outputs) == (64, 10)


def test_save_reads_back(digits_nir, digits, tmp_path):
    net = ionpu.load_nir(digits_nir)
    net.save(tmp_path / "copy.nir")
    x = raster((30, 64), seed=3, rate=0.5)
    with ionpu.Host(ionpu.compile(ionpu.load_nir(tmp_path / "copy.nir"))) as h:
        assert np.array_equal(h.run(x), digits.run(x))


def test_keep_state_continues_a_run(digits):
    x = raster((60, 64), seed=11, rate=0.5)
    whole = digits.run(x)
    first = digits.run(x[:30])
    second = digits.run(x[30:], keep_state=True)
    assert np.array_equal(np.concatenate([first, second]), whole)


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.uint8, np.bool_, ">f4"])
def test_other_dtypes_and_layouts_give_the_same_spikes(digits, dtype):
    x = raster((40, 64), seed=5, rate=0.5)
    want = digits.run(x)
    assert np.array_equal(digits.run(x.astype(dtype)), want)
    fortran = np.asfortranarray(x.astype(dtype))
    assert np.array_equal(digits.run(fortran), want)
    assert np.array_equal(digits.run(x.tolist()), want)


def test_counters_count_the_run(digits):
    x = raster((25, 64), seed=2, rate=0.5)
    before = digits.activity()
    y = digits.run(x)
    after = digits.activity()
    assert after["timesteps"] - before["timesteps"] == 25
    assert after["spikes_in"] > before["spikes_in"]
    assert after["spikes_out"] - before["spikes_out"] >= int(y.sum())
    assert after["energy_fj"] > before["energy_fj"]
    assert after["energy_j"] == pytest.approx(after["energy_fj"] * 1e-15)


def test_plan_describes_the_mapping(digits_nir):
    plan = ionpu.compile(ionpu.load_nir(digits_nir), tiles=4)
    stats = plan.stats
    assert stats["neurons"] == 128 + 10 and stats["outputs"] == 10
    assert plan.dump().startswith(f"plan: {stats['tiles']} of 4 tiles")
    assert plan.network.inputs == 64


def add_pci(sys_root, address, driver=None):
    """A PCI function with the IONPU IDs in its config space, where libpci's
    sysfs method reads them, bound to driver if one is given."""
    d = sys_root / "bus" / "pci" / "devices" / address
    d.mkdir(parents=True)
    (d / "config").write_bytes(b"\x34\x12\x50\x4e" + bytes(60))
    if driver:
        (sys_root / "bus" / "pci" / "drivers" / driver).mkdir(parents=True, exist_ok=True)
        (d / "driver").symlink_to(f"../../drivers/{driver}")


def test_cards_without_the_driver_reads_the_pci_bus(tmp_path):
    (tmp_path / "bus" / "pci" / "devices").mkdir(parents=True)
    assert ionpu.cards(sysfs_root=str(tmp_path)) == []
    add_pci(tmp_path, "0000:00:04.0")
    add_pci(tmp_path, "0000:00:05.0", "vfio-pci")
    add_pci(tmp_path, "0000:00:03.0", "ionpu")
    card = tmp_path / "class" / "ionpu" / "ionpu0"
    card.mkdir(parents=True)
    (card / "device").symlink_to("../../../bus/pci/devices/0000:00:03.0")
    for name, value in (("serial", "PY-1"), ("tiles", "16"), ("hw_version", "1.4"),
                        ("seed", "18446744073709551615"), ("dev", "240:0")):
        (card / name).write_text(value + "\n")
    got = ionpu.cards(sysfs_root=str(tmp_path))
    assert [c["pci_address"] for c in got] == ["0000:00:03.0", "0000:00:04.0", "0000:00:05.0"]
    served, bare, other = got
    assert served == {"index": 0, "pci_address": "0000:00:03.0", "node": "/dev/ionpu0",
                      "driver_bound": True, "driver": "ionpu", "serial": "PY-1", "tiles": 16,
                      "hw_version": (1, 4), "seed": 2 ** 64 - 1}
    assert (bare["index"], bare["node"], bare["driver_bound"], bare["driver"]) == (-1, "", False, "")
    assert (other["driver"], other["driver_bound"], other["serial"]) == ("vfio-pci", False, "")
    assert isinstance(ionpu.cards(), list)


def test_cards_of_a_missing_tree(tmp_path):
    with pytest.raises(ionpu.Error) as e:
        ionpu.cards(sysfs_root=str(tmp_path / "none"))
    assert e.value.errno == errno.ENOENT


def test_host_run_releases_the_gil(digits):
    """Another thread runs Python while a long run is inside the library."""
    sys.path.insert(0, str(pathlib.Path(__file__).parent / "vm"))
    from card_test import runs_without_the_gil

    x = raster((20000, 64), seed=1, rate=0.5)
    assert runs_without_the_gil(digits, x, x[:1])
