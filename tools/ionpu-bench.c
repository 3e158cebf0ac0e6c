// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu-bench: how fast the paths an application waits on are, on a card.
 *
 * Each benchmark runs one side against its baseline in the same process,
 * one after the other, --runs times, each side for at least --seconds:
 * these machines are shared and noisy, so what is reported is the median
 * of the runs with their smallest and largest value beside it, and the
 * figures that matter are ratios taken within one run.
 *
 *  - jobs: one-step jobs of one input event, synchronous (one IONPU_IOC_JOB
 *    each, ionpu_loaded_run()) against 64 in flight on the io_uring queue
 *    (ionpu_queue_*(), uring_cmd); jobs per second and their ratio.
 *  - batch 4096: jobs of 16 steps x 256 inputs, all spiking (4096 events):
 *    the process's CPU time per job (library and driver, and each apart:
 *    its time in user space and in the kernel) against the card's own
 *    busy time for it (its modeled time, from its counter).
 *  - programming: a full tile's 65,536 cells with write-verify
 *    (ionpu_load()): cells per second, the process's CPU time against
 *    the card's modeled programming time, and the user memory the driver
 *    pinned per request (its sysfs counters).
 *  - pinned memory of jobs: the process's locked memory with 64 jobs of
 *    4096 events in flight.
 *  - inference (with --graph and --inputs, e.g. the digit classifier and
 *    its test split): each sample as its own job against all of them as
 *    one batch (ionpu_loaded_run_batch()); images per second, their ratio,
 *    and the latency of one image (median and 99th percentile).
 *  - spike I/O: rounds of 1, 64 and 4096 input events through the driver's
 *    event stream to a running tile, by IONPU_IOC_INPUT, write() or
 *    io_uring, their spikes read back (tools/ionpu_bench_stream.c); events
 *    per second and system calls per event.
 *  - several cards (with --multi): a network of four layers that fills one
 *    card, split over 1, 2 and 4 of the cards given (ionpu_split_*(),
 *    ionpu_multi_*(): one job per card per time step, the host routing the
 *    spikes between them); time steps per second, and whether every run's
 *    output equalled the whole network's host reference.
 *
 * Under QEMU's TCG the guest's CPU is emulated, so a CPU time here is
 * many times what the same code takes on real hardware; the card's time
 * is the model's, not the emulator's.  docs/bench.md says what each key
 * of the JSON output (--json) means.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ionpu/ionpu.h>

#include "ionpu_bench_stream.h"
#include "ionpu_exit.h"
#include "ionpu_json.h"

#define MAX_RUNS 99
/* The job benchmarks' network: every input to every neuron of one tile. */
#define NET_INPUTS 256
#define NET_NEURONS 256
#define NET_DT 1e-3
#define QUEUE_DEPTH 64
#define BATCH_STEPS 16 /* x NET_INPUTS events per job: 4096 */
#define BATCH_EVENTS (BATCH_STEPS * NET_INPUTS)
#define SMALL_BATCH 64 /* events of the middle job size, in one step */
/* The split benchmarks: cards, layers, steps of one run. */
#define MULTI_MAX_CARDS 8
#define MULTI_LAYERS 4
#define MULTI_STEPS 100

struct options {
	const char *device;
	const char *graph; /* inference: a NIR graph */
	const char *
		inputs; /* inference: its samples, samples x steps x channels */
	const char *multi; /* several cards: their names, comma-separated */
	unsigned int runs;
	double seconds;
	bool json;
};

/* One figure: a value per run. */
struct figure {
	const char *key;
	const char *unit;
	double v[MAX_RUNS];
	unsigned int n;
};

enum figure_id {
	F_SYNC_JOBS,
	F_URING_JOBS,
	F_URING_VS_SYNC,
	F_BATCH_CPU_US,
	F_BATCH_CARD_US,
	F_BATCH_OVERHEAD,
	F_BATCH_EVENTS,
	F_PROG_CELLS,
	F_PROG_CPU_MS,
	F_PROG_CARD_MS,
	F_PROG_OVERHEAD,
	F_INF_SINGLE,
	F_INF_BATCH,
	F_INF_RATIO,
	F_INF_P50,
	F_INF_P99,
	F_MULTI_MATCH,
	F_MULTI_1,
	F_MULTI_2,
	F_MULTI_4,
	F_MULTI_4_VS_1,
	F_MULTI_SPIKES,
	F_PIN_BYTES,
	F_PIN_PEAK,
	F_BATCH_USER_US,
	F_BATCH_SYS_US,
	F_PROG_USER_MS,
	F_PROG_SYS_MS,
	F_SYNC_64_EVENTS,
	F_URING_64_EVENTS,
	F_URING_BATCH_EVENTS,
	/* Per path and batch (ionpu_bench_stream.h): events/s, then calls. */
	F_STREAM_EVENTS,
	F_STREAM_CALLS = F_STREAM_EVENTS + STREAM_PATHS * STREAM_BATCHES,
	F_COUNT = F_STREAM_CALLS + STREAM_PATHS * STREAM_BATCHES
};

