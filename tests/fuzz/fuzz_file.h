/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The library's readers take a path, so a fuzz input goes to a private
 * temporary file first; one file per input keeps runs independent.
 */
#ifndef IONPU_FUZZ_FILE_H
#define IONPU_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Write @data to a new temporary file and call @use(path, @arg); the file
 * is removed again.  A failure to make the file is the harness's, so it
 * aborts rather than pass for a finding-free run.
 */
static inline void fuzz_file(const uint8_t *data, size_t size,
			     void (*use)(const char *path, void *arg), void *arg)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/ionpu-fuzz-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		perror("fuzz: mkstemp");
		abort();
	}
	f = fdopen(fd, "wb");
	if (!f || (size && fwrite(data, size, 1, f) != 1) || fclose(f)) {
		perror("fuzz: writing the input");
		abort();
	}
	use(path, arg);
	unlink(path);
}

#endif /* IONPU_FUZZ_FILE_H */
