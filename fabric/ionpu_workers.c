// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The threads a fabric spreads a timestep's tiles over
 * (ionpu_fabric_config.threads).
 *
 * A timestep of a full card is tens of microseconds of work, and the host
 * runs one after another with its own work between them, so the workers
 * stay up for the fabric's life and are woken once per round: a worker
 * spins a little for the next round, which usually comes within that
 * time, and only then sleeps on a condition variable (a sleep and a wake
 * cost more than most rounds).  The caller takes part 0 itself.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "ionpu_fabric_impl.h"

/* Polls of the round counter before a worker sleeps. */
#define SPINS 4096

struct ionpu_worker {
	struct ionpu_workers *w;
	unsigned int part;
	pthread_t thread;
};

struct ionpu_workers {
	struct ionpu_fabric *f;
	ionpu_part_fn *fn;
	unsigned int parts;
	unsigned int started; /* threads running, parts - 1 once set up */
	struct ionpu_worker *worker;
	atomic_uint round; /* bumped to start a round, and to quit */
	atomic_uint done;  /* workers through the current round */
	atomic_bool quit;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	unsigned int sleepers; /* under lock */
};

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* The round after @seen: spin, then sleep until it comes. */
static unsigned int next_round(struct ionpu_workers *w, unsigned int seen)
{
	unsigned int r;

	for (unsigned int i = 0; i < SPINS; i++) {
		r = atomic_load_explicit(&w->round, memory_order_acquire);
		if (r != seen)
			return r;
		relax();
	}
	pthread_mutex_lock(&w->lock);
	w->sleepers++;
	while ((r = atomic_load_explicit(&w->round, memory_order_acquire)) ==
	       seen)
		pthread_cond_wait(&w->wake, &w->lock);
	w->sleepers--;
	pthread_mutex_unlock(&w->lock);
	return r;
}

static void *worker_main(void *arg)
{
	struct ionpu_worker *me = arg;
	struct ionpu_workers *w = me->w;
	unsigned int seen = 0;

	for (;;) {
		seen = next_round(w, seen);
		if (atomic_load_explicit(&w->quit, memory_order_acquire))
			return NULL;
		w->fn(w->f, me->part);
		atomic_fetch_add_explicit(&w->done, 1, memory_order_release);
	}
}

/* Start a round (or make the workers see quit). */
static void kick(struct ionpu_workers *w)
{
	pthread_mutex_lock(&w->lock);
	atomic_fetch_add_explicit(&w->round, 1, memory_order_release);
	if (w->sleepers)
		pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

int ionpu_workers_new(struct ionpu_fabric *f, unsigned int parts,
		      ionpu_part_fn *fn, struct ionpu_workers **out)
{
	struct ionpu_workers *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->f = f;
	w->fn = fn;
	w->parts = parts;
	atomic_init(&w->round, 0);
	atomic_init(&w->done, 0);
	atomic_init(&w->quit, false);
	w->worker = calloc(parts, sizeof(*w->worker));
	if (!w->worker) {
		free(w);
		return -ENOMEM;
	}
	err = pthread_mutex_init(&w->lock, NULL);
	if (err)
		goto err_free;
	err = pthread_cond_init(&w->wake, NULL);
	if (err)
		goto err_mutex;
	for (unsigned int k = 1; k < parts; k++) {
		w->worker[k] = (struct ionpu_worker){ .w = w, .part = k };
		err = pthread_create(&w->worker[k].thread, NULL, worker_main,
				     &w->worker[k]);
		if (err)
			break;
		w->started++;
	}
	if (err) {
		ionpu_workers_free(w);
		return -err;
	}
	*out = w;
	return 0;

err_mutex:
	pthread_mutex_destroy(&w->lock);
err_free:
	free(w->worker);
	free(w);
	return -err;
}

void ionpu_workers_free(struct ionpu_workers *w)
{
	if (!w)
		return;
	atomic_store_explicit(&w->quit, true, memory_order_release);
	kick(w);
	for (unsigned int k = 1; k <= w->started; k++)
		pthread_join(w->worker[k].thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->worker);
	free(w);
}

void ionpu_workers_run(struct ionpu_workers *w)
{
	unsigned int others = w->parts - 1, spins = 0;

	atomic_store_explicit(&w->done, 0, memory_order_relaxed);
	kick(w);
	w->fn(w->f, 0);
	while (atomic_load_explicit(&w->done, memory_order_acquire) != others) {
		/* More threads than cores: let the workers have one. */
		if (++spins % SPINS == 0)
			sched_yield();
		else
			relax();
	}
}
