// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A guard in front of libhdf5 for variable-length strings.
 *
 * NIR keeps node types and edge ends in variable-length strings.  HDF5
 * stores each such string in a "global heap" collection and puts in the
 * dataset a slot naming the collection's address and the object's index in
 * it.  The libhdf5 of Debian 12 (1.10.8) follows a slot without checking the
 * index against the collection, so a damaged file crashes the reader inside
 * H5Dread().  Before a string dataset is read, its slots are read raw from
 * the file, and every collection and object they name is checked to lie
 * within the file.  Layouts from the HDF5 file format specification, version
 * 2 and 3 superblocks alike: "Global Heap" and "Variable-length data".
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "ionpu_internal.h"

#define GCOL_SIGNATURE		"GCOL"
#define GCOL_VERSION		1
/* Largest collection read; real ones hold 4 KiB or a few times that. */
#define GCOL_MAX_SIZE		(64u << 20)

struct vlen_file {
	int fd;
	uint64_t size;		/* bytes in the file */
	uint64_t base;		/* where HDF5 address 0 lies: the userblock */
	size_t sa;		/* bytes of an address */
	size_t ss;		/* bytes of a length */
	/* The collection checked last: slots of one dataset share it. */
	uint64_t gcol_addr;
	uint8_t *gcol;
	uint64_t gcol_size;
};

