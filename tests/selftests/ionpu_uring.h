/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * io_uring command submissions by hand: liburing 2.3 has no
 * io_uring_prep_uring_cmd().
 */
#ifndef IONPU_URING_H
#define IONPU_URING_H

#include <stdint.h>
#include <string.h>

#include <liburing.h>
#include <linux/ionpu.h>

/*
 * An IORING_OP_URING_CMD of @cmd_op on @fd whose 16-byte command area (the
 * SQE's last 16 bytes, where addr3 is) holds @cmd.
 */
static inline void uring_prep_cmd(struct io_uring_sqe *sqe, int fd,
				  uint32_t cmd_op,
				  const struct ionpu_uring_job *cmd,
				  uint64_t user_data)
{
	_Static_assert(sizeof(*cmd) == 16, "the command area is 16 bytes");
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = cmd_op;
	memcpy(sqe->cmd, cmd, sizeof(*cmd));
	sqe->user_data = user_data;
}

/* A job submission of the &struct ionpu_job at @job, of this header's size. */
static inline void uring_prep_job(struct io_uring_sqe *sqe, int fd,
				  struct ionpu_job *job, uint64_t user_data)
{
	const struct ionpu_uring_job cmd = {
		.job = (uintptr_t)job, .size = sizeof(*job),
	};

	uring_prep_cmd(sqe, fd, IONPU_URING_CMD_JOB, &cmd, user_data);
}

#endif /* IONPU_URING_H */
