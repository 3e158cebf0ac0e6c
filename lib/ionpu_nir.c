// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * NIR import: reads a NIR graph from HDF5 and folds it into a network.
 *
 * Three passes.  The first reads every node of the root graph and of the
 * graphs nested in it into one flat list, wiring each edge that touches a
 * nested graph to that graph's Input or Output node.  The second gives every
 * node the shape of what it emits, which checks every parameter's shape and
 * finds cycles that no neuron breaks.  The third walks back from each neuron
 * node over the chain of linear nodes that feeds it to the neuron or Input
 * node the chain starts at, and turns each chain into one projection.
 *
 * Nothing from the file is trusted: every dataset is checked for presence,
 * class and shape before use, and every failure names the node.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#include "ionpu_internal.h"
#include "ionpu_nir_vlen.h"

/* Deeper nesting than this is taken as a loop of HDF5 links. */
#define NIR_MAX_DEPTH		16
/* Largest dataset read, in values: far beyond any crossbar, short of abuse. */
#define NIR_MAX_VALUES		(1u << 26)
/* Largest matrix a chain of several linear nodes is multiplied out into. */
#define NIR_MAX_COMPOSED	(1u << 24)
#define NIR_MAX_DIMS		4

enum nir_kind {
	K_INPUT,	/* Input of the root graph: a network input */
	K_OUTPUT,	/* Output of the root graph */
	K_PASS,		/* Input or Output of a nested graph: passes values on */
	K_FLATTEN,
	K_NEURON,
	K_AFFINE,
	K_LINEAR,
	K_SCALE,
	K_CONV,		/* Conv1d, Conv2d, SumPool2d and AvgPool2d */
	K_DELAY,
};

struct nir_array {
	double *v;
	size_t n;
	int ndims;
	hsize_t dims[NIR_MAX_DIMS];
};

enum nir_param {
	NP_TAU, NP_TAU_SYN, NP_TAU_MEM, NP_R, NP_V_LEAK, NP_V_THRESHOLD, NP_V_RESET, NP_W_IN,
	NP_COUNT
};

struct nir_node {
	char *name;		/* with the names of the graphs around it: "g.lif" */
	char *type;
	enum nir_kind kind;
	enum ionpu_neuron_model model;
	struct nir_array weight;	/* weight, scale or delay */
	struct nir_array bias;
	struct nir_array shape;		/* Input and Output: the declared shape */
	struct nir_array param[NP_COUNT];
	struct ionpu_conv conv;		/* geometry, output size and weight set in pass 2 */
	double *conv_weight;		/* pools: the constant kernel */
	uint32_t conv_hw[2];		/* input_shape, 0 if not given */
	bool conv1d;
	int *preds;
	size_t n_preds;
	/* Pass 2: the shape this node emits, row-major. */
	int state;
	int out_ndims;
	uint32_t out[3];
	uint32_t net_id;
};

struct nir_loader {
	const char *path;
	struct nir_node *nodes;
	size_t n_nodes;
	size_t cap_nodes;
};

/* One node as the edges of its own graph name it. */
struct nir_local {
	char *name;
	int entry;	/* where edges into it go */
	int exit;	/* where edges out of it come from */
};

