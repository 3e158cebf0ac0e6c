// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_core: synaptic events per second of the compute fabric on a
 * network that fills the card, single-threaded unless --threads says
 * otherwise.  bench/brian2_bench.py runs the same network in Brian2 and
 * compares; bench/core_scaling.py runs it over tile and thread counts.
 *
 * The network: every tile an ideal LIF tile (tau 20 ms, threshold 1, dt
 * 1 ms); each of its 256 rows is a Poisson input at RATE Hz connected to
 * all 256 neurons of the tile, weight WEIGHT_UNIT * weight_level(); no
 * routes.  Synaptic events are input spikes times 256 on both sides.
 *
 * Output: one line "fabric: key=value ..." for the Python side to parse.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ionpu_fabric.h"
#include "ionpu_rng.h"

/* Shared with brian2_bench.py: the weight of (tile, row, col) in units. */
static int weight_level(unsigned int tile, unsigned int row,
			unsigned int col)
{
	return (int)((row * 131 + col * 71 + tile * 29) % 9) - 4;
}

struct opts {
	unsigned int tiles;
	unsigned int threads;
	double rate;		/* Hz per input */
	double duration;	/* s */
	double dt;		/* s */
	double weight_unit;
	uint64_t seed;
};

static int parse(int argc, char **argv, struct opts *o)
{
	for (int k = 1; k + 1 < argc; k += 2) {
		const char *key = argv[k], *val = argv[k + 1];

		if (!strcmp(key, "--tiles"))
			o->tiles = (unsigned int)strtoul(val, NULL, 0);
		else if (!strcmp(key, "--threads"))
			o->threads = (unsigned int)strtoul(val, NULL, 0);
		else if (!strcmp(key, "--rate"))
			o->rate = strtod(val, NULL);
		else if (!strcmp(key, "--duration"))
			o->duration = strtod(val, NULL);
		else if (!strcmp(key, "--dt"))
			o->dt = strtod(val, NULL);
		else if (!strcmp(key, "--weight"))
			o->weight_unit = strtod(val, NULL);
		else if (!strcmp(key, "--seed"))
			o->seed = strtoull(val, NULL, 0);
		else
			return -EINVAL;
	}
	return argc % 2 ? 0 : -EINVAL;
}

