// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Cards: ionpu.cards() lists them (from the PCI bus, driver or not),
 * ionpu.open() opens one as an ionpu.Card, a context manager that closes it.
 */
#include "ionpu_py.h"

#include <errno.h>

static PyObject *card_dict(const struct ionpu_card *c)
{
	return Py_BuildValue("{s:i,s:s,s:s,s:O,s:s,s:s,s:I,s:(HH),s:K}",
			     "index", c->index, "pci_address", c->pci_address,
			     "node", c->node, "driver_bound",
			     c->driver_bound ? Py_True : Py_False, "driver",
			     c->driver, "serial", c->serial, "tiles", c->tiles,
			     "hw_version", c->hw_version_major,
			     c->hw_version_minor, "seed",
			     (unsigned long long)c->seed);
}

PyObject *ionpy_cards(PyObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "sysfs_root", NULL };
	const char *root = NULL;
	struct ionpu_card *cards;
	PyObject *list;
	size_t count;
	int err;

	(void)self;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|z:cards", kwlist, &root))
		return NULL;
	err = ionpu_list(root, &cards, &count);
	if (err)
		return ionpy_raise(err, IONPY_CTX_CARD);
	list = PyList_New((Py_ssize_t)count);
	for (size_t i = 0; list && i < count; i++) {
		PyObject *d = card_dict(&cards[i]);

		if (!d) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, d);
	}
	ionpu_list_free(cards);
	return list;
}

/* The first card the driver serves, as ionpu-run picks it by default. */
static int first_card(char *node, size_t size)
{
	struct ionpu_card *cards;
	size_t count;
	int err;

	err = ionpu_list(NULL, &cards, &count);
	if (err) {
		ionpy_raise(err, IONPY_CTX_CARD);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		if (cards[i].driver_bound) {
			snprintf(node, size, "%s", cards[i].node);
			ionpu_list_free(cards);
			return 0;
		}
	}
	ionpu_list_free(cards);
	ionpy_raise_no_card(count);
	return -1;
}

PyObject *ionpy_open(PyObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "card", NULL };
	char node[IONPU_NODE_SIZE];
	struct ionpy_card *c;
	PyObject *what = Py_None, *name;
	struct ionpu_dev *dev;
	const char *path;
	int err;

	(void)self;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:open", kwlist, &what))
		return NULL;
	if (what == Py_None) {
		if (first_card(node, sizeof(node)))
			return NULL;
		name = PyUnicode_FromString(node);
	} else if (PyLong_Check(what) || PyUnicode_Check(what)) {
		name = PyObject_Str(what);
	} else {
		return PyErr_Format(PyExc_TypeError,
				    "open: card must be a node path, an index or a PCI address, not %.80s",
				    Py_TYPE(what)->tp_name);
	}
	path = name ? PyUnicode_AsUTF8(name) : NULL;
	if (!path) {
		Py_XDECREF(name);
		return NULL;
	}
	err = ionpu_open(path, &dev);
	if (err) {
		Py_DECREF(name);
		return ionpy_raise(err, IONPY_CTX_CARD);
	}
	c = PyObject_New(struct ionpy_card, &ionpy_card_type);
	if (!c) {
		ionpu_close(dev);
		Py_DECREF(name);
		return NULL;
	}
	c->dev = dev;
	c->what = name;
	c->busy = 0;
	return (PyObject *)c;
}

/* The card's handle for a call, or NULL with an exception set. */
static struct ionpu_dev *usable(struct ionpy_card *c)
{
	if (!c->dev) {
		PyErr_Format(PyExc_ValueError, "card %U is closed", c->what);
		return NULL;
	}
	if (c->busy) {
		ionpy_raise_busy("the card is in use by another thread");
		return NULL;
	}
	return c->dev;
}

static PyObject *card_info(struct ionpy_card *c, PyObject *unused)
{
	struct ionpu_dev_info i;
	struct ionpu_dev *dev = usable(c);
	int err;

	(void)unused;
	if (!dev)
		return NULL;
	err = ionpu_info(dev, &i);
	if (err)
		return ionpy_raise(err, IONPY_CTX_CARD);
	return Py_BuildValue("{s:I,s:(HH),s:I,s:I,s:I,s:I,s:K,s:s}",
			     "api_version", i.api_version, "hw_version",
			     i.hw_version_major, i.hw_version_minor, "caps",
			     i.caps, "tiles", i.tiles, "tile_rows", i.tile_rows,
			     "tile_neurons", i.tile_neurons, "seed",
			     (unsigned long long)i.seed, "serial", i.serial);
}

