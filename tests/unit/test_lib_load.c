// SPDX-License-Identifier: GPL-2.0-only
/*
 * The card path on the host: libionpu's load, programming report, readback
 * and runs against a stand-in driver (-Wl,--wrap=ioctl, behind /dev/null)
 * that answers from the card's own model core the way ionpu.ko does,
 * feeding a job's inputs one 256-step window at a time.  Tile 0 is another
 * tenant's, so the plan's tiles land elsewhere.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <hw/ionpu_regs.h>
#include <ionpu/ionpu.h>
#include <linux/ionpu.h>

#include "ionpu_internal.h"

#define TILES	8
#define WINDOW	256

/* The stand-in card; tests run one at a time. */
static struct {
	struct ionpu_fabric *fab;
	uint64_t leased;	/* by the library's file */
	uint64_t others;	/* by other tenants */
	struct ionpu_event *sink;
	uint32_t room, produced;
	uint64_t t0;
	/* As the driver: resets so far, one not acknowledged yet. */
	uint64_t resets;
	bool reset_seen;
	uint64_t timesteps;	/* the library's file's jobs ran */
	bool per_card_only;	/* counters of a card before rev 1.5 */
} card;

int __wrap_ioctl(int fd, unsigned long request, ...);

static int refuse(int err)
{
	errno = -err;
	return -1;
}

static bool mine(uint32_t tile)
{
	return tile < TILES && (card.leased & (1ull << tile));
}

static int do_configure(const struct ionpu_configure *c)
{
	const struct ionpu_neuron *n = (const struct ionpu_neuron *)(uintptr_t)c->neurons;

	if (!mine(c->tile))
		return refuse(-EACCES);
	if (c->flags & IONPU_CONFIGURE_SET_TILE) {
		struct ionpu_fab_tile_config cfg = {
			.mode = c->mode, .model = c->model,
			.dt = ionpu_f32_value(c->timestep),
			.gain = ionpu_f32_value(c->input_gain),
		};

		if (ionpu_fabric_set_tile(card.fab, c->tile, &cfg))
			return refuse(-EINVAL);
	}
	if ((c->flags & IONPU_CONFIGURE_SET_CHAIN) &&
	    (!mine(c->chain_head) || ionpu_fabric_chain(card.fab, c->tile, c->chain_head)))
		return refuse(-EINVAL);
	for (uint32_t k = 0; k < c->count; k++) {
		struct ionpu_fab_neuron p = {
			.tau = ionpu_f32_value(n[k].tau),
			.tau_syn = ionpu_f32_value(n[k].tau_syn),
			.r = ionpu_f32_value(n[k].r),
			.v_leak = ionpu_f32_value(n[k].v_leak),
			.v_threshold = ionpu_f32_value(n[k].v_threshold),
			.v_reset = ionpu_f32_value(n[k].v_reset),
			.w_in = ionpu_f32_value(n[k].w_in),
			.refractory = n[k].refractory,
		};

		if (ionpu_fabric_set_neuron(card.fab, c->tile, c->first + k, &p))
			return refuse(-EINVAL);
	}
	return 0;
}

static int do_routes(const struct ionpu_routes *r)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)r->routes, *end = p + r->size;

	if (!mine(r->tile))
		return refuse(-EACCES);
	for (uint32_t k = 0; k < r->records; k++) {
		struct ionpu_fab_target tg[IONPU_FAB_MAX_FANOUT];
		struct ionpu_route h;

		assert_true(p + sizeof(h) <= end);
		memcpy(&h, p, sizeof(h));
		p += sizeof(h);
		assert_true(h.targets <= IONPU_FAB_MAX_FANOUT);
		for (uint32_t i = 0; i < h.targets; i++) {
			struct ionpu_route_target t;

			memcpy(&t, p, sizeof(t));
			p += sizeof(t);
			if (!mine(t.tile))
				return refuse(-EACCES);
			tg[i] = (struct ionpu_fab_target){ t.tile, t.row, t.delay };
		}
		if (ionpu_fabric_set_route(card.fab, r->tile, h.neuron,
					   h.flags & IONPU_ROUTE_TO_HOST, tg, h.targets))
			return refuse(-EINVAL);
	}
	assert_true(p == end);
	return 0;
}

