/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Little-endian fields at byte offsets, for the userspace side of the card's
 * wire layouts (the model core, libionpu's calibration record, the tests).
 * Byte by byte, so neither alignment nor the host's byte order matters; the
 * kernel uses its own le*_to_cpu() helpers.
 */
#ifndef IONPU_LE_H
#define IONPU_LE_H

#include <stdint.h>

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

#endif /* IONPU_LE_H */