static const struct figure figure_names[F_COUNT] = {
	[F_SYNC_JOBS] = { "ioctl_batch1_jobs_per_s", "jobs/s" },
	[F_URING_JOBS] = { "uring64_batch1_jobs_per_s", "jobs/s" },
	[F_URING_VS_SYNC] = { "uring64_vs_ioctl_batch1", "x" },
	[F_BATCH_CPU_US] = { "batch4096_cpu_us_per_job", "us" },
	[F_BATCH_CARD_US] = { "batch4096_card_us_per_job", "us" },
	[F_BATCH_OVERHEAD] = { "driver_overhead_batch4096", "x" },
	[F_BATCH_EVENTS] = { "batch4096_events_per_s", "events/s" },
	[F_PROG_CELLS] = { "programming_cells_per_s", "cells/s" },
	[F_PROG_CPU_MS] = { "programming_cpu_ms", "ms" },
	[F_PROG_CARD_MS] = { "programming_card_ms", "ms" },
	[F_PROG_OVERHEAD] = { "programming_overhead", "fraction" },
	[F_INF_SINGLE] = { "inference_single_images_per_s", "images/s" },
	[F_INF_BATCH] = { "inference_batch_images_per_s", "images/s" },
	[F_INF_RATIO] = { "batch_vs_single_inference", "x" },
	[F_INF_P50] = { "inference_latency_p50_ms", "ms" },
	[F_INF_P99] = { "inference_latency_p99_ms", "ms" },
	[F_MULTI_MATCH] = { "multicard_matches_host", "bool" },
	[F_MULTI_1] = { "multicard_steps_per_s_1_cards", "steps/s" },
	[F_MULTI_2] = { "multicard_steps_per_s_2_cards", "steps/s" },
	[F_MULTI_4] = { "multicard_steps_per_s_4_cards", "steps/s" },
	[F_MULTI_4_VS_1] = { "multicard_4_vs_1_cards", "x" },
	[F_MULTI_SPIKES] = { "multicard_output_spikes_per_step", "spikes" },
	[F_PIN_BYTES] = { "programming_pinned_bytes_per_request", "B" },
	[F_PIN_PEAK] = { "uring64_batch4096_locked_peak_bytes", "B" },
	[F_BATCH_USER_US] = { "batch4096_user_us_per_job", "us" },
	[F_BATCH_SYS_US] = { "batch4096_sys_us_per_job", "us" },
	[F_PROG_USER_MS] = { "programming_user_ms", "ms" },
	[F_PROG_SYS_MS] = { "programming_sys_ms", "ms" },
	[F_SYNC_64_EVENTS] = { "ioctl_batch64_events_per_s", "events/s" },
	[F_URING_64_EVENTS] = { "uring64_batch64_events_per_s", "events/s" },
	[F_URING_BATCH_EVENTS] = { "uring64_batch4096_events_per_s",
				   "events/s" },
};

struct bench {
	struct options o;
	struct ionpu_dev *dev;
	char node[IONPU_NODE_SIZE]; /* the card's /dev/ionpuN */
	struct ionpu_dev *multi[MULTI_MAX_CARDS];
	size_t n_multi;
	struct figure f[F_COUNT];
	/* The stream figures' keys, made from their path and batch. */
	char stream_keys[F_COUNT - F_STREAM_EVENTS][48];
};

static double seconds_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall(void)
{
	return seconds_of(CLOCK_MONOTONIC);
}

/* Library and driver work of this process, all its threads. */
static double cpu(void)
{
	return seconds_of(CLOCK_PROCESS_CPUTIME_ID);
}

