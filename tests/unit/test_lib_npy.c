// SPDX-License-Identifier: GPL-2.0-only
/*
 * libionpu's raster files: .npy written and read back, .npy files made
 * byte by byte as NumPy lays them out, CSV, and every malformed case the
 * readers must refuse without crashing.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ionpu/ionpu.h>

#include "tmp_file.h"

static void put_file(const char *path, const void *bytes, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(bytes, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* An .npy file of format @major.0: magic, version, length, @header, @data. */
static void put_npy_n(const char *path, int major, const char *header, size_t hl,
		      const void *data, size_t len)
{
	size_t pre = major == 1 ? 10 : 12;
	unsigned char *b = malloc(pre + hl + len + 1);

	assert_non_null(b);
	memcpy(b, "\x93NUMPY", 6);
	b[6] = (unsigned char)major;
	b[7] = 0;
	b[8] = (unsigned char)hl;
	b[9] = (unsigned char)(hl >> 8);
	if (major != 1) {
		b[10] = (unsigned char)(hl >> 16);
		b[11] = (unsigned char)(hl >> 24);
	}
	memcpy(b + pre, header, hl);
	if (len)
		memcpy(b + pre + hl, data, len);
	put_file(path, b, pre + hl + len);
	free(b);
}

static void put_npy(const char *path, int major, const char *header, const void *data,
		    size_t len)
{
	put_npy_n(path, major, header, strlen(header), data, len);
}

static void test_round_trip(void **state)
{
	struct tmp *t = *state;
	const float f[6] = { 0, 1, -2.5f, 1e-30f, 3e38f, 0.125f };
	const uint8_t u[6] = { 0, 1, 1, 0, 255, 7 };
	size_t rows = 0, cols = 0;
	float *v;

	assert_int_equal(ionpu_npy_write(t->path, IONPU_NPY_F32, f, 2, 3), 0);
	assert_int_equal(ionpu_npy_read(t->path, &v, &rows, &cols), 0);
	assert_int_equal(rows, 2);
	assert_int_equal(cols, 3);
	assert_memory_equal(v, f, sizeof(f));
	free(v);

	assert_int_equal(ionpu_npy_write(t->path, IONPU_NPY_U8, u, 3, 2), 0);
	assert_int_equal(ionpu_npy_read(t->path, &v, &rows, &cols), 0);
	assert_int_equal(rows, 3);
	assert_int_equal(cols, 2);
	for (size_t k = 0; k < 6; k++)
		assert_true(v[k] == u[k]);
	free(v);

	assert_int_equal(ionpu_npy_write(t->path, 99, u, 3, 2), -EINVAL);
	assert_int_equal(ionpu_npy_write(t->path, IONPU_NPY_U8, u, SIZE_MAX, 2), -EOVERFLOW);
}

/*
 * Batches: a 3-D array round trips through the batch calls, a 2-D one is a
 * batch of one that says so, a 1-D one is a column, and the 2-D reader
 * refuses a batch.
 */
static void test_batch(void **state)
{
	struct tmp *t = *state;
	uint8_t u[2 * 3 * 4];
	const float col[3] = { 4, 5, 6 };
	size_t samples = 0, steps = 0, cols = 0, rows = 0;
	int ndim = 0;
	float *v = NULL;

	for (size_t k = 0; k < sizeof(u); k++)
		u[k] = (uint8_t)(k * 7);
	assert_int_equal(ionpu_npy_write_batch(t->path, IONPU_NPY_U8, u, 2, 3, 4), 0);
	assert_int_equal(ionpu_npy_read_batch(t->path, &v, &samples, &steps, &cols, &ndim), 0);
	assert_true(samples == 2 && steps == 3 && cols == 4 && ndim == 3);
	for (size_t k = 0; k < sizeof(u); k++)
		assert_true(v[k] == u[k]);
	free(v);
	v = NULL;
	assert_int_equal(ionpu_npy_read(t->path, &v, &rows, &cols), -EOPNOTSUPP);
	assert_null(v);
	assert_non_null(strstr(ionpu_last_error(), "ionpu_npy_read_batch"));

	assert_int_equal(ionpu_npy_write(t->path, IONPU_NPY_U8, u, 6, 4), 0);
	assert_int_equal(ionpu_npy_read_batch(t->path, &v, &samples, &steps, &cols, NULL), 0);
	assert_true(samples == 1 && steps == 6 && cols == 4);
	free(v);
	assert_int_equal(ionpu_npy_read_batch(t->path, &v, &samples, &steps, &cols, &ndim), 0);
	assert_int_equal(ndim, 2);
	free(v);

	put_npy(t->path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", col,
		sizeof(col));
	assert_int_equal(ionpu_npy_read(t->path, &v, &rows, &cols), 0);
	assert_true(rows == 3 && cols == 1 && v[0] == 4 && v[2] == 6);
	free(v);

	assert_int_equal(ionpu_npy_write_batch(t->path, IONPU_NPY_U8, u, SIZE_MAX, 2, 2),
			 -EOVERFLOW);
	assert_int_equal(ionpu_npy_read_batch(t->path, &v, NULL, &steps, &cols, NULL), -EINVAL);
}

