// SPDX-License-Identifier: GPL-2.0-only
/*
 * Large payloads in pinned user memory (card rev 1.3, CAPS.SGL): a full
 * tile programmed and read back through buffers that start mid-page and
 * span many pages, agreeing with what a small (bounced) read gets; the
 * sysfs counters sgl_commands/sgl_bytes move for the large transfers only;
 * an answer buffer the card may not write, or a range with a hole, fails
 * with EFAULT before the card does anything; pinned pages count against
 * RLIMIT_MEMLOCK (ENOMEM past it); a MAP_SHARED file works; and
 * a process killed while its pinned READ_CELLS waits on a hung card leaves
 * a card that the watchdog resets and that works again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_net.h"

#define THRESHOLD_PARAM "/sys/module/ionpu/parameters/sgl_threshold"
/* Timed rounds of each path in the comparison of the two. */
#define BENCH_ROUNDS	8

/* Where the test buffers start in their first page: not page aligned. */
#define SGL_SKEW	40
/* The driver's threshold for pinning (IONPU_PIN_MIN_BYTES). */
#define SGL_PIN_MIN	(64 * 1024)

/* @len bytes at SGL_SKEW into a fresh private mapping, or NULL. */
static void *skewed_alloc(size_t len, int prot)
{
	char *base = mmap(NULL, len + SGL_SKEW, prot,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return base == MAP_FAILED ? NULL : base + SGL_SKEW;
}

static void skewed_free(void *p, size_t len)
{
	if (p)
		munmap((char *)p - SGL_SKEW, len + SGL_SKEW);
}

/*
 * What the PROGRAM tests use, skewed: cells and results for @count cells,
 * and room to read a whole tile of @tile_cells back.
 */
struct tile_bufs {
	struct ionpu_cell_prog *cells;
	struct ionpu_cell_result *res;
	struct ionpu_cell_read *got;
	size_t cells_len, res_len, read_len;
};

static void tile_bufs_free(struct tile_bufs *b)
{
	skewed_free(b->cells, b->cells_len);
	skewed_free(b->res, b->res_len);
	skewed_free(b->got, b->read_len);
}

/* The answers (results, readback) get @answer_prot; 0 or -ENOMEM. */
static int tile_bufs_alloc(struct tile_bufs *b, unsigned int count,
			   size_t tile_cells, int answer_prot)
{
	b->cells_len = count * sizeof(*b->cells);
	b->res_len = count * sizeof(*b->res);
	b->read_len = tile_cells * sizeof(*b->got);
	b->cells = skewed_alloc(b->cells_len, PROT_READ | PROT_WRITE);
	b->res = skewed_alloc(b->res_len, answer_prot);
	b->got = skewed_alloc(b->read_len, answer_prot);
	if (b->cells && b->res && b->got)
		return 0;
	tile_bufs_free(b);
	return -ENOMEM;
}

static long sgl_count(const struct ionpu_test_card *card, const char *what)
{
	return ionpu_test_card_long(card, what);
}

/* The level an ideal cell lands on for cell @i: G_MIN + k (G_MAX - G_MIN) / 255. */
static float cell_target(unsigned int i)
{
	return 1.0f + (float)((i * 37u + i / 256u) % 256u) * 100.0f / 255.0f;
}

/* G+ of cells 0..@count-1 of @tile, row-major, to cell_target(). */
static int program_gplus(int fd, unsigned int tile, unsigned int neurons,
			 struct ionpu_cell_prog *cells,
			 struct ionpu_cell_result *res, unsigned int count,
			 unsigned int *failed)
{
	struct ionpu_program p = {
		.tile = tile, .count = count,
		.cells = (uintptr_t)cells, .results = (uintptr_t)res,
	};
	int ret;

	for (unsigned int i = 0; i < count; i++)
		cells[i] = (struct ionpu_cell_prog) {
			.row = i / neurons, .column = i % neurons,
			.device = IONPU_DEVICE_GPLUS, .budget = 16,
			.target = ionpu_f32_to_bits(cell_target(i)),
			.tolerance = ionpu_f32_to_bits(0.25f),
		};
	ret = net_ioctl(fd, IONPU_IOC_PROGRAM, &p);
	*failed = p.failed;
	return ret;
}

static int read_rows(int fd, unsigned int tile, unsigned int row,
		     unsigned int rows, unsigned int neurons,
		     struct ionpu_cell_read *out)
{
	struct ionpu_read_cells rc = {
		.tile = tile, .row = row, .rows = rows,
		.columns = neurons, .cells = (uintptr_t)out,
	};

	return net_ioctl(fd, IONPU_IOC_READ_CELLS, &rc);
}

/* The card's total of program pulses: moves with any PROGRAM that acted. */
static long long program_pulses(int fd)
{
	struct ionpu_counters c;

	return net_counters(fd, &c) ? -1 : (long long)c.program_pulses;
}

/* SKIP unless @fd's card reads scatter-gather lists; fills the geometry. */
#define SGL_REQUIRE(fd, info) do {					\
	ASSERT_EQ(0, net_ioctl((fd), IONPU_IOC_INFO, (info)));		\
	if (!((info)->caps & IONPU_CAP_SGL))				\
		SKIP(return, "the card has no CAPS.SGL (rev %u.%u)",	\
		     (info)->hw_version >> 16, (info)->hw_version & 0xffff); \
} while (0)

