// SPDX-License-Identifier: GPL-2.0-only
/*
 * libionpu's card path against the real driver and the emulated card:
 * networks built with the builder API (a dense LIF layer, a chain of tiles
 * wider than 256 inputs with recurrence, delays over two layers, a
 * convolution) and one the library writes to NIR and reads back are
 * compiled for the card, loaded in ideal mode and run; each output equals
 * the host reference's bit for bit and programming reports no failed cell.
 * Also: the weights read back, a long input streamed in pieces, hundreds
 * of runs in flight on the io_uring queue, two processes with a network
 * each at once, physical mode's statistics, and runs that go on right
 * after a reset of the card.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ionpu/ionpu.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

#define DT 1e-3

/* A small deterministic generator (31 bits), so every run sees the same networks. */
static uint32_t next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

/* Uniform in [lo, hi). */
static double uniform(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * (next_rand(s) / 2147483648.0);
}

static uint32_t add_input(struct ionpu_network *net, const char *name, uint32_t size)
{
	uint32_t id = 0;

	if (ionpu_network_add_input(net, name, size, &id))
		return UINT32_MAX;
	return id;
}

/* @size neurons of @model; tau, r, leak and threshold the same for all. */
static uint32_t add_pop(struct ionpu_network *net, const char *name,
			enum ionpu_neuron_model model, uint32_t size, double tau,
			double v_leak, double v_th)
{
	double *a = malloc(4 * size * sizeof(*a));
	struct ionpu_neuron_params p = { 0 };
	uint32_t id = UINT32_MAX;

	if (!a)
		return id;
	for (uint32_t i = 0; i < size; i++) {
		a[i] = tau;
		a[size + i] = model == IONPU_NEURON_IF ? 1 / DT : 1;
		a[2 * size + i] = v_leak;
		a[3 * size + i] = v_th;
	}
	p.r = a + size;
	p.v_threshold = a + 3 * size;
	if (model != IONPU_NEURON_IF) {
		p.tau = a;
		p.v_leak = a + 2 * size;
	}
	if (ionpu_network_add_population(net, name, model, size, &p, &id))
		id = UINT32_MAX;
	free(a);
	return id;
}

/* A dense projection of weights uniform in [lo, hi); delays in steps or NULL. */
static int add_dense(struct ionpu_network *net, uint32_t src, uint32_t ns, uint32_t dst,
		     uint32_t nd, double lo, double hi, const unsigned int *delay_steps,
		     uint64_t *seed)
{
	double *w = malloc((size_t)ns * nd * sizeof(*w)), *d = NULL;
	int err;

	if (!w)
		return -ENOMEM;
	for (size_t k = 0; k < (size_t)ns * nd; k++)
		w[k] = uniform(seed, lo, hi);
	if (delay_steps) {
		d = malloc(ns * sizeof(*d));
		for (uint32_t i = 0; d && i < ns; i++)
			d[i] = delay_steps[i] * DT;
	}
	err = delay_steps && !d ? -ENOMEM : ionpu_network_add_dense(net, src, dst, w, d, NULL);
	free(w);
	free(d);
	return err;
}

/* A raster of @steps x @n spikes, each with probability 1 / @every. */
static float *raster(size_t steps, size_t n, unsigned int every, uint64_t *seed)
{
	float *r = malloc((steps * n + 1) * sizeof(*r));

	for (size_t k = 0; r && k < steps * n; k++)
		r[k] = next_rand(seed) % every == 0;
	return r;
}

FIXTURE(run) {
	struct ionpu_dev *dev;
	struct ionpu_card_desc card;
	char node[64];
	char pci[32];
	bool has_job;
};

/* The card path needs IONPU_IOC_JOB; without it, the load part still runs. */
static bool job_supported(const char *node)
{
	struct ionpu_job job = { 0 };
	int fd = open(node, O_RDWR);
	bool ok;

	if (fd < 0)
		return false;
	/* No leased tile: -EACCES from a driver that knows the command. */
	ok = ioctl(fd, IONPU_IOC_JOB, &job) == 0 || errno != ENOTTY;
	close(fd);
	return ok;
}

