// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * NIR export: writes a network as a flat NIR graph in HDF5, in the layout
 * ionpu_nir_load() and NIR's own reader (0.2 and later) read: /version,
 * and /node with type "NIRGraph", nodes/<name>/ and edges (E x 2 strings).
 * Strings are variable-length UTF-8 and numbers float64 or int64, as the
 * Python tools write them.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "ionpu_h5_lock.h"
#include "ionpu_internal.h"

#define NIR_VERSION "0.2.0"

struct nir_writer {
	const struct ionpu_network *net;
	const char *path;
	hid_t nodes;
	/* Names taken: the network's nodes and those made up here. */
	char **names;
	size_t n_names;
	char **edges; /* 2 per edge */
	size_t n_edges;
	int err;
};

static int write_fail(struct nir_writer *W, int err, const char *what)
{
	if (!W->err)
		W->err = ionpu_error(err, "%s: %s", W->path, what);
	return W->err;
}

static bool name_taken(const struct nir_writer *W, const char *name)
{
	uint32_t id;

	for (size_t i = 0; i < W->n_names; i++)
		if (!strcmp(W->names[i], name))
			return true;
	return ionpu_network_find(W->net, name, &id) == 0;
}

/* A node name from @base no node has, remembered; NULL on failure. */
static const char *make_name(struct nir_writer *W, const char *base)
{
	size_t len = strlen(base);
	char *name = malloc(len + 16);
	char **p;

	if (!name)
		goto nomem;
	strcpy(name, base);
	for (unsigned int k = 2; name_taken(W, name); k++)
		snprintf(name + len, 16, "_%u", k);
	p = realloc(W->names, (W->n_names + 1) * sizeof(*p));
	if (!p) {
		free(name);
		goto nomem;
	}
	W->names = p;
	W->names[W->n_names++] = name;
	return name;
nomem:
	write_fail(W, -ENOMEM, "out of memory");
	return NULL;
}

static void add_edge(struct nir_writer *W, const char *from, const char *to)
{
	char **p = realloc(W->edges, (W->n_edges + 1) * 2 * sizeof(*p));

	if (!p) {
		write_fail(W, -ENOMEM, "out of memory");
		return;
	}
	W->edges = p;
	/*
	 * Names outlive the edge list: they belong to the network or to
	 * W->names.
	 */
	p[2 * W->n_edges] = (char *)from;
	p[2 * W->n_edges + 1] = (char *)to;
	W->n_edges++;
}

static hid_t string_type(void)
{
	hid_t t = H5Tcopy(H5T_C_S1);

	if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 ||
		       H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
		H5Tclose(t);
		return -1;
	}
	return t;
}

/* Writes @n strings as a dataset of shape @dims (ndims 0: a scalar). */
static void write_strings(struct nir_writer *W, hid_t grp, const char *name,
			  const char **s, int ndims, const hsize_t *dims)
{
	hid_t t = string_type();
	hid_t space = ndims ? H5Screate_simple(ndims, dims, NULL) :
			      H5Screate(H5S_SCALAR);
	hid_t ds = -1;

	if (t >= 0 && space >= 0)
		ds = H5Dcreate2(grp, name, t, space, H5P_DEFAULT, H5P_DEFAULT,
				H5P_DEFAULT);
	if (ds < 0 || H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0)
		write_fail(W, -EIO, "cannot write a string dataset");
	if (ds >= 0)
		H5Dclose(ds);
	if (space >= 0)
		H5Sclose(space);
	if (t >= 0)
		H5Tclose(t);
}

