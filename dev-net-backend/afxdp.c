// SPDX-License-Identifier: MIT
/*
 * The AF_XDP host path (libxdp): af-xdp:IFACE[,queue=N][,mode=M].
 *
 * One socket on one queue of IFACE, with a UMEM of its own: 4096 frames
 * of 2048 bytes in one anonymous mapping, the lower half owned by receive
 * (always either in the fill ring, in the kernel or in the rx ring: each
 * frame read is put straight back, so the fill ring stays stocked), the
 * upper half by transmit (a free stack, refilled from the completion
 * ring).  Guest buffers are not UMEM, so each frame is copied once: on
 * transmit from the guest's iovecs into a UMEM frame, on receive out of
 * one into them.
 *
 * libxdp attaches its default program (redirect to the socket's queue in
 * an XSKMAP), natively when the driver can, in generic (skb) mode when it
 * cannot, and takes it off again when the last socket on the interface
 * is deleted.  mode=zerocopy binds with XDP_ZEROCOPY, mode=copy with
 * XDP_COPY, and auto with neither, where the kernel tries zero-copy and
 * falls back to copy itself.  What was obtained goes into the path's name.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "host.h"

#define XSK_FRAME_SIZE	2048u
#define XSK_FRAMES	4096u
#define XSK_RX_FRAMES	(XSK_FRAMES / 2)	/* frames [0, RX) */
#define XSK_TX_FRAMES	(XSK_FRAMES - XSK_RX_FRAMES)
/*
 * Each ring holds its half of the frames, so the completion ring can
 * never overflow.  The fill ring can look full, though: the kernel moves
 * its consumer index lazily (only when its cached entries run out), so
 * frames it already took still count as there.  Frames that do not fit
 * wait on a stash and go back at the next call.
 */
#define XSK_RING_SIZE	XSK_RX_FRAMES
/* The kernel keeps XDP_PACKET_HEADROOM in front of a received frame. */
#define XSK_RX_MAX	(XSK_FRAME_SIZE - XDP_PACKET_HEADROOM)
#define ETH_HDR_LEN	14
/* sendto()s per burst while copy mode still has frames in the ring. */
#define XSK_KICK_TRIES	16

enum bind_mode { MODE_AUTO, MODE_COPY, MODE_ZEROCOPY };

struct afxdp {
	struct host_path h;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	void *area;
	bool zerocopy;
	unsigned n_free;		/* transmit frames on tx_free[] */
	uint64_t tx_free[XSK_TX_FRAMES];
	unsigned n_stash;		/* receive frames waiting for the fill ring */
	uint64_t fill_stash[XSK_RX_FRAMES];
};

static struct afxdp *to_afxdp(const struct host_path *h)
{
	return (struct afxdp *)h;
}

/* ---- data path ----------------------------------------------------------- */

/* Transmit frames the kernel is done with go back on the free stack. */
static void afxdp_reap(struct afxdp *x)
{
	uint32_t idx, n, k;

	n = xsk_ring_cons__peek(&x->comp, XSK_RING_SIZE, &idx);
	for (k = 0; k < n; k++)
		x->tx_free[x->n_free++] = *xsk_ring_cons__comp_addr(&x->comp,
								   idx + k);
	if (n)
		xsk_ring_cons__release(&x->comp, n);
}

/*
 * Tells the kernel there is something in the tx ring, when it asks to be
 * told (always in copy mode, where sendto() is what transmits).  0, or
 * -errno when the socket is unusable (the device went away).
 */
static int afxdp_kick(struct afxdp *x)
{
	if (!xsk_ring_prod__needs_wakeup(&x->tx))
		return 0;
	if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return 0;
	switch (errno) {
	case EAGAIN:	/* a batch's worth sent, or the device is busy */
	case EBUSY:
	case ENOBUFS:
	case EINTR:
	case ENETDOWN:	/* kept in the ring until it is up */
		return 0;
	default:
		return -errno;
	}
}

/* Descriptors the kernel has not taken from the tx ring yet. */
static uint32_t afxdp_tx_pending(struct afxdp *x)
{
	return XSK_RING_SIZE - xsk_prod_nb_free(&x->tx, XSK_RING_SIZE);
}

