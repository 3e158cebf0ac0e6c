// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The on-card router: each neuron's route (fan-out to (tile, row) targets
 * with axonal delays, and/or the host) and the delay lines, one event list
 * per timestep of the input window.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_fabric_impl.h"

int ionpu_router_push(struct ionpu_fabric *f, uint64_t timestep,
		      unsigned int tile, unsigned int row, float value)
{
	struct ionpu_event_list *l =
		&f->slot[timestep % IONPU_FAB_INPUT_WINDOW];

	if (f->in_flight >= IONPU_FAB_MAX_IN_FLIGHT)
		return -ENOMEM;
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 64;
		struct ionpu_event *ev;

		if (cap > UINT32_MAX / 2)
			return -ENOMEM;
		ev = realloc(l->ev, cap * sizeof(*ev));
		if (!ev)
			return -ENOMEM;
		l->ev = ev;
		l->cap = cap;
	}
	l->ev[l->n++] = (struct ionpu_event){
		.tile = (uint16_t)tile,
		.row = (uint16_t)row,
		.value = value,
	};
	f->in_flight++;
	return 0;
}

void ionpu_router_clear(struct ionpu_fabric *f)
{
	for (unsigned int s = 0; s < IONPU_FAB_INPUT_WINDOW; s++)
		f->slot[s].n = 0;
	f->in_flight = 0;
}

void ionpu_router_drop(struct ionpu_fabric *f, uint64_t tiles)
{
	for (unsigned int s = 0; s < IONPU_FAB_INPUT_WINDOW; s++) {
		struct ionpu_event_list *l = &f->slot[s];
		uint32_t kept = 0;

		for (uint32_t i = 0; i < l->n; i++)
			if (!(tiles & (1ull << l->ev[i].tile)))
				l->ev[kept++] = l->ev[i];
		f->in_flight -= l->n - kept;
		l->n = kept;
	}
}

void ionpu_router_free(struct ionpu_fabric *f)
{
	for (unsigned int s = 0; s < IONPU_FAB_INPUT_WINDOW; s++) {
		free(f->slot[s].ev);
		f->slot[s] = (struct ionpu_event_list){ 0 };
	}
}

void ionpu_route_free(struct ionpu_route *r)
{
	free(r->t);
	*r = (struct ionpu_route){ 0 };
}

int ionpu_router_fire(struct ionpu_fabric *f, unsigned int tile,
		      unsigned int neuron)
{
	const struct ionpu_route *r = &f->tile[tile].route[neuron];
	int ret = 0;

	for (unsigned int k = 0; k < r->n; k++) {
		const struct ionpu_fab_target *t = &r->t[k];

		if (ionpu_router_push(f, f->now + 1 + t->delay, t->tile, t->row,
				      1.0f))
			ret = -ENOMEM;
	}
	return ret;
}

int ionpu_fabric_set_route(struct ionpu_fabric *f, unsigned int tile,
			   unsigned int neuron, bool to_host,
			   const struct ionpu_fab_target *targets,
			   unsigned int n)
{
	struct ionpu_fab_target *copy = NULL;
	struct ionpu_route *r;

	if (!f || (n && !targets))
		return -EINVAL;
	if (tile >= f->tiles || neuron >= IONPU_FAB_NEURONS ||
	    n > IONPU_FAB_MAX_FANOUT)
		return -ERANGE;
	for (unsigned int k = 0; k < n; k++)
		if (targets[k].tile >= f->tiles ||
		    targets[k].row >= IONPU_FAB_ROWS ||
		    targets[k].delay > IONPU_FAB_MAX_DELAY)
			return -ERANGE;
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, targets, n * sizeof(*copy));
	}
	r = &f->tile[tile].route[neuron];
	ionpu_route_free(r);
	r->t = copy;
	r->n = (uint16_t)n;
	r->to_host = to_host;
	return 0;
}

int ionpu_fabric_get_route(const struct ionpu_fabric *f, unsigned int tile,
			   unsigned int neuron, bool *to_host,
			   struct ionpu_fab_target *targets, unsigned int max)
{
	const struct ionpu_route *r;

	if (!f || (max && !targets))
		return -EINVAL;
	if (tile >= f->tiles || neuron >= IONPU_FAB_NEURONS)
		return -ERANGE;
	r = &f->tile[tile].route[neuron];
	if (to_host)
		*to_host = r->to_host;
	if (max > r->n)
		max = r->n;
	if (max)
		memcpy(targets, r->t, max * sizeof(*targets));
	return r->n;
}
