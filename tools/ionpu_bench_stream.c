// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu-bench: spike I/O through the driver's event stream, the way an
 * application that feeds a running network does it: the inputs go in by
 * IONPU_IOC_INPUT, write() or io_uring, the output spikes come out of
 * read() (docs/hardware.md, "Output-spike events").
 *
 * The benchmark takes one tile on an open file of its own, so nothing of
 * the library stands between it and the driver, and wires it so that each
 * input event comes back as exactly one output event: ideal-mode IF
 * neurons of threshold 5 and a weight of 10 from row r to neuron r only,
 * every neuron to the host.  The tile runs free (IONPU_RUN_NOWAIT, until a
 * STOP), so an input is taken in at the next timestep the card computes.
 *
 * A round of B events writes B inputs for the next timestep, on rows 0..255
 * and round again (inputs on one row in one timestep add up), and reads
 * until the spike of each row it hit is back, min(B, 256) events, each
 * checked against the inputs: a lost, extra or wrong event fails the
 * benchmark rather than count.  One timestep per round, because the card's
 * event ring holds 4095 events: 4096 spikes in a burst of 16 timesteps
 * would overflow it before the driver's interrupt handler could empty it.
 * The system calls are counted where this file makes them (io_uring's
 * wait only when no completion is there yet, when liburing must enter the
 * kernel).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <hw/ionpu_le.h>
#include <hw/ionpu_regs.h>
#include <linux/ionpu.h>
#include <liburing.h>

#include "ionpu_bench_stream.h"

#define ROWS 256
#define MAX_BATCH 4096
#define THRESHOLD 5.0f
#define G_MIN 1.0f
#define G_ON 11.0f /* with G- at G_MIN: a weight of 10 µS */
/* A round whose events are not all back by then has lost some. */
#define ROUND_TIMEOUT_MS 5000

const unsigned int stream_batch[STREAM_BATCHES] = { 1, 64, MAX_BATCH };

struct stream_bench {
	int fd;
	unsigned int tile;
	struct io_uring ring;
	struct ionpu_input in[MAX_BATCH];
	struct ionpu_event out[ROWS];
	/* Per neuron: whether the round still owes its spike. */
	bool owed[ROWS];
	uint64_t syscalls;
};

static int stream_error(int err, const char *what)
{
	fprintf(stderr, "ionpu-bench: the event stream: %s: %s\n", what,
		strerror(-err));
	return err;
}

