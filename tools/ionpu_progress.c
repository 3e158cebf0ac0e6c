// SPDX-License-Identifier: GPL-2.0-only
/*
 * The progress bar of tools/ionpu_progress.h: one line on stderr, redrawn
 * in place with a carriage return.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "ionpu_progress.h"

#define BAR_WIDTH 30
/* Seconds between redraws: a fast job does not flood the terminal. */
#define REDRAW_S 0.1

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void ionpu_progress_start(struct ionpu_progress *p, const char *what,
			  size_t total)
{
	p->what = what;
	p->total = total;
	p->drawn_at = 0;
	p->shown = total > 1 && isatty(STDERR_FILENO);
	ionpu_progress_update(p, 0);
}

void ionpu_progress_update(struct ionpu_progress *p, size_t done)
{
	char bar[BAR_WIDTH + 1];
	size_t fill;
	double t;

	if (!p->shown)
		return;
	t = now_s();
	if (done < p->total && done && t - p->drawn_at < REDRAW_S)
		return;
	p->drawn_at = t;
	fill = done * BAR_WIDTH / p->total;
	for (size_t k = 0; k < BAR_WIDTH; k++)
		bar[k] = k < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r[%s] %3zu%% %zu/%zu %s", bar, done * 100 / p->total,
		done, p->total, p->what);
	fflush(stderr);
}

void ionpu_progress_end(struct ionpu_progress *p)
{
	if (!p->shown)
		return;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
	p->shown = false;
}
