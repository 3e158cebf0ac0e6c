// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Runs: ionpu.Host, the host reference, and ionpu.Loaded, a plan loaded on a
 * card, take the same call: run(raster) with a numpy raster of time steps x
 * input channels (or samples x steps x channels, each sample from rest) and
 * give back a uint8 raster of the output neurons' spikes.  The GIL is
 * released while the library runs.
 */
#include "ionpu_py.h"

#include <errno.h>
#include <math.h>

/* What differs between the host reference and a loaded network. */
struct runner_ops {
	const char *what; /* for messages */
	int (*run)(void *h, const float *in, size_t steps, int keep_state,
		   uint8_t *out);
	int (*run_batch)(void *h, const float *in, size_t samples, size_t steps,
			 uint8_t *out);
	void (*free)(void *h);
	int (*learn_start)(void *h, const char *node,
			   const struct ionpu_learn_rule *rule,
			   struct ionpu_learner **out);
	int (*activity)(void *h, struct ionpu_activity *out);
	enum ionpy_ctx ctx;
};

static int host_run(void *h, const float *in, size_t steps, int keep_state,
		    uint8_t *out)
{
	if (!keep_state)
		ionpu_host_reset(h);
	return ionpu_host_run(h, in, steps, out);
}

static int host_run_batch(void *h, const float *in, size_t samples,
			  size_t steps, uint8_t *out)
{
	return ionpu_host_run_batch(h, in, samples, steps, out);
}

static void host_free(void *h)
{
	ionpu_host_free(h);
}

static int host_learn_start(void *h, const char *node,
			    const struct ionpu_learn_rule *rule,
			    struct ionpu_learner **out)
{
	return ionpu_host_learn_start(h, node, rule, out);
}

static int host_activity(void *h, struct ionpu_activity *out)
{
	ionpu_host_activity(h, out);
	return 0;
}

static const struct runner_ops host_ops = {
	.what = "host reference",
	.run = host_run,
	.run_batch = host_run_batch,
	.free = host_free,
	.learn_start = host_learn_start,
	.activity = host_activity,
	.ctx = IONPY_CTX_RUN,
};

static int loaded_run(void *h, const float *in, size_t steps, int keep_state,
		      uint8_t *out)
{
	return ionpu_loaded_run(h, in, steps,
				keep_state ? IONPU_RUN_KEEP_STATE : 0, out);
}

static int loaded_run_batch(void *h, const float *in, size_t samples,
			    size_t steps, uint8_t *out)
{
	return ionpu_loaded_run_batch(h, in, samples, steps, out);
}

static void loaded_free(void *h)
{
	ionpu_unload(h);
}

static int loaded_learn_start(void *h, const char *node,
			      const struct ionpu_learn_rule *rule,
			      struct ionpu_learner **out)
{
	return ionpu_learn_start(h, node, rule, out);
}

static int loaded_activity(void *h, struct ionpu_activity *out)
{
	return ionpu_loaded_activity(h, out);
}

static const struct runner_ops loaded_ops = {
	.what = "loaded network",
	.run = loaded_run,
	.run_batch = loaded_run_batch,
	.free = loaded_free,
	.learn_start = loaded_learn_start,
	.activity = loaded_activity,
	.ctx = IONPY_CTX_CARD,
};

/* "[s, t, c]" of flat index @k of a @ndim-D raster of @dims. */
static PyObject *index_of(int ndim, const npy_intp *dims, npy_intp k)
{
	npy_intp c = k % dims[ndim - 1], rest = k / dims[ndim - 1];

	if (ndim == 2)
		return PyUnicode_FromFormat("[%zd, %zd]", (Py_ssize_t)rest,
					    (Py_ssize_t)c);
	return PyUnicode_FromFormat("[%zd, %zd, %zd]",
				    (Py_ssize_t)(rest / dims[1]),
				    (Py_ssize_t)(rest % dims[1]),
				    (Py_ssize_t)c);
}

/*
 * A float32 copy of a raster of another type, each value checked first in
 * double, so that a value beyond the card's range is not rounded into it.
 */
