// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The exceptions of the ionpu module and how the library's errno values map
 * onto them.  Every one is an ionpu.Error, an OSError whose errno is the
 * library's and whose strerror is ionpu_last_error(): the message that
 * names the node, file or value at fault.
 */
#include "ionpu_py.h"

#include <errno.h>

static PyObject *new_class(PyObject *m, const char *name, PyObject *bases,
			   const char *doc)
{
	char qualified[64];
	PyObject *cls;

	snprintf(qualified, sizeof(qualified), "ionpu.%s", name);
	cls = PyErr_NewExceptionWithDoc(qualified, doc, bases, NULL);
	if (!cls)
		return NULL;
	if (PyModule_AddObjectRef(m, name, cls) < 0) {
		Py_DECREF(cls);
		return NULL;
	}
	return cls;
}

/* A subclass of ionpu.Error and, when @also is not NULL, of @also. */
static PyObject *new_subclass(PyObject *m, struct ionpy_state *st,
			      const char *name, PyObject *also, const char *doc)
{
	PyObject *bases, *cls;

	bases = also ? PyTuple_Pack(2, st->error, also) :
		       PyTuple_Pack(1, st->error);
	if (!bases)
		return NULL;
	cls = new_class(m, name, bases, doc);
	Py_DECREF(bases);
	return cls;
}

int ionpy_errors_init(PyObject *m, struct ionpy_state *st)
{
	st->error =
		new_class(m, "Error", PyExc_OSError,
			  "What libionpu refused or failed at: errno is the library's, strerror its message.");
	if (!st->error)
		return -1;
	st->no_card =
		new_subclass(m, st, "NoCardError", NULL,
			     "No such card, the ionpu driver does not serve it, or it is gone.");
	st->busy =
		new_subclass(m, st, "BusyError", NULL,
			     "The card has not the free tiles, or the object is in use by another thread.");
	st->graph =
		new_subclass(m, st, "GraphError", PyExc_ValueError,
			     "A NIR graph or network the library cannot read, compile or run.");
	st->device = new_subclass(m, st, "DeviceError", NULL,
				  "The card or its driver failed a request.");
	st->invalid =
		new_subclass(m, st, "InvalidArgumentError", PyExc_ValueError,
			     "An argument the library refused (EINVAL), e.g. an input value beyond the card's range.");
	if (!st->no_card || !st->busy || !st->graph || !st->device ||
	    !st->invalid)
		return -1;
	return 0;
}

static PyObject *class_of(struct ionpy_state *st, int err, enum ionpy_ctx ctx)
{
	switch (err) {
	case EBUSY:
		return st->busy;
	case ENODEV:
	case ENXIO:
		return st->no_card;
	case EOPNOTSUPP:
	case ENOSPC:
	case ERANGE:
		return st->graph;
	case EPROTO:
		return ctx == IONPY_CTX_CARD ? st->device : st->graph;
	/* Too much for one run: not the card's failure; run it in pieces. */
	case E2BIG:
	case ENOBUFS:
		return st->error;
	case EINVAL:
		return ctx == IONPY_CTX_GRAPH ? st->graph : st->invalid;
	case ENOENT:
		return ctx == IONPY_CTX_CARD ? st->no_card : st->error;
	default:
		return ctx == IONPY_CTX_CARD ? st->device : st->error;
	}
}

/* Raise @cls(errno, message): an OSError's arguments. */
static PyObject *raise_with(PyObject *cls, int err, PyObject *message)
{
	PyObject *exc;

	if (!message)
		return NULL;
	exc = PyObject_CallFunction(cls, "iO", err, message);
	Py_DECREF(message);
	if (!exc)
		return NULL;
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

PyObject *ionpy_raise(int err, enum ionpy_ctx ctx)
{
	if (err == -ENOMEM)
		return PyErr_NoMemory();
	return raise_with(class_of(ionpy_state(), -err, ctx), -err,
			  PyUnicode_FromString(ionpu_last_error()));
}

PyObject *ionpy_raise_as(int err, enum ionpy_ctx ctx, const char *path,
			 const char *name)
{
	PyObject *message, *from, *to, *renamed = NULL;

	if (err == -ENOMEM)
		return PyErr_NoMemory();
	message = PyUnicode_FromString(ionpu_last_error());
	from = PyUnicode_FromString(path);
	to = PyUnicode_FromString(name);
	if (message && from && to)
		renamed = PyUnicode_Replace(message, from, to, -1);
	Py_XDECREF(message);
	Py_XDECREF(from);
	Py_XDECREF(to);
	return raise_with(class_of(ionpy_state(), -err, ctx), -err, renamed);
}

PyObject *ionpy_raise_busy(const char *what)
{
	return raise_with(ionpy_state()->busy, EBUSY,
			  PyUnicode_FromString(what));
}

PyObject *ionpy_raise_no_card(size_t on_bus)
{
	return raise_with(ionpy_state()->no_card, ENODEV,
			  PyUnicode_FromFormat("no card is served by the ionpu driver (%zu IONPU card(s) on the PCI bus)",
					       on_bus));
}