static int do_program(struct ionpu_program *pr)
{
	const struct ionpu_cell_prog *c = (const struct ionpu_cell_prog *)(uintptr_t)pr->cells;
	struct ionpu_cell_result *res = (struct ionpu_cell_result *)(uintptr_t)pr->results;

	if (!mine(pr->tile))
		return refuse(-EACCES);
	assert_true(pr->count >= 1 && pr->count <= 65536);
	pr->failed = 0;
	for (uint32_t k = 0; k < pr->count; k++) {
		struct ionpu_fab_prog_result r;

		if (ionpu_fabric_program(card.fab, pr->tile, c[k].row, c[k].column, c[k].device,
					 ionpu_f32_value(c[k].target),
					 ionpu_f32_value(c[k].tolerance), c[k].budget, &r))
			return refuse(-EINVAL);
		res[k] = (struct ionpu_cell_result){
			.conductance = ionpu_f32_bits(r.achieved), .pulses = (uint16_t)r.pulses,
			.status = (uint8_t)r.status,
		};
		pr->failed += r.status != IONPU_FAB_PROG_OK;
	}
	return 0;
}

static int do_read_cells(const struct ionpu_read_cells *rc)
{
	struct ionpu_cell_read *out = (struct ionpu_cell_read *)(uintptr_t)rc->cells;

	if (!mine(rc->tile))
		return refuse(-EACCES);
	for (uint32_t r = 0; r < rc->rows; r++)
		for (uint32_t c = 0; c < rc->columns; c++) {
			float gp, gm;

			ionpu_fabric_read(card.fab, rc->tile, rc->row + r, rc->column + c, &gp, &gm);
			out[r * rc->columns + c] = (struct ionpu_cell_read){
				ionpu_f32_bits(gp), ionpu_f32_bits(gm),
			};
		}
	return 0;
}

static int on_spike(void *opaque, uint64_t timestep, unsigned int tile, unsigned int neuron)
{
	(void)opaque;
	if (!mine(tile))
		return 0;
	if (card.produced < card.room)
		card.sink[card.produced] = (struct ionpu_event){
			.timestep = (uint32_t)(timestep - card.t0), .neuron = (uint16_t)neuron,
			.tile = (uint8_t)tile,
		};
	card.produced++;
	return 0;
}

/* As ionpu.ko runs a job: inputs one window at a time, then the window's steps. */
static int do_job(struct ionpu_job *j)
{
	const struct ionpu_job_input *in = (const struct ionpu_job_input *)(uintptr_t)j->inputs;
	uint32_t next = 0;

	if (!card.leased)
		return refuse(-EACCES);
	if (card.reset_seen)
		return refuse(-ESTALE);
	if (!(j->flags & IONPU_JOB_KEEP_STATE))
		ionpu_fabric_reset_state(card.fab, card.leased);
	card.sink = (struct ionpu_event *)(uintptr_t)j->outputs;
	card.room = j->out_room;
	card.produced = 0;
	card.t0 = ionpu_fabric_now(card.fab);
	for (uint32_t done = 0; done < j->timesteps; ) {
		uint32_t steps = j->timesteps - done;

		if (next < j->in_count) {
			steps = steps < WINDOW ? steps : WINDOW;
			for (; next < j->in_count && in[next].timestep < done + steps; next++) {
				assert_true(!next || in[next].timestep >= in[next - 1].timestep);
				if (!mine(in[next].tile))
					return refuse(-EACCES);
				assert_int_equal(ionpu_fabric_input_at(card.fab, card.t0 + in[next].timestep,
								       in[next].tile, in[next].row,
								       ionpu_f32_value(in[next].value)), 0);
			}
		}
		assert_int_equal(ionpu_fabric_run(card.fab, steps, on_spike, NULL, NULL), 0);
		card.timesteps += steps;
		done += steps;
	}
	j->produced = card.produced;
	return 0;
}

