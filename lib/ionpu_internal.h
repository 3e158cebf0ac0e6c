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

#include "ionpu_fabric.h"

#define IONPU_SYSFS_ROOT "/sys"
#define IONPU_DEV_ROOT "/dev"
/* Name of the driver's class, its devices and its nodes. */
#define IONPU_NAME "ionpu"

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

/*
 * A struct of @size bytes that grows by versions (its first member says its
 * size): at least the @known bytes of the first version, and whatever a later
 * version added zero.  0, or -EINVAL with a message naming @what.
 */
int ionpu_check_size(const void *s, size_t size, size_t known,
		     const char *what);

/* Strict decimal: digits only, no sign, no blanks, at most @max. */
bool ionpu_parse_decimal(const char *s, uint64_t max, uint64_t *out);

/*
 * ionpu_open() with the places where sysfs and the device nodes live made
 * explicit, so tests can point it at a fake tree.
 */
int ionpu_open_at(const char *sysfs_root, const char *dev_root,
		  const char *what, struct ionpu_dev **out);

/* ionpu_ioctl() on the card's node: 0 or -errno, no message. */
int ionpu_dev_ioctl(struct ionpu_dev *dev, unsigned long request, void *arg);

/* "LIF", "CubaLIF", ...: NIR's name for a neuron model. */
const char *ionpu_neuron_model_name(enum ionpu_neuron_model model);

/*
 * A population's bias array, which the NIR reader adds Affine and
 * convolution biases into; NULL if @id is not a population.
 */
double *ionpu_network_bias(struct ionpu_network *net, uint32_t id);

/* A deep copy of @net: the same nodes and projections, numbered alike. */
int ionpu_network_copy(const struct ionpu_network *net,
		       struct ionpu_network **out);

/*
 * Add a projection described as ionpu_network_projection() gives it, from
 * node @src to node @dst of @net (the numbers of @p's ends in another
 * network need not be theirs here).
 */
int ionpu_network_add_projection(struct ionpu_network *net,
				 const struct ionpu_projection_info *p,
				 uint32_t src, uint32_t dst);

/*
 * Replace dense projection @id's weights (dst size x src size, finite);
 * -EINVAL with a message otherwise.
 */
int ionpu_network_set_dense(struct ionpu_network *net, uint32_t id,
			    const double *weight);

/*
 * Check a convolution's geometry and compute its output size; @what names
 * it in the message.  0 or -EINVAL.
 */
int ionpu_conv_geometry(struct ionpu_conv *conv, const char *what);

/* Number of weights of a convolution. */
size_t ionpu_conv_weight_count(const struct ionpu_conv *conv);

/* Called once per non-zero synapse: source neuron, target neuron, weight. */
typedef void (*ionpu_synapse_fn)(void *ctx, uint32_t pre, uint32_t post,
				 double w);

/* Every non-zero synapse of an unrolled convolution. */
void ionpu_conv_for_each(const struct ionpu_conv *conv, ionpu_synapse_fn fn,
			 void *ctx);

/* Every non-zero synapse of a projection between nodes of the given sizes. */
void ionpu_projection_for_each(const struct ionpu_projection_info *proj,
			       uint32_t src_size, uint32_t dst_size,
			       ionpu_synapse_fn fn, void *ctx);

/*
 * A compiled plan, for the code that programs the card and runs it.
 * Conductances are levels: G = g_min_us + level * (g_max_us - g_min_us) /
 * (g_levels - 1); a cell's weight is (G+ - G-) / scale_us_per_unit.
 */
struct ionpu_plan_cell {
	uint32_t row;
	uint32_t column;
	double weight; /* the weight asked for */
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
	/*
	 * The tile whose neurons this one's columns add into; itself if none.
	 */
	uint32_t head;
	/*
	 * It holds one learned population alone, every (row, column) a cell;
	 * learn_max is the |weight| its scale maps onto the conductance range.
	 */
	bool learned;
	double learn_max;
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
	/* What it was compiled from (lib/ionpu_plan_id.c). */
	uint64_t *node_hash; /* n_nodes */
	uint64_t *proj_hash; /* n_projs */
	size_t n_projs;
	uint64_t id;
	struct ionpu_plan_tile *tiles;
	uint32_t n_tiles;
	struct ionpu_plan_route *routes; /* sorted by node, neuron */
	size_t n_routes;
	struct ionpu_plan_output *outputs; /* in node order */
	size_t n_outputs;
	struct ionpu_plan_stats stats;
};

/*
 * Hash what @plan is compiled from -- @net, plan->card (set already) and
 * @opts -- into its node and projection hashes and its id.  0 or -ENOMEM.
 */
