// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Loading a plan onto a card: lease tiles on a file of its own, configure
 * tiles, chains and neurons, load routes, program the weights with
 * write-verify and report how well that went; read the weights back.
 *
 * Everything comes from the plan's card image (lib/ionpu_image.c), the one
 * the host reference applies too; the plan's tiles are mapped onto the
 * leased card tiles in order.  The card's crossbars are non-volatile and
 * a lease does not clear them, so every cell of the used rows and columns
 * is programmed, zero weights included, and every neuron of a leased tile
 * gets its parameters and its route (most of them none).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/ionpu.h>

#include "ionpu_calib.h"
#include "ionpu_internal.h"

_Static_assert(IONPU_MODEL_LIF == IONPU_FAB_LIF &&
		       IONPU_MODEL_IF == IONPU_FAB_IF &&
		       IONPU_MODEL_LI == IONPU_FAB_LI &&
		       IONPU_MODEL_CUBALIF == IONPU_FAB_CUBA_LIF,
	       "the UAPI's neuron models are the card's");
_Static_assert(IONPU_DEVICE_GPLUS == IONPU_FAB_GPLUS &&
		       IONPU_DEVICE_GMINUS == IONPU_FAB_GMINUS,
	       "the UAPI's devices are the card's");
_Static_assert(IONPU_CELL_OK == IONPU_FAB_PROG_OK &&
		       IONPU_CELL_BUDGET == IONPU_FAB_PROG_BUDGET &&
		       IONPU_CELL_STUCK == IONPU_FAB_PROG_STUCK,
	       "the UAPI's cell outcomes are the card's");

#define DEFAULT_BUDGET 100
/*
 * Physical mode lifts both devices of a pair by up to this many levels
 * (G+ - G- stays): a real device's lower bound spreads 10 % around G_MIN
 * (docs/physics.md), so level 0 is out of reach for many.
 */
#define PHYSICAL_LIFT 4
/* Entries of one IONPU_IOC_PROGRAM. */
#define PROGRAM_MAX 65536

void ionpu_stats_device(struct ionpu_program_stats *s, double error_us,
			uint32_t pulses)
{
	s->devices++;
	s->pulses += pulses;
	s->mean_error_us += error_us;
	if (error_us > s->max_error_us)
		s->max_error_us = error_us;
}

void ionpu_stats_cell(struct ionpu_program_stats *s, double weight_error)
{
	s->cells++;
	s->mean_weight_error += weight_error;
	if (weight_error > s->max_weight_error)
		s->max_weight_error = weight_error;
}

/* Until here the means hold sums. */
void ionpu_stats_finish(struct ionpu_program_stats *s)
{
	if (s->devices)
		s->mean_error_us /= (double)s->devices;
	if (s->cells)
		s->mean_weight_error /= (double)s->cells;
}

void ionpu_stats_merge(struct ionpu_program_stats *a,
		       const struct ionpu_program_stats *b)
{
	uint64_t devices = a->devices + b->devices, cells = a->cells + b->cells;

	if (devices)
		a->mean_error_us = (a->mean_error_us * (double)a->devices +
				    b->mean_error_us * (double)b->devices) /
				   (double)devices;
	if (cells)
		a->mean_weight_error =
			(a->mean_weight_error * (double)a->cells +
			 b->mean_weight_error * (double)b->cells) /
			(double)cells;
	a->devices = devices;
	a->cells = cells;
	a->pulses += b->pulses;
	a->max_error_us = fmax(a->max_error_us, b->max_error_us);
	a->max_weight_error = fmax(a->max_weight_error, b->max_weight_error);
	a->stuck += b->stuck;
	a->remapped += b->remapped;
	a->failed += b->failed;
}

bool ionpu_remap_partner(int stuck, float g_stuck, float diff_us,
			 float *partner_us)
{
	float g = stuck == IONPU_FAB_GPLUS ? g_stuck - diff_us :
					     g_stuck + diff_us;

	*partner_us = g < IONPU_FAB_G_MIN ? IONPU_FAB_G_MIN :
		      g > IONPU_FAB_G_MAX ? IONPU_FAB_G_MAX :
					    g;
	return *partner_us == g;
}

/*
 * Leave the tiles as nobody's network: unchained, off, routing nowhere,
 * nothing in flight.  A released tile keeps its configuration, and a chain
 * into a tile the next tenant leases would add into its neurons.
 */
