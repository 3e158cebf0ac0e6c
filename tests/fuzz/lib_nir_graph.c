// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: ionpu_nir_load() on well-formed HDF5 files whose NIR
 * content comes from the input.  The input is read as choices: how many
 * nodes a graph has, their names and types (nested graphs included), which
 * parameters each has with what element type, shape and values, and the
 * edges between them.  libhdf5 then only ever reads files it wrote itself,
 * so every finding is in the NIR reader's checks (lib_nir mutates raw
 * bytes, and reaches libhdf5's own parsing instead).  For the same reason
 * the file is read without ionpu_nir_load()'s trial in a child process,
 * which guards against libhdf5 crashing on damaged files and would cost
 * most of each run here (a fork of the whole sanitized process).
 */
#define _POSIX_C_SOURCE 200809L

#include <hdf5.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <ionpu/ionpu.h>

#include "fuzz_file.h"
#include "ionpu_nir_h5.h"

#define MAX_NODES	6
#define MAX_DEPTH	2
#define MAX_RANK	4
#define MAX_DIM		4
#define MAX_EDGES	8

/* The input, consumed from the front; zeros once it runs out. */
struct choices {
	const uint8_t *p;
	size_t n;
};

static unsigned int take(struct choices *c, unsigned int range)
{
	unsigned int v;

	if (!c->n)
		return 0;
	v = *c->p++;
	c->n--;
	return range ? v % range : v;
}

static const char *const node_names[] = {
	"input", "output", "lif", "linear", "conv", "sub", "in2", "li",
};

static const char *const types[] = {
	"Input", "Output", "Affine", "Linear", "Scale", "LIF", "CubaLIF", "IF", "LI",
	"Integrator", "Threshold", "Flatten", "Conv1d", "Conv2d", "SumPool2d",
	"AvgPool2d", "Delay", "NIRGraph", "Bogus",
};

/* Every dataset name the reader looks for; each node gets some of them. */
static const char *const params[] = {
	"shape", "weight", "bias", "scale", "delay", "tau", "r", "v_leak", "v_threshold",
	"v_reset", "tau_syn", "tau_mem", "w_in", "threshold", "stride", "padding",
	"dilation", "groups", "input_shape", "kernel_size",
};

/* Values that sit on the reader's boundaries, and raw bits now and then. */
static double value(struct choices *c)
{
	static const double special[] = {
		0, 1, -1, 2, 3, 0.5, 1e-3, 1e-4, 255, 256, 65536, 4294967296.0, 1e300, -0.0,
	};
	unsigned int pick = take(c, 20);
	double v;

	if (pick < sizeof(special) / sizeof(special[0]))
		return special[pick];
	switch (pick) {
	case 14:
		return NAN;
	case 15:
		return INFINITY;
	case 16:
		return -INFINITY;
	case 17:
		return take(c, 0) - 128.0;
	default:
		v = 0;
		for (int i = 0; i < 8; i++)
			((uint8_t *)&v)[i] = (uint8_t)take(c, 0);
		return v;
	}
}

static hid_t string_type(bool vlen, size_t len)
{
	hid_t t = H5Tcopy(H5T_C_S1);

	H5Tset_size(t, vlen ? H5T_VARIABLE : (len ? len : 1));
	return t;
}

static void write_strings(hid_t grp, const char *name, const char **strs, int rank,
			  const hsize_t *dims, bool vlen)
{
	hsize_t n = 1;
	size_t width = 1;
	hid_t space, type, ds;
	char *fixed = NULL;

	for (int d = 0; d < rank; d++)
		n *= dims[d];
	for (hsize_t i = 0; i < n; i++)
		if (strlen(strs[i]) > width)
			width = strlen(strs[i]);
	type = string_type(vlen, width);
	space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
	ds = H5Dcreate2(grp, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (ds >= 0 && vlen) {
		H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, strs);
	} else if (ds >= 0 && (fixed = calloc(n ? n : 1, width))) {
		for (hsize_t i = 0; i < n; i++)
			memcpy(fixed + i * width, strs[i], strlen(strs[i]));
		H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed);
	}
	free(fixed);
	if (ds >= 0)
		H5Dclose(ds);
	H5Sclose(space);
	H5Tclose(type);
}

static void write_string(hid_t grp, const char *name, const char *s, struct choices *c)
{
	write_strings(grp, name, &s, 0, NULL, take(c, 2));
}