static int build(struct ionpu_fabric *f, const struct opts *o)
{
	struct ionpu_fab_tile_config tc = {
		.mode = IONPU_FAB_IDEAL, .model = IONPU_FAB_LIF,
		.dt = (float)o->dt,
		.gain = (float)(o->weight_unit / IONPU_FAB_G_STEP),
	};
	struct ionpu_fab_neuron p;
	struct ionpu_fab_prog_result r;
	int ret;

	ionpu_fab_neuron_defaults(IONPU_FAB_LIF, &p);
	p.tau = 20e-3f;
	for (unsigned int t = 0; t < o->tiles; t++) {
		ret = ionpu_fabric_set_tile(f, t, &tc);
		for (unsigned int n = 0; !ret && n < IONPU_FAB_NEURONS; n++)
			ret = ionpu_fabric_set_neuron(f, t, n, &p);
		for (unsigned int row = 0; !ret && row < IONPU_FAB_ROWS; row++) {
			for (unsigned int col = 0;
			     !ret && col < IONPU_FAB_NEURONS; col++) {
				int w = weight_level(t, row, col);
				enum ionpu_fab_device dev = w > 0 ?
					IONPU_FAB_GPLUS : IONPU_FAB_GMINUS;

				if (!w)
					continue;
				ret = ionpu_fabric_program(
					f, t, row, col, dev,
					IONPU_FAB_G_MIN + abs(w) *
					IONPU_FAB_G_STEP,
					0.5f * IONPU_FAB_G_STEP, 1, &r);
			}
		}
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Poisson inputs by geometric skipping over all rows of the card: the gap
 * to the next spiking row is geometric with p = rate dt, so a timestep
 * costs one draw per spike, not one per row.
 */
static int feed(struct ionpu_fabric *f, struct ionpu_rng *rng,
		unsigned int rows, double log_q)
{
	long long k = -1;

	for (;;) {
		double u = (ionpu_rng_next(rng) >> 11) * 0x1p-53;
		int ret;

		k += 1 + (long long)floor(log1p(-u) / log_q);
		if (k >= rows)
			return 0;
		ret = ionpu_fabric_input(f, (unsigned int)(k / IONPU_FAB_ROWS),
					 (unsigned int)(k % IONPU_FAB_ROWS),
					 1.0f);
		if (ret)
			return ret;
	}
}

/*
 * The process's resident memory now, in bytes, or 0.  Not getrusage()'s
 * peak: Linux carries that over an exec, from a parent (Python) that may
 * well have been bigger.
 */
static double resident(void)
{
	unsigned long size, pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &pages) != 2)
		pages = 0;
	fclose(f);
	return (double)pages * (double)sysconf(_SC_PAGESIZE);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.tiles = IONPU_FAB_MAX_TILES, .threads = 1, .rate = 50,
		.duration = 5,
		.dt = 1e-3, .weight_unit = 0.5, .seed = 1,
	};
	struct ionpu_fabric_config cfg;
	struct ionpu_fab_counters c;
	struct ionpu_fabric *f;
	struct ionpu_rng rng;
	uint64_t steps;
	double t0, secs, log_q, rss0;
	int ret;

	if (parse(argc, argv, &o) || o.tiles < 1 ||
	    o.tiles > IONPU_FAB_MAX_TILES || o.threads < 1 ||
	    o.threads > IONPU_FAB_MAX_THREADS || !(o.rate * o.dt > 0) ||
	    !(o.rate * o.dt < 1) || !(o.duration > 0)) {
		fprintf(stderr, "usage: bench_core [--tiles N] [--threads N] [--rate HZ] "
			"[--duration S] [--dt S] [--weight W] [--seed S]\n");
		return 2;
	}
	cfg = (struct ionpu_fabric_config){ .tiles = o.tiles,
					    .seed = o.seed,
					    .threads = o.threads };
	rss0 = resident();
	ret = ionpu_fabric_new(&cfg, &f);
	if (ret || (ret = build(f, &o))) {
		fprintf(stderr, "bench_core: setting up: %s\n", strerror(-ret));
		return 1;
	}
	ionpu_rng_seed(&rng, o.seed);
	steps = (uint64_t)llround(o.duration / o.dt);
	log_q = log1p(-o.rate * o.dt);
	t0 = now_s();
	for (uint64_t s = 0; s < steps && !ret; s++) {
		ret = feed(f, &rng, o.tiles * IONPU_FAB_ROWS, log_q);
		if (!ret)
			ret = ionpu_fabric_run(f, 1, NULL, NULL, NULL);
	}
	secs = now_s() - t0;
	if (ret) {
		fprintf(stderr, "bench_core: running: %s\n", strerror(-ret));
		return 1;
	}
	ionpu_fabric_counters(f, &c);
	/* Every array the run uses has been written by now: resident. */
	printf("fabric: threads=%u neurons=%u inputs=%u steps=%llu input_spikes=%llu "
	       "events=%llu output_spikes=%llu seconds=%.6f "
	       "events_per_s=%.4g bytes_per_synapse=%.2f\n",
	       o.threads, o.tiles * IONPU_FAB_NEURONS, o.tiles * IONPU_FAB_ROWS,
	       (unsigned long long)steps, (unsigned long long)c.spikes_in,
	       (unsigned long long)c.syn_events,
	       (unsigned long long)c.spikes_out, secs,
	       (double)c.syn_events / secs,
	       (resident() - rss0) / ((double)o.tiles * IONPU_FAB_ROWS * IONPU_FAB_NEURONS));
	ionpu_fabric_free(f);
	return 0;
}