FIXTURE_SETUP(run)
{
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	int n = ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS);

	self->dev = NULL;
	if (n <= 0)
		SKIP(return, "no ionpu card in this machine");
	/* The card with the most tiles: the wide chain needs six. */
	for (int i = 1; i < n; i++)
		if (cards[i].tiles > cards[0].tiles)
			cards[0] = cards[i];
	snprintf(self->node, sizeof(self->node), "%s", cards[0].node);
	snprintf(self->pci, sizeof(self->pci), "%s", cards[0].pci);
	ASSERT_EQ(0, ionpu_open(self->node, &self->dev)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_card_desc_of(self->dev, &self->card)) TH_LOG("%s", ionpu_last_error());
	self->has_job = job_supported(self->node);
}

FIXTURE_TEARDOWN(run)
{
	ionpu_close(self->dev);
}

/* What one network's check found, for the log. */
struct outcome {
	size_t spikes;
	uint32_t tiles;
	struct ionpu_program_stats report;
};

/*
 * Compile @net for the card, load it in ideal mode, check the report and
 * the weights read back, then (if the driver runs jobs) run @in on the card
 * and on the host and compare.  Returns 0, or the step of the first
 * difference + 1, or a negative errno with the library's message logged.
 */
static long card_equals_host(struct __test_metadata *_metadata, struct ionpu_dev *dev,
			     const struct ionpu_card_desc *card, bool run,
			     const struct ionpu_network *net, const float *in, size_t steps,
			     struct outcome *oc)
{
	struct ionpu_synapse_read *syn = NULL;
	struct ionpu_plan_stats ps;
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *host = NULL;
	struct ionpu_loaded *n = NULL;
	uint8_t *want = NULL, *got = NULL;
	size_t n_syn = 0, n_out;
	long ret = 0;

	memset(oc, 0, sizeof(*oc));
	if (ionpu_compile(net, card, &plan) || ionpu_host_new(net, plan, &host) ||
	    ionpu_load(dev, net, plan, NULL, &n)) {
		TH_LOG("%s", ionpu_last_error());
		ret = -EIO;
		goto out;
	}
	ionpu_plan_stats(plan, &ps);
	oc->tiles = ps.tiles;
	ionpu_loaded_report(n, &oc->report);
	EXPECT_EQ(0, oc->report.failed);
	EXPECT_EQ(0, oc->report.remapped);
	EXPECT_EQ(0, oc->report.stuck);
	EXPECT_EQ(0.0, oc->report.max_error_us);
	EXPECT_EQ(2 * oc->report.cells, oc->report.devices);
	EXPECT_EQ(0, ionpu_loaded_read_weights(n, &syn, &n_syn));
	EXPECT_EQ(ps.cells, n_syn);
	for (size_t k = 0; k < n_syn; k++)
		EXPECT_EQ(syn[k].weight, syn[k].read);
	free(syn);
	EXPECT_EQ(ionpu_host_inputs(host), ionpu_loaded_inputs(n));
	EXPECT_EQ(ionpu_host_outputs(host), ionpu_loaded_outputs(n));
	if (!run)
		goto out;
	n_out = ionpu_loaded_outputs(n);
	want = calloc(steps * n_out + 1, 1);
	got = calloc(steps * n_out + 1, 1);
	if (!want || !got) {
		ret = -ENOMEM;
		goto out;
	}
	if (ionpu_host_run(host, in, steps, want) || ionpu_loaded_run(n, in, steps, 0, got)) {
		TH_LOG("%s", ionpu_last_error());
		ret = -EIO;
		goto out;
	}
	for (size_t k = 0; k < steps * n_out; k++) {
		oc->spikes += want[k];
		if (!ret && want[k] != got[k])
			ret = (long)(k / n_out) + 1;
	}
out:
	free(want);
	free(got);
	ionpu_unload(n);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	return ret;
}

#define CHECK_NET(net, in, steps) do {						\
	struct outcome oc;							\
	long r = card_equals_host(_metadata, self->dev, &self->card,		\
				  self->has_job, (net), (in), (steps), &oc);	\
	ASSERT_EQ(0, r) TH_LOG("card and host differ from step %ld", r - 1);	\
	TH_LOG("%u tiles, %llu cells programmed (%llu pulses), %zu spikes",	\
	       oc.tiles, (unsigned long long)oc.report.cells,			\
	       (unsigned long long)oc.report.pulses, oc.spikes);		\
	if (self->has_job)							\
		EXPECT_LT(0, oc.spikes);					\
} while (0)

