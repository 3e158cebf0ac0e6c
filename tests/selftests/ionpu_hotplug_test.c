// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the host does to the card, through the VM runner's request agent
 * (tests/vm/qmp-agent: QEMU's device_del, device_add, pcie_aer_inject_error).
 *
 * Hot-unplug under load and re-plug: while processes wait in a RUN, in
 * read(), read the mapped readout window and queue commands, the card is
 * unplugged: every call fails with ENODEV (the mapping with SIGBUS) within
 * bounded time, and the module unloads.  Plugged back, the card probes and
 * runs a command round trip.
 *
 * AER: an uncorrectable error, non-fatal or fatal, fails the RUN in flight
 * with EIO, kills the mapping, resets the card, keeps the lease and tells
 * its owner; the next commands work.  One the card does not come back from
 * (its reset fails, so no resume follows) leaves it dead until it is
 * replaced.  Errors again and again under load: every job right or failed
 * with the reset's error, never wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_job_loop.h"

/* What a device_del or device_add may take under TCG, and the agent's own. */
#define AGENT_TIMEOUT_MS	150000
/* How long the processes of the load may take to notice the card is gone. */
#define LOAD_TIMEOUT_S		10

/* Sends a request line to the host agent; 0 once it answered "ok". */
static int agent_request(const char *dev, const char *fmt, ...)
{
	char req[128], line[256];
	size_t len = 0;
	va_list ap;
	int fd, ret = -ETIMEDOUT;

	va_start(ap, fmt);
	vsnprintf(req, sizeof(req), fmt, ap);
	va_end(ap);
	fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	tcflush(fd, TCIFLUSH);
	if (dprintf(fd, "%s\n", req) < 0) {
		close(fd);
		return -EIO;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, AGENT_TIMEOUT_MS) != 1)
			break;
		n = read(fd, line + len, 1);
		if (n != 1) {
			ret = -EIO;
			break;
		}
		if (line[len] != '\n') {
			if (len < sizeof(line) - 1)
				len++;
			continue;
		}
		line[len] = '\0';
		/* Answers to earlier requests (a timed-out one) are skipped. */
		if (!strncmp(line, "ok ", 3) && !strcmp(line + 3, req)) {
			ret = 0;
			break;
		}
		if (!strncmp(line, "err ", 4) && !strncmp(line + 4, req, strlen(req))) {
			fprintf(stderr, "# agent: %s\n", line);
			ret = -EIO;
			break;
		}
		len = 0;
	}
	close(fd);
	return ret;
}

/* The QEMU id of the card with @serial: its place in IONPU_CARDS. */
static int qemu_index(const char *serial)
{
	struct ionpu_test_expect exp[IONPU_TEST_MAX_CARDS];
	int n = ionpu_test_expected(exp, IONPU_TEST_MAX_CARDS);

	for (int i = 0; i < n; i++)
		if (!strcmp(exp[i].serial, serial))
			return i;
	return -1;
}

/* The node of the card with @serial, once it is there. */
static bool find_card(const char *serial, struct ionpu_test_card *card,
		      int timeout_ms)
{
	const struct timespec tick = { .tv_nsec = 50 * 1000 * 1000 };

	for (;;) {
		struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
		int n = ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS);

		for (int i = 0; i < n; i++) {
			if (!strcmp(cards[i].serial, serial) &&
			    !access(cards[i].node, F_OK)) {
				*card = cards[i];
				return true;
			}
		}
		if (timeout_ms <= 0)
			return false;
		nanosleep(&tick, NULL);
		timeout_ms -= 50;
	}
}

/* A process of the load: exits 0 when its call failed with ENODEV. */
static pid_t spawn(void (*fn)(int fd, void *win), int fd, void *win)
{
	pid_t pid = fork();

	if (pid == 0) {
		alarm(60);
		fn(fd, win);
		_exit(1);
	}
	return pid;
}

static void load_run(int fd, void *win)
{
	struct ionpu_run run = { .timesteps = 0 };

	(void)win;
	_exit(ioctl(fd, IONPU_IOC_RUN, &run) == -1 && errno == ENODEV ? 0 : 2);
}

