/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the tools' JSON documents share: strings escaped so that the
 * document stays valid whatever bytes a card reports.
 */
#ifndef IONPU_TOOLS_JSON_H
#define IONPU_TOOLS_JSON_H

#include <stdio.h>

/*
 * A JSON string.  Bytes past ASCII are escaped one by one as if Latin-1:
 * sysfs gives bytes, and a byte that is not UTF-8 must not make the
 * document invalid.
 */
static inline void json_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

#endif /* IONPU_TOOLS_JSON_H */