static int nir_fail(struct nir_loader *L, int err, const char *node, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int nir_fail(struct nir_loader *L, int err, const char *node, const char *fmt, ...)
{
	char reason[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (node)
		return ionpu_error(err, "%s: node '%s': %s", L->path, node, reason);
	return ionpu_error(err, "%s: %s", L->path, reason);
}

static void free_array(struct nir_array *a)
{
	free(a->v);
	a->v = NULL;
}

static void free_loader(struct nir_loader *L)
{
	for (size_t i = 0; i < L->n_nodes; i++) {
		struct nir_node *n = &L->nodes[i];

		free(n->name);
		free(n->type);
		free_array(&n->weight);
		free_array(&n->bias);
		free_array(&n->shape);
		for (int p = 0; p < NP_COUNT; p++)
			free_array(&n->param[p]);
		free(n->conv_weight);
		free(n->preds);
	}
	free(L->nodes);
}

static char *join_name(const char *prefix, const char *name)
{
	size_t lp = strlen(prefix), ln = strlen(name);
	char *s = malloc(lp + ln + 1);

	if (s) {
		memcpy(s, prefix, lp);
		memcpy(s + lp, name, ln + 1);
	}
	return s;
}

/* --- reading datasets ------------------------------------------------ */

static int has_link(hid_t grp, const char *name)
{
	return H5Lexists(grp, name, H5P_DEFAULT) > 0;
}

/* The strings of dataset @dset, whatever their storage (variable or fixed). */
static int read_strings(struct nir_loader *L, hid_t grp, const char *node, const char *dset,
			char ***out, size_t *count, hsize_t *dims, int *ndims)
{
	hid_t ds, ftype = -1, space = -1, mtype = -1;
	char **strs = NULL;
	hssize_t n;
	int err = 0;

	ds = H5Dopen2(grp, dset, H5P_DEFAULT);
	if (ds < 0)
		return nir_fail(L, -EPROTO, node, "cannot open dataset '%s'", dset);
	ftype = H5Dget_type(ds);
	space = H5Dget_space(ds);
	if (ftype < 0 || space < 0) {
		err = nir_fail(L, -EPROTO, node, "cannot read dataset '%s'", dset);
		goto out;
	}
	if (H5Tget_class(ftype) != H5T_STRING) {
		err = nir_fail(L, -EPROTO, node, "'%s' is not a string", dset);
		goto out;
	}
	*ndims = H5Sget_simple_extent_ndims(space);
	n = H5Sget_simple_extent_npoints(space);
	if (*ndims < 0 || *ndims > NIR_MAX_DIMS || n < 0 || n > NIR_MAX_VALUES) {
		err = nir_fail(L, -EPROTO, node, "'%s' has an unreadable shape", dset);
		goto out;
	}
	H5Sget_simple_extent_dims(space, dims, NULL);
	strs = calloc((size_t)n + 1, sizeof(*strs));
	if (!strs) {
		err = nir_fail(L, -ENOMEM, node, "out of memory");
		goto out;
	}
	if (H5Tis_variable_str(ftype) > 0) {
		char **raw;
		const char *why;

		err = ionpu_nir_vlen_check(ds, (uint64_t)n, &why);
		if (err) {
			err = nir_fail(L, err, node, "'%s' is damaged: %s", dset, why);
			goto out;
		}
		raw = calloc((size_t)n + 1, sizeof(*raw));
		mtype = H5Tcopy(H5T_C_S1);
		if (!raw || mtype < 0 || H5Tset_size(mtype, H5T_VARIABLE) < 0 ||
		    H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0 ||
		    H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
			free(raw);
			err = nir_fail(L, -EPROTO, node, "cannot read strings of '%s'", dset);
			goto out;
		}
		for (hssize_t i = 0; i < n && !err; i++) {
			strs[i] = strdup(raw[i] ? raw[i] : "");
			if (!strs[i])
				err = nir_fail(L, -ENOMEM, node, "out of memory");
		}
		H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, raw);
		free(raw);
	} else {
		size_t size = H5Tget_size(ftype);
		char *raw = size ? calloc((size_t)n ? (size_t)n : 1, size) : NULL;

		mtype = H5Tcopy(ftype);
		if (!raw || mtype < 0 ||
		    H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
			free(raw);
			err = nir_fail(L, -EPROTO, node, "cannot read strings of '%s'", dset);
			goto out;
		}
		for (hssize_t i = 0; i < n && !err; i++) {
			const char *s = raw + (size_t)i * size;
			size_t len = strnlen(s, size);

			/* Space-padded strings keep their padding on disk. */
			while (len && s[len - 1] == ' ')
				len--;
			strs[i] = strndup(s, len);
			if (!strs[i])
				err = nir_fail(L, -ENOMEM, node, "out of memory");
		}
		free(raw);
	}
out:
	if (err || !strs) {
		for (size_t i = 0; strs && strs[i]; i++)
			free(strs[i]);
		free(strs);
	} else {
		*out = strs;
		*count = (size_t)n;
	}
	if (mtype >= 0)
		H5Tclose(mtype);
	if (space >= 0)
		H5Sclose(space);
	if (ftype >= 0)
		H5Tclose(ftype);
	H5Dclose(ds);
	return err;
}

static void free_strings(char **strs)
{
	for (size_t i = 0; strs && strs[i]; i++)
		free(strs[i]);
	free(strs);
}

/* The one string of a scalar (or one-element) dataset. */
static int read_string(struct nir_loader *L, hid_t grp, const char *node, const char *dset,
		       char **out)
{
	hsize_t dims[NIR_MAX_DIMS];
	char **strs;
	size_t n;
	int ndims, err;

	if (!has_link(grp, dset))
		return nir_fail(L, -EPROTO, node, "no '%s' dataset", dset);
	err = read_strings(L, grp, node, dset, &strs, &n, dims, &ndims);
	if (err)
		return err;
	if (n != 1) {
		free_strings(strs);
		return nir_fail(L, -EPROTO, node, "'%s' holds %zu strings, not one", dset, n);
	}
	*out = strs[0];
	free(strs);
	return 0;
}

/* A numeric dataset (float32, float64, any integer) as doubles. */
static int read_array(struct nir_loader *L, hid_t grp, const char *node, const char *dset,
		      bool required, struct nir_array *a)
{
	hid_t ds, type = -1, space = -1;
	H5T_class_t cls;
	hssize_t n;
	int err = 0;

	if (!has_link(grp, dset))
		return required ? nir_fail(L, -EPROTO, node, "no '%s' dataset", dset) : 0;
	ds = H5Dopen2(grp, dset, H5P_DEFAULT);
	if (ds < 0)
		return nir_fail(L, -EPROTO, node, "cannot open dataset '%s'", dset);
	type = H5Dget_type(ds);
	space = H5Dget_space(ds);
	if (type < 0 || space < 0) {
		err = nir_fail(L, -EPROTO, node, "cannot read dataset '%s'", dset);
		goto out;
	}
	cls = H5Tget_class(type);
	if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
		err = nir_fail(L, -EPROTO, node, "'%s' is not a number array", dset);
		goto out;
	}
	a->ndims = H5Sget_simple_extent_ndims(space);
	n = H5Sget_simple_extent_npoints(space);
	if (a->ndims < 0 || a->ndims > NIR_MAX_DIMS || n < 0 || n > NIR_MAX_VALUES) {
		err = nir_fail(L, -EPROTO, node, "'%s' has an unsupported shape", dset);
		goto out;
	}
	/*
	 * Values never written read as the fill value, and converting that
	 * crashes libhdf5 1.10 on a damaged file: a graph has its values.
	 */
	if (n && !H5Dget_storage_size(ds)) {
		err = nir_fail(L, -EPROTO, node, "'%s' holds no values", dset);
		goto out;
	}
	H5Sget_simple_extent_dims(space, a->dims, NULL);
	a->n = (size_t)n;
	a->v = malloc((a->n ? a->n : 1) * sizeof(double));
	if (!a->v) {
		err = nir_fail(L, -ENOMEM, node, "out of memory");
		goto out;
	}
	if (a->n && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->v) < 0) {
		free_array(a);
		err = nir_fail(L, -EPROTO, node, "cannot read the values of '%s'", dset);
	}
out:
	if (space >= 0)
		H5Sclose(space);
	if (type >= 0)
		H5Tclose(type);
	H5Dclose(ds);
	return err;
}

/*
 * A convolution's integer tuple (stride, padding, ...): absent means @def,
 * one value means all of them.  NIR may store padding as "valid" (0).
 */
static int read_ints(struct nir_loader *L, hid_t grp, const char *node, const char *dset,
		     int count, uint32_t def, uint32_t *out)
{
	struct nir_array a = { 0 };
	hid_t ds, type;
	bool is_string = false;
	int err;

	for (int i = 0; i < count; i++)
		out[i] = def;
	if (!has_link(grp, dset))
		return 0;
	ds = H5Dopen2(grp, dset, H5P_DEFAULT);
	if (ds >= 0) {
		type = H5Dget_type(ds);
		is_string = type >= 0 && H5Tget_class(type) == H5T_STRING;
		if (type >= 0)
			H5Tclose(type);
		H5Dclose(ds);
	}
	if (is_string) {
		char *s;

		err = read_string(L, grp, node, dset, &s);
		if (err)
			return err;
		if (strcmp(s, "valid")) {
			err = nir_fail(L, -EOPNOTSUPP, node, "%s '%s' is not supported", dset, s);
			free(s);
			return err;
		}
		free(s);
		for (int i = 0; i < count; i++)
			out[i] = 0;
		return 0;
	}
	err = read_array(L, grp, node, dset, true, &a);
	if (err)
		return err;
	if (a.ndims > 1 || (a.n != 1 && a.n != (size_t)count)) {
		free_array(&a);
		return nir_fail(L, -EPROTO, node, "'%s' has %zu values, not 1 or %d", dset,
				a.n, count);
	}
	for (int i = 0; i < count; i++) {
		double v = a.v[a.n == 1 ? 0 : i];

		if (!(v >= 0 && v <= UINT32_MAX) || v != floor(v)) {
			free_array(&a);
			return nir_fail(L, -EPROTO, node, "'%s' holds %g, not a count", dset, v);
		}
		out[i] = (uint32_t)v;
	}
	free_array(&a);
	return 0;
}

