// SPDX-License-Identifier: GPL-2.0-only
/*
 * A seeded fuzzer of the card's ioctls and io_uring commands, run in the
 * test VM for a bounded time: random command numbers in and around the
 * driver's range, random sizes and directions, random struct contents with
 * bogus user pointers (NULL, unmapped, kernel addresses, the edge of a
 * guard page), and random uring_cmd submissions.  It passes when nothing
 * crashed (the VM stage also fails on any kernel BUG, WARNING or Oops) and
 * the card still answers INFO and COUNTERS and computes a job exactly.
 *
 * Everything the kernel may write goes to one scratch region between two
 * guard pages, so a random output address never lands in the fuzzer's own
 * state.  Runs the RUN and JOB timesteps it picks down to a few hundred, so
 * no call waits for long, and puts the card's calibration record back.
 *
 * A fixed count of calls from a fixed seed by default, from several
 * processes at once; `make fuzz-long` asks for many more (the test's
 * comment lists the variables that steer it).
 *
 * On a kernel with KCOV (make check-debug's), each process traces the code
 * its own calls run, and the test prints the offsets in ionpu.ko's .text of
 * the coverage points reached ("# kcov-text:" lines, hex): the host maps
 * them to lines of kernel/ (scripts/kcov-lines).  The io_uring work the
 * kernel does in its own threads is not traced.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kcov.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_job.h"
#include "ionpu_net.h"
#include "ionpu_uring.h"

#define SCRATCH_LEN	(1 << 20)
#define PAGE		4096
#define RING_ENTRIES	64
#define MAX_STEPS	300

struct fuzz {
	uint64_t rng;
	uint8_t *scratch;	/* SCRATCH_LEN bytes between two guard pages */
	int fd[2];		/* two files of the card, the first leases a tile */
	struct io_uring ring;
	unsigned int inflight;
	unsigned long calls, calls_ok, urings, urings_ok;
};

static uint64_t rnd(struct fuzz *z)
{
	/* xorshift64* */
	z->rng ^= z->rng >> 12;
	z->rng ^= z->rng << 25;
	z->rng ^= z->rng >> 27;
	return z->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct fuzz *z, uint64_t n)
{
	return rnd(z) % n;
}

/* An address the kernel may be handed: inside scratch, or one it must refuse. */
static uint64_t pointer(struct fuzz *z)
{
	switch (below(z, 9)) {
	case 0:
		return 0;
	case 1:
		return below(z, PAGE);			/* the zero page */
	case 2:
		return 0xffff888000000000ULL + below(z, 1 << 20); /* kernel */
	case 3:
		return (uintptr_t)z->scratch - below(z, PAGE) - 1; /* guard */
	case 4:	/* the last bytes before the upper guard page */
		return (uintptr_t)z->scratch + SCRATCH_LEN - below(z, 64);
	case 5:
		return 1ULL << 63 | rnd(z);		/* non-canonical */
	case 6:
		return (uintptr_t)z->scratch + SCRATCH_LEN; /* the guard page */
	default:
		return (uintptr_t)z->scratch + below(z, SCRATCH_LEN);
	}
}

/* Random bytes, with pointers and small numbers where u64 and u32 fields sit. */
static void fill(struct fuzz *z, uint8_t *p, size_t len)
{
	for (size_t off = 0; off + 8 <= len; off += 8) {
		uint64_t v;

		switch (below(z, 6)) {
		case 0:
			v = pointer(z);
			break;
		case 1:
			v = below(z, 300) | below(z, 300) << 32;
			break;
		case 2:
			v = 0;
			break;
		default:
			v = rnd(z);
		}
		memcpy(p + off, &v, sizeof(v));
	}
}

