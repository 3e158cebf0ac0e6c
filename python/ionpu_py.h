/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ionpu Python module: what its files share.  Each file defines one
 * concern (errors, cards, graphs and plans, runs) and registers its types
 * with the module from PyInit_ionpu().
 */
#ifndef IONPU_PY_H
#define IONPU_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* One numpy C-API table for the module; ionpu_module.c imports it. */
#define PY_ARRAY_UNIQUE_SYMBOL ionpu_py_numpy_api
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#ifndef IONPU_PY_IMPORT_NUMPY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include <ionpu/ionpu.h>

/*
 * What a failing call was doing: the same errno means another kind of
 * failure at another place (ENOENT opening a card is "no card", loading a
 * graph it is a missing file).
 */
enum ionpy_ctx {
	IONPY_CTX_CARD = 1, /* finding, opening, loading or running a card */
	IONPY_CTX_GRAPH,    /* reading, compiling or checking a network */
	IONPY_CTX_RUN,	    /* running the host reference */
};

/* Per-module state: the exception classes. */
struct ionpy_state {
	PyObject *error;
	PyObject *no_card;
	PyObject *busy;
	PyObject *graph;
	PyObject *device;
	PyObject *invalid;
};

struct ionpy_state *ionpy_state(void);
int ionpy_errors_init(PyObject *m, struct ionpy_state *st);

/*
 * Raise the exception for the library's negative errno @err, carrying
 * ionpu_last_error() of this thread.  Returns NULL for `return ionpy_raise()`.
 */
PyObject *ionpy_raise(int err, enum ionpy_ctx ctx);
/* As ionpy_raise(), the message saying @name where the library said @path. */
PyObject *ionpy_raise_as(int err, enum ionpy_ctx ctx, const char *path,
			 const char *name);
/* Raise BusyError: @what is in use by another thread. */
PyObject *ionpy_raise_busy(const char *what);
/* Raise NoCardError: none of the @on_bus cards is the driver's. */
PyObject *ionpy_raise_no_card(size_t on_bus);

/* Activity counters as a dict, energy also in joules. */
PyObject *ionpy_activity_dict(const struct ionpu_activity *a);

/* Types, each defined in its own file and added to the module there. */
extern PyTypeObject ionpy_card_type;
extern PyTypeObject ionpy_network_type;
extern PyTypeObject ionpy_plan_type;
extern PyTypeObject ionpy_host_type;
extern PyTypeObject ionpy_loaded_type;
extern PyTypeObject ionpy_learner_type;

/* An open card (ionpu_card.c). */
struct ionpy_card {
	PyObject ob_base; /* PyObject_HEAD */
	struct ionpu_dev *dev;
	PyObject *what; /* how it was named, for messages */
	int busy;	/* a call without the GIL is using @dev */
};

/* A network read from NIR (ionpu_network.c). */
struct ionpy_network {
	PyObject ob_base; /* PyObject_HEAD */
	struct ionpu_network *net;
};

/* A network mapped onto a card; keeps its network alive (ionpu_network.c). */
struct ionpy_plan {
	PyObject ob_base; /* PyObject_HEAD */
	struct ionpu_plan *plan;
	struct ionpy_network *network;
};

/* What differs between a Host and a Loaded (ionpu_run.c). */
struct runner_ops;

/* An ionpu.Host or ionpu.Loaded. */
struct ionpy_runner {
	PyObject ob_base; /* PyObject_HEAD */
	const struct runner_ops *ops;
	void *h; /* NULL once closed */
	size_t inputs;
	size_t outputs;
	int busy;		 /* a run without the GIL is using @h */
	size_t learners;	 /* open Learner sessions on a Host */
	struct ionpy_plan *plan; /* what it runs */
	struct ionpy_card *card; /* a Loaded's card, kept open while it is */
};

/*
 * A raster as C-ordered float32 of @inputs channels, 2-D or 3-D: the array
 * itself when it is that already, else a checked copy (ionpu_run.c).
 */
PyArrayObject *ionpy_raster_in(PyObject *obj, size_t inputs);

/* ionpu_card.c, ionpu_network.c, ionpu_run.c, ionpu_learn.c: the module's functions. */
PyObject *ionpy_cards(PyObject *self, PyObject *args, PyObject *kwds);
PyObject *ionpy_open(PyObject *self, PyObject *args, PyObject *kwds);
PyObject *ionpy_load_nir(PyObject *self, PyObject *arg);
PyObject *ionpy_compile(PyObject *self, PyObject *args, PyObject *kwds);
/* Load @plan onto @card (Card.load). */
PyObject *ionpy_loaded_new(struct ionpy_card *card, PyObject *args,
			   PyObject *kwds);
/* Start learning a population of @host's plan (Host.learn, Loaded.learn). */
PyObject *ionpy_learner_new(struct ionpy_runner *host, PyObject *args,
			    PyObject *kwds);
/* The session on @r's population @node, or -errno with the exception set. */
int ionpy_runner_learn_start(struct ionpy_runner *r, const char *node,
			     const struct ionpu_learn_rule *rule,
			     struct ionpu_learner **out);

#endif /* IONPU_PY_H */