/* --- pass 1: nodes and edges ------------------------------------------ */

static int new_node(struct nir_loader *L, const char *name, const char *type, enum nir_kind kind)
{
	struct nir_node *n;

	if (L->n_nodes == L->cap_nodes) {
		size_t cap = L->cap_nodes ? L->cap_nodes * 2 : 16;
		void *p = realloc(L->nodes, cap * sizeof(*L->nodes));

		if (!p)
			return nir_fail(L, -ENOMEM, name, "out of memory");
		L->nodes = p;
		L->cap_nodes = cap;
	}
	n = &L->nodes[L->n_nodes];
	*n = (struct nir_node){ .kind = kind };
	n->name = strdup(name);
	n->type = strdup(type);
	if (!n->name || !n->type) {
		free(n->name);
		free(n->type);
		return nir_fail(L, -ENOMEM, name, "out of memory");
	}
	return (int)L->n_nodes++;
}

struct neuron_type {
	const char *type;
	enum ionpu_neuron_model model;
	/* NIR's name of each parameter; NULL if the node has none. */
	const char *names[NP_COUNT];
	uint32_t optional;	/* bits of parameters with a default */
};

static const struct neuron_type neuron_types[] = {
	{ "LIF", IONPU_NEURON_LIF,
	  { [NP_TAU] = "tau", [NP_R] = "r", [NP_V_LEAK] = "v_leak",
	    [NP_V_THRESHOLD] = "v_threshold", [NP_V_RESET] = "v_reset" },
	  1u << NP_V_RESET },
	{ "IF", IONPU_NEURON_IF,
	  { [NP_R] = "r", [NP_V_THRESHOLD] = "v_threshold", [NP_V_RESET] = "v_reset" },
	  1u << NP_V_RESET },
	{ "LI", IONPU_NEURON_LI, { [NP_TAU] = "tau", [NP_R] = "r", [NP_V_LEAK] = "v_leak" }, 0 },
	{ "CubaLIF", IONPU_NEURON_CUBA_LIF,
	  { [NP_TAU_SYN] = "tau_syn", [NP_TAU_MEM] = "tau_mem", [NP_R] = "r",
	    [NP_V_LEAK] = "v_leak", [NP_V_THRESHOLD] = "v_threshold",
	    [NP_V_RESET] = "v_reset", [NP_W_IN] = "w_in" },
	  1u << NP_V_RESET | 1u << NP_W_IN },
	/* An Integrator is an IF that never fires: its threshold is set later. */
	{ "Integrator", IONPU_NEURON_IF, { [NP_R] = "r" }, 0 },
	{ "Threshold", IONPU_NEURON_THRESHOLD, { [NP_V_THRESHOLD] = "threshold" }, 0 },
};

static int read_neuron(struct nir_loader *L, hid_t grp, struct nir_node *n,
		       const struct neuron_type *t)
{
	const struct nir_array *first = NULL;
	const char *first_name = NULL;
	int err;

	n->kind = K_NEURON;
	n->model = t->model;
	for (int p = 0; p < NP_COUNT; p++) {
		struct nir_array *a = &n->param[p];

		if (!t->names[p])
			continue;
		err = read_array(L, grp, n->name, t->names[p], !(t->optional & (1u << p)), a);
		if (err)
			return err;
		if (!a->v)
			continue;
		if (!first) {
			first = a;
			first_name = t->names[p];
			if (a->n == 0 || a->ndims > 3)
				return nir_fail(L, -EPROTO, n->name,
						"'%s' has %zu values in %d dimensions",
						first_name, a->n, a->ndims);
		} else if (a->n != first->n) {
			return nir_fail(L, -EPROTO, n->name, "'%s' has %zu values but '%s' has %zu",
					t->names[p], a->n, first_name, first->n);
		}
	}
	/* Every neuron type has a required parameter, so first is set. */
	n->out_ndims = first->ndims ? first->ndims : 1;
	for (int d = 0; d < n->out_ndims; d++)
		n->out[d] = first->ndims ? (uint32_t)first->dims[d] : 1;
	return 0;
}

static int read_conv(struct nir_loader *L, hid_t grp, struct nir_node *n, bool one_d)
{
	int dims = one_d ? 3 : 4, err;
	uint32_t v[2];

	n->kind = K_CONV;
	n->conv1d = one_d;
	err = read_array(L, grp, n->name, "weight", true, &n->weight);
	if (err)
		return err;
	if (n->weight.ndims != dims)
		return nir_fail(L, -EPROTO, n->name, "weight has %d dimensions, not %d",
				n->weight.ndims, dims);
	n->conv.out_channels = (uint32_t)n->weight.dims[0];
	n->conv.kernel_h = one_d ? 1 : (uint32_t)n->weight.dims[2];
	n->conv.kernel_w = (uint32_t)n->weight.dims[dims - 1];
	n->conv.stride_h = n->conv.dilation_h = 1;
	err = read_ints(L, grp, n->name, "stride", one_d ? 1 : 2, 1, v);
	if (!err) {
		n->conv.stride_w = v[one_d ? 0 : 1];
		n->conv.stride_h = one_d ? 1 : v[0];
		err = read_ints(L, grp, n->name, "padding", one_d ? 1 : 2, 0, v);
	}
	if (!err) {
		n->conv.pad_w = v[one_d ? 0 : 1];
		n->conv.pad_h = one_d ? 0 : v[0];
		err = read_ints(L, grp, n->name, "dilation", one_d ? 1 : 2, 1, v);
	}
	if (!err) {
		n->conv.dilation_w = v[one_d ? 0 : 1];
		n->conv.dilation_h = one_d ? 1 : v[0];
		err = read_ints(L, grp, n->name, "groups", 1, 1, v);
	}
	if (!err && !v[0])
		err = nir_fail(L, -EPROTO, n->name, "groups is 0");
	if (!err) {
		n->conv.groups = v[0];
		n->conv.in_channels = (uint32_t)n->weight.dims[1] * v[0];
		err = read_ints(L, grp, n->name, "input_shape", one_d ? 1 : 2, 0, n->conv_hw);
	}
	if (!err && one_d) {
		n->conv_hw[1] = n->conv_hw[0];
		n->conv_hw[0] = n->conv_hw[1] ? 1 : 0;
	}
	if (!err)
		err = read_array(L, grp, n->name, "bias", false, &n->bias);
	if (!err && n->bias.v && n->bias.n != n->conv.out_channels)
		err = nir_fail(L, -EPROTO, n->name, "bias has %zu values for %u channels",
			       n->bias.n, n->conv.out_channels);
	return err;
}

