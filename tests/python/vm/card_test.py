# SPDX-License-Identifier: GPL-2.0-only
"""The ionpu module on an emulated card, in the test VM (TAP on stdout).

The digit classifier's test slice runs through Python on the card in ideal
mode and must give the host reference's spikes bit for bit; the module's
context managers, counters, errors and GIL release are checked on the card.
Plain Python, not pytest: the VM's root carries only what this imports
(tests/python/vm/stage).

Usage: card_test.py DIGITS_DIR   (digits.nir, test-inputs.npy, test-labels.npy)
"""
import errno
import os
import sys
import threading
import time
import traceback

import numpy as np

import ionpu

DIGITS = "."  # main() sets it from the command line


def card_list():
    """The cards the VM was started with: IONPU_CARDS=serial:tiles:seed,..."""
    return [dict(zip(("serial", "tiles", "seed"), c.split(":")))
            for c in os.environ.get("IONPU_CARDS", "").split(",") if c]


def digits():
    net = ionpu.load_nir(os.path.join(DIGITS, "digits.nir"))
    x = np.load(os.path.join(DIGITS, "test-inputs.npy"))
    labels = np.load(os.path.join(DIGITS, "test-labels.npy"))
    return net, x, labels


def test_cards_lists_the_vm_s_cards():
    want = card_list()
    got = ionpu.cards()
    assert [c["serial"] for c in got] == [c["serial"] for c in want], (got, want)
    for c, w in zip(got, want):
        assert c["driver_bound"] and c["node"].startswith("/dev/ionpu"), c
        assert c["tiles"] == int(w["tiles"]) and c["seed"] == int(w["seed"]), (c, w)


def test_open_is_a_context_manager():
    with ionpu.open() as card:
        info = card.info()
        assert info["serial"] == card_list()[0]["serial"], info
        assert info["tile_rows"] == 256 and info["tile_neurons"] == 256, info
    assert card.closed
    try:
        card.info()
    except ValueError as e:
        assert "closed" in str(e)
    else:
        raise AssertionError("info() on a closed card did not raise")


def test_digits_on_the_card_equal_the_host_reference():
    net, x, labels = digits()
    with ionpu.Host(ionpu.compile(net)) as host:
        want = host.run(x)
    with ionpu.open() as card:
        plan = ionpu.compile(net, card=card)
        with card.load(plan) as loaded:
            report = loaded.report()
            before = card.activity()
            got = loaded.run(x)
            after = card.activity()
    assert report["cells"] > 0 and report["failed"] == 0, report
    assert got.shape == want.shape == (len(x), x.shape[1], 10), got.shape
    assert np.array_equal(got, want), "the card's spikes differ from the host reference's"
    assert after["timesteps"] - before["timesteps"] == x.shape[0] * x.shape[1]
    assert after["energy_fj"] > before["energy_fj"]
    counts = got.sum(axis=1)
    accuracy = float((counts.argmax(axis=1) == labels).mean())
    print(f"# {len(x)} digits on the card: accuracy {accuracy:.4f} (most spikes), "
          f"{report['cells']} cells programmed")
    assert accuracy > 0.8, accuracy


def test_keep_state_on_the_card_as_on_the_host():
    net, x, _ = digits()
    sample = np.concatenate([x[0], x[1]])
    with ionpu.Host(ionpu.compile(net)) as host:
        want = np.concatenate([host.run(sample[:32]), host.run(sample[32:], keep_state=True)])
    with ionpu.open() as card, card.load(ionpu.compile(net, card=card)) as loaded:
        got = np.concatenate([loaded.run(sample[:32]), loaded.run(sample[32:], keep_state=True)])
    assert np.array_equal(got, want)


def test_load_reports_progress():
    net, _, _ = digits()
    told = []
    with ionpu.open() as card:
        plan = ionpu.compile(net, card=card)
        with card.load(plan, progress=lambda done, total: told.append((done, total))) as n:
            cells = n.report()["cells"]
    total = told[0][1]
    assert total == 2 * cells, (total, cells)
    assert told[0][0] == 0 and told[-1] == (total, total), told
    assert all(a[0] <= b[0] and a[1] == b[1] == total for a, b in zip(told, told[1:])), told


