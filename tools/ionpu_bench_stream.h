/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ionpu-bench: spike I/O through the driver's event stream
 * (tools/ionpu_bench_stream.c).
 */
#ifndef IONPU_BENCH_STREAM_H
#define IONPU_BENCH_STREAM_H

#include <stdint.h>

/* How the input events reach the card; the output events come by read(). */
enum stream_path {
	STREAM_IOCTL, /* IONPU_IOC_INPUT, then poll() and read() */
	STREAM_WRITE, /* write(), then poll() and read() */
	STREAM_URING, /* io_uring WRITE and READ, submitted together */
	STREAM_PATHS
};

/* The batch sizes measured: events written, and read back, per round. */
#define STREAM_BATCHES 3
extern const unsigned int stream_batch[STREAM_BATCHES];

struct stream_bench;

/*
 * A tile of the card at @node ("/dev/ionpuN") on a file of its own, wired
 * so that an input on row r makes neuron r spike in the same timestep, and
 * running until stream_bench_close().  0 or -errno, with a message on
 * stderr.
 */
int stream_bench_open(const char *node, struct stream_bench **out);
/*
 * One round: @batch events written on @path, their spikes read back and
 * checked.  0, or -errno with a message on stderr; after an error, only
 * stream_bench_close().
 */
int stream_bench_round(struct stream_bench *s, enum stream_path path,
		       unsigned int batch);
/* The system calls the rounds have made so far. */
uint64_t stream_bench_syscalls(const struct stream_bench *s);
void stream_bench_close(struct stream_bench *s);

#endif /* IONPU_BENCH_STREAM_H */