/* A numeric dataset of a chosen element type and shape; sometimes a string. */
static void write_param(hid_t grp, const char *name, struct choices *c)
{
	static const hid_t *const file_types[] = {
		&H5T_IEEE_F64LE_g, &H5T_IEEE_F32LE_g, &H5T_STD_I64LE_g, &H5T_STD_I32LE_g,
		&H5T_STD_U8LE_g, &H5T_IEEE_F32BE_g,
	};
	unsigned int kind = take(c, 7);
	int rank = (int)take(c, MAX_RANK + 1);
	hsize_t dims[MAX_RANK], n = 1;
	hid_t space, ds;
	double *v;

	for (int d = 0; d < rank; d++) {
		dims[d] = take(c, MAX_DIM + 1);
		n *= dims[d];
	}
	if (kind == 6) {
		const char *strs[1] = { "1" };

		write_strings(grp, name, strs, 0, NULL, take(c, 2));
		return;
	}
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return;
	for (hsize_t i = 0; i < n; i++)
		v[i] = value(c);
	space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
	ds = H5Dcreate2(grp, name, *file_types[kind], space, H5P_DEFAULT, H5P_DEFAULT,
			H5P_DEFAULT);
	if (ds >= 0) {
		H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
		H5Dclose(ds);
	}
	H5Sclose(space);
	free(v);
}

static void write_graph(hid_t grp, struct choices *c, int depth);

static void write_node(hid_t nodes, const char *name, struct choices *c, int depth)
{
	const char *type = types[take(c, sizeof(types) / sizeof(types[0]))];
	hid_t g = H5Gcreate2(nodes, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);

	if (g < 0)
		return;
	write_string(g, "type", type, c);
	if (!strcmp(type, "NIRGraph") && depth < MAX_DEPTH) {
		write_graph(g, c, depth + 1);
	} else {
		/* Each parameter present or not: one bit of a 32-bit choice. */
		uint32_t present = take(c, 0) | take(c, 0) << 8 | (uint32_t)take(c, 0) << 16;

		for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
			if (present >> i & 1)
				write_param(g, params[i], c);
	}
	H5Gclose(g);
}

static void write_edges(hid_t grp, const char *const *names, size_t n_names, struct choices *c)
{
	static const char *const extra[] = { "", "sub.input", "nowhere", "l" };
	const char *ends[2 * MAX_EDGES];
	hsize_t dims[2] = { take(c, MAX_EDGES + 1), 2 };

	for (hsize_t i = 0; i < 2 * dims[0]; i++) {
		unsigned int pick = take(c, (unsigned int)(n_names + 4));

		ends[i] = pick < n_names ? names[pick] : extra[pick - n_names];
	}
	/* Mostly E x 2, as NIR has it; sometimes another shape. */
	if (take(c, 8) == 0)
		write_strings(grp, "edges", ends, 1, dims, take(c, 2));
	else
		write_strings(grp, "edges", ends, 2, dims, take(c, 2));
}

static void write_graph(hid_t grp, struct choices *c, int depth)
{
	const char *names[MAX_NODES];
	size_t count = 1 + take(c, MAX_NODES), n = 0;
	hid_t nodes = H5Gcreate2(grp, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);

	if (nodes < 0)
		return;
	for (size_t i = 0; i < count; i++) {
		const char *name = node_names[take(c, sizeof(node_names) / sizeof(node_names[0]))];

		if (H5Lexists(nodes, name, H5P_DEFAULT) > 0)
			continue;
		write_node(nodes, name, c, depth);
		names[n++] = name;
	}
	H5Gclose(nodes);
	if (take(c, 16))
		write_edges(grp, names, n, c);
}

struct input {
	const uint8_t *data;
	size_t size;
};

/* fuzz_file() gives a fresh path: the graph replaces its contents. */
static void build_and_load(const char *path, void *arg)
{
	const struct input *in = arg;
	struct choices c = { in->data, in->size };
	struct ionpu_network *net = NULL;
	hid_t file, root;

	file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	if (file < 0)
		abort();
	root = H5Gcreate2(file, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	write_string(root, "type", take(&c, 32) ? "NIRGraph" : "LIF", &c);
	write_graph(root, &c, 0);
	H5Gclose(root);
	H5Fclose(file);
	if (!ionpu_nir_read(path, NIR_NO_TRIAL, &net))
		ionpu_network_free(net);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	H5set_free_list_limits(-1, -1, -1, -1, -1, -1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	/* Writes that the choices make invalid fail quietly. */
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	fuzz_file(NULL, 0, build_and_load, &in);
	return 0;
}