/* The process's CPU time in user space (the library) and in the kernel. */
static void cpu_split(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void record(struct bench *b, enum figure_id id, double v)
{
	struct figure *f = &b->f[id];

	if (f->n < MAX_RUNS)
		f->v[f->n++] = v;
}

static int fail(int err, const char *what)
{
	fprintf(stderr, "ionpu-bench: %s: %s\n", what, ionpu_last_error());
	return err;
}

/* The job benchmarks' network; weights -0.4..0.4 so that some neurons fire. */
static int job_network(struct ionpu_network **out)
{
	static double w[NET_NEURONS * NET_INPUTS];
	double r[NET_NEURONS], th[NET_NEURONS];
	struct ionpu_neuron_params p = { .r = r, .v_threshold = th };
	struct ionpu_network *net;
	uint32_t in, pop;
	int err;

	for (size_t i = 0; i < NET_NEURONS * NET_INPUTS; i++)
		w[i] = (double)((i * 131 + i / NET_INPUTS * 71) % 9) * 0.1 -
		       0.4;
	for (size_t i = 0; i < NET_NEURONS; i++) {
		r[i] = 1 / NET_DT;
		th[i] = 1.0;
	}
	err = ionpu_network_create(&net);
	if (err)
		return fail(err, "network");
	err = ionpu_network_add_input(net, "in", NET_INPUTS, &in);
	if (err)
		goto err_net;
	err = ionpu_network_add_population(net, "out", IONPU_NEURON_IF,
					   NET_NEURONS, &p, &pop);
	if (err)
		goto err_net;
	err = ionpu_network_add_dense(net, in, pop, w, NULL, NULL);
	if (err)
		goto err_net;
	err = ionpu_network_mark_output(net, pop);
	if (err)
		goto err_net;
	*out = net;
	return 0;

err_net:
	ionpu_network_free(net);
	return fail(err, "network");
}

static int compile_for(struct bench *b, const struct ionpu_network *net,
		       struct ionpu_plan **plan)
{
	struct ionpu_card_desc desc;
	int err;

	err = ionpu_card_desc_of(b->dev, &desc);
	if (err)
		return fail(err, "the card's description");
	err = ionpu_compile(net, &desc, plan);
	if (err)
		return fail(err, "compiling");
	return 0;
}

/* @net compiled for the card and loaded there (@what names it in an error). */
static int load_on_card(struct bench *b, const struct ionpu_network *net,
			const char *what, struct ionpu_plan **plan,
			struct ionpu_loaded **n)
{
	int err = compile_for(b, net, plan);

	if (err)
		return err;
	err = ionpu_load(b->dev, net, *plan, NULL, n);
	return err ? fail(err, what) : 0;
}

static int card_busy_ns(struct bench *b, uint64_t *ns)
{
	struct ionpu_activity a;
	int err = ionpu_activity(b->dev, &a);

	if (err)
		return fail(err, "the card's busy time (needs CAP_PERFMON)");
	*ns = a.busy_ns;
	return 0;
}

/*
 * The card's busy time since @before, in s; -EIO when it did not move (a
 * card whose counter says it did no work cannot be compared against).
 */
static int card_busy_since(struct bench *b, uint64_t before, double *s)
{
	uint64_t now;
	int err = card_busy_ns(b, &now);

	if (err)
		return err;
	if (now <= before) {
		fprintf(stderr,
			"ionpu-bench: the card's busy time did not move\n");
		return -EIO;
	}
	*s = (double)(now - before) * 1e-9;
	return 0;
}

/* Jobs of one step of @in, one IONPU_IOC_JOB each: jobs/s. */
static int sync_jobs(struct bench *b, struct ionpu_loaded *n, const float *in,
		     double *rate)
{
	uint8_t out[NET_NEURONS];
	double t0 = wall(), t;
	uint64_t jobs = 0;
	int err;

	do {
		err = ionpu_loaded_run(n, in, 1, 0, out);
		if (err)
			return fail(err, "a synchronous job");
		jobs++;
		t = wall() - t0;
	} while (t < b->o.seconds);
	*rate = (double)jobs / t;
	return 0;
}

/*
 * Jobs of @steps steps of @in, QUEUE_DEPTH in flight on the io_uring queue
 * for --seconds, their outputs in @out (QUEUE_DEPTH x @out_len bytes);
 * @each_round (may be NULL) runs after every round of submissions and
 * prints its own errors.  Jobs per second in *rate.
 */
static int queue_jobs(struct bench *b, struct ionpu_loaded *n, const float *in,
		      size_t steps, uint8_t *out, size_t out_len,
		      int (*each_round)(void *), void *arg, double *rate)
{
	struct ionpu_completion c[QUEUE_DEPTH];
	struct ionpu_queue *q;
	double t0, t = 0;
	uint64_t jobs = 0, next = 0;
	int err, got;

	err = ionpu_queue_new(n, QUEUE_DEPTH, &q);
	if (err)
		return fail(err, "the io_uring queue");
	t0 = wall();
	for (;;) {
		bool more = t < b->o.seconds;

		while (more && ionpu_queue_in_flight(q) < QUEUE_DEPTH) {
			err = ionpu_queue_submit(q, in, steps, 0,
						 out + next % QUEUE_DEPTH *
								 out_len,
						 next);
			if (err)
				goto err_job;
			next++;
		}
		err = each_round ? each_round(arg) : 0;
		if (err)
			goto out;
		if (!ionpu_queue_in_flight(q))
			break;
		got = ionpu_queue_reap(q, c, QUEUE_DEPTH, 1);
		err = got < 0 ? got : 0;
		for (int i = 0; i < got && !err; i++)
			err = c[i].status;
		if (err)
			goto err_job;
		jobs += (uint64_t)got;
		t = wall() - t0;
	}
	*rate = (double)jobs / t;
	goto out;

err_job:
	fail(err, "a job on the io_uring queue");
out:
	ionpu_queue_free(q);
	return err;
}

/* The jobs of sync_jobs(), QUEUE_DEPTH in flight on io_uring: jobs/s. */
static int uring_jobs(struct bench *b, struct ionpu_loaded *n, const float *in,
		      double *rate)
{
	static uint8_t out[QUEUE_DEPTH][NET_NEURONS];

	return queue_jobs(b, n, in, 1, out[0], sizeof(out[0]), NULL, NULL,
			  rate);
}

/*
 * Jobs of one step and 1 and of 64 spiking inputs, through the ioctl and
 * on io_uring: jobs/s of the first, events/s of the second.
 */
static int small_jobs(struct bench *b, struct ionpu_loaded *n)
{
	float one[NET_INPUTS] = { 1.0f }, many[NET_INPUTS] = { 0 };
	double sync, uring, sync64, uring64;
	int err;

	for (size_t i = 0; i < SMALL_BATCH; i++)
		many[i * (NET_INPUTS / SMALL_BATCH)] = 1.0f;
	err = sync_jobs(b, n, one, &sync);
	if (!err)
		err = uring_jobs(b, n, one, &uring);
	if (!err)
		err = sync_jobs(b, n, many, &sync64);
	if (!err)
		err = uring_jobs(b, n, many, &uring64);
	if (err)
		return err;
	record(b, F_SYNC_JOBS, sync);
	record(b, F_URING_JOBS, uring);
	record(b, F_URING_VS_SYNC, uring / sync);
	record(b, F_SYNC_64_EVENTS, sync64 * SMALL_BATCH);
	record(b, F_URING_64_EVENTS, uring64 * SMALL_BATCH);
	return 0;
}

/* The card's /dev/ionpuN: the card with @dev's serial. */
static int card_node(struct bench *b)
{
	struct ionpu_dev_info info;
	struct ionpu_card *cards;
	size_t n;
	int err = ionpu_info(b->dev, &info);

	if (err)
		return fail(err, "the card's identity");
	err = ionpu_list(NULL, &cards, &n);
	if (err)
		return fail(err, "the cards");
	err = -ENODEV;
	for (size_t i = 0; i < n && err; i++) {
		if (cards[i].driver_bound &&
		    !strcmp(cards[i].serial, info.serial)) {
			memcpy(b->node, cards[i].node, sizeof(b->node));
			err = 0;
		}
	}
	ionpu_list_free(cards);
	if (err)
		fprintf(stderr, "ionpu-bench: no device node for card %s\n",
			info.serial);
	return err;
}

/* A counter of the card's in sysfs (docs/ABI/sysfs-class-ionpu). */
static int card_counter(struct bench *b, const char *name, uint64_t *v)
{
	char path[PATH_MAX];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/ionpu/%s/%s",
		 strrchr(b->node, '/') + 1, name);
	f = fopen(path, "re");
	if (!f) {
		int err = -errno;

		fprintf(stderr, "ionpu-bench: %s: %s\n", path, strerror(-err));
		return err;
	}
	ok = fscanf(f, "%" SCNu64, v) == 1;
	fclose(f);
	if (!ok) {
		fprintf(stderr, "ionpu-bench: %s: not a number\n", path);
		return -EPROTO;
	}
	return 0;
}

