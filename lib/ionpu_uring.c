// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The asynchronous queue of a loaded network, on io_uring: each run is one
 * job submitted as an IORING_OP_URING_CMD (IONPU_URING_CMD_JOB), so a
 * pipeline of runs costs one io_uring_enter() per batch, not a syscall per
 * run.  liburing 2.3 has no io_uring_prep_uring_cmd(): the SQE is filled
 * here by hand.
 *
 * Runs live in slots, one per run in flight; an SQE's user_data is its
 * slot.  One lock guards the slots and the submission ring, another the
 * completion ring, so one thread can wait for completions while others
 * submit (io_uring keeps the two rings apart).  Only flushing enters the
 * kernel: io_uring issues a run for the thread that enters, and cancels it
 * when that thread exits.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

#include "ionpu_job.h"

_Static_assert(sizeof(struct ionpu_uring_job) == 16,
	       "the SQE's command area is 16 bytes");

#define QUEUE_MAX_DEPTH 4096

struct slot {
	struct ionpu_job_buf b;
	uint8_t *out;
	uint64_t user_data;
	uint32_t next_free;
};

struct ionpu_queue {
	struct ionpu_loaded *loaded;
	struct io_uring ring;
	pthread_mutex_t lock;	   /* slots, free list, submission ring */
	pthread_mutex_t reap_lock; /* completion ring */
	struct slot *slots;
	uint32_t depth;
	uint32_t free_head;   /* depth: none free */
	uint32_t in_flight;   /* slots in use */
	uint32_t unsubmitted; /* SQEs not yet given to the kernel */
};

IONPU_API int ionpu_queue_new(struct ionpu_loaded *n, uint32_t depth,
			      struct ionpu_queue **out)
{
	struct ionpu_queue *q;
	int err;

	if (!n || !out || !depth || depth > QUEUE_MAX_DEPTH)
		return ionpu_error(-EINVAL,
				   "ionpu_queue_new: depth %u; 1 to %u", depth,
				   QUEUE_MAX_DEPTH);
	q = calloc(1, sizeof(*q));
	if (!q)
		return ionpu_error(-ENOMEM, "queue: out of memory");
	q->slots = calloc(depth, sizeof(*q->slots));
	if (!q->slots) {
		free(q);
		return ionpu_error(-ENOMEM, "queue: out of memory");
	}
	err = io_uring_queue_init(depth, &q->ring, 0);
	if (err) {
		free(q->slots);
		free(q);
		return ionpu_error_errno(err, "queue: io_uring_queue_init(%u)",
					 depth);
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->reap_lock, NULL);
	q->loaded = n;
	q->depth = depth;
	for (uint32_t i = 0; i < depth; i++)
		q->slots[i].next_free = i + 1;
	*out = q;
	return 0;
}

/* Under q->lock. */
static int flush_locked(struct ionpu_queue *q)
{
	int ret;

	if (!q->unsubmitted)
		return 0;
	do
		ret = io_uring_submit(&q->ring);
	while (ret == -EINTR);
	if (ret < 0)
		return ionpu_error_errno(ret, "queue: io_uring_submit");
	q->unsubmitted -= (uint32_t)ret < q->unsubmitted ? (uint32_t)ret :
							   q->unsubmitted;
	return 0;
}

IONPU_API int ionpu_queue_flush(struct ionpu_queue *q)
{
	int err;

	pthread_mutex_lock(&q->lock);
	err = flush_locked(q);
	pthread_mutex_unlock(&q->lock);
	return err;
}

