// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The NIR reader's access to HDF5: everything it reads from a file goes
 * through here.  Nothing from the file is trusted: every dataset is checked
 * for presence, class and shape before use.
 */
/* pipe2(): the pipe must not leak into another thread's exec. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>

#include "ionpu_internal.h"
#include "ionpu_nir_h5.h"
#include "ionpu_nir_vlen.h"

int ionpu_nir_fail(const char *path, int err, const char *node, const char *fmt,
		   ...)
{
	char reason[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (node)
		return ionpu_error(err, "%s: node '%s': %s", path, node,
				   reason);
	return ionpu_error(err, "%s: %s", path, reason);
}

/*
 * libhdf5 trusts a file's structure: a damaged B-tree, heap or object
 * header can make it read out of bounds or crash inside H5Fopen() or
 * H5Gopen2() (Debian's 1.10.8 does, in H5HL_protect(), on a damaged group
 * heap), before any check of ours can look at a value.  So the whole read
 * is first done in a child, where a crash costs nothing; the application's
 * own signal handlers (and a fuzzer's or sanitizer's) are put back to the
 * default there, so that the child dies of what kills it; a CPU limit ends
 * a read that never finishes, and an alarm one that waits for ever (on a
 * lock another thread of the caller held at the fork, say).  The child
 * says it came back with a
 * byte on a pipe, not with its exit status, which a checker in the process
 * (valgrind's leak check at exit, say) may change after the read is done.
 */
static void trial_child(int done, void (*fn)(void *arg), void *arg)
{
	static const int fatal[] = {
		SIGSEGV, SIGBUS, SIGFPE,  SIGILL,
		SIGABRT, SIGSYS, SIGXCPU, SIGALRM,
	};
	const struct rlimit cpu = {
		.rlim_cur = IONPU_NIR_TRIAL_CPU_S,
		.rlim_max = IONPU_NIR_TRIAL_CPU_S + 1,
	};
	sigset_t set;
	ssize_t n;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		signal(fatal[i], SIG_DFL);
		sigaddset(&set, fatal[i]);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	setrlimit(RLIMIT_CPU, &cpu);
	alarm(IONPU_NIR_TRIAL_WALL_S);
	fn(arg);
	n = write(done, "", 1);
	/* Not exit(): the application's atexit handlers are not the child's. */
	_exit(n == 1 ? 0 : 1);
}