/* The process's locked memory (pinned pages count there), in bytes. */
static int locked_bytes(uint64_t *v)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");
	int err = -EPROTO;

	if (!f) {
		err = -errno;
		fprintf(stderr, "ionpu-bench: /proc/self/status: %s\n",
			strerror(-err));
		return err;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %" SCNu64 " kB", v) == 1) {
			*v *= 1024;
			err = 0;
			break;
		}
	fclose(f);
	if (err)
		fprintf(stderr, "ionpu-bench: no VmLck in /proc/self/status\n");
	return err;
}

/* The process's locked memory at its highest so far, in *@arg. */
static int locked_peak(void *arg)
{
	uint64_t *peak = arg, now;
	int err = locked_bytes(&now);

	if (!err && now > *peak)
		*peak = now;
	return err;
}

/*
 * Jobs of BATCH_EVENTS events, QUEUE_DEPTH in flight on the io_uring
 * queue: the process's locked memory at its highest, read after each
 * round of submissions.  The driver copies a job in and out rather than
 * pin its pages, so this says that jobs in flight pin none.
 */
static int pinned_jobs(struct bench *b, struct ionpu_loaded *n)
{
	static float in[BATCH_STEPS * NET_INPUTS];
	static uint8_t out[QUEUE_DEPTH][BATCH_STEPS * NET_NEURONS];
	uint64_t peak = 0;
	double rate;
	int err;

	for (size_t i = 0; i < BATCH_STEPS * NET_INPUTS; i++)
		in[i] = 1.0f;
	err = queue_jobs(b, n, in, BATCH_STEPS, out[0], sizeof(out[0]),
			 locked_peak, &peak, &rate);
	if (err)
		return err;
	record(b, F_PIN_PEAK, (double)peak);
	record(b, F_URING_BATCH_EVENTS, rate * BATCH_EVENTS);
	return 0;
}

/* Jobs of BATCH_EVENTS events: our CPU time and the card's, per job. */
static int batch_jobs(struct bench *b, struct ionpu_loaded *n)
{
	static float in[BATCH_STEPS * NET_INPUTS];
	static uint8_t out[BATCH_STEPS * NET_NEURONS];
	double t0, c0, t, ours, card, user0, sys0, user, sys;
	uint64_t jobs = 0, busy0;
	int err;

	for (size_t i = 0; i < BATCH_STEPS * NET_INPUTS; i++)
		in[i] = 1.0f;
	err = card_busy_ns(b, &busy0);
	if (err)
		return err;
	t0 = wall();
	c0 = cpu();
	cpu_split(&user0, &sys0);
	do {
		err = ionpu_loaded_run(n, in, BATCH_STEPS, 0, out);
		if (err)
			return fail(err, "a job of 4096 events");
		jobs++;
		t = wall() - t0;
	} while (t < b->o.seconds);
	ours = cpu() - c0;
	cpu_split(&user, &sys);
	err = card_busy_since(b, busy0, &card);
	if (err)
		return err;
	record(b, F_BATCH_CPU_US, ours / (double)jobs * 1e6);
	record(b, F_BATCH_CARD_US, card / (double)jobs * 1e6);
	record(b, F_BATCH_OVERHEAD, ours / card);
	record(b, F_BATCH_USER_US, (user - user0) / (double)jobs * 1e6);
	record(b, F_BATCH_SYS_US, (sys - sys0) / (double)jobs * 1e6);
	record(b, F_BATCH_EVENTS, (double)jobs * BATCH_EVENTS / t);
	return 0;
}

/* What the loads of one programming run add up to. */
struct prog_sums {
	unsigned int loads;
	double wall, cpu, user, sys, card;
	uint64_t pin_bytes, pin_cmds;
};

/* One load of @net, timed up to the unload, which is not programming. */
static int program_once(struct bench *b, const struct ionpu_network *net,
			const struct ionpu_plan *plan, struct prog_sums *sum)
{
	double t0, c0, user0, sys0, user, sys, card;
	uint64_t busy0, bytes0, cmds0, bytes, cmds;
	struct ionpu_loaded *n;
	int err;

	err = card_busy_ns(b, &busy0);
	if (!err)
		err = card_counter(b, "sgl_bytes", &bytes0);
	if (!err)
		err = card_counter(b, "sgl_commands", &cmds0);
	if (err)
		return err;
	t0 = wall();
	c0 = cpu();
	cpu_split(&user0, &sys0);
	err = ionpu_load(b->dev, net, plan, NULL, &n);
	if (err)
		return fail(err, "loading (programming) the network");
	sum->wall += wall() - t0;
	sum->cpu += cpu() - c0;
	cpu_split(&user, &sys);
	sum->user += user - user0;
	sum->sys += sys - sys0;
	err = card_busy_since(b, busy0, &card);
	if (!err)
		err = card_counter(b, "sgl_bytes", &bytes);
	if (!err)
		err = card_counter(b, "sgl_commands", &cmds);
	ionpu_unload(n);
	if (err)
		return err;
	sum->card += card;
	sum->pin_bytes += bytes - bytes0;
	sum->pin_cmds += cmds - cmds0;
	sum->loads++;
	return 0;
}

/*
 * The job network loaded again and again for --seconds of loading:
 * programming 65,536 cells each time.
 */