static PyArrayObject *to_float32(PyArrayObject *src)
{
	PyArrayObject *d, *f;
	const double *v;
	float *o;
	npy_intp n;

	d = (PyArrayObject *)PyArray_FROMANY((PyObject *)src, NPY_DOUBLE, 0, 0,
					     NPY_ARRAY_IN_ARRAY);
	if (!d)
		return NULL;
	f = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(d), PyArray_DIMS(d),
					       NPY_FLOAT32);
	if (!f) {
		Py_DECREF(d);
		return NULL;
	}
	v = PyArray_DATA(d);
	o = PyArray_DATA(f);
	n = PyArray_SIZE(d);
	for (npy_intp k = 0; k < n; k++) {
		PyObject *at, *val;

		if (fabs(v[k]) <= IONPU_INPUT_MAX) {
			o[k] = (float)v[k];
			continue;
		}
		at = index_of(PyArray_NDIM(d), PyArray_DIMS(d), k);
		val = PyFloat_FromDouble(v[k]);
		if (at && val)
			PyErr_Format(PyExc_ValueError,
				     "raster%U = %R: beyond the card's input range, magnitude at most %d",
				     at, val, (int)IONPU_INPUT_MAX);
		Py_XDECREF(at);
		Py_XDECREF(val);
		Py_DECREF(f);
		Py_DECREF(d);
		return NULL;
	}
	Py_DECREF(d);
	return f;
}

/*
 * The raster as C-ordered float32, checked against the network: the array
 * itself when it is that already (no copy), else a checked copy.
 */
PyArrayObject *ionpy_raster_in(PyObject *obj, size_t inputs)
{
	PyArrayObject *a;
	char kind;
	int ndim;

	a = (PyArrayObject *)PyArray_FROM_O(obj);
	if (!a)
		return NULL;
	kind = PyArray_DESCR(a)->kind;
	ndim = PyArray_NDIM(a);
	if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f') {
		PyErr_Format(PyExc_TypeError,
			     "raster: dtype %R; the card takes bool, integer or float values",
			     (PyObject *)PyArray_DESCR(a));
		goto err;
	}
	if (ndim != 2 && ndim != 3) {
		PyErr_Format(PyExc_ValueError,
			     "raster: %d dimension(s); expected (steps, %zu) or (samples, steps, %zu)",
			     ndim, inputs, inputs);
		goto err;
	}
	if ((size_t)PyArray_DIM(a, ndim - 1) != inputs) {
		PyErr_Format(PyExc_ValueError,
			     "raster: %zd channels in the last dimension; the network has %zu inputs",
			     (Py_ssize_t)PyArray_DIM(a, ndim - 1), inputs);
		goto err;
	}
	for (int d = 0; d < ndim - 1; d++) {
		if (PyArray_DIM(a, d) == 0) {
			PyErr_Format(PyExc_ValueError,
				     "raster: dimension %d is empty; a run needs at least one %s",
				     d, d == ndim - 2 ? "time step" : "sample");
			goto err;
		}
	}
	if (PyArray_TYPE(a) == NPY_FLOAT32 && PyArray_ISCARRAY_RO(a) &&
	    PyArray_ISNOTSWAPPED(a))
		return a;
	Py_SETREF(a, to_float32(a));
	return a;
err:
	Py_DECREF(a);
	return NULL;
}

static PyObject *runner_run(struct ionpy_runner *r, PyObject *args,
			    PyObject *kwds)
{
	static char *kwlist[] = { "raster", "keep_state", NULL };
	PyObject *obj, *out;
	PyThreadState *save;
	PyArrayObject *in;
	npy_intp dims[3];
	int keep = 0, ndim, err;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$p:run", kwlist, &obj,
					 &keep))
		return NULL;
	if (!r->h)
		return PyErr_Format(PyExc_ValueError, "run: the %s is closed",
				    r->ops->what);
	in = ionpy_raster_in(obj, r->inputs);
	if (!in)
		return NULL;
	ndim = PyArray_NDIM(in);
	if (ndim == 3 && keep) {
		Py_DECREF(in);
		return PyErr_Format(PyExc_ValueError,
				    "run: keep_state=True with a batch; each sample of a batch starts from rest");
	}
	memcpy(dims, PyArray_DIMS(in), (size_t)ndim * sizeof(*dims));
	dims[ndim - 1] = (npy_intp)r->outputs;
	out = PyArray_SimpleNew(ndim, dims, NPY_UINT8);
	if (!out) {
		Py_DECREF(in);
		return NULL;
	}
	if (r->busy) {
		Py_DECREF(in);
		Py_DECREF(out);
		return ionpy_raise_busy("run: in use by another thread");
	}
	r->busy = 1;
	save = PyEval_SaveThread();
	if (ndim == 2)
		err = r->ops->run(r->h, PyArray_DATA(in), (size_t)dims[0], keep,
				  PyArray_DATA((PyArrayObject *)out));
	else
		err = r->ops->run_batch(r->h, PyArray_DATA(in), (size_t)dims[0],
					(size_t)dims[1],
					PyArray_DATA((PyArrayObject *)out));
	PyEval_RestoreThread(save);
	r->busy = 0;
	Py_DECREF(in);
	if (err) {
		Py_DECREF(out);
		return ionpy_raise(err, r->ops->ctx);
	}
	return out;
}

