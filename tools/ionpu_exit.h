/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The exit status every ionpu tool ends with, so that a script tells a bad
 * command line from a missing card or a busy one the same way whichever tool
 * it ran (docs/tools.md lists them for users).
 */
#ifndef IONPU_TOOLS_EXIT_H
#define IONPU_TOOLS_EXIT_H

#include <errno.h>

enum ionpu_exit {
	IONPU_EXIT_OK = 0,
	IONPU_EXIT_ERROR = 1, /* a runtime error: a file, the card, memory */
	IONPU_EXIT_USAGE =
		2, /* the command line is wrong or contradicts itself */
	IONPU_EXIT_NO_CARD =
		3, /* no card, no driver, no access or no privilege */
	IONPU_EXIT_BUSY =
		4, /* the tiles asked for are leased by another file */
	IONPU_EXIT_NO_FIT = 5, /* the network does not fit the card */
};

/* The exit status of a libionpu error @err that ended a tool's work. */
static inline enum ionpu_exit ionpu_exit_of(int err)
{
	switch (err) {
	case 0:
		return IONPU_EXIT_OK;
	case -ENODEV:
	case -ENOENT:
	case -ENXIO:
	case -EACCES:
	case -EPERM:
		return IONPU_EXIT_NO_CARD;
	case -EBUSY:
		return IONPU_EXIT_BUSY;
	default:
		return IONPU_EXIT_ERROR;
	}
}

#endif /* IONPU_TOOLS_EXIT_H */