static int afxdp_tx_burst(struct host_path *h, const struct host_frame *f,
			  unsigned n)
{
	struct afxdp *x = to_afxdp(h);
	unsigned i, queued = 0, tries;
	int rc;

	afxdp_reap(x);
	for (i = 0; i < n; i++) {
		struct xdp_desc *d;
		uint32_t idx;
		size_t left = f[i].len;
		char *p;
		unsigned k;

		if (f[i].len < ETH_HDR_LEN || f[i].len > XSK_FRAME_SIZE ||
		    f[i].iovcnt > HOST_MAX_IOV) {
			h->stats.tx_errors++;
			continue;
		}
		if (!x->n_free || !xsk_ring_prod__reserve(&x->tx, 1, &idx)) {
			/* Full: push out what is there, then look again. */
			xsk_ring_prod__submit(&x->tx, queued);
			queued = 0;
			rc = afxdp_kick(x);
			if (rc)
				return i ? (int)i : rc;
			afxdp_reap(x);
			if (!x->n_free || !xsk_ring_prod__reserve(&x->tx, 1, &idx))
				break;
		}
		d = xsk_ring_prod__tx_desc(&x->tx, idx);
		d->addr = x->tx_free[--x->n_free];
		d->len = (uint32_t)f[i].len;
		d->options = 0;
		p = xsk_umem__get_data(x->area, d->addr);
		/* Bounded by len, which was checked against the frame. */
		for (k = 0; k < f[i].iovcnt && left; k++) {
			size_t l = f[i].iov[k].iov_len < left ?
				   f[i].iov[k].iov_len : left;

			memcpy(p, f[i].iov[k].iov_base, l);
			p += l;
			left -= l;
		}
		queued++;
		h->stats.tx_frames++;
		h->stats.tx_bytes += f[i].len;
	}
	xsk_ring_prod__submit(&x->tx, queued);
	/*
	 * In copy mode only sendto() moves frames, a batch at a time, and a
	 * busy device leaves them in the ring; nothing would kick again until
	 * the guest transmits more, so try a few times now.  With zero-copy
	 * the driver drains the ring itself.
	 */
	for (tries = 0; tries < XSK_KICK_TRIES; tries++) {
		if (!afxdp_tx_pending(x))
			break;
		rc = afxdp_kick(x);
		if (rc)
			return i ? (int)i : rc;
		if (x->zerocopy)
			break;
	}
	afxdp_reap(x);
	return (int)i;
}

/* Copies @len bytes from @src into the frame's buffers (they hold them). */
static void scatter(const struct host_frame *f, const char *src, size_t len)
{
	unsigned k;

	for (k = 0; k < f->iovcnt && len; k++) {
		size_t l = f->iov[k].iov_len < len ? f->iov[k].iov_len : len;

		memcpy(f->iov[k].iov_base, src, l);
		src += l;
		len -= l;
	}
}

/* The stash onto the fill ring, as much as it takes now. */
static void afxdp_refill(struct afxdp *x)
{
	uint32_t idx, n;

	if (!x->n_stash)
		return;
	/* reserve() is all or nothing: ask for what is free. */
	n = xsk_prod_nb_free(&x->fill, x->n_stash);
	if (n > x->n_stash)
		n = x->n_stash;
	if (!n || xsk_ring_prod__reserve(&x->fill, n, &idx) != n)
		return;
	for (uint32_t k = 0; k < n; k++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + k) =
			x->fill_stash[x->n_stash - n + k];
	x->n_stash -= n;
	xsk_ring_prod__submit(&x->fill, n);
}

static int afxdp_rx_burst(struct host_path *h, struct host_frame *f,
			  unsigned n)
{
	struct afxdp *x = to_afxdp(h);
	/* Truncated frames leave their slot to the next one; bounded so a
	 * flood of them cannot keep this call from returning. */
	unsigned i, budget = n + HOST_BURST;

	for (i = 0; i < n; i++)
		if (f[i].iovcnt > HOST_MAX_IOV || !f[i].iovcnt)
			return -EINVAL;
	i = 0;
	afxdp_refill(x);
	if (xsk_ring_prod__needs_wakeup(&x->fill))
		recvfrom(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL,
			 NULL);
	while (i < n && budget) {
		uint32_t idx, got, k;

		got = xsk_ring_cons__peek(&x->rx, n - i < budget ? n - i : budget,
					  &idx);
		if (!got)
			break;
		budget -= got;
		for (k = 0; k < got; k++) {
			const struct xdp_desc *d =
				xsk_ring_cons__rx_desc(&x->rx, idx + k);
			uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);
			size_t cap = 0;
			unsigned j;

			/* Back to the fill ring (after this batch is read) at
			 * its chunk's start.  Every receive frame is in the
			 * fill ring, the kernel, the rx ring or the stash: the
			 * stash cannot overflow. */
			x->fill_stash[x->n_stash++] =
				addr & ~(uint64_t)(XSK_FRAME_SIZE - 1);
			for (j = 0; j < f[i].iovcnt; j++)
				cap += f[i].iov[j].iov_len;
			if (d->len < ETH_HDR_LEN) {
				h->stats.rx_errors++;
				continue;
			}
			if (d->len > cap) {
				h->stats.rx_truncated++;
				continue;
			}
			scatter(&f[i], xsk_umem__get_data(x->area, addr),
				d->len);
			f[i].len = d->len;
			h->stats.rx_frames++;
			h->stats.rx_bytes += d->len;
			i++;
		}
		/* The frames are read: only now may the kernel reuse them. */
		xsk_ring_cons__release(&x->rx, got);
		afxdp_refill(x);
	}
	return (int)i;
}

