// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The non-volatile store: every device's conductance and programming time,
 * the calibration record and device time, in one file.
 *
 * Layout, all little-endian:
 *   header (64 bytes)
 *     0  magic "IONPUNV\0"     8  u32 version      12 u32 header size
 *    16  u32 tiles            20  u32 rows         24 u32 columns
 *    28  u32 calib size       32  u64 seed         40 u64 device time ns
 *    48  u64 payload size     56  u64 checksum (FNV-1a 64 of bytes 0..55
 *                                    of the header, then of the payload)
 *   payload: per tile, G+ then G- then programming times (f32 each, one per
 *   cell, row-major), then the calibration record.
 * Saving writes a temporary file in the same directory, fsyncs it, renames
 * it over the old one and fsyncs the directory, so a crash leaves either
 * the old file or the new one.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/ionpu_le.h"
#include "ionpu_fabric_impl.h"

#define NV_MAGIC "IONPUNV" /* with its NUL: 8 bytes */
#define NV_VERSION 1
#define NV_HEADER 64
#define NV_ARRAYS 3 /* G+, G-, programming time */

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		h ^= p[k];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Everything but the checksum field itself. */
static uint64_t checksum(const uint8_t *file, size_t payload)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, file, 56);

	return fnv1a(h, file + NV_HEADER, payload);
}

static size_t payload_size(unsigned int tiles)
{
	return (size_t)tiles * NV_ARRAYS * IONPU_FAB_CELLS * 4 +
	       IONPU_FAB_CALIB_SIZE;
}

static float *tile_array(struct ionpu_xbar *xb, unsigned int a)
{
	return a == 0 ? xb->gp : a == 1 ? xb->gn : xb->t_prog;
}

static uint8_t *serialise(const struct ionpu_fabric *f, size_t *len)
{
	size_t psize = payload_size(f->tiles);
	uint8_t *buf = malloc(NV_HEADER + psize);
	uint8_t *p;

	if (!buf)
		return NULL;
	p = buf + NV_HEADER;
	for (unsigned int t = 0; t < f->tiles; t++) {
		for (unsigned int a = 0; a < NV_ARRAYS; a++) {
			const float *src = tile_array(&f->tile[t].xb, a);

			for (unsigned int c = 0; c < IONPU_FAB_CELLS; c++) {
				uint32_t bits;

				memcpy(&bits, &src[c], 4);
				ionpu_put_le32(p, bits);
				p += 4;
			}
		}
	}
	memcpy(p, f->calib, IONPU_FAB_CALIB_SIZE);
	memset(buf, 0, NV_HEADER);
	memcpy(buf, NV_MAGIC, sizeof(NV_MAGIC));
	ionpu_put_le32(buf + 8, NV_VERSION);
	ionpu_put_le32(buf + 12, NV_HEADER);
	ionpu_put_le32(buf + 16, f->tiles);
	ionpu_put_le32(buf + 20, IONPU_FAB_ROWS);
	ionpu_put_le32(buf + 24, IONPU_FAB_NEURONS);
	ionpu_put_le32(buf + 28, IONPU_FAB_CALIB_SIZE);
	ionpu_put_le64(buf + 32, f->seed);
	ionpu_put_le64(buf + 40, f->device_time_ns);
	ionpu_put_le64(buf + 48, psize);
	ionpu_put_le64(buf + 56, checksum(buf, psize));
	*len = NV_HEADER + psize;
	return buf;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Make the rename itself durable. */
static void sync_dir(const char *path)
{
	char *dir = strdup(path);
	char *slash;
	int fd;

	if (!dir)
		return;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int ionpu_fabric_save(const struct ionpu_fabric *f, const char *path,
		      const char **why)
{
	const char *msg = NULL;
	uint8_t *buf = NULL;
	char *tmp = NULL;
	size_t len = 0;
	int fd = -1, ret;

	if (!f || !path || !*path) {
		ret = -EINVAL;
		msg = "no fabric or no path";
		goto out;
	}
	buf = serialise(f, &len);
	tmp = malloc(strlen(path) + sizeof(".tmpXXXXXX"));
	if (!buf || !tmp) {
		ret = -ENOMEM;
		msg = "out of memory";
		goto out;
	}
	strcpy(tmp, path);
	strcat(tmp, ".tmpXXXXXX");
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		msg = "cannot create the temporary file beside the store";
		goto out;
	}
	ret = write_all(fd, buf, len);
	if (ret) {
		msg = "cannot write the temporary file";
		goto out;
	}
	if (fsync(fd) < 0) {
		ret = -errno;
		msg = "cannot fsync the temporary file";
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		ret = -errno;
		msg = "cannot close the temporary file";
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		ret = -errno;
		msg = "cannot rename the temporary file over the store";
		goto out;
	}
	sync_dir(path);
	free(tmp);
	tmp = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(buf);
	if (why && msg)
		*why = msg;
	return ret;
}

static int read_file(const char *path, uint8_t **out, size_t *len,
		     const char **msg)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY), ret = 0;

	if (fd < 0) {
		*msg = "cannot open the store";
		return -errno;
	}
	if (fstat(fd, &st) < 0 || st.st_size < NV_HEADER ||
	    (uint64_t)st.st_size >
		    NV_HEADER + payload_size(IONPU_FAB_MAX_TILES)) {
		close(fd);
		*msg = "the store's size is not that of any store";
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		close(fd);
		*msg = "out of memory";
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = r < 0 ? -errno : -EINVAL;
			*msg = "cannot read the store";
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	*out = buf;
	*len = got;
	return 0;
}