static PyObject *runner_close(struct ionpy_runner *r, PyObject *unused)
{
	(void)unused;
	if (r->busy)
		return ionpy_raise_busy("close: in use by another thread");
	if (r->learners)
		return PyErr_Format(PyExc_ValueError,
				    "close: the %s has %zu learning session(s) open; close them first",
				    r->ops->what, r->learners);
	if (r->h)
		r->ops->free(r->h);
	r->h = NULL;
	Py_RETURN_NONE;
}

static PyObject *runner_enter(struct ionpy_runner *r, PyObject *unused)
{
	(void)unused;
	if (!r->h)
		return PyErr_Format(PyExc_ValueError, "the %s is closed",
				    r->ops->what);
	return Py_NewRef(r);
}

static PyObject *runner_exit(struct ionpy_runner *r, PyObject *args)
{
	(void)args;
	return runner_close(r, NULL);
}

static PyObject *runner_inputs(struct ionpy_runner *r, void *unused)
{
	(void)unused;
	return PyLong_FromSize_t(r->inputs);
}

static PyObject *runner_outputs(struct ionpy_runner *r, void *unused)
{
	(void)unused;
	return PyLong_FromSize_t(r->outputs);
}

static void runner_dealloc(struct ionpy_runner *r)
{
	if (r->h)
		r->ops->free(r->h);
	Py_XDECREF(r->plan);
	Py_XDECREF(r->card);
	PyObject_Free(r);
}

static struct ionpy_runner *runner_new(PyTypeObject *type,
				       const struct runner_ops *ops)
{
	struct ionpy_runner *r = PyObject_New(struct ionpy_runner, type);

	if (!r)
		return NULL;
	r->ops = ops;
	r->h = NULL;
	r->busy = 0;
	r->learners = 0;
	r->plan = NULL;
	r->card = NULL;
	return r;
}

static PyObject *host_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "plan", NULL };
	struct ionpy_runner *r;
	struct ionpy_plan *p;
	struct ionpu_host *h;
	int err;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!:Host", kwlist,
					 &ionpy_plan_type, &p))
		return NULL;
	err = ionpu_host_new(p->network->net, p->plan, &h);
	if (err)
		return ionpy_raise(err, IONPY_CTX_GRAPH);
	r = runner_new(type, &host_ops);
	if (!r) {
		ionpu_host_free(h);
		return NULL;
	}
	r->h = h;
	r->inputs = ionpu_host_inputs(h);
	r->outputs = ionpu_host_outputs(h);
	r->plan = (struct ionpy_plan *)Py_NewRef(p);
	return (PyObject *)r;
}

static PyObject *runner_activity(struct ionpy_runner *r, PyObject *unused)
{
	struct ionpu_activity a;
	int err;

	(void)unused;
	if (!r->h)
		return PyErr_Format(PyExc_ValueError, "the %s is closed",
				    r->ops->what);
	if (r->busy)
		return ionpy_raise_busy("activity: in use by another thread");
	err = r->ops->activity(r->h, &a);
	if (err)
		return ionpy_raise(err, r->ops->ctx);
	return ionpy_activity_dict(&a);
}

int ionpy_runner_learn_start(struct ionpy_runner *r, const char *node,
			     const struct ionpu_learn_rule *rule,
			     struct ionpu_learner **out)
{
	int err = r->ops->learn_start(r->h, node, rule, out);

	if (err)
		ionpy_raise(err, r->ops->ctx);
	return err;
}

