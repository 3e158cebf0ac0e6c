/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A progress bar on stderr for the tools' long jobs, drawn only when stderr
 * is a terminal: a pipe or a file gets no carriage returns to strip.
 */
#ifndef IONPU_TOOLS_PROGRESS_H
#define IONPU_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

struct ionpu_progress {
	bool shown; /* stderr is a terminal and there is more than one step */
	const char *what; /* "samples", "steps" */
	size_t total;
	double drawn_at; /* when it was last drawn, seconds */
};

/* A bar for @total units of @what; shown on a terminal only. */
void ionpu_progress_start(struct ionpu_progress *p, const char *what,
			  size_t total);
/* @done of the total are done: redrawn at most ten times a second. */
void ionpu_progress_update(struct ionpu_progress *p, size_t done);
/* The bar erased, so that what follows starts on a clean line. */
void ionpu_progress_end(struct ionpu_progress *p);

#endif /* IONPU_TOOLS_PROGRESS_H */
