// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhdf5 keeps process-wide state (its open-object tables, free lists and,
 * unless built thread-safe, one error stack and one error-printing hook that
 * the NIR code silences and restores).  A libhdf5 configured without
 * --enable-threadsafe, upstream's default, breaks when two threads call it
 * at once, and libionpu may be linked against such a build.  The header
 * promises that separate threads may use separate handles, so libionpu's
 * NIR calls take this lock, the library's one piece of process-wide state:
 * it guards state that is process-wide already.  Debian's libhdf5 1.10 is
 * built thread-safe, which makes the lock redundant there but not wrong.
 */
#include <pthread.h>

#include "ionpu_h5_lock.h"

static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

void ionpu_h5_lock(void)
{
	pthread_mutex_lock(&h5_lock);
}

void ionpu_h5_unlock(void)
{
	pthread_mutex_unlock(&h5_lock);
}
