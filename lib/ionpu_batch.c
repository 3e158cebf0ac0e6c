// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Batches: many samples of one network run as one stream, each from rest,
 * so a test set is one call rather than a process or a load per sample.
 *
 * On the card every sample is a job (the driver clears the network's
 * tiles before each), and up to BATCH_DEPTH of them are in flight on the
 * network's io_uring queue, so the card never waits for the host between
 * samples.  Where io_uring is missing the jobs go one after another.  The
 * host reference resets its fabric between samples, which is what the
 * card's clearing of the tiles does.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ionpu_internal.h"

#define BATCH_DEPTH 64

/* @err with the message of the call that failed, prefixed by its sample. */
static int sample_error(int err, size_t sample)
{
	char why[256];

	snprintf(why, sizeof(why), "%s", ionpu_last_error());
	return ionpu_error(err, "sample %zu: %s", sample, why);
}

/*
 * The batch's input floats and output bytes fit a size_t: @samples x
 * @steps rows of @n_in and of @n_out.
 */
static int check_batch(const char *fn, size_t samples, size_t steps,
		       size_t n_in, size_t n_out)
{
	size_t width = n_in * sizeof(float) > n_out ? n_in * sizeof(float) :
						      n_out;

	if ((steps && samples > SIZE_MAX / steps) ||
	    (width && samples * steps > SIZE_MAX / width))
		return ionpu_error(-EOVERFLOW,
				   "%s: %zu samples of %zu steps overflow", fn,
				   samples, steps);
	return 0;
}

IONPU_API int ionpu_host_run_batch(struct ionpu_host *h, const float *in,
				   size_t samples, size_t steps, uint8_t *out)
{
	size_t n_in, n_out;
	int err;

	if (!h || (samples && steps && (!in || !out)))
		return ionpu_error(-EINVAL,
				   "ionpu_host_run_batch: NULL argument");
	n_in = ionpu_host_inputs(h);
	n_out = ionpu_host_outputs(h);
	err = check_batch("ionpu_host_run_batch", samples, steps, n_in, n_out);
	if (err)
		return err;
	for (size_t s = 0; s < samples; s++) {
		ionpu_host_reset(h);
		err = ionpu_host_run(h, in + s * steps * n_in, steps,
				     out + s * steps * n_out);
		if (err) {
			err = sample_error(err, s);
			break;
		}
	}
	ionpu_host_reset(h);
	return err;
}

/* One sample after another, for a kernel without io_uring. */
static int run_each(struct ionpu_loaded *n, const float *in, size_t samples,
		    size_t steps, uint8_t *out)
{
	size_t n_in = ionpu_loaded_inputs(n), n_out = ionpu_loaded_outputs(n);

	for (size_t s = 0; s < samples; s++) {
		int err = ionpu_loaded_run(n, in + s * steps * n_in, steps, 0,
					   out + s * steps * n_out);

		if (err)
			return sample_error(err, s);
	}
	return 0;
}

/*
 * Reap at least @wait_for completions; the first failure is kept in
 * *@first_err, naming its sample (the user data).
 */
static int reap(struct ionpu_queue *q, size_t wait_for, int *first_err)
{
	struct ionpu_completion c[BATCH_DEPTH];
	int got = ionpu_queue_reap(q, c, BATCH_DEPTH, wait_for);

	if (got < 0)
		return got;
	for (int k = 0; k < got && !*first_err; k++)
		if (c[k].status)
			*first_err = ionpu_error_errno(c[k].status,
						       "sample %llu",
						       (unsigned long long)c[k]
							       .user_data);
	return 0;
}

/* The batch through io_uring, or one sample after another without it. */
static int run_batch(struct ionpu_loaded *n, const float *in, size_t samples,
		     size_t steps, uint8_t *out)
{
	size_t n_in = ionpu_loaded_inputs(n), n_out = ionpu_loaded_outputs(n);
	struct ionpu_queue *q = NULL;
	size_t next = 0;
	int err, first_err = 0;

	err = ionpu_queue_new(n, BATCH_DEPTH, &q);
	if (err == -ENOSYS || err == -EOPNOTSUPP)
		return run_each(n, in, samples, steps, out);
	if (err)
		return err;
	/* Submit while there is room; when the queue is full, reap one. */
	while (next < samples && !first_err) {
		err = ionpu_queue_submit(q, in + next * steps * n_in, steps, 0,
					 out + next * steps * n_out, next);
		if (!err) {
			next++;
			continue;
		}
		if (err != -EBUSY) {
			err = sample_error(err, next);
			goto out;
		}
		err = reap(q, 1, &first_err);
		if (err)
			goto out;
	}
	while (ionpu_queue_in_flight(q)) {
		err = reap(q, ionpu_queue_in_flight(q), &first_err);
		if (err)
			goto out;
	}
out:
	ionpu_queue_free(q);
	return first_err ? first_err : err;
}

IONPU_API int ionpu_loaded_run_batch(struct ionpu_loaded *n, const float *in,
				     size_t samples, size_t steps, uint8_t *out)
{
	int err;

	if (!n || (samples && steps && (!in || !out)))
		return ionpu_error(-EINVAL,
				   "ionpu_loaded_run_batch: NULL argument");
	err = check_batch("ionpu_loaded_run_batch", samples, steps,
			  ionpu_loaded_inputs(n), ionpu_loaded_outputs(n));
	if (err || !samples)
		return err;
	err = run_batch(n, in, samples, steps, out);
	/*
	 * A reset of the card cleared the tiles under some samples: set them
	 * up again and run the batch once more, each sample from rest.
	 */
	if (err && ionpu_loaded_was_reset(n, err)) {
		err = ionpu_loaded_restore(n);
		if (!err)
			err = run_batch(n, in, samples, steps, out);
	}
	return err;
}
