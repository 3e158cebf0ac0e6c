// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A split network running on several cards, or on their host references
 * (ionpu_multi_*()).
 *
 * The host is the router between the cards.  Every time step each part
 * gets its inputs, the caller's channels that feed it and the spikes that
 * its imports' populations sent in the step before, and runs that one step;
 * its output then gives the caller's results and the next step's imports.
 * Running a step per job is what lets a spike cross cards in one step, as
 * it crosses tiles on one card: it costs a job per card per step, so a
 * split is for a network that does not fit one card, not for speed.  The
 * cards' jobs of a step go out together, each on its card's io_uring
 * queue, and are collected together, so the cards work at the same time;
 * without io_uring they run one after another, with the same results.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_internal.h"
#include "ionpu_split.h"

struct multi_part {
	struct ionpu_loaded *card; /* or */
	struct ionpu_host *host;
	struct ionpu_queue *q; /* the card's, or NULL: its step runs alone */
	size_t n_in, n_out;
	float *in;	 /* one step's input */
	uint8_t *out[2]; /* one step's output, two steps in turn */
};

struct ionpu_multi {
	struct multi_part *part;
	size_t n_parts;
	size_t inputs, outputs;
	struct ionpu_split_span *span[IONPU_SPAN_KINDS];
	size_t n_span[IONPU_SPAN_KINDS];
	unsigned int now; /* the out[] the next step writes */
	bool lost;	  /* a run failed: the parts' state is not one step's */
};

static struct ionpu_multi *multi_new(const struct ionpu_split *s)
{
	struct ionpu_multi *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->part = calloc(s->n_parts, sizeof(*m->part));
	if (!m->part) {
		free(m);
		return NULL;
	}
	m->n_parts = s->n_parts;
	m->inputs = s->inputs;
	m->outputs = s->outputs;
	for (int kind = 0; kind < IONPU_SPAN_KINDS; kind++) {
		size_t bytes = s->n_span[kind] * sizeof(*s->span[kind]);

		m->span[kind] = malloc(bytes ? bytes : 1);
		if (!m->span[kind]) {
			ionpu_multi_free(m);
			return NULL;
		}
		memcpy(m->span[kind], s->span[kind], bytes);
		m->n_span[kind] = s->n_span[kind];
	}
	return m;
}

/* The step buffers, once every part is loaded and says its channels. */
static int multi_buffers(struct ionpu_multi *m)
{
	for (size_t k = 0; k < m->n_parts; k++) {
		struct multi_part *p = &m->part[k];

		p->in = calloc(p->n_in + 1, sizeof(*p->in));
		p->out[0] = calloc(p->n_out + 1, 1);
		p->out[1] = calloc(p->n_out + 1, 1);
		if (!p->in || !p->out[0] || !p->out[1])
			return ionpu_error(-ENOMEM, "multi: out of memory");
	}
	return 0;
}

/* @err with "multi: part @k: " before the message a part's call left. */
static int part_error(int err, size_t k, const char *what)
{
	char why[384];

	snprintf(why, sizeof(why), "%s", ionpu_last_error());
	return ionpu_error(err, "multi: %s part %zu: %s", what, k, why);
}

IONPU_API int ionpu_multi_load(const struct ionpu_split *s,
			       struct ionpu_dev *const *devs, size_t n_devs,
			       const struct ionpu_load_opts *opts,
			       struct ionpu_multi **out)
{
	struct ionpu_multi *m;
	int err;

	if (!s || !devs || !out)
		return ionpu_error(-EINVAL, "multi: NULL argument");
	if (n_devs < s->n_parts)
		return ionpu_error(-EINVAL,
				   "multi: the split has %zu parts and %zu cards were given",
				   s->n_parts, n_devs);
	m = multi_new(s);
	if (!m)
		return ionpu_error(-ENOMEM, "multi: out of memory");
	for (size_t k = 0; k < s->n_parts; k++) {
		struct multi_part *p = &m->part[k];

		err = ionpu_load(devs[k], s->part[k].net, s->part[k].plan, opts,
				 &p->card);
		if (err) {
			err = part_error(err, k, "loading");
			goto err_free;
		}
		p->n_in = ionpu_loaded_inputs(p->card);
		p->n_out = ionpu_loaded_outputs(p->card);
		/* No queue (no io_uring, say): the step runs alone, as exact. */
		if (ionpu_queue_new(p->card, 1, &p->q))
			p->q = NULL;
	}
	err = multi_buffers(m);
	if (err)
		goto err_free;
	*out = m;
	return 0;

err_free:
	ionpu_multi_free(m);
	return err;
}

