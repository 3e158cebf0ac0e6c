/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one lock around libionpu's use of libhdf5 (lib/ionpu_h5_lock.c):
 * ionpu_nir_load() and ionpu_nir_save() hold it from their first libhdf5
 * call to their last.
 */
#ifndef IONPU_H5_LOCK_H
#define IONPU_H5_LOCK_H

void ionpu_h5_lock(void);
void ionpu_h5_unlock(void);

#endif /* IONPU_H5_LOCK_H */
