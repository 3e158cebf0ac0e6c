/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libionpu internals: shared by the library's sources and its unit tests,
 * never installed.
 */
#ifndef IONPU_INTERNAL_H
#define IONPU_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ionpu/ionpu.h>

#define IONPU_SYSFS_ROOT	"/sys"
#define IONPU_DEV_ROOT		"/dev"
/* Name of the driver's class, its devices and its nodes. */
#define IONPU_NAME		"ionpu"

/*
 * Record a failure for ionpu_last_error() and hand @err (a negative errno)
 * back, so a failing path ends in one statement:
 *	return ionpu_error(-ENOENT, "%s: no such card", what);
 */
int ionpu_error(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* As ionpu_error(), with ": <strerror(-err)>" appended. */
int ionpu_error_errno(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Strict decimal: digits only, no sign, no blanks, at most @max. */
bool ionpu_parse_decimal(const char *s, uint64_t max, uint64_t *out);

/*
 * ionpu_open() with the places where sysfs and the device nodes live made
 * explicit, so tests can point it at a fake tree.
 */
int ionpu_open_at(const char *sysfs_root, const char *dev_root,
		  const char *what, struct ionpu_dev **out);

/* "LIF", "CubaLIF", ...: NIR's name for a neuron model. */
const char *ionpu_neuron_model_name(enum ionpu_neuron_model model);

/*
 * A population's bias array, which the NIR reader adds Affine and
 * convolution biases into; NULL if @id is not a population.
 */
double *ionpu_network_bias(struct ionpu_network *net, uint32_t id);

/*
 * Check a convolution's geometry and compute its output size; @what names
 * it in the message.  0 or -EINVAL.
 */
int ionpu_conv_geometry(struct ionpu_conv *conv, const char *what);

/* Number of weights of a convolution. */
size_t ionpu_conv_weight_count(const struct ionpu_conv *conv);

/* Called once per non-zero synapse: source neuron, target neuron, weight. */
typedef void (*ionpu_synapse_fn)(void *ctx, uint32_t pre, uint32_t post, double w);

/* Every non-zero synapse of an unrolled convolution. */
void ionpu_conv_for_each(const struct ionpu_conv *conv, ionpu_synapse_fn fn, void *ctx);

/* Every non-zero synapse of a projection between nodes of the given sizes. */
void ionpu_projection_for_each(const struct ionpu_projection_info *proj, uint32_t src_size,
			       uint32_t dst_size, ionpu_synapse_fn fn, void *ctx);

/*
 * A compiled plan, for the code that programs the card and runs it.
 * Conductances are levels: G = g_min_us + level * (g_max_us - g_min_us) /
 * (g_levels - 1); a cell's weight is (G+ - G-) / scale_us_per_unit.
 */
struct ionpu_plan_cell {
	uint32_t row;
	uint32_t column;
	double weight;		/* the weight asked for */
	uint32_t g_pos_level;
	uint32_t g_neg_level;
};

/* Columns first_column.. of a tile hold neurons first.. of a population. */
struct ionpu_plan_segment {
	uint32_t node;
	uint32_t first;
	uint32_t count;
	uint32_t first_column;
};

struct ionpu_plan_tile {
	/* The tile whose neurons this one's columns add into; itself if none. */
	uint32_t head;
	uint32_t rows_used;
	uint32_t neurons_used;
	double scale_us_per_unit;
	struct ionpu_plan_cell *cells;
	size_t n_cells;
	struct ionpu_plan_segment *segments;
	size_t n_segments;
};

/* The router sends the spike of neuron @neuron of node @node to (tile, row). */
struct ionpu_plan_route {
	uint32_t node;
	uint32_t neuron;
	uint32_t tile;
	uint32_t row;
	uint32_t delay_steps;
};

/* The spikes of this neuron, on (tile, column), go to the host. */
struct ionpu_plan_output {
	uint32_t node;
	uint32_t neuron;
	uint32_t tile;
	uint32_t column;
};

struct ionpu_plan {
	struct ionpu_card_desc card;
	char **node_names;
	size_t n_nodes;
	struct ionpu_plan_tile *tiles;
	uint32_t n_tiles;
	struct ionpu_plan_route *routes;	/* sorted by node, neuron */
	size_t n_routes;
	struct ionpu_plan_output *outputs;	/* in node order */
	size_t n_outputs;
	struct ionpu_plan_stats stats;
};

#endif /* IONPU_INTERNAL_H */
