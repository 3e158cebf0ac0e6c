// SPDX-License-Identifier: GPL-2.0-only
/*
 * The non-volatile store: a round trip keeps every conductance, the
 * calibration record and device time; truncated, corrupted and foreign
 * files are refused without touching the card; a write torn by a failing
 * disk leaves the old file intact; a process killed while it saves (as
 * QEMU killed while the card programs) leaves the old state or the new one,
 * never a mix, and the device time says which.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fabric_test.h"

struct store {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct store *s = calloc(1, sizeof(*s));

	strcpy(s->dir, "/tmp/ionpu-nvstore-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/card.nv", s->dir);
	*state = s;
	return 0;
}

static unsigned int files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int teardown(void **state)
{
	struct store *s = *state;
	DIR *d = opendir(s->dir);
	struct dirent *e;
	char p[400];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", s->dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(s->dir);
	free(s);
	return 0;
}

static float true_g(struct ionpu_fabric *f, unsigned int tile,
		    unsigned int row, unsigned int col)
{
	float g;

	assert_int_equal(ionpu_fabric_pulse(f, tile, row, col,
					    IONPU_FAB_GPLUS, IONPU_FAB_SET, 0,
					    &g), 0);
	return g;
}

/* Tile 0 ideal with a few weights, tile 1 physical with programmed cells. */
static struct ionpu_fabric *programmed_card(uint64_t seed)
{
	struct ionpu_fabric *f = fabric_new(2, seed);
	struct ionpu_fab_prog_result r;
	const char note[] = "trim table v1";

	tile_mode(f, 0, IONPU_FAB_IDEAL, IONPU_FAB_LIF, 1e-3f);
	tile_mode(f, 1, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, 1e-3f);
	for (unsigned int k = 0; k < 16; k++) {
		set_weight(f, 0, k, 255 - k, (int)k - 8);
		assert_int_equal(ionpu_fabric_program(f, 1, 200, k,
						      IONPU_FAB_GPLUS,
						      20.0f + k, 0.5f, 100,
						      &r), 0);
	}
	assert_int_equal(ionpu_fabric_calib_write(f, 100, note,
						  sizeof(note)), 0);
	ionpu_fabric_advance_time(f, 5000000000ULL);
	return f;
}

static void assert_same_nv(struct ionpu_fabric *a, struct ionpu_fabric *b)
{
	uint8_t ca[IONPU_FAB_CALIB_SIZE], cb[IONPU_FAB_CALIB_SIZE];

	assert_int_equal(ionpu_fabric_device_time(a),
			 ionpu_fabric_device_time(b));
	for (unsigned int k = 0; k < 16; k++) {
		float pa, na, pb, nb;

		assert_int_equal(ionpu_fabric_read(a, 0, k, 255 - k, &pa, &na),
				 0);
		assert_int_equal(ionpu_fabric_read(b, 0, k, 255 - k, &pb, &nb),
				 0);
		assert_true(pa == pb && na == nb);
		assert_true(true_g(a, 1, 200, k) == true_g(b, 1, 200, k));
	}
	ionpu_fabric_calib_read(a, 0, ca, sizeof(ca));
	ionpu_fabric_calib_read(b, 0, cb, sizeof(cb));
	assert_memory_equal(ca, cb, sizeof(ca));
}

static void assert_fresh(struct ionpu_fabric *f)
{
	float gp, gn;
	uint8_t c[16], zero[16] = { 0 };

	/* Only its own reads advanced it; the saved card was at 5 s. */
	assert_true(ionpu_fabric_device_time(f) < 1000000);
	assert_int_equal(ionpu_fabric_read(f, 0, 3, 252, &gp, &gn), 0);
	assert_true(gp == IONPU_FAB_G_MIN && gn == IONPU_FAB_G_MIN);
	ionpu_fabric_calib_read(f, 100, c, sizeof(c));
	assert_memory_equal(c, zero, sizeof(c));
}

/* The fresh card has to be read in tile 0 ideal mode like the old one. */
static struct ionpu_fabric *fresh_card(uint64_t seed, unsigned int tiles)
{
	struct ionpu_fabric *f = fabric_new(tiles, seed);

	tile_mode(f, 0, IONPU_FAB_IDEAL, IONPU_FAB_LIF, 1e-3f);
	if (tiles > 1)
		tile_mode(f, 1, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, 1e-3f);
	return f;
}

static void test_round_trip(void **state)
{
	struct store *s = *state;
	struct ionpu_fabric *a = programmed_card(31);
	struct ionpu_fabric *b = fresh_card(31, 2);
	const char *why = NULL;

	assert_int_equal(ionpu_fabric_save(a, s->path, &why), 0);
	assert_int_equal(files_in(s->dir), 1);
	assert_int_equal(ionpu_fabric_load(b, s->path, &why), 0);
	assert_same_nv(a, b);
	/* Saving again replaces the file in place. */
	assert_int_equal(ionpu_fabric_save(b, s->path, &why), 0);
	assert_int_equal(files_in(s->dir), 1);
	ionpu_fabric_free(a);
	ionpu_fabric_free(b);
}