static int read_pool(struct nir_loader *L, hid_t grp, struct nir_node *n, bool average)
{
	uint32_t k[2], s[2], p[2];
	int err;

	n->kind = K_CONV;
	err = read_ints(L, grp, n->name, "kernel_size", 2, 0, k);
	if (!err && (!k[0] || !k[1]))
		err = nir_fail(L, -EPROTO, n->name, "no kernel_size");
	if (!err)
		err = read_ints(L, grp, n->name, "stride", 2, 0, s);
	if (!err)
		err = read_ints(L, grp, n->name, "padding", 2, 0, p);
	if (err)
		return err;
	n->conv = (struct ionpu_conv){
		.kernel_h = k[0], .kernel_w = k[1],
		/* PyTorch's pools default the stride to the kernel. */
		.stride_h = s[0] ? s[0] : k[0], .stride_w = s[1] ? s[1] : k[1],
		.pad_h = p[0], .pad_w = p[1], .dilation_h = 1, .dilation_w = 1,
	};
	/* The kernel is filled once the channel count is known, in pass 2. */
	n->weight.v = malloc(sizeof(double));
	if (!n->weight.v)
		return nir_fail(L, -ENOMEM, n->name, "out of memory");
	n->weight.v[0] = average ? 1.0 / ((double)k[0] * k[1]) : 1.0;
	n->weight.n = 0;
	return 0;
}

/* Reads one leaf node's parameters; its kind follows its type. */
static int read_leaf(struct nir_loader *L, hid_t grp, int idx, bool nested)
{
	struct nir_node *n = &L->nodes[idx];
	const char *type = n->type;
	int err;

	for (size_t i = 0; i < sizeof(neuron_types) / sizeof(neuron_types[0]); i++)
		if (!strcmp(type, neuron_types[i].type))
			return read_neuron(L, grp, n, &neuron_types[i]);
	if (!strcmp(type, "Input") || !strcmp(type, "Output")) {
		bool input = type[0] == 'I';

		n->kind = nested ? K_PASS : input ? K_INPUT : K_OUTPUT;
		err = read_array(L, grp, n->name, "shape", input && !nested, &n->shape);
		if (err)
			return err;
		if (n->shape.v && (n->shape.ndims > 1 || n->shape.n == 0 || n->shape.n > 3))
			return nir_fail(L, -EOPNOTSUPP, n->name, "shape of %zu dimensions",
					n->shape.n);
		for (size_t d = 0; n->shape.v && d < n->shape.n; d++)
			if (!(n->shape.v[d] >= 1 && n->shape.v[d] <= NIR_MAX_VALUES))
				return nir_fail(L, -EPROTO, n->name, "shape[%zu] = %g", d,
						n->shape.v[d]);
		return 0;
	}
	if (!strcmp(type, "Affine") || !strcmp(type, "Linear")) {
		n->kind = type[0] == 'A' ? K_AFFINE : K_LINEAR;
		err = read_array(L, grp, n->name, "weight", true, &n->weight);
		if (!err && (n->weight.ndims != 2 || !n->weight.n))
			err = nir_fail(L, -EPROTO, n->name, "weight has %d dimensions, not 2",
				       n->weight.ndims);
		if (!err && n->kind == K_AFFINE)
			err = read_array(L, grp, n->name, "bias", true, &n->bias);
		if (!err && n->kind == K_AFFINE && n->bias.n != n->weight.dims[0])
			err = nir_fail(L, -EPROTO, n->name, "bias has %zu values for %llu rows",
				       n->bias.n, (unsigned long long)n->weight.dims[0]);
		return err;
	}
	if (!strcmp(type, "Scale") || !strcmp(type, "Delay")) {
		const char *what = type[0] == 'S' ? "scale" : "delay";

		n->kind = type[0] == 'S' ? K_SCALE : K_DELAY;
		err = read_array(L, grp, n->name, what, true, &n->weight);
		if (!err && !n->weight.n)
			err = nir_fail(L, -EPROTO, n->name, "'%s' is empty", what);
		return err;
	}
	if (!strcmp(type, "Flatten")) {
		n->kind = K_FLATTEN;
		return 0;
	}
	if (!strcmp(type, "Conv1d") || !strcmp(type, "Conv2d"))
		return read_conv(L, grp, n, type[4] == '1');
	if (!strcmp(type, "SumPool2d") || !strcmp(type, "AvgPool2d"))
		return read_pool(L, grp, n, type[0] == 'A');
	return nir_fail(L, -EOPNOTSUPP, n->name, "node type '%s' is not supported", type);
}

static int add_pred(struct nir_loader *L, int dst, int src)
{
	struct nir_node *n = &L->nodes[dst];
	int *p = realloc(n->preds, (n->n_preds + 1) * sizeof(*p));

	if (!p)
		return nir_fail(L, -ENOMEM, n->name, "out of memory");
	p[n->n_preds++] = src;
	n->preds = p;
	return 0;
}

/*
 * Finds the node an edge names: by its exact name, else the one whose name
 * begins with it (see ionpu_nir_load()).
 */
static const struct nir_local *resolve(const struct nir_local *locals, size_t n,
				       const char *name)
{
	const struct nir_local *found = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(locals[i].name, name))
			return &locals[i];
	for (size_t i = 0; len && i < n; i++) {
		if (!strncmp(locals[i].name, name, len)) {
			if (found)
				return NULL;
			found = &locals[i];
		}
	}
	return found;
}

