// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Rasters in files: NumPy's .npy format (numpy.lib.format: magic, version,
 * a header that is a Python dict literal, then the raw elements) and CSV.
 *
 * Files come from anywhere, so every size is checked against the file's
 * own length before anything is allocated: a header claiming a huge shape
 * fails as truncated instead of asking for the memory.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ionpu_internal.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* Larger headers than this are not NumPy's (it writes a few hundred bytes). */
#define NPY_HEADER_MAX (1u << 20)

enum elem {
	E_F4,
	E_F8,
	E_I8,
	E_I4,
	E_U1,
	E_B1,
};

static const struct {
	const char *descr;
	size_t size;
} elems[] = {
	[E_F4] = { "<f4", 4 }, [E_F8] = { "<f8", 8 }, [E_I8] = { "<i8", 8 },
	[E_I4] = { "<i4", 4 }, [E_U1] = { "|u1", 1 }, [E_B1] = { "|b1", 1 },
};

struct npy_header {
	char descr[16];
	enum elem elem;
	bool have_descr, have_order, have_shape;
	bool fortran;
	int ndim;
	uint64_t dims[3];
};

/* A cursor over the header text. */
struct hdr {
	const char *p;
	const char *end;
	const char *path;
};

static void skip_blanks(struct hdr *h)
{
	while (h->p < h->end &&
	       (*h->p == ' ' || *h->p == '\t' || *h->p == '\n'))
		h->p++;
}

static bool eat(struct hdr *h, char c)
{
	skip_blanks(h);
	if (h->p < h->end && *h->p == c) {
		h->p++;
		return true;
	}
	return false;
}