/*
 * This harness runs a test after its setup SKIPped (newer ones do not):
 * the first statement of every test here.
 */
#define SGL_RETURN_IF_SKIPPED() do {					\
	if (_metadata->skip)						\
		return;							\
} while (0)

FIXTURE(sgl) {
	struct ionpu_test_card card;
	unsigned int tile;
	unsigned int rows, neurons;
	size_t cells;		/* rows * neurons */
	int fd;
};

FIXTURE_SETUP(sgl)
{
	struct ionpu_info info = { 0 };

	NET_FIXTURE_OPEN(self);
	SGL_REQUIRE(self->fd, &info);
	self->rows = info.tile_rows;
	self->neurons = info.tile_neurons;
	self->cells = (size_t)self->rows * self->neurons;
	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	ASSERT_EQ(0, net_configure(self->fd, self->tile));
}

FIXTURE_TEARDOWN(sgl)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(sgl, full_tile_through_unaligned_pinned_buffers)
{
	SGL_RETURN_IF_SKIPPED();
	unsigned int count = self->cells < IONPU_MAX_CELLS ? self->cells :
			     IONPU_MAX_CELLS;
	struct ionpu_cell_read row[256];
	long cmds = sgl_count(&self->card, "sgl_commands");
	long bytes = sgl_count(&self->card, "sgl_bytes");
	unsigned int failed = ~0u;
	struct tile_bufs b;

	ASSERT_EQ(0, tile_bufs_alloc(&b, count, self->cells, PROT_READ | PROT_WRITE));
	ASSERT_LE(self->neurons, 256);
	ASSERT_LE(SGL_PIN_MIN, b.res_len) TH_LOG("a tile too small to pin");
	ASSERT_LE(0, cmds);
	memset(b.res, 0xff, b.res_len);

	ASSERT_EQ(0, program_gplus(self->fd, self->tile, self->neurons, b.cells,
				   b.res, count, &failed));
	EXPECT_EQ(0, failed);
	for (unsigned int i = 0; i < count; i++) {
		ASSERT_EQ(IONPU_CELL_OK, b.res[i].status) TH_LOG("cell %u", i);
		ASSERT_GE(0.25f, fabsf(ionpu_bits_to_f32(b.res[i].conductance) -
				       cell_target(i))) TH_LOG("cell %u", i);
	}
	/* One command, cells in and results out both pinned. */
	EXPECT_EQ(cmds + 1, sgl_count(&self->card, "sgl_commands"));
	EXPECT_EQ(bytes + (long)(b.cells_len + b.res_len),
		  sgl_count(&self->card, "sgl_bytes"));

	memset(b.got, 0xa5, b.read_len);
	ASSERT_EQ(0, read_rows(self->fd, self->tile, 0, self->rows,
			       self->neurons, b.got));
	EXPECT_EQ(cmds + 2, sgl_count(&self->card, "sgl_commands"));
	EXPECT_EQ(bytes + (long)(b.cells_len + b.res_len + b.read_len),
		  sgl_count(&self->card, "sgl_bytes"));
	/* Ideal reads are exact: what programming reported, cell by cell. */
	for (unsigned int i = 0; i < count; i++) {
		ASSERT_EQ(b.res[i].conductance, b.got[i].g_plus) TH_LOG("cell %u", i);
	}

	/* A row is small: bounced, not counted, and the same bytes. */
	for (unsigned int r = 0; r < self->rows; r += self->rows / 4 + 1) {
		memset(row, 0, sizeof(row));
		ASSERT_EQ(0, read_rows(self->fd, self->tile, r, 1,
				       self->neurons, row));
		EXPECT_EQ(0, memcmp(row, b.got + (size_t)r * self->neurons,
				    self->neurons * sizeof(row[0])))
			TH_LOG("row %u differs", r);
	}
	EXPECT_EQ(cmds + 2, sgl_count(&self->card, "sgl_commands"));

	tile_bufs_free(&b);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/*
 * The same full-tile READ_CELLS bounced (sgl_threshold 0) and pinned, in
 * alternating rounds so that both see the same machine: the same bytes,
 * and how long each takes, logged with their ratio.
 */
TEST_F(sgl, full_tile_read_bounced_and_pinned_agree_and_are_timed)
{
	SGL_RETURN_IF_SKIPPED();
	char saved[32];

	if (ionpu_test_read_file(THRESHOLD_PARAM, saved, sizeof(saved)) ||
	    access(THRESHOLD_PARAM, W_OK))
		SKIP(return, "cannot set the module parameter sgl_threshold");
	ASSERT_NE(0, strtoul(saved, NULL, 10)) TH_LOG("lists are off");

	size_t read_len = self->cells * sizeof(struct ionpu_cell_read);
	struct ionpu_cell_read *pinned = skewed_alloc(read_len, PROT_READ | PROT_WRITE);
	struct ionpu_cell_read *bounced = skewed_alloc(read_len, PROT_READ | PROT_WRITE);
	long cmds = sgl_count(&self->card, "sgl_commands");
	double t_pinned = 0, t_bounced = 0;

	ASSERT_NE(NULL, pinned);
	ASSERT_NE(NULL, bounced);

	for (int round = 0; round < BENCH_ROUNDS; round++) {
		int ret_bounced, ret_pinned;
		double t0;

		memset(bounced, 0xa5, read_len);
		memset(pinned, 0x5a, read_len);
		ASSERT_EQ(0, ionpu_test_write_file(THRESHOLD_PARAM, "0"));
		t0 = now_us();
		ret_bounced = read_rows(self->fd, self->tile, 0, self->rows,
					self->neurons, bounced);
		t_bounced += now_us() - t0;
		ASSERT_EQ(0, ionpu_test_write_file(THRESHOLD_PARAM, saved));
		t0 = now_us();
		ret_pinned = read_rows(self->fd, self->tile, 0, self->rows,
				       self->neurons, pinned);
		t_pinned += now_us() - t0;
		ASSERT_EQ(0, ret_bounced);
		ASSERT_EQ(0, ret_pinned);
		ASSERT_EQ(0, memcmp(bounced, pinned, read_len)) TH_LOG("round %d", round);
	}
	/* Only the pinned reads went through lists. */
	EXPECT_EQ(cmds + BENCH_ROUNDS, sgl_count(&self->card, "sgl_commands"));
	TH_LOG("READ_CELLS of a full tile (%zu bytes), mean of %d: bounced %.0f us, pinned %.0f us, bounced/pinned %.2f",
	       read_len, BENCH_ROUNDS, t_bounced / BENCH_ROUNDS,
	       t_pinned / BENCH_ROUNDS, t_bounced / t_pinned);

	skewed_free(pinned, read_len);
	skewed_free(bounced, read_len);
}

/* 64 KiB of pulses are pinned, their 32 KiB of results bounced. */
TEST_F(sgl, raw_pulses_pinned_in_bounced_out)
{
	SGL_RETURN_IF_SKIPPED();
	unsigned int count = SGL_PIN_MIN / sizeof(struct ionpu_pulse);
	unsigned int rows = count / self->neurons;
	size_t in_len = count * sizeof(struct ionpu_pulse);
	struct ionpu_pulse *pulses = skewed_alloc(in_len, PROT_READ | PROT_WRITE);
	uint32_t *after = calloc(count, sizeof(*after));
	struct ionpu_cell_read *got = calloc(rows * self->neurons, sizeof(*got));
	struct ionpu_pulses p = {
		.tile = self->tile, .count = count,
		.pulses = (uintptr_t)pulses, .results = (uintptr_t)after,
	};
	long cmds = sgl_count(&self->card, "sgl_commands");
	long bytes = sgl_count(&self->card, "sgl_bytes");

	ASSERT_NE(NULL, pulses);
	ASSERT_NE(NULL, after);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, count % self->neurons);
	for (unsigned int i = 0; i < count; i++)
		pulses[i] = (struct ionpu_pulse) {
			.row = i / self->neurons, .column = i % self->neurons,
			.device = IONPU_DEVICE_GMINUS, .kind = IONPU_PULSE_SET,
			.count = 1,
		};
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RAW_PULSES, &p));
	EXPECT_EQ(cmds + 1, sgl_count(&self->card, "sgl_commands"));
	EXPECT_EQ(bytes + (long)in_len, sgl_count(&self->card, "sgl_bytes"));

	/* Small reads, row by row: each result is what the cell holds now. */
	for (unsigned int r = 0; r < rows; r++) {
		ASSERT_EQ(0, read_rows(self->fd, self->tile, r, 1, self->neurons,
				       got + (size_t)r * self->neurons));
	}
	for (unsigned int i = 0; i < count; i++) {
		ASSERT_EQ(after[i], got[i].g_minus) TH_LOG("cell %u", i);
	}
	EXPECT_EQ(cmds + 1, sgl_count(&self->card, "sgl_commands"));

	skewed_free(pulses, in_len);
	free(after);
	free(got);
}