static herr_t collect_name(hid_t grp, const char *name, const H5L_info_t *info, void *data)
{
	char ***names = data;
	size_t n = 0;
	char **p;

	(void)grp;
	(void)info;
	while ((*names)[n])
		n++;
	p = realloc(*names, (n + 2) * sizeof(*p));
	if (!p)
		return -1;
	*names = p;
	p[n] = strdup(name);
	p[n + 1] = NULL;
	return p[n] ? 0 : -1;
}

static int read_edges(struct nir_loader *L, hid_t grp, const char *gname,
		      const struct nir_local *locals, size_t n_locals)
{
	hsize_t dims[NIR_MAX_DIMS];
	char **strs;
	size_t n;
	int ndims, err;

	if (!has_link(grp, "edges"))
		return 0;
	err = read_strings(L, grp, gname, "edges", &strs, &n, dims, &ndims);
	if (err)
		return err;
	if (n && (ndims != 2 || dims[1] != 2)) {
		free_strings(strs);
		return nir_fail(L, -EPROTO, gname, "edges is not an E x 2 array");
	}
	for (size_t e = 0; e < n / 2 && !err; e++) {
		const struct nir_local *a = resolve(locals, n_locals, strs[2 * e]);
		const struct nir_local *b = resolve(locals, n_locals, strs[2 * e + 1]);

		if (!a || !b)
			err = nir_fail(L, -EPROTO, gname, "edge %zu ('%s' -> '%s') names no node '%s'",
				       e, strs[2 * e], strs[2 * e + 1],
				       !a ? strs[2 * e] : strs[2 * e + 1]);
		else if (a->exit < 0 || b->entry < 0)
			err = nir_fail(L, -EPROTO, gname, "edge %zu ('%s' -> '%s') %s",
				       e, strs[2 * e], strs[2 * e + 1],
				       a->exit < 0 ? "leaves a graph with no Output" :
						     "enters a graph with no Input");
		else
			err = add_pred(L, b->entry, a->exit);
	}
	free_strings(strs);
	return err;
}

/*
 * Reads graph @grp (its nodes named @prefix + name) and returns the nodes
 * edges into and out of it attach to: its Input and Output, -1 if it has
 * none or several.
 */
static int read_graph(struct nir_loader *L, hid_t grp, const char *gname, const char *prefix,
		      int depth, int *entry, int *exit)
{
	struct nir_local *locals = NULL;
	char **names = calloc(1, sizeof(*names));
	size_t n_locals = 0;
	int inputs = 0, outputs = 0;
	hid_t nodes;
	int err = 0;

	*entry = *exit = -1;
	if (!names)
		return nir_fail(L, -ENOMEM, gname, "out of memory");
	if (depth > NIR_MAX_DEPTH) {
		free(names);
		return nir_fail(L, -EPROTO, gname, "graphs nested more than %d deep",
				NIR_MAX_DEPTH);
	}
	if (!has_link(grp, "nodes")) {
		free(names);
		return nir_fail(L, -EPROTO, gname, "graph has no 'nodes' group");
	}
	nodes = H5Gopen2(grp, "nodes", H5P_DEFAULT);
	if (nodes < 0 ||
	    H5Literate(nodes, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_name, &names) < 0) {
		err = nir_fail(L, -EPROTO, gname, "cannot list the graph's nodes");
		goto out;
	}
	while (names[n_locals])
		n_locals++;
	locals = calloc(n_locals ? n_locals : 1, sizeof(*locals));
	if (!locals) {
		err = nir_fail(L, -ENOMEM, gname, "out of memory");
		goto out;
	}

	for (size_t i = 0; i < n_locals && !err; i++) {
		char *full = join_name(prefix, names[i]), *type = NULL;
		hid_t child = -1;

		locals[i].name = names[i];
		locals[i].entry = locals[i].exit = -1;
		if (!full) {
			err = nir_fail(L, -ENOMEM, gname, "out of memory");
			break;
		}
		child = H5Gopen2(nodes, names[i], H5P_DEFAULT);
		if (child < 0)
			err = nir_fail(L, -EPROTO, full, "not a group");
		if (!err)
			err = read_string(L, child, full, "type", &type);
		if (!err && !strcmp(type, "NIRGraph")) {
			char *sub = join_name(full, ".");

			err = sub ? read_graph(L, child, full, sub, depth + 1, &locals[i].entry,
					       &locals[i].exit) :
				    nir_fail(L, -ENOMEM, full, "out of memory");
			free(sub);
		} else if (!err) {
			int idx = new_node(L, full, type, K_PASS);

			err = idx < 0 ? idx : read_leaf(L, child, idx, depth > 0);
			if (!err) {
				locals[i].entry = locals[i].exit = idx;
				if (!strcmp(type, "Input")) {
					inputs++;
					*entry = idx;
				} else if (!strcmp(type, "Output")) {
					outputs++;
					*exit = idx;
				}
			}
		}
		free(type);
		free(full);
		if (child >= 0)
			H5Gclose(child);
	}
	if (!err)
		err = read_edges(L, grp, gname, locals, n_locals);
	/* A nested graph is entered and left through exactly one Input and Output. */
	if (inputs != 1)
		*entry = -1;
	if (outputs != 1)
		*exit = -1;
out:
	free(locals);
	free_strings(names);
	if (nodes >= 0)
		H5Gclose(nodes);
	return err;
}

/* --- pass 2: shapes --------------------------------------------------- */

static uint64_t shape_size(const struct nir_node *n)
{
	uint64_t s = 1;

	for (int d = 0; d < n->out_ndims; d++)
		s *= n->out[d];
	return s;
}

static uint64_t declared_size(const struct nir_array *shape)
{
	uint64_t s = 1;

	for (size_t d = 0; d < shape->n; d++)
		s *= (uint64_t)shape->v[d];
	return s;
}

static void set_flat(struct nir_node *n, uint64_t size)
{
	n->out_ndims = 1;
	n->out[0] = (uint32_t)size;
}