static void load_run_eio(int fd, void *win)
{
	struct ionpu_run run = { .timesteps = 0 };

	(void)win;
	_exit(ioctl(fd, IONPU_IOC_RUN, &run) == -1 && errno == EIO ? 0 : 2);
}

static void load_read(int fd, void *win)
{
	struct ionpu_event ev[16];
	ssize_t n;

	(void)win;
	do
		n = read(fd, ev, sizeof(ev));
	while (n > 0);
	_exit(n == -1 && errno == ENODEV ? 0 : 2);
}

static void load_commands(int fd, void *win)
{
	struct ionpu_counters c;

	(void)win;
	do
		memset(&c, 0, sizeof(c));
	while (!ioctl(fd, IONPU_IOC_COUNTERS, &c));
	_exit(errno == ENODEV ? 0 : 2);
}

/* Dies of SIGBUS once the window is revoked. */
static void load_window(int fd, void *win)
{
	const struct timespec pause = { .tv_nsec = 1000 * 1000 };
	const volatile uint32_t *cell = win;
	uint32_t sum = 0;

	(void)fd;
	/* A row at a time: each read is an exit to QEMU under TCG. */
	for (unsigned int i = 0;; i = (i + 1) % (IONPU_READOUT_TILE_SIZE / 4)) {
		sum += cell[i];
		if (i % 256 == 255)
			nanosleep(&pause, NULL);
	}
	_exit(sum ? 3 : 4);
}

/* Whether sysfs gives @card's state as @state ("ok", "dead", ...). */
static bool card_is(const struct ionpu_test_card *card, const char *state)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path), "/sys/class/ionpu/%s/state", card->name);
	return !ionpu_test_read_file(path, buf, sizeof(buf)) && !strcmp(buf, state);
}

static bool card_ok(const struct ionpu_test_card *card)
{
	return card_is(card, "ok");
}

/* Waits for @pid until @deadline; kills it when it is late. */
static int reap(pid_t pid, time_t deadline)
{
	const struct timespec tick = { .tv_nsec = 20 * 1000 * 1000 };
	int status;

	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (time(NULL) > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		nanosleep(&tick, NULL);
	}
	return status;
}

FIXTURE(hotplug) {
	const char *agent;
	struct ionpu_test_card card;
	char qemu_id[32];
};

FIXTURE_SETUP(hotplug)
{
	int fd, idx;

	self->agent = getenv("IONPU_AGENT");
	if (!self->agent)
		SKIP(return, "no hotplug agent: the VM runner sets IONPU_AGENT (tests/vm/run)");
	fd = ionpu_test_open_last(&self->card);
	if (fd == -ENODEV)
		SKIP(return, "no ionpu card in this machine");
	ASSERT_LE(0, fd);
	close(fd);
	idx = qemu_index(self->card.serial);
	ASSERT_LE(0, idx) TH_LOG("%s is not in IONPU_CARDS", self->card.serial);
	snprintf(self->qemu_id, sizeof(self->qemu_id), "ionpu%d", idx);
}

FIXTURE_TEARDOWN(hotplug)
{
}

/*
 * Whether the card sends error messages: the error reporting enables of its
 * PCI Express Device Control register, which the kernel sets, must stick.
 */
static bool reports_errors(const struct ionpu_test_card *card)
{
	char path[PATH_MAX];
	uint8_t cfg[256];
	unsigned int pos, hops;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", card->pci);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, cfg, sizeof(cfg)) != sizeof(cfg)) {
		close(fd);
		return false;
	}
	close(fd);
	for (pos = cfg[0x34] & ~3u, hops = 0; pos && hops < 48;
	     pos = cfg[pos + 1] & ~3u, hops++)
		if (cfg[pos] == 0x10)	/* PCI Express; DEVCTL at +8 */
			return cfg[pos + 8] & 0x7;
	return false;
}

/*
 * Opens @card, leases a tile and maps the tile's readout window into *@win
 * where the card has one (MAP_FAILED where not); returns the file.
 */
