// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The per-thread message behind ionpu_last_error().  It is the library's
 * only mutable state outside of handles, and thread-local so that no call
 * needs a lock and threads never see each other's failures.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ionpu_internal.h"

#define IONPU_ERROR_SIZE 512

static _Thread_local char last_error[IONPU_ERROR_SIZE];

IONPU_API const char *ionpu_last_error(void)
{
	return last_error;
}

static size_t format_message(const char *fmt, va_list ap)
{
	int len = vsnprintf(last_error, sizeof(last_error), fmt, ap);

	if (len < 0) {
		last_error[0] = '\0';
		return 0;
	}
	return (size_t)len < sizeof(last_error) ? (size_t)len :
						  sizeof(last_error) - 1;
}

int ionpu_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_message(fmt, ap);
	va_end(ap);
	return err;
}

int ionpu_error_errno(int err, const char *fmt, ...)
{
	char reason[128];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = format_message(fmt, ap);
	va_end(ap);

	/*
	 * strerror() may share a buffer between threads; the XSI variant does
	 * not.
	 */
	if (strerror_r(-err, reason, sizeof(reason)) != 0)
		snprintf(reason, sizeof(reason), "error %d", -err);
	snprintf(last_error + len, sizeof(last_error) - len, ": %s", reason);
	return err;
}

int ionpu_check_size(const void *s, size_t size, size_t known, const char *what)
{
	if (size < known)
		return ionpu_error(-EINVAL,
				   "%s of %zu bytes; the smallest version has %zu",
				   what, size, known);
	for (size_t k = known; k < size; k++)
		if (((const unsigned char *)s)[k])
			return ionpu_error(-EINVAL,
					   "byte %zu of the %s is set; this library knows %zu bytes",
					   k, what, known);
	return 0;
}