/* A quoted string of at most @size - 1 characters, quotes ' or ". */
static bool quoted(struct hdr *h, char *out, size_t size)
{
	char q;
	size_t n = 0;

	skip_blanks(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return false;
	q = *h->p++;
	while (h->p < h->end && *h->p != q) {
		if (n + 1 >= size)
			return false;
		out[n++] = *h->p++;
	}
	if (h->p >= h->end)
		return false;
	h->p++;
	out[n] = '\0';
	return true;
}

static bool word(struct hdr *h, const char *w)
{
	size_t n = strlen(w);

	skip_blanks(h);
	if ((size_t)(h->end - h->p) < n || memcmp(h->p, w, n))
		return false;
	h->p += n;
	return true;
}

/* "(a, b)", "(a,)", "()": at most 4 dimensions are counted, 3 are kept. */
static int shape(struct hdr *h, struct npy_header *nh)
{
	if (!eat(h, '('))
		return -EPROTO;
	nh->ndim = 0;
	while (!eat(h, ')')) {
		uint64_t v = 0;

		skip_blanks(h);
		if (h->p >= h->end || !isdigit((unsigned char)*h->p))
			return -EPROTO;
		while (h->p < h->end && isdigit((unsigned char)*h->p)) {
			unsigned int d = (unsigned int)(*h->p++ - '0');

			if (v > (UINT64_MAX - d) / 10)
				return -EOVERFLOW;
			v = v * 10 + d;
		}
		if (nh->ndim < 3)
			nh->dims[nh->ndim] = v;
		if (nh->ndim < 4)
			nh->ndim++;
		if (!eat(h, ',') && !(h->p < h->end && *h->p == ')'))
			return -EPROTO;
	}
	return 0;
}

static int header_value(struct hdr *h, const char *key, struct npy_header *nh)
{
	if (!strcmp(key, "descr")) {
		if (!quoted(h, nh->descr, sizeof(nh->descr)))
			return ionpu_error(-EPROTO,
					   "%s: 'descr' is not a short string",
					   h->path);
		nh->have_descr = true;
		return 0;
	}
	if (!strcmp(key, "fortran_order")) {
		if (word(h, "True"))
			nh->fortran = true;
		else if (!word(h, "False"))
			return ionpu_error(-EPROTO,
					   "%s: 'fortran_order' is neither True nor False",
					   h->path);
		nh->have_order = true;
		return 0;
	}
	if (!strcmp(key, "shape")) {
		int err = shape(h, nh);

		if (err)
			return ionpu_error(err,
					   "%s: 'shape' is not a tuple of sizes",
					   h->path);
		nh->have_shape = true;
		return 0;
	}
	return ionpu_error(-EPROTO, "%s: unknown header key '%s'", h->path,
			   key);
}

/* The header dict: exactly the keys descr, fortran_order and shape. */
static int parse_header(const char *text, size_t len, const char *path,
			struct npy_header *nh)
{
	struct hdr h = { text, text + len, path };
	char key[16];
	int err;

	if (memchr(text, '\0', len))
		return ionpu_error(-EPROTO, "%s: NUL byte in the header", path);
	if (!eat(&h, '{'))
		return ionpu_error(-EPROTO, "%s: the header is not a dict",
				   path);
	while (!eat(&h, '}')) {
		if (!quoted(&h, key, sizeof(key)) || !eat(&h, ':'))
			return ionpu_error(-EPROTO, "%s: bad header dict",
					   path);
		err = header_value(&h, key, nh);
		if (err)
			return err;
		if (!eat(&h, ',') && !(h.p < h.end && *h.p == '}'))
			return ionpu_error(-EPROTO, "%s: bad header dict",
					   path);
	}
	skip_blanks(&h);
	if (h.p != h.end)
		return ionpu_error(-EPROTO, "%s: text after the header dict",
				   path);
	if (!nh->have_descr || !nh->have_order || !nh->have_shape)
		return ionpu_error(-EPROTO, "%s: the header lacks %s", path,
				   !nh->have_descr ? "'descr'" :
				   !nh->have_order ? "'fortran_order'" :
						     "'shape'");
	for (size_t k = 0; k < sizeof(elems) / sizeof(elems[0]); k++) {
		/*
		 * One-byte types carry no byte order: '|', '<' and '=' are
		 * alike.
		 */
		const char *d = nh->descr;
		bool one = elems[k].size == 1 && (d[0] == '<' || d[0] == '=');

		if (!strcmp(d, elems[k].descr) ||
		    (one && !strcmp(d + 1, elems[k].descr + 1))) {
			nh->elem = (enum elem)k;
			break;
		}
		if (k + 1 == sizeof(elems) / sizeof(elems[0]))
			return ionpu_error(-EOPNOTSUPP,
					   "%s: element type '%s': this reader takes little-endian float32, float64, int64, int32, uint8 and bool",
					   path, d);
	}
	if (nh->fortran && nh->ndim > 1)
		return ionpu_error(-EOPNOTSUPP,
				   "%s: Fortran order; save with C order",
				   path);
	/* A vector (labels, one channel's values) is one column. */
	if (nh->ndim == 1) {
		nh->dims[1] = 1;
		nh->ndim = 2;
	}
	if (nh->ndim != 2 && nh->ndim != 3)
		return ionpu_error(-EOPNOTSUPP,
				   "%s: %s%d dimensions; a raster has 2 (steps x channels), a batch of them 3 (samples x steps x channels)",
				   path, nh->ndim > 3 ? "at least " : "",
				   nh->ndim);
	return 0;
}

static float elem_value(enum elem e, const unsigned char *b)
{
	uint64_t u = 0;
	size_t n = elems[e].size;
	float f;
	double d;

	for (size_t k = 0; k < n; k++)
		u |= (uint64_t)b[k] << (8 * k);
	switch (e) {
	case E_F4: {
		uint32_t u32 = (uint32_t)u;

		memcpy(&f, &u32, sizeof(f));
		return f;
	}
	case E_F8:
		memcpy(&d, &u, sizeof(d));
		return (float)d;
	case E_I8:
		return (float)(int64_t)u;
	case E_I4:
		return (float)(int32_t)(uint32_t)u;
	case E_U1:
		return (float)u;
	case E_B1:
		return u != 0;
	}
	return 0;
}

/* Exactly @len bytes or an error naming what was short. */
static int read_exact(FILE *fp, void *buf, size_t len, const char *path,
		      const char *what)
{
	if (fread(buf, 1, len, fp) == len)
		return 0;
	if (ferror(fp))
		return ionpu_error(-EIO, "%s: read error", path);
	return ionpu_error(-EPROTO, "%s: truncated %s", path, what);
}

/* The magic, version and header of a .npy file, up to its data. */
static int read_npy_header(FILE *fp, const char *path, struct npy_header *nh)
{
	unsigned char pre[NPY_MAGIC_LEN + 2], len_bytes[4];
	uint32_t hlen = 0;
	size_t lenlen;
	char *text;
	int err;

	err = read_exact(fp, pre, sizeof(pre), path, "magic");
	if (err)
		return err;
	if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN))
		return ionpu_error(-EPROTO, "%s: not a .npy file (bad magic)",
				   path);
	if ((pre[6] != 1 && pre[6] != 2) || pre[7] != 0)
		return ionpu_error(-EOPNOTSUPP,
				   "%s: .npy format %u.%u; this reader takes 1.0 and 2.0",
				   path, pre[6], pre[7]);
	lenlen = pre[6] == 1 ? 2 : 4;
	err = read_exact(fp, len_bytes, lenlen, path, "header length");
	if (err)
		return err;
	for (size_t k = 0; k < lenlen; k++)
		hlen |= (uint32_t)len_bytes[k] << (8 * k);
	if (hlen > NPY_HEADER_MAX)
		return ionpu_error(-EPROTO, "%s: header of %u bytes", path,
				   hlen);
	text = malloc(hlen + 1);
	if (!text)
		return ionpu_error(-ENOMEM, "%s: out of memory", path);
	err = read_exact(fp, text, hlen, path, "header");
	if (err)
		goto out;
	err = parse_header(text, hlen, path, nh);