static int conv_shape(struct nir_loader *L, struct nir_node *n, const struct nir_node *in)
{
	struct ionpu_conv *c = &n->conv;
	uint64_t size = shape_size(in);
	char what[300];
	int err;

	snprintf(what, sizeof(what), "%s: node '%s'", L->path, n->name);
	if (in->out_ndims == 3) {
		c->in_channels = c->in_channels ? c->in_channels : in->out[0];
		c->in_height = in->out[1];
		c->in_width = in->out[2];
	} else if (n->conv1d && in->out_ndims == 2) {
		c->in_height = 1;
		c->in_width = in->out[1];
		if (!c->in_channels)
			c->in_channels = in->out[0];
	} else if (n->conv_hw[0] && n->conv_hw[1]) {
		c->in_height = n->conv_hw[0];
		c->in_width = n->conv_hw[1];
		if (!c->in_channels)
			c->in_channels = (uint32_t)(size / ((uint64_t)c->in_height * c->in_width));
	} else if (n->conv1d && c->in_channels) {
		c->in_height = 1;
		c->in_width = (uint32_t)(size / c->in_channels);
	} else {
		return nir_fail(L, -EPROTO, n->name,
				"the shape of its input (%llu values) is unknown: give input_shape",
				(unsigned long long)size);
	}
	if (!c->groups) {
		/* A pool: one channel per group, the constant kernel per channel. */
		double v = n->weight.v[0];
		double *w = malloc((size_t)c->in_channels * c->kernel_h * c->kernel_w * sizeof(*w));

		if (!w)
			return nir_fail(L, -ENOMEM, n->name, "out of memory");
		c->groups = c->out_channels = c->in_channels;
		for (size_t i = 0; i < (size_t)c->in_channels * c->kernel_h * c->kernel_w; i++)
			w[i] = v;
		n->conv_weight = w;
	}
	if ((uint64_t)c->in_channels * c->in_height * c->in_width != size)
		return nir_fail(L, -EPROTO, n->name, "expects %ux%ux%u inputs but gets %llu values",
				c->in_channels, c->in_height, c->in_width,
				(unsigned long long)size);
	err = ionpu_conv_geometry(c, what);
	if (err)
		return err;
	c->weight = n->conv_weight ? n->conv_weight : n->weight.v;
	n->out_ndims = 3;
	n->out[0] = c->out_channels;
	n->out[1] = c->out_height;
	n->out[2] = c->out_width;
	return 0;
}

static int node_shape(struct nir_loader *L, int idx)
{
	struct nir_node *n = &L->nodes[idx];
	const struct nir_node *in;
	uint64_t size;
	int err;

	if (n->state == 2)
		return 0;
	if (n->kind == K_NEURON) {
		n->state = 2;
		return 0;
	}
	if (n->kind == K_INPUT) {
		n->out_ndims = (int)n->shape.n;
		for (size_t d = 0; d < n->shape.n; d++)
			n->out[d] = (uint32_t)n->shape.v[d];
		if (shape_size(n) > NIR_MAX_VALUES)
			return nir_fail(L, -EPROTO, n->name, "shape too large");
		n->state = 2;
		return 0;
	}
	if (n->state == 1)
		return nir_fail(L, -EPROTO, n->name, "on a cycle with no neuron node in it");
	if (!n->n_preds)
		return nir_fail(L, -EPROTO, n->name, "%s node with no input", n->type);
	if (n->n_preds > 1)
		return nir_fail(L, -EOPNOTSUPP, n->name,
				"%s node with %zu inputs: only neuron nodes sum inputs", n->type,
				n->n_preds);
	n->state = 1;
	err = node_shape(L, n->preds[0]);
	if (err)
		return err;
	in = &L->nodes[n->preds[0]];
	size = shape_size(in);
	switch (n->kind) {
	case K_PASS:
	case K_OUTPUT:
		if (n->shape.v && declared_size(&n->shape) != size)
			return nir_fail(L, -EPROTO, n->name, "shape holds %llu values, its input %llu",
					(unsigned long long)declared_size(&n->shape),
					(unsigned long long)size);
		n->out_ndims = in->out_ndims;
		memcpy(n->out, in->out, sizeof(n->out));
		break;
	case K_FLATTEN:
		set_flat(n, size);
		break;
	case K_AFFINE:
	case K_LINEAR:
		if (n->weight.dims[1] != size)
			return nir_fail(L, -EPROTO, n->name, "weight is %llux%llu but its input has %llu values",
					(unsigned long long)n->weight.dims[0],
					(unsigned long long)n->weight.dims[1],
					(unsigned long long)size);
		set_flat(n, n->weight.dims[0]);
		break;
	case K_SCALE:
	case K_DELAY:
		if (n->weight.n != size)
			return nir_fail(L, -EPROTO, n->name, "%s has %zu values but its input %llu",
					n->kind == K_SCALE ? "scale" : "delay", n->weight.n,
					(unsigned long long)size);
		n->out_ndims = in->out_ndims;
		memcpy(n->out, in->out, sizeof(n->out));
		break;
	case K_CONV:
		err = conv_shape(L, n, in);
		if (err)
			return err;
		break;
	case K_INPUT:
	case K_NEURON:
		break;
	}
	n->state = 2;
	return 0;
}

/* --- pass 3: populations and projections ------------------------------ */

static bool is_source(const struct nir_node *n)
{
	return n->kind == K_INPUT || n->kind == K_NEURON;
}

static bool is_weighted(const struct nir_node *n)
{
	return n->kind == K_AFFINE || n->kind == K_LINEAR || n->kind == K_SCALE ||
	       n->kind == K_CONV;
}

/* out = op(in) for one linear node of the chain; biases included. */
struct apply_ctx {
	const double *in;
	double *out;
};

static void apply_synapse(void *ctx, uint32_t pre, uint32_t post, double w)
{
	struct apply_ctx *a = ctx;

	a->out[post] += w * a->in[pre];
}

static void apply_node(const struct nir_node *n, size_t in_size, const double *in, double *out)
{
	size_t out_size = shape_size(n);

	switch (n->kind) {
	case K_AFFINE:
	case K_LINEAR:
		for (size_t o = 0; o < out_size; o++) {
			double s = n->kind == K_AFFINE ? n->bias.v[o] : 0;

			for (size_t i = 0; i < in_size; i++)
				s += n->weight.v[o * in_size + i] * in[i];
			out[o] = s;
		}
		break;
	case K_SCALE:
		for (size_t i = 0; i < in_size; i++)
			out[i] = n->weight.v[i] * in[i];
		break;
	case K_CONV: {
		struct apply_ctx a = { .in = in, .out = out };
		size_t plane = (size_t)n->conv.out_height * n->conv.out_width;

		for (size_t o = 0; o < out_size; o++)
			out[o] = n->bias.v ? n->bias.v[o / plane] : 0;
		ionpu_conv_for_each(&n->conv, apply_synapse, &a);
		break;
	}
	default:
		memcpy(out, in, in_size * sizeof(*in));
		break;
	}
}