/* A file's own counters, as the driver sums its tiles'; the card's are not ours. */
static int do_counters(struct ionpu_counters *c)
{
	if (!(c->flags & IONPU_COUNTERS_FILE))
		return refuse(-EPERM);
	if (card.per_card_only)
		return refuse(-EOPNOTSUPP);
	*c = (struct ionpu_counters){ .flags = IONPU_COUNTERS_FILE, .timesteps = card.timesteps };
	for (uint32_t t = 0; t < TILES; t++) {
		struct ionpu_fab_tile_counters k;

		if (!mine(t))
			continue;
		assert_int_equal(ionpu_fabric_tile_counters(card.fab, t, &k, false), 0);
		c->spikes_in += k.spikes_in;
		c->spikes_out += k.spikes_out;
		c->synaptic_events += k.syn_events;
		c->program_pulses += k.program_pulses;
		c->busy_ns += k.busy_ns;
		c->energy_fj += k.energy_fj;
	}
	return 0;
}

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	(void)fd;
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	switch (request) {
	case IONPU_IOC_INFO:
		*(struct ionpu_info *)arg = (struct ionpu_info){
			.api_version = IONPU_API_VERSION, .hw_version = IONPU_HW_VERSION,
			.caps = IONPU_CAP_QUEUES, .tiles = TILES, .tile_rows = IONPU_TILE_ROWS,
			.tile_neurons = IONPU_TILE_NEURONS, .serial = "FAKE",
			.resets = card.resets,
		};
		return 0;
	case IONPU_IOC_ACK_RESET:
		card.reset_seen = false;
		((struct ionpu_ack_reset *)arg)->resets = card.resets;
		return 0;
	case IONPU_IOC_LEASE: {
		struct ionpu_lease *l = arg;
		uint64_t free_tiles = ((1ull << TILES) - 1) & ~card.leased & ~card.others, got = 0;

		for (uint32_t k = 0; k < l->count; k++) {
			if (!free_tiles)
				return refuse(-EBUSY);
			got |= free_tiles & -free_tiles;
			free_tiles &= free_tiles - 1;
		}
		card.leased |= got;
		l->tiles = got;
		return 0;
	}
	case IONPU_IOC_RELEASE: {
		const struct ionpu_release *r = arg;

		if (r->tiles & ~card.leased)
			return refuse(-EPERM);
		card.leased &= ~r->tiles;
		return 0;
	}
	case IONPU_IOC_CONFIGURE:
		return do_configure(arg);
	case IONPU_IOC_ROUTES:
		return do_routes(arg);
	case IONPU_IOC_PROGRAM:
		return do_program(arg);
	case IONPU_IOC_READ_CELLS:
		return do_read_cells(arg);
	case IONPU_IOC_RESET_STATE:
		ionpu_fabric_reset_state(card.fab, card.leased);
		return 0;
	case IONPU_IOC_JOB:
		return do_job(arg);
	case IONPU_IOC_COUNTERS:
		return do_counters(arg);
	}
	return refuse(-ENOTTY);
}

static int setup(void **state)
{
	struct ionpu_fabric_config fc = { .tiles = TILES, .seed = 7 };

	(void)state;
	memset(&card, 0, sizeof(card));
	card.others = 1;
	return ionpu_fabric_new(&fc, &card.fab);
}

static int teardown(void **state)
{
	(void)state;
	ionpu_fabric_free(card.fab);
	return 0;
}

static uint64_t rng = 1;

static double uniform(double lo, double hi)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

/*
 * in(300) -> LIF(20), LIF -> LIF with delays 0..2: 300 rows make a chain of
 * two tiles, recurrence mixes routed spikes with input in one neuron.
 */
static struct ionpu_network *network(void)
{
	static double w_in[20 * 300], w_rec[20 * 20], d_rec[20], tau[20], one[20], zero[20];
	const struct ionpu_neuron_params lif = {
		.tau = tau, .r = one, .v_leak = zero, .v_threshold = one,
	};
	struct ionpu_network *net;
	uint32_t in, pop;

	for (size_t k = 0; k < 20; k++) {
		tau[k] = 0.01;
		one[k] = 1;
	}

	for (size_t k = 0; k < 20 * 300; k++)
		w_in[k] = uniform(-0.05, 0.12);
	for (size_t k = 0; k < 20 * 20; k++)
		w_rec[k] = uniform(-0.3, 0.3);
	for (size_t k = 0; k < 20; k++)
		d_rec[k] = (double)(k % 3) * 1e-3;
	assert_int_equal(ionpu_network_create(&net), 0);
	assert_int_equal(ionpu_network_add_input(net, "in", 300, &in), 0);
	assert_int_equal(ionpu_network_add_population(net, "lif", IONPU_NEURON_LIF, 20, &lif, &pop), 0);
	assert_int_equal(ionpu_network_add_dense(net, in, pop, w_in, NULL, NULL), 0);
	assert_int_equal(ionpu_network_add_dense(net, pop, pop, w_rec, d_rec, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, pop), 0);
	return net;
}

#define STEPS 600

static float *raster(void)
{
	float *r = malloc(STEPS * 300 * sizeof(*r));

	assert_non_null(r);
	for (size_t k = 0; k < STEPS * 300; k++)
		r[k] = uniform(0, 1) < 0.2;
	return r;
}