#define NEED_JOB() do {								\
	if (!self->has_job)							\
		SKIP(return, "the driver does not run jobs (IONPU_IOC_JOB)");	\
} while (0)

/* in(64) -> LIF(100): one tile, weights of both signs. */
static struct ionpu_network *dense_lif(uint64_t *seed)
{
	struct ionpu_network *net = NULL;
	uint32_t in, pop;

	if (ionpu_network_create(&net))
		return NULL;
	in = add_input(net, "in", 64);
	pop = add_pop(net, "lif", IONPU_NEURON_LIF, 100, 0.01, 0, 1);
	if (add_dense(net, in, 64, pop, 100, -0.4, 0.8, NULL, seed) ||
	    ionpu_network_mark_output(net, pop)) {
		ionpu_network_free(net);
		return NULL;
	}
	return net;
}

TEST_F(run, dense_lif_layer)
{
	uint64_t seed = 1;
	struct ionpu_network *net = dense_lif(&seed);
	float *in = raster(60, 64, 4, &seed);

	ASSERT_NE(NULL, net);
	ASSERT_NE(NULL, in);
	CHECK_NET(net, in, 60);
	free(in);
	ionpu_network_free(net);
}

/*
 * A reset of the card (here through sysfs, as an administrator's or
 * another tenant's hang) clears the network's tiles but keeps its cells:
 * the library sets them up again, and a run and a batch right after each
 * reset still equal the host.  Without that the driver refuses the run
 * (-ESTALE) rather than run on cleared tiles.
 */
TEST_F(run, runs_go_on_after_a_reset)
{
	const size_t steps = 60, samples = 3;
	uint64_t seed = 11;
	struct ionpu_network *net = dense_lif(&seed);
	float *in = raster(steps * samples, 64, 4, &seed);
	uint8_t *want = calloc(samples * steps * 100, 1);
	uint8_t *got = calloc(samples * steps * 100, 1);
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *host = NULL;
	struct ionpu_loaded *n = NULL;
	char path[PATH_MAX];

	NEED_JOB();
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", self->pci);
	if (access(path, W_OK))
		SKIP(return, "%s has no reset method", self->pci);
	ASSERT_TRUE(net && in && want && got);
	ASSERT_EQ(0, ionpu_compile(net, &self->card, &plan)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_host_new(net, plan, &host)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_load(self->dev, net, plan, NULL, &n)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_host_run_batch(host, in, samples, steps, want));

	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));
	EXPECT_EQ(0, ionpu_loaded_run(n, in, steps, 0, got)) TH_LOG("%s", ionpu_last_error());
	EXPECT_EQ(0, memcmp(want, got, steps * 100));

	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));
	memset(got, 0, samples * steps * 100);
	EXPECT_EQ(0, ionpu_loaded_run_batch(n, in, samples, steps, got))
		TH_LOG("%s", ionpu_last_error());
	EXPECT_EQ(0, memcmp(want, got, samples * steps * 100));

	ionpu_unload(n);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	free(in);
	free(want);
	free(got);
}

/*
 * in(300) -> LIF(300) and LIF(300) -> itself with a delay of one step:
 * fan-in over 256 rows makes two chains of three tiles.
 */
TEST_F(run, wide_chain_with_recurrence)
{
	unsigned int d1[300];
	uint64_t seed = 2;
	struct ionpu_network *net;
	float *in = raster(40, 300, 4, &seed);
	uint32_t src, pop;

	for (int i = 0; i < 300; i++)
		d1[i] = 1;
	ASSERT_EQ(0, ionpu_network_create(&net));
	src = add_input(net, "in", 300);
	pop = add_pop(net, "lif", IONPU_NEURON_LIF, 300, 0.005, 0.05, 1);
	ASSERT_EQ(0, add_dense(net, src, 300, pop, 300, -0.08, 0.12, NULL, &seed));
	ASSERT_EQ(0, add_dense(net, pop, 300, pop, 300, -0.05, 0.04, d1, &seed));
	ASSERT_EQ(0, ionpu_network_mark_output(net, pop));
	ASSERT_NE(NULL, in);
	CHECK_NET(net, in, 40);
	free(in);
	ionpu_network_free(net);
}