static const char *check_header(const struct ionpu_fabric *f,
				const uint8_t *buf, size_t len)
{
	size_t psize = payload_size(f->tiles);

	if (memcmp(buf, NV_MAGIC, sizeof(NV_MAGIC)))
		return "not an IONPU-1 store (bad magic)";
	if (ionpu_get_le32(buf + 8) != NV_VERSION)
		return "store version not supported";
	if (ionpu_get_le32(buf + 12) != NV_HEADER ||
	    ionpu_get_le32(buf + 20) != IONPU_FAB_ROWS ||
	    ionpu_get_le32(buf + 24) != IONPU_FAB_NEURONS ||
	    ionpu_get_le32(buf + 28) != IONPU_FAB_CALIB_SIZE)
		return "store geometry does not match this card";
	if (ionpu_get_le32(buf + 16) != f->tiles)
		return "store holds another number of tiles than this card";
	if (ionpu_get_le64(buf + 32) != f->seed)
		return "store belongs to a card with another seed";
	if (ionpu_get_le64(buf + 48) != psize || len != NV_HEADER + psize)
		return "store is truncated or has trailing bytes";
	if (ionpu_get_le64(buf + 56) != checksum(buf, psize))
		return "store checksum mismatch";
	return NULL;
}

static bool value_ok(unsigned int array, float v)
{
	if (!ionpu_finite(v) || v < 0)
		return false;
	return array == 2 || v <= 2 * IONPU_FAB_G_MAX;
}

int ionpu_fabric_load(struct ionpu_fabric *f, const char *path,
		      const char **why)
{
	const char *msg = NULL;
	uint8_t *buf = NULL;
	const uint8_t *p;
	size_t len = 0;
	int ret;

	if (!f || !path) {
		if (why)
			*why = "no fabric or no path";
		return -EINVAL;
	}
	ret = read_file(path, &buf, &len, &msg);
	if (ret)
		goto out;
	msg = check_header(f, buf, len);
	if (msg) {
		ret = -EINVAL;
		goto out;
	}
	/* Check every value before changing anything. */
	p = buf + NV_HEADER;
	for (size_t k = 0; k < (size_t)f->tiles * NV_ARRAYS; k++) {
		for (unsigned int c = 0; c < IONPU_FAB_CELLS; c++) {
			uint32_t bits = ionpu_get_le32(
				p + 4 * ((size_t)k * IONPU_FAB_CELLS + c));
			float v;

			memcpy(&v, &bits, 4);
			if (!value_ok(k % NV_ARRAYS, v)) {
				msg = "store holds an impossible conductance or time";
				ret = -EINVAL;
				goto out;
			}
		}
	}
	for (unsigned int t = 0; t < f->tiles; t++) {
		for (unsigned int a = 0; a < NV_ARRAYS; a++) {
			float *dst = tile_array(&f->tile[t].xb, a);

			for (unsigned int c = 0; c < IONPU_FAB_CELLS; c++) {
				uint32_t bits = ionpu_get_le32(p);

				memcpy(&dst[c], &bits, 4);
				p += 4;
			}
		}
		ionpu_xbar_invalidate(f, t);
	}
	memcpy(f->calib, p, IONPU_FAB_CALIB_SIZE);
	f->device_time_ns = ionpu_get_le64(buf + 40);
out:
	free(buf);
	if (why && msg)
		*why = msg;
	return ret;
}
