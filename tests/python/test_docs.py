# SPDX-License-Identifier: GPL-2.0-only
"""Every public name of the module has a docstring and, where it is called,
a signature that inspect reads; the stub ionpu.pyi names the same things."""
import ast
import inspect

import ionpu

from conftest import ROOT

CLASSES = (ionpu.Card, ionpu.Network, ionpu.Plan, ionpu.Host, ionpu.Loaded, ionpu.Learner)


def public(cls):
    return {n: v for n, v in vars(cls).items()
            if not n.startswith("_") or n in ("__enter__", "__exit__")}


def test_everything_is_documented_with_a_signature():
    for name in ("cards", "open", "load_nir", "compile"):
        f = getattr(ionpu, name)
        assert f.__doc__ and inspect.signature(f), name
    for cls in CLASSES:
        assert cls.__doc__, cls.__name__
        for name, member in public(cls).items():
            assert member.__doc__, f"{cls.__name__}.{name} has no docstring"
            if callable(member):
                inspect.signature(member)


def test_the_stub_names_what_the_module_has():
    tree = ast.parse((ROOT / "python" / "ionpu.pyi").read_text())
    stub = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    stub_funcs = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert stub_funcs == {"cards", "open", "load_nir", "compile"}
    for cls in CLASSES + (ionpu.Error, ionpu.NoCardError, ionpu.BusyError, ionpu.GraphError,
                          ionpu.DeviceError, ionpu.InvalidArgumentError):
        assert cls.__name__ in stub, cls.__name__
    for cls in CLASSES:
        names = set()
        node = stub[cls.__name__]
        while node is not None:
            names |= {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            base = node.bases[0].id if node.bases else None
            node = stub.get(base)
        assert set(public(cls)) <= names, (cls.__name__, set(public(cls)) - names)