/* in(8) -> LIF(32), LIF -> LIF with delays of 0..3 steps: recurrence. */
TEST_F(run, recurrent_layer)
{
	unsigned int d[32];
	uint64_t seed = 3;
	struct ionpu_network *net;
	float *in = raster(80, 8, 3, &seed);
	uint32_t src, pop;

	for (int i = 0; i < 32; i++)
		d[i] = i % 4;
	ASSERT_EQ(0, ionpu_network_create(&net));
	src = add_input(net, "in", 8);
	pop = add_pop(net, "rnn", IONPU_NEURON_LIF, 32, 0.02, 0, 1);
	ASSERT_EQ(0, add_dense(net, src, 8, pop, 32, 0, 1.5, NULL, &seed));
	ASSERT_EQ(0, add_dense(net, pop, 32, pop, 32, -0.3, 0.3, d, &seed));
	ASSERT_EQ(0, ionpu_network_mark_output(net, pop));
	ASSERT_NE(NULL, in);
	CHECK_NET(net, in, 80);
	free(in);
	ionpu_network_free(net);
}

/* in(16) -(delays 0..5)-> IF(20) -(delays 0..7)-> LIF(10): both layers out. */
TEST_F(run, delays_over_two_layers)
{
	unsigned int d_in[16], d_hid[20];
	uint64_t seed = 4;
	struct ionpu_network *net;
	float *in = raster(70, 16, 5, &seed);
	uint32_t src, hid, out;

	for (int i = 0; i < 16; i++)
		d_in[i] = i % 6;
	for (int i = 0; i < 20; i++)
		d_hid[i] = i % 8;
	ASSERT_EQ(0, ionpu_network_create(&net));
	src = add_input(net, "in", 16);
	hid = add_pop(net, "hid", IONPU_NEURON_IF, 20, 0, 0, 1);
	out = add_pop(net, "out", IONPU_NEURON_LIF, 10, 0.01, 0, 1);
	ASSERT_EQ(0, add_dense(net, src, 16, hid, 20, -0.2, 0.5, d_in, &seed));
	ASSERT_EQ(0, add_dense(net, hid, 20, out, 10, 0, 2, d_hid, &seed));
	ASSERT_EQ(0, ionpu_network_mark_output(net, hid));
	ASSERT_EQ(0, ionpu_network_mark_output(net, out));
	ASSERT_NE(NULL, in);
	CHECK_NET(net, in, 70);
	free(in);
	ionpu_network_free(net);
}

/* in(2 x 8 x 8) -> conv 3x3, 4 channels, padding 1 -> LIF(4 x 8 x 8). */
TEST_F(run, convolution)
{
	double w[4 * 2 * 3 * 3];
	uint64_t seed = 5;
	struct ionpu_conv conv = {
		.in_channels = 2, .in_height = 8, .in_width = 8, .out_channels = 4,
		.kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1,
		.pad_h = 1, .pad_w = 1, .dilation_h = 1, .dilation_w = 1, .groups = 1,
		.weight = w,
	};
	struct ionpu_network *net;
	float *in = raster(50, 128, 3, &seed);
	uint32_t src, pop;

	for (size_t k = 0; k < sizeof(w) / sizeof(w[0]); k++)
		w[k] = uniform(&seed, -0.3, 0.9);
	ASSERT_EQ(0, ionpu_network_create(&net));
	src = add_input(net, "img", 128);
	pop = add_pop(net, "fmap", IONPU_NEURON_LIF, 256, 0.01, 0, 1);
	ASSERT_EQ(0, ionpu_network_add_conv(net, src, pop, &conv, NULL, NULL))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_network_mark_output(net, pop));
	ASSERT_NE(NULL, in);
	CHECK_NET(net, in, 50);
	free(in);
	ionpu_network_free(net);
}

/* A network the library writes as NIR and reads back runs as the original. */
TEST_F(run, nir_round_trip)
{
	char path[] = "/tmp/ionpu-run-XXXXXX.nir";
	uint64_t seed = 6;
	struct ionpu_network *net = dense_lif(&seed), *back = NULL;
	float *in = raster(60, 64, 4, &seed);
	int fd = mkstemps(path, 4);

	ASSERT_NE(NULL, net);
	ASSERT_NE(NULL, in);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, ionpu_nir_save(net, path)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_nir_load(path, &back)) TH_LOG("%s", ionpu_last_error());
	unlink(path);
	CHECK_NET(back, in, 60);
	ionpu_network_free(back);
	ionpu_network_free(net);
	free(in);
}