out:
	free(text);
	return err;
}

/* "(a, b)" or "(a, b, c)", for messages. */
static void shape_text(const struct npy_header *nh, char *buf, size_t size)
{
	if (nh->ndim == 3)
		snprintf(buf, size, "(%llu, %llu, %llu)",
			 (unsigned long long)nh->dims[0],
			 (unsigned long long)nh->dims[1],
			 (unsigned long long)nh->dims[2]);
	else
		snprintf(buf, size, "(%llu, %llu)",
			 (unsigned long long)nh->dims[0],
			 (unsigned long long)nh->dims[1]);
}

/* The shape's element count, if it has some and the file holds exactly them. */
static int check_npy_size(FILE *fp, const char *path,
			  const struct npy_header *nh, size_t *count)
{
	size_t esz = elems[nh->elem].size, n = 1;
	char text[80];
	struct stat st;
	off_t body;

	*count = 0;
	shape_text(nh, text, sizeof(text));
	for (int k = 0; k < nh->ndim; k++) {
		if (!nh->dims[k])
			return ionpu_error(-EOPNOTSUPP,
					   "%s: shape %s has no elements", path,
					   text);
		if (nh->dims[k] > SIZE_MAX / n)
			return ionpu_error(-EOVERFLOW, "%s: shape %s overflows",
					   path, text);
		n *= (size_t)nh->dims[k];
	}
	if (n > SIZE_MAX / (esz > sizeof(float) ? esz : sizeof(float)))
		return ionpu_error(-EOVERFLOW, "%s: shape %s overflows", path,
				   text);
	if (fstat(fileno(fp), &st))
		return ionpu_error_errno(-errno, "%s", path);
	/* A pipe has no size to check: read_exact() finds it short. */
	if (!S_ISREG(st.st_mode)) {
		*count = n;
		return 0;
	}
	body = ftello(fp);
	if (body < 0)
		return ionpu_error_errno(-errno, "%s", path);
	if ((uint64_t)(st.st_size - body) != (uint64_t)n * esz)
		return ionpu_error(-EPROTO,
				   "%s: %s data: shape %s needs %llu bytes, the file has %llu",
				   path,
				   (uint64_t)(st.st_size - body) <
						   (uint64_t)n * esz ?
					   "truncated" :
					   "trailing",
				   text, (unsigned long long)n * esz,
				   (unsigned long long)(st.st_size - body));
	*count = n;
	return 0;
}

/*
 * A raster of 2 dimensions, or 3 with a batch first, read into floats;
 * @shape gets the file's sizes.
 */
static int read_npy(FILE *fp, const char *path, float **data,
		    struct npy_header *shape)
{
	struct npy_header nh = { 0 };
	unsigned char *raw;
	size_t n, esz;
	float *v;
	int err;

	err = read_npy_header(fp, path, &nh);
	if (err)
		return err;
	err = check_npy_size(fp, path, &nh, &n);
	if (err)
		return err;
	esz = elems[nh.elem].size;
	raw = malloc(n * esz);
	v = malloc(n * sizeof(*v));
	if (!raw || !v) {
		err = ionpu_error(-ENOMEM, "%s: out of memory", path);
		goto err_free;
	}
	err = read_exact(fp, raw, n * esz, path, "data");
	if (err)
		goto err_free;
	for (size_t k = 0; k < n; k++) {
		v[k] = elem_value(nh.elem, raw + k * esz);
		if (!isfinite(v[k])) {
			err = ionpu_error(-EPROTO,
					  "%s: element %zu is not a finite float",
					  path, k);
			goto err_free;
		}
	}
	free(raw);
	*data = v;
	*shape = nh;
	return 0;

err_free:
	free(raw);
	free(v);
	return err;
}