static int afxdp_rx_fd(const struct host_path *h)
{
	return xsk_socket__fd(to_afxdp(h)->xsk);
}

static size_t afxdp_max_frame(const struct host_path *h)
{
	(void)h;
	return XSK_RX_MAX;
}

static void libs_quiet(void);
static void libs_loud(void);

static void afxdp_teardown(struct afxdp *x)
{
	/* The socket first: the UMEM is busy while one uses it. */
	xsk_socket__delete(x->xsk);
	x->xsk = NULL;
	xsk_umem__delete(x->umem);
	x->umem = NULL;
}

static void afxdp_close(struct host_path *h)
{
	struct afxdp *x = to_afxdp(h);

	/* libxdp says "No bpffs found" on the way, to nobody's benefit. */
	libs_quiet();
	afxdp_teardown(x);
	libs_loud();
	if (x->area)
		munmap(x->area, (size_t)XSK_FRAMES * XSK_FRAME_SIZE);
	free(x);
}

static const struct host_ops afxdp_ops = {
	.kind = "af-xdp",
	.tx_burst = afxdp_tx_burst,
	.rx_burst = afxdp_rx_burst,
	.rx_fd = afxdp_rx_fd,
	.max_frame = afxdp_max_frame,
	.close = afxdp_close,
};

/* ---- set-up ------------------------------------------------------------ */

struct afxdp_args {
	char ifname[IFNAMSIZ];
	unsigned queue;
	enum bind_mode mode;
};