static int open_leased(struct __test_metadata *_metadata,
		       const struct ionpu_test_card *card, void **win)
{
	struct ionpu_lease lease = { .count = 1 };
	struct ionpu_info info = { 0 };
	int fd = open(card->node, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_INFO, &info));
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_LEASE, &lease));
	*win = MAP_FAILED;
	if (info.caps & IONPU_CAP_READOUT) {
		*win = mmap(NULL, IONPU_READOUT_TILE_SIZE, PROT_READ, MAP_SHARED,
			    fd, (off_t)__builtin_ctzll(lease.tiles) *
			    IONPU_READOUT_TILE_SIZE);
		ASSERT_NE(MAP_FAILED, *win) TH_LOG("mmap: %m");
	}
	return fd;
}

static void aer_recovers(struct __test_metadata *_metadata,
			 FIXTURE_DATA(hotplug) *self, const char *error)
{
	const struct timespec tick = { .tv_nsec = 50 * 1000 * 1000 };
	struct ionpu_run run = { .timesteps = 10 };
	struct ionpu_info info = { 0 };
	struct ionpu_ack_reset ack = { 0 };
	long resets;
	void *win;
	struct ionpu_stop stop = { 0 };
	pid_t runner, reader;
	int fd, status, i, ret;

	/* Older harnesses run the test after a SKIP in the setup. */
	if (!self->agent)
		return;
	resets = ionpu_test_card_long(&self->card, "resets");
	ASSERT_LE(0, resets);
	if (!reports_errors(&self->card))
		SKIP(return, "the card's Device Control error reporting enables read 0: it sends no AER message");
	fd = open_leased(_metadata, &self->card, &win);
	runner = spawn(load_run_eio, fd, NULL);
	ASSERT_LT(0, runner);
	nanosleep(&tick, NULL);

	ret = agent_request(self->agent, "aer %s %s", self->qemu_id, error);
	if (ret) {
		/* A killed RUN goes on: stop it for the tests after this one. */
		kill(runner, SIGKILL);
		ioctl(fd, IONPU_IOC_STOP, &stop);
	}
	ASSERT_EQ(0, ret);
	status = reap(runner, time(NULL) + LOAD_TIMEOUT_S);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("RUN under a %s error: status %#x", error, status);
	for (i = 0; i < 200 && !(ionpu_test_card_long(&self->card, "resets") > resets &&
				 card_ok(&self->card)); i++)
		nanosleep(&tick, NULL);
	ASSERT_EQ(resets + 1, ionpu_test_card_long(&self->card, "resets"));
	ASSERT_TRUE(card_ok(&self->card));

	if (win != MAP_FAILED) {
		reader = spawn(load_window, fd, win);
		ASSERT_LT(0, reader);
		status = reap(reader, time(NULL) + LOAD_TIMEOUT_S);
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
			TH_LOG("old mapping after the reset: status %#x", status);
		munmap(win, IONPU_READOUT_TILE_SIZE);
	}
	EXPECT_EQ(POLLPRI, ionpu_test_poll(fd) & POLLPRI);
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(resets + 1, (long)info.resets);
	/* INFO has no side effect: only the acknowledgement ends EPOLLPRI. */
	EXPECT_EQ(POLLPRI, ionpu_test_poll(fd) & POLLPRI);
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_ACK_RESET, &ack));
	EXPECT_EQ(resets + 1, (long)ack.resets);
	EXPECT_EQ(0, ionpu_test_poll(fd) & POLLPRI);
	/* The lease was kept: the RUN needs it. */
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_RUN, &run)) TH_LOG("%m");
	EXPECT_EQ(10, run.ran);
	close(fd);
}

TEST_F(hotplug, aer_non_fatal_error_resets_and_tells_the_owner)
{
	aer_recovers(_metadata, self, "POISON_TLP");
}

TEST_F(hotplug, aer_fatal_error_resets_and_tells_the_owner)
{
	aer_recovers(_metadata, self, "MALF_TLP");
}

/*
 * A fatal error the card does not come back from (its reset fails): no
 * resume follows.  The RUN in flight fails with EIO, the card is dead, a
 * RUN says the reset (ESTALE) and, once that is acknowledged, the death
 * (ENODEV); the file closes; the card replaced, it works.
 */