static int programming(struct bench *b, const struct ionpu_network *net,
		       const struct ionpu_plan *plan)
{
	struct prog_sums sum = { 0 };
	struct ionpu_plan_stats st;
	double loads;
	int err;

	ionpu_plan_stats(plan, &st);
	do {
		err = program_once(b, net, plan, &sum);
		if (err)
			return err;
	} while (sum.wall < b->o.seconds);
	loads = (double)sum.loads;
	/* A card without scatter-gather lists gets every payload copied. */
	record(b, F_PIN_BYTES,
	       sum.pin_cmds ? (double)sum.pin_bytes / (double)sum.pin_cmds : 0);
	record(b, F_PROG_CELLS, (double)st.cells * loads / sum.wall);
	record(b, F_PROG_CPU_MS, sum.cpu / loads * 1e3);
	record(b, F_PROG_USER_MS, sum.user / loads * 1e3);
	record(b, F_PROG_SYS_MS, sum.sys / loads * 1e3);
	record(b, F_PROG_CARD_MS, sum.card / loads * 1e3);
	record(b, F_PROG_OVERHEAD, sum.cpu / sum.card);
	return 0;
}

static int job_benchmarks(struct bench *b)
{
	struct ionpu_network *net = NULL;
	struct ionpu_plan *plan = NULL;
	struct ionpu_loaded *n = NULL;
	int err;

	err = job_network(&net);
	if (err)
		return err;
	err = load_on_card(b, net, "loading the network", &plan, &n);
	if (err)
		goto out;
	for (unsigned int r = 0; r < b->o.runs; r++) {
		err = small_jobs(b, n);
		if (err)
			goto out;
		err = batch_jobs(b, n);
		if (err)
			goto out;
		err = pinned_jobs(b, n);
		if (err)
			goto out;
	}
	/* Programming needs the tile the running network holds. */
	ionpu_unload(n);
	n = NULL;
	for (unsigned int r = 0; r < b->o.runs && !err; r++)
		err = programming(b, net, plan);
out:
	ionpu_unload(n);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	return err;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The value below which @q of the sorted @v lie (nearest rank). */
static double quantile(const double *v, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n);

	if ((double)k < q * (double)n)
		k++;
	return v[k ? k - 1 : 0];
}

/* Each sample as its own job, then all as one batch: images/s and latency. */
static int inference_run(struct bench *b, struct ionpu_loaded *n,
			 const float *in, size_t samples, size_t steps,
			 uint8_t *out, double *lat)
{
	size_t one_in = steps * ionpu_loaded_inputs(n);
	size_t one_out = steps * ionpu_loaded_outputs(n);
	double t0, t, single, batch;
	size_t done = 0;
	int err;

	t0 = wall();
	do {
		double s0 = wall();

		err = ionpu_loaded_run(n, in + done % samples * one_in, steps,
				       0, out + done % samples * one_out);
		if (err)
			return fail(err, "one image");
		lat[done % samples] = wall() - s0;
		done++;
		t = wall() - t0;
	} while (t < b->o.seconds || done < samples);
	single = (double)done / t;
	qsort(lat, samples, sizeof(*lat), compare_double);
	record(b, F_INF_P50, quantile(lat, samples, 0.5) * 1e3);
	record(b, F_INF_P99, quantile(lat, samples, 0.99) * 1e3);

	t0 = wall();
	done = 0;
	do {
		err = ionpu_loaded_run_batch(n, in, samples, steps, out);
		if (err)
			return fail(err, "a batch of images");
		done += samples;
		t = wall() - t0;
	} while (t < b->o.seconds);
	batch = (double)done / t;
	record(b, F_INF_SINGLE, single);
	record(b, F_INF_BATCH, batch);
	record(b, F_INF_RATIO, batch / single);
	return 0;
}

static int inference(struct bench *b)
{
	struct ionpu_network *net = NULL;
	struct ionpu_plan *plan = NULL;
	struct ionpu_loaded *n = NULL;
	size_t samples = 0, steps = 0, cols = 0;
	float *in = NULL;
	uint8_t *out = NULL;
	double *lat = NULL;
	int err;

	err = ionpu_nir_load(b->o.graph, &net);
	if (err)
		return fail(err, "the graph");
	err = ionpu_npy_read_batch(b->o.inputs, &in, &samples, &steps, &cols,
				   NULL);
	if (err) {
		fail(err, "the inputs");
		goto out;
	}
	err = load_on_card(b, net, "loading the graph", &plan, &n);
	if (err)
		goto out;
	if (cols != ionpu_loaded_inputs(n) || !samples) {
		fprintf(stderr,
			"ionpu-bench: %s: %zu samples of %zu channels; the graph has %zu inputs\n",
			b->o.inputs, samples, cols, ionpu_loaded_inputs(n));
		err = -EINVAL;
		goto out;
	}
	out = malloc(samples * steps * ionpu_loaded_outputs(n));
	lat = malloc(samples * sizeof(*lat));
	if (!out || !lat) {
		fprintf(stderr, "ionpu-bench: out of memory\n");
		err = -ENOMEM;
		goto out;
	}
	for (unsigned int r = 0; r < b->o.runs && !err; r++)
		err = inference_run(b, n, in, samples, steps, out, lat);
out:
	free(lat);
	free(out);
	free(in);
	ionpu_unload(n);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	return err;
}

/* stream_<path>_batch<B>_events_per_s and _syscalls_per_event. */
static void name_stream_figures(struct bench *b)
{
	static const char *const path[STREAM_PATHS] = {
		[STREAM_IOCTL] = "ioctl",
		[STREAM_WRITE] = "write",
		[STREAM_URING] = "uring",
	};

	for (int i = 0; i < F_COUNT - F_STREAM_EVENTS; i++) {
		int id = i % (STREAM_PATHS * STREAM_BATCHES);
		bool calls = F_STREAM_EVENTS + i >= F_STREAM_CALLS;
		struct figure *f = &b->f[F_STREAM_EVENTS + i];

		snprintf(b->stream_keys[i], sizeof(b->stream_keys[i]),
			 "stream_%s_batch%u_%s", path[id / STREAM_BATCHES],
			 stream_batch[id % STREAM_BATCHES],
			 calls ? "syscalls_per_event" : "events_per_s");
		f->key = b->stream_keys[i];
		f->unit = calls ? "calls" : "events/s";
	}
}