int ionpu_plan_fingerprint(struct ionpu_plan *plan,
			   const struct ionpu_network *net,
			   const struct ionpu_compile_opts *opts);

/*
 * 0 if @net is the network @plan was compiled from; else -EINVAL (other
 * nodes) or -ESTALE (a node or projection changed), with a message naming
 * the node or projection.
 */
int ionpu_plan_check_network(const struct ionpu_plan *plan,
			     const struct ionpu_network *net);

/*
 * Card image (lib/ionpu_image.c): everything a plan of a network puts on a
 * card, in the card's own terms, so the host reference and the card path
 * apply the same thing.  Tile numbers are the plan's (virtual) ones.
 */

/*
 * A crossbar cell and the levels of its two devices (level k: G_MIN + k
 * G_STEP).
 */
struct ionpu_image_cell {
	uint16_t row;
	uint16_t column;
	uint16_t level[2]; /* [IONPU_FAB_GPLUS], [IONPU_FAB_GMINUS] */
};

/* The route of one neuron: targets[0 .. n_targets) of the image's pool. */
struct ionpu_image_route {
	uint16_t neuron;
	bool to_host;
	uint32_t n_targets;
	const struct ionpu_fab_target *targets;
};

/* Neuron @column of tile @tile. */
struct ionpu_image_site {
	uint32_t tile;
	uint32_t column;
};

struct ionpu_image_tile {
	uint32_t head;			  /* chain head; itself if none */
	struct ionpu_fab_tile_config cfg; /* IDEAL; ionpu_image_physical() */
	/* Every column's neuron; the unused ones keep the defaults. */
	struct ionpu_fab_neuron neurons[IONPU_FAB_NEURONS];
	uint32_t rows_used;    /* rows 0 .. rows_used - 1 get input */
	uint32_t columns_used; /* its head's neurons 0 .. columns_used - 1 */
	const struct ionpu_image_cell *cells; /* the plan's (some may be 0) */
	size_t n_cells;
	double weight_per_us; /* network weight per uS of G+ - G- */
	struct ionpu_image_route
		*routes; /* neurons with targets or to the host */
	size_t n_routes;
};

/*
 * A learned population (ionpu_compile_with()), alone on plan tile @tile:
 * neuron k on column first_column + k, source neuron i of its one dense
 * projection @proj on row row_of[i].  @busy while a learning session is
 * on it.
 */
struct ionpu_image_learned {
	char *name;
	uint32_t node;
	uint32_t tile;
	uint32_t first_column;
	uint32_t neurons;
	uint32_t proj;
	uint32_t src_size;
	uint16_t *row_of;
	bool busy;
};

struct ionpu_image {
	uint32_t n_tiles;
	struct ionpu_image_tile *tiles;
	struct ionpu_image_learned *learned;
	size_t n_learned;
	/* Input channel c drives in_targets[in_first[c] .. in_first[c + 1]). */
	size_t n_in;
	size_t *in_first;
	struct ionpu_fab_target *in_targets;
	/*
	 * Output j is neuron outputs[j]; out_index is its inverse, -1
	 * elsewhere.
	 */
	size_t n_out;
	struct ionpu_image_site *outputs;
	int32_t *out_index; /* n_tiles x IONPU_FAB_NEURONS */
	/* Threshold neurons: v is zeroed before every step (host only). */
	struct ionpu_image_site *stateless;
	size_t n_stateless;
	/* Storage the pointers above point into. */
	struct ionpu_image_cell *cell_pool;
	struct ionpu_fab_target *target_pool;
};

/*
 * Translate a plan of @net into an image.  -EINVAL for a plan that is not
 * of @net, -EOPNOTSUPP for one the card cannot run, -ERANGE for a parameter
 * outside float, -ENOMEM; the message says which.
 */
int ionpu_image_build(const struct ionpu_network *net,
		      const struct ionpu_plan *plan, struct ionpu_image **out);
void ionpu_image_free(struct ionpu_image *img);
/*
 * Turn @img's ideal tiles and neurons into physical ones that fire at about
 * the ideal rate (the mapping and its limits: ionpu_image.c).  0 or -ERANGE.
 */
int ionpu_image_physical(struct ionpu_image *img);

/* Conductance of level @level, uS, as the card computes it. */
float ionpu_image_level_us(uint32_t level);

/*
 * Rasters as timed input events (lib/ionpu_raster.c), the same for the
 * host reference and the card.  Input value v of channel c in step t
 * becomes one event per target of c, at step t + delay; the events of a
 * run come in step order and, within a step, in the order they arose
 * (earlier steps first, then channel and target order).  Events past the
 * run's last step stay in the feed for the next run (state kept).
 */
struct ionpu_timed_input {
	uint32_t step; /* from the run's first step */
	float value;
	uint16_t tile; /* the plan's tile */
	uint16_t row;
};

