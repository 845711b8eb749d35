// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcap.h"

#define PCAP_MAGIC		0xa1b2c3d4u
#define PCAP_VERSION_MAJOR	2
#define PCAP_VERSION_MINOR	4
#define LINKTYPE_ETHERNET	1

struct pcap_file_header {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_record_header {
	uint32_t ts_sec;
	uint32_t ts_usec;
	uint32_t caplen;
	uint32_t len;
};

struct pcap_writer {
	FILE *f;
	uint64_t frames;
	uint64_t errors;
};

struct pcap_writer *pcap_open(const char *path, char *err, size_t errlen)
{
	const struct pcap_file_header fh = {
		.magic = PCAP_MAGIC,
		.version_major = PCAP_VERSION_MAJOR,
		.version_minor = PCAP_VERSION_MINOR,
		.snaplen = PCAP_SNAPLEN,
		.linktype = LINKTYPE_ETHERNET,
	};
	struct pcap_writer *p = calloc(1, sizeof(*p));
	int e;

	if (!p) {
		snprintf(err, errlen, "--pcap: out of memory");
		return NULL;
	}
	p->f = fopen(path, "wbe");
	if (!p->f)
		goto fail;
	/* A larger buffer than stdio's default: one write per ~64 KiB. */
	setvbuf(p->f, NULL, _IOFBF, 1 << 16);
	if (fwrite(&fh, sizeof(fh), 1, p->f) != 1 || fflush(p->f))
		goto fail;
	return p;
fail:
	e = errno;
	snprintf(err, errlen, "--pcap %s: %s", path, strerror(e));
	if (p->f)
		fclose(p->f);
	free(p);
	errno = e;
	return NULL;
}

void pcap_frame(struct pcap_writer *p, const struct iovec *iov,
		unsigned iovcnt, size_t len)
{
	struct pcap_record_header rh;
	struct timespec ts;
	size_t left;
	unsigned i;

	if (!p)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	left = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
	rh.ts_sec = (uint32_t)ts.tv_sec;
	rh.ts_usec = (uint32_t)(ts.tv_nsec / 1000);
	rh.caplen = (uint32_t)left;
	rh.len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	if (fwrite(&rh, sizeof(rh), 1, p->f) != 1)
		goto fail;
	for (i = 0; i < iovcnt && left; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

		if (n && fwrite(iov[i].iov_base, n, 1, p->f) != 1)
			goto fail;
		left -= n;
	}
	/* A frame shorter than @len says (a caller bug): pad, keep the
	 * file parseable. */
	while (left--)
		if (fputc(0, p->f) == EOF)
			goto fail;
	p->frames++;
	return;
fail:
	p->errors++;
}

void pcap_flush(struct pcap_writer *p)
{
	if (p)
		fflush(p->f);
}

void pcap_close(struct pcap_writer *p)
{
	if (!p)
		return;
	fclose(p->f);
	free(p);
}

uint64_t pcap_frames(const struct pcap_writer *p)
{
	return p ? p->frames : 0;
}