/* Rounds of @batch events on @path for --seconds: stream figure @id. */
static int stream_measure(struct bench *b, struct stream_bench *s,
			  enum stream_path path, unsigned int batch, int id)
{
	uint64_t rounds = 0, calls0 = stream_bench_syscalls(s);
	double t0 = wall(), t;
	int err;

	do {
		err = stream_bench_round(s, path, batch);
		if (err)
			return err;
		rounds++;
		t = wall() - t0;
	} while (t < b->o.seconds);
	record(b, F_STREAM_EVENTS + id, (double)(rounds * batch) / t);
	record(b, F_STREAM_CALLS + id,
	       (double)(stream_bench_syscalls(s) - calls0) /
		       (double)(rounds * batch));
	return 0;
}

/* Every path at every batch size, on a tile the stream benchmark wires. */
static int stream_benchmarks(struct bench *b)
{
	struct stream_bench *s;
	int err = stream_bench_open(b->node, &s);

	if (err)
		return err;
	for (unsigned int r = 0; r < b->o.runs && !err; r++)
		for (int p = 0; p < STREAM_PATHS && !err; p++)
			for (int k = 0; k < STREAM_BATCHES && !err; k++)
				err = stream_measure(b, s, p, stream_batch[k],
						     p * STREAM_BATCHES + k);
	stream_bench_close(s);
	return err;
}

/* A small deterministic generator: the same network and input every run. */
static double next_uniform(uint64_t *s, double lo, double hi)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return lo + (hi - lo) * (double)(*s >> 33) / 2147483648.0;
}

/* @size LIF neurons (tau 20 steps, threshold 1); @id their node. */
static int add_layer(struct ionpu_network *net, const char *name, uint32_t size,
		     uint32_t *id)
{
	double *a = malloc(4 * size * sizeof(*a));
	struct ionpu_neuron_params p = { 0 };
	int err;

	if (!a)
		return -ENOMEM;
	for (uint32_t i = 0; i < size; i++) {
		a[i] = 20 * NET_DT;
		a[size + i] = 1;
		a[2 * size + i] = 0;
		a[3 * size + i] = 1;
	}
	p.tau = a;
	p.r = a + size;
	p.v_leak = a + 2 * size;
	p.v_threshold = a + 3 * size;
	err = ionpu_network_add_population(net, name, IONPU_NEURON_LIF, size,
					   &p, id);
	free(a);
	return err;
}

/*
 * The split benchmarks' network: in(256) -> MULTI_LAYERS layers of @tiles
 * x 256 neurons, the first dense, each next one's group g taking every
 * neuron of the layer before's group g (one tile's rows).  A chain, so
 * split anywhere its output is the whole network's bit for bit.
 */
static int multi_network(uint32_t tiles, struct ionpu_network **out)
{
	uint32_t n = tiles * 256, in, prev, id = 0;
	size_t nnz = (size_t)n * 256;
	double *w = malloc(nnz * sizeof(*w));
	uint32_t *pre = malloc(nnz * sizeof(*pre));
	uint32_t *post = malloc(nnz * sizeof(*post));
	struct ionpu_network *net = NULL;
	uint64_t seed = 7;
	int err = -ENOMEM;

	if (!w || !pre || !post || ionpu_network_create(&net))
		goto out;
	for (size_t k = 0; k < nnz; k++) {
		post[k] = (uint32_t)(k / 256);
		pre[k] = post[k] / 256 * 256 + (uint32_t)(k % 256);
	}
	err = ionpu_network_add_input(net, "in", NET_INPUTS, &prev);
	if (err)
		goto out;
	in = prev;
	for (int l = 0; l < MULTI_LAYERS; l++) {
		char name[16];

		snprintf(name, sizeof(name), "layer%d", l + 1);
		err = add_layer(net, name, n, &id);
		if (err)
			goto out;
		for (size_t k = 0; k < nnz; k++)
			w[k] = next_uniform(&seed, -0.05, 0.2);
		if (prev == in)
			err = ionpu_network_add_dense(net, in, id, w, NULL,
						      NULL);
		else
			err = ionpu_network_add_sparse(net, prev, id, nnz, pre,
						       post, w, NULL, NULL);
		if (err)
			goto out;
		prev = id;
	}
	err = ionpu_network_mark_output(net, id);
out:
	free(w);
	free(pre);
	free(post);
	if (err) {
		ionpu_network_free(net);
		return fail(err, "the split benchmarks' network");
	}
	*out = net;
	return 0;
}

/* The whole network's output over MULTI_STEPS steps, from its host reference. */
static int multi_reference(const struct ionpu_network *net, const float *in,
			   uint8_t *out)
{
	struct ionpu_card_desc big;
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *h = NULL;
	int err;

	ionpu_card_desc_default(IONPU_CARD_MAX_TILES, &big);
	err = ionpu_compile(net, &big, &plan);
	if (err)
		goto out;
	err = ionpu_host_new(net, plan, &h);
	if (err)
		goto out;
	err = ionpu_host_run(h, in, MULTI_STEPS, out);
out:
	ionpu_host_free(h);
	ionpu_plan_free(plan);
	return err ? fail(err, "the host reference") : 0;
}

/*
 * @net split over the first @cards cards (@descs, theirs), each offered
 * @tiles tiles: time steps per second, and whether every run's output was
 * @want.
 */