PyObject *ionpy_activity_dict(const struct ionpu_activity *a)
{
	return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:d}", "timesteps",
			     (unsigned long long)a->timesteps, "spikes_in",
			     (unsigned long long)a->spikes_in, "spikes_out",
			     (unsigned long long)a->spikes_out,
			     "synaptic_events",
			     (unsigned long long)a->synaptic_events,
			     "program_pulses",
			     (unsigned long long)a->program_pulses, "busy_ns",
			     (unsigned long long)a->busy_ns, "energy_fj",
			     (unsigned long long)a->energy_fj, "energy_j",
			     (double)a->energy_fj * 1e-15);
}

static PyObject *card_activity(struct ionpy_card *c, PyObject *unused)
{
	struct ionpu_activity a;
	struct ionpu_dev *dev = usable(c);
	int err;

	(void)unused;
	if (!dev)
		return NULL;
	err = ionpu_activity(dev, &a);
	if (err)
		return ionpy_raise(err, IONPY_CTX_CARD);
	return ionpy_activity_dict(&a);
}

static PyObject *card_close(struct ionpy_card *c, PyObject *unused)
{
	(void)unused;
	if (c->busy)
		return ionpy_raise_busy("the card is in use by another thread");
	ionpu_close(c->dev);
	c->dev = NULL;
	Py_RETURN_NONE;
}

static PyObject *card_enter(struct ionpy_card *c, PyObject *unused)
{
	(void)unused;
	if (!usable(c))
		return NULL;
	return Py_NewRef(c);
}

static PyObject *card_exit(struct ionpy_card *c, PyObject *args)
{
	(void)args;
	return card_close(c, NULL);
}

static PyObject *card_load(struct ionpy_card *c, PyObject *args, PyObject *kwds)
{
	if (!usable(c))
		return NULL;
	return ionpy_loaded_new(c, args, kwds);
}

static PyObject *card_repr(struct ionpy_card *c)
{
	return PyUnicode_FromFormat("<ionpu.Card %U%s>", c->what,
				    c->dev ? "" : " (closed)");
}

static void card_dealloc(struct ionpy_card *c)
{
	ionpu_close(c->dev);
	Py_XDECREF(c->what);
	PyObject_Free(c);
}

static PyObject *card_closed(struct ionpy_card *c, void *unused)
{
	(void)unused;
	return PyBool_FromLong(!c->dev);
}

static PyMethodDef card_methods[] = {
	{ "info", (PyCFunction)card_info, METH_NOARGS,
	  "info($self, /)\n--\n\nReturns dict.  The card's identity and geometry: api_version, hw_version, caps, tiles,\ntile_rows, tile_neurons, seed, serial." },
	{ "activity", (PyCFunction)card_activity, METH_NOARGS,
	  "activity($self, /)\n--\n\nReturns dict.  The whole card's counters since its reset (timesteps, spikes_in,\nspikes_out, synaptic_events, program_pulses, busy_ns, energy_fj) and\nenergy_j, the modeled energy in joules." },
	{ "load", (PyCFunction)(void (*)(void))card_load,
	  METH_VARARGS | METH_KEYWORDS,
	  "load($self, /, plan, *, physical=False, pulse_budget=0, calibration=True, progress=None)\n--\n\nReturns Loaded.  Lease tiles for the plan on this card, configure its neurons and routes and\nprogram its weights with write-verify.  Ideal mode equals the host\nreference bit for bit; physical mode shows the devices' noise.\npulse_budget: most write-verify pulses per device (0: the library's 100).\ncalibration=False ignores the card's record of stuck devices.\nprogress(done, total) is called as the devices are written, from 0 to\ntotal; an exception it raises (or Ctrl-C) stops the load, releases the\ntiles and propagates." },
	{ "close", (PyCFunction)card_close, METH_NOARGS,
	  "close($self, /)\n--\n\nClose the card; networks loaded on it stay loaded until unloaded." },
	{ "__enter__", (PyCFunction)card_enter, METH_NOARGS,
	  "__enter__($self, /)\n--\n\nReturns self." },
	{ "__exit__", (PyCFunction)card_exit, METH_VARARGS,
	  "__exit__($self, /, *exc_info)\n--\n\nclose(); an exception propagates." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef card_getset[] = {
	{ "closed", (getter)card_closed, NULL, "Whether close() was called.",
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject ionpy_card_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ionpu.Card",
	.tp_basicsize = sizeof(struct ionpy_card),
	.tp_dealloc = (destructor)card_dealloc,
	.tp_repr = (reprfunc)card_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc =
		"An open IONPU card, from ionpu.open(); a context manager that closes it.",
	.tp_methods = card_methods,
	.tp_getset = card_getset,
};