static void quiesce(struct ionpu_loaded *n)
{
	struct ionpu_reset_state rs = { 0 };
	struct ionpu_route none[IONPU_FAB_NEURONS];

	for (uint32_t k = 0; k < IONPU_FAB_NEURONS; k++)
		none[k] = (struct ionpu_route){ .neuron = (uint16_t)k };
	for (uint32_t t = 0; t < n->n_tiles; t++) {
		struct ionpu_configure c = {
			.flags = IONPU_CONFIGURE_SET_TILE |
				 IONPU_CONFIGURE_SET_CHAIN,
			.tile = n->card_tile[t],
			.mode = IONPU_MODE_OFF,
			.timestep = ionpu_f32_bits(1e-3f),
			.chain_head = n->card_tile[t],
		};
		struct ionpu_routes r = {
			.tile = n->card_tile[t],
			.records = IONPU_FAB_NEURONS,
			.size = sizeof(none),
			.routes = (uintptr_t)none,
		};

		ionpu_ioctl(n->fd, IONPU_IOC_CONFIGURE, &c);
		ionpu_ioctl(n->fd, IONPU_IOC_ROUTES, &r);
	}
	ionpu_ioctl(n->fd, IONPU_IOC_RESET_STATE, &rs);
}

IONPU_API void ionpu_unload(struct ionpu_loaded *n)
{
	if (!n)
		return;
	if (n->fd >= 0) {
		/*
		 * Closing the file releases its tiles too; this says so first.
		 */
		struct ionpu_release rel = { .tiles = n->leased };

		if (n->leased) {
			quiesce(n);
			ionpu_ioctl(n->fd, IONPU_IOC_RELEASE, &rel);
		}
		close(n->fd);
	}
	ionpu_image_free(n->img);
	ionpu_feed_clear(&n->feed);
	free(n->tile_stats);
	free(n->notes);
	free(n->routes);
	for (uint32_t t = 0; n->segments && t < n->n_tiles; t++)
		free(n->segments[t]);
	free(n->segments);
	free(n->n_segments);
	free(n);
}

static int lease(struct ionpu_loaded *n)
{
	struct ionpu_lease l = { .count = n->n_tiles };
	uint32_t k = 0;
	int err;

	err = ionpu_ioctl(n->fd, IONPU_IOC_LEASE, &l);
	if (err == -EBUSY)
		return ionpu_error(err, "load: the card has not %u free tiles",
				   n->n_tiles);
	if (err)
		return ionpu_error_errno(err, "load: cannot lease %u tiles",
					 n->n_tiles);
	n->leased = l.tiles;
	for (uint32_t t = 0; t < IONPU_FAB_MAX_TILES; t++)
		n->plan_tile[t] = -1;
	for (uint32_t t = 0; t < IONPU_FAB_MAX_TILES && k < n->n_tiles; t++) {
		if (!(l.tiles & (1ull << t)))
			continue;
		n->card_tile[k] = t;
		n->plan_tile[t] = (int32_t)k++;
	}
	if (k != n->n_tiles)
		return ionpu_error(-EPROTO,
				   "load: the driver leased %u tiles for %u", k,
				   n->n_tiles);
	return 0;
}

static void to_uapi_neuron(const struct ionpu_fab_neuron *p,
			   struct ionpu_neuron *q)
{
	*q = (struct ionpu_neuron){
		.tau = ionpu_f32_bits(p->tau),
		.tau_syn = ionpu_f32_bits(p->tau_syn),
		.r = ionpu_f32_bits(p->r),
		.v_leak = ionpu_f32_bits(p->v_leak),
		.v_threshold = ionpu_f32_bits(p->v_threshold),
		.v_reset = ionpu_f32_bits(p->v_reset),
		.w_in = ionpu_f32_bits(p->w_in),
		.refractory = p->refractory,
	};
}

