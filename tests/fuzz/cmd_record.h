/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The core_cmd fuzz input: a sequence of records, each one command as the
 * driver would queue it, the 64-byte SQE, then a little-endian u16 payload
 * length and that many payload bytes.  The harness puts the payload at the
 * start of fake host memory's input window.  An SQE address of 0 stays 0
 * (no buffer); another one without CMD_RAW_ADDR is 1 + an offset into the
 * input (in_addr) or output (out_addr) window, so that mutations mostly
 * reach the payload parsers; one with CMD_RAW_ADDR is a bus address as
 * given, reachable or not.
 */
#ifndef IONPU_FUZZ_CMD_RECORD_H
#define IONPU_FUZZ_CMD_RECORD_H

#include <hw/ionpu_wire.h>

#define CMD_RAW_ADDR	(1ULL << 63)
#define CMD_RECORD_HDR	(sizeof(struct ionpu_hw_sqe) + 2)

#endif /* IONPU_FUZZ_CMD_RECORD_H */