IONPU_API int ionpu_queue_submit(struct ionpu_queue *q, const float *in,
				 size_t steps, uint32_t flags, uint8_t *out,
				 uint64_t user_data)
{
	struct ionpu_uring_job cmd = { 0 };
	struct io_uring_sqe *sqe;
	struct slot *s;
	uint32_t i;
	int err;

	if (!q || (!out && q->loaded->img->n_out))
		return ionpu_error(-EINVAL,
				   "ionpu_queue_submit: NULL argument");
	pthread_mutex_lock(&q->lock);
	if (q->free_head == q->depth) {
		pthread_mutex_unlock(&q->lock);
		return ionpu_error(-EBUSY,
				   "queue: %u runs in flight already; reap some",
				   q->depth);
	}
	i = q->free_head;
	s = &q->slots[i];
	/*
	 * Under the lock: the feed carries a streamed input into the next run.
	 */
	err = ionpu_job_prepare(q->loaded, in, steps, flags, &s->b);
	if (err) {
		pthread_mutex_unlock(&q->lock);
		return err;
	}
	/*
	 * The ring has depth entries and a free slot means fewer than depth
	 * runs are in flight, so an entry is free: no io_uring_enter() here,
	 * which would tie the run to this thread (see ionpu_queue_flush()).
	 */
	sqe = io_uring_get_sqe(&q->ring);
	if (!sqe) {
		ionpu_job_free(&s->b);
		pthread_mutex_unlock(&q->lock);
		return ionpu_error(-EBUSY, "queue: submission ring full");
	}
	q->free_head = s->next_free;
	q->in_flight++;
	q->unsubmitted++;
	s->out = out;
	s->user_data = user_data;
	cmd.job = (uintptr_t)&s->b.job;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = q->loaded->fd;
	sqe->cmd_op = IONPU_URING_CMD_JOB;
	memcpy(sqe->cmd, &cmd, sizeof(cmd));
	sqe->user_data = i;
	pthread_mutex_unlock(&q->lock);
	return 0;
}

IONPU_API size_t ionpu_queue_in_flight(struct ionpu_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->in_flight;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* One completion into @c; its slot goes back to the free list. */
static void complete(struct ionpu_queue *q, const struct io_uring_cqe *cqe,
		     struct ionpu_completion *c)
{
	uint32_t i = (uint32_t)cqe->user_data;
	struct slot *s = &q->slots[i];

	c->user_data = s->user_data;
	c->out = s->out;
	c->steps = s->b.steps;
	if (cqe->res < 0)
		c->status = ionpu_error_errno(cqe->res, "queue: job");
	else
		c->status = ionpu_job_finish(q->loaded, &s->b, s->out);
	ionpu_job_free(&s->b);
	pthread_mutex_lock(&q->lock);
	s->next_free = q->free_head;
	q->free_head = i;
	q->in_flight--;
	pthread_mutex_unlock(&q->lock);
}

IONPU_API int ionpu_queue_reap(struct ionpu_queue *q,
			       struct ionpu_completion *c, size_t max,
			       size_t wait_for)
{
	struct io_uring_cqe *cqe;
	size_t got = 0;
	int err;

	if (!q || (!c && max))
		return ionpu_error(-EINVAL, "ionpu_queue_reap: NULL argument");
	if (wait_for > max)
		wait_for = max;
	err = ionpu_queue_flush(q);
	if (err)
		return err;
	pthread_mutex_lock(&q->reap_lock);
	while (got < max) {
		err = io_uring_peek_cqe(&q->ring, &cqe);
		if (err == -EAGAIN) {
			err = 0;
			if (got >= wait_for || !ionpu_queue_in_flight(q))
				break;
			err = io_uring_wait_cqe(&q->ring, &cqe);
			if (err == -EINTR)
				continue;
		}
		if (err) {
			err = ionpu_error_errno(err,
						"queue: waiting for completions");
			break;
		}
		complete(q, cqe, &c[got++]);
		io_uring_cqe_seen(&q->ring, cqe);
	}
	pthread_mutex_unlock(&q->reap_lock);
	return got ? (int)got : err;
}

IONPU_API void ionpu_queue_free(struct ionpu_queue *q)
{
	struct ionpu_completion c[64];

	if (!q)
		return;
	/* The kernel writes into the slots until each run completes. */
	while (ionpu_queue_in_flight(q) && ionpu_queue_reap(q, c, 64, 1) > 0)
		;
	io_uring_queue_exit(&q->ring);
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->reap_lock);
	free(q->slots);
	free(q);
}