/* A long input in three pieces, state kept, gives the whole run's output. */
TEST_F(run, streamed_in_pieces)
{
	static const size_t piece[3] = { 25, 1, 34 };
	uint64_t seed = 7;
	struct ionpu_network *net = NULL;
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *host = NULL;
	struct ionpu_loaded *n = NULL;
	unsigned int d[8];
	float *in = raster(60, 8, 3, &seed);
	uint8_t want[60 * 32], got[60 * 32];
	size_t at = 0;
	uint32_t src, pop;

	NEED_JOB();
	for (int i = 0; i < 8; i++)
		d[i] = 3 * i;
	ASSERT_EQ(0, ionpu_network_create(&net));
	src = add_input(net, "in", 8);
	pop = add_pop(net, "rnn", IONPU_NEURON_LIF, 32, 0.02, 0, 1);
	ASSERT_EQ(0, add_dense(net, src, 8, pop, 32, 0, 1.5, d, &seed));
	ASSERT_EQ(0, add_dense(net, pop, 32, pop, 32, -0.3, 0.3, NULL, &seed));
	ASSERT_EQ(0, ionpu_network_mark_output(net, pop));
	ASSERT_EQ(0, ionpu_compile(net, &self->card, &plan));
	ASSERT_EQ(0, ionpu_host_new(net, plan, &host));
	ASSERT_EQ(0, ionpu_load(self->dev, net, plan, NULL, &n)) TH_LOG("%s", ionpu_last_error());
	/* The host runs on in the same pieces (see ionpu_host_run()). */
	for (int p = 0; p < 3; p++) {
		ASSERT_EQ(0, ionpu_host_run(host, in + at * 8, piece[p], want + at * 32));
		ASSERT_EQ(0, ionpu_loaded_run(n, in + at * 8, piece[p],
					      p ? IONPU_RUN_KEEP_STATE : 0, got + at * 32))
			TH_LOG("%s", ionpu_last_error());
		at += piece[p];
	}
	EXPECT_EQ(0, memcmp(want, got, sizeof(want)));
	/* Without KEEP_STATE a run starts from rest: the first piece again. */
	ASSERT_EQ(0, ionpu_loaded_run(n, in, piece[0], 0, got));
	EXPECT_EQ(0, memcmp(want, got, piece[0] * 32));
	ionpu_unload(n);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	free(in);
}

#define ASYNC_RUNS	300
#define ASYNC_STEPS	20

/*
 * 300 runs of different rasters submitted before any is reaped: all in
 * flight at once, each completes once, each equal to the host's run.
 */
