/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A scratch file in a directory of its own for each test: cmocka setup and
 * teardown functions whose state is a struct tmp.  Include after <cmocka.h>.
 */
#ifndef IONPU_TEST_TMP_FILE_H
#define IONPU_TEST_TMP_FILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tmp {
	char dir[64];
	char path[128]; /* dir/file, not yet made */
};

static inline int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	strcpy(t->dir, "/tmp/ionpu-test-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/file", t->dir);
	*state = t;
	return 0;
}

static inline int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

#endif /* IONPU_TEST_TMP_FILE_H */