/* Tile settings and neurons, every tile unchained; then the chains. */
static int configure(struct ionpu_loaded *n, uint32_t mode)
{
	struct ionpu_neuron neurons[IONPU_FAB_NEURONS];
	int err;

	for (uint32_t t = 0; t < n->img->n_tiles; t++) {
		const struct ionpu_image_tile *it = &n->img->tiles[t];
		struct ionpu_configure c = {
			.flags = IONPU_CONFIGURE_SET_TILE |
				 IONPU_CONFIGURE_SET_CHAIN,
			.tile = n->card_tile[t],
			.mode = mode,
			.model = it->cfg.model,
			.timestep = ionpu_f32_bits(it->cfg.dt),
			.input_gain = ionpu_f32_bits(it->cfg.gain),
			.chain_head = n->card_tile[t],
			.count = IONPU_FAB_NEURONS,
			.neurons = (uintptr_t)neurons,
		};

		for (uint32_t k = 0; k < IONPU_FAB_NEURONS; k++)
			to_uapi_neuron(&it->neurons[k], &neurons[k]);
		err = ionpu_ioctl(n->fd, IONPU_IOC_CONFIGURE, &c);
		if (err)
			return ionpu_error_errno(err,
						 "load: tile %u (card tile %u): configure",
						 t, n->card_tile[t]);
	}
	for (uint32_t t = 0; t < n->img->n_tiles; t++) {
		const struct ionpu_image_tile *it = &n->img->tiles[t];
		struct ionpu_configure c = {
			.flags = IONPU_CONFIGURE_SET_CHAIN,
			.tile = n->card_tile[t],
			.chain_head = n->card_tile[it->head],
		};

		if (it->head == t)
			continue;
		err = ionpu_ioctl(n->fd, IONPU_IOC_CONFIGURE, &c);
		if (err)
			return ionpu_error_errno(err,
						 "load: cannot chain tile %u into %u",
						 t, it->head);
	}
	return 0;
}

/* One record per neuron of the tile: the image's routes, no route elsewhere. */
static int load_routes(struct ionpu_loaded *n, uint32_t t)
{
	const struct ionpu_image_tile *it = &n->img->tiles[t];
	size_t words = IONPU_FAB_NEURONS, k = 0, r = 0;
	struct ionpu_routes req;
	uint8_t *buf, *p;
	int err;

	for (size_t i = 0; i < it->n_routes; i++)
		words += it->routes[i].n_targets;
	buf = malloc(words * sizeof(struct ionpu_route_target));
	if (!buf)
		return ionpu_error(-ENOMEM, "load: out of memory");
	p = buf;
	for (uint32_t neuron = 0; neuron < IONPU_FAB_NEURONS; neuron++) {
		const struct ionpu_image_route *ir =
			r < it->n_routes && it->routes[r].neuron == neuron ?
				&it->routes[r++] :
				NULL;
		struct ionpu_route h = {
			.neuron = (uint16_t)neuron,
			.flags = ir && ir->to_host ? IONPU_ROUTE_TO_HOST : 0,
			.targets = (uint16_t)(ir ? ir->n_targets : 0),
		};

		memcpy(p, &h, sizeof(h));
		p += sizeof(h);
		for (uint32_t j = 0; ir && j < ir->n_targets; j++, k++) {
			const struct ionpu_fab_target *to = &ir->targets[j];
			struct ionpu_route_target tg = {
				.tile = (uint16_t)n->card_tile[to->tile],
				.row = to->row,
				.delay = to->delay,
			};

			memcpy(p, &tg, sizeof(tg));
			p += sizeof(tg);
		}
	}
	req = (struct ionpu_routes){
		.tile = n->card_tile[t],
		.records = IONPU_FAB_NEURONS,
		.size = (uint32_t)(p - buf),
		.routes = (uintptr_t)buf,
	};
	err = ionpu_ioctl(n->fd, IONPU_IOC_ROUTES, &req);
	free(buf);
	if (err)
		return ionpu_error_errno(err,
					 "load: tile %u (card tile %u): routes",
					 t, n->card_tile[t]);
	return 0;
}

/* Everything of @n's tiles that a reset of the card clears. */
static int configure_all(struct ionpu_loaded *n)
{
	int err = configure(n, n->mode);

	for (uint32_t t = 0; !err && t < n->img->n_tiles; t++)
		err = load_routes(n, t);
	return err;
}

/* The card's reset count, as INFO reports it; 0 or -errno, no message. */
static int card_resets(struct ionpu_loaded *n, uint64_t *resets)
{
	struct ionpu_info info = { 0 };
	int err = ionpu_ioctl(n->fd, IONPU_IOC_INFO, &info);

	*resets = info.resets;
	return err;
}

bool ionpu_loaded_was_reset(struct ionpu_loaded *n, int err)
{
	uint64_t now;

	if (err == -ESTALE)
		return true;
	return err == -EIO && !card_resets(n, &now) && now != n->resets;
}

/*
 * A reset keeps the lease and the cells but clears the tiles' settings,
 * neurons, routes and chains: set them up again as the load did.
 */
int ionpu_loaded_restore(struct ionpu_loaded *n)
{
	struct ionpu_ack_reset ack = { 0 };
	int err = ionpu_ioctl(n->fd, IONPU_IOC_ACK_RESET, &ack);

	if (err)
		return ionpu_error_errno(err,
					 "run: the card was reset: IONPU_IOC_ACK_RESET");
	n->resets = ack.resets;
	return configure_all(n);
}