static void write_numbers(struct nir_writer *W, hid_t grp, const char *name,
			  hid_t file_type, hid_t mem_type, const void *v,
			  int ndims, const hsize_t *dims)
{
	hid_t space = ndims ? H5Screate_simple(ndims, dims, NULL) :
			      H5Screate(H5S_SCALAR);
	hid_t ds = -1;

	if (space >= 0)
		ds = H5Dcreate2(grp, name, file_type, space, H5P_DEFAULT,
				H5P_DEFAULT, H5P_DEFAULT);
	if (ds < 0 ||
	    H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
		write_fail(W, -EIO, "cannot write a dataset");
	if (ds >= 0)
		H5Dclose(ds);
	if (space >= 0)
		H5Sclose(space);
}

static void write_doubles(struct nir_writer *W, hid_t grp, const char *name,
			  const double *v, int ndims, const hsize_t *dims)
{
	write_numbers(W, grp, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, ndims,
		      dims);
}

static void write_ints(struct nir_writer *W, hid_t grp, const char *name,
		       const int64_t *v, hsize_t n)
{
	write_numbers(W, grp, name, H5T_STD_I64LE, H5T_NATIVE_INT64, v,
		      n ? 1 : 0, &n);
}

/* Creates nodes/<name> with its type; the caller closes the group. */
static hid_t node_group(struct nir_writer *W, const char *name,
			const char *type)
{
	hid_t g = H5Gcreate2(W->nodes, name, H5P_DEFAULT, H5P_DEFAULT,
			     H5P_DEFAULT);

	if (g < 0) {
		write_fail(W, -EIO, "cannot create a node group");
		return -1;
	}
	write_strings(W, g, "type", &type, 0, NULL);
	return g;
}

static void write_input(struct nir_writer *W, const struct ionpu_node_info *n)
{
	int64_t shape = n->size;
	hid_t g = node_group(W, n->name, "Input");

	if (g < 0)
		return;
	write_ints(W, g, "shape", &shape, 1);
	H5Gclose(g);
}

static void write_population(struct nir_writer *W,
			     const struct ionpu_node_info *n)
{
	const struct ionpu_neuron_params *p = &n->params;
	const struct {
		const char *name;
		const double *v;
	} params[] = {
		{ "tau", p->tau },
		{ "tau_syn", p->tau_syn },
		{ "tau_mem", p->tau_mem },
		{ "r", p->r },
		{ "v_leak", p->v_leak },
		{ n->model == IONPU_NEURON_THRESHOLD ? "threshold" :
						       "v_threshold",
		  p->v_threshold },
		{ "v_reset", p->v_reset },
		{ "w_in", p->w_in },
	};
	hsize_t dims = n->size;
	hid_t g = node_group(W, n->name, ionpu_neuron_model_name(n->model));

	if (g < 0)
		return;
	/*
	 * The bias is not a NIR parameter: an Affine or Conv2d node carries it.
	 */
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		if (params[i].v)
			write_doubles(W, g, params[i].name, params[i].v, 1,
				      &dims);
	H5Gclose(g);
}

static bool all_zero(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] != 0)
			return false;
	return true;
}

/* The projection into @pop that carries its bias, or -1 with W->err set. */
static long bias_carrier(struct nir_writer *W, uint32_t pop,
			 const struct ionpu_node_info *n)
{
	size_t count = ionpu_network_projection_count(W->net);
	struct ionpu_projection_info p;

	if (all_zero(n->params.bias, n->size))
		return -2;
	for (size_t k = 0; k < count; k++) {
		ionpu_network_projection(W->net, (uint32_t)k, &p);
		if (p.dst == pop && p.kind != IONPU_PROJ_CONV)
			return (long)k;
	}
	for (size_t k = 0; k < count; k++) {
		size_t plane;
		bool per_channel = true;

		ionpu_network_projection(W->net, (uint32_t)k, &p);
		if (p.dst != pop)
			continue;
		plane = (size_t)p.conv.out_height * p.conv.out_width;
		for (size_t i = 0; i < n->size; i++)
			per_channel &= n->params.bias[i] ==
				       n->params.bias[i - i % plane];
		if (per_channel)
			return (long)k;
	}
	if (!W->err)
		W->err =
			ionpu_error(-EOPNOTSUPP,
				    "%s: population '%s' has a bias but no Linear projection, or convolution with one bias per channel, into it to carry it",
				    W->path, n->name);
	return -1;
}

enum bias_carrier {
	BIAS_ELSEWHERE, /* the target's bias goes with another projection */
	BIAS_CARRIED,	/* this projection's node carries it */
};

