// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the card's command layer, which parses what a guest
 * driver puts in the submission ring and the payloads behind it.  Each
 * input is a sequence of commands (see cmd_record.h) run on a one-tile card
 * with fault injection, against fake host memory; completions and events
 * are taken after each so the rings never fill.
 *
 * Building a card took most of each run (its crossbar arrays and 2 MiB of
 * host memory are fresh pages for ASan's allocator every time, about 800
 * inputs/s), so the process keeps one: a power cycle after each input
 * leaves it exactly as a new card (nothing carries over from one input to
 * the next, so a finding replays alone), and host memory is zeroed.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

/*
 * fake_host.h checks the harness's own steps with cmocka's assertions;
 * here a failed one is a bug of the card or the harness: abort, so that
 * libFuzzer reports it with the input.
 */
#define assert_true(c)							\
	do {								\
		if (!(c)) {						\
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); \
			abort();					\
		}							\
	} while (0)
#define assert_non_null(p)	assert_true((p) != NULL)
#define assert_int_equal(a, b)	assert_true((a) == (b))

#include "fake_host.h"
#include "cmd_record.h"

/* Work slices per command: a long RUN goes on while later commands come. */
#define WORK_PER_COMMAND	64

static void place(__le64 *field, uint32_t window)
{
	uint64_t addr = ionpu_le64_to_cpu(*field);

	if (addr && !(addr & CMD_RAW_ADDR))
		addr = BUS(window) + (addr - 1) % (MEM_SIZE - window);
	*field = ionpu_cpu_to_le64(addr);
}

/* libFuzzer's entry points take no context: the card is the process's. */
static struct fake_host *card;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct ionpu_config cfg = { .tiles = 1, .seed = 1, .faults = true };

	(void)argc;
	(void)argv;
	card = host_new_cfg(&cfg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_host *h = card;
	struct cqe c;
	struct eqe ev;

	host_queues(h, 16, 16, 64);
	while (size >= CMD_RECORD_HDR) {
		struct ionpu_hw_sqe *sqe = HOST_AT(h, SQ_OFF, struct ionpu_hw_sqe) +
					   h->sq_tail;
		size_t len = ionpu_get_le16(data + sizeof(*sqe));

		memcpy(sqe, data, sizeof(*sqe));
		data += CMD_RECORD_HDR;
		size -= CMD_RECORD_HDR;
		if (len > size)
			len = size;
		memcpy(h->mem + IN_OFF, data, len);
		data += len;
		size -= len;
		place(&sqe->in_addr, IN_OFF);
		place(&sqe->out_addr, OUT_OFF);

		h->sq_tail = (h->sq_tail + 1) % h->sq_size;
		wr(h, IONPU_REG_SQ_TAIL_DB, h->sq_tail);
		for (unsigned int n = 0; n < WORK_PER_COMMAND && ionpu_core_work(h->core); n++)
			;
		while (reap(h, &c))
			;
		while (reap_event(h, &ev))
			;
	}
	/*
	 * Now, not at the next input's start: what the input allocated (its
	 * routes) is freed within its run, or libFuzzer would suspect a leak
	 * in every run and check the whole heap again.
	 */
	assert_int_equal(ionpu_core_power_cycle(h->core, NULL), 0);
	memset(h->mem, 0, MEM_SIZE);
	return 0;
}
