// SPDX-License-Identifier: MIT
/*
 * Command line: space-separated "key=value" or bare "flag" tokens, e.g.
 * "test=irq count=100". Copied once at start, so that later scenarios may
 * reuse the memory the loader put it in (e.g. the AP trampoline page).
 */
#include "guest.h"

#define CMDLINE_MAX	1024
#define MAX_TOKENS	64

static char raw[CMDLINE_MAX];
static char split[CMDLINE_MAX];
static const char *tokens[MAX_TOKENS];
static unsigned int ntokens;

void cmdline_init(const char *s)
{
	size_t n = s ? strnlen(s, CMDLINE_MAX - 1) : 0;

	memcpy(raw, s ? s : "", n);
	raw[n] = '\0';
	memcpy(split, raw, n + 1);
	ntokens = 0;
	for (char *p = split; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			*p++ = '\0';
		if (!*p || ntokens == MAX_TOKENS)
			break;
		tokens[ntokens++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
	}
}

const char *cmdline(void)
{
	return raw;
}

/* The last occurrence wins, as on Linux. */
const char *param(const char *key)
{
	size_t klen = strlen(key);
	const char *found = NULL;

	for (unsigned int i = 0; i < ntokens; i++) {
		const char *t = tokens[i];

		if (strncmp(t, key, klen))
			continue;
		if (t[klen] == '=')
			found = t + klen + 1;
		else if (!t[klen])
			found = "";
	}
	return found;
}

uint64_t param_u64(const char *key, uint64_t def)
{
	const char *v = param(key);
	uint64_t n;

	if (!v)
		return def;
	if (!parse_u64(v, &n))
		fail(EXIT_USAGE, "parameter %s=%s is not a number", key, v);
	return n;
}
