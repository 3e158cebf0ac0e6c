// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Input rasters as timed events, the one order both the host reference and
 * the card get them in.  The card adds the input events of a timestep into
 * its neurons one after another in float, so the order is part of the
 * result: fixing it here is what lets the two agree bit for bit.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_internal.h"

void ionpu_feed_clear(struct ionpu_feed *feed)
{
	free(feed->pending);
	feed->pending = NULL;
	feed->n_pending = 0;
}

/*
 * Every event in arising order: the pending ones, then the raster's.
 * Returns whether that order is already by step, as it is when no target
 * has a delay and nothing was pending: sorting would change nothing.
 */
static bool gather(const struct ionpu_image *img, const struct ionpu_feed *feed,
		   const float *in, size_t steps, struct ionpu_timed_input *all)
{
	size_t n = feed->n_pending;
	uint32_t last = 0;
	bool by_step = true;

	for (size_t k = 0; k < n; k++) {
		all[k] = feed->pending[k];
		by_step &= all[k].step >= last;
		last = all[k].step;
	}
	for (size_t t = 0; t < steps; t++) {
		for (size_t c = 0; c < img->n_in; c++) {
			float v = in[t * img->n_in + c];

			for (size_t r = img->in_first[c];
			     v != 0 && r < img->in_first[c + 1]; r++) {
				uint32_t step =
					(uint32_t)(t +
						   img->in_targets[r].delay);

				by_step &= step >= last;
				last = step;
				all[n++] = (struct ionpu_timed_input){
					.step = step,
					.value = v,
					.tile = img->in_targets[r].tile,
					.row = img->in_targets[r].row,
				};
			}
		}
	}
	return by_step;
}

/*
 * A stable counting sort of @all by step, which keeps the arising order within
 * a step.
 */
static int sort_by_step(const struct ionpu_timed_input *all, size_t total,
			size_t buckets, struct ionpu_timed_input *sorted)
{
	size_t *start = calloc(buckets + 1, sizeof(*start));

	if (!start)
		return ionpu_error(-ENOMEM,
				   "run: out of memory for %zu input events",
				   total);
	for (size_t k = 0; k < total; k++)
		start[all[k].step + 1]++;
	for (size_t k = 0; k < buckets; k++)
		start[k + 1] += start[k];
	for (size_t k = 0; k < total; k++)
		sorted[start[all[k].step]++] = all[k];
	free(start);
	return 0;
}

int ionpu_raster_check(const float *in, size_t steps, size_t n_in)
{
	if (n_in && steps > SIZE_MAX / n_in)
		return ionpu_error(-EOVERFLOW, "run: %zu steps overflow",
				   steps);
	for (size_t i = 0; i < steps * n_in; i++) {
		/* NaN fails the comparison too. */
		if (!(fabsf(in[i]) <= IONPU_INPUT_MAX))
			return ionpu_error(-EINVAL,
					   "run: step %zu, channel %zu: input %g is outside the card's input range [-%.0f, %.0f]",
					   i / n_in, i % n_in, (double)in[i],
					   (double)IONPU_INPUT_MAX,
					   (double)IONPU_INPUT_MAX);
	}
	return 0;
}

int ionpu_feed_raster(const struct ionpu_image *img, struct ionpu_feed *feed,
		      const float *in, size_t steps,
		      struct ionpu_timed_input **events, size_t *n)
{
	size_t total = feed->n_pending, now = 0, later = 0, k;
	struct ionpu_timed_input *all, *sorted, *rest = NULL;
	int err;

	err = ionpu_raster_check(in, steps, img->n_in);
	if (err)
		return err;
	for (size_t i = 0; i < steps * img->n_in; i++) {
		if (in[i] != 0) {
			size_t c = i % img->n_in;

			total += img->in_first[c + 1] - img->in_first[c];
		}
	}
	if (steps > UINT32_MAX - IONPU_FAB_INPUT_WINDOW)
		return ionpu_error(-EOVERFLOW, "run: %zu steps overflow",
				   steps);
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return ionpu_error(-ENOMEM,
				   "run: out of memory for %zu input events",
				   total);
	if (gather(img, feed, in, steps, all)) {
		sorted = all;
	} else {
		sorted = malloc((total ? total : 1) * sizeof(*sorted));
		if (!sorted) {
			err = ionpu_error(-ENOMEM,
					  "run: out of memory for %zu input events",
					  total);
			goto err_free;
		}
		err = sort_by_step(all, total, steps + IONPU_FAB_INPUT_WINDOW,
				   sorted);
		if (err)
			goto err_free;
		free(all);
	}
	for (k = 0; k < total; k++) {
		if (sorted[k].step < steps)
			now++;
		else
			later++;
	}
	if (later) {
		rest = malloc(later * sizeof(*rest));
		if (!rest) {
			free(sorted);
			return ionpu_error(-ENOMEM,
					   "run: out of memory for %zu input events",
					   later);
		}
		for (k = 0; k < later; k++) {
			rest[k] = sorted[now + k];
			rest[k].step -= (uint32_t)steps;
		}
	}
	free(feed->pending);
	feed->pending = rest;
	feed->n_pending = later;
	if (!now) {
		free(sorted);
		sorted = NULL;
	}
	*events = sorted;
	*n = now;
	return 0;

err_free:
	free(all);
	free(sorted);
	return err;
}
