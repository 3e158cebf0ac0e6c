// SPDX-License-Identifier: GPL-2.0-only
/*
 * NIR files read and written from several threads at once, each thread its
 * own network and file, as the header promises is safe.  A libhdf5 built
 * without its thread-safety option breaks under concurrent calls, which
 * libionpu's lock (lib/ionpu_h5_lock.c) prevents; Debian's is built
 * thread-safe, so here the test holds the NIR code itself to the promise:
 * no state shared between calls, every thread reading back its own weights.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ionpu/ionpu.h>

#define THREADS 4
#define ROUNDS 10
#define INPUTS 3
#define NEURONS 5

struct worker {
	char path[96];
	int thread;
	/* What went wrong, if anything: checked on the main thread. */
	char failure[256];
};

/* Thread @thread's own network: its weights say which thread built it. */
static struct ionpu_network *build(int thread)
{
	static const double tau[NEURONS] = { 0.01, 0.02, 0.03, 0.04, 0.05 };
	static const double r[NEURONS] = { 1, 1, 1, 1, 1 }, zero[NEURONS] = { 0 };
	static const double thr[NEURONS] = { 1, 1, 1, 1, 1 };
	const struct ionpu_neuron_params lif = {
		.tau = tau, .r = r, .v_leak = zero, .v_threshold = thr,
	};
	double w[NEURONS * INPUTS];
	struct ionpu_network *net;
	uint32_t in, pop;

	for (int i = 0; i < NEURONS * INPUTS; i++)
		w[i] = thread + i / 16.0;
	if (ionpu_network_create(&net))
		return NULL;
	if (ionpu_network_add_input(net, "in", INPUTS, &in) ||
	    ionpu_network_add_population(net, "lif", IONPU_NEURON_LIF, NEURONS, &lif, &pop) ||
	    ionpu_network_add_dense(net, in, pop, w, NULL, NULL) ||
	    ionpu_network_mark_output(net, pop)) {
		ionpu_network_free(net);
		return NULL;
	}
	return net;
}

/* Save, load back and compare the weights, ROUNDS times; 0 or a failure. */
static int round_trips(struct worker *w, const struct ionpu_network *net)
{
	double want[NEURONS * INPUTS], got[NEURONS * INPUTS];

	if (ionpu_network_projection_matrix(net, 0, want))
		return -1;
	for (int round = 0; round < ROUNDS; round++) {
		struct ionpu_network *back;
		int err;

		err = ionpu_nir_save(net, w->path);
		if (err) {
			snprintf(w->failure, sizeof(w->failure), "round %d: save: %s", round,
				 ionpu_last_error());
			return err;
		}
		err = ionpu_nir_load(w->path, &back);
		if (err) {
			snprintf(w->failure, sizeof(w->failure), "round %d: load: %s", round,
				 ionpu_last_error());
			return err;
		}
		err = ionpu_network_projection_matrix(back, 0, got);
		ionpu_network_free(back);
		if (err || memcmp(want, got, sizeof(want))) {
			snprintf(w->failure, sizeof(w->failure),
				 "round %d: the weights read back differ", round);
			return -1;
		}
	}
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct ionpu_network *net = build(w->thread);

	if (!net) {
		snprintf(w->failure, sizeof(w->failure), "build: %s", ionpu_last_error());
		return NULL;
	}
	round_trips(w, net);
	ionpu_network_free(net);
	return NULL;
}

static void test_threads_save_and_load(void **state)
{
	struct worker w[THREADS] = { 0 };
	pthread_t tid[THREADS];
	char dir[] = "/tmp/ionpu-nir-threads-XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < THREADS; i++) {
		w[i].thread = i;
		snprintf(w[i].path, sizeof(w[i].path), "%s/t%d.nir", dir, i);
		assert_int_equal(pthread_create(&tid[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		unlink(w[i].path);
		if (w[i].failure[0])
			fail_msg("thread %d: %s", i, w[i].failure);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_save_and_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