/*
 * Results the card may not write: the pin fails before the command, so the
 * card programs nothing (a bounced answer could only fail after it).
 */
TEST_F(sgl, read_only_answer_buffer_is_efault_and_card_unchanged)
{
	SGL_RETURN_IF_SKIPPED();
	unsigned int count = SGL_PIN_MIN / sizeof(struct ionpu_cell_result);
	struct ionpu_cell_read before[256], after[256];
	long long pulses = program_pulses(self->fd);
	long cmds = sgl_count(&self->card, "sgl_commands");
	unsigned int failed;
	struct tile_bufs b;

	ASSERT_EQ(0, tile_bufs_alloc(&b, count, self->cells, PROT_READ));
	ASSERT_LE(0, pulses);
	ASSERT_EQ(0, read_rows(self->fd, self->tile, 0, 1, self->neurons, before));

	EXPECT_EQ(-EFAULT, program_gplus(self->fd, self->tile, self->neurons,
					 b.cells, b.res, count, &failed));
	EXPECT_EQ(-EFAULT, read_rows(self->fd, self->tile, 0, self->rows,
				     self->neurons, b.got));

	EXPECT_EQ(pulses, program_pulses(self->fd));
	ASSERT_EQ(0, read_rows(self->fd, self->tile, 0, 1, self->neurons, after));
	EXPECT_EQ(0, memcmp(before, after, self->neurons * sizeof(after[0])));
	EXPECT_EQ(cmds, sgl_count(&self->card, "sgl_commands"));

	tile_bufs_free(&b);
}

