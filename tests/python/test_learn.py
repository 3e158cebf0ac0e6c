# SPDX-License-Identifier: GPL-2.0-only
"""Learning on the host reference through Python: a session teaches the
digit classifier's output layer from zero, deterministically, and what it
learned runs again from the NIR file it writes."""
import errno

import numpy as np
import pytest

import ionpu

TAUGHT = 40


@pytest.fixture(scope="module")
def digits(digits_split, digits_nir):
    net = ionpu.load_nir(digits_nir)
    return (net, np.load(digits_split / "test-inputs.npy"),
            np.load(digits_split / "test-labels.npy"))


def learn(net, x, labels):
    """Weights, stats and a frozen Host after teaching the first TAUGHT images."""
    plan = ionpu.compile(net, learn=["output"], learn_from_zero=True)
    host = ionpu.Host(plan)
    with host.learn("output") as session:
        assert not session.weights().any(), "learn_from_zero left weights"
        for k in range(TAUGHT):
            session.example(x[k], int(labels[k]))
        session.freeze()
        return session.weights(), session.stats(), host, session


def test_teaching_from_zero_learns_the_digits(digits, tmp_path):
    net, x, labels = digits
    weights, stats, host, _ = learn(net, x, labels)
    assert weights.shape == (10, 128) and weights.dtype == np.float64
    assert weights.any()
    assert stats["examples"] == TAUGHT and stats["pulses"] > 0
    assert stats["energy_j"] == pytest.approx(stats["energy_fj"] * 1e-15) and stats["energy_fj"] > 0
    out = host.run(x[TAUGHT:])
    accuracy = (out.sum(axis=1).argmax(axis=1) == labels[TAUGHT:]).mean()
    assert accuracy > 0.3, f"accuracy {accuracy} after {TAUGHT} examples; chance is 0.1"
    host.close()


def test_learning_is_deterministic(digits):
    net, x, labels = digits
    a = learn(net, x, labels)
    b = learn(net, x, labels)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]


def test_what_was_learned_runs_from_nir(digits, tmp_path):
    net, x, labels = digits
    plan = ionpu.compile(net, learn=["output"], learn_from_zero=True)
    with ionpu.Host(plan) as host:
        with host.learn("output") as session:
            for k in range(TAUGHT):
                session.example(x[k], int(labels[k]))
            session.freeze()
            session.save_nir(tmp_path / "learned.nir")
            want = host.run(x[TAUGHT:])
    learned = ionpu.load_nir(tmp_path / "learned.nir")
    assert learned.nodes == net.nodes
    with ionpu.Host(ionpu.compile(learned)) as again:
        assert np.array_equal(again.run(x[TAUGHT:]), want)


def test_refusals(digits):
    net, x, _ = digits
    with pytest.raises(ionpu.GraphError, match="'nope': the network has no such node"):
        ionpu.compile(net, learn=["nope"])
    with pytest.raises(TypeError, match="not one string"):
        ionpu.compile(net, learn="output")
    with pytest.raises(TypeError, match=r"learn\[0\] is int"):
        ionpu.compile(net, learn=[3])
    plan = ionpu.compile(net, learn=["output"])
    host = ionpu.Host(plan)
    with pytest.raises(ionpu.InvalidArgumentError, match="amp_pot is nan") as e:
        host.learn("output", amp_pot=float("nan"))
    assert e.value.errno == errno.EINVAL
    with pytest.raises(ionpu.InvalidArgumentError):
        host.learn("hidden1")
    session = host.learn("output")
    with pytest.raises(ionpu.InvalidArgumentError, match="label 10 is out of range"):
        session.example(x[0], 10)
    with pytest.raises(ValueError, match="not a batch"):
        session.example(x[:2], 1)
    with pytest.raises(ValueError, match="1 learning session"):
        host.close()
    session.freeze()
    with pytest.raises(ionpu.InvalidArgumentError, match="frozen"):
        session.example(x[0], 1)
    session.close()
    with pytest.raises(ValueError, match="closed"):
        session.weights()
    host.close()