static void expect_refused(const char *path, struct ionpu_fabric *f,
			   int err)
{
	const char *why = NULL;

	assert_int_equal(ionpu_fabric_load(f, path, &why), err);
	assert_non_null(why);
	assert_fresh(f);
}

static void test_foreign_files(void **state)
{
	struct store *s = *state;
	struct ionpu_fabric *a = programmed_card(31);
	struct ionpu_fabric *other_seed = fresh_card(32, 2);
	struct ionpu_fabric *other_tiles = fresh_card(31, 1);
	char missing[128];

	assert_int_equal(ionpu_fabric_save(a, s->path, NULL), 0);
	expect_refused(s->path, other_seed, -EINVAL);
	expect_refused(s->path, other_tiles, -EINVAL);
	snprintf(missing, sizeof(missing), "%s/none.nv", s->dir);
	expect_refused(missing, other_seed, -ENOENT);
	ionpu_fabric_free(a);
	ionpu_fabric_free(other_seed);
	ionpu_fabric_free(other_tiles);
}

static long file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

static void test_truncated(void **state)
{
	struct store *s = *state;
	struct ionpu_fabric *a = programmed_card(31);
	struct ionpu_fabric *b = fresh_card(31, 2);
	long size;
	const long cuts[] = { 1, 64, 65, 1000 };

	assert_int_equal(ionpu_fabric_save(a, s->path, NULL), 0);
	size = file_size(s->path);
	for (unsigned int k = 0; k < 4; k++) {
		assert_int_equal(truncate(s->path, size - cuts[k]), 0);
		expect_refused(s->path, b, -EINVAL);
		assert_int_equal(ionpu_fabric_save(a, s->path, NULL), 0);
	}
	assert_int_equal(truncate(s->path, 0), 0);
	expect_refused(s->path, b, -EINVAL);
	ionpu_fabric_free(a);
	ionpu_fabric_free(b);
}