static int multi_run(struct bench *b, const struct ionpu_network *net,
		     const struct ionpu_card_desc *descs, size_t cards,
		     uint32_t tiles, const float *in, const uint8_t *want,
		     size_t n_out, uint8_t *out, double *rate, bool *match)
{
	struct ionpu_card_desc desc[MULTI_MAX_CARDS];
	struct ionpu_split *s = NULL;
	struct ionpu_multi *m = NULL;
	uint64_t steps = 0;
	double t0, t;
	int err;

	for (size_t k = 0; k < cards; k++) {
		desc[k] = descs[k];
		desc[k].tiles = tiles;
	}
	err = ionpu_split_compile(net, desc, cards, 0, &s);
	if (err)
		return fail(err, "splitting the network");
	err = ionpu_multi_load(s, b->multi, cards, NULL, &m);
	ionpu_split_free(s);
	if (err)
		return fail(err, "loading the split");
	t0 = wall();
	do {
		err = ionpu_multi_run(m, in, MULTI_STEPS, 0, out);
		if (err) {
			fail(err, "running the split");
			goto out;
		}
		*match = *match && !memcmp(out, want, n_out);
		steps += MULTI_STEPS;
		t = wall() - t0;
	} while (t < b->o.seconds);
	*rate = (double)steps / t;
out:
	ionpu_multi_free(m);
	return err;
}

static int multi_benchmarks(struct bench *b)
{
	static const size_t counts[] = { 1, 2, 4 };
	static const enum figure_id ids[] = { F_MULTI_1, F_MULTI_2, F_MULTI_4 };
	struct ionpu_card_desc descs[MULTI_MAX_CARDS];
	struct ionpu_network *net = NULL;
	uint32_t layer_tiles = UINT32_MAX;
	float *in = NULL;
	uint8_t *want = NULL, *out = NULL;
	uint64_t seed = 11;
	size_t n_out, spikes = 0;
	int err;

	/* A layer's tiles: the whole network fits on each card. */
	for (size_t k = 0; k < b->n_multi; k++) {
		err = ionpu_card_desc_of(b->multi[k], &descs[k]);
		if (err)
			return fail(err, "a card's description");
		if (descs[k].tiles / MULTI_LAYERS < layer_tiles)
			layer_tiles = descs[k].tiles / MULTI_LAYERS;
	}
	if (!layer_tiles) {
		fprintf(stderr,
			"ionpu-bench: --multi: every card needs %d tiles or more\n",
			MULTI_LAYERS);
		return -EINVAL;
	}
	err = multi_network(layer_tiles, &net);
	if (err)
		return err;
	n_out = (size_t)MULTI_STEPS * layer_tiles * 256;
	in = malloc((size_t)MULTI_STEPS * NET_INPUTS * sizeof(*in));
	want = calloc(n_out, 1);
	out = calloc(n_out, 1);
	if (!in || !want || !out) {
		fprintf(stderr, "ionpu-bench: out of memory\n");
		err = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < (size_t)MULTI_STEPS * NET_INPUTS; k++)
		in[k] = next_uniform(&seed, 0, 1) < 0.25;
	err = multi_reference(net, in, want);
	for (size_t k = 0; !err && k < n_out; k++)
		spikes += want[k];
	if (!err && !spikes) {
		fprintf(stderr,
			"ionpu-bench: the split benchmarks' network gives no output spike\n");
		err = -EIO;
	}
	for (unsigned int r = 0; !err && r < b->o.runs; r++) {
		double rate[3] = { 0 };
		bool match = true;

		for (size_t c = 0; !err && c < 3; c++) {
			if (counts[c] > b->n_multi)
				break;
			err = multi_run(b, net, descs, counts[c],
					layer_tiles * MULTI_LAYERS /
						(uint32_t)counts[c],
					in, want, n_out, out, &rate[c], &match);
			if (!err)
				record(b, ids[c], rate[c]);
		}
		if (err)
			break;
		record(b, F_MULTI_MATCH, match);
		record(b, F_MULTI_SPIKES, (double)spikes / MULTI_STEPS);
		if (rate[2] > 0)
			record(b, F_MULTI_4_VS_1, rate[2] / rate[0]);
	}
out:
	free(in);
	free(want);
	free(out);
	ionpu_network_free(net);
	return err;
}

/* Median, smallest and largest of a figure's runs. */
static void summary(const struct figure *f, double *med, double *lo, double *hi)
{
	double v[MAX_RUNS];

	memcpy(v, f->v, f->n * sizeof(v[0]));
	qsort(v, f->n, sizeof(v[0]), compare_double);
	*med = f->n % 2 ? v[f->n / 2] : (v[f->n / 2 - 1] + v[f->n / 2]) / 2;
	*lo = v[0];
	*hi = v[f->n - 1];
}

static void print_table(const struct bench *b)
{
	printf("%-44s %12s %12s %12s  %s\n", "figure", "median", "min", "max",
	       "unit");
	for (int i = 0; i < F_COUNT; i++) {
		const struct figure *f = &b->f[i];
		double med, lo, hi;

		if (!f->n)
			continue;
		summary(f, &med, &lo, &hi);
		printf("%-44s %12.4g %12.4g %12.4g  %s\n", f->key, med, lo, hi,
		       f->unit);
	}
	printf("(%u runs of at least %g s each)\n", b->o.runs, b->o.seconds);
}