static const unsigned long known_cmds[] = {
	IONPU_IOC_INFO, IONPU_IOC_LEASE, IONPU_IOC_RELEASE, IONPU_IOC_COUNTERS,
	IONPU_IOC_CONFIGURE, IONPU_IOC_ROUTES, IONPU_IOC_PROGRAM,
	IONPU_IOC_READ_CELLS, IONPU_IOC_RAW_PULSES, IONPU_IOC_READ_CALIB,
	IONPU_IOC_WRITE_CALIB, IONPU_IOC_INPUT, IONPU_IOC_RUN, IONPU_IOC_STOP,
	IONPU_IOC_RESET_STATE, IONPU_IOC_JOB, IONPU_IOC_WAIT, IONPU_IOC_LEARN,
	IONPU_IOC_TEACH, IONPU_IOC_CANCEL, IONPU_IOC_ACK_RESET,
};

/* An address the kernel must refuse. */
static uint64_t bad_pointer(struct fuzz *z)
{
	uint64_t p;

	do
		p = pointer(z);
	while (p >= (uintptr_t)z->scratch && p < (uintptr_t)z->scratch + SCRATCH_LEN);
	return p;
}

/*
 * Keep what a command asks of the card short, so that no call waits for
 * long: true when @cmd is one whose argument had to be tamed, which must
 * then not be swapped for random scratch bytes.
 */
static bool tame(unsigned long cmd, uint8_t *arg)
{
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != IONPU_IOCTL_BASE)
		return false;
	if (nr == _IOC_NR(IONPU_IOC_RUN)) {
		struct ionpu_run *r = (void *)arg;

		r->timesteps = 1 + r->timesteps % MAX_STEPS;
	} else if (nr == _IOC_NR(IONPU_IOC_JOB)) {
		struct ionpu_job *j = (void *)arg;

		j->timesteps %= MAX_STEPS;
	} else if (nr == _IOC_NR(IONPU_IOC_PROGRAM)) {
		struct ionpu_program *p = (void *)arg;

		p->count %= 8;
	} else if (nr == _IOC_NR(IONPU_IOC_RAW_PULSES)) {
		struct ionpu_pulses *p = (void *)arg;

		p->count %= 8;
	} else {
		return false;
	}
	return true;
}

static void fuzz_ioctl(struct fuzz *z)
{
	unsigned long base = known_cmds[below(z, sizeof(known_cmds) /
					       sizeof(known_cmds[0]))];
	unsigned int dir = _IOC_DIR(base), type = IONPU_IOCTL_BASE;
	unsigned int nr = _IOC_NR(base), size = _IOC_SIZE(base);
	uint8_t *arg = z->scratch + below(z, SCRATCH_LEN / 2) / 8 * 8;
	unsigned long cmd;
	uint64_t where;

	if (!below(z, 4))
		dir = below(z, 4);
	if (!below(z, 4))
		nr = below(z, 4) ? below(z, 0x48) : below(z, 256);
	if (!below(z, 8))
		type = IONPU_IOCTL_BASE - 1 + below(z, 3);
	if (!below(z, 3))
		size = below(z, 3) ? below(z, 2 * size + 16) : below(z, 1 << 14);
	cmd = _IOC(dir, type, nr, size);
	fill(z, arg, 512);
	/* Mostly flags and reserved fields at zero, or nothing gets through. */
	if (below(z, 2))
		memset(arg, 0, 4);
	if (below(z, 10))
		where = (uintptr_t)arg;
	else
		where = tame(cmd, arg) ? bad_pointer(z) : pointer(z);
	tame(cmd, arg);
	if (!ioctl(z->fd[below(z, 4) == 0], cmd, (void *)(uintptr_t)where))
		z->calls_ok++;
	z->calls++;
}

/* Take every completion that is there. */
static void reap(struct fuzz *z)
{
	struct io_uring_cqe *cqe;

	while (z->inflight && !io_uring_peek_cqe(&z->ring, &cqe)) {
		if (cqe->res >= 0)
			z->urings_ok++;
		io_uring_cqe_seen(&z->ring, cqe);
		z->inflight--;
	}
}

