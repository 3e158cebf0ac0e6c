// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Graphs and plans: ionpu.load_nir() reads a NIR graph (a file or its
 * bytes) into an ionpu.Network, ionpu.compile() maps it onto a card's tiles
 * as an ionpu.Plan, which keeps its network for the runs.
 */
/* mkstemp(), open_memstream() */
#define _GNU_SOURCE
#include "ionpu_py.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static PyObject *network_wrap(struct ionpu_network *net)
{
	struct ionpy_network *n;

	n = PyObject_New(struct ionpy_network, &ionpy_network_type);
	if (!n) {
		ionpu_network_free(net);
		return NULL;
	}
	n->net = net;
	return (PyObject *)n;
}

/*
 * NIR bytes go to a temporary file that the reader opens by name and that
 * is gone when this returns: the reader takes paths only, and libhdf5
 * resolves a path's real name, which a memfd or an unlinked file has not.
 */
static int load_bytes(const char *data, Py_ssize_t len,
		      struct ionpu_network **net)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd, err;

	snprintf(path, sizeof(path), "%s/ionpu-nir.XXXXXX",
		 dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
		return -1;
	}
	for (Py_ssize_t done = 0; done < len;) {
		ssize_t w = write(fd, data + done, (size_t)(len - done));

		if (w < 0) {
			PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
			close(fd);
			unlink(path);
			return -1;
		}
		done += w;
	}
	close(fd);
	err = ionpu_nir_load(path, net);
	unlink(path);
	if (err) {
		ionpy_raise_as(err, IONPY_CTX_GRAPH, path, "NIR bytes");
		return -1;
	}
	return 0;
}

/*
 * The GIL stays held while libhdf5 reads: Debian builds it without thread
 * safety, and the GIL is what keeps two Python threads out of it.
 */
PyObject *ionpy_load_nir(PyObject *self, PyObject *arg)
{
	struct ionpu_network *net;
	PyObject *path;
	int err;

	(void)self;
	if (PyBytes_Check(arg)) {
		if (load_bytes(PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg),
			       &net))
			return NULL;
		return network_wrap(net);
	}
	if (!PyUnicode_FSConverter(arg, &path))
		return NULL;
	err = ionpu_nir_load(PyBytes_AS_STRING(path), &net);
	Py_DECREF(path);
	if (err)
		return ionpy_raise(err, IONPY_CTX_GRAPH);
	return network_wrap(net);
}

static const char *model_name(enum ionpu_neuron_model m)
{
	switch (m) {
	case IONPU_NEURON_LIF:
		return "LIF";
	case IONPU_NEURON_IF:
		return "IF";
	case IONPU_NEURON_LI:
		return "LI";
	case IONPU_NEURON_CUBA_LIF:
		return "CubaLIF";
	case IONPU_NEURON_THRESHOLD:
		return "Threshold";
	}
	return NULL;
}

static PyObject *node_dict(const struct ionpu_node_info *i)
{
	int input = i->kind == IONPU_NODE_INPUT;
	const char *model = input ? NULL : model_name(i->model);

	return Py_BuildValue("{s:s,s:s,s:z,s:I,s:O}", "name", i->name, "kind",
			     input ? "input" : "population", "model", model,
			     "size", i->size, "output",
			     i->output ? Py_True : Py_False);
}

static PyObject *network_nodes(struct ionpy_network *n, void *unused)
{
	size_t count = ionpu_network_node_count(n->net);
	struct ionpu_node_info info;
	PyObject *list;

	(void)unused;
	list = PyList_New((Py_ssize_t)count);
	for (uint32_t id = 0; list && id < count; id++) {
		PyObject *d;
		int err = ionpu_network_node(n->net, id, &info);

		if (err) {
			Py_DECREF(list);
			return ionpy_raise(err, IONPY_CTX_GRAPH);
		}
		d = node_dict(&info);
		if (!d) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, id, d);
	}
	return list;
}

/* Channels of the input nodes, or neurons of the output populations. */
static PyObject *network_width(struct ionpy_network *n, int outputs)
{
	size_t count = ionpu_network_node_count(n->net), sum = 0;
	struct ionpu_node_info info;

	for (uint32_t id = 0; id < count; id++) {
		int err = ionpu_network_node(n->net, id, &info);

		if (err)
			return ionpy_raise(err, IONPY_CTX_GRAPH);
		if (outputs ? info.output : info.kind == IONPU_NODE_INPUT)
			sum += info.size;
	}
	return PyLong_FromSize_t(sum);
}

static PyObject *network_inputs(struct ionpy_network *n, void *unused)
{
	(void)unused;
	return network_width(n, 0);
}

static PyObject *network_outputs(struct ionpy_network *n, void *unused)
{
	(void)unused;
	return network_width(n, 1);
}