/* Pushes @in (src_size values) through the chain into @out (its last node's size). */
static int apply_chain(struct nir_loader *L, const struct nir_node *src, int *chain, size_t len,
		       const double *in, double *out)
{
	size_t size = shape_size(src);
	double *cur = malloc(size * sizeof(*cur));

	if (!cur)
		return nir_fail(L, -ENOMEM, src->name, "out of memory");
	memcpy(cur, in, size * sizeof(*cur));
	for (size_t k = 0; k < len; k++) {
		const struct nir_node *n = &L->nodes[chain[k]];
		size_t next_size = shape_size(n);
		double *next = malloc(next_size * sizeof(*next));

		if (!next) {
			free(cur);
			return nir_fail(L, -ENOMEM, n->name, "out of memory");
		}
		apply_node(n, size, cur, next);
		free(cur);
		cur = next;
		size = next_size;
	}
	memcpy(out, cur, size * sizeof(*out));
	free(cur);
	return 0;
}

/*
 * A chain that is not one Affine, Linear or convolution: multiplied out
 * column by column, stored sparse when at most a quarter of it is used.
 */
static int compose_chain(struct nir_loader *L, const struct nir_node *src,
			 const struct nir_node *dst, int *chain, size_t len, const double *delay,
			 double *bias, struct ionpu_network *net)
{
	size_t ns = shape_size(src), nd = shape_size(dst), nnz = 0;
	double *m = NULL, *e = NULL, *col = NULL, *b0 = NULL;
	uint32_t *pre = NULL, *post = NULL;
	double *w = NULL;
	int err;

	if ((uint64_t)ns * nd > NIR_MAX_COMPOSED)
		return nir_fail(L, -EOPNOTSUPP, dst->name, "the chain from '%s' is too large (%zux%zu) to multiply out",
				src->name, nd, ns);
	m = calloc(ns * nd, sizeof(*m));
	e = calloc(ns, sizeof(*e));
	col = malloc(nd * sizeof(*col));
	b0 = malloc(nd * sizeof(*b0));
	if (!m || !e || !col || !b0) {
		err = nir_fail(L, -ENOMEM, dst->name, "out of memory");
		goto out;
	}
	/* The chain's response to silence is its bias; the rest is linear. */
	err = apply_chain(L, src, chain, len, e, b0);
	for (size_t i = 0; i < ns && !err; i++) {
		e[i] = 1;
		err = apply_chain(L, src, chain, len, e, col);
		e[i] = 0;
		for (size_t o = 0; o < nd && !err; o++) {
			m[o * ns + i] = col[o] - b0[o];
			nnz += m[o * ns + i] != 0;
		}
	}
	if (err)
		goto out;
	for (size_t o = 0; o < nd; o++)
		bias[o] += b0[o];
	if (nnz && nnz * 4 <= ns * nd) {
		size_t k = 0;

		pre = malloc(nnz * sizeof(*pre));
		post = malloc(nnz * sizeof(*post));
		w = malloc(nnz * sizeof(*w));
		if (!pre || !post || !w) {
			err = nir_fail(L, -ENOMEM, dst->name, "out of memory");
			goto out;
		}
		for (size_t o = 0; o < nd; o++) {
			for (size_t i = 0; i < ns; i++) {
				if (m[o * ns + i] != 0) {
					pre[k] = (uint32_t)i;
					post[k] = (uint32_t)o;
					w[k++] = m[o * ns + i];
				}
			}
		}
		err = ionpu_network_add_sparse(net, src->net_id, dst->net_id, nnz, pre, post, w,
					       delay, NULL);
	} else if (nnz) {
		err = ionpu_network_add_dense(net, src->net_id, dst->net_id, m, delay, NULL);
	}
out:
	free(m);
	free(e);
	free(col);
	free(b0);
	free(pre);
	free(post);
	free(w);
	return err;
}

/* Turns the chain from @src to @dst (nodes in signal order) into a projection. */
static int add_chain(struct nir_loader *L, struct ionpu_network *net, const struct nir_node *src,
		     const struct nir_node *dst, int *chain, size_t len)
{
	size_t ns = shape_size(src), nd = shape_size(dst), weighted = 0;
	const struct nir_node *single = NULL;
	double *bias = ionpu_network_bias(net, dst->net_id);
	double *delay = calloc(ns, sizeof(*delay));
	bool delayed = false;
	int err = 0;

	if (!delay)
		return nir_fail(L, -ENOMEM, dst->name, "out of memory");
	for (size_t k = 0; k < len && !err; k++) {
		const struct nir_node *n = &L->nodes[chain[k]];

		if (is_weighted(n)) {
			weighted++;
			single = n;
		} else if (n->kind == K_DELAY) {
			bool uniform = true;

			for (size_t i = 1; i < n->weight.n; i++)
				uniform &= n->weight.v[i] == n->weight.v[0];
			/* Before any weight a Delay's elements are the source neurons. */
			if (!weighted)
				for (size_t i = 0; i < ns; i++)
					delay[i] += n->weight.v[i];
			else if (uniform)
				for (size_t i = 0; i < ns; i++)
					delay[i] += n->weight.v[0];
			else
				err = nir_fail(L, -EOPNOTSUPP, n->name,
					       "different delays after a weighted node: the router delays each source neuron's spikes");
			delayed = true;
		}
	}
	if (err)
		goto out;

	if (weighted == 1 && (single->kind == K_AFFINE || single->kind == K_LINEAR)) {
		err = ionpu_network_add_dense(net, src->net_id, dst->net_id, single->weight.v,
					      delayed ? delay : NULL, NULL);
		for (size_t o = 0; !err && single->kind == K_AFFINE && o < nd; o++)
			bias[o] += single->bias.v[o];
	} else if (weighted == 1 && single->kind == K_CONV) {
		size_t plane = (size_t)single->conv.out_height * single->conv.out_width;

		err = ionpu_network_add_conv(net, src->net_id, dst->net_id, &single->conv,
					     delayed ? delay : NULL, NULL);
		for (size_t o = 0; !err && single->bias.v && o < nd; o++)
			bias[o] += single->bias.v[o / plane];
	} else {
		err = compose_chain(L, src, dst, chain, len, delayed ? delay : NULL, bias, net);
	}
out:
	free(delay);
	return err;
}