IONPU_API int ionpu_multi_host(const struct ionpu_split *s,
			       struct ionpu_multi **out)
{
	struct ionpu_multi *m;
	int err;

	if (!s || !out)
		return ionpu_error(-EINVAL, "multi: NULL argument");
	m = multi_new(s);
	if (!m)
		return ionpu_error(-ENOMEM, "multi: out of memory");
	for (size_t k = 0; k < s->n_parts; k++) {
		struct multi_part *p = &m->part[k];

		err = ionpu_host_new(s->part[k].net, s->part[k].plan, &p->host);
		if (err) {
			err = part_error(err, k, "loading");
			goto err_free;
		}
		p->n_in = ionpu_host_inputs(p->host);
		p->n_out = ionpu_host_outputs(p->host);
	}
	err = multi_buffers(m);
	if (err)
		goto err_free;
	*out = m;
	return 0;

err_free:
	ionpu_multi_free(m);
	return err;
}

IONPU_API void ionpu_multi_free(struct ionpu_multi *m)
{
	if (!m)
		return;
	for (size_t k = 0; k < m->n_parts; k++) {
		struct multi_part *p = &m->part[k];

		ionpu_queue_free(p->q);
		ionpu_unload(p->card);
		ionpu_host_free(p->host);
		free(p->in);
		free(p->out[0]);
		free(p->out[1]);
	}
	for (int kind = 0; kind < IONPU_SPAN_KINDS; kind++)
		free(m->span[kind]);
	free(m->part);
	free(m);
}

IONPU_API size_t ionpu_multi_inputs(const struct ionpu_multi *m)
{
	return m->inputs;
}

IONPU_API size_t ionpu_multi_outputs(const struct ionpu_multi *m)
{
	return m->outputs;
}

/*
 * Start part @p's step: on its queue, or run it here when it has none.
 * Its output goes to @out.
 */
static int part_start(struct multi_part *p, bool from_rest, uint8_t *out)
{
	uint32_t flags = from_rest ? 0 : IONPU_RUN_KEEP_STATE;
	int err;

	if (p->q) {
		err = ionpu_queue_submit(p->q, p->in, 1, flags, out, 0);
		return err ? err : ionpu_queue_flush(p->q);
	}
	if (p->card)
		return ionpu_loaded_run(p->card, p->in, 1, flags, out);
	if (from_rest)
		ionpu_host_reset(p->host);
	return ionpu_host_run(p->host, p->in, 1, out);
}

/*
 * Wait for the step part_start() sent to @p's queue, if any.  A step from
 * rest that a reset of the card undid runs again alone, which sets the
 * card up again first, as ionpu_loaded_run() does for any run.
 */
static int part_finish(struct multi_part *p, bool from_rest, uint8_t *out)
{
	struct ionpu_completion c;
	int got, err;

	if (!p->q || !ionpu_queue_in_flight(p->q))
		return 0;
	got = ionpu_queue_reap(p->q, &c, 1, 1);
	if (got < 0) {
		char why[384];

		/* Nothing may stay queued: the next step would run it, late. */
		snprintf(why, sizeof(why), "%s", ionpu_last_error());
		while (ionpu_queue_in_flight(p->q) &&
		       ionpu_queue_reap(p->q, &c, 1, 1) > 0)
			;
		return ionpu_error(got, "%s", why);
	}
	err = got ? c.status : ionpu_error(-EIO, "queue: no completion");
	if (err && from_rest && ionpu_loaded_was_reset(p->card, err))
		err = ionpu_loaded_run(p->card, p->in, 1, 0, out);
	return err;
}

