/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The real NIR graphs in ../shared/nir/ beside the clone, for the unit
 * tests that read them; a test skips, saying why, where they are absent.
 * Include after <cmocka.h>.
 */
#ifndef IONPU_TEST_SHARED_NIR_H
#define IONPU_TEST_SHARED_NIR_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* ../shared/nir/@name, found from this file's path (tests/unit/). */
static inline bool shared_graph(const char *name, char *path, size_t size)
{
	const char *src = __FILE__;
	const char *slash = strrchr(src, '/');
	struct stat st;

	snprintf(path, size, "%.*s/../../../shared/nir/%s", slash ? (int)(slash - src) : 1,
		 slash ? src : ".", name);
	return stat(path, &st) == 0;
}

/* Sets @path (a char array) to the graph, or skips the running test. */
#define SHARED_GRAPH(name, path)                                                    \
	do {                                                                        \
		if (!shared_graph(name, path, sizeof(path))) {                      \
			print_message("# SKIP: %s absent (../shared/nir/ is not beside the clone)\n", \
				      path);                                        \
			skip();                                                     \
		}                                                                   \
	} while (0)

#endif /* IONPU_TEST_SHARED_NIR_H */
