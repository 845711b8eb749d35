/* SPDX-License-Identifier: MIT */
/*
 * --pcap FILE: every frame that crosses the backend, both directions, in
 * the classic libpcap format (magic 0xa1b2c3d4, version 2.4, LINKTYPE_ETHERNET,
 * microsecond timestamps), written through a stdio buffer and flushed when
 * the backend goes idle.
 */
#ifndef NETBACKEND_PCAP_H
#define NETBACKEND_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define PCAP_SNAPLEN	65535u

struct pcap_writer;

/* Creates (truncates) @path; NULL with errno and one line in @err. */
struct pcap_writer *pcap_open(const char *path, char *err, size_t errlen);
/* Records one frame of @len bytes held in @iov (at most PCAP_SNAPLEN kept). */
void pcap_frame(struct pcap_writer *p, const struct iovec *iov,
		unsigned iovcnt, size_t len);
void pcap_flush(struct pcap_writer *p);
void pcap_close(struct pcap_writer *p);
/* Frames recorded, and frames lost to a write error. */
uint64_t pcap_frames(const struct pcap_writer *p);

#endif
