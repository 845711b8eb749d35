/* SPDX-License-Identifier: MIT */
/*
 * The host path: where dev-net-backend's frames go and come from.  One
 * small interface, chosen with --host: tap:NAME (the default),
 * af-xdp:IFACE[,queue=N] (libxdp) and dpdk:<EAL args> (ethdev).
 *
 * A frame is a scatter list of plain Ethernet bytes (no virtio-net
 * header: a path that wants one, as TAP with IFF_VNET_HDR does, adds its
 * own).  The iovecs point straight into guest RAM, so a path that can
 * move bytes from and to arbitrary user memory (TAP's readv/writev) makes
 * no copy at all; one that owns its buffers (AF_XDP's UMEM, DPDK's mbufs)
 * copies once, there.  (With --tx-copy on, transmit iovecs point at the
 * back-end's own copy instead: that measures what zero copy saves.)
 */
#ifndef NETBACKEND_HOST_H
#define NETBACKEND_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* The most buffers one frame may span (a descriptor chain's limit). */
#define HOST_MAX_IOV	64
/* Frames per burst call. */
#define HOST_BURST	32

struct host_frame {
	struct iovec *iov;
	unsigned iovcnt;
	/* tx: the frame's length (sum of iov); rx: set to the bytes received */
	size_t len;
};

struct host_stats {
	uint64_t tx_frames, tx_bytes, tx_errors;
	uint64_t rx_frames, rx_bytes, rx_errors;
	uint64_t rx_truncated;	/* longer than the buffers offered: dropped */
};

struct host_path;

struct host_ops {
	const char *kind;	/* "tap", ... */
	/*
	 * Sends up to @n frames; returns how many the path took (sent or
	 * dropped and counted in tx_errors), fewer only when it would
	 * block, or -errno when the path is broken.
	 */
	int (*tx_burst)(struct host_path *h, const struct host_frame *f,
			unsigned n);
	/*
	 * Receives up to @n frames into the buffers of @f[0..n); sets each
	 * filled frame's len and returns how many were filled (0 when
	 * nothing is waiting), or -errno when the path is broken.  A frame
	 * that does not fit its buffers is dropped (rx_truncated) and
	 * leaves its slot to the next one.
	 */
	int (*rx_burst)(struct host_path *h, struct host_frame *f,
			unsigned n);
	/* Readable when rx_burst has something (poll(2) POLLIN). */
	int (*rx_fd)(const struct host_path *h);
	/* Longest frame rx may deliver, so the caller sizes its buffers. */
	size_t (*max_frame)(const struct host_path *h);
	void (*close)(struct host_path *h);
};

struct host_path {
	const struct host_ops *ops;
	struct host_stats stats;
	char name[64];		/* what the user named, for messages */
};

/*
 * Opens the host path @spec names ("tap:NAME", "af-xdp:...", "dpdk:...").
 * 0 and *@out, or -errno with one line in @err.
 */
int host_open(const char *spec, struct host_path **out, char *err,
	      size_t errlen);

static inline void host_close(struct host_path *h)
{
	if (h)
		h->ops->close(h);
}

/* The TAP path (tap.c): creates the TAP NAME or attaches to it. */
int tap_open(const char *ifname, struct host_path **out, char *err,
	     size_t errlen);

/*
 * The AF_XDP path (afxdp.c, built with libxdp): IFACE[,queue=N][,mode=..]
 * after "af-xdp:"; the socket's bind mode (zero-copy or copy) is
 * reported in the path's name.
 */
int afxdp_open(const char *args, struct host_path **out, char *err,
	       size_t errlen);

/*
 * The DPDK path (dpdk.c, built with libdpdk): the EAL arguments after
 * "dpdk:", split at blanks; the first ethdev port the EAL probes is used.
 * Poll mode: rx_fd returns -1 and the caller polls.
 */
int dpdk_open(const char *args, struct host_path **out, char *err,
	      size_t errlen);

#endif