TEST_F(hotplug, aer_the_card_does_not_recover_from_leaves_it_dead)
{
	const struct timespec tick = { .tv_nsec = 50 * 1000 * 1000 };
	struct ionpu_run run = { .timesteps = 10 };
	struct ionpu_lease lease = { .count = 1 };
	struct ionpu_ack_reset ack = { 0 };
	struct ionpu_test_card card, back;
	char qemu_id[32];
	int fd, status, idx, ret, i;
	pid_t runner;
	void *win;

	if (!self->agent)
		return;
	fd = ionpu_test_open_fault_card(&card);
	if (fd < 0)
		SKIP(return, "no card with fault injection");
	close(fd);
	if (!reports_errors(&card))
		SKIP(return, "the card's Device Control error reporting enables read 0: it sends no AER message");
	idx = qemu_index(card.serial);
	ASSERT_LE(0, idx) TH_LOG("%s is not in IONPU_CARDS", card.serial);
	snprintf(qemu_id, sizeof(qemu_id), "ionpu%d", idx);

	fd = open_leased(_metadata, &card, &win);
	runner = spawn(load_run_eio, fd, NULL);
	ASSERT_LT(0, runner);
	nanosleep(&tick, NULL);
	ASSERT_EQ(0, ionpu_test_inject(&card, IONPU_FAULT_RESET_FAIL));
	ret = agent_request(self->agent, "aer %s MALF_TLP", qemu_id);
	if (ret) {
		kill(runner, SIGKILL);
		ionpu_test_inject(&card, IONPU_FAULT_NONE);
	}
	ASSERT_EQ(0, ret);
	status = reap(runner, time(NULL) + LOAD_TIMEOUT_S);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("RUN under an error the card does not recover from: status %#x", status);
	for (i = 0; i < 200 && !card_is(&card, "dead"); i++)
		nanosleep(&tick, NULL);
	EXPECT_TRUE(card_is(&card, "dead"));
	/* The reset is told first (its tiles lost their setup), then the death. */
	EXPECT_EQ(-1, ioctl(fd, IONPU_IOC_RUN, &run));
	EXPECT_EQ(ESTALE, errno);
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_ACK_RESET, &ack)) TH_LOG("%m");
	EXPECT_EQ(-1, ioctl(fd, IONPU_IOC_RUN, &run));
	EXPECT_EQ(ENODEV, errno);
	if (win != MAP_FAILED)
		munmap(win, IONPU_READOUT_TILE_SIZE);
	EXPECT_EQ(0, close(fd));

	/*
	 * Replaced, the card works again.  (A reset is not enough on every
	 * kernel: 6.1 marks a device whose recovery failed disconnected, and
	 * restores none of its config space after a later reset.)
	 */
	ASSERT_EQ(0, agent_request(self->agent, "device_del %s", qemu_id));
	EXPECT_TRUE(ionpu_test_wait_path(card.node, false, 5000));
	ASSERT_EQ(0, agent_request(self->agent, "device_add %s", qemu_id));
	ASSERT_TRUE(find_card(card.serial, &back, 10000)) TH_LOG("%s did not come back", card.serial);
	ASSERT_TRUE(card_ok(&back));
	fd = open(back.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_LEASE, &lease)) TH_LOG("%m");
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_RUN, &run)) TH_LOG("%m");
	EXPECT_EQ(10, run.ran);
	close(fd);
}

#define AER_ROUNDS	6

/*
 * AER errors again and again, non-fatal and fatal in turn, while processes
 * run jobs on the card (ionpu_job_loop.h): each error resets the card,
 * every job is right or fails with the reset's error, and a fresh tenant
 * computes exactly after the last.
 */