TEST_F(sgl, range_with_a_hole_is_efault)
{
	SGL_RETURN_IF_SKIPPED();
	long page = sysconf(_SC_PAGESIZE);
	unsigned int count = 2 * SGL_PIN_MIN / sizeof(struct ionpu_cell_prog);
	long long pulses = program_pulses(self->fd);
	long cmds = sgl_count(&self->card, "sgl_commands");
	unsigned int failed;
	struct tile_bufs b;
	char *hole;

	ASSERT_EQ(0, tile_bufs_alloc(&b, count, self->cells, PROT_READ | PROT_WRITE));
	ASSERT_LE(0, pulses);
	ASSERT_EQ(0, read_rows(self->fd, self->tile, 0, self->rows,
			       self->neurons, b.got));
	cmds++;

	/* A page in the middle of the results, then one of the readback. */
	hole = (char *)(((uintptr_t)b.res + b.res_len / 2) & ~(uintptr_t)(page - 1));
	ASSERT_EQ(0, munmap(hole, page));
	EXPECT_EQ(-EFAULT, program_gplus(self->fd, self->tile, self->neurons,
					 b.cells, b.res, count, &failed));
	EXPECT_EQ(pulses, program_pulses(self->fd));
	hole = (char *)(((uintptr_t)b.got + b.read_len / 2) & ~(uintptr_t)(page - 1));
	ASSERT_EQ(0, munmap(hole, page));
	EXPECT_EQ(-EFAULT, read_rows(self->fd, self->tile, 0, self->rows,
				     self->neurons, b.got));
	EXPECT_EQ(cmds, sgl_count(&self->card, "sgl_commands"));

	/* munmap() of the whole range with its hole is fine. */
	tile_bufs_free(&b);
}