TEST_F(run, async_queue_hundreds_in_flight)
{
	uint64_t seed = 9;
	struct ionpu_network *net = dense_lif(&seed);
	struct ionpu_completion c[64];
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *host = NULL;
	struct ionpu_queue *q = NULL;
	struct ionpu_loaded *n = NULL;
	const size_t per_run = ASYNC_STEPS * 100;
	uint8_t *want = malloc(ASYNC_RUNS * per_run), *got = calloc(ASYNC_RUNS, per_run);
	unsigned int seen[ASYNC_RUNS] = { 0 };
	size_t done = 0, max_flight = 0;

	NEED_JOB();
	ASSERT_NE(NULL, net);
	ASSERT_TRUE(want && got);
	ASSERT_EQ(0, ionpu_compile(net, &self->card, &plan));
	ASSERT_EQ(0, ionpu_host_new(net, plan, &host));
	ASSERT_EQ(0, ionpu_load(self->dev, net, plan, NULL, &n)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_queue_new(n, 512, &q)) TH_LOG("%s", ionpu_last_error());
	for (size_t r = 0; r < ASYNC_RUNS; r++) {
		float *in = raster(ASYNC_STEPS, 64, 2 + r % 5, &seed);

		ASSERT_NE(NULL, in);
		ionpu_host_reset(host);
		ASSERT_EQ(0, ionpu_host_run(host, in, ASYNC_STEPS, want + r * per_run));
		ASSERT_EQ(0, ionpu_queue_submit(q, in, ASYNC_STEPS, 0, got + r * per_run,
						1000 + r)) TH_LOG("%s", ionpu_last_error());
		free(in);
	}
	ASSERT_EQ(ASYNC_RUNS, ionpu_queue_in_flight(q));
	while (done < ASYNC_RUNS) {
		size_t flight = ionpu_queue_in_flight(q);
		int k = ionpu_queue_reap(q, c, 64, 1);

		max_flight = flight > max_flight ? flight : max_flight;
		ASSERT_LT(0, k) TH_LOG("%s", ionpu_last_error());
		for (int i = 0; i < k; i++) {
			uint64_t r = c[i].user_data - 1000;

			ASSERT_LT(r, ASYNC_RUNS);
			EXPECT_EQ(0, seen[r]++);
			EXPECT_EQ(0, c[i].status);
			EXPECT_EQ(got + r * per_run, c[i].out);
			EXPECT_EQ(ASYNC_STEPS, c[i].steps);
			EXPECT_EQ(0, memcmp(want + r * per_run, c[i].out, per_run)) TH_LOG("run %llu",
									   (unsigned long long)r);
		}
		done += (size_t)k;
	}
	EXPECT_EQ(0, ionpu_queue_in_flight(q));
	EXPECT_EQ(0, ionpu_queue_reap(q, c, 64, 0));
	TH_LOG("%d runs, up to %zu in flight", ASYNC_RUNS, max_flight);
	ionpu_queue_free(q);
	ionpu_unload(n);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	free(want);
	free(got);
}

/* One submitting thread of the threaded queue test. */
struct submitter {
	struct ionpu_queue *q;
	const float *in;		/* ASYNC_STEPS x 64 */
	uint8_t *out;			/* room for its runs */
	unsigned int first, count;
	int err;
};

static void *submit_runs(void *arg)
{
	struct submitter *s = arg;

	for (unsigned int i = 0; i < s->count && !s->err; i++) {
		s->err = ionpu_queue_submit(s->q, s->in, ASYNC_STEPS, 0,
					    s->out + (size_t)i * ASYNC_STEPS * 100, s->first + i);
		/* The queue is full: the reaper frees slots; try again. */
		if (s->err == -EBUSY) {
			s->err = 0;
			i--;
			sched_yield();
		}
	}
	/* No flush: runs issued by this thread would end with it. */
	return NULL;
}

/*
 * Four threads submit into one queue of depth 64 while this one flushes
 * and reaps: each of the 256 runs completes once, equal to the host's.
 */
TEST_F(run, async_queue_shared_by_threads)
{
	uint64_t seed = 11;
	struct ionpu_network *net = dense_lif(&seed);
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *host = NULL;
	struct ionpu_queue *q = NULL;
	struct ionpu_loaded *n = NULL;
	struct submitter sub[4];
	pthread_t th[4];
	float *in[4];
	uint8_t want[4][ASYNC_STEPS * 100], *got = malloc(4 * 64 * ASYNC_STEPS * 100);
	unsigned int seen[4 * 64] = { 0 }, done = 0;
	struct ionpu_completion c[32];

	NEED_JOB();
	ASSERT_NE(NULL, net);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, ionpu_compile(net, &self->card, &plan));
	ASSERT_EQ(0, ionpu_host_new(net, plan, &host));
	ASSERT_EQ(0, ionpu_load(self->dev, net, plan, NULL, &n)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_queue_new(n, 64, &q));
	for (int t = 0; t < 4; t++) {
		in[t] = raster(ASYNC_STEPS, 64, 2 + t, &seed);
		ASSERT_NE(NULL, in[t]);
		ionpu_host_reset(host);
		ASSERT_EQ(0, ionpu_host_run(host, in[t], ASYNC_STEPS, want[t]));
		sub[t] = (struct submitter){
			.q = q, .in = in[t], .out = got + (size_t)t * 64 * ASYNC_STEPS * 100,
			.first = t * 64, .count = 64,
		};
		ASSERT_EQ(0, pthread_create(&th[t], NULL, submit_runs, &sub[t]));
	}
	while (done < 4 * 64) {
		int k = ionpu_queue_reap(q, c, 32, 1);

		/* Nothing in flight yet: the submitters are still starting. */
		if (k == 0) {
			sched_yield();
			continue;
		}
		ASSERT_LT(0, k) TH_LOG("%s", ionpu_last_error());
		for (int i = 0; i < k; i++) {
			uint64_t r = c[i].user_data;

			ASSERT_LT(r, 4 * 64);
			EXPECT_EQ(0, seen[r]++);
			EXPECT_EQ(0, c[i].status);
			EXPECT_EQ(0, memcmp(want[r / 64], c[i].out, ASYNC_STEPS * 100));
		}
		done += (unsigned int)k;
	}
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		EXPECT_EQ(0, sub[t].err);
		free(in[t]);
	}
	ionpu_queue_free(q);
	ionpu_unload(n);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	free(got);
}