/* One tile's cells: what was asked, what the card did. */
struct cell_state {
	float target[2];
	float achieved[2];
	uint16_t pulses[2];
	uint8_t status[2];
	float diff;	 /* G+ - G- the weight needs */
	bool program[2]; /* (still) to be written */
	bool remapped;	 /* one stuck, its partner aimed to make up */
};

enum load_mode {
	LOAD_IDEAL,
	LOAD_PHYSICAL,
};

/* Who hears how far programming is: ionpu_load_progress()'s callback. */
struct load_progress {
	ionpu_progress_fn fn; /* NULL: nobody */
	void *arg;
	uint64_t done;
	uint64_t total;
};

/* How a load programs the cells, from struct ionpu_load_opts. */
struct load_how {
	enum load_mode mode;
	uint32_t budget;		     /* pulses per device */
	const struct ionpu_calib_map *calib; /* NULL: none */
	struct load_progress *progress;
};

/* Count @writes more device writes and tell the callback; -ECANCELED if it says stop. */
static int progress(struct load_progress *p, uint64_t writes)
{
	p->done = p->done + writes < p->total ? p->done + writes : p->total;
	if (!p->fn || !p->fn(p->arg, p->done, p->total))
		return 0;
	return ionpu_error(-ECANCELED,
			   "load: stopped by the progress callback after %llu of %llu device writes",
			   (unsigned long long)p->done,
			   (unsigned long long)p->total);
}

struct tile_job {
	struct ionpu_loaded *n;
	uint32_t t;
	uint32_t rows;
	uint32_t cols;
	struct cell_state *cs; /* rows x cols */
	const struct load_how *how;
};

/* One batch of device writes: the request, the answers, each one's device. */
struct batch {
	struct ionpu_cell_prog *prog;
	struct ionpu_cell_result *res;
	uint32_t *where; /* cell index * 2 + device */
	size_t n;
};

/* Write the batch and keep what the card answers about each device. */
static int send_batch(struct tile_job *J, struct batch *b)
{
	size_t written;
	struct ionpu_program req = {
		.tile = J->n->card_tile[J->t],
		.count = (uint32_t)b->n,
		.cells = (uintptr_t)b->prog,
		.results = (uintptr_t)b->res,
	};
	int err;

	err = ionpu_ioctl(J->n->fd, IONPU_IOC_PROGRAM, &req);
	if (err)
		return ionpu_error_errno(err,
					 "load: tile %u (card tile %u): program",
					 J->t, J->n->card_tile[J->t]);
	for (size_t i = 0; i < b->n; i++) {
		struct cell_state *c = &J->cs[b->where[i] / 2];
		int d = (int)(b->where[i] % 2);

		c->achieved[d] = ionpu_f32_value(b->res[i].conductance);
		c->pulses[d] = b->res[i].pulses;
		c->status[d] = b->res[i].status;
		c->program[d] = false;
	}
	written = b->n;
	b->n = 0;
	return progress(J->how->progress, written);
}

/* Write every device marked to program, in batches the driver takes. */
static int program_marked(struct tile_job *J)
{
	size_t total = (size_t)J->rows * J->cols;
	struct batch b = { 0 };
	int err = 0;

	b.prog = malloc(PROGRAM_MAX * sizeof(*b.prog));
	b.res = malloc(PROGRAM_MAX * sizeof(*b.res));
	b.where = malloc(PROGRAM_MAX * sizeof(*b.where));
	if (!b.prog || !b.res || !b.where) {
		err = ionpu_error(-ENOMEM, "load: out of memory");
		goto out;
	}
	for (size_t k = 0; k < total * 2; k++) {
		struct cell_state *c = &J->cs[k / 2];
		int d = (int)(k % 2);

		if (!c->program[d])
			continue;
		b.prog[b.n] = (struct ionpu_cell_prog){
			.row = (uint16_t)(k / 2 / J->cols),
			.column = (uint16_t)(k / 2 % J->cols),
			.device = (uint8_t)d,
			.budget = (uint16_t)J->how->budget,
			.target = ionpu_f32_bits(c->target[d]),
			.tolerance = ionpu_f32_bits(IONPU_FAB_G_STEP / 4),
		};
		b.where[b.n++] = (uint32_t)k;
		if (b.n < PROGRAM_MAX)
			continue;
		err = send_batch(J, &b);
		if (err)
			goto out;
	}
	if (b.n)
		err = send_batch(J, &b);
out:
	free(b.prog);
	free(b.res);
	free(b.where);
	return err;
}

