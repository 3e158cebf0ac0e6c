// SPDX-License-Identifier: GPL-2.0-only
/*
 * NIR import and export.  Graphs come from three places: files this test
 * writes with libhdf5 directly (so the reader is not only checked against
 * the project's own writer), networks round-tripped through
 * ionpu_nir_save(), and the graphs real tools exported, in ../shared/nir/
 * beside the clone (skipped where that folder is absent).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <hdf5.h>

#include <ionpu/ionpu.h>

#include "ionpu_internal.h"
#include "ionpu_nir_h5.h"
#include "network_equal.h"
#include "shared_nir.h"
#include "tmp_file.h"

/* --- writing raw NIR files -------------------------------------------- */

static void put_string(hid_t grp, const char *name, const char *s)
{
	hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), ds;

	H5Tset_size(type, H5T_VARIABLE);
	H5Tset_cset(type, H5T_CSET_UTF8);
	ds = H5Dcreate2(grp, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(ds >= 0);
	assert_true(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0);
	H5Dclose(ds);
	H5Sclose(space);
	H5Tclose(type);
}

/*
 * A float32 dataset, as PyTorch exporters write them: dims[0..ndims).  With
 * @v NULL it is created but never written.
 */
static void put_floats(hid_t grp, const char *name, int ndims, const hsize_t *dims,
		       const double *v)
{
	hid_t space = H5Screate_simple(ndims, dims, NULL), ds;

	ds = H5Dcreate2(grp, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(ds >= 0);
	if (v)
		assert_true(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(ds);
	H5Sclose(space);
}

static void put_vec(hid_t grp, const char *name, size_t n, const double *v)
{
	hsize_t d = n;

	put_floats(grp, name, 1, &d, v);
}

static void put_ints(hid_t grp, const char *name, size_t n, const int64_t *v)
{
	hsize_t d = n;
	hid_t space = H5Screate_simple(1, &d, NULL), ds;

	ds = H5Dcreate2(grp, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(ds >= 0);
	assert_true(H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(ds);
	H5Sclose(space);
}

static void put_edges(hid_t grp, size_t n, const char *const *names)
{
	hsize_t dims[2] = { n, 2 };
	hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate_simple(2, dims, NULL), ds;

	H5Tset_size(type, H5T_VARIABLE);
	H5Tset_cset(type, H5T_CSET_UTF8);
	ds = H5Dcreate2(grp, "edges", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(ds >= 0);
	assert_true(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) >= 0);
	H5Dclose(ds);
	H5Sclose(space);
	H5Tclose(type);
}

/* A graph group with its type and "nodes"; returns "nodes". */
static hid_t graph_at(hid_t parent, const char *name, hid_t *graph)
{
	hid_t nodes;

	*graph = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(*graph >= 0);
	put_string(*graph, "type", "NIRGraph");
	nodes = H5Gcreate2(*graph, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(nodes >= 0);
	return nodes;
}

static hid_t node_at(hid_t nodes, const char *name, const char *type)
{
	hid_t g = H5Gcreate2(nodes, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);

	assert_true(g >= 0);
	put_string(g, "type", type);
	return g;
}

static void close_node(hid_t g)
{
	H5Gclose(g);
}

static void put_input(hid_t nodes, const char *name, int64_t size)
{
	hid_t g = node_at(nodes, name, "Input");

	put_ints(g, "shape", 1, &size);
	close_node(g);
}

static void put_output(hid_t nodes, const char *name)
{
	close_node(node_at(nodes, name, "Output"));
}

/* A LIF of @n neurons, tau 0.01, r 1, v_leak 0, threshold 1; @skip names one left out. */
static void put_lif(hid_t nodes, const char *name, size_t n, const char *skip)
{
	static const char *const params[] = { "tau", "r", "v_leak", "v_threshold" };
	static const double values[] = { 0.01, 1.0, 0.0, 1.0 };
	hid_t g = node_at(nodes, name, "LIF");
	double v[16];

	assert_true(n <= 16);
	for (size_t p = 0; p < 4; p++) {
		if (skip && !strcmp(skip, params[p]))
			continue;
		for (size_t i = 0; i < n; i++)
			v[i] = values[p];
		put_vec(g, params[p], n, v);
	}
	close_node(g);
}

static void put_linear(hid_t nodes, const char *name, hsize_t rows, hsize_t cols,
		       const double *w, const double *bias)
{
	hsize_t dims[2] = { rows, cols };
	hid_t g = node_at(nodes, name, bias ? "Affine" : "Linear");

	put_floats(g, "weight", 2, dims, w);
	if (bias)
		put_vec(g, "bias", rows, bias);
	close_node(g);
}

/* A file with its root graph open: nodes are added, then finish() writes the edges. */
struct raw {
	hid_t file, root, nodes;
};

/* @fcpl: the file's creation properties (userblock, address sizes). */
static struct raw start_fcpl(const char *path, hid_t fcpl)
{
	struct raw r;

	r.file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
	assert_true(r.file >= 0);
	put_string(r.file, "version", "0.2.0");
	r.nodes = graph_at(r.file, "node", &r.root);
	return r;
}

static struct raw start(const char *path)
{
	return start_fcpl(path, H5P_DEFAULT);
}

static void finish(struct raw *r, size_t n_edges, const char *const *edges)
{
	put_edges(r->root, n_edges, edges);
	H5Gclose(r->nodes);
	H5Gclose(r->root);
	H5Fclose(r->file);
}

/* Loads @path expecting @err and a message holding each of the NULL-ended strings. */
static void expect_failure(const char *path, int err, ...)
{
	struct ionpu_network *net = NULL;
	const char *want;
	va_list ap;

	assert_int_equal(ionpu_nir_load(path, &net), err);
	assert_null(net);
	va_start(ap, err);
	while ((want = va_arg(ap, const char *))) {
		if (!strstr(ionpu_last_error(), want))
			fail_msg("message \"%s\" lacks \"%s\"", ionpu_last_error(), want);
	}
	va_end(ap);
}

static uint32_t find(const struct ionpu_network *net, const char *name)
{
	uint32_t id = UINT32_MAX;

	assert_int_equal(ionpu_network_find(net, name, &id), 0);
	return id;
}

/* The only projection from @src to @dst. */
static struct ionpu_projection_info projection(const struct ionpu_network *net, uint32_t src,
					       uint32_t dst, uint32_t *id)
{
	struct ionpu_projection_info p, found = { 0 };
	int n = 0;

	for (uint32_t k = 0; k < ionpu_network_projection_count(net); k++) {
		assert_int_equal(ionpu_network_projection(net, k, &p), 0);
		if (p.src == src && p.dst == dst) {
			found = p;
			*id = k;
			n++;
		}
	}
	assert_int_equal(n, 1);
	return found;
}

/* --- graphs this test writes ------------------------------------------ */

/* in(3) -> Affine -> Scale -> lif(2) -> out: the chain is multiplied out. */
static void test_affine_scale_chain(void **state)
{
	struct tmp *t = *state;
	static const double w[6] = { 1, 2, 3, 4, 5, 6 }, b[2] = { 0.5, -1 }, s[2] = { 2, 3 };
	static const char *const edges[] = {
		"in", "fc", "fc", "scale", "scale", "lif", "lif", "out",
	};
	struct raw r = start(t->path);
	struct ionpu_projection_info p;
	struct ionpu_node_info lif;
	struct ionpu_network *net;
	double m[6];
	uint32_t id;
	hid_t g;

	put_input(r.nodes, "in", 3);
	put_linear(r.nodes, "fc", 2, 3, w, b);
	g = node_at(r.nodes, "scale", "Scale");
	put_vec(g, "scale", 2, s);
	close_node(g);
	put_lif(r.nodes, "lif", 2, NULL);
	put_output(r.nodes, "out");
	finish(&r, 4, edges);

	assert_int_equal(ionpu_nir_load(t->path, &net), 0);
	assert_int_equal(ionpu_network_node_count(net), 2);
	assert_int_equal(ionpu_network_node(net, find(net, "lif"), &lif), 0);
	assert_true(lif.output);
	assert_int_equal(lif.model, IONPU_NEURON_LIF);
	/* The bias goes through the Scale too; v_reset defaults to zeros. */
	assert_true(lif.params.bias[0] == 0.5 * 2 && lif.params.bias[1] == -1 * 3);
	assert_true(lif.params.v_reset[0] == 0 && lif.params.v_reset[1] == 0);
	p = projection(net, find(net, "in"), find(net, "lif"), &id);
	assert_int_equal(p.kind, IONPU_PROJ_DENSE);
	assert_int_equal(ionpu_network_projection_matrix(net, id, m), 0);
	for (int row = 0; row < 2; row++)
		for (int col = 0; col < 3; col++)
			assert_true(m[row * 3 + col] == w[row * 3 + col] * s[row]);
	ionpu_network_free(net);
}

/* in [1,4,4] -> SumPool2d 2x2 -> if_a; in -> AvgPool2d 2x2 -> Flatten -> if_b. */
static void test_pools(void **state)
{
	struct tmp *t = *state;
	static const char *const edges[] = {
		"in", "sum", "sum", "if_a", "in", "avg", "avg", "flat", "flat", "if_b",
		"if_a", "out",
	};
	static const int64_t shape[3] = { 1, 4, 4 }, k[2] = { 2, 2 };
	static const double ones[4] = { 1, 1, 1, 1 };
	struct raw r = start(t->path);
	struct ionpu_projection_info p;
	struct ionpu_network *net;
	double m[4 * 16];
	uint32_t id;
	hid_t g;

	g = node_at(r.nodes, "in", "Input");
	put_ints(g, "shape", 3, shape);
	close_node(g);
	g = node_at(r.nodes, "sum", "SumPool2d");
	put_ints(g, "kernel_size", 2, k);
	put_ints(g, "stride", 2, k);
	close_node(g);
	g = node_at(r.nodes, "avg", "AvgPool2d");
	put_ints(g, "kernel_size", 2, k);
	close_node(g);
	close_node(node_at(r.nodes, "flat", "Flatten"));
	for (int i = 0; i < 2; i++) {
		hsize_t dims[3] = { 1, 2, 2 };

		g = node_at(r.nodes, i ? "if_b" : "if_a", "IF");
		put_floats(g, "r", i ? 1 : 3, i ? &dims[1] + 1 : dims, ones);
		put_floats(g, "v_threshold", i ? 1 : 3, i ? &dims[1] + 1 : dims, ones);
		close_node(g);
	}
	put_output(r.nodes, "out");
	finish(&r, 6, edges);

	/* if_b's parameters are flat with 2 values: 4 were expected. */
	expect_failure(t->path, -EPROTO, "'if_b'", "has 2 neurons but 'flat' gives 4", NULL);

	unlink(t->path);
	r = start(t->path);
	g = node_at(r.nodes, "in", "Input");
	put_ints(g, "shape", 3, shape);
	close_node(g);
	g = node_at(r.nodes, "sum", "SumPool2d");
	put_ints(g, "kernel_size", 2, k);
	close_node(g);
	g = node_at(r.nodes, "avg", "AvgPool2d");
	put_ints(g, "kernel_size", 2, k);
	close_node(g);
	close_node(node_at(r.nodes, "flat", "Flatten"));
	for (int i = 0; i < 2; i++) {
		hsize_t dims[3] = { 1, 2, 2 }, flat = 4;

		g = node_at(r.nodes, i ? "if_b" : "if_a", "IF");
		put_floats(g, "r", i ? 1 : 3, i ? &flat : dims, ones);
		put_floats(g, "v_threshold", i ? 1 : 3, i ? &flat : dims, ones);
		close_node(g);
	}
	put_output(r.nodes, "out");
	finish(&r, 6, edges);

	assert_int_equal(ionpu_nir_load(t->path, &net), 0);
	for (int i = 0; i < 2; i++) {
		double want = i ? 0.25 : 1.0;

		p = projection(net, find(net, "in"), find(net, i ? "if_b" : "if_a"), &id);
		assert_int_equal(p.kind, IONPU_PROJ_CONV);
		assert_int_equal(p.conv.out_height, 2);
		assert_int_equal(p.conv.out_width, 2);
		assert_int_equal(ionpu_network_projection_matrix(net, id, m), 0);
		/* Output (y, x) sums input rows 2y..2y+1, columns 2x..2x+1. */
		for (int o = 0; o < 4; o++)
			for (int in = 0; in < 16; in++)
				assert_true(m[o * 16 + in] ==
					    ((in / 4) / 2 == o / 2 && (in % 4) / 2 == o % 2 ?
						     want : 0.0));
	}
	ionpu_network_free(net);
}

/* A Delay before the weights is one delay per source neuron. */
static void test_delay(void **state)
{
	struct tmp *t = *state;
	static const double d[2] = { 0.002, 0.003 }, w[4] = { 1, 0, 0, 1 };
	static const char *const edges[] = { "in", "d", "d", "fc", "fc", "lif" };
	struct raw r = start(t->path);
	struct ionpu_projection_info p;
	struct ionpu_network *net;
	uint32_t id;
	hid_t g;

	put_input(r.nodes, "in", 2);
	g = node_at(r.nodes, "d", "Delay");
	put_vec(g, "delay", 2, d);
	close_node(g);
	put_linear(r.nodes, "fc", 2, 2, w, NULL);
	put_lif(r.nodes, "lif", 2, NULL);
	finish(&r, 3, edges);

	assert_int_equal(ionpu_nir_load(t->path, &net), 0);
	p = projection(net, find(net, "in"), find(net, "lif"), &id);
	assert_non_null(p.delay);
	assert_true(p.delay[0] == (float)0.002 && p.delay[1] == (float)0.003);
	ionpu_network_free(net);
}

/* A nested graph: its nodes get its name, edges into and out of it are rewired. */
static void test_nested(void **state)
{
	struct tmp *t = *state;
	static const double w_in[4] = { 1, 2, 3, 4 }, w_rec[4] = { 0, -1, -1, 0 };
	static const char *const edges[] = { "in", "fc", "fc", "rnn", "rnn", "out" };
	/* "lif" names "lif_1": the prefix rule snnTorch's exports need. */
	static const char *const sub_edges[] = {
		"input", "lif", "lif", "rec", "rec", "lif", "lif", "output",
	};
	struct raw r = start(t->path);
	struct ionpu_node_info n;
	struct ionpu_network *net;
	hid_t sub, sub_nodes;
	double m[4];
	uint32_t id;

	put_input(r.nodes, "in", 2);
	put_linear(r.nodes, "fc", 2, 2, w_in, NULL);
	sub_nodes = graph_at(r.nodes, "rnn", &sub);
	put_input(sub_nodes, "input", 2);
	put_lif(sub_nodes, "lif_1", 2, NULL);
	put_linear(sub_nodes, "rec", 2, 2, w_rec, NULL);
	put_output(sub_nodes, "output");
	put_edges(sub, 4, sub_edges);
	H5Gclose(sub_nodes);
	H5Gclose(sub);
	put_output(r.nodes, "out");
	finish(&r, 3, edges);

	assert_int_equal(ionpu_nir_load(t->path, &net), 0);
	assert_int_equal(ionpu_network_node_count(net), 2);
	assert_int_equal(ionpu_network_projection_count(net), 2);
	assert_int_equal(ionpu_network_node(net, find(net, "rnn.lif_1"), &n), 0);
	assert_true(n.output);
	projection(net, find(net, "rnn.lif_1"), find(net, "rnn.lif_1"), &id);
	assert_int_equal(ionpu_network_projection_matrix(net, id, m), 0);
	assert_memory_equal(m, w_rec, sizeof(m));
	projection(net, find(net, "in"), find(net, "rnn.lif_1"), &id);
	assert_int_equal(ionpu_network_projection_matrix(net, id, m), 0);
	assert_memory_equal(m, w_in, sizeof(m));
	ionpu_network_free(net);
}

/* --- malformed files ---------------------------------------------------- */

/* in(2) -> fc -> lif(2), with one thing wrong as @what says, in a file made with @fcpl. */
static void write_broken_fcpl(const char *path, const char *what, hid_t fcpl)
{
	static const double w[6] = { 1, 2, 3, 4, 5, 6 };
	const char *edges[] = { "in", "fc", "fc", "lif" };
	struct raw r = start_fcpl(path, fcpl);
	bool bad = !strcmp(what, "dangling");

	put_input(r.nodes, "in", 2);
	if (!strcmp(what, "shape")) {
		put_linear(r.nodes, "fc", 2, 3, w, NULL);
	} else if (!strcmp(what, "type")) {
		hid_t g = node_at(r.nodes, "fc", "Linear");

		put_string(g, "weight", "heavy");
		close_node(g);
	} else if (!strcmp(what, "unwritten")) {
		hid_t g = node_at(r.nodes, "fc", "Linear");
		const hsize_t dims[2] = { 2, 2 };

		put_floats(g, "weight", 2, dims, NULL);
		close_node(g);
	} else if (!strcmp(what, "unknown")) {
		close_node(node_at(r.nodes, "fc", "Quantum"));
	} else {
		put_linear(r.nodes, "fc", 2, 2, w, NULL);
	}
	put_lif(r.nodes, "lif", 2, !strcmp(what, "missing") ? "tau" : NULL);
	if (bad)
		edges[3] = "nowhere";
	finish(&r, 2, edges);
}

static void write_broken(const char *path, const char *what)
{
	write_broken_fcpl(path, what, H5P_DEFAULT);
}

static void test_missing_parameter(void **state)
{
	struct tmp *t = *state;

	write_broken(t->path, "missing");
	expect_failure(t->path, -EPROTO, "node 'lif'", "no 'tau' dataset", NULL);
}

static void test_wrong_shape(void **state)
{
	struct tmp *t = *state;

	write_broken(t->path, "shape");
	expect_failure(t->path, -EPROTO, "node 'fc'", "weight is 2x3 but its input has 2 values",
		       NULL);
}

static void test_wrong_type(void **state)
{
	struct tmp *t = *state;

	write_broken(t->path, "type");
	expect_failure(t->path, -EPROTO, "node 'fc'", "'weight' is not a number array", NULL);
}

/* Values never written read as the fill value, which libhdf5 may crash on. */
static void test_unwritten_values(void **state)
{
	struct tmp *t = *state;

	write_broken(t->path, "unwritten");
	expect_failure(t->path, -EPROTO, "node 'fc'", "'weight' holds no values", NULL);
}

static void test_unknown_node(void **state)
{
	struct tmp *t = *state;

	write_broken(t->path, "unknown");
	expect_failure(t->path, -EOPNOTSUPP, "node 'fc'", "type 'Quantum' is not supported", NULL);
}

static void test_dangling_edge(void **state)
{
	struct tmp *t = *state;

	write_broken(t->path, "dangling");
	expect_failure(t->path, -EPROTO, "names no node 'nowhere'", NULL);
}

/* Two Linears feeding each other with no neuron between: no order exists. */
static void test_cycle(void **state)
{
	struct tmp *t = *state;
	static const double w[1] = { 1 };
	static const char *const edges[] = { "a", "b", "b", "a", "b", "lif" };
	struct raw r = start(t->path);

	put_linear(r.nodes, "a", 1, 1, w, NULL);
	put_linear(r.nodes, "b", 1, 1, w, NULL);
	put_lif(r.nodes, "lif", 1, NULL);
	finish(&r, 3, edges);
	expect_failure(t->path, -EPROTO, "on a cycle with no neuron node in it", NULL);
}

static void test_output_needs_neurons(void **state)
{
	struct tmp *t = *state;
	static const double w[1] = { 1 };
	static const char *const edges[] = { "in", "fc", "fc", "out" };
	struct raw r = start(t->path);

	put_input(r.nodes, "in", 1);
	put_linear(r.nodes, "fc", 1, 1, w, NULL);
	put_output(r.nodes, "out");
	finish(&r, 2, edges);
	expect_failure(t->path, -EOPNOTSUPP, "node 'out'", "fed by 'fc' (Linear), not by neurons",
		       NULL);
}

static void test_not_a_file(void **state)
{
	struct tmp *t = *state;
	FILE *f;

	expect_failure(t->path, -ENOENT, "No such file", NULL);
	f = fopen(t->path, "w");
	assert_non_null(f);
	fputs("{\"not\": \"hdf5\"}\n", f);
	fclose(f);
	expect_failure(t->path, -EPROTO, "not an HDF5 file", NULL);
}

/* A valid file cut at every 1/8 of its length never loads and never crashes. */
static void test_truncated(void **state)
{
	struct tmp *t = *state;
	struct ionpu_network *net;
	struct stat st;
	char *data;
	FILE *f;

	write_broken(t->path, "none");
	assert_int_equal(ionpu_nir_load(t->path, &net), 0);
	ionpu_network_free(net);
	assert_int_equal(stat(t->path, &st), 0);
	data = malloc((size_t)st.st_size);
	assert_non_null(data);
	f = fopen(t->path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(data, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	for (int eighth = 0; eighth < 8; eighth++) {
		size_t len = (size_t)st.st_size * eighth / 8;

		f = fopen(t->path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(data, 1, len, f), len);
		fclose(f);
		net = NULL;
		assert_int_equal(ionpu_nir_load(t->path, &net), -EPROTO);
		assert_null(net);
	}
	free(data);
}

/* @len bytes at @off of @path, read into @buf or, with @write, from it. */
static void patch(const char *path, long off, void *buf, size_t len, bool write)
{
	FILE *f = fopen(path, "r+b");

	assert_non_null(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	if (write)
		assert_int_equal(fwrite(buf, 1, len, f), len);
	else
		assert_int_equal(fread(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * Damage @len bytes at @off to @bad, expect @why about @node's 'type', then
 * restore them.
 */
static void expect_damaged(const char *path, const char *node, long off,
			   const void *bad, size_t len, const char *why)
{
	uint8_t keep[8];

	assert_true(len <= sizeof(keep));
	patch(path, off, keep, len, false);
	patch(path, off, (void *)bad, len, true);
	expect_failure(path, -EPROTO, node, "'type' is damaged", why, NULL);
	patch(path, off, keep, len, true);
}

/*
 * Damaged heaps behind a variable-length string, each of which crashes or
 * hangs libhdf5 1.10 inside H5Dread(), are refused before it reads them.
 */
static void test_damaged_heap(void **state)
{
	static const uint32_t nowhere = 0x01000006, long_string = 1000, short_string = 1;
	static const uint64_t huge = 0x7fffffff, zero = 0;
	struct tmp *t = *state;
	struct ionpu_network *net;
	uint64_t gcol, off, size = 0;
	uint8_t slot[16], obj[16];
	hid_t file, ds;
	long at;

	write_broken(t->path, "none");
	file = H5Fopen(t->path, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(file >= 0);
	ds = H5Dopen2(file, "/node/nodes/lif/type", H5P_DEFAULT);
	assert_true(ds >= 0);
	at = (long)H5Dget_offset(ds);
	H5Dclose(ds);
	H5Fclose(file);
	/* A slot: length u32, collection address u64, object index u32. */
	patch(t->path, at, slot, sizeof(slot), false);
	memcpy(&gcol, slot + 4, sizeof(gcol));

	expect_damaged(t->path, "'lif'", at + 12, &nowhere, 4, "does not exist");
	expect_damaged(t->path, "'lif'", at, &long_string, 4, "length is not its heap object's");
	expect_damaged(t->path, "'lif'", at, &short_string, 4, "length is not its heap object's");
	expect_damaged(t->path, "'lif'", at + 4, &huge, 8, "past the end of the file");
	/* Every string of the file is in this collection: the first read fails. */
	expect_damaged(t->path, "node", (long)gcol, "XCOL", 4, "no heap collection");
	expect_damaged(t->path, "node", (long)gcol + 8, &huge, 8, "impossible size");
	/* The collection's first object, then its free space (object 0). */
	expect_damaged(t->path, "node", (long)gcol + 16 + 8, &huge, 8,
		       "overruns its collection");
	/* The second object takes the first one's index. */
	patch(t->path, (long)gcol + 16, obj, sizeof(obj), false);
	memcpy(&size, obj + 8, sizeof(size));
	expect_damaged(t->path, "node", (long)(gcol + 32 + ((size + 7) & ~7ull)), obj, 2,
		       "holds one object twice");
	for (off = 16;; off += 16 + ((size + 7) & ~7ull)) {
		patch(t->path, (long)(gcol + off), obj, sizeof(obj), false);
		memcpy(&size, obj + 8, sizeof(size));
		if (!obj[0] && !obj[1])
			break;
	}
	expect_damaged(t->path, "node", (long)(gcol + off + 8), &zero, 8,
		       "overruns its collection");

	/* Restored, the file loads again. */
	assert_int_equal(ionpu_nir_load(t->path, &net), 0);
	ionpu_network_free(net);
}

static void trial_returns(void *arg)
{
	(void)arg;
}

static void trial_crashes(void *arg)
{
	(void)arg;
	raise(SIGSEGV);
}

static void trial_aborts(void *arg)
{
	(void)arg;
	abort();
}

/* What the alarm does to a read stuck for good. */
static void trial_stuck(void *arg)
{
	(void)arg;
	raise(SIGALRM);
}

/* What a sanitizer does when it stops a process: a report, then exit. */
static void trial_exits(void *arg)
{
	(void)arg;
	_exit(1);
}

static void expect_trial(void (*fn)(void *arg), int err, const char *why)
{
	assert_int_equal(ionpu_nir_h5_trial("x.nir", fn, NULL), err);
	if (why && !strstr(ionpu_last_error(), why))
		fail_msg("message \"%s\" lacks \"%s\"", ionpu_last_error(), why);
}

/*
 * ionpu_nir_load() reads a file in a child first: a crash there (of
 * libhdf5, on a damaged file) refuses the file instead of killing the
 * caller, whatever signal handlers the caller has.
 */
static void test_trial_child(void **state)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old;

	(void)state;
	expect_trial(trial_returns, 0, NULL);
	expect_trial(trial_crashes, -EPROTO, "x.nir: libhdf5 crashed reading it");
	expect_trial(trial_aborts, -EPROTO, "crashed reading it");
	expect_trial(trial_exits, -EPROTO, "exit status 1");
	expect_trial(trial_stuck, -EPROTO, "did not end within");
	/* A handler of the caller's that would carry on is not the child's. */
	assert_int_equal(sigaction(SIGSEGV, &ignore, &old), 0);
	expect_trial(trial_crashes, -EPROTO, "crashed reading it");
	assert_int_equal(sigaction(SIGSEGV, &old, NULL), 0);
}

/* Valid files of other layouts pass the heap check: userblocks, narrow sizes. */
static void test_heap_layouts(void **state)
{
	static const struct { hsize_t userblock; size_t sa, ss; } layouts[] = {
		{ 512, 8, 8 }, { 4096, 8, 8 }, { 0, 4, 4 }, { 0, 8, 4 }, { 512, 2, 2 },
	};
	struct tmp *t = *state;

	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
		struct ionpu_network *net = NULL;

		assert_true(fcpl >= 0);
		assert_true(H5Pset_userblock(fcpl, layouts[i].userblock) >= 0);
		assert_true(H5Pset_sizes(fcpl, layouts[i].sa, layouts[i].ss) >= 0);
		write_broken_fcpl(t->path, "none", fcpl);
		H5Pclose(fcpl);
		if (ionpu_nir_load(t->path, &net))
			fail_msg("layout %zu: %s", i, ionpu_last_error());
		ionpu_network_free(net);
	}
}

/* Strings libhdf5 keeps where they cannot be checked first are refused. */
static void test_compact_strings(void **state)
{
	hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), g, ds;
	const char *lif = "LIF";
	struct tmp *t = *state;
	struct raw r;

	r = start(t->path);
	put_input(r.nodes, "in", 1);
	g = H5Gcreate2(r.nodes, "lif", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(g >= 0);
	H5Tset_size(type, H5T_VARIABLE);
	assert_true(H5Pset_layout(dcpl, H5D_COMPACT) >= 0);
	ds = H5Dcreate2(g, "type", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	assert_true(ds >= 0);
	assert_true(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &lif) >= 0);
	H5Dclose(ds);
	H5Gclose(g);
	H5Pclose(dcpl);
	H5Sclose(space);
	H5Tclose(type);
	finish(&r, 0, NULL);
	expect_failure(t->path, -EPROTO, "node 'lif'", "contiguous storage", NULL);
}

/* --- round trip through the writer -------------------------------------- */

static void build_network(struct ionpu_network **out)
{
	static const double tau[4] = { 0.01, 0.02, 0.03, 0.04 }, r[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const double zero[8] = { 0 }, thr[4] = { 1, 1.5, 2, 2.5 };
	static const double bias[4] = { 0.1, 0.2, 0.3, 0.4 }, inf[8] = {
		INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY,
	};
	static const double conv_bias[8] = { 0.5, 0.5, 0.5, 0.5, -1, -1, -1, -1 };
	static const double dense[12] = { 1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12 };
	static const double rec[4] = { 0, 0.5, -0.5, 0 }, w_in[2] = { 2, 3 };
	static const double delay[3] = { 0.001, 0, 0.004 };
	static const uint32_t pre[3] = { 0, 1, 3 }, post[3] = { 1, 0, 1 };
	static const double sparse_w[3] = { 0.25, -0.75, 1.5 };
	double kernel[2 * 9];
	struct ionpu_neuron_params lif = {
		.tau = tau, .r = r, .v_leak = zero, .v_threshold = thr, .bias = bias,
	};
	struct ionpu_neuron_params integ = {
		.r = r, .v_threshold = inf, .bias = conv_bias,
	};
	struct ionpu_neuron_params cuba = {
		.tau_syn = tau, .tau_mem = tau + 1, .r = r, .v_leak = zero, .v_threshold = thr,
		.w_in = w_in,
	};
	struct ionpu_neuron_params threshold = { .v_threshold = thr };
	struct ionpu_conv conv = {
		.in_channels = 1, .in_height = 4, .in_width = 4, .out_channels = 2,
		.kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1,
		.dilation_h = 1, .dilation_w = 1, .groups = 1, .weight = kernel,
	};
	struct ionpu_network *net;
	uint32_t in, img, a, b, c, d;

	for (int i = 0; i < 18; i++)
		kernel[i] = i - 9;
	assert_int_equal(ionpu_network_create(&net), 0);
	assert_int_equal(ionpu_network_add_input(net, "in", 3, &in), 0);
	assert_int_equal(ionpu_network_add_input(net, "img", 16, &img), 0);
	assert_int_equal(ionpu_network_add_population(net, "a", IONPU_NEURON_LIF, 4, &lif, &a), 0);
	assert_int_equal(ionpu_network_add_population(net, "b", IONPU_NEURON_IF, 8, &integ, &b),
			 0);
	assert_int_equal(ionpu_network_add_population(net, "c", IONPU_NEURON_CUBA_LIF, 2, &cuba,
						      &c), 0);
	assert_int_equal(ionpu_network_add_population(net, "d", IONPU_NEURON_THRESHOLD, 4,
						      &threshold, &d), 0);
	assert_int_equal(ionpu_network_add_dense(net, in, a, dense, delay, NULL), 0);
	assert_int_equal(ionpu_network_add_conv(net, img, b, &conv, NULL, NULL), 0);
	assert_int_equal(ionpu_network_add_sparse(net, a, c, 3, pre, post, sparse_w, NULL, NULL),
			 0);
	assert_int_equal(ionpu_network_add_dense(net, c, c, rec, NULL, NULL), 0);
	assert_int_equal(ionpu_network_add_dense(net, in, d, dense, NULL, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, c), 0);
	assert_int_equal(ionpu_network_mark_output(net, d), 0);
	*out = net;
}

/* Read back, the network is the same one, numbered the same. */
static void test_round_trip(void **state)
{
	struct tmp *t = *state;
	struct ionpu_network *net, *back;

	build_network(&net);
	assert_int_equal(ionpu_nir_save(net, t->path), 0);
	assert_int_equal(ionpu_nir_load(t->path, &back), 0);
	assert_same_network(net, back);
	ionpu_network_free(back);
	ionpu_network_free(net);
}

/* A bias with no projection to carry it cannot be written. */
static void test_save_unexpressible_bias(void **state)
{
	struct tmp *t = *state;
	static const double one[1] = { 1 }, bias[1] = { 0.5 };
	struct ionpu_neuron_params p = { .r = one, .v_threshold = one, .bias = bias };
	struct ionpu_network *net;

	assert_int_equal(ionpu_network_create(&net), 0);
	assert_int_equal(ionpu_network_add_population(net, "lonely", IONPU_NEURON_IF, 1, &p, NULL),
			 0);
	assert_int_equal(ionpu_nir_save(net, t->path), -EOPNOTSUPP);
	assert_non_null(strstr(ionpu_last_error(), "population 'lonely' has a bias"));
	ionpu_network_free(net);
}

/* --- the graphs real tools exported ------------------------------------ */

/* A dataset of a real file, read with libhdf5 directly, as doubles. */
static double *read_dataset(const char *path, const char *name, size_t *n)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), ds, space;
	double *v;

	assert_true(f >= 0);
	ds = H5Dopen2(f, name, H5P_DEFAULT);
	assert_true(ds >= 0);
	space = H5Dget_space(ds);
	*n = (size_t)H5Sget_simple_extent_npoints(space);
	v = malloc(*n * sizeof(*v));
	assert_non_null(v);
	assert_true(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Sclose(space);
	H5Dclose(ds);
	H5Fclose(f);
	return v;
}

static void test_two_lif_neurons(void **state)
{
	struct ionpu_node_info l1, l2;
	struct ionpu_network *net;
	double m;
	char path[4096];
	uint32_t id;

	(void)state;
	SHARED_GRAPH("two_lif_neurons.nir", path);
	assert_int_equal(ionpu_nir_load(path, &net), 0);
	assert_int_equal(ionpu_network_node_count(net), 3);
	assert_int_equal(ionpu_network_node(net, find(net, "lif1"), &l1), 0);
	assert_int_equal(ionpu_network_node(net, find(net, "lif2"), &l2), 0);
	assert_int_equal(l1.model, IONPU_NEURON_LIF);
	assert_true(l1.params.tau[0] == 0.01 && l1.params.v_leak[0] == 1.2 &&
		    l1.params.v_threshold[0] == 1 && l1.params.r[0] == 1);
	assert_true(l2.params.v_threshold[0] == 20 && l2.params.v_reset[0] == 0);
	assert_false(l1.output);
	assert_true(l2.output);
	projection(net, find(net, "in"), find(net, "lif1"), &id);
	ionpu_network_projection_matrix(net, id, &m);
	assert_true(m == 1);
	projection(net, find(net, "lif1"), find(net, "lif2"), &id);
	ionpu_network_projection_matrix(net, id, &m);
	assert_true(m == 1);
	ionpu_network_free(net);
}

static void test_lif_rockpool(void **state)
{
	struct ionpu_network *net;
	struct ionpu_node_info n;
	char path[4096];
	uint32_t id;
	double m;

	(void)state;
	SHARED_GRAPH("lif_rockpool.nir", path);
	assert_int_equal(ionpu_nir_load(path, &net), 0);
	assert_int_equal(ionpu_network_node_count(net), 2);
	assert_int_equal(ionpu_network_node(net, find(net, "1_LIFNeuronTorch"), &n), 0);
	/* float32 in the file. */
	assert_true(n.params.tau[0] == (float)0.0025 && n.params.v_threshold[0] == (float)0.1);
	assert_true(n.output);
	projection(net, find(net, "input"), find(net, "1_LIFNeuronTorch"), &id);
	ionpu_network_projection_matrix(net, id, &m);
	assert_true(m == (float)0.04);
	ionpu_network_free(net);
}

static void test_braille_subgraph(void **state)
{
	struct ionpu_node_info lif1, lif2;
	struct ionpu_network *net;
	double *fc1_b, *lin_b, *fc2_b, *w, *m;
	size_t n1, n2, n3, nw;
	char path[4096];
	uint32_t id;

	(void)state;
	SHARED_GRAPH("braille_noDelay_bias_zero_subgraph.nir", path);
	assert_int_equal(ionpu_nir_load(path, &net), 0);
	assert_int_equal(ionpu_network_node_count(net), 3);
	assert_int_equal(ionpu_network_projection_count(net), 3);
	assert_int_equal(ionpu_network_node(net, find(net, "lif1.lif1"), &lif1), 0);
	assert_int_equal(ionpu_network_node(net, find(net, "lif2"), &lif2), 0);
	assert_int_equal(lif1.model, IONPU_NEURON_CUBA_LIF);
	assert_int_equal(lif1.size, 38);
	assert_int_equal(lif2.size, 7);
	assert_false(lif1.output);
	assert_true(lif2.output);

	/* Both Affines into lif1.lif1 add their biases; v_reset defaults to 0. */
	fc1_b = read_dataset(path, "/node/nodes/fc1/bias", &n1);
	lin_b = read_dataset(path, "/node/nodes/lif1/nodes/lin/bias", &n2);
	fc2_b = read_dataset(path, "/node/nodes/fc2/bias", &n3);
	assert_int_equal(n1, 38);
	assert_int_equal(n2, 38);
	assert_int_equal(n3, 7);
	for (size_t i = 0; i < 38; i++) {
		assert_true(lif1.params.bias[i] == fc1_b[i] + lin_b[i]);
		assert_true(lif1.params.v_reset[i] == 0);
	}
	for (size_t i = 0; i < 7; i++)
		assert_true(lif2.params.bias[i] == fc2_b[i]);

	/* The recurrent weights are the nested Affine's, row = target. */
	w = read_dataset(path, "/node/nodes/lif1/nodes/lin/weight", &nw);
	assert_int_equal(nw, 38 * 38);
	m = malloc(nw * sizeof(*m));
	assert_non_null(m);
	projection(net, find(net, "lif1.lif1"), find(net, "lif1.lif1"), &id);
	assert_int_equal(ionpu_network_projection_matrix(net, id, m), 0);
	assert_memory_equal(m, w, nw * sizeof(*m));
	projection(net, find(net, "input"), find(net, "lif1.lif1"), &id);
	projection(net, find(net, "lif1.lif1"), find(net, "lif2"), &id);
	free(m);
	free(w);
	free(fc1_b);
	free(lin_b);
	free(fc2_b);
	ionpu_network_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_affine_scale_chain, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_pools, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_delay, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_nested, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_missing_parameter, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_shape, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_unwritten_values, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_node, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_dangling_edge, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_cycle, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_output_needs_neurons, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_truncated, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_damaged_heap, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_trial_child),
		cmocka_unit_test_setup_teardown(test_compact_strings, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_heap_layouts, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_save_unexpressible_bias, tmp_setup,
						tmp_teardown),
		cmocka_unit_test(test_two_lif_neurons),
		cmocka_unit_test(test_lif_rockpool),
		cmocka_unit_test(test_braille_subgraph),
	};
	int failed;

	/* The tests' own HDF5 calls must not print either. */
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	/* Frees what libhdf5 keeps until exit, for valgrind. */
	H5close();
	return failed;
}
