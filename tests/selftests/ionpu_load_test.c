// SPDX-License-Identifier: GPL-2.0-only
/*
 * Many tenants on every card at once: IONPU_LOAD_PROCS processes (default
 * 16), spread over the cards, each with its own file and tile, for
 * IONPU_LOAD_SECONDS (default 20).  Each programs its network (its cells
 * with write-verify), runs jobs and checks every output against what the
 * network must give, and programs its tile again every
 * IONPU_LOAD_REPROGRAM jobs (default 50), so that one tenant's programming
 * meets the others' streaming on each card.  Every job must be exact and
 * none may fail: a process that saw another's spikes, or lost its own,
 * would have a wrong output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_job.h"
#include "ionpu_net.h"

/* One tenant: where it runs, and what it saw, in memory the parent shares. */
struct tenant {
	unsigned int card;
	unsigned int tile;
	unsigned long jobs, wrong, programmed;
	int error;	/* the first error, or 0 */
};

static unsigned long env_or(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : dflt;
}

/* Until @end: jobs, checked, and the network programmed again and again. */
static void tenant_run(const struct ionpu_test_card *card, struct tenant *t,
		       time_t end, unsigned long reprogram)
{
	int fd = open(card->node, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		t->error = -errno;
		return;
	}
	ret = net_lease(fd, t->tile);
	while (!ret && time(NULL) < end) {
		struct ionpu_job_input in[2];
		struct ionpu_event out[JOB_ROOM];
		struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);

		if (t->jobs % reprogram == 0) {
			ret = net_build(fd, t->tile);
			if (ret)
				break;
			t->programmed++;
		}
		job_net_inputs(in, t->tile, 0);
		ret = net_ioctl(fd, IONPU_IOC_JOB, &j);
		if (ret)
			break;
		t->jobs++;
		if (!job_is_net_output(out, j.produced, t->tile, 0))
			t->wrong++;
	}
	t->error = ret;
	close(fd);
}

FIXTURE(load) {
};

FIXTURE_SETUP(load)
{
}

FIXTURE_TEARDOWN(load)
{
}

/* Past IONPU_LOAD_SECONDS and the programming at the start, on any kernel. */
TEST_F_TIMEOUT(load, sixteen_tenants_program_and_stream_on_every_card, 300)
{
	unsigned long procs = env_or("IONPU_LOAD_PROCS", 16);
	unsigned long seconds = env_or("IONPU_LOAD_SECONDS", 20);
	unsigned long reprogram = env_or("IONPU_LOAD_REPROGRAM", 50);
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	unsigned int free_tiles[IONPU_TEST_MAX_CARDS];
	unsigned long jobs = 0, programmed = 0;
	struct tenant *t;
	int ncards, status;
	time_t end;

	ncards = ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS);
	if (ncards <= 0)
		SKIP(return, "no ionpu card in this machine");
	ASSERT_LT(0, reprogram);
	t = mmap(NULL, procs * sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, t);

	/* Round robin over the cards that have a tile left, top tile first. */
	for (int c = 0; c < ncards; c++)
		free_tiles[c] = cards[c].tiles;
	for (unsigned long k = 0, c = 0; k < procs; k++) {
		unsigned int tried = 0;

		while (!free_tiles[c % ncards] && tried++ < (unsigned int)ncards)
			c++;
		ASSERT_LT(0, free_tiles[c % ncards])
			TH_LOG("%lu tenants, but the cards have fewer tiles", procs);
		t[k].card = c % ncards;
		t[k].tile = --free_tiles[c % ncards];
		c++;
	}

	end = time(NULL) + seconds;
	for (unsigned long k = 0; k < procs; k++) {
		pid_t child = fork();

		ASSERT_LE(0, child);
		if (child == 0) {
			tenant_run(&cards[t[k].card], &t[k], end, reprogram);
			_exit(0);
		}
	}
	for (unsigned long k = 0; k < procs; k++) {
		ASSERT_LT(0, wait(&status));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	for (unsigned long k = 0; k < procs; k++) {
		EXPECT_EQ(0, t[k].error)
			TH_LOG("tenant %lu (%s tile %u): %s after %lu jobs", k,
			       cards[t[k].card].name, t[k].tile,
			       strerror(-t[k].error), t[k].jobs);
		EXPECT_EQ(0, t[k].wrong)
			TH_LOG("tenant %lu (%s tile %u): %lu wrong of %lu", k,
			       cards[t[k].card].name, t[k].tile, t[k].wrong,
			       t[k].jobs);
		EXPECT_LT(0, t[k].jobs);
		jobs += t[k].jobs;
		programmed += t[k].programmed;
	}
	TH_LOG("%lu processes on %d cards for %lu s: %lu jobs, all exact; %lu networks programmed",
	       procs, ncards, seconds, jobs, programmed);
	munmap(t, procs * sizeof(*t));
}

TEST_HARNESS_MAIN
