// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_compile: how long ionpu_compile() takes, in CPU seconds of the
 * process (one core), and how much memory it takes at its peak, on:
 *
 * - "full card": a 256-channel input feeding one LIF population of 64 x 256
 *   neurons through a dense projection, which fills every tile of a
 *   64-tile card (64 groups of 256 neurons, each with 256 rows);
 * - "200k refused": 200,000 LIF neurons behind a 16-channel input, dense,
 *   on the same card, which the compiler must refuse (-ENOSPC);
 * - a scale: 100 input channels feeding 100, 1,000 and 10,000 neurons,
 *   dense (10k, 100k and 1M synapses), and the full card again, each in a
 *   child process of its own, forked before anything big is built, whose
 *   peak resident memory (ru_maxrss) is what a program that builds that
 *   network and compiles it needs at most.
 *
 * Each is compiled RUNS times; the median time is reported.  Output: one
 * JSON object {"figures": {...}} on stdout, computed on this run.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ionpu/ionpu.h>

#define RUNS 5
#define TILES 64
#define FULL_INPUTS 256
#define FULL_NEURONS (TILES * 256)
#define BIG_INPUTS 16
#define BIG_NEURONS 200000
#define SCALES 4

static const struct {
	uint32_t inputs, neurons;
} scale_net[SCALES] = {
	{ 100, 100 },
	{ 100, 1000 },
	{ 100, 10000 },
	{ FULL_INPUTS, FULL_NEURONS },
};

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* @inputs channels -> @neurons LIF neurons, dense, non-zero weights. */
static struct ionpu_network *build(uint32_t inputs, uint32_t neurons)
{
	struct ionpu_neuron_params p = { 0 };
	double *tau = malloc(neurons * sizeof(*tau));
	double *one = malloc(neurons * sizeof(*one));
	double *zero = calloc(neurons, sizeof(*zero));
	double *w = malloc((size_t)inputs * neurons * sizeof(*w));
	struct ionpu_network *net = NULL;
	uint32_t in, pop;

	if (!tau || !one || !zero || !w || ionpu_network_create(&net))
		goto out;
	for (uint32_t i = 0; i < neurons; i++) {
		tau[i] = 0.02;
		one[i] = 1;
	}
	for (size_t i = 0; i < (size_t)inputs * neurons; i++)
		w[i] = (double)(i % 9) - 4 + 0.5;
	p = (struct ionpu_neuron_params){
		.tau = tau,
		.r = one,
		.v_leak = zero,
		.v_threshold = one,
	};
	if (ionpu_network_add_input(net, "in", inputs, &in) ||
	    ionpu_network_add_population(net, "pop", IONPU_NEURON_LIF, neurons,
					 &p, &pop) ||
	    ionpu_network_add_dense(net, in, pop, w, NULL, NULL) ||
	    ionpu_network_mark_output(net, pop)) {
		fprintf(stderr, "bench_compile: %s\n", ionpu_last_error());
		ionpu_network_free(net);
		net = NULL;
	}
out:
	free(tau);
	free(one);
	free(zero);
	free(w);
	return net;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median CPU seconds of RUNS compiles of @net; each must return @want.
 * *@tiles: the plan's tiles when it compiles.
 */
static int time_compile(const struct ionpu_network *net, int want,
			double *median, uint32_t *tiles)
{
	struct ionpu_card_desc card;
	double t[RUNS];

	ionpu_card_desc_default(TILES, &card);
	for (int r = 0; r < RUNS; r++) {
		struct ionpu_plan *plan = NULL;
		struct ionpu_plan_stats s;
		double t0 = cpu_seconds();
		int err = ionpu_compile(net, &card, &plan);

		t[r] = cpu_seconds() - t0;
		if (err != want) {
			fprintf(stderr,
				"bench_compile: compile returned %d, want %d: %s\n",
				err, want, err ? ionpu_last_error() : "");
			ionpu_plan_free(plan);
			return -1;
		}
		if (plan) {
			ionpu_plan_stats(plan, &s);
			*tiles = s.tiles;
		}
		ionpu_plan_free(plan);
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	*median = t[RUNS / 2];
	return 0;
}

/* Resident memory high-water mark of this process, KiB. */
static long peak_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
}

/* What a scale point measured, passed from its child. */
struct scale_point {
	double cpu_s;
	long peak_kib;
	int ok;
};

static double synapses(int k)
{
	return (double)scale_net[k].inputs * scale_net[k].neurons;
}

static double ns_per_synapse(const struct scale_point *p, int k)
{
	return p->cpu_s / synapses(k) * 1e9;
}

/* In a child: build @inputs -> @neurons, dense, and time its compiles. */
static int scale_point(uint32_t inputs, uint32_t neurons,
		       struct scale_point *out)
{
	int fds[2], status;
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct scale_point p = { 0 };
		struct ionpu_network *net = build(inputs, neurons);
		uint32_t tiles = 0;

		p.ok = net && !time_compile(net, 0, &p.cpu_s, &tiles);
		p.peak_kib = peak_kib();
		ionpu_network_free(net);
		_exit(write(fds[1], &p, sizeof(p)) == sizeof(p) ? 0 : 1);
	}
	close(fds[1]);
	if (read(fds[0], out, sizeof(*out)) != sizeof(*out))
		out->ok = 0;
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -1;
	return out->ok ? 0 : -1;
}

int main(void)
{
	struct ionpu_network *full = NULL, *big = NULL;
	struct scale_point scale[SCALES] = { 0 };
	double full_s = 0, big_s = 0;
	uint32_t tiles = 0, none = 0;
	int rc = 1;

	for (int k = 0; k < SCALES; k++) {
		if (scale_point(scale_net[k].inputs, scale_net[k].neurons,
				&scale[k])) {
			fprintf(stderr,
				"bench_compile: the %u x %u scale point failed\n",
				scale_net[k].inputs, scale_net[k].neurons);
			return 1;
		}
	}
	full = build(FULL_INPUTS, FULL_NEURONS);
	big = build(BIG_INPUTS, BIG_NEURONS);
	if (!full || !big)
		goto out;
	if (time_compile(full, 0, &full_s, &tiles) ||
	    time_compile(big, -ENOSPC, &big_s, &none))
		goto out;
	if (tiles != TILES) {
		fprintf(stderr,
			"bench_compile: the full card's plan uses %u tiles, not %u\n",
			tiles, TILES);
		goto out;
	}
	printf("{\"figures\": {\"runs\": %d, \"full_card_tiles\": %u, \"full_card_neurons\": %u, "
	       "\"full_card_synapses\": %u, \"full_card_compile_cpu_s\": %.4f, "
	       "\"refused_neurons\": %u, \"refused_compile_cpu_s\": %.4f, \"scale\": [",
	       RUNS, tiles, FULL_NEURONS, FULL_INPUTS * FULL_NEURONS, full_s,
	       BIG_NEURONS, big_s);
	for (int k = 0; k < SCALES; k++)
		printf("%s{\"synapses\": %.0f, \"compile_cpu_s\": %.4f, \"ns_per_synapse\": %.1f, "
		       "\"peak_kib\": %ld}",
		       k ? ", " : "", synapses(k), scale[k].cpu_s,
		       ns_per_synapse(&scale[k], k), scale[k].peak_kib);
	/* Near-linear growth: the time per synapse at 1M over that at 10k. */
	printf("], \"per_synapse_1m_vs_10k\": %.2f}}\n",
	       ns_per_synapse(&scale[2], 2) / ns_per_synapse(&scale[0], 0));
	rc = 0;
out:
	ionpu_network_free(full);
	ionpu_network_free(big);
	return rc;
}