static PyObject *network_save(struct ionpy_network *n, PyObject *arg)
{
	PyObject *path;
	int err;

	if (!PyUnicode_FSConverter(arg, &path))
		return NULL;
	err = ionpu_nir_save(n->net, PyBytes_AS_STRING(path));
	Py_DECREF(path);
	if (err)
		return ionpy_raise(err, IONPY_CTX_GRAPH);
	Py_RETURN_NONE;
}

static PyObject *network_repr(struct ionpy_network *n)
{
	return PyUnicode_FromFormat("<ionpu.Network: %zu nodes, %zu projections>",
				    ionpu_network_node_count(n->net),
				    ionpu_network_projection_count(n->net));
}

static void network_dealloc(struct ionpy_network *n)
{
	ionpu_network_free(n->net);
	PyObject_Free(n);
}

static PyMethodDef network_methods[] = {
	{ "save", (PyCFunction)network_save, METH_O,
	  "save($self, path, /)\n--\n\nWrite the network as a NIR graph (ionpu.load_nir() reads it back)." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef network_getset[] = {
	{ "nodes", (getter)network_nodes, NULL,
	  "The nodes in order: dicts of name, kind ('input' or 'population'),\nmodel ('LIF', 'IF', 'LI', 'CubaLIF', 'Threshold'; None for an input),\nsize and output (its spikes go to the host).",
	  NULL },
	{ "inputs", (getter)network_inputs, NULL,
	  "Input channels: the last dimension of a raster to run.", NULL },
	{ "outputs", (getter)network_outputs, NULL,
	  "Output neurons: the last dimension of a run's output raster.",
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject ionpy_network_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ionpu.Network",
	.tp_basicsize = sizeof(struct ionpy_network),
	.tp_dealloc = (destructor)network_dealloc,
	.tp_repr = (reprfunc)network_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A spiking network read from NIR by ionpu.load_nir().",
	.tp_methods = network_methods,
	.tp_getset = network_getset,
};

/* The card description to compile for: an open card's, or IONPU-1's. */
static int card_desc(PyObject *card, PyObject *tiles,
		     struct ionpu_card_desc *desc)
{
	unsigned long n;
	int err;

	if (card != Py_None) {
		if (!PyObject_TypeCheck(card, &ionpy_card_type)) {
			PyErr_Format(PyExc_TypeError,
				     "compile: card must be an ionpu.Card, not %.80s",
				     Py_TYPE(card)->tp_name);
			return -1;
		}
		if (tiles != Py_None) {
			PyErr_SetString(PyExc_ValueError,
					"compile: give tiles or card, not both (a card has its own tiles)");
			return -1;
		}
		if (!((struct ionpy_card *)card)->dev) {
			PyErr_SetString(PyExc_ValueError,
					"compile: the card is closed");
			return -1;
		}
		err = ionpu_card_desc_of(((struct ionpy_card *)card)->dev,
					 desc);
		if (err) {
			ionpy_raise(err, IONPY_CTX_CARD);
			return -1;
		}
		return 0;
	}
	n = tiles == Py_None ? 16 : PyLong_AsUnsignedLong(tiles);
	if (PyErr_Occurred())
		return -1;
	if (n < 1 || n > IONPU_CARD_MAX_TILES) {
		PyErr_Format(PyExc_ValueError,
			     "compile: tiles=%lu; an IONPU-1 has 1 to %d", n,
			     IONPU_CARD_MAX_TILES);
		return -1;
	}
	ionpu_card_desc_default((uint32_t)n, desc);
	return 0;
}

/*
 * The names of @learn (None or a sequence of str) as @opts->learn, in
 * @names (PyMem_Free() it), valid while @seq lives.
 */
static int learn_names(PyObject *learn, PyObject **seq, const char ***names,
		       struct ionpu_compile_opts *opts)
{
	Py_ssize_t n;

	*seq = NULL;
	*names = NULL;
	if (learn == Py_None)
		return 0;
	if (PyUnicode_Check(learn)) {
		PyErr_SetString(PyExc_TypeError,
				"compile: learn is a list of population names, not one string");
		return -1;
	}
	*seq = PySequence_Fast(learn,
			       "compile: learn must be a list of population names");
	if (!*seq)
		return -1;
	n = PySequence_Fast_GET_SIZE(*seq);
	*names = PyMem_Calloc(n ? (size_t)n : 1, sizeof(**names));
	if (!*names) {
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t k = 0; k < n; k++) {
		PyObject *name = PySequence_Fast_GET_ITEM(*seq, k);

		(*names)[k] = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) :
						      NULL;
		if (!(*names)[k]) {
			if (!PyErr_Occurred())
				PyErr_Format(PyExc_TypeError,
					     "compile: learn[%zd] is %.80s, not a population name",
					     k, Py_TYPE(name)->tp_name);
			return -1;
		}
	}
	opts->learn = *names;
	opts->n_learn = (size_t)n;
	return 0;
}

PyObject *ionpy_compile(PyObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {
		"network", "tiles",	      "card", "dt", "allow_unstable",
		"learn",   "learn_from_zero", NULL
	};
	PyObject *network, *tiles = Py_None, *card = Py_None, *dt_obj = NULL;
	PyObject *learn = Py_None, *seq = NULL;
	struct ionpu_compile_opts opts = { .size = sizeof(opts) };
	int unstable = 0, from_zero = 0, err;
	struct ionpu_card_desc desc;
	struct ionpu_plan *plan;
	struct ionpy_network *net;
	const char **names = NULL;
	struct ionpy_plan *p;
	PyThreadState *save;
	double dt = 0.001;

	(void)self;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!|$OOOpOp:compile",
					 kwlist, &ionpy_network_type, &network,
					 &tiles, &card, &dt_obj, &unstable,
					 &learn, &from_zero))
		return NULL;
	if (dt_obj) {
		dt = PyFloat_AsDouble(dt_obj);
		if (dt == -1.0 && PyErr_Occurred())
			return NULL;
	}
	if (card_desc(card, tiles, &desc))
		return NULL;
	if (!(dt > 0) || !isfinite(dt))
		return PyErr_Format(PyExc_ValueError,
				    "compile: dt=%R; a time step is a positive, finite number of seconds",
				    dt_obj);
	desc.dt = dt;
	if (learn_names(learn, &seq, &names, &opts)) {
		PyMem_Free(names);
		Py_XDECREF(seq);
		return NULL;
	}
	opts.flags = (unstable ? IONPU_COMPILE_ALLOW_UNSTABLE : 0) |
		     (from_zero ? IONPU_COMPILE_LEARN_FROM_ZERO : 0);
	net = (struct ionpy_network *)network;
	save = PyEval_SaveThread();
	err = ionpu_compile_with(net->net, &desc, &opts, &plan);
	PyEval_RestoreThread(save);
	PyMem_Free(names);
	Py_XDECREF(seq);
	if (err)
		return ionpy_raise(err, IONPY_CTX_GRAPH);
	p = PyObject_New(struct ionpy_plan, &ionpy_plan_type);
	if (!p) {
		ionpu_plan_free(plan);
		return NULL;
	}
	p->plan = plan;
	p->network = (struct ionpy_network *)Py_NewRef(network);
	return (PyObject *)p;
}

