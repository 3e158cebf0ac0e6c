# SPDX-License-Identifier: GPL-2.0-only
"""Write the converted network as a NIR graph (HDF5), as lib/ionpu_nir.c reads it; read it back.

Layout of NIR 0.2 as NIR's own writer and libionpu's make it: /version, /node with type
"NIRGraph", nodes/<name>/ holding a `type` string and one dataset per parameter, and
`edges` (E x 2 strings).  Strings are variable-length UTF-8, numbers float64, shapes
int64.  Datasets are written without creation times and in a fixed order, so the same
network gives the same bytes.
"""

import h5py
import numpy as np

NIR_VERSION = "0.2.0"
# The card's step, ionpu-run's default --dt.  NIR has no field for it: an IF neuron's
# r = 1 / DT makes one step of input add exactly that input to v.
DT = 1e-3

_STR = h5py.string_dtype(encoding="utf-8")


def _put(grp, name, value):
    if isinstance(value, str):
        grp.create_dataset(name, data=value, dtype=_STR, track_times=False)
    elif np.issubdtype(np.asarray(value).dtype, np.integer):
        grp.create_dataset(name, data=np.asarray(value, dtype="<i8"), track_times=False)
    else:
        grp.create_dataset(name, data=np.asarray(value, dtype="<f8"), track_times=False)


def _group(parent, name):
    """A group without the creation and modification times HDF5 stamps by default."""
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5py.h5g.create(parent.id, name.encode(), gcpl=gcpl))


def _node(nodes, name, kind, **params):
    g = _group(nodes, name)
    _put(g, "type", kind)
    for key in sorted(params):
        _put(g, key, params[key])


def _layer_names(i, count):
    """The Linear node and the IF node of layer i of count."""
    return f"fc{i + 1}", "output" if i == count - 1 else f"hidden{i + 1}"


def write(path, layers, dt=DT):
    """layers: [(weight, out x in), thresholds (out,)] from input to output; IF neurons."""
    names = ["input"]
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
    with h5py.File(fid) as f:
        _put(f, "version", NIR_VERSION)
        root = _group(f, "node")
        _put(root, "type", "NIRGraph")
        nodes = _group(root, "nodes")
        _node(nodes, "input", "Input", shape=np.array([layers[0][0].shape[1]]))
        for i, (w, th) in enumerate(layers):
            lin, neu = _layer_names(i, len(layers))
            _node(nodes, lin, "Linear", weight=np.asarray(w, dtype=np.float64))
            n = len(th)
            _node(nodes, neu, "IF", r=np.full(n, 1.0 / dt),
                  v_threshold=np.asarray(th, dtype=np.float64), v_reset=np.zeros(n))
            names += [lin, neu]
        _node(nodes, "out", "Output", shape=np.array([len(layers[-1][1])]))
        names.append("out")
        edges = np.array([[a, b] for a, b in zip(names, names[1:])], dtype=object)
        root.create_dataset("edges", data=edges, dtype=_STR, track_times=False)


def read(path):
    """The layers write() wrote: [(weights, thresholds)], from the graph's own datasets."""
    with h5py.File(path, "r") as f:
        nodes = f["node/nodes"]
        count = sum(1 for name in nodes if name.startswith("fc"))
        return [(nodes[f"{lin}/weight"][()], nodes[f"{neu}/v_threshold"][()])
                for lin, neu in (_layer_names(i, count) for i in range(count))]