TEST_F_TIMEOUT(hotplug, aer_again_and_again_under_load, 300)
{
	static const char *const errors[] = { "POISON_TLP", "MALF_TLP" };
	const struct timespec tick = { .tv_nsec = 50 * 1000 * 1000 };
	const struct timespec settle = { .tv_nsec = 300 * 1000 * 1000 };
	struct job_loop *loop;
	long resets;

	if (!self->agent)
		return;
	if (!reports_errors(&self->card))
		SKIP(return, "the card's Device Control error reporting enables read 0: it sends no AER message");
	resets = ionpu_test_card_long(&self->card, "resets");
	ASSERT_LE(0, resets);
	loop = job_loop_start(_metadata, &self->card, self->card.tiles);
	for (int r = 0; r < AER_ROUNDS; r++) {
		/* The workers set their tiles up again and run jobs. */
		nanosleep(&settle, NULL);
		ASSERT_EQ(0, agent_request(self->agent, "aer %s %s", self->qemu_id,
					   errors[r % 2]));
		for (int i = 0; i < 200 && !(ionpu_test_card_long(&self->card, "resets") >
					     resets + r && card_ok(&self->card)); i++)
			nanosleep(&tick, NULL);
		EXPECT_EQ(resets + r + 1, ionpu_test_card_long(&self->card, "resets"))
			TH_LOG("error %d (%s): no reset", r, errors[r % 2]);
	}
	job_loop_end(_metadata, loop, "AER errors sent", AER_ROUNDS);
	job_loop_fresh_tenant(_metadata, &self->card, self->card.tiles - 1);
}

TEST_F(hotplug, unplug_under_load_then_replug)
{
	void (*const load[])(int, void *) = {
		load_run, load_read, load_commands, load_commands, load_window,
	};
	const struct timespec settle = { .tv_nsec = 300 * 1000 * 1000 };
	struct ionpu_lease lease = { .count = 1 };
	struct ionpu_info info = { 0 };
	struct ionpu_run run = { .timesteps = 10 };
	struct ionpu_test_card back;
	pid_t pid[ARRAY_SIZE(load)];
	const char *ko = getenv("IONPU_KO");
	void *win;
	time_t deadline;
	unsigned int i;
	int fd, fd2;

	if (!self->agent)
		return;
	fd = open_leased(_metadata, &self->card, &win);

	for (i = 0; i < ARRAY_SIZE(load); i++) {
		if (load[i] == load_window && win == MAP_FAILED) {
			pid[i] = 0;
			continue;
		}
		pid[i] = spawn(load[i], fd, win);
		ASSERT_LT(0, pid[i]);
	}
	nanosleep(&settle, NULL);

	ASSERT_EQ(0, agent_request(self->agent, "device_del %s", self->qemu_id));
	EXPECT_TRUE(ionpu_test_wait_path(self->card.node, false, 5000));

	deadline = time(NULL) + LOAD_TIMEOUT_S;
	for (i = 0; i < ARRAY_SIZE(load); i++) {
		int status;

		if (!pid[i])
			continue;
		status = reap(pid[i], deadline);
		if (load[i] == load_window) {
			EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
				TH_LOG("window reader: status %#x", status);
		} else {
			EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
				TH_LOG("load %u: status %#x", i, status);
		}
	}

	/* The file outlives the card; everything on it says so. */
	EXPECT_EQ(-1, ioctl(fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, IONPU_READOUT_TILE_SIZE, PROT_READ,
				   MAP_SHARED, fd, 0));
	if (win != MAP_FAILED)
		EXPECT_EQ(0, munmap(win, IONPU_READOUT_TILE_SIZE));
	EXPECT_EQ(0, close(fd));

	/* Nothing of the card is left holding the module. */
	if (ko) {
		EXPECT_EQ(0, syscall(__NR_delete_module, "ionpu", O_NONBLOCK))
			TH_LOG("rmmod after unplug: %m");
		fd2 = open(ko, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd2);
		ASSERT_EQ(0, syscall(__NR_finit_module, fd2, "", 0)) TH_LOG("%m");
		close(fd2);
	}

	ASSERT_EQ(0, agent_request(self->agent, "device_add %s", self->qemu_id));
	ASSERT_TRUE(find_card(self->card.serial, &back, 10000))
		TH_LOG("%s did not come back", self->card.serial);
	fd = open(back.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(self->card.tiles, info.tiles);
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_LEASE, &lease));
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_RUN, &run)) TH_LOG("%m");
	EXPECT_EQ(10, run.ran);
	close(fd);
}

TEST_HARNESS_MAIN