/* The raster of @path, of 2 or 3 dimensions, and its shape. */
static int read_npy_path(const char *path, float **data,
			 struct npy_header *shape)
{
	FILE *fp;
	int err;

	fp = fopen(path, "rb");
	if (!fp)
		return ionpu_error_errno(-errno, "%s", path);
	err = read_npy(fp, path, data, shape);
	fclose(fp);
	return err;
}

IONPU_API int ionpu_npy_read(const char *path, float **data, size_t *rows,
			     size_t *cols)
{
	struct npy_header shape;
	int err;

	if (!path || !data || !rows || !cols)
		return ionpu_error(-EINVAL, "ionpu_npy_read: NULL argument");
	err = read_npy_path(path, data, &shape);
	if (err)
		return err;
	if (shape.ndim != 2) {
		free(*data);
		*data = NULL;
		return ionpu_error(-EOPNOTSUPP,
				   "%s: a batch of %llu rasters; read it with ionpu_npy_read_batch()",
				   path, (unsigned long long)shape.dims[0]);
	}
	*rows = (size_t)shape.dims[0];
	*cols = (size_t)shape.dims[1];
	return 0;
}

IONPU_API int ionpu_npy_read_batch(const char *path, float **data,
				   size_t *samples, size_t *steps, size_t *cols,
				   int *ndim)
{
	struct npy_header shape;
	int err;

	if (!path || !data || !samples || !steps || !cols)
		return ionpu_error(-EINVAL,
				   "ionpu_npy_read_batch: NULL argument");
	err = read_npy_path(path, data, &shape);
	if (err)
		return err;
	if (shape.ndim == 2) {
		/* One raster: a batch of one, which says it was not a batch. */
		shape.dims[2] = shape.dims[1];
		shape.dims[1] = shape.dims[0];
		shape.dims[0] = 1;
	}
	*samples = (size_t)shape.dims[0];
	*steps = (size_t)shape.dims[1];
	*cols = (size_t)shape.dims[2];
	if (ndim)
		*ndim = shape.ndim;
	return 0;
}

/* @data as an .npy array of @ndim (2 or 3) dimensions @dims. */
static int write_npy(const char *path, enum ionpu_npy_type type,
		     const void *data, int ndim, const size_t *dims)
{
	/* The preamble and header together are a multiple of 64 bytes. */
	char header[160], shape[80];
	size_t esz = type == IONPU_NPY_F32 ? 4 : 1, n;
	const char *descr = type == IONPU_NPY_F32 ? "<f4" : "|u1";
	int len, pad;
	FILE *fp;
	bool ok;

	if (!path || (type != IONPU_NPY_F32 && type != IONPU_NPY_U8))
		return ionpu_error(-EINVAL, "ionpu_npy_write: bad argument");
	n = 1;
	for (int k = 0; k < ndim; k++) {
		if (dims[k] && n > SIZE_MAX / esz / dims[k])
			return ionpu_error(-EOVERFLOW,
					   "%s: the array's size overflows",
					   path);
		n *= dims[k];
	}
	if (!data && n)
		return ionpu_error(-EINVAL, "ionpu_npy_write: bad argument");
	if (ndim == 3)
		snprintf(shape, sizeof(shape), "(%zu, %zu, %zu)", dims[0],
			 dims[1], dims[2]);
	else
		snprintf(shape, sizeof(shape), "(%zu, %zu)", dims[0], dims[1]);
	len = snprintf(header, sizeof(header),
		       "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
		       descr, shape);
	pad = 64 - (NPY_MAGIC_LEN + 4 + len + 1) % 64;
	if (pad == 64)
		pad = 0;
	fp = fopen(path, "wb");
	if (!fp)
		return ionpu_error_errno(-errno, "%s", path);
	ok = fwrite(NPY_MAGIC "\x01\x00", 1, NPY_MAGIC_LEN + 2, fp) ==
		     NPY_MAGIC_LEN + 2 &&
	     fputc((len + pad + 1) & 0xff, fp) != EOF &&
	     fputc((len + pad + 1) >> 8, fp) != EOF &&
	     fprintf(fp, "%s%*s\n", header, pad, "") == len + pad + 1;
	if (type == IONPU_NPY_U8) {
		ok = ok && fwrite(data, 1, n, fp) == n;
	} else {
		for (size_t k = 0; ok && k < n; k++) {
			uint32_t u;
			unsigned char b[4];

			memcpy(&u, (const float *)data + k, sizeof(u));
			for (int i = 0; i < 4; i++)
				b[i] = (unsigned char)(u >> (8 * i));
			ok = fwrite(b, 1, 4, fp) == 4;
		}
	}
	if (fclose(fp) || !ok)
		return ionpu_error(-EIO, "%s: write error", path);
	return 0;
}