/* The fake card, open, and @net compiled for it. */
static struct ionpu_dev *open_and_compile(struct ionpu_network *net, struct ionpu_plan **plan)
{
	struct ionpu_card_desc desc;
	struct ionpu_dev *dev;

	assert_int_equal(ionpu_open("/dev/null", &dev), 0);
	assert_int_equal(ionpu_card_desc_of(dev, &desc), 0);
	assert_int_equal(desc.tiles, TILES);
	assert_int_equal(ionpu_compile(net, &desc, plan), 0);
	return dev;
}

static void load(struct ionpu_network *net, const struct ionpu_load_opts *opts,
		 struct ionpu_plan **plan, struct ionpu_loaded **n)
{
	struct ionpu_dev *dev = open_and_compile(net, plan);

	if (ionpu_load(dev, net, *plan, opts, n))
		fail_msg("load: %s", ionpu_last_error());
	ionpu_close(dev);
}

/* Ideal mode: the card equals the host, in one run and in pieces. */
static void test_ideal_equals_host(void **state)
{
	struct ionpu_network *net = network();
	struct ionpu_program_stats st;
	struct ionpu_synapse_read *syn;
	struct ionpu_plan *plan;
	struct ionpu_host *host;
	struct ionpu_loaded *n;
	float *in = raster();
	uint8_t *want = malloc(STEPS * 20), *got = malloc(STEPS * 20);
	size_t n_syn, spikes = 0, cut[] = { 0, 100, 356, 357, STEPS };
	uint32_t card_tile;

	(void)state;
	assert_true(want && got);
	load(net, NULL, &plan, &n);
	/* Tile 0 is taken: the plan's tiles 0 and 1 are the card's 1 and 2. */
	assert_int_equal(plan->n_tiles, 2);
	assert_int_equal(ionpu_loaded_tile_report(n, 1, &card_tile, &st), 0);
	assert_int_equal(card_tile, 2);
	assert_int_equal(ionpu_fabric_chain_head(card.fab, 2), 1);
	ionpu_loaded_report(n, &st);
	assert_int_equal(st.cells, (300 + 20) * 20);	/* every used row and column */
	assert_int_equal(st.devices, 2 * st.cells);
	assert_int_equal(st.failed + st.remapped + st.stuck, 0);
	assert_true(st.max_error_us == 0 && st.max_weight_error == 0);
	assert_int_equal(ionpu_loaded_read_weights(n, &syn, &n_syn), 0);
	assert_int_equal(n_syn, plan->stats.cells);
	for (size_t k = 0; k < n_syn; k++)
		assert_true(syn[k].read == syn[k].weight);
	free(syn);

	assert_int_equal(ionpu_host_new(net, plan, &host), 0);
	assert_int_equal(ionpu_host_run(host, in, STEPS, want), 0);
	assert_int_equal(ionpu_loaded_run(n, in, STEPS, 0, got), 0);
	for (size_t k = 0; k < STEPS * 20; k++)
		spikes += want[k];
	assert_true(spikes > 200);
	assert_memory_equal(want, got, STEPS * 20);
	/* In pieces, the state kept, split the same way on both. */
	ionpu_host_reset(host);
	for (int p = 0; p + 1 < 5; p++) {
		size_t a = cut[p], len = cut[p + 1] - cut[p];

		assert_int_equal(ionpu_host_run(host, in + a * 300, len, want + a * 20), 0);
		assert_int_equal(ionpu_loaded_run(n, in + a * 300, len,
						  p ? IONPU_RUN_KEEP_STATE : 0, got + a * 20), 0);
	}
	assert_memory_equal(want, got, STEPS * 20);
	assert_int_equal(ionpu_loaded_run(n, in, 0, 0, got), -EINVAL);

	ionpu_unload(n);
	/* Released, and left as nobody's network. */
	assert_int_equal(card.leased, 0);
	assert_int_equal(ionpu_fabric_chain_head(card.fab, 2), 2);
	{
		struct ionpu_fab_tile_config cfg;

		ionpu_fabric_get_tile(card.fab, 1, &cfg);
		assert_int_equal(cfg.mode, IONPU_FAB_OFF);
	}
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	free(in);
	free(want);
	free(got);
}

/*
 * A loaded network's activity is its own: what the host reference counts
 * for the same run, the programming besides, and nothing of the tenant of
 * tile 0.
 */