static int add_note(struct ionpu_loaded *n, const struct ionpu_cell_note *note)
{
	struct ionpu_cell_note *p;

	if ((n->n_notes & (n->n_notes - 1)) == 0) {
		p = realloc(n->notes,
			    (n->n_notes ? n->n_notes * 2 : 1) * sizeof(*p));
		if (!p)
			return ionpu_error(-ENOMEM, "load: out of memory");
		n->notes = p;
	}
	n->notes[n->n_notes++] = *note;
	return 0;
}

/*
 * For each cell with one stuck device, aim its partner at the conductance
 * that keeps G+ - G- at the weight, or as near as the range allows (the
 * cell fails then, but a stuck-high device's partner at its top keeps a
 * weight of the wrong sign near zero rather than at full scale); returns
 * how many partners need writing.
 */
static size_t remap_stuck(struct tile_job *J)
{
	size_t again = 0;

	for (size_t k = 0; k < (size_t)J->rows * J->cols; k++) {
		struct cell_state *c = &J->cs[k];
		bool stuck[2] = { c->status[0] == IONPU_CELL_STUCK,
				  c->status[1] == IONPU_CELL_STUCK };
		int d = stuck[0] ? 0 : 1;
		float g;

		if (stuck[0] == stuck[1])
			continue;
		c->remapped =
			ionpu_remap_partner(d, c->achieved[d], c->diff, &g);
		if (g != c->target[!d]) {
			c->target[!d] = g;
			c->program[!d] = true;
			again++;
		}
	}
	return again;
}

/* Statistics and notes of one tile, once the card has done its part. */
static int account(struct tile_job *J)
{
	const struct ionpu_image_tile *it = &J->n->img->tiles[J->t];
	struct ionpu_program_stats *s = &J->n->tile_stats[J->t];
	int err = 0;

	for (size_t k = 0; k < (size_t)J->rows * J->cols; k++) {
		const struct cell_state *c = &J->cs[k];
		double want = c->diff;
		double got = (double)c->achieved[0] - c->achieved[1];
		struct ionpu_cell_note note = {
			.tile = J->t,
			.card_tile = J->n->card_tile[J->t],
			.row = (uint32_t)(k / J->cols),
			.column = (uint32_t)(k % J->cols),
			.weight = want * it->weight_per_us,
			.achieved = got * it->weight_per_us,
		};
		unsigned int stuck = 0;
		bool budget = false;

		for (int d = 0; d < 2; d++) {
			if (c->status[d] == IONPU_CELL_STUCK) {
				stuck++;
				s->stuck++;
				continue;
			}
			budget |= c->status[d] == IONPU_CELL_BUDGET;
			ionpu_stats_device(s,
					   fabs((double)c->achieved[d] -
						c->target[d]),
					   c->pulses[d]);
		}
		ionpu_stats_cell(s, fabs(got - want) * it->weight_per_us);
		/*
		 * The partner's write came after the remap, so its status is
		 * the last word.
		 */
		if (stuck == 1 && !budget && c->remapped)
			note.outcome = IONPU_CELL_REMAPPED;
		else if (stuck)
			note.outcome = IONPU_CELL_FAILED_STUCK;
		else if (budget)
			note.outcome = IONPU_CELL_FAILED_BUDGET;
		else
			continue;
		if (note.outcome == IONPU_CELL_REMAPPED)
			s->remapped++;
		else
			s->failed++;
		err = add_note(J->n, &note);
		if (err)
			break;
	}
	ionpu_stats_finish(s);
	return err;
}

/*
 * Each device's target: its level, lifted in physical mode; a device the
 * calibration record lists as stuck is not written but taken as it is.
 */
static void set_targets(struct tile_job *J, uint16_t (*level)[2])
{
	const struct ionpu_calib_map *calib = J->how->calib;
	uint32_t card_tile = J->n->card_tile[J->t];

	for (size_t k = 0; k < (size_t)J->rows * J->cols; k++) {
		struct cell_state *c = &J->cs[k];
		uint32_t top = level[k][0] > level[k][1] ? level[k][0] :
							   level[k][1];
		uint32_t lift = J->how->mode == LOAD_PHYSICAL ?
					IONPU_FAB_G_LEVELS - 1 - top :
					0;

		if (lift > PHYSICAL_LIFT)
			lift = PHYSICAL_LIFT;
		for (int d = 0; d < 2; d++) {
			float g;

			c->target[d] = ionpu_image_level_us(level[k][d] + lift);
			c->program[d] = true;
			if (calib &&
			    ionpu_calib_stuck(calib, card_tile,
					      (uint32_t)(k / J->cols),
					      (uint32_t)(k % J->cols), d, &g)) {
				c->status[d] = IONPU_CELL_STUCK;
				c->achieved[d] = g;
				c->program[d] = false;
			}
		}
		c->diff = c->target[0] - c->target[1];
	}
}