static int xioctl(struct stream_bench *s, unsigned long req, void *arg)
{
	int ret;

	do {
		s->syscalls++;
		ret = ioctl(s->fd, req, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

static int configure(struct stream_bench *s)
{
	struct ionpu_neuron n[ROWS];
	struct ionpu_configure c = {
		.flags = IONPU_CONFIGURE_SET_TILE,
		.tile = s->tile,
		.mode = IONPU_MODE_IDEAL,
		.model = IONPU_MODEL_IF,
		.timestep = ionpu_f32_to_bits(1.0f),
		.input_gain = ionpu_f32_to_bits(1.0f),
		.count = ROWS,
		.neurons = (uintptr_t)n,
	};

	for (int i = 0; i < ROWS; i++)
		n[i] = (struct ionpu_neuron){
			.tau = ionpu_f32_to_bits(0.01f),
			.tau_syn = ionpu_f32_to_bits(0.01f),
			.r = ionpu_f32_to_bits(1.0f),
			.v_threshold = ionpu_f32_to_bits(THRESHOLD),
			.w_in = ionpu_f32_to_bits(1.0f),
		};
	return xioctl(s, IONPU_IOC_CONFIGURE, &c);
}

/* Every cell of the tile: G_ON on the diagonal's G+, G_MIN elsewhere. */
static int program(struct stream_bench *s)
{
	const size_t per_call = IONPU_MAX_CELLS;
	struct ionpu_cell_prog *cells = calloc(per_call, sizeof(*cells));
	struct ionpu_cell_result *res = calloc(per_call, sizeof(*res));
	size_t i = 0;
	int err = cells && res ? 0 : -ENOMEM;

	for (unsigned int row = 0; row < ROWS && !err; row++) {
		for (unsigned int col = 0; col < ROWS; col++)
			for (unsigned int dev = 0; dev < 2; dev++)
				cells[i++] = (struct ionpu_cell_prog){
					.row = (uint16_t)row,
					.column = (uint16_t)col,
					.device = (uint8_t)dev,
					.budget = 16,
					.target = ionpu_f32_to_bits(
						!dev && row == col ? G_ON :
								     G_MIN),
					/* Half a level: ideal cells land on one. */
					.tolerance = ionpu_f32_to_bits(0.25f),
				};
		if (i == per_call || row == ROWS - 1) {
			struct ionpu_program p = {
				.tile = s->tile,
				.count = (uint32_t)i,
				.cells = (uintptr_t)cells,
				.results = (uintptr_t)res,
			};

			err = xioctl(s, IONPU_IOC_PROGRAM, &p);
			if (!err && p.failed)
				err = -EIO;
			i = 0;
		}
	}
	free(cells);
	free(res);
	return err;
}

static int route_to_host(struct stream_bench *s)
{
	struct ionpu_route r[ROWS];
	struct ionpu_routes req = {
		.tile = s->tile,
		.records = ROWS,
		.size = sizeof(r),
		.routes = (uintptr_t)r,
	};

	for (int i = 0; i < ROWS; i++)
		r[i] = (struct ionpu_route){ .neuron = (uint16_t)i,
					     .flags = IONPU_ROUTE_TO_HOST };
	return xioctl(s, IONPU_IOC_ROUTES, &req);
}

/* Lease, wire and start the tile; @what says which step failed. */
static int start(struct stream_bench *s, const char **what)
{
	struct ionpu_lease l = { .count = 1 };
	struct ionpu_reset_state rs = { 0 };
	struct ionpu_run run = { .flags = IONPU_RUN_NOWAIT };
	int err;

	*what = "leasing a tile";
	err = xioctl(s, IONPU_IOC_LEASE, &l);
	if (err)
		return err;
	s->tile = (unsigned int)__builtin_ctzll(l.tiles);
	*what = "configuring the tile";
	err = configure(s);
	if (err)
		return err;
	*what = "programming the tile";
	err = program(s);
	if (err)
		return err;
	*what = "routing the neurons";
	err = route_to_host(s);
	if (err)
		return err;
	*what = "clearing the tile";
	err = xioctl(s, IONPU_IOC_RESET_STATE, &rs);
	if (err)
		return err;
	*what = "starting the run";
	return xioctl(s, IONPU_IOC_RUN, &run);
}

int stream_bench_open(const char *node, struct stream_bench **out)
{
	struct stream_bench *s;
	const char *what = node;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return stream_error(-ENOMEM, "setting up");
	s->fd = -1;
	err = io_uring_queue_init(2, &s->ring, 0);
	if (err) {
		free(s);
		return stream_error(err, "io_uring");
	}
	s->fd = open(node, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		err = -errno;
		goto err_free;
	}
	err = start(s, &what);
	if (err)
		goto err_free;
	*out = s;
	return 0;

err_free:
	stream_bench_close(s);
	return stream_error(err, what);
}

void stream_bench_close(struct stream_bench *s)
{
	struct ionpu_stop stop = { 0 };
	struct ionpu_wait w = { 0 };
	int err;

	if (!s)
		return;
	/*
	 * Closing the file would end the run too; stopping it here says if
	 * the card could not.  No run to stop after a failed start is no
	 * error.
	 */
	if (s->fd >= 0) {
		err = xioctl(s, IONPU_IOC_STOP, &stop);
		if (!err && stop.stopped)
			err = xioctl(s, IONPU_IOC_WAIT, &w);
		if (err)
			stream_error(err, "ending the run");
		close(s->fd);
	}
	io_uring_queue_exit(&s->ring);
	free(s);
}

/* The round's inputs, and the spikes they owe: its output events. */
static unsigned int prepare(struct stream_bench *s, unsigned int batch)
{
	memset(s->owed, 0, sizeof(s->owed));
	for (unsigned int i = 0; i < batch; i++) {
		s->in[i] = (struct ionpu_input){
			.row = (uint16_t)(i % ROWS),
			.tile = (uint8_t)s->tile,
			.value = ionpu_f32_to_bits(1.0f),
		};
		s->owed[i % ROWS] = true;
	}
	return batch < ROWS ? batch : ROWS;
}

/* @n events read: each must be one the round's inputs owe. */
static int take(struct stream_bench *s, const struct ionpu_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ev[i].flags & IONPU_EVENT_LOST)
			return stream_error(-ENOBUFS,
					    "output events were lost");
		if (ev[i].tile != s->tile || ev[i].neuron >= ROWS ||
		    !s->owed[ev[i].neuron]) {
			fprintf(stderr,
				"ionpu-bench: the event stream: a spike of neuron %u of tile %u that no input caused\n",
				ev[i].neuron, ev[i].tile);
			return -EPROTO;
		}
		s->owed[ev[i].neuron] = false;
	}
	return 0;
}

/* A round whose events did not all come back in ROUND_TIMEOUT_MS. */
static int lost(size_t got, unsigned int outs)
{
	fprintf(stderr,
		"ionpu-bench: the event stream: %zu of %u output events came back\n",
		got, outs);
	return -ETIMEDOUT;
}

/* poll() and read() until @outs events are back. */
static int read_back(struct stream_bench *s, unsigned int outs)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	size_t got = 0;

	while (got < outs) {
		ssize_t n;
		int ret;

		s->syscalls++;
		ret = poll(&p, 1, ROUND_TIMEOUT_MS);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return stream_error(-errno, "poll");
		if (!ret)
			return lost(got, outs);
		s->syscalls++;
		n = read(s->fd, s->out, (outs - got) * sizeof(s->out[0]));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return stream_error(-errno, "read");
		ret = take(s, s->out, (size_t)n / sizeof(s->out[0]));
		if (ret)
			return ret;
		got += (size_t)n / sizeof(s->out[0]);
	}
	return 0;
}

