// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: ionpu_npy_read() on arbitrary bytes as a file. */
#define _POSIX_C_SOURCE 200809L

#include <ionpu/ionpu.h>

#include "fuzz_file.h"

static void read_npy(const char *path, void *arg)
{
	float *data = NULL;
	size_t rows, cols;

	(void)arg;
	if (!ionpu_npy_read(path, &data, &rows, &cols))
		free(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_file(data, size, read_npy, NULL);
	return 0;
}