static int program_tile(struct ionpu_loaded *n, uint32_t t,
			const struct load_how *how)
{
	const struct ionpu_image_tile *it = &n->img->tiles[t];
	struct tile_job J = {
		.n = n,
		.t = t,
		.rows = it->rows_used,
		.cols = it->columns_used,
		.how = how,
	};
	size_t total = (size_t)J.rows * J.cols;
	uint16_t(*level)[2];
	int err;

	if (!total) {
		ionpu_stats_finish(&n->tile_stats[t]);
		return 0;
	}
	J.cs = calloc(total, sizeof(*J.cs));
	level = calloc(total, sizeof(*level));
	if (!J.cs || !level) {
		err = ionpu_error(-ENOMEM, "load: out of memory");
		goto out;
	}
	for (size_t k = 0; k < it->n_cells; k++) {
		const struct ionpu_image_cell *c = &it->cells[k];

		if (c->row < J.rows && c->column < J.cols)
			memcpy(level[(size_t)c->row * J.cols + c->column],
			       c->level, sizeof(c->level));
	}
	set_targets(&J, level);
	/*
	 * Partners of listed stuck devices get their remapped target at once.
	 */
	remap_stuck(&J);
	err = program_marked(&J);
	if (err)
		goto out;
	if (remap_stuck(&J)) {
		err = program_marked(&J);
		if (err)
			goto out;
	}
	err = account(&J);
out:
	free(J.cs);
	free(level);
	return err;
}

/* What ionpu_loaded_read_weights() needs of the plan: routes and segments. */
static int keep_mapping(struct ionpu_loaded *n, const struct ionpu_plan *plan)
{
	n->routes = malloc((plan->n_routes ? plan->n_routes : 1) *
			   sizeof(*n->routes));
	n->segments = calloc(n->n_tiles, sizeof(*n->segments));
	n->n_segments = calloc(n->n_tiles, sizeof(*n->n_segments));
	if (!n->routes || !n->segments || !n->n_segments)
		return ionpu_error(-ENOMEM, "load: out of memory");
	if (plan->n_routes)
		memcpy(n->routes, plan->routes,
		       plan->n_routes * sizeof(*n->routes));
	n->n_routes = plan->n_routes;
	for (uint32_t t = 0; t < plan->n_tiles; t++) {
		size_t k = plan->tiles[t].n_segments;

		n->segments[t] = malloc((k ? k : 1) * sizeof(**n->segments));
		if (!n->segments[t])
			return ionpu_error(-ENOMEM, "load: out of memory");
		if (k)
			memcpy(n->segments[t], plan->tiles[t].segments,
			       k * sizeof(**n->segments));
		n->n_segments[t] = k;
	}
	return 0;
}

static int load(struct ionpu_loaded *n, struct ionpu_dev *dev,
		const struct ionpu_plan *plan,
		const struct ionpu_load_opts *opts, struct load_progress *told)
{
	struct load_how how = {
		.mode = opts && (opts->flags & IONPU_LOAD_PHYSICAL) ?
				LOAD_PHYSICAL :
				LOAD_IDEAL,
		.budget = opts && opts->pulse_budget ? opts->pulse_budget :
						       DEFAULT_BUDGET,
		.progress = told,
	};
	struct ionpu_calib_map *calib = NULL;
	int err;

	if (n->img->n_stateless)
		return ionpu_error(-EOPNOTSUPP,
				   "load: Threshold neurons need their state cleared every step, which only the host reference does");
	n->n_tiles = n->img->n_tiles ? n->img->n_tiles : 1;
	n->tile_stats = calloc(n->n_tiles, sizeof(*n->tile_stats));
	if (!n->tile_stats)
		return ionpu_error(-ENOMEM, "load: out of memory");
	err = keep_mapping(n, plan);
	if (err)
		return err;
	n->fd = ionpu_dev_reopen(dev);
	if (n->fd < 0)
		return n->fd;
	err = lease(n);
	if (err)
		return err;
	if (how.mode == LOAD_PHYSICAL) {
		err = ionpu_image_physical(n->img);
		if (err)
			return err;
	}
	n->mode = how.mode == LOAD_PHYSICAL ? IONPU_MODE_PHYSICAL :
					      IONPU_MODE_IDEAL;
	err = card_resets(n, &n->resets);
	if (err)
		return ionpu_error_errno(err, "load: IONPU_IOC_INFO");
	err = configure_all(n);
	if (err)
		return err;
	/*
	 * An ideal tile has no stuck devices: the record is for physical mode.
	 */
	if (how.mode == LOAD_PHYSICAL && !(opts->flags & IONPU_LOAD_NO_CALIB)) {
		err = ionpu_calib_load(dev, &calib);
		if (err)
			return err;
		how.calib = calib;
	}
	for (uint32_t t = 0; t < n->img->n_tiles; t++)
		told->total += 2ull * n->img->tiles[t].rows_used *
			       n->img->tiles[t].columns_used;
	err = progress(told, 0);
	for (uint32_t t = 0; !err && t < n->img->n_tiles; t++) {
		err = program_tile(n, t, &how);
		if (err)
			break;
		ionpu_stats_merge(&n->total, &n->tile_stats[t]);
	}
	if (!err)
		err = progress(told, told->total);
	ionpu_calib_free(calib);
	return err;
}