/* Convolution @c as Conv2d node @name; -1 with W->err set on failure. */
static int write_conv(struct nir_writer *W, const char *name,
		      const struct ionpu_conv *c,
		      const struct ionpu_node_info *dst,
		      enum bias_carrier carry)
{
	hsize_t wd[4] = { c->out_channels, c->in_channels / c->groups,
			  c->kernel_h, c->kernel_w };
	hsize_t nb = c->out_channels;
	int64_t stride[2] = { c->stride_h, c->stride_w };
	int64_t pad[2] = { c->pad_h, c->pad_w };
	int64_t dil[2] = { c->dilation_h, c->dilation_w };
	int64_t groups = c->groups, in_shape[2] = { c->in_height, c->in_width };
	double *bias = calloc(c->out_channels, sizeof(*bias));
	hid_t g;

	g = bias ? node_group(W, name, "Conv2d") : -1;
	if (g < 0) {
		free(bias);
		write_fail(W, -ENOMEM, "out of memory");
		return -1;
	}
	for (uint32_t o = 0; carry == BIAS_CARRIED && o < c->out_channels; o++)
		bias[o] =
			dst->params
				.bias[(size_t)o * c->out_height * c->out_width];
	write_doubles(W, g, "weight", c->weight, 4, wd);
	write_doubles(W, g, "bias", bias, 1, &nb);
	write_ints(W, g, "stride", stride, 2);
	write_ints(W, g, "padding", pad, 2);
	write_ints(W, g, "dilation", dil, 2);
	write_ints(W, g, "groups", &groups, 0);
	write_ints(W, g, "input_shape", in_shape, 2);
	free(bias);
	H5Gclose(g);
	return 0;
}

/*
 * Projection @k as an Affine or Linear node @name; -1 with W->err set on
 * failure.
 */
static int write_matrix(struct nir_writer *W, const char *name, uint32_t k,
			const struct ionpu_node_info *src,
			const struct ionpu_node_info *dst,
			enum bias_carrier carry)
{
	hsize_t wd[2] = { dst->size, src->size };
	double *m = malloc((size_t)dst->size * src->size * sizeof(*m));
	hid_t g;

	g = m ? node_group(W, name,
			   carry == BIAS_CARRIED ? "Affine" : "Linear") :
		-1;
	if (g < 0) {
		free(m);
		write_fail(W, -ENOMEM, "out of memory");
		return -1;
	}
	ionpu_network_projection_matrix(W->net, k, m);
	write_doubles(W, g, "weight", m, 2, wd);
	if (carry == BIAS_CARRIED)
		write_doubles(W, g, "bias", dst->params.bias, 1, &wd[0]);
	free(m);
	H5Gclose(g);
	return 0;
}

static void write_projection(struct nir_writer *W, uint32_t k,
			     enum bias_carrier carry)
{
	struct ionpu_projection_info p;
	struct ionpu_node_info src, dst;
	const char *name, *from;
	char base[256];
	hid_t g;
	int err;

	ionpu_network_projection(W->net, k, &p);
	ionpu_network_node(W->net, p.src, &src);
	ionpu_network_node(W->net, p.dst, &dst);
	snprintf(base, sizeof(base), "%s_to_%s", src.name, dst.name);
	from = src.name;
	if (p.delay) {
		char dbase[272];
		hsize_t n = src.size;

		snprintf(dbase, sizeof(dbase), "%s_delay", base);
		name = make_name(W, dbase);
		g = name ? node_group(W, name, "Delay") : -1;
		if (g < 0)
			return;
		write_doubles(W, g, "delay", p.delay, 1, &n);
		H5Gclose(g);
		add_edge(W, from, name);
		from = name;
	}
	name = make_name(W, base);
	if (!name)
		return;
	if (p.kind == IONPU_PROJ_CONV)
		err = write_conv(W, name, &p.conv, &dst, carry);
	else
		err = write_matrix(W, name, k, &src, &dst, carry);
	if (err)
		return;
	add_edge(W, from, name);
	add_edge(W, name, dst.name);
}