static void fuzz_uring(struct fuzz *z)
{
	struct ionpu_job *job = (void *)(z->scratch + SCRATCH_LEN / 2 +
					 below(z, SCRATCH_LEN / 4) / 8 * 8);
	struct ionpu_uring_job cmd = { .job = (uintptr_t)job };
	uint32_t cmd_op = IONPU_URING_CMD_JOB;
	struct io_uring_sqe *sqe;

	reap(z);
	if (z->inflight >= RING_ENTRIES / 2)
		return;
	sqe = io_uring_get_sqe(&z->ring);
	if (!sqe)
		return;
	fill(z, (uint8_t *)job, sizeof(*job));
	job->timesteps %= MAX_STEPS;
	if (below(z, 2))
		job->flags = job->reserved = 0;
	if (!below(z, 4))
		cmd_op = below(z, 2) ? (uint32_t)rnd(z) : (uint32_t)known_cmds[below(z, 16)];
	if (!below(z, 4)) {
		fill(z, (uint8_t *)&cmd, sizeof(cmd));
		cmd.job = below(z, 2) ? (uintptr_t)job : bad_pointer(z);
	}
	uring_prep_cmd(sqe, z->fd[below(z, 4) == 0], cmd_op, &cmd, 0);
	if (!below(z, 16))
		sqe->uring_cmd_flags = rnd(z);
	if (io_uring_submit(&z->ring) == 1)
		z->inflight++;
	z->urings++;
}

static void *guarded(size_t len)
{
	uint8_t *p = mmap(NULL, len + 2 * PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + PAGE, len, PROT_READ | PROT_WRITE)) {
		munmap(p, len + 2 * PAGE);
		return NULL;
	}
	return p + PAGE;
}

static unsigned long env_or(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : dflt;
}

/* A process's KCOV trace: room for the points a batch of calls reaches. */
#define KCOV_WORDS	(1 << 16)
/* ionpu.ko's .text is well below this; the hit map has a byte per offset. */
#define KCOV_TEXT_MAX	(1 << 20)

struct cover {
	int fd;			/* /sys/kernel/debug/kcov, -1 without KCOV */
	unsigned long *area;	/* [0]: count, then the points' addresses */
	uintptr_t text;		/* where ionpu.ko's .text is */
	uint8_t *hit;		/* KCOV_TEXT_MAX bytes the processes share */
};

/* Where ionpu.ko's .text is loaded, or 0 when it cannot be read. */
static uintptr_t module_text(void)
{
	FILE *f = fopen("/sys/module/ionpu/sections/.text", "r");
	unsigned long long addr = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%llx", &addr) != 1)
		addr = 0;
	fclose(f);
	return addr;
}

/* Trace this process's calls, when the kernel has KCOV. */
static void cover_start(struct cover *c)
{
	c->fd = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		return;
	if (ioctl(c->fd, KCOV_INIT_TRACE, KCOV_WORDS))
		goto err_close;
	c->area = mmap(NULL, KCOV_WORDS * sizeof(unsigned long),
		       PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->area == MAP_FAILED)
		goto err_close;
	if (ioctl(c->fd, KCOV_ENABLE, KCOV_TRACE_PC))
		goto err_unmap;
	__atomic_store_n(&c->area[0], 0, __ATOMIC_RELAXED);
	return;

err_unmap:
	munmap(c->area, KCOV_WORDS * sizeof(unsigned long));
err_close:
	close(c->fd);
	c->fd = -1;
}

/* Mark the module's points the calls since the last time reached. */
static void cover_collect(struct cover *c)
{
	unsigned long n;

	if (c->fd < 0)
		return;
	n = __atomic_load_n(&c->area[0], __ATOMIC_RELAXED);
	for (unsigned long i = 0; i < n && i + 1 < KCOV_WORDS; i++) {
		uintptr_t off = c->area[i + 1] - c->text;

		if (off < KCOV_TEXT_MAX)
			c->hit[off] = 1;
	}
	__atomic_store_n(&c->area[0], 0, __ATOMIC_RELAXED);
}