class Stop(Exception):
    pass


def test_a_raising_progress_stops_the_load():
    net, _, _ = digits()

    def stop(done, total):
        if done:
            raise Stop(done)
    with ionpu.open() as card:
        plan = ionpu.compile(net, card=card)
        try:
            card.load(plan, progress=stop)
        except Stop:
            pass
        else:
            raise AssertionError("the load went on after its progress callback raised")
        # Nothing stayed leased: every tile loads again.
        loaded = [card.load(plan) for _ in range(card.info()["tiles"] // plan.stats["tiles"])]
        for n in loaded:
            n.close()


def test_learning_on_the_card_equals_the_host():
    net, x, labels = digits()

    def teach(runner):
        with runner.learn("output") as session:
            for k in range(10):
                session.example(x[k], int(labels[k]))
            session.freeze()
            return session.weights(), session.stats()["examples"]
    with ionpu.Host(ionpu.compile(net, learn=["output"], learn_from_zero=True)) as host:
        want = teach(host)
    with ionpu.open() as card:
        plan = ionpu.compile(net, card=card, learn=["output"], learn_from_zero=True)
        with card.load(plan) as loaded:
            got = teach(loaded)
    assert got[1] == want[1] == 10
    assert want[0].any(), "the host learned nothing"
    assert np.array_equal(got[0], want[0]), "the card learned other weights than the host"


def test_a_full_card_raises_busy():
    net, _, _ = digits()
    with ionpu.open() as card:
        plan = ionpu.compile(net, card=card)
        loaded = []
        try:
            for _ in range(card.info()["tiles"] // plan.stats["tiles"]):
                loaded.append(card.load(plan))
            try:
                card.load(plan)
            except ionpu.BusyError as e:
                assert e.errno == errno.EBUSY, e
            else:
                raise AssertionError("loading onto a full card did not raise BusyError")
        finally:
            for n in loaded:
                n.close()
        card.load(plan).close()


def test_card_run_releases_the_gil():
    net, x, _ = digits()
    with ionpu.open() as card, card.load(ionpu.compile(net, card=card)) as loaded:
        assert runs_without_the_gil(loaded, np.concatenate([x] * 4), x[0])


def runs_without_the_gil(runner, long, short):
    """Whether this thread ran Python while another was inside runner.run(long).

    The other thread retries until its run gets in; this one sees BusyError
    only while that run is in the library, which it can see only if the
    library runs without the GIL.  Between its own short runs this thread
    sleeps, leaving the runner free: else, on one slow CPU, its runs may
    hold the runner every time the other thread tries, for ever.  Once it
    has seen BusyError it has its answer and only waits.
    """
    seen = False

    def long_run():
        while True:
            try:
                runner.run(long)
                return
            except ionpu.BusyError:
                time.sleep(0.001)

    t = threading.Thread(target=long_run)
    t.start()
    while t.is_alive() and not seen:
        try:
            runner.run(short)
        except ionpu.BusyError:
            seen = True
        time.sleep(0.005)
    t.join()
    return seen


def test_a_node_that_is_gone():
    try:
        ionpu.open("/dev/ionpu99")
    except ionpu.NoCardError as e:
        assert e.errno == errno.ENOENT and "/dev/ionpu99" in str(e), e
    else:
        raise AssertionError("opening /dev/ionpu99 did not raise NoCardError")


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_")]


def main():
    global DIGITS
    DIGITS = sys.argv[1] if len(sys.argv) > 1 else DIGITS
    print("TAP version 13")
    print(f"1..{len(TESTS)}")
    failed = 0
    for n, test in enumerate(TESTS, 1):
        sys.stdout.flush()
        try:
            test()
        except Exception:  # every failure is a result, and the next test runs
            failed += 1
            print(f"not ok {n} {test.__name__}")
            print("".join("# " + line + "\n" for line in
                          traceback.format_exc().splitlines()), end="")
        else:
            print(f"ok {n} {test.__name__}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