struct ionpu_feed {
	struct ionpu_timed_input *pending; /* steps from the next run's first */
	size_t n_pending;
};

/*
 * An input raster of @steps x @n_in values is one the card takes: its size
 * does not overflow and every value is within +-IONPU_INPUT_MAX (no NaN).
 * 0, or -EOVERFLOW / -EINVAL with a message naming the step and channel.
 */
int ionpu_raster_check(const float *in, size_t steps, size_t n_in);

/*
 * The events of a run of @steps steps of raster @in (steps x img->n_in):
 * *@events (malloc'ed, *@n of them; NULL when none).  -EINVAL for a value
 * that is not finite, -EOVERFLOW, -ENOMEM; the feed is unchanged then.
 */
int ionpu_feed_raster(const struct ionpu_image *img, struct ionpu_feed *feed,
		      const float *in, size_t steps,
		      struct ionpu_timed_input **events, size_t *n);
/* Drop the pending events: the next run starts afresh. */
void ionpu_feed_clear(struct ionpu_feed *feed);

/*
 * A network loaded on a card (lib/ionpu_load.c), for the code that runs it
 * (lib/ionpu_run.c, lib/ionpu_uring.c).
 */
struct ionpu_loaded {
	int fd; /* its own open file: the tiles are leased to it */
	struct ionpu_image *img;
	uint32_t n_tiles; /* leased: at least one, even for a plan of none */
	uint32_t card_tile[IONPU_FAB_MAX_TILES]; /* plan tile -> card tile */
	int32_t plan_tile[IONPU_FAB_MAX_TILES]; /* card tile -> plan tile, -1 */
	uint64_t leased;			/* card tiles, bit mask */
	struct ionpu_feed feed;
	struct ionpu_program_stats total;
	struct ionpu_program_stats *tile_stats; /* per plan tile */
	struct ionpu_cell_note *notes;
	size_t n_notes;
	/* For ionpu_loaded_read_weights(): the plan's routes and segments. */
	struct ionpu_plan_route *routes;
	size_t n_routes;
	struct ionpu_plan_segment **segments; /* per plan tile */
	size_t *n_segments;
	/* What a reset of the card clears, to set up again (restore). */
	uint32_t mode;	 /* IONPU_MODE_* the tiles run in */
	uint64_t resets; /* the card's resets when they were configured */
};

/*
 * Whether the failure @err of a run of @n comes from a reset of the card
 * since its tiles were configured (-ESTALE, or -EIO and the card's reset
 * count moved on).
 */
bool ionpu_loaded_was_reset(struct ionpu_loaded *n, int err);
/*
 * After such a reset: acknowledge it and configure @n's tiles again (the
 * cells are non-volatile and kept).  0 or -errno with a message.
 */
int ionpu_loaded_restore(struct ionpu_loaded *n);

/* The host reference's fabric and image, for the learning code. */
struct ionpu_fabric *ionpu_host_fabric(struct ionpu_host *h);
struct ionpu_image *ionpu_host_image(struct ionpu_host *h);

/* ioctl() that retries on EINTR: 0 or -errno. */
int ionpu_ioctl(int fd, unsigned long request, void *arg);
/* The driver's counters as the library gives them. */
struct ionpu_counters;
void ionpu_activity_from(const struct ionpu_counters *c,
			 struct ionpu_activity *out);

/* A new read-write open file of @dev's node, or -errno with a message. */
int ionpu_dev_reopen(const struct ionpu_dev *dev);

/* Bits of a float as the card's f32 fields hold them, and back. */
uint32_t ionpu_f32_bits(float v);
float ionpu_f32_value(uint32_t bits);

/*
 * Write-verify statistics (lib/ionpu_load.c), for its unit tests: add one
 * device's |achieved - target| or one cell's weight error, then finish the
 * means.
 */
void ionpu_stats_device(struct ionpu_program_stats *s, double error_us,
			uint32_t pulses);
void ionpu_stats_cell(struct ionpu_program_stats *s, double weight_error);
void ionpu_stats_finish(struct ionpu_program_stats *s);
/* Add @b's counts into @a, means weighted by them (both finished). */
void ionpu_stats_merge(struct ionpu_program_stats *a,
		       const struct ionpu_program_stats *b);

/*
 * When device @stuck (IONPU_FAB_GPLUS/GMINUS) of a pair sits at @g_stuck
 * uS, the target of its partner that keeps G+ - G- = @diff_us.  When that
 * lies outside the card's conductance range, false, and *@partner_us is the
 * end of the range that comes closest.
 */
bool ionpu_remap_partner(int stuck, float g_stuck, float diff_us,
			 float *partner_us);

#endif /* IONPU_INTERNAL_H */
