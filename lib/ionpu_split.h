/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A network split over cards, as ionpu_split.c makes it and ionpu_multi.c
 * runs it: the parts, and where each step's values go between the caller's
 * rasters and the parts'.
 */
#ifndef IONPU_SPLIT_H
#define IONPU_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include <ionpu/ionpu.h>

/*
 * Where a span's channels are: a part's raster, or the caller's (the whole
 * network's input or output raster).
 */
#define IONPU_SPLIT_CALLER UINT32_MAX

/*
 * @len channels copied every step from channel @from of @from_part's
 * raster to channel @to of @to_part's.  Feeds go from the caller's input to
 * a part's input, imports from a part's output of the step before to
 * another part's input, results from a part's output to the caller's.
 */
struct ionpu_split_span {
	uint32_t from_part;
	uint32_t from;
	uint32_t to_part;
	uint32_t to;
	uint32_t len;
};

enum ionpu_split_span_kind {
	IONPU_SPAN_FEED,
	IONPU_SPAN_IMPORT,
	IONPU_SPAN_RESULT,
	IONPU_SPAN_KINDS,
};

struct ionpu_split_part {
	struct ionpu_network *net;
	struct ionpu_plan *plan;
};

struct ionpu_split {
	struct ionpu_split_part *part;
	size_t n_parts;
	uint32_t *part_of; /* per network node: its part, or IONPU_SPLIT_CALLER */
	size_t n_nodes;
	size_t inputs, outputs; /* the whole network's channels */
	struct ionpu_split_span *span[IONPU_SPAN_KINDS];
	size_t n_span[IONPU_SPAN_KINDS];
};

#endif /* IONPU_SPLIT_H */