static PyObject *runner_learn(struct ionpy_runner *r, PyObject *args,
			      PyObject *kwds)
{
	if (!r->h)
		return PyErr_Format(PyExc_ValueError, "the %s is closed",
				    r->ops->what);
	return ionpy_learner_new(r, args, kwds);
}

#define LEARN_DOC \
	"learn($self, /, population, *, amp_pot=0.1, amp_dep=0.05, pre_ref=8.0, post_target=8, max_pulses=4096)\n--\n\nReturns Learner.  Start learning a population the plan was compiled to learn\n(compile(learn=[...])), with the learning engine's rule (docs/physics.md,\n\"Learning\"): amp_pot and amp_dep the potentiating and depressing pulses'\namplitudes (0 to 1), pre_ref the input events of a row that give a full\npulse, post_target the taught neuron's spikes beyond which it is not\npotentiated, max_pulses the most pulses one example may apply.  The\ndefaults are docs/libionpu.md's example."

#define RUN_DOC                                                                        \
	"run($self, /, raster, *, keep_state=False)\n--\n\nReturns numpy.ndarray.  "   \
	"Run a raster of time steps x input channels (1 a spike, 0 none, or a\n"       \
	"graded value) from rest; the result is a uint8 raster of time steps x\n"      \
	"output neurons, 1 where the neuron spiked.  A 3-D raster (samples x steps\n"  \
	"x channels) is a batch, each sample from rest.  float32 C-ordered input is\n" \
	"used in place; other bool, integer or float arrays are copied, each value\n"  \
	"checked.  keep_state=True goes on from where the last 2-D run stopped."