/* The header NumPy writes, padded so data starts at a multiple of 64. */
static void test_numpy_types(void **state)
{
	struct tmp *t = *state;
	const double f8[2] = { -1.5, 2 };
	const int64_t i8[2] = { -3, 1 << 20 };
	const int32_t i4[2] = { -7, 9 };
	const uint8_t b1[2] = { 0, 1 };
	const struct {
		const char *descr;
		const void *data;
		size_t size;
		float a, b;
	} cases[] = {
		{ "<f8", f8, sizeof(f8), -1.5f, 2 },
		{ "<i8", i8, sizeof(i8), -3, 1 << 20 },
		{ "<i4", i4, sizeof(i4), -7, 9 },
		{ "|u1", b1, 2, 0, 1 },
		{ "<u1", b1, 2, 0, 1 },
		{ "|b1", b1, 2, 0, 1 },
	};
	char header[128];
	size_t rows, cols;
	float *v;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		for (int major = 1; major <= 2; major++) {
			snprintf(header, sizeof(header),
				 "{'descr': '%s', 'fortran_order': False, 'shape': (2, 1), }%*s\n",
				 cases[k].descr, 50 - (int)strlen(cases[k].descr) + major, "");
			put_npy(t->path, major, header, cases[k].data, cases[k].size);
			if (ionpu_npy_read(t->path, &v, &rows, &cols))
				fail_msg("%s: %s", cases[k].descr, ionpu_last_error());
			assert_int_equal(rows, 2);
			assert_int_equal(cols, 1);
			assert_true(v[0] == cases[k].a && v[1] == cases[k].b);
			free(v);
		}
	}
	/* Keys in another order, double quotes, no trailing comma. */
	put_npy(t->path, 1, "{\"shape\": (1,2), \"fortran_order\": False, \"descr\": \"<i4\"}\n",
		i4, sizeof(i4));
	assert_int_equal(ionpu_npy_read(t->path, &v, &rows, &cols), 0);
	assert_true(rows == 1 && cols == 2 && v[0] == -7 && v[1] == 9);
	free(v);
}

static void expect_npy_error(const char *path, int err, const char *what)
{
	float *v = NULL;
	size_t rows = 0, cols = 0;
	int got = ionpu_npy_read(path, &v, &rows, &cols);

	if (got != err)
		fail_msg("%s: got %d (%s), want %d", what, got, ionpu_last_error(), err);
	assert_null(v);
	assert_true(rows == 0 && cols == 0);
	assert_true(strlen(ionpu_last_error()) > 0);
}

/*
 * A pipe has no size to check the header against: the whole array is read
 * through it, and one cut short is refused as truncated.
 */
static void test_pipe(void **state)
{
	struct tmp *t = *state;
	const float f[6] = { 0, 1, -2.5f, 1e-30f, 3e38f, 0.125f };
	unsigned char bytes[256];
	size_t len, rows = 0, cols = 0;
	char path[64];
	float *v = NULL;
	FILE *fp;

	assert_int_equal(ionpu_npy_write(t->path, IONPU_NPY_F32, f, 2, 3), 0);
	fp = fopen(t->path, "rb");
	assert_non_null(fp);
	len = fread(bytes, 1, sizeof(bytes), fp);
	fclose(fp);
	assert_true(len > sizeof(f) && len < sizeof(bytes));
	for (int cut = 0; cut <= 1; cut++) {
		int fd[2];

		assert_int_equal(pipe(fd), 0);
		/* Far below a pipe's buffer: the write cannot block. */
		assert_int_equal(write(fd[1], bytes, len - (size_t)cut), (ssize_t)(len - (size_t)cut));
		close(fd[1]);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd[0]);
		if (cut) {
			expect_npy_error(path, -EPROTO, "a short array on a pipe");
			assert_non_null(strstr(ionpu_last_error(), "truncated"));
		} else {
			assert_int_equal(ionpu_npy_read(path, &v, &rows, &cols), 0);
			assert_true(rows == 2 && cols == 3);
			assert_memory_equal(v, f, sizeof(f));
			free(v);
		}
		close(fd[0]);
	}
}