static int add_inputs_of(struct nir_loader *L, struct ionpu_network *net, int idx)
{
	const struct nir_node *dst = &L->nodes[idx];
	int *chain = malloc(L->n_nodes * sizeof(*chain));
	int err = 0;

	if (!chain)
		return nir_fail(L, -ENOMEM, dst->name, "out of memory");
	for (size_t p = 0; p < dst->n_preds && !err; p++) {
		const struct nir_node *last;
		int cur = dst->preds[p];
		size_t len = 0;

		/* Pass 2 gave every non-source node exactly one input, and no cycles. */
		while (!is_source(&L->nodes[cur]) && L->nodes[cur].kind != K_OUTPUT) {
			chain[len++] = cur;
			cur = L->nodes[cur].preds[0];
		}
		if (L->nodes[cur].kind == K_OUTPUT) {
			err = nir_fail(L, -EPROTO, L->nodes[cur].name, "an Output feeds '%s'",
				       dst->name);
			break;
		}
		/* chain[0] is still the node next to dst. */
		last = &L->nodes[len ? chain[0] : cur];
		if (shape_size(last) != shape_size(dst))
			err = nir_fail(L, -EPROTO, dst->name, "has %llu neurons but '%s' gives %llu values",
				       (unsigned long long)shape_size(dst), last->name,
				       (unsigned long long)shape_size(last));
		for (size_t i = 0; i < len / 2; i++) {
			int t = chain[i];

			chain[i] = chain[len - 1 - i];
			chain[len - 1 - i] = t;
		}
		if (!err)
			err = add_chain(L, net, &L->nodes[cur], dst, chain, len);
	}
	free(chain);
	return err;
}

static int add_population(struct nir_loader *L, struct ionpu_network *net, struct nir_node *n)
{
	struct ionpu_neuron_params p = {
		.tau = n->param[NP_TAU].v, .tau_syn = n->param[NP_TAU_SYN].v,
		.tau_mem = n->param[NP_TAU_MEM].v, .r = n->param[NP_R].v,
		.v_leak = n->param[NP_V_LEAK].v, .v_threshold = n->param[NP_V_THRESHOLD].v,
		.v_reset = n->param[NP_V_RESET].v, .w_in = n->param[NP_W_IN].v,
	};
	uint32_t size = (uint32_t)shape_size(n);
	double *never = NULL;
	int err;

	if (!strcmp(n->type, "Integrator")) {
		never = malloc(size * sizeof(*never));
		if (!never)
			return nir_fail(L, -ENOMEM, n->name, "out of memory");
		for (uint32_t i = 0; i < size; i++)
			never[i] = INFINITY;
		p.v_threshold = never;
	}
	err = ionpu_network_add_population(net, n->name, n->model, size, &p, &n->net_id);
	free(never);
	if (err)
		return nir_fail(L, err, n->name, "%s", ionpu_last_error());
	return 0;
}

static int mark_output(struct nir_loader *L, struct ionpu_network *net, const struct nir_node *out)
{
	const struct nir_node *n = out;

	for (;;) {
		if (n->n_preds != 1)
			return nir_fail(L, -EPROTO, out->name, "Output with %zu inputs", n->n_preds);
		n = &L->nodes[n->preds[0]];
		if (n->kind == K_NEURON)
			return ionpu_network_mark_output(net, n->net_id);
		if (n->kind != K_PASS && n->kind != K_FLATTEN)
			return nir_fail(L, -EOPNOTSUPP, out->name,
					"fed by '%s' (%s), not by neurons: the card sends spikes only",
					n->name, n->type);
	}
}

static int build(struct nir_loader *L, struct ionpu_network *net)
{
	int err = 0;

	for (size_t i = 0; i < L->n_nodes && !err; i++)
		err = node_shape(L, (int)i);
	for (size_t i = 0; i < L->n_nodes && !err; i++) {
		struct nir_node *n = &L->nodes[i];

		if (n->kind == K_INPUT) {
			err = ionpu_network_add_input(net, n->name, (uint32_t)shape_size(n),
						      &n->net_id);
			if (err)
				err = nir_fail(L, err, n->name, "%s", ionpu_last_error());
		} else if (n->kind == K_NEURON) {
			err = add_population(L, net, n);
		}
	}
	for (size_t i = 0; i < L->n_nodes && !err; i++)
		if (L->nodes[i].kind == K_NEURON)
			err = add_inputs_of(L, net, (int)i);
	for (size_t i = 0; i < L->n_nodes && !err; i++)
		if (L->nodes[i].kind == K_OUTPUT)
			err = mark_output(L, net, &L->nodes[i]);
	return err;
}

static int load_file(struct nir_loader *L, struct ionpu_network *net)
{
	hid_t file, root = -1;
	struct stat st;
	char *type = NULL;
	int entry, exit, err;

	if (stat(L->path, &st) < 0)
		return ionpu_error_errno(-errno, "%s", L->path);
	if (H5Fis_hdf5(L->path) <= 0)
		return nir_fail(L, -EPROTO, NULL, "not an HDF5 file");
	file = H5Fopen(L->path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (file < 0)
		return nir_fail(L, -EPROTO, NULL, "cannot open as HDF5 (truncated or damaged?)");
	if (!has_link(file, "node")) {
		err = nir_fail(L, -EPROTO, NULL, "no '/node' group: not a NIR file");
		goto out;
	}
	root = H5Gopen2(file, "node", H5P_DEFAULT);
	if (root < 0) {
		err = nir_fail(L, -EPROTO, NULL, "'/node' is not a group");
		goto out;
	}
	err = read_string(L, root, "node", "type", &type);
	if (!err && strcmp(type, "NIRGraph"))
		err = nir_fail(L, -EOPNOTSUPP, NULL, "the root node is a %s, not a NIRGraph", type);
	if (!err)
		err = read_graph(L, root, "node", "", 0, &entry, &exit);
	if (!err)
		err = build(L, net);
out:
	free(type);
	if (root >= 0)
		H5Gclose(root);
	H5Fclose(file);
	return err;
}

IONPU_API int ionpu_nir_load(const char *path, struct ionpu_network **out)
{
	struct nir_loader L = { .path = path };
	struct ionpu_network *net;
	H5E_auto2_t old_fn;
	void *old_data;
	int err;

	if (!path || !out)
		return ionpu_error(-EINVAL, "ionpu_nir_load: NULL argument");
	err = ionpu_network_create(&net);
	if (err)
		return err;
	/* The library reports its own errors: HDF5 must not print to stderr. */
	H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	err = load_file(&L, net);
	H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
	free_loader(&L);
	if (err) {
		ionpu_network_free(net);
		return err;
	}
	*out = net;
	return 0;
}
