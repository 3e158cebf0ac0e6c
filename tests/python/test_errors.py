# SPDX-License-Identifier: GPL-2.0-only
"""What the module refuses, with which exception and message."""
import errno

import numpy as np
import pytest

import ionpu


@pytest.fixture(scope="module")
def host(digits_nir):
    with ionpu.Host(ionpu.compile(ionpu.load_nir(digits_nir))) as h:
        yield h


def test_hierarchy():
    for cls in (ionpu.NoCardError, ionpu.BusyError, ionpu.GraphError, ionpu.DeviceError,
                ionpu.InvalidArgumentError):
        assert issubclass(cls, ionpu.Error) and issubclass(cls, OSError)
    assert issubclass(ionpu.GraphError, ValueError)
    assert issubclass(ionpu.InvalidArgumentError, ValueError)


@pytest.mark.parametrize("shape, says", [
    ((10, 63), "63 channels in the last dimension; the network has 64 inputs"),
    ((64,), "1 dimension(s); expected (steps, 64)"),
    ((2, 3, 4, 64), "4 dimension(s)"),
    ((0, 64), "a run needs at least one time step"),
    ((0, 5, 64), "a run needs at least one sample"),
])
def test_bad_shape(host, shape, says):
    with pytest.raises(ValueError, match=r"^raster: ") as e:
        host.run(np.zeros(shape, np.float32))
    assert says in str(e.value)


@pytest.mark.parametrize("dtype", [np.complex64, object, "U1", "M8[s]"])
def test_bad_dtype(host, dtype):
    with pytest.raises(TypeError, match="the card takes bool, integer or float values"):
        host.run(np.zeros((3, 64), dtype))


def test_value_beyond_range_in_float32_named_by_the_library(host):
    x = np.zeros((10, 64), np.float32)
    x[4, 7] = 2.0 ** 25
    with pytest.raises(ionpu.InvalidArgumentError) as e:
        host.run(x)
    assert e.value.errno == errno.EINVAL
    assert "step 4, channel 7" in e.value.strerror and "3.35544e+07" in e.value.strerror


@pytest.mark.parametrize("dtype, value", [(np.float64, 16777217.5), (np.int64, 16777217),
                                          (np.float64, np.nan), (np.float64, -np.inf)])
def test_value_beyond_range_in_a_copy_is_not_rounded_in(host, dtype, value):
    x = np.zeros((3, 10, 64), dtype)
    x[2, 4, 7] = value
    with pytest.raises(ValueError, match=r"raster\[2, 4, 7\] = .*beyond the card's input range"):
        host.run(x)


def test_nan_in_float32_is_refused(host):
    x = np.zeros((10, 64), np.float32)
    x[1, 2] = np.nan
    with pytest.raises(ionpu.InvalidArgumentError, match="step 1, channel 2"):
        host.run(x)


def test_keep_state_with_a_batch_is_refused(host):
    with pytest.raises(ValueError, match="each sample of a batch starts from rest"):
        host.run(np.zeros((2, 3, 64), np.float32), keep_state=True)


def test_closed_host(digits_nir):
    h = ionpu.Host(ionpu.compile(ionpu.load_nir(digits_nir)))
    h.close()
    h.close()
    with pytest.raises(ValueError, match="closed"):
        h.run(np.zeros((3, 64), np.float32))


def test_missing_file():
    with pytest.raises(ionpu.Error) as e:
        ionpu.load_nir("/nonexistent/graph.nir")
    assert e.value.errno == errno.ENOENT and "/nonexistent/graph.nir" in str(e.value)


def test_bytes_that_are_not_nir():
    with pytest.raises(ionpu.GraphError, match="NIR bytes: not an HDF5 file") as e:
        ionpu.load_nir(b"\x89HDF but not really")
    assert e.value.errno == errno.EPROTO


def test_not_a_path_or_bytes():
    with pytest.raises(TypeError):
        ionpu.load_nir(42)


def test_unstable_graph_names_the_population(shared_nir):
    net = ionpu.load_nir(shared_nir / "braille_noDelay_bias_zero_subgraph.nir")
    with pytest.raises(ionpu.GraphError, match="population 'lif1.lif1', neuron 0: tau_syn"):
        ionpu.compile(net)


def test_too_big_for_the_card(digits_nir, tmp_path):
    # 1,100 neurons in one population over 64 inputs need five 256-neuron tiles.
    import h5py

    path = tmp_path / "wide.nir"
    with h5py.File(path, "w") as f:
        f["version"] = "0.2.0"
        g = f.create_group("node")
        g["type"] = "NIRGraph"
        g["edges"] = np.array([[b"in", b"w"], [b"w", b"lif"], [b"lif", b"out"]])
        n = g.create_group("nodes")
        for name, typ in (("in", "Input"), ("out", "Output")):
            n.create_group(name)["type"] = typ
        n["in"]["shape"] = np.array([64])
        n["out"]["shape"] = np.array([1100])
        n.create_group("w")["type"] = "Linear"
        n["w"]["weight"] = np.ones((1100, 64))
        lif = n.create_group("lif")
        lif["type"] = "IF"
        lif["r"] = np.ones(1100)
        lif["v_threshold"] = np.ones(1100)
    with pytest.raises(ionpu.GraphError) as e:
        ionpu.compile(ionpu.load_nir(path), tiles=2)
    assert e.value.errno == errno.ENOSPC


@pytest.mark.parametrize("kwargs, says", [
    ({"tiles": 0}, "tiles=0; an IONPU-1 has 1 to 64"),
    ({"tiles": 65}, "tiles=65"),
    ({"dt": 0.0}, "dt=0.0; a time step is a positive"),
    ({"dt": float("nan")}, "dt=nan"),
])
def test_bad_compile_options(digits_nir, kwargs, says):
    with pytest.raises(ValueError) as e:
        ionpu.compile(ionpu.load_nir(digits_nir), **kwargs)
    assert says in str(e.value)


def test_no_such_card():
    with pytest.raises(ionpu.NoCardError) as e:
        ionpu.open("/dev/ionpu-nonexistent")
    assert e.value.errno == errno.ENOENT and "/dev/ionpu-nonexistent" in str(e.value)


def test_a_node_that_is_not_a_card(tmp_path):
    (tmp_path / "ionpu0").write_bytes(b"")
    with pytest.raises(ionpu.NoCardError) as e:
        ionpu.open(str(tmp_path / "ionpu0"))
    assert e.value.errno == errno.ENODEV and str(tmp_path / "ionpu0") in str(e.value)


def test_open_takes_names_only():
    with pytest.raises(TypeError, match="node path, an index or a PCI address"):
        ionpu.open(1.5)
