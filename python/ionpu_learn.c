// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Learning: Host.learn() and Loaded.learn() start an ionpu.Learner on a
 * population compiled to be learned; it presents labelled examples to the
 * tile's learning engine (the host reference's or the card's), freezes, and
 * gives the learned weights back as a numpy array or a NIR file.  The
 * session keeps its Host or Loaded open until it is closed.
 */
#include "ionpu_py.h"

/* A learning session on a Host or a Loaded. */
struct ionpy_learner {
	PyObject ob_base;	 /* PyObject_HEAD */
	struct ionpu_learner *l; /* NULL once closed */
	struct ionpy_runner *host;
	uint32_t neurons; /* the population's */
	uint32_t sources; /* its projection's source's */
	PyObject *name;
};

/* The sizes of population @name and of the source of its one projection. */
static int learned_shape(const struct ionpu_network *net, const char *name,
			 uint32_t *neurons, uint32_t *sources)
{
	size_t count = ionpu_network_projection_count(net);
	struct ionpu_projection_info p;
	struct ionpu_node_info node;
	uint32_t id;
	int err;

	err = ionpu_network_find(net, name, &id);
	if (!err)
		err = ionpu_network_node(net, id, &node);
	if (err) {
		ionpy_raise(err, IONPY_CTX_GRAPH);
		return -1;
	}
	*neurons = node.size;
	for (uint32_t k = 0; k < count; k++) {
		err = ionpu_network_projection(net, k, &p);
		if (err) {
			ionpy_raise(err, IONPY_CTX_GRAPH);
			return -1;
		}
		if (p.dst != id)
			continue;
		err = ionpu_network_node(net, p.src, &node);
		if (err) {
			ionpy_raise(err, IONPY_CTX_GRAPH);
			return -1;
		}
		*sources = node.size;
		return 0;
	}
	PyErr_Format(ionpy_state()->graph,
		     "learn: population '%s' has no projection into it", name);
	return -1;
}

PyObject *ionpy_learner_new(struct ionpy_runner *host, PyObject *args,
			    PyObject *kwds)
{
	static char *kwlist[] = { "population", "amp_pot",     "amp_dep",
				  "pre_ref",	"post_target", "max_pulses",
				  NULL };
	struct ionpu_learn_rule rule = {
		.size = sizeof(rule),
		.amp_pot = 0.1,
		.amp_dep = 0.05,
		.pre_ref = 8,
		.post_target = 8,
		.max_pulses = 4096,
	};
	struct ionpy_learner *s;
	struct ionpu_learner *l;
	const char *name;
	uint32_t neurons, sources;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "s|$dddII:learn", kwlist,
					 &name, &rule.amp_pot, &rule.amp_dep,
					 &rule.pre_ref, &rule.post_target,
					 &rule.max_pulses))
		return NULL;
	if (host->busy)
		return ionpy_raise_busy("learn: in use by another thread");
	if (learned_shape(host->plan->network->net, name, &neurons, &sources))
		return NULL;
	if (ionpy_runner_learn_start(host, name, &rule, &l))
		return NULL;
	s = PyObject_New(struct ionpy_learner, &ionpy_learner_type);
	if (!s) {
		ionpu_learn_free(l);
		return NULL;
	}
	s->l = l;
	s->host = (struct ionpy_runner *)Py_NewRef(host);
	s->neurons = neurons;
	s->sources = sources;
	s->name = PyUnicode_FromString(name);
	host->learners++;
	return (PyObject *)s;
}

/* The session for a call, or NULL with an exception set. */
static struct ionpu_learner *usable(struct ionpy_learner *s)
{
	if (!s->l) {
		PyErr_Format(PyExc_ValueError,
			     "the learning session of '%U' is closed", s->name);
		return NULL;
	}
	if (s->host->busy) {
		ionpy_raise_busy("learn: the host is in use by another thread");
		return NULL;
	}
	return s->l;
}

static PyObject *learner_example(struct ionpy_learner *s, PyObject *args,
				 PyObject *kwds)
{
	static char *kwlist[] = { "raster", "label", NULL };
	struct ionpu_learner *l = usable(s);
	PyThreadState *save;
	PyArrayObject *in;
	unsigned int label;
	PyObject *obj;
	int err;

	if (!l || !PyArg_ParseTupleAndKeywords(args, kwds, "OI:example", kwlist,
					       &obj, &label))
		return NULL;
	in = ionpy_raster_in(obj, s->host->inputs);
	if (!in)
		return NULL;
	if (PyArray_NDIM(in) != 2) {
		Py_DECREF(in);
		return PyErr_Format(PyExc_ValueError,
				    "example: one raster of (steps, %zu), not a batch",
				    s->host->inputs);
	}
	s->host->busy = 1;
	save = PyEval_SaveThread();
	err = ionpu_learn_example(l, PyArray_DATA(in),
				  (size_t)PyArray_DIM(in, 0), label);
	PyEval_RestoreThread(save);
	s->host->busy = 0;
	Py_DECREF(in);
	if (err)
		return ionpy_raise(err, IONPY_CTX_RUN);
	Py_RETURN_NONE;
}

