// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * splitmix64 (Steele, Lea, Flood 2014) as the mixing function and
 * xoshiro256** (Blackman, Vigna 2018) as the stream generator.
 */
#include <math.h>

#include "ionpu_rng.h"

#define TWO_PI 6.283185307179586f

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t ionpu_hash(uint64_t seed, enum ionpu_rng_domain domain, uint32_t a,
		    uint32_t b, uint32_t c)
{
	/* Chained mixing: each field goes through a full avalanche. */
	uint64_t x = seed;
	uint64_t h = splitmix64(&x);

	x = h ^ ((uint64_t)domain << 32 | a);
	h = splitmix64(&x);
	x = h ^ ((uint64_t)b << 32 | c);
	return splitmix64(&x);
}

void ionpu_rng_seed(struct ionpu_rng *rng, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t ionpu_rng_next(struct ionpu_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

float ionpu_hash_uniform(uint64_t h)
{
	return (float)(h >> 40) * (1.0f / 16777216.0f);
}

float ionpu_rng_uniform(struct ionpu_rng *rng)
{
	return ionpu_hash_uniform(ionpu_rng_next(rng));
}

/* Box-Muller; u1 is kept off zero so the logarithm stays finite. */
static float box_muller(float u1, float u2)
{
	return sqrtf(-2.0f * logf(u1 + 0x1p-25f)) * cosf(TWO_PI * u2);
}

float ionpu_rng_normal(struct ionpu_rng *rng)
{
	uint64_t h = ionpu_rng_next(rng);

	/* One 64-bit draw gives both 24-bit uniforms. */
	return box_muller(ionpu_hash_uniform(h), ionpu_hash_uniform(h << 24));
}

float ionpu_hash_normal(uint64_t h1, uint64_t h2)
{
	return box_muller(ionpu_hash_uniform(h1), ionpu_hash_uniform(h2));
}