static void print_json(const struct bench *b)
{
	const char *sep = "";

	printf("{\"runs\":%u,\"seconds\":%g,\"figures\":{", b->o.runs,
	       b->o.seconds);
	for (int i = 0; i < F_COUNT; i++) {
		const struct figure *f = &b->f[i];
		double med, lo, hi;

		if (!f->n)
			continue;
		summary(f, &med, &lo, &hi);
		printf("%s", sep);
		json_string(stdout, f->key);
		printf(":{\"median\":%.6g,\"min\":%.6g,\"max\":%.6g,\"unit\":",
		       med, lo, hi);
		json_string(stdout, f->unit);
		printf("}");
		sep = ",";
	}
	printf("}}\n");
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ionpu-bench [OPTION]...\n"
		"Measure the paths an application waits on, on an IONPU card: jobs through\n"
		"ioctl and io_uring, jobs of 4096 events against the card's own time,\n"
		"programming, spike I/O through the driver's event stream, and (with\n"
		"--graph and --inputs) inference one image at a time against a batch.\n"
		"Each figure is the median of --runs runs, with their smallest and\n"
		"largest value.\n"
		"\n"
		"  -d, --device=CARD  the card: /dev/ionpuN, its index N or its PCI address\n"
		"                     (default: 0, /dev/ionpu0)\n"
		"  -g, --graph=FILE   a NIR graph for the inference figures\n"
		"  -i, --inputs=FILE  its samples, a .npy of samples x steps x channels\n"
		"  -m, --multi=CARDS  two to %d cards, comma-separated, for the figures of a\n"
		"                     network split over 1, 2 and 4 of them\n"
		"  -r, --runs=N       runs of each benchmark, 1 to %d (default 5)\n"
		"  -s, --seconds=S    least length of each side of a run (default 1)\n"
		"  -j, --json         the figures as JSON, one line (docs/bench.md)\n"
		"  -V, --version      show the version and exit\n"
		"  -h, --help         show this help and exit\n"
		"\n"
		"Needs CAP_PERFMON (or root) to read the card's busy time.\n",
		MULTI_MAX_CARDS, MAX_RUNS);
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "graph", required_argument, NULL, 'g' },
		{ "inputs", required_argument, NULL, 'i' },
		{ "multi", required_argument, NULL, 'm' },
		{ "runs", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long runs;
	int opt;

	*o = (struct options){ .device = "0", .runs = 5, .seconds = 1.0 };
	while ((opt = getopt_long(argc, argv, "d:g:i:m:r:s:jVh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'd':
			o->device = optarg;
			break;
		case 'g':
			o->graph = optarg;
			break;
		case 'i':
			o->inputs = optarg;
			break;
		case 'm':
			o->multi = optarg;
			break;
		case 'r':
			errno = 0;
			runs = strtol(optarg, &end, 10);
			if (errno || *end || runs < 1 || runs > MAX_RUNS) {
				fprintf(stderr,
					"ionpu-bench: --runs: '%s' is not 1 to %d\n",
					optarg, MAX_RUNS);
				return IONPU_EXIT_USAGE;
			}
			o->runs = (unsigned int)runs;
			break;
		case 's':
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno || *end || !(o->seconds > 0) ||
			    o->seconds > 3600) {
				fprintf(stderr,
					"ionpu-bench: --seconds: '%s' is not above 0 and up to 3600\n",
					optarg);
				return IONPU_EXIT_USAGE;
			}
			break;
		case 'j':
			o->json = true;
			break;
		case 'V':
			printf("ionpu-bench (libionpu %s)\n", ionpu_version());
			exit(IONPU_EXIT_OK);
		case 'h':
			usage(stdout);
			exit(IONPU_EXIT_OK);
		default:
			usage(stderr);
			return IONPU_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ionpu-bench: unexpected argument '%s'\n",
			argv[optind]);
		return IONPU_EXIT_USAGE;
	}
	if (!o->graph != !o->inputs) {
		fprintf(stderr,
			"ionpu-bench: --graph and --inputs go together\n");
		return IONPU_EXIT_USAGE;
	}
	return IONPU_EXIT_OK;
}

/* The cards --multi names, opened. */
static int open_multi(struct bench *b)
{
	char *list = strdup(b->o.multi), *save = NULL;
	int err = 0;

	if (!list)
		return -ENOMEM;
	for (char *name = strtok_r(list, ",", &save); name && !err;
	     name = strtok_r(NULL, ",", &save)) {
		if (b->n_multi == MULTI_MAX_CARDS) {
			fprintf(stderr,
				"ionpu-bench: --multi: more than %d cards\n",
				MULTI_MAX_CARDS);
			err = -EINVAL;
			break;
		}
		err = ionpu_open(name, &b->multi[b->n_multi]);
		if (err)
			fail(err, name);
		else
			b->n_multi++;
	}
	if (!err && b->n_multi < 2) {
		fprintf(stderr,
			"ionpu-bench: --multi: '%s' names fewer than two cards\n",
			b->o.multi);
		err = -EINVAL;
	}
	free(list);
	return err;
}

int main(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
	int ret, err;

	if (!b) {
		fprintf(stderr, "ionpu-bench: out of memory\n");
		return IONPU_EXIT_ERROR;
	}
	ret = parse(argc, argv, &b->o);
	if (ret)
		goto out;
	for (int i = 0; i < F_COUNT; i++)
		b->f[i] = figure_names[i];
	name_stream_figures(b);
	err = ionpu_open(b->o.device, &b->dev);
	if (err) {
		ret = ionpu_exit_of(fail(err, b->o.device));
		goto out;
	}
	err = card_node(b);
	if (!err && b->o.multi)
		err = open_multi(b);
	if (!err)
		err = job_benchmarks(b);
	if (!err)
		err = stream_benchmarks(b);
	if (!err && b->o.graph)
		err = inference(b);
	if (!err && b->o.multi)
		err = multi_benchmarks(b);
	if (err) {
		ret = ionpu_exit_of(err);
		goto out;
	}
	if (b->o.json)
		print_json(b);
	else
		print_table(b);
out:
	for (size_t k = 0; k < b->n_multi; k++)
		ionpu_close(b->multi[k]);
	ionpu_close(b->dev);
	free(b);
	return ret;
}