static void test_activity(void **state)
{
	struct ionpu_network *net = network();
	struct ionpu_activity mine_act, host_act;
	struct ionpu_program_stats st;
	struct ionpu_plan *plan;
	struct ionpu_host *host;
	struct ionpu_loaded *n;
	float *in = raster();
	uint8_t *out = malloc(STEPS * 20);

	(void)state;
	assert_non_null(out);
	load(net, NULL, &plan, &n);
	ionpu_loaded_report(n, &st);
	assert_int_equal(ionpu_loaded_activity(n, &mine_act), 0);
	assert_int_equal(mine_act.program_pulses, st.pulses);
	assert_int_equal(mine_act.timesteps + mine_act.spikes_in, 0);

	/* The other tenant's work. */
	assert_int_equal(ionpu_fabric_input(card.fab, 0, 3, 1.0f), 0);
	assert_int_equal(ionpu_host_new(net, plan, &host), 0);
	assert_int_equal(ionpu_host_run(host, in, STEPS, out), 0);
	assert_int_equal(ionpu_loaded_run(n, in, STEPS, 0, out), 0);
	ionpu_host_activity(host, &host_act);
	assert_int_equal(ionpu_loaded_activity(n, &mine_act), 0);
	assert_int_equal(mine_act.timesteps, STEPS);
	assert_int_equal(mine_act.spikes_in, host_act.spikes_in);
	assert_true(host_act.spikes_in > 0);
	assert_int_equal(mine_act.spikes_out, host_act.spikes_out);
	assert_int_equal(mine_act.synaptic_events, host_act.synaptic_events);
	assert_int_equal(mine_act.program_pulses, st.pulses);

	assert_int_equal(ionpu_loaded_activity(NULL, &mine_act), -EINVAL);
	card.per_card_only = true;
	assert_int_equal(ionpu_loaded_activity(n, &mine_act), -EOPNOTSUPP);
	assert_non_null(strstr(ionpu_last_error(), "rev 1.5"));

	ionpu_unload(n);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	free(in);
	free(out);
}

/* A reset of the card, as the driver makes one: the cells stay. */
static void card_reset(void)
{
	ionpu_fabric_reset(card.fab);
	card.resets++;
	card.reset_seen = true;
}

/*
 * A reset of the card (someone else's hang) between two runs clears the
 * tiles; the library sets them up again and the run equals the host's.  A
 * run that was to go on from the lost state fails instead.
 */
static void test_reset_is_restored(void **state)
{
	struct ionpu_network *net = network();
	struct ionpu_plan *plan;
	struct ionpu_host *host;
	struct ionpu_loaded *n;
	float *in = raster();
	uint8_t *want = malloc(STEPS * 20), *got = malloc(STEPS * 20);

	(void)state;
	assert_true(want && got);
	load(net, NULL, &plan, &n);
	assert_int_equal(ionpu_host_new(net, plan, &host), 0);
	assert_int_equal(ionpu_host_run(host, in, STEPS, want), 0);

	card_reset();
	memset(got, 0, STEPS * 20);
	assert_int_equal(ionpu_loaded_run(n, in, STEPS, 0, got), 0);
	assert_false(card.reset_seen);
	assert_memory_equal(want, got, STEPS * 20);

	/* Once more: the library counts resets from the one it restored. */
	card_reset();
	memset(got, 0, STEPS * 20);
	assert_int_equal(ionpu_loaded_run(n, in, STEPS, 0, got), 0);
	assert_memory_equal(want, got, STEPS * 20);

	card_reset();
	assert_int_equal(ionpu_loaded_run(n, in, STEPS, IONPU_RUN_KEEP_STATE, got), -ESTALE);
	assert_non_null(strstr(ionpu_last_error(), "IONPU_IOC_JOB"));

	ionpu_unload(n);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	free(in);
	free(want);
	free(got);
}