static PyObject *plan_stats(struct ionpy_plan *p, void *unused)
{
	struct ionpu_plan_stats s;

	(void)unused;
	ionpu_plan_stats(p->plan, &s);
	return Py_BuildValue("{s:I,s:K,s:K,s:K,s:I,s:K,s:K}", "tiles", s.tiles,
			     "rows", (unsigned long long)s.rows, "neurons",
			     (unsigned long long)s.neurons, "cells",
			     (unsigned long long)s.cells, "chain_groups",
			     s.chain_groups, "routes",
			     (unsigned long long)s.routes, "outputs",
			     (unsigned long long)s.outputs);
}

static PyObject *plan_network(struct ionpy_plan *p, void *unused)
{
	(void)unused;
	return Py_NewRef(p->network);
}

static PyObject *plan_dump(struct ionpy_plan *p, PyObject *unused)
{
	PyObject *text = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	(void)unused;
	f = open_memstream(&buf, &len);
	if (!f)
		return PyErr_SetFromErrno(PyExc_OSError);
	err = ionpu_plan_dump(p->plan, f);
	if (fclose(f) && !err)
		err = -EIO;
	if (err)
		ionpy_raise(err, IONPY_CTX_GRAPH);
	else
		text = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "replace");
	free(buf);
	return text;
}

static void plan_dealloc(struct ionpy_plan *p)
{
	ionpu_plan_free(p->plan);
	Py_XDECREF(p->network);
	PyObject_Free(p);
}

static PyMethodDef plan_methods[] = {
	{ "dump", (PyCFunction)plan_dump, METH_NOARGS,
	  "dump($self, /)\n--\n\nReturns str.  The mapping in text, one tile per line, and the totals (ionpu-run --plan)." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef plan_getset[] = {
	{ "stats", (getter)plan_stats, NULL,
	  "What the plan uses: tiles, rows, neurons, cells, chain_groups, routes,\noutputs.",
	  NULL },
	{ "network", (getter)plan_network, NULL,
	  "The network the plan was compiled from.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject ionpy_plan_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ionpu.Plan",
	.tp_basicsize = sizeof(struct ionpy_plan),
	.tp_dealloc = (destructor)plan_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A network mapped onto a card's tiles, from ionpu.compile().",
	.tp_methods = plan_methods,
	.tp_getset = plan_getset,
};
