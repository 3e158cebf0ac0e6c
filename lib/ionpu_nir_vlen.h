/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NIR reader's guard in front of libhdf5's variable-length strings. */
#ifndef IONPU_NIR_VLEN_H
#define IONPU_NIR_VLEN_H

#include <stdint.h>

#include <hdf5.h>

/**
 * ionpu_nir_vlen_check() - whether libhdf5 may read a string dataset
 * @ds: an open dataset of @count variable-length strings
 * @count: its strings
 * @why: out: on failure, why, as a static string
 *
 * Return: 0 when every string the dataset stores points at a heap object
 * that exists in the file; -EPROTO for a damaged or uncheckable dataset,
 * another negative errno when the file cannot be read.
 */
int ionpu_nir_vlen_check(hid_t ds, uint64_t count, const char **why);

#endif /* IONPU_NIR_VLEN_H */