IONPU_API int ionpu_npy_write(const char *path, enum ionpu_npy_type type,
			      const void *data, size_t rows, size_t cols)
{
	const size_t dims[] = { rows, cols };

	return write_npy(path, type, data, 2, dims);
}

IONPU_API int ionpu_npy_write_batch(const char *path, enum ionpu_npy_type type,
				    const void *data, size_t samples,
				    size_t steps, size_t cols)
{
	const size_t dims[] = { samples, steps, cols };

	return write_npy(path, type, data, 3, dims);
}

/* One CSV line: its fields appended to *@v (grown as needed). */
static int csv_line(char *line, size_t lineno, const char *path, float **v,
		    size_t *n, size_t *cap, size_t *fields)
{
	char *p = line, *end;

	*fields = 0;
	for (;;) {
		float x;

		errno = 0;
		x = strtof(p, &end);
		if (end == p || errno == ERANGE || !isfinite(x))
			return ionpu_error(-EPROTO,
					   "%s: line %zu, field %zu is not a finite number",
					   path, lineno, *fields + 1);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end && *end != ',')
			return ionpu_error(-EPROTO,
					   "%s: line %zu, field %zu is not a finite number",
					   path, lineno, *fields + 1);
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 64;
			float *g = c < *cap || c > SIZE_MAX / sizeof(*g) ?
					   NULL :
					   realloc(*v, c * sizeof(*g));

			if (!g)
				return ionpu_error(-ENOMEM, "%s: out of memory",
						   path);
			*v = g;
			*cap = c;
		}
		(*v)[(*n)++] = x;
		(*fields)++;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

static int read_csv(FILE *fp, const char *path, float **data, size_t *rows,
		    size_t *cols)
{
	char *line = NULL;
	size_t linecap = 0, n = 0, cap = 0, lineno = 0, nrows = 0, fields,
	       want = 0;
	float *v = NULL;
	ssize_t len;
	int err;

	while ((len = getline(&line, &linecap, fp)) >= 0) {
		lineno++;
		if (memchr(line, '\0', (size_t)len)) {
			err = ionpu_error(-EPROTO,
					  "%s: line %zu has a NUL byte", path,
					  lineno);
			goto err_free;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		/*
		 * Empty lines, e.g. a blank one at the end, hold no time step.
		 */
		if (!len)
			continue;
		err = csv_line(line, lineno, path, &v, &n, &cap, &fields);
		if (err)
			goto err_free;
		if (nrows && fields != want) {
			err = ionpu_error(-EPROTO,
					  "%s: line %zu has %zu fields, the first %zu",
					  path, lineno, fields, want);
			goto err_free;
		}
		want = fields;
		nrows++;
	}
	if (ferror(fp)) {
		err = ionpu_error(-EIO, "%s: read error", path);
		goto err_free;
	}
	if (!nrows) {
		err = ionpu_error(-EPROTO, "%s: no numbers", path);
		goto err_free;
	}
	free(line);
	*data = v;
	*rows = nrows;
	*cols = want;
	return 0;

err_free:
	free(line);
	free(v);
	return err;
}

IONPU_API int ionpu_csv_read(const char *path, float **data, size_t *rows,
			     size_t *cols)
{
	FILE *fp;
	int err;

	if (!path || !data || !rows || !cols)
		return ionpu_error(-EINVAL, "ionpu_csv_read: NULL argument");
	fp = fopen(path, "r");
	if (!fp)
		return ionpu_error_errno(-errno, "%s", path);
	err = read_csv(fp, path, data, rows, cols);
	fclose(fp);
	return err;
}
