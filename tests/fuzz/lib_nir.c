// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: ionpu_nir_load() on arbitrary bytes as a file.  Seeds
 * are NIR graphs, so mutations that keep the HDF5 structure reach the NIR
 * reader's checks on node types, shapes and parameters.
 */
#define _POSIX_C_SOURCE 200809L

#include <ionpu/ionpu.h>

#include "fuzz_file.h"

static void load(const char *path, void *arg)
{
	struct ionpu_network *net = NULL;

	(void)arg;
	if (!ionpu_nir_load(path, &net))
		ionpu_network_free(net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_file(data, size, load, NULL);
	return 0;
}
