/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Little-endian values, for the userspace side of the card's wire layouts
 * (the model core, libionpu's calibration record, the tests): at byte
 * offsets, and as the __le fields of hw/ionpu_wire.h's structs.  Byte by
 * byte, so neither alignment nor the host's byte order matters; the kernel
 * uses its own le*_to_cpu() helpers.
 */
#ifndef IONPU_LE_H
#define IONPU_LE_H

#include <stdint.h>
#include <string.h>

#include <linux/types.h>

static inline uint16_t ionpu_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t ionpu_get_le32(const uint8_t *p)
{
	return (uint32_t)ionpu_get_le16(p) |
	       (uint32_t)ionpu_get_le16(p + 2) << 16;
}

static inline uint64_t ionpu_get_le64(const uint8_t *p)
{
	return (uint64_t)ionpu_get_le32(p) |
	       (uint64_t)ionpu_get_le32(p + 4) << 32;
}

static inline void ionpu_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void ionpu_put_le32(uint8_t *p, uint32_t v)
{
	ionpu_put_le16(p, (uint16_t)v);
	ionpu_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void ionpu_put_le64(uint8_t *p, uint64_t v)
{
	ionpu_put_le32(p, (uint32_t)v);
	ionpu_put_le32(p + 4, (uint32_t)(v >> 32));
}

/*
 * A struct field holds the bytes as they are on the wire; these go through
 * its bytes, the way the kernel's le*_to_cpu() and cpu_to_le*() do.
 */
static inline uint16_t ionpu_le16_to_cpu(__le16 v)
{
	uint8_t b[sizeof(v)];

	memcpy(b, &v, sizeof(b));
	return ionpu_get_le16(b);
}

static inline uint32_t ionpu_le32_to_cpu(__le32 v)
{
	uint8_t b[sizeof(v)];

	memcpy(b, &v, sizeof(b));
	return ionpu_get_le32(b);
}

static inline uint64_t ionpu_le64_to_cpu(__le64 v)
{
	uint8_t b[sizeof(v)];

	memcpy(b, &v, sizeof(b));
	return ionpu_get_le64(b);
}

static inline __le16 ionpu_cpu_to_le16(uint16_t v)
{
	uint8_t b[sizeof(__le16)];
	__le16 r;

	ionpu_put_le16(b, v);
	memcpy(&r, b, sizeof(r));
	return r;
}

static inline __le32 ionpu_cpu_to_le32(uint32_t v)
{
	uint8_t b[sizeof(__le32)];
	__le32 r;

	ionpu_put_le32(b, v);
	memcpy(&r, b, sizeof(r));
	return r;
}

static inline __le64 ionpu_cpu_to_le64(uint64_t v)
{
	uint8_t b[sizeof(__le64)];
	__le64 r;

	ionpu_put_le64(b, v);
	memcpy(&r, b, sizeof(r));
	return r;
}

/* The f32 fields and parameters: IEEE 754 binary32 bit patterns. */
static inline uint32_t ionpu_f32_to_bits(float f)
{
	uint32_t bits;

	memcpy(&bits, &f, sizeof(bits));
	return bits;
}

static inline float ionpu_bits_to_f32(uint32_t bits)
{
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

static inline float ionpu_le32_to_f32(__le32 v)
{
	return ionpu_bits_to_f32(ionpu_le32_to_cpu(v));
}

static inline __le32 ionpu_f32_to_le32(float f)
{
	return ionpu_cpu_to_le32(ionpu_f32_to_bits(f));
}

#endif /* IONPU_LE_H */
