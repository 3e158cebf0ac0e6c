// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A guard in front of libhdf5 for variable-length strings.
 *
 * NIR keeps node types and edge ends in variable-length strings.  HDF5
 * stores each such string as an object in a "global heap" collection and
 * puts in the dataset a slot naming the string's length, the collection's
 * address and the object's index in it.  The libhdf5 of Debian 12 (1.10.8)
 * trusts all three: a bad index crashes it, a collection whose objects do
 * not advance makes it loop for ever, and an object longer than its slot
 * says overflows its buffer, all inside H5Dread().  So before a string
 * dataset is read, its slots are read raw from the file, and every
 * collection they name is decoded as libhdf5 decodes it and checked.
 * Layouts: the HDF5 file format specification, "Global Heap" and
 * "Variable-length data"; libhdf5's H5HGcache.c for how it walks them.
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
#include "ionpu_nir_vlen.h"

#define GCOL_SIGNATURE "GCOL"
#define GCOL_VERSION 1
/* Largest collection read; real ones hold 4 KiB or a few times that. */
#define GCOL_MAX_SIZE (64u << 20)

#define ALIGN8(x) (((x) + 7) & ~(uint64_t)7)

/* An object of a collection: its index and the bytes it holds. */
struct gobj {
	uint16_t index;
	uint64_t size;
};

/* A collection, decoded once: its objects sorted by index. */
struct gcol {
	uint64_t addr;
	struct gobj *obj;
	size_t nobj;
};

struct vlen_file {
	int fd;
	uint64_t size;	  /* bytes in the file */
	uint64_t base;	  /* HDF5 address 0: after the userblock */
	size_t sa;	  /* bytes of an address */
	size_t ss;	  /* bytes of a length */
	uint64_t decoded; /* bytes of collections read so far */
};