IONPU_API int ionpu_load(struct ionpu_dev *dev, const struct ionpu_network *net,
			 const struct ionpu_plan *plan,
			 const struct ionpu_load_opts *opts,
			 struct ionpu_loaded **out)
{
	return ionpu_load_progress(dev, net, plan, opts, NULL, NULL, out);
}

IONPU_API int ionpu_load_progress(struct ionpu_dev *dev,
				  const struct ionpu_network *net,
				  const struct ionpu_plan *plan,
				  const struct ionpu_load_opts *opts,
				  ionpu_progress_fn fn, void *arg,
				  struct ionpu_loaded **out)
{
	struct load_progress told = { .fn = fn, .arg = arg };
	struct ionpu_loaded *n;
	int err;

	if (!dev || !net || !plan || !out)
		return ionpu_error(-EINVAL, "ionpu_load: NULL argument");
	if (opts &&
	    (opts->flags & ~(IONPU_LOAD_PHYSICAL | IONPU_LOAD_NO_CALIB)))
		return ionpu_error(-EINVAL, "ionpu_load: unknown flags 0x%x",
				   opts->flags);
	if (opts && opts->pulse_budget > UINT16_MAX)
		return ionpu_error(-EINVAL,
				   "ionpu_load: a budget of %u pulses; the card takes %u",
				   opts->pulse_budget, UINT16_MAX);
	n = calloc(1, sizeof(*n));
	if (!n)
		return ionpu_error(-ENOMEM, "load: out of memory");
	n->fd = -1;
	err = ionpu_image_build(net, plan, &n->img);
	if (err)
		goto err_unload;
	if (n->img->n_tiles > IONPU_FAB_MAX_TILES) {
		err = ionpu_error(-EOPNOTSUPP, "load: %u tiles",
				  n->img->n_tiles);
		goto err_unload;
	}
	err = load(n, dev, plan, opts, &told);
	if (err)
		goto err_unload;
	*out = n;
	return 0;

err_unload:
	ionpu_unload(n);
	return err;
}

IONPU_API size_t ionpu_loaded_inputs(const struct ionpu_loaded *n)
{
	return n->img->n_in;
}

IONPU_API size_t ionpu_loaded_outputs(const struct ionpu_loaded *n)
{
	return n->img->n_out;
}

IONPU_API void ionpu_loaded_report(const struct ionpu_loaded *n,
				   struct ionpu_program_stats *out)
{
	*out = n->total;
}

IONPU_API int ionpu_loaded_activity(struct ionpu_loaded *n,
				    struct ionpu_activity *out)
{
	struct ionpu_counters c = { .flags = IONPU_COUNTERS_FILE };
	int err;

	if (!n || !out)
		return ionpu_error(-EINVAL,
				   "ionpu_loaded_activity: NULL argument");
	err = ionpu_ioctl(n->fd, IONPU_IOC_COUNTERS, &c);
	if (err == -EOPNOTSUPP || err == -EINVAL)
		return ionpu_error(-EOPNOTSUPP,
				   "ionpu_loaded_activity: the card or its driver counts for all tenants together only (per-tile counters came with card rev 1.5, driver API 7)");
	if (err)
		return ionpu_error_errno(err,
					 "ionpu_loaded_activity: IONPU_IOC_COUNTERS");
	ionpu_activity_from(&c, out);
	return 0;
}

