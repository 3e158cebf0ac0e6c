/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Load for the tests that do something to a card again and again (inject
 * its faults, send AER errors): LOOP_WORKERS processes, each with its own
 * file and tile, run jobs of ionpu_net.h's network until told to stop.
 * Every job must come back right or fail with an error a reset explains,
 * never wrong; after a failed one a worker acknowledges the reset and sets
 * its tile up again.  Include after kselftest_harness.h.
 */
#ifndef IONPU_JOB_LOOP_H
#define IONPU_JOB_LOOP_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionpu_cards.h"
#include "ionpu_job.h"
#include "ionpu_net.h"

#define LOOP_WORKERS	3
/* Longer than any loop lasts. */
#define LOOP_ALARM_S	240

/* What one worker saw. */
struct loop_tally {
	unsigned long ok, failed, wrong, rebuilt;
	int unexpected;		/* an error no reset explains, or 0 */
};

/* Shared with the workers. */
struct job_loop {
	int stop;
	struct loop_tally t[LOOP_WORKERS];
	pid_t pid[LOOP_WORKERS];
};

/* Jobs of the network on @tile until *@stop. */
static inline void loop_worker(const struct ionpu_test_card *card, unsigned int tile,
			       const volatile int *stop, struct loop_tally *t)
{
	int fd = open(card->node, O_RDWR | O_CLOEXEC);
	bool broken = true;	/* the network is not built yet */

	if (fd < 0 || net_lease(fd, tile)) {
		t->unexpected = fd < 0 ? -errno : -EBUSY;
		return;
	}
	while (!*stop) {
		struct ionpu_ack_reset ack = { 0 };
		struct ionpu_job_input in[2];
		struct ionpu_event out[JOB_ROOM];
		struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
		int ret;

		if (broken) {
			net_ioctl(fd, IONPU_IOC_ACK_RESET, &ack);
			if (net_build(fd, tile))
				continue;
			broken = false;
			t->rebuilt++;
		}
		job_net_inputs(in, tile, 0);
		ret = net_ioctl(fd, IONPU_IOC_JOB, &j);
		if (!ret) {
			if (job_is_net_output(out, j.produced, tile, 0))
				t->ok++;
			else
				t->wrong++;
			continue;
		}
		t->failed++;
		broken = true;
		if (ret != -EIO && ret != -ETIMEDOUT && ret != -ESTALE)
			t->unexpected = ret;
	}
	close(fd);
}

/* The workers, on the last LOOP_WORKERS of @card's @tiles tiles. */
static inline struct job_loop *job_loop_start(struct __test_metadata *_metadata,
					      const struct ionpu_test_card *card,
					      unsigned int tiles)
{
	struct job_loop *loop;

	ASSERT_LT(LOOP_WORKERS, tiles);
	loop = mmap(NULL, sizeof(*loop), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, loop);
	for (int k = 0; k < LOOP_WORKERS; k++) {
		/* Not fork()'s value straight into the shared page: the child's 0 would race. */
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			/* A test that fails half-way leaves no worker behind. */
			alarm(LOOP_ALARM_S);
			loop_worker(card, tiles - 1 - k, &loop->stop, &loop->t[k]);
			_exit(0);
		}
		loop->pid[k] = pid;
	}
	return loop;
}

/*
 * Stops the workers and checks what they saw: each ended, none saw a wrong
 * job or an unexplained error, each had jobs right.  Logs "@done @what;
 * N jobs right, N failed with an error, none wrong" (reliability-report
 * reads it).
 */
static inline void job_loop_end(struct __test_metadata *_metadata, struct job_loop *loop,
				const char *what, unsigned int done)
{
	unsigned long ok = 0, failed = 0;
	int status;

	loop->stop = 1;
	for (int k = 0; k < LOOP_WORKERS; k++) {
		const struct loop_tally *t = &loop->t[k];

		EXPECT_TRUE(ionpu_test_child_ended(loop->pid[k], &status, 60));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		TH_LOG("process %d: %lu jobs right, %lu failed, %lu wrong, network set up %lu times",
		       k, t->ok, t->failed, t->wrong, t->rebuilt);
		EXPECT_EQ(0, t->wrong);
		EXPECT_EQ(0, t->unexpected) TH_LOG("process %d: %s", k, strerror(-t->unexpected));
		EXPECT_LT(0, t->ok);
		ok += t->ok;
		failed += t->failed;
	}
	TH_LOG("%u %s; %lu jobs right, %lu failed with an error, none wrong", done, what, ok,
	       failed);
	munmap(loop, sizeof(*loop));
}

/* A fresh tenant on @tile computes exactly; no command is left abandoned. */
static inline void job_loop_fresh_tenant(struct __test_metadata *_metadata,
					 const struct ionpu_test_card *card, unsigned int tile)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	long abandoned = -1;
	int fd = open(card->node, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, net_lease(fd, tile));
	ASSERT_EQ(0, net_build(fd, tile));
	job_net_inputs(in, tile, 0);
	ASSERT_EQ(0, net_ioctl(fd, IONPU_IOC_JOB, &j));
	EXPECT_TRUE(job_is_net_output(out, j.produced, tile, 0));
	close(fd);
	for (int i = 0; i < 100 && abandoned; i++) {
		abandoned = ionpu_test_debugfs_long(card, "queues", "abandoned");
		usleep(50 * 1000);
	}
	EXPECT_EQ(0, abandoned);
}

#endif /* IONPU_JOB_LOOP_H */
