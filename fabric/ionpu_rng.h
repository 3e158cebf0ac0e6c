/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fabric's random numbers: a small seeded generator (xoshiro256**
 * seeded through splitmix64) for cycle-to-cycle noise, and a stateless hash
 * for device-to-device draws, so a device's fixed properties depend only
 * on (seed, place) and never on the order of calls.
 */
#ifndef IONPU_RNG_H
#define IONPU_RNG_H

#include <stdint.h>

struct ionpu_rng {
	uint64_t s[4];
};

/* Domains keep the hash of a cell apart from that of a neuron or stream. */
enum ionpu_rng_domain {
	IONPU_RNG_CELL = 1,
	IONPU_RNG_NEURON = 2,
	IONPU_RNG_STREAM = 3,
};

/* A well-mixed 64-bit value for (seed, domain, a, b, c). */
uint64_t ionpu_hash(uint64_t seed, enum ionpu_rng_domain domain, uint32_t a,
		    uint32_t b, uint32_t c);

void ionpu_rng_seed(struct ionpu_rng *rng, uint64_t seed);
uint64_t ionpu_rng_next(struct ionpu_rng *rng);
/* Uniform in [0, 1), 24 bits. */
float ionpu_rng_uniform(struct ionpu_rng *rng);
/* Standard normal. */
float ionpu_rng_normal(struct ionpu_rng *rng);

/* The same from a hash value, for draws fixed by place. */
float ionpu_hash_uniform(uint64_t h);
/* Standard normal from two independent hash values. */
float ionpu_hash_normal(uint64_t h1, uint64_t h2);

#endif /* IONPU_RNG_H */