static PyMethodDef host_methods[] = {
	{ "run", (PyCFunction)(void (*)(void))runner_run,
	  METH_VARARGS | METH_KEYWORDS, RUN_DOC },
	{ "activity", (PyCFunction)runner_activity, METH_NOARGS,
	  "activity($self, /)\n--\n\nReturns dict.  The counters of the host reference's model core since it was made, as\nCard.activity() gives a card's." },
	{ "learn", (PyCFunction)(void (*)(void))runner_learn,
	  METH_VARARGS | METH_KEYWORDS, LEARN_DOC },
	{ "close", (PyCFunction)runner_close, METH_NOARGS,
	  "close($self, /)\n--\n\nFree the session." },
	{ "__enter__", (PyCFunction)runner_enter, METH_NOARGS,
	  "__enter__($self, /)\n--\n\nReturns self." },
	{ "__exit__", (PyCFunction)runner_exit, METH_VARARGS,
	  "__exit__($self, /, *exc_info)\n--\n\nclose(); an exception propagates." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef runner_getset[] = {
	{ "inputs", (getter)runner_inputs, NULL,
	  "Input channels: the last dimension of a raster.", NULL },
	{ "outputs", (getter)runner_outputs, NULL,
	  "Output neurons: the last dimension of a run's result.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject ionpy_host_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ionpu.Host",
	.tp_basicsize = sizeof(struct ionpy_runner),
	.tp_dealloc = (destructor)runner_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc =
		"Host(plan)\n--\n\nThe host reference: the card's model core run in software in ideal mode,\nso its output is what a noise-free card gives.  A context manager.",
	.tp_methods = host_methods,
	.tp_getset = runner_getset,
	.tp_new = host_new,
};

/*
 * Programming's progress, from the loading thread without the GIL: the
 * Python callback, if any, and the signal handlers, so that Ctrl-C stops a
 * long load.  An exception either raises stops the load and stays set for
 * Card.load() to raise.
 */
static int load_progress(void *arg, uint64_t done, uint64_t total)
{
	PyGILState_STATE gil = PyGILState_Ensure();
	PyObject *fn = arg, *r;
	int stop = PyErr_CheckSignals() < 0;

	if (!stop && fn != Py_None) {
		r = PyObject_CallFunction(fn, "KK", (unsigned long long)done,
					  (unsigned long long)total);
		stop = !r;
		Py_XDECREF(r);
	}
	PyGILState_Release(gil);
	return stop;
}

PyObject *ionpy_loaded_new(struct ionpy_card *card, PyObject *args,
			   PyObject *kwds)
{
	static char *kwlist[] = { "plan",	 "physical", "pulse_budget",
				  "calibration", "progress", NULL };
	struct ionpu_load_opts opts = { 0 };
	int physical = 0, calibration = 1, err;
	PyObject *progress = Py_None;
	struct ionpu_loaded *n;
	struct ionpy_runner *r;
	struct ionpy_plan *p;
	PyThreadState *save;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!|$pIpO:load", kwlist,
					 &ionpy_plan_type, &p, &physical,
					 &opts.pulse_budget, &calibration,
					 &progress))
		return NULL;
	if (progress != Py_None && !PyCallable_Check(progress))
		return PyErr_Format(PyExc_TypeError,
				    "load: progress must be callable(done, total), not %.80s",
				    Py_TYPE(progress)->tp_name);
	if (physical)
		opts.flags |= IONPU_LOAD_PHYSICAL;
	if (!calibration)
		opts.flags |= IONPU_LOAD_NO_CALIB;
	card->busy = 1;
	save = PyEval_SaveThread();
	err = ionpu_load_progress(card->dev, p->network->net, p->plan, &opts,
				  load_progress, progress, &n);
	PyEval_RestoreThread(save);
	card->busy = 0;
	if (err && PyErr_Occurred())
		return NULL;
	if (err)
		return ionpy_raise(err, IONPY_CTX_CARD);
	r = runner_new(&ionpy_loaded_type, &loaded_ops);
	if (!r) {
		ionpu_unload(n);
		return NULL;
	}
	r->h = n;
	r->inputs = ionpu_loaded_inputs(n);
	r->outputs = ionpu_loaded_outputs(n);
	r->card = (struct ionpy_card *)Py_NewRef(card);
	r->plan = (struct ionpy_plan *)Py_NewRef(p);
	return (PyObject *)r;
}

static PyObject *loaded_report(struct ionpy_runner *r, PyObject *unused)
{
	struct ionpu_program_stats s;

	(void)unused;
	if (!r->h)
		return PyErr_Format(PyExc_ValueError, "the %s is closed",
				    r->ops->what);
	ionpu_loaded_report(r->h, &s);
	return Py_BuildValue("{s:K,s:K,s:K,s:d,s:d,s:d,s:d,s:K,s:K,s:K}",
			     "cells", (unsigned long long)s.cells, "devices",
			     (unsigned long long)s.devices, "pulses",
			     (unsigned long long)s.pulses, "mean_error_us",
			     s.mean_error_us, "max_error_us", s.max_error_us,
			     "mean_weight_error", s.mean_weight_error,
			     "max_weight_error", s.max_weight_error, "stuck",
			     (unsigned long long)s.stuck, "remapped",
			     (unsigned long long)s.remapped, "failed",
			     (unsigned long long)s.failed);
}

static PyMethodDef loaded_methods[] = {
	{ "run", (PyCFunction)(void (*)(void))runner_run,
	  METH_VARARGS | METH_KEYWORDS, RUN_DOC },
	{ "learn", (PyCFunction)(void (*)(void))runner_learn,
	  METH_VARARGS | METH_KEYWORDS, LEARN_DOC },
	{ "report", (PyCFunction)loaded_report, METH_NOARGS,
	  "report($self, /)\n--\n\nReturns dict.  What programming the weights achieved: cells, devices, pulses,\nmean_error_us, max_error_us, mean_weight_error, max_weight_error, stuck,\nremapped, failed." },
	{ "activity", (PyCFunction)runner_activity, METH_NOARGS,
	  "activity($self, /)\n--\n\nReturns dict.  The network's own counters, as Card.activity() gives the whole\ncard's: its tiles' work since they were leased and the timesteps its runs ran." },
	{ "close", (PyCFunction)runner_close, METH_NOARGS,
	  "close($self, /)\n--\n\nRelease the network's tiles on the card." },
	{ "__enter__", (PyCFunction)runner_enter, METH_NOARGS,
	  "__enter__($self, /)\n--\n\nReturns self." },
	{ "__exit__", (PyCFunction)runner_exit, METH_VARARGS,
	  "__exit__($self, /, *exc_info)\n--\n\nclose(); an exception propagates." },
	{ NULL, NULL, 0, NULL },
};

PyTypeObject ionpy_loaded_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ionpu.Loaded",
	.tp_basicsize = sizeof(struct ionpy_runner),
	.tp_dealloc = (destructor)runner_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc =
		"A plan loaded on a card, from Card.load(); a context manager that\nreleases its tiles.",
	.tp_methods = loaded_methods,
	.tp_getset = runner_getset,
};