/* Child of the two-process test: its own network, 20 runs; 0 when all equal. */
static int child_runs(const char *node, uint64_t seed)
{
	struct ionpu_card_desc card;
	struct ionpu_network *net = dense_lif(&seed);
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *host = NULL;
	struct ionpu_dev *dev = NULL;
	struct ionpu_loaded *n = NULL;
	uint8_t want[40 * 100], got[40 * 100];
	int bad = 0;

	if (!net || ionpu_open(node, &dev) || ionpu_card_desc_of(dev, &card) ||
	    ionpu_compile(net, &card, &plan) || ionpu_host_new(net, plan, &host) ||
	    ionpu_load(dev, net, plan, NULL, &n)) {
		fprintf(stderr, "# child: %s\n", ionpu_last_error());
		return 2;
	}
	for (int r = 0; r < 20 && !bad; r++) {
		float *in = raster(40, 64, 3, &seed);

		ionpu_host_reset(host);
		if (!in || ionpu_host_run(host, in, 40, want) || ionpu_loaded_run(n, in, 40, 0, got))
			bad = 3;
		else if (memcmp(want, got, sizeof(want)))
			bad = 1;
		free(in);
	}
	ionpu_unload(n);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_close(dev);
	ionpu_network_free(net);
	return bad;
}

TEST_F(run, two_processes_each_with_a_network)
{
	pid_t pid[2];
	int status;

	NEED_JOB();
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			_exit(child_runs(self->node, 100 + i));
	}
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child %d", i);
	}
}

/* Physical mode programs with noise and runs; the report has the numbers. */
TEST_F(run, physical_mode_reports)
{
	const struct ionpu_load_opts opts = { .flags = IONPU_LOAD_PHYSICAL };
	struct ionpu_program_stats st, tile;
	uint64_t seed = 8;
	struct ionpu_network *net = dense_lif(&seed);
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *host = NULL;
	struct ionpu_loaded *n = NULL;
	float *in = raster(30, 64, 4, &seed);
	uint8_t out[30 * 100], want[30 * 100];
	size_t notes, spikes = 0, ideal = 0;

	ASSERT_NE(NULL, net);
	ASSERT_EQ(0, ionpu_compile(net, &self->card, &plan));
	ASSERT_EQ(0, ionpu_load(self->dev, net, plan, &opts, &n)) TH_LOG("%s", ionpu_last_error());
	ionpu_loaded_report(n, &st);
	TH_LOG("physical: %llu cells, %llu devices, %llu pulses, error mean %.4f max %.4f uS, weight error mean %.4g max %.4g, %llu stuck, %llu remapped, %llu failed",
	       (unsigned long long)st.cells, (unsigned long long)st.devices,
	       (unsigned long long)st.pulses, st.mean_error_us, st.max_error_us,
	       st.mean_weight_error, st.max_weight_error, (unsigned long long)st.stuck,
	       (unsigned long long)st.remapped, (unsigned long long)st.failed);
	EXPECT_EQ(64u * 100, st.cells);
	EXPECT_EQ(2 * st.cells, st.devices + st.stuck);
	EXPECT_LE(st.devices, st.pulses);
	EXPECT_TRUE(isfinite(st.mean_error_us) && st.mean_error_us <= st.max_error_us);
	EXPECT_EQ(0, ionpu_loaded_tile_report(n, 0, NULL, &tile));
	EXPECT_EQ(st.cells, tile.cells);
	EXPECT_EQ(-EINVAL, ionpu_loaded_tile_report(n, 1, NULL, &tile));
	ionpu_loaded_cell_notes(n, &notes);
	EXPECT_EQ(st.remapped + st.failed, notes);
	/*
	 * Physical neurons are mapped to fire at about the ideal rate
	 * (docs/libionpu.md): within a factor of two of the host reference's
	 * spike count (the model core measured 0.82x on this network).
	 */
	if (self->has_job) {
		ASSERT_EQ(0, ionpu_loaded_run(n, in, 30, 0, out)) TH_LOG("%s", ionpu_last_error());
		ASSERT_EQ(0, ionpu_host_new(net, plan, &host)) TH_LOG("%s", ionpu_last_error());
		ASSERT_EQ(0, ionpu_host_run(host, in, 30, want)) TH_LOG("%s", ionpu_last_error());
		ionpu_host_free(host);
		for (size_t k = 0; k < sizeof(out); k++) {
			spikes += out[k];
			ideal += want[k];
		}
		TH_LOG("output spikes: physical %zu, ideal %zu", spikes, ideal);
		EXPECT_LE(ideal, 2 * spikes);
		EXPECT_LE(spikes, 2 * ideal);
		EXPECT_LT(0, ideal);
	}
	ionpu_unload(n);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	free(in);
}

