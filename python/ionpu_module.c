// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ionpu module: libionpu for Python, numpy rasters in and out.  Its
 * state is the exception classes, kept in the module object.
 */
#define IONPU_PY_IMPORT_NUMPY
#include "ionpu_py.h"

static struct PyModuleDef ionpy_module;

struct ionpy_state *ionpy_state(void)
{
	return PyModule_GetState(PyState_FindModule(&ionpy_module));
}

static PyMethodDef ionpy_functions[] = {
	{ "cards", (PyCFunction)(void (*)(void))ionpy_cards,
	  METH_VARARGS | METH_KEYWORDS,
	  "cards($module, /, sysfs_root=None)\n--\n\nReturns list[dict].  Every IONPU card on the PCI bus, driver or not (libpci): dicts of index,\npci_address, node, driver_bound, driver, serial, tiles, hw_version, seed.\nindex is -1 and node '' for a card the ionpu driver does not serve." },
	{ "open", (PyCFunction)(void (*)(void))ionpy_open,
	  METH_VARARGS | METH_KEYWORDS,
	  "open($module, /, card=None)\n--\n\nReturns Card.  Open a card: its node ('/dev/ionpu0'), index (0) or PCI address; None is\nthe first card the ionpu driver serves.  Raises NoCardError." },
	{ "load_nir", (PyCFunction)ionpy_load_nir, METH_O,
	  "load_nir($module, source, /)\n--\n\nReturns Network.  Read a NIR graph from a path or from the bytes of a .nir file.  Raises\nGraphError for a graph the library cannot read or express, naming the node." },
	{ "compile", (PyCFunction)(void (*)(void))ionpy_compile,
	  METH_VARARGS | METH_KEYWORDS,
	  "compile($module, /, network, *, tiles=None, card=None, dt=0.001, allow_unstable=False, learn=None, learn_from_zero=False)\n--\n\nReturns Plan.  Map a network onto a card's tiles: an open Card's geometry, or an IONPU-1\nwith tiles tiles (16 when neither is given).  dt is the time step in\nseconds; a time constant below it is refused unless allow_unstable.\nlearn names populations to lay out for learning (Host.learn()), each on a\ntile of its own; learn_from_zero starts their weights at zero.\nRaises GraphError, e.g. when the network does not fit (ENOSPC)." },
	{ NULL, NULL, 0, NULL },
};

static int add_type(PyObject *m, PyTypeObject *t, const char *name)
{
	if (PyType_Ready(t) < 0)
		return -1;
	return PyModule_AddObjectRef(m, name, (PyObject *)t);
}

static int ionpy_traverse(PyObject *m, visitproc visit, void *arg)
{
	struct ionpy_state *st = PyModule_GetState(m);

	Py_VISIT(st->error);
	Py_VISIT(st->no_card);
	Py_VISIT(st->busy);
	Py_VISIT(st->graph);
	Py_VISIT(st->device);
	Py_VISIT(st->invalid);
	return 0;
}

static int ionpy_clear(PyObject *m)
{
	struct ionpy_state *st = PyModule_GetState(m);

	Py_CLEAR(st->error);
	Py_CLEAR(st->no_card);
	Py_CLEAR(st->busy);
	Py_CLEAR(st->graph);
	Py_CLEAR(st->device);
	Py_CLEAR(st->invalid);
	return 0;
}

static void ionpy_free(void *m)
{
	ionpy_clear(m);
}

static struct PyModuleDef ionpy_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "ionpu",
	.m_doc =
		"IONPU-1 neuromorphic cards from Python: load a NIR graph, compile it,\nrun numpy spike rasters on a card or on the host reference.",
	.m_size = sizeof(struct ionpy_state),
	.m_methods = ionpy_functions,
	.m_traverse = ionpy_traverse,
	.m_clear = ionpy_clear,
	.m_free = ionpy_free,
};

PyMODINIT_FUNC PyInit_ionpu(void)
{
	PyObject *m;

	import_array();
	m = PyModule_Create(&ionpy_module);
	if (!m)
		return NULL;
	if (ionpy_errors_init(m, PyModule_GetState(m)) ||
	    PyModule_AddStringConstant(m, "__version__", ionpu_version()) ||
	    add_type(m, &ionpy_card_type, "Card") ||
	    add_type(m, &ionpy_network_type, "Network") ||
	    add_type(m, &ionpy_plan_type, "Plan") ||
	    add_type(m, &ionpy_host_type, "Host") ||
	    add_type(m, &ionpy_loaded_type, "Loaded") ||
	    add_type(m, &ionpy_learner_type, "Learner") ||
	    PyState_AddModule(m, &ionpy_module)) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