int ionpu_nir_h5_trial(const char *path, void (*fn)(void *arg), void *arg)
{
	int pipefd[2], status = 0;
	ssize_t came_back;
	pid_t pid, reaped;
	char byte;

	if (pipe2(pipefd, O_CLOEXEC))
		return ionpu_error_errno(-errno,
					 "%s: cannot start the process that reads it first",
					 path);
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(pipefd[0]);
		close(pipefd[1]);
		return ionpu_error_errno(err,
					 "%s: cannot start the process that reads it first",
					 path);
	}
	if (!pid) {
		close(pipefd[0]);
		trial_child(pipefd[1], fn, arg);
	}
	close(pipefd[1]);
	do
		came_back = read(pipefd[0], &byte, 1);
	while (came_back < 0 && errno == EINTR);
	close(pipefd[0]);
	while ((reaped = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (came_back == 1)
		return 0;
	/* With SIGCHLD ignored the child was reaped unseen: how it died is lost. */
	if (reaped != pid)
		return ionpu_nir_fail(path, -EPROTO, NULL,
				      "the process reading it first died: the file is damaged");
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
		return ionpu_nir_fail(path, -EPROTO, NULL,
				      "libhdf5 read it for more than %d s of CPU: damaged file?",
				      IONPU_NIR_TRIAL_CPU_S);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		return ionpu_nir_fail(path, -EPROTO, NULL,
				      "reading it did not end within %d s (stuck on a lock?)",
				      IONPU_NIR_TRIAL_WALL_S);
	if (WIFSIGNALED(status))
		return ionpu_nir_fail(path, -EPROTO, NULL,
				      "libhdf5 crashed reading it (%s): the file is damaged",
				      strsignal(WTERMSIG(status)));
	return ionpu_nir_fail(path, -EPROTO, NULL,
			      "reading it stopped with exit status %d (a sanitizer's report?): the file is damaged",
			      WEXITSTATUS(status));
}

void ionpu_nir_array_free(struct nir_array *a)
{
	free(a->v);
	a->v = NULL;
}

void ionpu_nir_strings_free(struct nir_strings *strs)
{
	for (size_t i = 0; strs->s && strs->s[i]; i++)
		free(strs->s[i]);
	free(strs->s);
	strs->s = NULL;
}

bool ionpu_nir_h5_has(hid_t grp, const char *name)
{
	return H5Lexists(grp, name, H5P_DEFAULT) > 0;
}

/* A dataset opened for reading, with its type and dataspace. */
struct dataset {
	hid_t ds;
	hid_t type;
	hid_t space;
};

static void dataset_close(struct dataset *d)
{
	if (d->space >= 0)
		H5Sclose(d->space);
	if (d->type >= 0)
		H5Tclose(d->type);
	if (d->ds >= 0)
		H5Dclose(d->ds);
}

static int dataset_open(const struct nir_place *at, const char *dset,
			struct dataset *d)
{
	d->type = d->space = -1;
	d->ds = H5Dopen2(at->grp, dset, H5P_DEFAULT);
	if (d->ds < 0)
		return ionpu_nir_fail(at->path, -EPROTO, at->node,
				      "cannot open dataset '%s'", dset);
	d->type = H5Dget_type(d->ds);
	d->space = H5Dget_space(d->ds);
	if (d->type < 0 || d->space < 0) {
		dataset_close(d);
		return ionpu_nir_fail(at->path, -EPROTO, at->node,
				      "cannot read dataset '%s'", dset);
	}
	return 0;
}

/* Variable-length strings, after checking that libhdf5 may read them. */
static int read_vlen_strings(const struct nir_place *at, const char *dset,
			     const struct dataset *d, struct nir_strings *out)
{
	hid_t mtype = -1;
	const char *why;
	char **raw;
	int err;

	err = ionpu_nir_vlen_check(d->ds, (uint64_t)out->n, &why);
	if (err)
		return ionpu_nir_fail(at->path, err, at->node,
				      "'%s' is damaged: %s", dset, why);
	raw = calloc(out->n + 1, sizeof(*raw));
	mtype = H5Tcopy(H5T_C_S1);
	if (!raw || mtype < 0 || H5Tset_size(mtype, H5T_VARIABLE) < 0 ||
	    H5Tset_cset(mtype, H5Tget_cset(d->type)) < 0 ||
	    H5Dread(d->ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
		err = ionpu_nir_fail(at->path, -EPROTO, at->node,
				     "cannot read strings of '%s'", dset);
		goto out;
	}
	for (size_t i = 0; i < out->n; i++) {
		out->s[i] = strdup(raw[i] ? raw[i] : "");
		if (!out->s[i]) {
			err = ionpu_nir_fail(at->path, -ENOMEM, at->node,
					     "out of memory");
			break;
		}
	}
	H5Dvlen_reclaim(mtype, d->space, H5P_DEFAULT, raw);
out:
	free(raw);
	if (mtype >= 0)
		H5Tclose(mtype);
	return err;
}

/* Fixed-size strings; space-padded ones keep their padding on disk. */
static int read_fixed_strings(const struct nir_place *at, const char *dset,
			      const struct dataset *d, struct nir_strings *out)
{
	size_t size = H5Tget_size(d->type);
	char *raw = size ? calloc(out->n ? out->n : 1, size) : NULL;
	hid_t mtype = H5Tcopy(d->type);
	int err = 0;

	if (!raw || mtype < 0 ||
	    H5Dread(d->ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
		err = ionpu_nir_fail(at->path, -EPROTO, at->node,
				     "cannot read strings of '%s'", dset);
		goto out;
	}
	for (size_t i = 0; i < out->n; i++) {
		const char *s = raw + i * size;
		size_t len = strnlen(s, size);

		while (len && s[len - 1] == ' ')
			len--;
		out->s[i] = strndup(s, len);
		if (!out->s[i]) {
			err = ionpu_nir_fail(at->path, -ENOMEM, at->node,
					     "out of memory");
			break;
		}
	}
out:
	free(raw);
	if (mtype >= 0)
		H5Tclose(mtype);
	return err;
}

int ionpu_nir_h5_strings(const struct nir_place *at, const char *dset,
			 struct nir_strings *out)
{
	struct nir_strings strs = { 0 };
	struct dataset d;
	hssize_t n;
	int err;

	err = dataset_open(at, dset, &d);
	if (err)
		return err;
	if (H5Tget_class(d.type) != H5T_STRING) {
		err = ionpu_nir_fail(at->path, -EPROTO, at->node,
				     "'%s' is not a string", dset);
		goto err_close;
	}
	strs.ndims = H5Sget_simple_extent_ndims(d.space);
	n = H5Sget_simple_extent_npoints(d.space);
	if (strs.ndims < 0 || strs.ndims > NIR_MAX_DIMS || n < 0 ||
	    n > NIR_MAX_VALUES) {
		err = ionpu_nir_fail(at->path, -EPROTO, at->node,
				     "'%s' has an unreadable shape", dset);
		goto err_close;
	}
	H5Sget_simple_extent_dims(d.space, strs.dims, NULL);
	strs.n = (size_t)n;
	strs.s = calloc(strs.n + 1, sizeof(*strs.s));
	if (!strs.s) {
		err = ionpu_nir_fail(at->path, -ENOMEM, at->node,
				     "out of memory");
		goto err_close;
	}
	if (H5Tis_variable_str(d.type) > 0)
		err = read_vlen_strings(at, dset, &d, &strs);
	else
		err = read_fixed_strings(at, dset, &d, &strs);
	if (err)
		goto err_free;
	dataset_close(&d);
	*out = strs;
	return 0;

err_free:
	ionpu_nir_strings_free(&strs);
err_close:
	dataset_close(&d);
	return err;
}

int ionpu_nir_h5_string(const struct nir_place *at, const char *dset,
			char **out)
{
	struct nir_strings strs;
	int err;

	if (!ionpu_nir_h5_has(at->grp, dset))
		return ionpu_nir_fail(at->path, -EPROTO, at->node,
				      "no '%s' dataset", dset);
	err = ionpu_nir_h5_strings(at, dset, &strs);
	if (err)
		return err;
	if (strs.n != 1) {
		ionpu_nir_strings_free(&strs);
		return ionpu_nir_fail(at->path, -EPROTO, at->node,
				      "'%s' holds %zu strings, not one", dset,
				      strs.n);
	}
	*out = strs.s[0];
	free(strs.s);
	return 0;
}

int ionpu_nir_h5_array(const struct nir_place *at, const char *dset,
		       enum nir_presence presence, struct nir_array *a)
{
	struct dataset d;
	H5T_class_t cls;
	hssize_t n;
	int err;

	if (!ionpu_nir_h5_has(at->grp, dset)) {
		if (presence == NIR_OPTIONAL)
			return 0;
		return ionpu_nir_fail(at->path, -EPROTO, at->node,
				      "no '%s' dataset", dset);
	}
	err = dataset_open(at, dset, &d);
	if (err)
		return err;
	cls = H5Tget_class(d.type);
	if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
		err = ionpu_nir_fail(at->path, -EPROTO, at->node,
				     "'%s' is not a number array", dset);
		goto out;
	}
	a->ndims = H5Sget_simple_extent_ndims(d.space);
	n = H5Sget_simple_extent_npoints(d.space);
	if (a->ndims < 0 || a->ndims > NIR_MAX_DIMS || n < 0 ||
	    n > NIR_MAX_VALUES) {
		err = ionpu_nir_fail(at->path, -EPROTO, at->node,
				     "'%s' has an unsupported shape", dset);
		goto out;
	}
	/*
	 * Values never written read as the fill value, and converting that
	 * crashes libhdf5 1.10 on a damaged file: a graph has its values.
	 */
	if (n && !H5Dget_storage_size(d.ds)) {
		err = ionpu_nir_fail(at->path, -EPROTO, at->node,
				     "'%s' holds no values", dset);
		goto out;
	}
	H5Sget_simple_extent_dims(d.space, a->dims, NULL);
	a->n = (size_t)n;
	a->v = malloc((a->n ? a->n : 1) * sizeof(double));
	if (!a->v) {
		err = ionpu_nir_fail(at->path, -ENOMEM, at->node,
				     "out of memory");
		goto out;
	}
	if (a->n && H5Dread(d.ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
			    H5P_DEFAULT, a->v) < 0) {
		ionpu_nir_array_free(a);
		err = ionpu_nir_fail(at->path, -EPROTO, at->node,
				     "cannot read the values of '%s'", dset);
	}
out:
	dataset_close(&d);
	return err;
}

static bool is_string_dataset(hid_t grp, const char *dset)
{
	hid_t ds = H5Dopen2(grp, dset, H5P_DEFAULT), type;
	bool is_string;

	if (ds < 0)
		return false;
	type = H5Dget_type(ds);
	is_string = type >= 0 && H5Tget_class(type) == H5T_STRING;
	if (type >= 0)
		H5Tclose(type);
	H5Dclose(ds);
	return is_string;
}

/* Padding given as a string: only "valid" (none) is known. */
static int read_valid(const struct nir_place *at, const char *dset, int count,
		      uint32_t *out)
{
	char *s;
	int err;

	err = ionpu_nir_h5_string(at, dset, &s);
	if (err)
		return err;
	if (strcmp(s, "valid")) {
		err = ionpu_nir_fail(at->path, -EOPNOTSUPP, at->node,
				     "%s '%s' is not supported", dset, s);
		free(s);
		return err;
	}
	free(s);
	for (int i = 0; i < count; i++)
		out[i] = 0;
	return 0;
}

int ionpu_nir_h5_ints(const struct nir_place *at, const char *dset, int count,
		      uint32_t def, uint32_t *out)
{
	struct nir_array a = { 0 };
	int err;

	for (int i = 0; i < count; i++)
		out[i] = def;
	if (!ionpu_nir_h5_has(at->grp, dset))
		return 0;
	if (is_string_dataset(at->grp, dset))
		return read_valid(at, dset, count, out);
	err = ionpu_nir_h5_array(at, dset, NIR_REQUIRED, &a);
	if (err)
		return err;
	if (a.ndims > 1 || (a.n != 1 && a.n != (size_t)count)) {
		err = ionpu_nir_fail(at->path, -EPROTO, at->node,
				     "'%s' has %zu values, not 1 or %d", dset,
				     a.n, count);
		goto out;
	}
	for (int i = 0; i < count; i++) {
		double v = a.v[a.n == 1 ? 0 : i];

		if (!(v >= 0 && v <= UINT32_MAX) || v != floor(v)) {
			err = ionpu_nir_fail(at->path, -EPROTO, at->node,
					     "'%s' holds %g, not a count", dset,
					     v);
			goto out;
		}
		out[i] = (uint32_t)v;
	}
out:
	ionpu_nir_array_free(&a);
	return err;
}

static herr_t collect_name(hid_t grp, const char *name, const H5L_info_t *info,
			   void *data)
{
	char ***names = data;
	size_t n = 0;
	char **p;

	(void)grp;
	(void)info;
	while ((*names)[n])
		n++;
	p = realloc(*names, (n + 2) * sizeof(*p));
	if (!p)
		return -1;
	*names = p;
	p[n] = strdup(name);
	p[n + 1] = NULL;
	return p[n] ? 0 : -1;
}

/*
 * The order a group's links were made in, where the file kept it (as
 * ionpu_nir_save() asks), else their names' order.
 */
static H5_index_t link_order(hid_t grp)
{
	hid_t cpl = H5Gget_create_plist(grp);
	unsigned int flags = 0;

	if (cpl < 0)
		return H5_INDEX_NAME;
	if (H5Pget_link_creation_order(cpl, &flags) < 0)
		flags = 0;
	H5Pclose(cpl);
	return flags & H5P_CRT_ORDER_INDEXED ? H5_INDEX_CRT_ORDER :
					       H5_INDEX_NAME;
}

int ionpu_nir_h5_names(const struct nir_place *at, hid_t grp, char ***names)
{
	struct nir_strings list = { .s = calloc(1, sizeof(char *)) };

	if (!list.s)
		return ionpu_nir_fail(at->path, -ENOMEM, at->node,
				      "out of memory");
	if (H5Literate(grp, link_order(grp), H5_ITER_INC, NULL, collect_name,
		       &list.s) < 0) {
		ionpu_nir_strings_free(&list);
		return ionpu_nir_fail(at->path, -EPROTO, at->node,
				      "cannot list the graph's nodes");
	}
	*names = list.s;
	return 0;
}

int ionpu_nir_h5_open(const char *path, struct nir_file *f)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return ionpu_error_errno(-errno, "%s", path);
	H5Eget_auto2(H5E_DEFAULT, &f->saved_fn, &f->saved_data);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	if (H5Fis_hdf5(path) <= 0) {
		H5Eset_auto2(H5E_DEFAULT, f->saved_fn, f->saved_data);
		return ionpu_nir_fail(path, -EPROTO, NULL, "not an HDF5 file");
	}
	f->id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f->id < 0) {
		H5Eset_auto2(H5E_DEFAULT, f->saved_fn, f->saved_data);
		return ionpu_nir_fail(path, -EPROTO, NULL,
				      "cannot open as HDF5 (truncated or damaged?)");
	}
	return 0;
}

void ionpu_nir_h5_close(struct nir_file *f)
{
	H5Fclose(f->id);
	H5Eset_auto2(H5E_DEFAULT, f->saved_fn, f->saved_data);
}

hid_t ionpu_nir_h5_group(hid_t grp, const char *name)
{
	return H5Gopen2(grp, name, H5P_DEFAULT);
}

void ionpu_nir_h5_group_close(hid_t grp)
{
	H5Gclose(grp);
}
