/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A strict JSON syntax check (RFC 8259) for the selftests that read the
 * tools' JSON in the VM, where there is no Python: the whole text must be
 * one value, with nothing but white space after it.
 */
#ifndef IONPU_JSON_CHECK_H
#define IONPU_JSON_CHECK_H

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Nesting deeper than this is refused rather than recursed into. */
#define JSON_CHECK_MAX_DEPTH	64

static const char *json_check_value(const char *p, int depth);

static const char *json_check_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *json_check_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u') {
			for (int k = 1; k <= 4; k++)
				if (!isxdigit((unsigned char)p[k]))
					return NULL;
			p += 4;
		} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
			return NULL;
		}
	}
	return p + 1;
}

static const char *json_check_digits(const char *p)
{
	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p))
		p++;
	return p;
}

static const char *json_check_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (!(p = json_check_digits(p)))
		return NULL;
	if (*p == '.' && !(p = json_check_digits(p + 1)))
		return NULL;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		p = json_check_digits(p);
	}
	return p;
}

/* An object or array whose members json_check_value() and keys check. */
static const char *json_check_members(const char *p, char close, int depth)
{
	p = json_check_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			p = json_check_string(json_check_ws(p));
			if (!p)
				return NULL;
			p = json_check_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = json_check_value(p, depth + 1);
		if (!p)
			return NULL;
		p = json_check_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *json_check_value(const char *p, int depth)
{
	if (depth > JSON_CHECK_MAX_DEPTH)
		return NULL;
	p = json_check_ws(p);
	switch (*p) {
	case '{':
		return json_check_members(p, '}', depth);
	case '[':
		return json_check_members(p, ']', depth);
	case '"':
		return json_check_string(p);
	case 't':
		return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f':
		return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n':
		return strncmp(p, "null", 4) ? NULL : p + 4;
	default:
		return json_check_number(p);
	}
}

/* Whether @text is one JSON value and nothing else. */
static inline bool json_check(const char *text)
{
	const char *end = json_check_value(text, 0);

	return end && !*json_check_ws(end);
}

#endif /* IONPU_JSON_CHECK_H */