static void write_graph(struct nir_writer *W)
{
	size_t n_nodes = ionpu_network_node_count(W->net);
	size_t n_projs = ionpu_network_projection_count(W->net);
	long *carrier = calloc(n_nodes ? n_nodes : 1, sizeof(*carrier));
	struct ionpu_node_info n;

	if (!carrier) {
		write_fail(W, -ENOMEM, "out of memory");
		return;
	}
	for (uint32_t i = 0; i < n_nodes && !W->err; i++) {
		ionpu_network_node(W->net, i, &n);
		carrier[i] = -2;
		if (n.kind == IONPU_NODE_INPUT) {
			write_input(W, &n);
		} else {
			write_population(W, &n);
			carrier[i] = bias_carrier(W, i, &n);
		}
	}
	for (uint32_t k = 0; k < n_projs && !W->err; k++) {
		struct ionpu_projection_info p;

		ionpu_network_projection(W->net, k, &p);
		write_projection(W, k,
				 carrier[p.dst] == (long)k ? BIAS_CARRIED :
							     BIAS_ELSEWHERE);
	}
	for (uint32_t i = 0; i < n_nodes && !W->err; i++) {
		char base[256];
		const char *name;
		int64_t shape;
		hid_t g;

		ionpu_network_node(W->net, i, &n);
		if (!n.output)
			continue;
		snprintf(base, sizeof(base), "%s_output", n.name);
		name = make_name(W, base);
		g = name ? node_group(W, name, "Output") : -1;
		if (g < 0)
			break;
		shape = n.size;
		write_ints(W, g, "shape", &shape, 1);
		H5Gclose(g);
		add_edge(W, n.name, name);
	}
	free(carrier);
}

static int save_file(struct nir_writer *W, hid_t file)
{
	const char *version = NIR_VERSION, *graph_type = "NIRGraph";
	hid_t root =
		H5Gcreate2(file, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	hid_t cpl;

	write_strings(W, file, "version", &version, 0, NULL);
	if (root < 0)
		return write_fail(W, -EIO, "cannot create /node");
	write_strings(W, root, "type", &graph_type, 0, NULL);
	/*
	 * Nodes are written in the network's order, and the group keeps that
	 * order: the reader makes nodes and projections in it, so that the
	 * network read back is numbered as this one.
	 */
	cpl = H5Pcreate(H5P_GROUP_CREATE);
	if (cpl < 0 ||
	    H5Pset_link_creation_order(cpl, H5P_CRT_ORDER_TRACKED |
						    H5P_CRT_ORDER_INDEXED) < 0)
		W->nodes = -1;
	else
		W->nodes = H5Gcreate2(root, "nodes", H5P_DEFAULT, cpl,
				      H5P_DEFAULT);
	if (cpl >= 0)
		H5Pclose(cpl);
	if (W->nodes < 0) {
		write_fail(W, -EIO, "cannot create /node/nodes");
	} else {
		write_graph(W);
		H5Gclose(W->nodes);
	}
	if (!W->err && W->n_edges) {
		hsize_t dims[2] = { W->n_edges, 2 };

		write_strings(W, root, "edges", (const char **)W->edges, 2,
			      dims);
	}
	H5Gclose(root);
	return W->err;
}

IONPU_API int ionpu_nir_save(const struct ionpu_network *net, const char *path)
{
	struct nir_writer W = { .net = net, .path = path };
	H5E_auto2_t old_fn;
	void *old_data;
	hid_t file;
	int err;

	if (!net || !path)
		return ionpu_error(-EINVAL, "ionpu_nir_save: NULL argument");
	ionpu_h5_lock();
	H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	if (file < 0) {
		err = ionpu_error(-EIO, "%s: cannot create the file", path);
		goto out;
	}
	err = save_file(&W, file);
	/*
	 * Closing writes what is buffered: it can fail where the writes did
	 * not.
	 */
	if (H5Fclose(file) < 0 && !err)
		err = ionpu_error(-EIO, "%s: cannot finish writing", path);
out:
	H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
	ionpu_h5_unlock();
	for (size_t i = 0; i < W.n_names; i++)
		free(W.names[i]);
	free(W.names);
	free(W.edges);
	return err;
}