/* HDF5's little-endian integers come in the file's own widths, 1..8. */
static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* @len bytes at HDF5 address @addr, all inside the file, or a failure. */
static int read_at(const struct vlen_file *vf, uint64_t addr, void *buf,
		   uint64_t len, const char **why)
{
	uint64_t pos = vf->base + addr;
	ssize_t n;

	if (pos < vf->base || pos > vf->size || len > vf->size - pos) {
		*why = "it points past the end of the file";
		return -EPROTO;
	}
	n = pread(vf->fd, buf, len, (off_t)pos);
	if (n < 0 || (uint64_t)n != len) {
		*why = "the file cannot be read";
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

/*
 * Walk the objects of the collection in @vf->gcol as libhdf5 decodes them:
 * every object ends inside the collection and moves the walk forward, and
 * the walk ends exactly at the collection's end.  With @index, stop at that
 * object and return its size in *@size.  Object 0 is free space, which may
 * sit anywhere; an end too short for an object header is free space too.
 */
static int walk_collection(const struct vlen_file *vf, uint32_t index,
			   uint64_t *size, const char **why)
{
	const uint64_t hdr = 8 + vf->ss, end = vf->gcol_size;
	uint64_t off = 8 + vf->ss;

	while (off < end && end - off >= hdr) {
		const uint8_t *o = vf->gcol + off;
		uint16_t found = (uint16_t)get_le(o, 2);
		uint64_t len = get_le(o + 8, vf->ss);
		/* Object 0's size counts its header, the others' do not. */
		uint64_t need = found ? hdr + ((len + 7) & ~(uint64_t)7) : len;

		if (len > end - off || !need || need > end - off) {
			*why = "a heap object overruns its collection";
			return -EPROTO;
		}
		if (index && found == index) {
			*size = len;
			return 0;
		}
		off += need;
	}
	if (index) {
		*why = "a string names a heap object that does not exist";
		return -EPROTO;
	}
	return 0;
}

/* Make the collection at @addr the current one, after checking all of it. */
static int load_collection(struct vlen_file *vf, uint64_t addr, const char **why)
{
	uint8_t head[8 + 8];
	uint64_t size;
	int err;

	if (vf->gcol && vf->gcol_addr == addr)
		return 0;
	free(vf->gcol);
	vf->gcol = NULL;
	err = read_at(vf, addr, head, 8 + vf->ss, why);
	if (err)
		return err;
	size = get_le(head + 8, vf->ss);
	if (memcmp(head, GCOL_SIGNATURE, 4) || head[4] != GCOL_VERSION) {
		*why = "a string points at something that is no heap collection";
		return -EPROTO;
	}
	if (size < 8 + vf->ss || size > GCOL_MAX_SIZE) {
		*why = "a heap collection has an impossible size";
		return -EPROTO;
	}
	vf->gcol = malloc(size);
	if (!vf->gcol) {
		*why = "out of memory";
		return -ENOMEM;
	}
	vf->gcol_size = size;
	err = read_at(vf, addr, vf->gcol, size, why);
	if (!err)
		err = walk_collection(vf, 0, NULL, why);
	if (err) {
		free(vf->gcol);
		vf->gcol = NULL;
		return err;
	}
	vf->gcol_addr = addr;
	return 0;
}

/* Object @index of the current collection must exist and hold @len bytes. */
static int check_object(const struct vlen_file *vf, uint32_t index,
			uint32_t len, const char **why)
{
	uint64_t size;
	int err;

	if (!index || index > UINT16_MAX) {
		*why = "a string names a heap object that does not exist";
		return -EPROTO;
	}
	err = walk_collection(vf, index, &size, why);
	if (!err && len > size) {
		*why = "a string is longer than its heap object";
		return -EPROTO;
	}
	return err;
}

static int check_slots(struct vlen_file *vf, hid_t ds, uint64_t count,
		       const char **why)
{
	const size_t slot = 4 + vf->sa + 4;
	haddr_t addr = H5Dget_offset(ds);
	hsize_t stored = H5Dget_storage_size(ds);
	uint8_t *raw;
	int err;

	/* Nothing stored: every string is the fill value, read from no heap. */
	if (!stored)
		return 0;
	if (addr == HADDR_UNDEF || stored / slot < count) {
		*why = "its storage does not hold its strings";
		return -EPROTO;
	}
	if (!count)
		return 0;
	raw = malloc(count * slot);
	if (!raw) {
		*why = "out of memory";
		return -ENOMEM;
	}
	err = read_at(vf, addr, raw, count * slot, why);
	for (uint64_t i = 0; !err && i < count; i++) {
		const uint8_t *s = raw + i * slot;
		uint32_t len = (uint32_t)get_le(s, 4);
		uint64_t gcol = get_le(s + 4, vf->sa);
		uint32_t index = (uint32_t)get_le(s + 4 + vf->sa, 4);

		/* Address 0 is a NULL string: libhdf5 reads no heap for it. */
		if (!gcol)
			continue;
		err = load_collection(vf, gcol, why);
		if (!err)
			err = check_object(vf, index, len, why);
	}
	free(raw);
	return err;
}

int ionpu_nir_vlen_check(hid_t ds, uint64_t count, const char **why)
{
	struct vlen_file vf = { .fd = -1 };
	hid_t file, fcpl = -1, dcpl;
	H5D_layout_t layout;
	hsize_t userblock;
	struct stat st;
	int *fdp = NULL;
	int err = -EPROTO;

	*why = "its file cannot be inspected";
	dcpl = H5Dget_create_plist(ds);
	layout = dcpl < 0 ? H5D_LAYOUT_ERROR : H5Pget_layout(dcpl);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (layout != H5D_CONTIGUOUS) {
		/* Compact or chunked slots cannot be read raw to be checked. */
		*why = "variable-length strings are read only from contiguous storage";
		return -EPROTO;
	}
	file = H5Iget_file_id(ds);
	if (file < 0)
		return -EPROTO;
	fcpl = H5Fget_create_plist(file);
	if (fcpl < 0 || H5Pget_sizes(fcpl, &vf.sa, &vf.ss) < 0 ||
	    H5Pget_userblock(fcpl, &userblock) < 0 ||
	    H5Fget_vfd_handle(file, H5P_DEFAULT, (void **)&fdp) < 0 || !fdp ||
	    fstat(*fdp, &st))
		goto out;
	if (vf.sa < 2 || vf.sa > 8 || vf.ss < 2 || vf.ss > 8) {
		*why = "its superblock gives impossible sizes";
		goto out;
	}
	vf.fd = *fdp;
	vf.size = (uint64_t)st.st_size;
	vf.base = userblock;
	err = check_slots(&vf, ds, count, why);
	free(vf.gcol);
out:
	if (fcpl >= 0)
		H5Pclose(fcpl);
	H5Fclose(file);
	return err;
}