/*
 * A process without CAP_IPC_LOCK (here: nobody's) may pin only what its
 * RLIMIT_MEMLOCK allows: a whole tile's readback, pinned, is ENOMEM under
 * a limit of half of it, and works once the limit allows it.  Exits 0
 * when both held, else the step that failed.
 */
static int pin_under_limit(int fd, unsigned int tile, unsigned int rows,
			   unsigned int neurons, struct ionpu_cell_read *got,
			   size_t len)
{
	struct rlimit lim = { .rlim_cur = len / 2, .rlim_max = RLIM_INFINITY };

	if (setrlimit(RLIMIT_MEMLOCK, &lim) || setgid(65534) || setuid(65534))
		return 1;
	if (read_rows(fd, tile, 0, rows, neurons, got) != -ENOMEM)
		return 2;
	lim.rlim_cur = 2 * len + 2 * (size_t)sysconf(_SC_PAGESIZE);
	if (setrlimit(RLIMIT_MEMLOCK, &lim))
		return 3;
	return read_rows(fd, tile, 0, rows, neurons, got) ? 4 : 0;
}

TEST_F(sgl, pinned_pages_count_against_rlimit_memlock)
{
	SGL_RETURN_IF_SKIPPED();
	long cmds = sgl_count(&self->card, "sgl_commands");
	size_t len = self->cells * sizeof(struct ionpu_cell_read);
	struct ionpu_cell_read *got = skewed_alloc(len, PROT_READ | PROT_WRITE);
	int status = -1;
	pid_t child;

	ASSERT_NE(NULL, got);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(pin_under_limit(self->fd, self->tile, self->rows,
				      self->neurons, got, len));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("step %d failed (status %#x)", WEXITSTATUS(status), status);
	/* Only the read within the limit reached the card. */
	EXPECT_EQ(cmds + 1, sgl_count(&self->card, "sgl_commands"));
	skewed_free(got, len);
}

/* The card's bytes reach a shared file mapping, and so the file. */
TEST_F(sgl, shared_file_mapping_works)
{
	SGL_RETURN_IF_SKIPPED();
	size_t read_len = self->cells * sizeof(struct ionpu_cell_read);
	size_t map_len = read_len + SGL_SKEW;
	struct ionpu_cell_read *anon = skewed_alloc(read_len, PROT_READ | PROT_WRITE);
	char path[] = "/tmp/ionpu-sgl-XXXXXX";
	long cmds = sgl_count(&self->card, "sgl_commands");
	char *map, *back;
	int file;

	ASSERT_NE(NULL, anon);
	back = malloc(read_len);
	ASSERT_NE(NULL, back);
	file = mkstemp(path);
	ASSERT_LE(0, file) TH_LOG("mkstemp: %m");
	unlink(path);
	ASSERT_EQ(0, ftruncate(file, map_len));
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
	ASSERT_NE(MAP_FAILED, map);

	ASSERT_EQ(0, read_rows(self->fd, self->tile, 0, self->rows,
			       self->neurons, anon));
	ASSERT_EQ(0, read_rows(self->fd, self->tile, 0, self->rows,
			       self->neurons,
			       (struct ionpu_cell_read *)(map + SGL_SKEW)));
	EXPECT_EQ(cmds + 2, sgl_count(&self->card, "sgl_commands"));
	EXPECT_EQ(0, memcmp(anon, map + SGL_SKEW, read_len));
	ASSERT_EQ((ssize_t)read_len, pread(file, back, read_len, SGL_SKEW));
	EXPECT_EQ(0, memcmp(anon, back, read_len));

	munmap(map, map_len);
	close(file);
	free(back);
	skewed_free(anon, read_len);
}

