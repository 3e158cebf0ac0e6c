/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The NIR reader's access to HDF5 (lib/ionpu_nir_h5.c): datasets, strings
 * and groups read through libhdf5 with every class and shape checked, and
 * failures that name the file and the node.
 */
#ifndef IONPU_NIR_H5_H
#define IONPU_NIR_H5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

/* Largest dataset read, in values: far beyond any crossbar, short of abuse. */
#define NIR_MAX_VALUES (1u << 26)
#define NIR_MAX_DIMS 4

/* A numeric dataset as doubles, row-major. */
struct nir_array {
	double *v; /* NULL when absent */
	size_t n;
	int ndims;
	hsize_t dims[NIR_MAX_DIMS];
};

void ionpu_nir_array_free(struct nir_array *a);

/* A string dataset's strings, NULL-terminated, and its shape. */
struct nir_strings {
	char **s;
	size_t n;
	int ndims;
	hsize_t dims[NIR_MAX_DIMS];
};

void ionpu_nir_strings_free(struct nir_strings *strs);

/*
 * Record a failure of reading file @path, in node @node (NULL: the file as
 * a whole), and hand @err back, as ionpu_error().
 */
int ionpu_nir_fail(const char *path, int err, const char *node, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

/*
 * Run @fn(@arg), which reads @path through libhdf5, in a child process
 * first.  Returns 0 when the child came back, whatever the file held (the
 * caller then reads it itself: libhdf5 does the same on the same bytes);
 * -EPROTO with a message naming @path when libhdf5 crashed, was stopped by
 * a sanitizer, ran past IONPU_NIR_TRIAL_CPU_S of CPU or did not end within
 * IONPU_NIR_TRIAL_WALL_S; -errno when no child could be started.
 */
#define IONPU_NIR_TRIAL_CPU_S 120
#define IONPU_NIR_TRIAL_WALL_S 600
int ionpu_nir_h5_trial(const char *path, void (*fn)(void *arg), void *arg);

/* Whether ionpu_nir_read() has the file read in a trial child first. */
enum nir_trial {
	NIR_TRIAL,    /* any file: ionpu_nir_load() */
	NIR_NO_TRIAL, /* a file this process's libhdf5 wrote (lib_nir_graph) */
};

struct ionpu_network;
int ionpu_nir_read(const char *path, enum nir_trial trial,
		   struct ionpu_network **out);

/* Where a dataset is read: the file (for messages), its group, its node. */
struct nir_place {
	const char *path;
	hid_t grp;
	const char *node;
};

enum nir_presence {
	NIR_OPTIONAL, /* absent: left empty, not an error */
	NIR_REQUIRED,
};

bool ionpu_nir_h5_has(hid_t grp, const char *name);

/* The strings of dataset @dset, whatever their storage (variable or fixed). */
int ionpu_nir_h5_strings(const struct nir_place *at, const char *dset,
			 struct nir_strings *out);

/* The one string of a scalar (or one-element) dataset; free() it. */
int ionpu_nir_h5_string(const struct nir_place *at, const char *dset,
			char **out);

/* A numeric dataset (float32, float64, any integer) as doubles. */
int ionpu_nir_h5_array(const struct nir_place *at, const char *dset,
		       enum nir_presence presence, struct nir_array *a);

/*
 * A convolution's integer tuple (stride, padding, ...): absent means @def,
 * one value means all of them.  NIR may store padding as "valid" (0).
 */
int ionpu_nir_h5_ints(const struct nir_place *at, const char *dset, int count,
		      uint32_t def, uint32_t *out);

/*
 * The names of group @grp's links, NULL-terminated: in the order they were
 * made if the file kept it, else in name order.
 */
int ionpu_nir_h5_names(const struct nir_place *at, hid_t grp, char ***names);

/* An open file, and the error printing of libhdf5 it silenced. */
struct nir_file {
	hid_t id;
	H5E_auto2_t saved_fn;
	void *saved_data;
};

/*
 * Open the HDF5 file at @path read-only; until ionpu_nir_h5_close(), libhdf5
 * prints nothing (the library reports its own errors).
 */
int ionpu_nir_h5_open(const char *path, struct nir_file *f);
void ionpu_nir_h5_close(struct nir_file *f);

/*
 * Subgroup @name of @grp, or a negative id; close with
 * ionpu_nir_h5_group_close().
 */
hid_t ionpu_nir_h5_group(hid_t grp, const char *name);
void ionpu_nir_h5_group_close(hid_t grp);

#endif /* IONPU_NIR_H5_H */
