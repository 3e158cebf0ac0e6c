// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seed corpora for the fuzz targets, made at build time so that none is
 * committed: NIR graphs from the library's own writer, .npy files from its
 * writer and by hand for the element types and header versions it only
 * reads, CSV rasters, and command sequences that a driver would send.
 *
 * Usage: seeds DIR; writes DIR/<target>/<name> for each target.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ionpu/ionpu.h>

#include "ionpu_fabric.h"
#include "ionpu_queue.h"
#include "cmd_record.h"

#define DT		1e-3
#define PATH_SIZE	4096

static void die(const char *what)
{
	fprintf(stderr, "seeds: %s: %s\n", what, ionpu_last_error());
	exit(1);
}

static void check(int ret, const char *what)
{
	if (ret)
		die(what);
}

/* @dir/@name into @path, which has PATH_SIZE bytes. */
static void join(char *path, const char *dir, const char *name)
{
	if (snprintf(path, PATH_SIZE, "%s/%s", dir, name) >= PATH_SIZE) {
		fprintf(stderr, "seeds: %s/%s: path too long\n", dir, name);
		exit(1);
	}
}

static void make_dir(const char *dir, const char *sub, char *path)
{
	join(path, dir, sub);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
}

static FILE *create(const char *dir, const char *name)
{
	char path[PATH_SIZE];
	FILE *f;

	join(path, dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

static void finish(FILE *f)
{
	if (fclose(f)) {
		perror("seeds: write");
		exit(1);
	}
}

/* --- NIR ------------------------------------------------------------------ */

static void save(struct ionpu_network *net, const char *dir, const char *name)
{
	char path[PATH_SIZE];

	join(path, dir, name);
	check(ionpu_nir_save(net, path), path);
	ionpu_network_free(net);
}

/* in(3) -> LIF(2) dense with delays -> LI(2) readout. */
static void nir_lif_li(const char *dir)
{
	const double tau[2] = { 2e-2, 3e-2 }, r[2] = { 1, 1 }, leak[2] = { 0, 0.1 };
	const double th[2] = { 1, 1 }, w1[6] = { 1, -0.5, 0.25, 2, 0, 1 };
	const double w2[4] = { 1, 0, 0, 1 }, delay[3] = { 0, DT, 2 * DT };
	const struct ionpu_neuron_params lif = {
		.tau = tau, .r = r, .v_leak = leak, .v_threshold = th,
	};
	const struct ionpu_neuron_params li = { .tau = tau, .r = r, .v_leak = leak };
	struct ionpu_network *net;
	uint32_t in, a, b;

	check(ionpu_network_create(&net), "network");
	check(ionpu_network_add_input(net, "in", 3, &in), "input");
	check(ionpu_network_add_population(net, "lif", IONPU_NEURON_LIF, 2, &lif, &a), "lif");
	check(ionpu_network_add_population(net, "li", IONPU_NEURON_LI, 2, &li, &b), "li");
	check(ionpu_network_add_dense(net, in, a, w1, delay, NULL), "dense");
	check(ionpu_network_add_dense(net, a, b, w2, NULL, NULL), "dense");
	check(ionpu_network_mark_output(net, b), "output");
	save(net, dir, "lif_li.nir");
}

/* in(4) -> CubaLIF(2) sparse, recurrent -> Threshold(1). */
static void nir_cuba_sparse(const char *dir)
{
	const double ts[2] = { 5e-3, 5e-3 }, tm[2] = { 1e-2, 2e-2 }, r[2] = { 1, 2 };
	const double leak[2] = { 0, 0 }, th[2] = { 0.5, 1 }, wrec[4] = { 0, 1, 1, 0 };
	const double th1 = 0.5, w3[2] = { 1, 1 }, w[3] = { 0.5, -1, 3 };
	const uint32_t pre[3] = { 0, 2, 3 }, post[3] = { 0, 1, 1 };
	const struct ionpu_neuron_params cuba = {
		.tau_syn = ts, .tau_mem = tm, .r = r, .v_leak = leak, .v_threshold = th,
	};
	const struct ionpu_neuron_params thr = { .v_threshold = &th1 };
	struct ionpu_network *net;
	uint32_t in, a, b;

	check(ionpu_network_create(&net), "network");
	check(ionpu_network_add_input(net, "in", 4, &in), "input");
	check(ionpu_network_add_population(net, "cuba", IONPU_NEURON_CUBA_LIF, 2, &cuba, &a),
	      "cuba");
	check(ionpu_network_add_population(net, "th", IONPU_NEURON_THRESHOLD, 1, &thr, &b), "th");
	check(ionpu_network_add_sparse(net, in, a, 3, pre, post, w, NULL, NULL), "sparse");
	check(ionpu_network_add_dense(net, a, a, wrec, NULL, NULL), "recurrent");
	check(ionpu_network_add_dense(net, a, b, w3, NULL, NULL), "dense");
	check(ionpu_network_mark_output(net, b), "output");
	save(net, dir, "cuba_sparse.nir");
}

/* in(1x4x4) -> conv 3x3, 2 channels, padding 1 -> IF(2x4x4). */
static void nir_conv(const char *dir)
{
	double weight[18], r[32], th[32];
	struct ionpu_conv conv = {
		.in_channels = 1, .in_height = 4, .in_width = 4, .out_channels = 2,
		.kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1,
		.pad_h = 1, .pad_w = 1, .dilation_h = 1, .dilation_w = 1, .groups = 1,
		.weight = weight,
	};
	const struct ionpu_neuron_params ifp = { .r = r, .v_threshold = th };
	struct ionpu_network *net;
	uint32_t in, a;

	for (unsigned int i = 0; i < 18; i++)
		weight[i] = (double)i / 9 - 1;
	for (unsigned int i = 0; i < 32; i++) {
		r[i] = 1 / DT;
		th[i] = 1;
	}
	check(ionpu_network_create(&net), "network");
	check(ionpu_network_add_input(net, "in", 16, &in), "input");
	check(ionpu_network_add_population(net, "if", IONPU_NEURON_IF, 32, &ifp, &a), "if");
	check(ionpu_network_add_conv(net, in, a, &conv, NULL, NULL), "conv");
	check(ionpu_network_mark_output(net, a), "output");
	save(net, dir, "conv.nir");
}

/* --- rasters ---------------------------------------------------------------- */

/* A .npy file the library does not write: its own element type or version. */
static void npy_by_hand(const char *dir, const char *name, int major, const char *descr,
			const void *data, size_t bytes)
{
	char header[128];
	size_t len = (size_t)snprintf(header, sizeof(header),
				      "{'descr': '%s', 'fortran_order': False, 'shape': (2, 2), }",
				      descr);
	size_t prefix = major == 1 ? 10 : 12;
	size_t total = (prefix + len + 1 + 15) / 16 * 16;
	size_t hlen = total - prefix;
	FILE *f = create(dir, name);

	fwrite("\x93NUMPY", 1, 6, f);
	fputc(major, f);
	fputc(0, f);
	fputc((int)(hlen & 0xff), f);
	fputc((int)(hlen >> 8), f);
	if (major != 1) {
		fputc(0, f);
		fputc(0, f);
	}
	fprintf(f, "%-*s\n", (int)(hlen - 1), header);
	fwrite(data, 1, bytes, f);
	finish(f);
}

static void npy_seeds(const char *dir)
{
	const float f32[6] = { 0, 1, 0.5f, -2, 1e-3f, 3 };
	const uint8_t u8[4] = { 0, 1, 1, 0 };
	const double f64[4] = { 0, 1, -1.5, 2 };
	const int64_t i64[4] = { 0, 1, -7, 1 << 20 };
	const int32_t i32[4] = { 1, 0, 0, 1 };
	char path[PATH_SIZE];

	join(path, dir, "f32.npy");
	check(ionpu_npy_write(path, IONPU_NPY_F32, f32, 3, 2), path);
	join(path, dir, "u8.npy");
	check(ionpu_npy_write(path, IONPU_NPY_U8, u8, 2, 2), path);
	npy_by_hand(dir, "f64.npy", 1, "<f8", f64, sizeof(f64));
	npy_by_hand(dir, "i64_v2.npy", 2, "<i8", i64, sizeof(i64));
	npy_by_hand(dir, "i32.npy", 1, "<i4", i32, sizeof(i32));
	npy_by_hand(dir, "bool.npy", 1, "|b1", u8, sizeof(u8));
}

static void csv_seeds(const char *dir)
{
	static const char *const text[][2] = {
		{ "spikes.csv", "0,1,0\n1,0,0\n0,0,1\n" },
		{ "graded.csv", " 0.5 , -1e-3,2.5E2\r\n\r\n1,0,-0\r\n" },
	};

	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		FILE *f = create(dir, text[i][0]);

		fputs(text[i][1], f);
		finish(f);
	}
}

/* --- commands --------------------------------------------------------------- */

/*
 * One record: @op on tile 0 with parameters @p, reading @in_len bytes of
 * @payload from the input window and writing up to @out_len bytes.
 */
static void cmd(FILE *f, uint8_t op, uint16_t cid, const uint32_t p[IONPU_SQE_PARAMS],
		const void *payload, uint16_t in_len, uint32_t out_len)
{
	struct ionpu_hw_sqe sqe = {
		.opcode = op,
		.cid = ionpu_cpu_to_le16(cid),
		/* Buffers at the start of their windows (address 1, see cmd_record.h). */
		.in_addr = ionpu_cpu_to_le64(in_len ? 1 : 0),
		.out_addr = ionpu_cpu_to_le64(out_len ? 1 : 0),
		.in_len = ionpu_cpu_to_le32(in_len),
		.out_len = ionpu_cpu_to_le32(out_len),
	};
	uint8_t len[2];

	for (unsigned int i = 0; p && i < IONPU_SQE_PARAMS; i++)
		sqe.param[i] = ionpu_cpu_to_le32(p[i]);
	ionpu_put_le16(len, in_len);
	fwrite(&sqe, 1, sizeof(sqe), f);
	fwrite(len, 1, sizeof(len), f);
	fwrite(payload, 1, in_len, f);
}

/* Neuron 0 of tile 0 fires on every input and feeds itself and the host. */
static void spiker(FILE *f)
{
	const uint32_t conf[IONPU_SQE_PARAMS] = {
		IONPU_FAB_IDEAL, IONPU_FAB_IF, ionpu_f32_to_bits(1.0f),
		ionpu_f32_to_bits(1.0f / IONPU_FAB_G_STEP),
		0, 0x1,
	};
	const uint32_t one_route[IONPU_SQE_PARAMS] = { 1 };
	const struct ionpu_hw_neuron neuron = {
		.tau = ionpu_f32_to_le32(1e-3f), .tau_syn = ionpu_f32_to_le32(1e-3f),
		.r = ionpu_f32_to_le32(1), .v_threshold = ionpu_f32_to_le32(1),
		.w_in = ionpu_f32_to_le32(1),
	};
	const struct ionpu_hw_prog_entry cell = {
		.budget = ionpu_cpu_to_le16(1), .target = ionpu_f32_to_le32(IONPU_FAB_G_MAX),
	};
	/* To the host and back to its own row 0. */
	const struct {
		struct ionpu_hw_route_header h;
		struct ionpu_hw_route_target t;
	} route = {
		.h = { .flags = IONPU_ROUTE_FLAG_TO_HOST, .targets = ionpu_cpu_to_le16(1) },
	};

	cmd(f, IONPU_OP_CONFIGURE_NEURONS, 1, conf, &neuron, sizeof(neuron), 0);
	cmd(f, IONPU_OP_PROGRAM_CELLS, 2, NULL, &cell, sizeof(cell),
	    sizeof(struct ionpu_hw_prog_result));
	cmd(f, IONPU_OP_LOAD_ROUTES, 3, one_route, &route, sizeof(route), 0);
}

static void cmd_seeds(const char *dir)
{
	const uint32_t run3[IONPU_SQE_PARAMS] = { 3 };
	const uint32_t cells[IONPU_SQE_PARAMS] = { 0, 2, 0, 2 };
	const uint32_t calib[IONPU_SQE_PARAMS] = { 64 };
	const struct ionpu_hw_spike_entry spike = { .value = ionpu_f32_to_le32(1.0f) };
	/* A zero count: the second entry is refused. */
	const struct ionpu_hw_pulse_entry pulses[2] = {
		{ .column = ionpu_cpu_to_le16(1) },
	};
	const uint32_t teach1[IONPU_SQE_PARAMS] = { 1 };
	const struct ionpu_hw_learn learn = {
		.flags = ionpu_cpu_to_le32(IONPU_LEARN_FLAG_ENABLE),
		.amp_pot = ionpu_f32_to_le32(1.0f),
		.amp_dep = ionpu_f32_to_le32(0.5f),
		.pre_ref = ionpu_f32_to_le32(2.0f),
		.post_target = ionpu_cpu_to_le32(1),
		.max_pulses = ionpu_cpu_to_le32(16),
	};
	uint8_t record[64] = { 0 };
	FILE *f;

	f = create(dir, "identify");
	cmd(f, IONPU_OP_IDENTIFY, 1, NULL, NULL, 0, 4096);
	cmd(f, IONPU_OP_READ_COUNTERS, 2, NULL, NULL, 0, 256);
	finish(f);

	f = create(dir, "spiker_run");
	spiker(f);
	cmd(f, IONPU_OP_INPUT_SPIKES, 4, NULL, &spike, sizeof(spike), 0);
	cmd(f, IONPU_OP_RUN, 5, run3, NULL, 0, 0);
	cmd(f, IONPU_OP_READ_CELLS, 6, cells, NULL, 0, 4 * 8);
	finish(f);

	f = create(dir, "run_stop_reset");
	cmd(f, IONPU_OP_RUN, 1, NULL, NULL, 0, 0);
	cmd(f, IONPU_OP_STOP, 2, NULL, NULL, 0, 0);
	cmd(f, IONPU_OP_RESET_STATE, 3, NULL, NULL, 0, 0);
	finish(f);

	/* The spiker fires, neuron 1 is taught: one pulse each (rev 1.4). */
	f = create(dir, "spiker_learn");
	spiker(f);
	cmd(f, IONPU_OP_LEARN, 4, NULL, &learn, sizeof(learn), 0);
	cmd(f, IONPU_OP_INPUT_SPIKES, 5, NULL, &spike, sizeof(spike), 0);
	cmd(f, IONPU_OP_RUN, 6, run3, NULL, 0, 0);
	cmd(f, IONPU_OP_TEACH, 7, teach1, NULL, 0, 0);
	cmd(f, IONPU_OP_READ_COUNTERS, 8, NULL, NULL, 0, 256);
	finish(f);

	f = create(dir, "pulses_calib");
	cmd(f, IONPU_OP_RAW_PULSES, 1, NULL, pulses, sizeof(pulses),
	    2 * sizeof(struct ionpu_hw_pulse_result));
	cmd(f, IONPU_OP_WRITE_CALIB, 2, calib, record, sizeof(record), 0);
	cmd(f, IONPU_OP_READ_CALIB, 3, NULL, NULL, 0, 4096);
	finish(f);
}

/*
 * lib_nir_graph's input is a list of choices (see there); these write the
 * choices for whole graphs, so that its mutations start from files that
 * load and reach the reader's later passes (shapes, convolutions, folding).
 * The indices are those of its tables.
 */
enum { N_INPUT, N_OUTPUT, N_LIF, N_LINEAR, N_CONV, N_SUB, N_IN2, N_LI };
enum { T_INPUT, T_OUTPUT, T_AFFINE, T_LINEAR, T_SCALE, T_LIF, T_CUBA, T_IF, T_LI,
       T_INTEGRATOR, T_THRESHOLD, T_FLATTEN, T_CONV1D, T_CONV2D, T_SUMPOOL, T_AVGPOOL,
       T_DELAY, T_GRAPH };
enum { P_SHAPE, P_WEIGHT, P_BIAS, P_SCALE, P_DELAY, P_TAU, P_R, P_V_LEAK, P_V_THRESHOLD,
       P_V_RESET, P_TAU_SYN, P_TAU_MEM, P_W_IN, P_THRESHOLD, P_STRIDE, P_PADDING,
       P_DILATION, P_GROUPS, P_INPUT_SHAPE, P_KERNEL_SIZE };
/* Value choices: special[] entries, or 17 then a byte b for b - 128. */
enum { V_0, V_1, V_M1, V_2, V_3, V_HALF, V_MS };

/*
 * One float64 parameter: every value the same choice, or the value choices
 * in @values (@nvalues bytes), e.g. for a shape.
 */
struct param {
	unsigned int index, rank, dims[4], value;
	const uint8_t *values;
	size_t nvalues;
};

struct choices {
	uint8_t b[2048];
	size_t n;
};

static void put(struct choices *c, unsigned int v)
{
	if (c->n == sizeof(c->b)) {
		fprintf(stderr, "seeds: graph choices too long\n");
		exit(1);
	}
	c->b[c->n++] = (uint8_t)v;
}

/* A node and its parameters, in the order of the parameter table. */
static void node(struct choices *c, unsigned int name, unsigned int type,
		 const struct param *p, size_t np)
{
	uint32_t present = 0;

	for (size_t i = 0; i < np; i++)
		present |= 1u << p[i].index;
	put(c, name);
	put(c, type);
	put(c, 1);		/* variable-length type string */
	put(c, present & 0xff);
	put(c, present >> 8 & 0xff);
	put(c, present >> 16 & 0xff);
	for (size_t i = 0; i < np; i++) {
		unsigned int n = 1;

		put(c, 0);	/* float64 */
		put(c, p[i].rank);
		for (unsigned int d = 0; d < p[i].rank; d++) {
			put(c, p[i].dims[d]);
			n *= p[i].dims[d];
		}
		for (unsigned int k = 0; k < n && !p[i].values; k++)
			put(c, p[i].value);
		for (size_t k = 0; k < p[i].nvalues; k++)
			put(c, p[i].values[k]);
	}
}

/* @n edges between nodes by creation order, as an E x 2 array. */
static void edges(struct choices *c, const unsigned int (*e)[2], unsigned int n)
{
	put(c, 1);
	put(c, n);
	for (unsigned int i = 0; i < n; i++) {
		put(c, e[i][0]);
		put(c, e[i][1]);
	}
	put(c, 1);
	put(c, 1);
}

static void save_choices(const char *dir, const char *name, const struct choices *c)
{
	FILE *f = create(dir, name);

	fwrite(c->b, 1, c->n, f);
	finish(f);
}

#define NP(a)	(sizeof(a) / sizeof((a)[0]))

static void graph_seeds(const char *dir)
{
	/* Shapes: (2), (1, 4, 4) and (1, 2, 2); 17, 132 is the value 4. */
	static const uint8_t dims144[] = { V_1, 17, 132, 17, 132 };
	static const uint8_t dims122[] = { V_1, V_2, V_2 };
	const struct param shape2[] = { { .index = P_SHAPE, .rank = 1, .dims = { 1 }, .value = V_2 } };
	const struct param shape144[] = { { .index = P_SHAPE, .rank = 1, .dims = { 3 }, .values = dims144, .nvalues = sizeof(dims144) } };
	const struct param shape122[] = { { .index = P_SHAPE, .rank = 1, .dims = { 3 }, .values = dims122, .nvalues = sizeof(dims122) } };
	/* in(2) -> linear -> lif -> out */
	const struct param lin[] = { { .index = P_WEIGHT, .rank = 2, .dims = { 2, 2 }, .value = V_HALF } };
	const struct param lif[] = {
		{ .index = P_TAU, .rank = 1, .dims = { 2 }, .value = V_MS }, { .index = P_R, .rank = 1, .dims = { 2 }, .value = V_1 },
		{ .index = P_V_LEAK, .rank = 1, .dims = { 2 }, .value = V_0 }, { .index = P_V_THRESHOLD, .rank = 1, .dims = { 2 }, .value = V_1 },
	};
	const unsigned int chain[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 } };
	/* in(1x4x4) -> conv 3x3 padding 1 -> IF(1x4x4) -> out */
	const struct param conv[] = {
		{ .index = P_WEIGHT, .rank = 4, .dims = { 1, 1, 3, 3 }, .value = V_HALF }, { .index = P_BIAS, .rank = 1, .dims = { 1 }, .value = V_0 },
		{ .index = P_STRIDE, .rank = 1, .dims = { 2 }, .value = V_1 }, { .index = P_PADDING, .rank = 1, .dims = { 2 }, .value = V_1 },
		{ .index = P_DILATION, .rank = 1, .dims = { 2 }, .value = V_1 }, { .index = P_GROUPS, .rank = 0, .dims = { 0 }, .value = V_1 },
		{ .index = P_INPUT_SHAPE, .rank = 1, .dims = { 2 }, .value = V_0 },
	};
	const struct param if144[] = {
		{ .index = P_R, .rank = 3, .dims = { 1, 4, 4 }, .value = V_1 }, { .index = P_V_THRESHOLD, .rank = 3, .dims = { 1, 4, 4 }, .value = V_1 },
	};
	/* in(1x4x4) -> sum pool 2x2 stride 2 -> IF(1x2x2) -> out */
	const struct param pool[] = {
		{ .index = P_STRIDE, .rank = 1, .dims = { 2 }, .value = V_2 }, { .index = P_PADDING, .rank = 1, .dims = { 2 }, .value = V_0 },
		{ .index = P_KERNEL_SIZE, .rank = 1, .dims = { 2 }, .value = V_2 },
	};
	const struct param if122[] = {
		{ .index = P_R, .rank = 3, .dims = { 1, 2, 2 }, .value = V_1 }, { .index = P_V_THRESHOLD, .rank = 3, .dims = { 1, 2, 2 }, .value = V_1 },
	};
	/* in(2) -> sub{ input -> linear -> lif -> output } -> out */
	const unsigned int via_sub[][2] = { { 0, 1 }, { 1, 2 } };
	struct choices c;

	c = (struct choices){ .n = 0 };
	put(&c, 1);		/* a NIRGraph root, */
	put(&c, 1);		/* its type a variable-length string, */
	put(&c, 3);		/* of 4 nodes */
	node(&c, N_INPUT, T_INPUT, shape2, NP(shape2));
	node(&c, N_LINEAR, T_LINEAR, lin, NP(lin));
	node(&c, N_LIF, T_LIF, lif, NP(lif));
	node(&c, N_OUTPUT, T_OUTPUT, shape2, NP(shape2));
	edges(&c, chain, NP(chain));
	save_choices(dir, "linear_lif", &c);

	c = (struct choices){ .n = 0 };
	put(&c, 1);
	put(&c, 1);
	put(&c, 3);
	node(&c, N_INPUT, T_INPUT, shape144, NP(shape144));
	node(&c, N_CONV, T_CONV2D, conv, NP(conv));
	node(&c, N_LIF, T_IF, if144, NP(if144));
	node(&c, N_OUTPUT, T_OUTPUT, shape144, NP(shape144));
	edges(&c, chain, NP(chain));
	save_choices(dir, "conv", &c);

	c = (struct choices){ .n = 0 };
	put(&c, 1);
	put(&c, 1);
	put(&c, 3);
	node(&c, N_INPUT, T_INPUT, shape144, NP(shape144));
	node(&c, N_CONV, T_SUMPOOL, pool, NP(pool));
	node(&c, N_LIF, T_IF, if122, NP(if122));
	node(&c, N_OUTPUT, T_OUTPUT, shape122, NP(shape122));
	edges(&c, chain, NP(chain));
	save_choices(dir, "sumpool", &c);

	c = (struct choices){ .n = 0 };
	put(&c, 1);
	put(&c, 1);
	put(&c, 2);
	node(&c, N_INPUT, T_INPUT, shape2, NP(shape2));
	put(&c, N_SUB);
	put(&c, T_GRAPH);
	put(&c, 1);
	put(&c, 3);
	node(&c, N_INPUT, T_INPUT, shape2, NP(shape2));
	node(&c, N_LINEAR, T_LINEAR, lin, NP(lin));
	node(&c, N_LIF, T_LIF, lif, NP(lif));
	node(&c, N_OUTPUT, T_OUTPUT, shape2, NP(shape2));
	edges(&c, chain, NP(chain));
	node(&c, N_OUTPUT, T_OUTPUT, shape2, NP(shape2));
	edges(&c, via_sub, NP(via_sub));
	save_choices(dir, "nested", &c);
}

int main(int argc, char **argv)
{
	char dir[PATH_SIZE];

	if (argc != 2) {
		fprintf(stderr, "usage: seeds DIR\n");
		return 2;
	}
	make_dir(argv[1], "lib_nir", dir);
	nir_lif_li(dir);
	nir_cuba_sparse(dir);
	nir_conv(dir);
	make_dir(argv[1], "lib_nir_graph", dir);
	graph_seeds(dir);
	make_dir(argv[1], "lib_npy", dir);
	npy_seeds(dir);
	make_dir(argv[1], "lib_csv", dir);
	csv_seeds(dir);
	make_dir(argv[1], "core_cmd", dir);
	cmd_seeds(dir);
	return 0;
}