/*
 * Every part's step, the cards' at the same time.  A step in flight is
 * collected even after another part failed: its output buffer is written
 * until it completes.  The error is that of the lowest-numbered part that
 * failed, with its message, as when the parts ran one after another.
 */
static int parts_step(struct ionpu_multi *m, bool from_rest, size_t step)
{
	size_t failed = 0, k;
	char why[384] = "";
	int err = 0, ret;

	for (k = 0; k < m->n_parts && !err; k++) {
		err = part_start(&m->part[k], from_rest,
				 m->part[k].out[m->now]);
		if (err) {
			failed = k;
			snprintf(why, sizeof(why), "%s", ionpu_last_error());
		}
	}
	for (k = 0; k < m->n_parts; k++) {
		ret = part_finish(&m->part[k], from_rest,
				  m->part[k].out[m->now]);
		if (ret && (!err || k < failed)) {
			err = ret;
			failed = k;
			snprintf(why, sizeof(why), "%s", ionpu_last_error());
		}
	}
	if (!err)
		return 0;
	return ionpu_error(err, "multi: step %zu, part %zu: %s", step, failed,
			   why);
}

/* One time step: the caller's @in and @out are that step's rows. */
static int multi_step(struct ionpu_multi *m, const float *in, bool from_rest,
		      uint8_t *out, size_t step)
{
	unsigned int now = m->now, before = now ^ 1;
	const struct ionpu_split_span *sp;
	int err;

	for (size_t k = 0; k < m->n_parts; k++)
		memset(m->part[k].in, 0, m->part[k].n_in * sizeof(float));
	for (size_t j = 0; j < m->n_span[IONPU_SPAN_FEED]; j++) {
		sp = &m->span[IONPU_SPAN_FEED][j];
		memcpy(m->part[sp->to_part].in + sp->to, in + sp->from,
		       sp->len * sizeof(float));
	}
	for (size_t j = 0; j < m->n_span[IONPU_SPAN_IMPORT]; j++) {
		const uint8_t *spikes;
		float *to;

		sp = &m->span[IONPU_SPAN_IMPORT][j];
		spikes = m->part[sp->from_part].out[before] + sp->from;
		to = m->part[sp->to_part].in + sp->to;
		for (uint32_t c = 0; c < sp->len; c++)
			to[c] = spikes[c];
	}
	err = parts_step(m, from_rest, step);
	if (err)
		return err;
	for (size_t j = 0; j < m->n_span[IONPU_SPAN_RESULT]; j++) {
		sp = &m->span[IONPU_SPAN_RESULT][j];
		memcpy(out + sp->to, m->part[sp->from_part].out[now] + sp->from,
		       sp->len);
	}
	m->now = before;
	return 0;
}

IONPU_API int ionpu_multi_run(struct ionpu_multi *m, const float *in,
			      size_t steps, uint32_t flags, uint8_t *out)
{
	bool from_rest = !(flags & IONPU_RUN_KEEP_STATE);
	int err;

	if (!m || !in || !out || !steps)
		return ionpu_error(-EINVAL, "multi: NULL argument or no step");
	if (flags & ~IONPU_RUN_KEEP_STATE)
		return ionpu_error(-EINVAL, "multi: unknown flags %#x", flags);
	if (!from_rest && m->lost)
		return ionpu_error(-ESTALE,
				   "multi: the last run failed and left the cards' state between two steps: start from rest");
	if (m->outputs && steps > SIZE_MAX / m->outputs)
		return ionpu_error(-EOVERFLOW, "multi: %zu steps overflow",
				   steps);
	err = ionpu_raster_check(in, steps, m->inputs);
	if (err)
		return err;
	if (from_rest) {
		/* No spikes in flight between the cards either. */
		for (size_t k = 0; k < m->n_parts; k++)
			memset(m->part[k].out[m->now ^ 1], 0, m->part[k].n_out);
	}
	m->lost = true;
	for (size_t t = 0; t < steps; t++) {
		err = multi_step(m, in + t * m->inputs, from_rest && t == 0,
				 out + t * m->outputs, t);
		if (err)
			return err;
	}
	m->lost = false;
	return 0;
}