IONPU_API int ionpu_loaded_tile_report(const struct ionpu_loaded *n,
				       uint32_t tile, uint32_t *card_tile,
				       struct ionpu_program_stats *out)
{
	if (!n || !out || tile >= n->img->n_tiles)
		return ionpu_error(-EINVAL,
				   "ionpu_loaded_tile_report: no tile %u",
				   tile);
	if (card_tile)
		*card_tile = n->card_tile[tile];
	*out = n->tile_stats[tile];
	return 0;
}

IONPU_API const struct ionpu_cell_note *
ionpu_loaded_cell_notes(const struct ionpu_loaded *n, size_t *count)
{
	*count = n->n_notes;
	return n->n_notes ? n->notes : NULL;
}

/* The source of row @row of plan tile @t, or NULL. */
static const struct ionpu_plan_route *row_source(const struct ionpu_loaded *n,
						 uint32_t t, uint32_t row)
{
	for (size_t r = 0; r < n->n_routes; r++)
		if (n->routes[r].tile == t && n->routes[r].row == row)
			return &n->routes[r];
	return NULL;
}

/* The population neuron on column @col of head tile @h, or NULL. */
static const struct ionpu_plan_segment *
column_owner(const struct ionpu_loaded *n, uint32_t h, uint32_t col)
{
	for (size_t s = 0; s < n->n_segments[h]; s++) {
		const struct ionpu_plan_segment *g = &n->segments[h][s];

		if (col >= g->first_column && col - g->first_column < g->count)
			return g;
	}
	return NULL;
}

static int read_tile(struct ionpu_loaded *n, uint32_t t,
		     struct ionpu_synapse_read *out, size_t *count)
{
	const struct ionpu_image_tile *it = &n->img->tiles[t];
	struct ionpu_cell_read *cells;
	struct ionpu_read_cells req;
	const struct ionpu_plan_route **src;
	int err;

	if (!it->n_cells)
		return 0;
	cells = malloc((size_t)it->rows_used * it->columns_used *
		       sizeof(*cells));
	src = calloc(it->rows_used, sizeof(*src));
	if (!cells || !src) {
		err = ionpu_error(-ENOMEM, "read weights: out of memory");
		goto out;
	}
	req = (struct ionpu_read_cells){
		.tile = n->card_tile[t],
		.rows = it->rows_used,
		.columns = it->columns_used,
		.cells = (uintptr_t)cells,
	};
	err = ionpu_ioctl(n->fd, IONPU_IOC_READ_CELLS, &req);
	if (err) {
		err = ionpu_error_errno(err,
					"read weights: tile %u (card tile %u)",
					t, n->card_tile[t]);
		goto out;
	}
	for (uint32_t r = 0; r < it->rows_used; r++)
		src[r] = row_source(n, t, r);
	for (size_t k = 0; k < it->n_cells; k++) {
		const struct ionpu_image_cell *c = &it->cells[k];
		const struct ionpu_cell_read *cr =
			&cells[(size_t)c->row * it->columns_used + c->column];
		const struct ionpu_plan_segment *g =
			column_owner(n, it->head, c->column);

		if (!src[c->row] || !g || c->column >= it->columns_used)
			continue;
		out[(*count)++] = (struct ionpu_synapse_read){
			.src = src[c->row]->node,
			.src_neuron = src[c->row]->neuron,
			.dst = g->node,
			.dst_neuron = g->first + c->column - g->first_column,
			.delay_steps = src[c->row]->delay_steps,
			.weight = ((double)ionpu_image_level_us(c->level[0]) -
				   ionpu_image_level_us(c->level[1])) *
				  it->weight_per_us,
			.read = ((double)ionpu_f32_value(cr->g_plus) -
				 ionpu_f32_value(cr->g_minus)) *
				it->weight_per_us,
		};
	}
out:
	free(cells);
	free(src);
	return err;
}

IONPU_API int ionpu_loaded_read_weights(struct ionpu_loaded *n,
					struct ionpu_synapse_read **out,
					size_t *count)
{
	struct ionpu_synapse_read *list;
	size_t total = 0, k = 0;
	int err;

	if (!n || !out || !count)
		return ionpu_error(-EINVAL,
				   "ionpu_loaded_read_weights: NULL argument");
	for (uint32_t t = 0; t < n->img->n_tiles; t++)
		total += n->img->tiles[t].n_cells;
	list = malloc((total ? total : 1) * sizeof(*list));
	if (!list)
		return ionpu_error(-ENOMEM, "read weights: out of memory");
	for (uint32_t t = 0; t < n->img->n_tiles; t++) {
		err = read_tile(n, t, list, &k);
		if (err) {
			free(list);
			return err;
		}
	}
	*out = list;
	*count = k;
	return 0;
}