/*
 * The calibration record drives the remapping: after a scan of the tile
 * the network lands on, every listed stuck device of its cells is reported
 * (remapped or failed) without a pulse spent on it.
 */
TEST_F(run, physical_mode_uses_the_calibration_record)
{
	const struct ionpu_load_opts opts = { .flags = IONPU_LOAD_PHYSICAL };
	struct ionpu_stuck_device *stuck = NULL;
	struct ionpu_calib_report rep;
	struct ionpu_program_stats st;
	const struct ionpu_cell_note *notes;
	uint64_t seed = 10;
	struct ionpu_network *net = dense_lif(&seed);
	struct ionpu_plan *plan = NULL;
	struct ionpu_loaded *n = NULL;
	size_t n_stuck = 0, n_notes, in_use = 0;
	uint32_t card_tile;
	int err;

	ASSERT_NE(NULL, net);
	ASSERT_EQ(0, ionpu_compile(net, &self->card, &plan));
	/* Where the network will land: the lowest free tile. */
	ASSERT_EQ(0, ionpu_load(self->dev, net, plan, NULL, &n)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_loaded_tile_report(n, 0, &card_tile, &st));
	ionpu_unload(n);
	n = NULL;
	err = ionpu_calibrate(self->dev, 1ULL << card_tile, 0, &rep, &stuck, &n_stuck);
	if (err == -EPERM)
		SKIP(goto out, "calibrating needs CAP_SYS_ADMIN");
	ASSERT_EQ(0, err) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_load(self->dev, net, plan, &opts, &n)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_loaded_tile_report(n, 0, &card_tile, &st));
	notes = ionpu_loaded_cell_notes(n, &n_notes);
	for (size_t k = 0; k < n_stuck; k++) {
		bool noted = false;

		if (stuck[k].tile != card_tile || stuck[k].row >= 64 || stuck[k].column >= 100)
			continue;
		in_use++;
		for (size_t i = 0; i < n_notes && !noted; i++)
			noted = notes[i].card_tile == card_tile && notes[i].row == stuck[k].row &&
				notes[i].column == stuck[k].column &&
				notes[i].outcome != IONPU_CELL_FAILED_BUDGET;
		EXPECT_TRUE(noted) TH_LOG("stuck device (%u, %u, %u) not reported", stuck[k].row,
					  stuck[k].column, stuck[k].device);
	}
	TH_LOG("record: %zu stuck devices on tile %u, %zu under the network; load: %llu stuck, %llu remapped, %llu failed",
	       n_stuck, card_tile, in_use, (unsigned long long)st.stuck,
	       (unsigned long long)st.remapped, (unsigned long long)st.failed);
	EXPECT_LT(0, in_use);
	EXPECT_LE(in_use, st.stuck);
	EXPECT_EQ(2 * st.cells, st.devices + st.stuck);
	EXPECT_EQ(0, ionpu_calib_clear(self->dev));
out:
	free(stuck);
	ionpu_unload(n);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

TEST_HARNESS_MAIN