/* Strict: IFACE, then each option at most once, nothing else. */
static int parse_args(const char *args, struct afxdp_args *a, char *err,
		      size_t errlen)
{
	const char *p = strchr(args, ',');
	size_t len = p ? (size_t)(p - args) : strlen(args);
	bool have_queue = false, have_mode = false;

	memset(a, 0, sizeof(*a));
	if (!len || len >= IFNAMSIZ || memchr(args, '/', len) ||
	    memchr(args, ' ', len) || memchr(args, '=', len)) {
		snprintf(err, errlen,
			 "af-xdp: bad interface name '%.*s' (expected af-xdp:IFACE[,queue=N][,mode=auto|copy|zerocopy])",
			 (int)len, args);
		return -EINVAL;
	}
	memcpy(a->ifname, args, len);
	while (p) {
		const char *opt = p + 1;
		size_t olen;

		p = strchr(opt, ',');
		olen = p ? (size_t)(p - opt) : strlen(opt);
		if (olen > 6 && !strncmp(opt, "queue=", 6) && !have_queue) {
			unsigned long v = 0;
			size_t k;

			for (k = 6; k < olen; k++) {
				if (opt[k] < '0' || opt[k] > '9' || v > 65535)
					break;
				v = v * 10 + (unsigned)(opt[k] - '0');
			}
			if (k < olen || v > 65535) {
				snprintf(err, errlen,
					 "af-xdp:%s: bad queue '%.*s' (expected a number 0..65535)",
					 a->ifname, (int)(olen - 6), opt + 6);
				return -EINVAL;
			}
			a->queue = (unsigned)v;
			have_queue = true;
		} else if (olen > 5 && !strncmp(opt, "mode=", 5) && !have_mode) {
			const char *m = opt + 5;
			size_t mlen = olen - 5;

			if (mlen == 4 && !strncmp(m, "auto", 4))
				a->mode = MODE_AUTO;
			else if (mlen == 4 && !strncmp(m, "copy", 4))
				a->mode = MODE_COPY;
			else if (mlen == 8 && !strncmp(m, "zerocopy", 8))
				a->mode = MODE_ZEROCOPY;
			else {
				snprintf(err, errlen,
					 "af-xdp:%s: bad mode '%.*s' (expected auto, copy or zerocopy)",
					 a->ifname, (int)mlen, m);
				return -EINVAL;
			}
			have_mode = true;
		} else {
			snprintf(err, errlen,
				 "af-xdp:%s: bad or repeated option '%.*s' (expected queue=N, mode=auto|copy|zerocopy)",
				 a->ifname, (int)olen, opt);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The queues bind() accepts: those the device has both for receive and
 * transmit, counted in sysfs.  -1 when sysfs does not say (not mounted,
 * or another network namespace's).
 */
static int count_queues(const char *ifname)
{
	char path[64 + IFNAMSIZ];
	unsigned rx = 0, tx = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "rx-", 3))
			rx++;
		else if (!strncmp(e->d_name, "tx-", 3))
			tx++;
	}
	closedir(d);
	return (int)(rx < tx ? rx : tx);
}

/* libxdp's and libbpf's own messages: the last one, for our error line. */
static char lib_msg[160];

__attribute__((format(printf, 1, 0)))
static void keep_msg(const char *fmt, va_list ap)
{
	char *nl;

	vsnprintf(lib_msg, sizeof(lib_msg), fmt, ap);
	nl = strchr(lib_msg, '\n');
	if (nl)
		*nl = '\0';
}

static int xdp_print(enum libxdp_print_level level, const char *fmt,
		     va_list ap)
{
	if (level == LIBXDP_WARN)
		keep_msg(fmt, ap);
	return 0;
}

static int bpf_print(enum libbpf_print_level level, const char *fmt,
		     va_list ap)
{
	if (level == LIBBPF_WARN)
		keep_msg(fmt, ap);
	return 0;
}

static libxdp_print_fn_t old_xdp_print;
static libbpf_print_fn_t old_bpf_print;

/* Their messages would be lines of their own: kept for ours. */
static void libs_quiet(void)
{
	lib_msg[0] = '\0';
	old_xdp_print = libxdp_set_print(xdp_print);
	old_bpf_print = libbpf_set_print(bpf_print);
}

static void libs_loud(void)
{
	libxdp_set_print(old_xdp_print);
	libbpf_set_print(old_bpf_print);
}

/* The UMEM on x->area, its fill ring stocked with every receive frame. */
static int umem_create(struct afxdp *x)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = XSK_RING_SIZE,
		.comp_size = XSK_RING_SIZE,
		.frame_size = XSK_FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	uint32_t idx, k;
	int rc;

	/* libxdp sets only some of a ring's fields: a retry's must not
	 * start from the last attempt's. */
	memset(&x->fill, 0, sizeof(x->fill));
	memset(&x->comp, 0, sizeof(x->comp));
	memset(&x->rx, 0, sizeof(x->rx));
	memset(&x->tx, 0, sizeof(x->tx));
	rc = xsk_umem__create(&x->umem, x->area,
			      (uint64_t)XSK_FRAMES * XSK_FRAME_SIZE, &x->fill,
			      &x->comp, &ucfg);
	if (rc) {
		x->umem = NULL;
		return rc;
	}
	if (xsk_ring_prod__reserve(&x->fill, XSK_RX_FRAMES, &idx) !=
	    XSK_RX_FRAMES)
		return -EIO;
	for (k = 0; k < XSK_RX_FRAMES; k++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + k) =
			(uint64_t)k * XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fill, XSK_RX_FRAMES);
	x->n_free = XSK_TX_FRAMES;
	for (k = 0; k < XSK_TX_FRAMES; k++)
		x->tx_free[k] = (uint64_t)(XSK_RX_FRAMES + k) * XSK_FRAME_SIZE;
	return 0;
}

/* UMEM and socket, with XDP attached in @xdp_flags' mode.  0 or -errno. */
static int socket_create(struct afxdp *x, const struct afxdp_args *a,
			 uint32_t xdp_flags)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_SIZE,
		.tx_size = XSK_RING_SIZE,
		.xdp_flags = xdp_flags,
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	int rc;

	if (a->mode == MODE_COPY)
		cfg.bind_flags |= XDP_COPY;
	else if (a->mode == MODE_ZEROCOPY)
		cfg.bind_flags |= XDP_ZEROCOPY;
	rc = umem_create(x);
	if (!rc)
		rc = xsk_socket__create(&x->xsk, a->ifname, a->queue, x->umem,
					&x->rx, &x->tx, &cfg);
	if (rc) {
		x->xsk = NULL;
		afxdp_teardown(x);
	}
	return rc;
}

