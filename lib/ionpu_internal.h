/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libionpu internals: shared by the library's sources and its unit tests,
 * never installed.
 */
#ifndef IONPU_INTERNAL_H
#define IONPU_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <ionpu/ionpu.h>

#define IONPU_SYSFS_ROOT	"/sys"
#define IONPU_DEV_ROOT		"/dev"
/* Name of the driver's class, its devices and its nodes. */
#define IONPU_NAME		"ionpu"

/*
 * Record a failure for ionpu_last_error() and hand @err (a negative errno)
 * back, so a failing path ends in one statement:
 *	return ionpu_error(-ENOENT, "%s: no such card", what);
 */
int ionpu_error(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* As ionpu_error(), with ": <strerror(-err)>" appended. */
int ionpu_error_errno(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Strict decimal: digits only, no sign, no blanks, at most @max. */
bool ionpu_parse_decimal(const char *s, uint64_t max, uint64_t *out);

/*
 * ionpu_open() with the places where sysfs and the device nodes live made
 * explicit, so tests can point it at a fake tree.
 */
int ionpu_open_at(const char *sysfs_root, const char *dev_root,
		  const char *what, struct ionpu_dev **out);

#endif /* IONPU_INTERNAL_H */