static int round_ioctl(struct stream_bench *s, unsigned int batch,
		       unsigned int outs)
{
	struct ionpu_spikes sp = { .count = batch, .events = (uintptr_t)s->in };
	int err = xioctl(s, IONPU_IOC_INPUT, &sp);

	return err ? stream_error(err, "IONPU_IOC_INPUT") : read_back(s, outs);
}

static int round_write(struct stream_bench *s, unsigned int batch,
		       unsigned int outs)
{
	size_t len = batch * sizeof(s->in[0]);
	ssize_t n;

	do {
		s->syscalls++;
		n = write(s->fd, s->in, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return stream_error(-errno, "write");
	if ((size_t)n != len)
		return stream_error(-EIO, "a short write");
	return read_back(s, outs);
}

enum { TAG_WRITE = 1, TAG_READ };

static void queue_read(struct stream_bench *s, size_t got, unsigned int outs)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

	io_uring_prep_read(sqe, s->fd, s->out,
			   (unsigned int)((outs - got) * sizeof(s->out[0])), 0);
	io_uring_sqe_set_data64(sqe, TAG_READ);
}

/* The next completion, within ROUND_TIMEOUT_MS: 0, -ETIME or -errno. */
static int wait_cqe(struct stream_bench *s, struct io_uring_cqe **cqe)
{
	struct __kernel_timespec ts = {
		.tv_sec = ROUND_TIMEOUT_MS / 1000,
		.tv_nsec = ROUND_TIMEOUT_MS % 1000 * 1000000L,
	};
	int ret;

	do {
		s->syscalls++;
		ret = io_uring_wait_cqe_timeout(&s->ring, cqe, &ts);
	} while (ret == -EINTR);
	return ret;
}

/*
 * The write and a read in one submission; a read that returns part of the
 * round is queued again for the rest.  After an error, requests may still
 * be in flight: the ring is good only for stream_bench_close().
 */
static int round_uring(struct stream_bench *s, unsigned int batch,
		       unsigned int outs)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
	bool written = false;
	size_t got = 0;
	int ret;

	io_uring_prep_write(sqe, s->fd, s->in,
			    (unsigned int)(batch * sizeof(s->in[0])), 0);
	io_uring_sqe_set_data64(sqe, TAG_WRITE);
	queue_read(s, got, outs);
	s->syscalls++;
	ret = io_uring_submit(&s->ring);
	if (ret < 0)
		return stream_error(ret, "io_uring submit");
	while (!written || got < outs) {
		struct io_uring_cqe *cqe;
		uint64_t tag;
		int res;

		if (io_uring_peek_cqe(&s->ring, &cqe)) {
			ret = wait_cqe(s, &cqe);
			if (ret == -ETIME)
				return lost(got, outs);
			if (ret)
				return stream_error(ret, "io_uring wait");
		}
		tag = io_uring_cqe_get_data64(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&s->ring, cqe);
		if (res < 0)
			return stream_error(res, tag == TAG_WRITE ?
							 "io_uring WRITE" :
							 "io_uring READ");
		if (tag == TAG_WRITE) {
			if ((size_t)res != batch * sizeof(s->in[0]))
				return stream_error(-EIO, "a short write");
			written = true;
			continue;
		}
		ret = take(s, s->out, (size_t)res / sizeof(s->out[0]));
		if (ret)
			return ret;
		got += (size_t)res / sizeof(s->out[0]);
		if (got < outs) {
			queue_read(s, got, outs);
			s->syscalls++;
			ret = io_uring_submit(&s->ring);
			if (ret < 0)
				return stream_error(ret, "io_uring submit");
		}
	}
	return 0;
}

int stream_bench_round(struct stream_bench *s, enum stream_path path,
		       unsigned int batch)
{
	static int (*const round_of[STREAM_PATHS])(struct stream_bench *,
						   unsigned int,
						   unsigned int) = {
		[STREAM_IOCTL] = round_ioctl,
		[STREAM_WRITE] = round_write,
		[STREAM_URING] = round_uring,
	};

	if (path >= STREAM_PATHS || !batch || batch > MAX_BATCH)
		return stream_error(-EINVAL, "no such path or batch size");
	return round_of[path](s, batch, prepare(s, batch));
}

uint64_t stream_bench_syscalls(const struct stream_bench *s)
{
	return s->syscalls;
}