/* Physical mode: every cell accounted for; stuck devices remapped or failed. */
static void test_physical_report(void **state)
{
	const struct ionpu_load_opts opts = { .flags = IONPU_LOAD_PHYSICAL | IONPU_LOAD_NO_CALIB };
	struct ionpu_network *net = network();
	struct ionpu_program_stats st, t0, t1;
	const struct ionpu_cell_note *notes;
	struct ionpu_plan *plan;
	struct ionpu_loaded *n;
	float *in = raster();
	uint8_t *out = malloc(STEPS * 20);
	size_t n_notes;

	(void)state;
	assert_non_null(out);
	load(net, &opts, &plan, &n);
	ionpu_loaded_report(n, &st);
	assert_int_equal(ionpu_loaded_tile_report(n, 0, NULL, &t0), 0);
	assert_int_equal(ionpu_loaded_tile_report(n, 1, NULL, &t1), 0);
	assert_int_equal(ionpu_loaded_tile_report(n, 2, NULL, &t1), -EINVAL);
	assert_int_equal(ionpu_loaded_tile_report(n, 1, NULL, &t1), 0);
	assert_int_equal(st.cells, t0.cells + t1.cells);
	assert_int_equal(st.devices + st.stuck, 2 * st.cells);
	assert_int_equal(st.stuck, t0.stuck + t1.stuck);
	assert_true(st.max_error_us >= st.mean_error_us && st.mean_error_us > 0);
	assert_true(st.max_error_us == fmax(t0.max_error_us, t1.max_error_us));
	notes = ionpu_loaded_cell_notes(n, &n_notes);
	assert_int_equal(n_notes, st.remapped + st.failed);
	for (size_t k = 0; k < n_notes; k++) {
		assert_true(notes[k].tile < 2 && notes[k].row < 256 && notes[k].column < 20);
		if (notes[k].outcome == IONPU_CELL_REMAPPED)
			assert_true(fabs(notes[k].achieved - notes[k].weight) <
				    0.5 * fabs(notes[k].weight) + 0.05);
	}
	assert_int_equal(ionpu_loaded_run(n, in, 100, 0, out), 0);
	ionpu_unload(n);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	free(in);
	free(out);
}

/* Not enough free tiles: -EBUSY, and nothing stays leased. */
static void test_busy(void **state)
{
	struct ionpu_network *net = network();
	struct ionpu_loaded *n = NULL;
	struct ionpu_plan *plan;
	struct ionpu_dev *dev;

	(void)state;
	card.others = 0xfd;	/* tile 1 is free, the plan needs two */
	dev = open_and_compile(net, &plan);
	assert_int_equal(ionpu_load(dev, net, plan, NULL, &n), -EBUSY);
	assert_null(n);
	assert_int_equal(card.leased, 0);
	ionpu_close(dev);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

/* What a progress callback saw; it stops the load at call @stop_at (0: never). */
struct told {
	uint64_t done[64];
	uint64_t total;
	size_t calls;
	size_t stop_at;
};

static int record_progress(void *arg, uint64_t done, uint64_t total)
{
	struct told *t = arg;

	if (t->calls < 64)
		t->done[t->calls] = done;
	t->total = total;
	t->calls++;
	return t->stop_at && t->calls == t->stop_at;
}

/* Progress runs from 0 to two writes per programmed cell, never back. */
static void test_progress(void **state)
{
	struct ionpu_network *net = network();
	struct ionpu_program_stats st;
	struct told told = { 0 };
	struct ionpu_loaded *n;
	struct ionpu_plan *plan;
	struct ionpu_dev *dev;

	(void)state;
	dev = open_and_compile(net, &plan);
	if (ionpu_load_progress(dev, net, plan, NULL, record_progress, &told, &n))
		fail_msg("load: %s", ionpu_last_error());
	ionpu_loaded_report(n, &st);
	assert_true(told.calls >= 3 && told.calls <= 64);
	assert_int_equal(told.total, 2 * st.cells);
	assert_int_equal(told.done[0], 0);
	for (size_t k = 1; k < told.calls; k++)
		assert_true(told.done[k] >= told.done[k - 1]);
	assert_int_equal(told.done[told.calls - 1], told.total);
	ionpu_unload(n);
	ionpu_close(dev);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

/* A callback that says stop: -ECANCELED, the tiles released, nothing loaded. */
static void test_progress_cancels(void **state)
{
	struct ionpu_network *net = network();
	struct told told = { .stop_at = 2 };
	struct ionpu_loaded *n = NULL;
	struct ionpu_plan *plan;
	struct ionpu_dev *dev;

	(void)state;
	dev = open_and_compile(net, &plan);
	assert_int_equal(ionpu_load_progress(dev, net, plan, NULL, record_progress, &told, &n),
			 -ECANCELED);
	assert_null(n);
	assert_int_equal(told.calls, 2);
	assert_non_null(strstr(ionpu_last_error(), "stopped by the progress callback"));
	assert_int_equal(card.leased, 0);
	ionpu_close(dev);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ideal_equals_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_is_restored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_physical_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_progress_cancels, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
