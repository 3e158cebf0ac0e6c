/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * assert_same_network(): two networks are the same, node by node and
 * projection by projection in the order they are numbered, every value
 * compared exactly (infinities included).  NIR has no sparse node, so a
 * sparse projection of @want may come back dense with the same matrix.
 * Include after <cmocka.h> and <ionpu/ionpu.h>.
 */
#ifndef IONPU_TEST_NETWORK_EQUAL_H
#define IONPU_TEST_NETWORK_EQUAL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Both NULL, or @n equal values; @what and @where name them in a failure. */
static inline void assert_same_values(const double *want, const double *got, size_t n,
				      const char *where, const char *what)
{
	if ((want == NULL) != (got == NULL))
		fail_msg("%s: %s %s, want %s", where, what, got ? "set" : "NULL",
			 want ? "set" : "NULL");
	for (size_t i = 0; want && i < n; i++)
		if (memcmp(&want[i], &got[i], sizeof(want[i])))
			fail_msg("%s: %s[%zu] is %.17g, want %.17g", where, what, i, got[i],
				 want[i]);
}

static inline void assert_same_node(const struct ionpu_network *want,
				    const struct ionpu_network *got, uint32_t id)
{
	const struct ionpu_neuron_params *p, *q;
	struct ionpu_node_info x, y;

	assert_int_equal(ionpu_network_node(want, id, &x), 0);
	assert_int_equal(ionpu_network_node(got, id, &y), 0);
	if (strcmp(x.name, y.name))
		fail_msg("node %u is '%s', want '%s'", id, y.name, x.name);
	if (x.kind != y.kind || x.model != y.model || x.size != y.size || x.output != y.output)
		fail_msg("node %u '%s': kind %d model %d size %u output %d, want %d %d %u %d", id,
			 x.name, y.kind, y.model, y.size, y.output, x.kind, x.model, x.size,
			 x.output);
	p = &x.params;
	q = &y.params;
	assert_same_values(p->tau, q->tau, x.size, x.name, "tau");
	assert_same_values(p->tau_syn, q->tau_syn, x.size, x.name, "tau_syn");
	assert_same_values(p->tau_mem, q->tau_mem, x.size, x.name, "tau_mem");
	assert_same_values(p->r, q->r, x.size, x.name, "r");
	assert_same_values(p->v_leak, q->v_leak, x.size, x.name, "v_leak");
	assert_same_values(p->v_threshold, q->v_threshold, x.size, x.name, "v_threshold");
	assert_same_values(p->v_reset, q->v_reset, x.size, x.name, "v_reset");
	assert_same_values(p->w_in, q->w_in, x.size, x.name, "w_in");
	assert_same_values(p->bias, q->bias, x.size, x.name, "bias");
}

static inline void assert_same_conv(const struct ionpu_conv *a, const struct ionpu_conv *b,
				    const char *where)
{
	const uint32_t x[] = {
		a->in_channels, a->in_height, a->in_width, a->out_channels, a->out_height,
		a->out_width,	a->kernel_h,  a->kernel_w, a->stride_h,	    a->stride_w,
		a->pad_h,	a->pad_w,     a->dilation_h, a->dilation_w, a->groups,
	};
	const uint32_t y[] = {
		b->in_channels, b->in_height, b->in_width, b->out_channels, b->out_height,
		b->out_width,	b->kernel_h,  b->kernel_w, b->stride_h,	    b->stride_w,
		b->pad_h,	b->pad_w,     b->dilation_h, b->dilation_w, b->groups,
	};

	for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++)
		if (x[i] != y[i])
			fail_msg("%s: convolution member %zu is %u, want %u", where, i, y[i], x[i]);
}

static inline void assert_same_projection(const struct ionpu_network *want,
					  const struct ionpu_network *got, uint32_t k)
{
	struct ionpu_projection_info p, q;
	struct ionpu_node_info s, d;
	double *m1, *m2;
	char where[96];

	assert_int_equal(ionpu_network_projection(want, k, &p), 0);
	assert_int_equal(ionpu_network_projection(got, k, &q), 0);
	ionpu_network_node(want, p.src, &s);
	ionpu_network_node(want, p.dst, &d);
	snprintf(where, sizeof(where), "projection %u (%s to %s)", k, s.name, d.name);
	if (p.src != q.src || p.dst != q.dst)
		fail_msg("%s: goes from node %u to %u", where, q.src, q.dst);
	if (p.kind != q.kind && !(p.kind == IONPU_PROJ_SPARSE && q.kind == IONPU_PROJ_DENSE))
		fail_msg("%s: kind %d, want %d", where, q.kind, p.kind);
	if (p.kind == IONPU_PROJ_CONV)
		assert_same_conv(&p.conv, &q.conv, where);
	m1 = malloc((size_t)s.size * d.size * sizeof(*m1));
	m2 = malloc((size_t)s.size * d.size * sizeof(*m2));
	assert_non_null(m1);
	assert_non_null(m2);
	assert_int_equal(ionpu_network_projection_matrix(want, k, m1), 0);
	assert_int_equal(ionpu_network_projection_matrix(got, k, m2), 0);
	assert_same_values(m1, m2, (size_t)s.size * d.size, where, "weight");
	free(m1);
	free(m2);
	assert_same_values(p.delay, q.delay, s.size, where, "delay");
}

static inline void assert_same_network(const struct ionpu_network *want,
				       const struct ionpu_network *got)
{
	assert_int_equal(ionpu_network_node_count(got), ionpu_network_node_count(want));
	assert_int_equal(ionpu_network_projection_count(got),
			 ionpu_network_projection_count(want));
	for (uint32_t i = 0; i < ionpu_network_node_count(want); i++)
		assert_same_node(want, got, i);
	for (uint32_t k = 0; k < ionpu_network_projection_count(want); k++)
		assert_same_projection(want, got, k);
}

#endif /* IONPU_TEST_NETWORK_EQUAL_H */