/*
 * The offsets reached, sixteen to a line, for scripts/kcov-lines; on
 * stderr, unbuffered, as the harness's test process ends with _exit().
 */
static void cover_print(const uint8_t *hit)
{
	char line[16 * 8 + 1];
	size_t len = 0;
	unsigned int on_line = 0, points = 0;

	for (size_t off = 0; off < KCOV_TEXT_MAX; off++) {
		if (!hit[off])
			continue;
		points++;
		len += snprintf(line + len, sizeof(line) - len, " %zx", off);
		if (++on_line == 16) {
			fprintf(stderr, "# kcov-text:%s\n", line);
			len = 0;
			on_line = 0;
		}
	}
	if (on_line)
		fprintf(stderr, "# kcov-text:%s\n", line);
	fprintf(stderr, "# kcov: the fuzzer's calls reached %u coverage points of ionpu.ko\n",
		points);
}

/* What one fuzzing process did, in memory its parent shares. */
struct fuzz_totals {
	unsigned long calls, calls_ok, urings, urings_ok;
	int ret;	/* 0, or why the process could not fuzz */
};

/*
 * One process's share: @calls ioctls and io_uring commands from @seed on
 * @fd0 (which leases a tile) and @fd1, at most until @end.
 */
static void fuzz_process(int fd0, int fd1, uint64_t seed, unsigned long calls,
			 time_t end, struct cover *cover, struct fuzz_totals *out)
{
	struct fuzz z = { .rng = seed ? seed : 1, .fd = { fd0, fd1 } };

	z.scratch = guarded(SCRATCH_LEN);
	if (!z.scratch) {
		out->ret = -ENOMEM;
		return;
	}
	out->ret = io_uring_queue_init(RING_ENTRIES, &z.ring, 0);
	if (out->ret)
		return;
	if (cover->hit)
		cover_start(cover);
	while (z.calls + z.urings < calls && time(NULL) < end) {
		for (int i = 0; i < 64; i++) {
			if (below(&z, 5))
				fuzz_ioctl(&z);
			else
				fuzz_uring(&z);
		}
		cover_collect(cover);
	}
	/* The ring goes with jobs maybe still in flight: that must be safe too. */
	io_uring_queue_exit(&z.ring);
	*out = (struct fuzz_totals) {
		.calls = z.calls, .calls_ok = z.calls_ok,
		.urings = z.urings, .urings_ok = z.urings_ok,
	};
}

/*
 * IONPU_FUZZ_PROCS processes (default 2), each with two files of the last
 * card, the first leasing a tile of its own, make IONPU_FUZZ_CALLS calls
 * in all (default 1,000,000), from IONPU_FUZZ_SEED (default fixed, so that
 * every CI run makes the same calls); IONPU_FUZZ_SECONDS (default 300)
 * bounds the time, and falling short of the count fails.  The harness's
 * own limit is past any run make fuzz-long asks for: the VM's bounds it.
 */