static void test_malformed_npy(void **state)
{
	struct tmp *t = *state;
	const float four[4] = { 1, 2, 3, 4 };
	const float nan2[2] = { 1, NAN };
	const struct {
		const char *header;
		size_t data;
		int err;
	} cases[] = {
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 16, 0 },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 12, -EPROTO },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 0, -EPROTO },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", 16, -EPROTO },
		{ "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, -EOPNOTSUPP },
		{ "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", 16, -EOPNOTSUPP },
		{ "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }", 16, -EOPNOTSUPP },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 16, 0 },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }", 16, -EOPNOTSUPP },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 1), }", 16,
		  -EOPNOTSUPP },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, -EOPNOTSUPP },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2), }", 0, -EOPNOTSUPP },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
		  16, -EOVERFLOW },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 1), }",
		  16, -EOVERFLOW },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", 16,
		  -EPROTO },
		{ "{'descr': '<f4', 'fortran_order': False}", 16, -EPROTO },
		{ "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 2), }", 16, -EPROTO },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': 1}", 16, -EPROTO },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }", 16, -EPROTO },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2) 'x'}", 16, -EPROTO },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), } x", 16, -EPROTO },
		{ "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2", 16, -EPROTO },
		{ "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 2), }", 16, -EPROTO },
		{ "{'descr': 4, 'fortran_order': False, 'shape': (2, 2), }", 16, -EPROTO },
		{ "['descr', '<f4']", 16, -EPROTO },
		{ "", 16, -EPROTO },
	};
	unsigned char raw[64];

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		float *v = NULL;
		size_t rows, cols;

		put_npy(t->path, 1, cases[k].header, four, cases[k].data);
		if (cases[k].err) {
			expect_npy_error(t->path, cases[k].err, cases[k].header);
			continue;
		}
		assert_int_equal(ionpu_npy_read(t->path, &v, &rows, &cols), 0);
		free(v);
	}

	put_npy(t->path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
		nan2, sizeof(nan2));
	expect_npy_error(t->path, -EPROTO, "NaN");

	/* Magic, version, lengths, and files cut anywhere in them. */
	put_npy(t->path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", four,
		sizeof(four));
	{
		FILE *fp = fopen(t->path, "rb");
		size_t n;

		assert_non_null(fp);
		n = fread(raw, 1, sizeof(raw), fp);
		fclose(fp);
		assert_true(n >= 20);
		for (size_t cut = 0; cut < 20; cut++) {
			put_file(t->path, raw, cut);
			expect_npy_error(t->path, -EPROTO, "cut");
		}
	}
	raw[0] = 'X';
	put_file(t->path, raw, 20);
	expect_npy_error(t->path, -EPROTO, "magic");
	raw[0] = 0x93;
	raw[6] = 3;
	put_file(t->path, raw, 20);
	expect_npy_error(t->path, -EOPNOTSUPP, "version 3");
	raw[6] = 2;
	raw[8] = raw[9] = raw[10] = raw[11] = 0xff;
	put_file(t->path, raw, 20);
	expect_npy_error(t->path, -EPROTO, "header length 4 GiB");
	{
		static const char nul[] = "{'descr': '<f4',\0 'fortran_order': False, 'shape': (2, 2), }";

		put_npy_n(t->path, 1, nul, sizeof(nul) - 1, four, sizeof(four));
	}
	expect_npy_error(t->path, -EPROTO, "NUL");
	expect_npy_error("/nonexistent/r.npy", -ENOENT, "missing file");
}

static void test_csv(void **state)
{
	struct tmp *t = *state;
	const char good[] = "0, 1,0.5\r\n-2,1e-3 ,3\n\n";
	size_t rows, cols;
	float *v;

	put_file(t->path, good, strlen(good));
	assert_int_equal(ionpu_csv_read(t->path, &v, &rows, &cols), 0);
	assert_int_equal(rows, 2);
	assert_int_equal(cols, 3);
	assert_true(v[0] == 0 && v[1] == 1 && v[2] == 0.5f && v[3] == -2 && v[4] == 1e-3f &&
		    v[5] == 3);
	free(v);
	put_file(t->path, "7", 1);
	assert_int_equal(ionpu_csv_read(t->path, &v, &rows, &cols), 0);
	assert_true(rows == 1 && cols == 1 && v[0] == 7);
	free(v);
}

static void test_malformed_csv(void **state)
{
	struct tmp *t = *state;
	static const char *const bad[] = {
		"", "\n\n", "1,2\n3\n", "1,2,\n", "1,,2\n", "a,b\n", "1,nan\n", "1,inf\n",
		"1,1e99\n", "1 2\n", "1;2\n", "1,2x\n", ",\n",
	};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		float *v = NULL;
		size_t rows = 0, cols = 0;

		put_file(t->path, bad[k], strlen(bad[k]));
		if (ionpu_csv_read(t->path, &v, &rows, &cols) != -EPROTO)
			fail_msg("'%s' was not refused", bad[k]);
		assert_null(v);
	}
	put_file(t->path, "1,2\n3\0,4\n", 9);
	{
		float *v = NULL;
		size_t rows, cols;

		assert_int_equal(ionpu_csv_read(t->path, &v, &rows, &cols), -EPROTO);
		assert_null(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_numpy_types, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_batch, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_malformed_npy, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_pipe, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_csv, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_malformed_csv, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