static void flip_byte(const char *path, long off)
{
	FILE *fp = fopen(path, "r+b");
	int c;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	c = fgetc(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	fputc(c ^ 0x10, fp);
	fclose(fp);
}

static void test_flipped_byte(void **state)
{
	struct store *s = *state;
	struct ionpu_fabric *a = programmed_card(31);
	struct ionpu_fabric *b = fresh_card(31, 2);
	long size;

	assert_int_equal(ionpu_fabric_save(a, s->path, NULL), 0);
	size = file_size(s->path);
	/* Magic, version, tiles, device time, checksum, payload, calib. */
	const long offs[] = { 0, 8, 16, 40, 56, 64, 5000, size / 2, size - 1 };

	for (unsigned int k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		flip_byte(s->path, offs[k]);
		expect_refused(s->path, b, -EINVAL);
		flip_byte(s->path, offs[k]);
	}
	assert_int_equal(ionpu_fabric_load(b, s->path, NULL), 0);
	assert_same_nv(a, b);
	ionpu_fabric_free(a);
	ionpu_fabric_free(b);
}

/*
 * A disk that fills up mid-write (RLIMIT_FSIZE makes write() fail part
 * way): the save fails, leaves no temporary file, and the old store
 * still loads as it was.
 */
static void test_torn_write(void **state)
{
	struct store *s = *state;
	struct ionpu_fabric *a = programmed_card(31);
	struct ionpu_fabric *b = fresh_card(31, 2);
	struct ionpu_fabric *c = fresh_card(31, 2);
	struct ionpu_fab_prog_result r;
	struct rlimit old, small;
	const char *why = NULL;
	void (*old_handler)(int);

	assert_int_equal(ionpu_fabric_save(a, s->path, NULL), 0);
	/* Change the card, then try to save the change. */
	assert_int_equal(ionpu_fabric_program(a, 0, 0, 0, IONPU_FAB_GPLUS,
					      90.0f, 1.0f, 10, &r), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = file_size(s->path) / 3;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(ionpu_fabric_save(a, s->path, &why), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_non_null(why);
	assert_int_equal(files_in(s->dir), 1);

	assert_int_equal(ionpu_fabric_load(b, s->path, NULL), 0);
	/* b has the old state: the changed cell is not there. */
	assert_true(true_g(b, 0, 0, 0) != true_g(a, 0, 0, 0));
	assert_int_equal(ionpu_fabric_save(a, s->path, NULL), 0);
	assert_int_equal(ionpu_fabric_load(c, s->path, NULL), 0);
	assert_same_nv(a, c);
	ionpu_fabric_free(a);
	ionpu_fabric_free(b);
	ionpu_fabric_free(c);
}

/* Kills: a process saving states A and B in turn is SIGKILLed this often. */
#define KILLS		40

/* The bytes of the store at @path, saved again from a card it loads into. */
static uint8_t *resaved(const char *path, const char *again, long *len)
{
	struct ionpu_fabric *f = fresh_card(31, 2);
	uint8_t *buf;
	FILE *in;

	assert_int_equal(ionpu_fabric_load(f, path, NULL), 0);
	assert_int_equal(ionpu_fabric_save(f, again, NULL), 0);
	ionpu_fabric_free(f);
	*len = file_size(again);
	buf = malloc(*len);
	in = fopen(again, "rb");
	assert_non_null(buf);
	assert_non_null(in);
	assert_int_equal(fread(buf, 1, *len, in), *len);
	fclose(in);
	return buf;
}

/*
 * SIGKILL at a moment that moves through the save: each time the store
 * loads, and holds A or B whole, byte for byte once saved again (the
 * device time says which); temporary files the killed saves left do not
 * get in the way.
 */
static void test_killed_mid_save(void **state)
{
	struct store *s = *state;
	struct ionpu_fabric *a = programmed_card(31);
	struct ionpu_fabric *b = programmed_card(31);
	struct ionpu_fab_prog_result r;
	unsigned int seen_a = 0, seen_b = 0;
	const char note[] = "trim table v2";
	char again[128], path_a[128], path_b[128];
	uint8_t *bytes_a, *bytes_b;
	long len_a, len_b;
	struct timespec t0, t1;
	long long cycle_ns;

	/* B: a cell reprogrammed, the record rewritten, a second later. */
	assert_int_equal(ionpu_fabric_program(b, 1, 7, 7, IONPU_FAB_GPLUS,
					      80.0f, 0.5f, 100, &r), 0);
	assert_int_equal(ionpu_fabric_calib_write(b, 100, note, sizeof(note)),
			 0);
	ionpu_fabric_advance_time(b, 1000000000ULL);
	snprintf(again, sizeof(again), "%s/again.nv", s->dir);
	snprintf(path_a, sizeof(path_a), "%s/a.nv", s->dir);
	snprintf(path_b, sizeof(path_b), "%s/b.nv", s->dir);
	assert_int_equal(ionpu_fabric_save(a, path_a, NULL), 0);
	assert_int_equal(ionpu_fabric_save(b, path_b, NULL), 0);
	bytes_a = resaved(path_a, again, &len_a);
	bytes_b = resaved(path_b, again, &len_b);
	assert_int_equal(len_a, len_b);
	assert_memory_not_equal(bytes_a, bytes_b, len_a);
	/* How long saving B then A takes here: the kills spread over it. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ionpu_fabric_save(b, s->path, NULL), 0);
	assert_int_equal(ionpu_fabric_save(a, s->path, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cycle_ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec - t0.tv_nsec;

	for (unsigned int k = 0; k < KILLS; k++) {
		/* From the first save's start to past the second's end. */
		long long at = cycle_ns * 3 / 2 * (k + 1) / KILLS;
		const struct timespec wait = {
			.tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL,
		};
		pid_t child = fork();
		uint8_t *got;
		long len;

		assert_true(child >= 0);
		if (child == 0) {
			for (;;) {
				ionpu_fabric_save(b, s->path, NULL);
				ionpu_fabric_save(a, s->path, NULL);
			}
		}
		nanosleep(&wait, NULL);
		assert_int_equal(kill(child, SIGKILL), 0);
		assert_int_equal(waitpid(child, NULL, 0), child);

		got = resaved(s->path, again, &len);
		assert_int_equal(len, len_a);
		if (!memcmp(got, bytes_a, len)) {
			seen_a++;
		} else {
			assert_memory_equal(got, bytes_b, len);
			seen_b++;
		}
		free(got);
	}
	print_message("%u kills: the store held A %u times, B %u times\n",
		      KILLS, seen_a, seen_b);
	free(bytes_a);
	free(bytes_b);
	ionpu_fabric_free(a);
	ionpu_fabric_free(b);
}

static void test_bad_args(void **state)
{
	struct store *s = *state;
	struct ionpu_fabric *a = fabric_new(1, 1);
	const char *why = NULL;

	assert_int_equal(ionpu_fabric_save(a, NULL, &why), -EINVAL);
	assert_int_equal(ionpu_fabric_save(a, "", &why), -EINVAL);
	assert_int_equal(ionpu_fabric_save(NULL, s->path, &why), -EINVAL);
	assert_int_equal(ionpu_fabric_load(a, NULL, &why), -EINVAL);
	assert_int_equal(ionpu_fabric_save(a, "/nonexistent-dir/x.nv", &why),
			 -ENOENT);
	assert_non_null(why);
	ionpu_fabric_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_killed_mid_save, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