/* HDF5's little-endian integers come in the file's own widths, 1..8. */
static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* @len bytes at file offset @pos, all inside the file, or a failure. */
static int read_at(const struct vlen_file *vf, uint64_t pos, void *buf,
		   uint64_t len, const char **why)
{
	ssize_t n;

	if (pos > vf->size || len > vf->size - pos) {
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

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int compare_gobj(const void *a, const void *b)
{
	const struct gobj *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

/*
 * Walk the objects of a collection's @size bytes at @c as libhdf5 decodes
 * them, into @g's table.  Headers are padded to 8 bytes.  Object 0 is free
 * space, which may sit anywhere and whose size counts its header; an end
 * too short for an object header is free space too.  Every object must end
 * inside the collection and move the walk forward, and no index may come
 * twice: libhdf5 would keep the last, which its slot need not describe.
 */
static int walk_collection(const struct vlen_file *vf, const uint8_t *c,
			   uint64_t size, struct gcol *g, const char **why)
{
	const uint64_t objhdr = ALIGN8(8 + vf->ss);
	uint64_t off = ALIGN8(8 + vf->ss);

	/* Each object takes a header at least. */
	g->obj = malloc((size / objhdr + 1) * sizeof(*g->obj));
	if (!g->obj) {
		*why = "out of memory";
		return -ENOMEM;
	}
	while (off < size && size - off >= objhdr) {
		const uint8_t *o = c + off;
		uint16_t index = (uint16_t)get_le(o, 2);
		uint64_t len = get_le(o + 8, vf->ss);
		uint64_t need;

		if (len > size - off) {
			*why = "a heap object overruns its collection";
			return -EPROTO;
		}
		need = index ? objhdr + ALIGN8(len) : len;
		if (!need || need > size - off) {
			*why = "a heap object overruns its collection";
			return -EPROTO;
		}
		if (index)
			g->obj[g->nobj++] = (struct gobj){ index, len };
		off += need;
	}
	qsort(g->obj, g->nobj, sizeof(*g->obj), compare_gobj);
	for (size_t i = 1; i < g->nobj; i++) {
		if (g->obj[i].index == g->obj[i - 1].index) {
			*why = "a heap collection holds one object twice";
			return -EPROTO;
		}
	}
	return 0;
}

/* Read and decode the collection at HDF5 address @g->addr. */
static int load_collection(struct vlen_file *vf, struct gcol *g,
			   const char **why)
{
	const uint64_t hdr = ALIGN8(8 + vf->ss);
	uint8_t head[16];
	uint64_t pos = vf->base + g->addr, size;
	uint8_t *c;
	int err;

	if (pos < vf->base) {
		*why = "it points past the end of the file";
		return -EPROTO;
	}
	err = read_at(vf, pos, head, hdr, why);
	if (err)
		return err;
	if (memcmp(head, GCOL_SIGNATURE, 4) || head[4] != GCOL_VERSION) {
		*why = "a string points at something that is no heap collection";
		return -EPROTO;
	}
	size = get_le(head + 8, vf->ss);
	if (size < hdr || size > GCOL_MAX_SIZE) {
		*why = "a heap collection has an impossible size";
		return -EPROTO;
	}
	/*
	 * Collections of a sound file do not overlap: reading more is a loop.
	 */
	if (size > vf->size - vf->decoded) {
		*why = "its heap collections overlap";
		return -EPROTO;
	}
	vf->decoded += size;
	c = malloc(size);
	if (!c) {
		*why = "out of memory";
		return -ENOMEM;
	}
	err = read_at(vf, pos, c, size, why);
	if (err)
		goto out;
	err = walk_collection(vf, c, size, g, why);
out:
	free(c);
	return err;
}

static const struct gcol *find_collection(const struct gcol *g, size_t n,
					  uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g[mid].addr == addr)
			return &g[mid];
		if (g[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * A string of @len bytes at object @index of @g: libhdf5 copies the whole
 * object into a buffer sized by the slot's length, so the two must agree.
 */
static int check_object(const struct gcol *g, uint32_t index, uint32_t len,
			const char **why)
{
	const struct gobj key = { .index = (uint16_t)index };
	const struct gobj *o = NULL;

	if (index && index <= UINT16_MAX)
		o = bsearch(&key, g->obj, g->nobj, sizeof(*g->obj),
			    compare_gobj);
	if (!o) {
		*why = "a string names a heap object that does not exist";
		return -EPROTO;
	}
	if (o->size != len) {
		*why = "a string's length is not its heap object's";
		return -EPROTO;
	}
	return 0;
}

/*
 * The collections at @addrs (sorted), each once, into @gcols; *@n gets
 * how many hold something to free, the one that failed included.
 */
static int load_collections(struct vlen_file *vf, const uint64_t *addrs,
			    size_t n_addrs, struct gcol *gcols, size_t *n,
			    const char **why)
{
	*n = 0;
	for (size_t i = 0; i < n_addrs; i++) {
		int err;

		if (*n && gcols[*n - 1].addr == addrs[i])
			continue;
		gcols[*n].addr = addrs[i];
		err = load_collection(vf, &gcols[(*n)++], why);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The slots of @count strings at file offset @pos: every collection they
 * name is decoded once, then every slot is checked against its own.
 */
static int check_slots(struct vlen_file *vf, uint64_t pos, uint64_t count,
		       const char **why)
{
	const size_t slot = 4 + vf->sa + 4;
	struct gcol *gcols = NULL;
	uint64_t *addrs = NULL;
	size_t n_addrs = 0, ngcols = 0;
	uint8_t *raw;
	int err;

	if (count > vf->size / slot) {
		*why = "its storage does not hold its strings";
		return -EPROTO;
	}
	raw = malloc(count * slot);
	addrs = malloc(count * sizeof(*addrs));
	if (!raw || !addrs) {
		*why = "out of memory";
		err = -ENOMEM;
		goto out;
	}
	err = read_at(vf, pos, raw, count * slot, why);
	if (err)
		goto out;
	/* Address 0 is a NULL string: libhdf5 reads no heap for it. */
	for (uint64_t i = 0; i < count; i++) {
		uint64_t a = get_le(raw + i * slot + 4, vf->sa);

		if (a)
			addrs[n_addrs++] = a;
	}
	qsort(addrs, n_addrs, sizeof(*addrs), compare_u64);
	gcols = calloc(n_addrs ? n_addrs : 1, sizeof(*gcols));
	if (!gcols) {
		*why = "out of memory";
		err = -ENOMEM;
		goto out;
	}
	err = load_collections(vf, addrs, n_addrs, gcols, &ngcols, why);
	if (err)
		goto out;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *s = raw + i * slot;
		uint64_t a = get_le(s + 4, vf->sa);

		if (!a)
			continue;
		err = check_object(find_collection(gcols, ngcols, a),
				   (uint32_t)get_le(s + 4 + vf->sa, 4),
				   (uint32_t)get_le(s, 4), why);
		if (err)
			goto out;
	}
out:
	for (size_t i = 0; gcols && i < ngcols; i++)
		free(gcols[i].obj);
	free(gcols);
	free(addrs);
	free(raw);
	return err;
}

int ionpu_nir_vlen_check(hid_t ds, uint64_t count, const char **why)
{
	struct vlen_file vf = { .fd = -1 };
	haddr_t pos = H5Dget_offset(ds);
	hsize_t stored = H5Dget_storage_size(ds);
	hid_t file, fcpl = -1;
	hsize_t userblock;
	struct stat st;
	int *fdp = NULL;
	int err = -EPROTO;

	if (!count)
		return 0;
	/*
	 * Only contiguous storage has an offset to read slots at.  Strings
	 * never stored read as the fill value, which libhdf5 also takes from
	 * the heap, and so does asking for the dataset's creation properties.
	 */
	if (pos == HADDR_UNDEF || !stored) {
		*why = "variable-length strings are read only from contiguous storage";
		return -EPROTO;
	}
	*why = "its file cannot be inspected";
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
	if (stored / (4 + vf.sa + 4) < count) {
		*why = "its storage does not hold its strings";
		goto out;
	}
	vf.fd = *fdp;
	vf.size = (uint64_t)st.st_size;
	vf.base = userblock;
	/*
	 * H5Dget_offset() counts from the file's start, heap addresses do not.
	 */
	err = check_slots(&vf, pos, count, why);
out:
	if (fcpl >= 0)
		H5Pclose(fcpl);
	H5Fclose(file);
	return err;
}
