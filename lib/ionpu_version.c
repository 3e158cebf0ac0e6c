// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ionpu_internal.h"

#define IONPU_STR_(x) #x
#define IONPU_STR(x) IONPU_STR_(x)

IONPU_API const char *ionpu_version(void)
{
	return IONPU_STR(IONPU_LIB_VERSION_MAJOR) "." IONPU_STR(
		IONPU_LIB_VERSION_MINOR) "." IONPU_STR(IONPU_LIB_VERSION_PATCH);
}