/* One line on why the socket could not be had. */
static void explain(int rc, const struct afxdp_args *a, int nq, char *err,
		    size_t errlen)
{
	const char *i = a->ifname;

	switch (-rc) {
	case EAFNOSUPPORT:
		snprintf(err, errlen,
			 "af-xdp:%s: this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)",
			 i);
		break;
	case EPERM:
	case EACCES:
		snprintf(err, errlen,
			 "af-xdp:%s: %s (needs root, or CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF and CAP_IPC_LOCK)",
			 i, strerror(-rc));
		break;
	case ENODEV:
	case ENXIO:
		snprintf(err, errlen, "af-xdp:%s: no such interface", i);
		break;
	case EBUSY:
		snprintf(err, errlen,
			 "af-xdp:%s: queue %u is in use (another AF_XDP socket bound to it?)",
			 i, a->queue);
		break;
	case EOPNOTSUPP:
		if (a->mode == MODE_ZEROCOPY) {
			snprintf(err, errlen,
				 "af-xdp:%s: the driver has no zero-copy AF_XDP (mode=zerocopy); mode=copy or auto works",
				 i);
			break;
		}
		/* fall through */
	case EINVAL:
		if (nq < 0 && -rc == EINVAL) {
			snprintf(err, errlen,
				 "af-xdp:%s: queue %u: %s (out of range?)", i,
				 a->queue, strerror(-rc));
			break;
		}
		/* fall through */
	default:
		snprintf(err, errlen, "af-xdp:%s,queue=%u: %s%s%s%s", i,
			 a->queue, strerror(-rc), lib_msg[0] ? " (" : "",
			 lib_msg, lib_msg[0] ? ")" : "");
		break;
	}
}

/* How XDP is attached to @ifindex: "native", "generic" or "unknown". */
static const char *xdp_attach_mode(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return "unknown";
	if (q.attach_mode == XDP_ATTACHED_DRV ||
	    (q.attach_mode == XDP_ATTACHED_MULTI && q.drv_prog_id))
		return "native";
	if (q.attach_mode == XDP_ATTACHED_SKB)
		return "generic";
	if (q.attach_mode == XDP_ATTACHED_HW)
		return "offloaded";
	return "unknown";
}

int afxdp_open(const char *args, struct host_path **out, char *err,
	       size_t errlen)
{
	struct xdp_options opts = { 0 };
	socklen_t optlen = sizeof(opts);
	struct afxdp_args a;
	struct afxdp *x;
	int rc, ifindex, nq, tries;

	rc = parse_args(args, &a, err, errlen);
	if (rc)
		return rc;
	ifindex = (int)if_nametoindex(a.ifname);
	if (!ifindex) {
		snprintf(err, errlen, "af-xdp:%s: no such interface", a.ifname);
		return -ENODEV;
	}
	nq = count_queues(a.ifname);
	if (nq >= 0 && a.queue >= (unsigned)nq) {
		snprintf(err, errlen,
			 "af-xdp:%s: queue %u out of range (it has %d queue%s)",
			 a.ifname, a.queue, nq, nq == 1 ? "" : "s");
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "af-xdp: out of memory");
		return -ENOMEM;
	}
	x->h.ops = &afxdp_ops;
	x->area = mmap(NULL, (size_t)XSK_FRAMES * XSK_FRAME_SIZE,
		       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		rc = -errno;
		snprintf(err, errlen, "af-xdp:%s: UMEM: %s", a.ifname,
			 strerror(errno));
		goto fail;
	}

	libs_quiet();
	rc = socket_create(x, &a, XDP_FLAGS_DRV_MODE);
	if (rc == -EOPNOTSUPP && a.mode != MODE_ZEROCOPY) {
		/*
		 * No native XDP in the driver: the generic hook then.  The
		 * socket just closed was bound, and the kernel lets go of the
		 * queue in deferred work: EBUSY for a moment.
		 */
		for (tries = 0; tries < 50; tries++) {
			lib_msg[0] = '\0';
			rc = socket_create(x, &a, XDP_FLAGS_SKB_MODE);
			if (rc != -EBUSY)
				break;
			usleep(20 * 1000);
		}
	}
	libs_loud();
	if (rc) {
		explain(rc, &a, nq, err, errlen);
		goto fail;
	}

	if (getsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_OPTIONS, &opts,
		       &optlen) < 0) {
		rc = -errno;
		snprintf(err, errlen, "af-xdp:%s: XDP_OPTIONS: %s", a.ifname,
			 strerror(errno));
		goto fail;
	}
	x->zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	snprintf(x->h.name, sizeof(x->h.name), "af-xdp:%s,queue=%u (%s, %s XDP)",
		 a.ifname, a.queue, x->zerocopy ? "zero-copy" : "copy mode",
		 xdp_attach_mode(ifindex));
	*out = &x->h;
	return 0;
fail:
	afxdp_close(&x->h);
	return rc;
}