FIXTURE(fuzz) {
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, ioctls_and_uring_cmds_at_random_break_nothing, 24 * 3600)
{
	unsigned long procs = env_or("IONPU_FUZZ_PROCS", 2);
	unsigned long calls = env_or("IONPU_FUZZ_CALLS", 1000000);
	unsigned long seconds = env_or("IONPU_FUZZ_SECONDS", 300);
	uint64_t seed = env_or("IONPU_FUZZ_SEED", 20261205);
	struct ionpu_test_card card;
	unsigned char calib[IONPU_CALIB_LEN];
	struct ionpu_calib c = { .length = sizeof(calib), .data = (uintptr_t)calib };
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	struct ionpu_counters counters;
	struct ionpu_info info = { 0 };
	struct fuzz_totals *tot, sum = { 0 };
	struct cover cover = { .fd = -1 };
	unsigned int tile = 0;
	int fd, status;
	time_t start;

	fd = net_open(&card, &tile);
	if (fd == -ENODEV)
		SKIP(return, "no ionpu card in this machine");
	if (fd == -EOPNOTSUPP)
		SKIP(return, "%s has no command queues or a single tile", card.name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, net_ioctl(fd, IONPU_IOC_INFO, &info));
	ASSERT_LE(1, procs);
	ASSERT_GE(info.tiles, procs) TH_LOG("a tile per process");
	ASSERT_EQ(0, net_ioctl(fd, IONPU_IOC_READ_CALIB, &c));
	close(fd);
	tot = mmap(NULL, procs * sizeof(*tot), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, tot);
	cover.text = module_text();
	if (cover.text && !access("/sys/kernel/debug/kcov", F_OK)) {
		cover.hit = mmap(NULL, KCOV_TEXT_MAX, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, cover.hit);
	}
	TH_LOG("%lu processes, %lu calls from seed %llu (IONPU_FUZZ_SEED repeats them)",
	       procs, calls, (unsigned long long)seed);

	start = time(NULL);
	for (unsigned long k = 0; k < procs; k++) {
		struct ionpu_lease l = { .count = 1 };
		int fd0 = open(card.node, O_RDWR | O_CLOEXEC);
		int fd1 = open(card.node, O_RDWR | O_CLOEXEC);
		pid_t child;

		ASSERT_LE(0, fd0);
		ASSERT_LE(0, fd1);
		ASSERT_EQ(0, net_ioctl(fd0, IONPU_IOC_LEASE, &l));
		child = fork();
		ASSERT_LE(0, child);
		if (child == 0) {
			/* Not past the test: its harness may kill it. */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL))
				_exit(1);
			fuzz_process(fd0, fd1, seed + k, calls / procs +
				     (k < calls % procs), start + seconds, &cover,
				     &tot[k]);
			_exit(0);
		}
		close(fd0);
		close(fd1);
	}
	for (unsigned long k = 0; k < procs; k++) {
		ASSERT_LT(0, wait(&status));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	for (unsigned long k = 0; k < procs; k++) {
		EXPECT_EQ(0, tot[k].ret) TH_LOG("process %lu: %s", k, strerror(-tot[k].ret));
		sum.calls += tot[k].calls;
		sum.calls_ok += tot[k].calls_ok;
		sum.urings += tot[k].urings;
		sum.urings_ok += tot[k].urings_ok;
	}
	TH_LOG("%lu ioctls (%lu succeeded), %lu io_uring commands (%lu succeeded) in %ld s",
	       sum.calls, sum.calls_ok, sum.urings, sum.urings_ok,
	       (long)(time(NULL) - start));
	EXPECT_LE(calls, sum.calls + sum.urings)
		TH_LOG("IONPU_FUZZ_SECONDS=%lu ended the run first", seconds);
	munmap(tot, procs * sizeof(*tot));
	if (cover.hit) {
		cover_print(cover.hit);
		munmap(cover.hit, KCOV_TEXT_MAX);
	}

	/* The card still answers, and a fresh file computes exactly. */
	fd = net_open(&card, &tile);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, net_ioctl(fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(IONPU_API_VERSION, info.api_version);
	ASSERT_EQ(0, net_counters(fd, &counters));
	/* The fuzzers' files may still be held by io_uring for a moment. */
	for (int i = 0; i < 500 && net_lease(fd, tile) == -EBUSY; i++)
		usleep(10000);
	ASSERT_EQ(0, net_build(fd, tile));
	job_net_inputs(in, tile, 0);
	ASSERT_EQ(0, net_ioctl(fd, IONPU_IOC_JOB, &j));
	EXPECT_TRUE(job_is_net_output(out, j.produced, tile, 0));
	ASSERT_EQ(0, net_ioctl(fd, IONPU_IOC_WRITE_CALIB, &c));
	close(fd);
}

TEST_HARNESS_MAIN