/* The card with fault injection, with a hung card and the watchdog. */
FIXTURE(sgl_hang) {
	struct ionpu_test_card card;
	struct ionpu_test_hang_params saved;
	unsigned int tile;
	unsigned int rows, neurons;
	int fd;
};

FIXTURE_SETUP(sgl_hang)
{
	struct ionpu_lease lease = { .count = 1 };
	struct ionpu_info info = { 0 };

	self->fd = ionpu_test_open_fault_card(&self->card);
	if (self->fd == -ENODEV)
		SKIP(return, "no card has fault injection (QEMU ionpu,faults=on)");
	ASSERT_LE(0, self->fd);
	SGL_REQUIRE(self->fd, &info);
	self->rows = info.tile_rows;
	self->neurons = info.tile_neurons;
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_LEASE, &lease));
	ASSERT_NE(0, lease.tiles);
	self->tile = __builtin_ctzll(lease.tiles);

	/* Long enough to kill the reader first, short for the watchdog's probe. */
	ASSERT_EQ(0, ionpu_test_hang_params_set(&self->saved, "2000", "100"));
}

FIXTURE_TEARDOWN(sgl_hang)
{
	if (self->fd < 0)
		return;
	close(self->fd);
	ionpu_test_hang_params_restore(&self->saved);
}

/*
 * The killed reader's pages stay pinned and mapped while the card may still
 * write them; the reset frees them; nothing warns (the VM run checks the
 * console).
 */
TEST_F(sgl_hang, killed_pinned_reader_then_reset_then_next_works)
{
	SGL_RETURN_IF_SKIPPED();
	const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
	size_t read_len = (size_t)self->rows * self->neurons *
			  sizeof(struct ionpu_cell_read);
	struct ionpu_cell_read *got = skewed_alloc(read_len, PROT_READ | PROT_WRITE);
	long resets = ionpu_test_card_long(&self->card, "resets");
	long cmds = sgl_count(&self->card, "sgl_commands");
	int status = 0, i;
	pid_t child;

	ASSERT_NE(NULL, got);
	ASSERT_LE(0, resets);

	ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_HANG));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		/* Blocks: the hung card never takes the command. */
		read_rows(self->fd, self->tile, 0, self->rows, self->neurons, got);
		_exit(0);
	}
	nanosleep(&tick, NULL);
	nanosleep(&tick, NULL);
	EXPECT_EQ(0, waitpid(child, &status, WNOHANG)) TH_LOG("the reader did not block");
	ASSERT_EQ(0, kill(child, SIGKILL));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_EQ(cmds + 1, sgl_count(&self->card, "sgl_commands"));

	/* Watchdog tick + probe timeout + reset: well below 10 s. */
	for (i = 0; i < 100 && ionpu_test_card_long(&self->card, "resets") <= resets; i++)
		nanosleep(&tick, NULL);
	ASSERT_LT(i, 100) TH_LOG("no reset within 10 s");
	/* Commands the driver abandoned and still holds the buffers of. */
	EXPECT_EQ(0, ionpu_test_debugfs_long(&self->card, "queues", "abandoned"));

	memset(got, 0xa5, read_len);
	EXPECT_EQ(0, read_rows(self->fd, self->tile, 0, self->rows, self->neurons, got));
	EXPECT_EQ(cmds + 2, sgl_count(&self->card, "sgl_commands"));
	/* A reset keeps the cells: whatever they hold, they were read. */
	for (size_t c = 0; c < (size_t)self->rows * self->neurons; c++) {
		ASSERT_GE(ionpu_bits_to_f32(got[c].g_plus), 0.5f) TH_LOG("cell %zu", c);
	}
	skewed_free(got, read_len);
}

TEST_HARNESS_MAIN