static PyObject *learner_freeze(struct ionpy_learner *s, PyObject *unused)
{
	struct ionpu_learner *l = usable(s);
	int err;

	(void)unused;
	if (!l)
		return NULL;
	err = ionpu_learn_freeze(l);
	if (err)
		return ionpy_raise(err, IONPY_CTX_RUN);
	Py_RETURN_NONE;
}

static PyObject *learner_stats(struct ionpy_learner *s, PyObject *unused)
{
	struct ionpu_learner *l = usable(s);
	struct ionpu_learn_stats st;
	int err;

	(void)unused;
	if (!l)
		return NULL;
	err = ionpu_learn_stats(l, &st);
	if (err)
		return ionpy_raise(err, IONPY_CTX_RUN);
	return Py_BuildValue("{s:K,s:K,s:K,s:d}", "examples",
			     (unsigned long long)st.examples, "pulses",
			     (unsigned long long)st.pulses, "energy_fj",
			     (unsigned long long)st.energy_fj, "energy_j",
			     (double)st.energy_fj * 1e-15);
}

static PyObject *learner_weights(struct ionpy_learner *s, PyObject *unused)
{
	struct ionpu_learner *l = usable(s);
	npy_intp dims[2] = { s->neurons, s->sources };
	PyObject *w;
	int err;

	(void)unused;
	if (!l)
		return NULL;
	w = PyArray_SimpleNew(2, dims, NPY_FLOAT64);
	if (!w)
		return NULL;
	err = ionpu_learn_weights(l, PyArray_DATA((PyArrayObject *)w));
	if (err) {
		Py_DECREF(w);
		return ionpy_raise(err, IONPY_CTX_RUN);
	}
	return w;
}

static PyObject *learner_save_nir(struct ionpy_learner *s, PyObject *arg)
{
	struct ionpu_learner *l = usable(s);
	PyObject *path;
	int err;

	if (!l || !PyUnicode_FSConverter(arg, &path))
		return NULL;
	err = ionpu_learn_save_nir(l, s->host->plan->network->net,
				   PyBytes_AS_STRING(path));
	Py_DECREF(path);
	if (err)
		return ionpy_raise(err, IONPY_CTX_GRAPH);
	Py_RETURN_NONE;
}

static PyObject *learner_close(struct ionpy_learner *s, PyObject *unused)
{
	(void)unused;
	if (s->host->busy)
		return ionpy_raise_busy(
			"close: the host is in use by another thread");
	if (s->l) {
		ionpu_learn_free(s->l);
		s->l = NULL;
		s->host->learners--;
	}
	Py_RETURN_NONE;
}

static PyObject *learner_enter(struct ionpy_learner *s, PyObject *unused)
{
	(void)unused;
	if (!usable(s))
		return NULL;
	return Py_NewRef(s);
}

static PyObject *learner_exit(struct ionpy_learner *s, PyObject *args)
{
	(void)args;
	return learner_close(s, NULL);
}

static void learner_dealloc(struct ionpy_learner *s)
{
	if (s->l) {
		ionpu_learn_free(s->l);
		s->host->learners--;
	}
	Py_XDECREF(s->host);
	Py_XDECREF(s->name);
	PyObject_Free(s);
}

static PyMethodDef learner_methods[] = {
	{ "example", (PyCFunction)(void (*)(void))learner_example,
	  METH_VARARGS | METH_KEYWORDS,
	  "example($self, /, raster, label)\n--\n\nRun a raster of (steps, inputs) from rest, then teach neuron label of the\npopulation: its cells on the rows that received input are potentiated\nunless it fired post_target times, those of every other neuron that fired\ndepressed.  The GIL is released meanwhile." },
	{ "freeze", (PyCFunction)learner_freeze, METH_NOARGS,
	  "freeze($self, /)\n--\n\nStop learning; the weights stay as the devices hold them.  Later examples\nare refused; stats(), weights() and save_nir() still work." },
	{ "stats", (PyCFunction)learner_stats, METH_NOARGS,
	  "stats($self, /)\n--\n\nReturns dict.  examples presented, learning pulses applied, their energy_fj and energy_j." },
	{ "weights", (PyCFunction)learner_weights, METH_NOARGS,
	  "weights($self, /)\n--\n\nReturns numpy.ndarray.  The learned weights read back from the devices: float64, (neurons,\nsource neurons), NIR's Linear layout." },
	{ "save_nir", (PyCFunction)learner_save_nir, METH_O,
	  "save_nir($self, path, /)\n--\n\nWrite the network with the learned weights in place of the learned\nprojection's, as NIR." },
	{ "close", (PyCFunction)learner_close, METH_NOARGS,
	  "close($self, /)\n--\n\nEnd the session (freezing it); its Host or Loaded may be closed after." },
	{ "__enter__", (PyCFunction)learner_enter, METH_NOARGS,
	  "__enter__($self, /)\n--\n\nReturns self." },
	{ "__exit__", (PyCFunction)learner_exit, METH_VARARGS,
	  "__exit__($self, /, *exc_info)\n--\n\nclose(); an exception propagates." },
	{ NULL, NULL, 0, NULL },
};

PyTypeObject ionpy_learner_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ionpu.Learner",
	.tp_basicsize = sizeof(struct ionpy_learner),
	.tp_dealloc = (destructor)learner_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc =
		"A learning session on the host reference, from Host.learn(); a context\nmanager that ends it.",
	.tp_methods = learner_methods,
};
