// SPDX-License-Identifier: MIT
/*
 * The TAP host path: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, header size 12
 * (struct virtio_net_hdr_mrg_rxbuf), no offloads.  A frame is one readv or
 * writev whose iovecs are this path's own 12-byte header followed by the
 * caller's buffers, which point into guest RAM: the kernel copies straight
 * from and into the guest's buffers and nothing else is copied.
 *
 * NAME is created when it does not exist and attached to when it does (a
 * persistent TAP from `ip tuntap add mode tap`); either way it is brought
 * up.  The header travels zeroed on transmit (no checksum or GSO offload is
 * negotiated with the kernel, TUNSETOFFLOAD 0) and is ignored on receive,
 * where the kernel has already completed checksums and segmented.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host.h"

#define TAP_HDR_LEN	sizeof(struct virtio_net_hdr_mrg_rxbuf)
#define ETH_HDR_LEN	14
#define VLAN_TAG_LEN	4

struct tap {
	struct host_path h;
	int fd;
	int ctl;		/* AF_INET socket for interface ioctls */
	unsigned mtu;
	char ifname[IFNAMSIZ];
};

static struct tap *to_tap(const struct host_path *h)
{
	return (struct tap *)h;
}

/* Reads the MTU again (it may change under us: `ip link set mtu`). */
static int tap_read_mtu(struct tap *t)
{
	struct ifreq ifr = { 0 };

	memcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	if (ioctl(t->ctl, SIOCGIFMTU, &ifr) < 0)
		return -errno;
	t->mtu = ifr.ifr_mtu > 0 ? (unsigned)ifr.ifr_mtu : 1500;
	return 0;
}

/* Brings the interface up and reads its MTU. */
static int tap_up(struct tap *t, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int rc;

	t->ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (t->ctl < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return rc;
	}
	memcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	if (ioctl(t->ctl, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(t->ctl, SIOCSIFFLAGS, &ifr) < 0)
			goto fail;
	}
	if (tap_read_mtu(t))
		goto fail;
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "tap %s: bringing it up: %s", t->ifname,
		 strerror(errno));
	return rc;
}

static int tap_tx_burst(struct host_path *h, const struct host_frame *f,
			unsigned n)
{
	static const struct virtio_net_hdr_mrg_rxbuf zero_hdr;
	struct tap *t = to_tap(h);
	struct iovec iov[HOST_MAX_IOV + 1];
	unsigned i;

	iov[0].iov_base = (void *)&zero_hdr;
	iov[0].iov_len = TAP_HDR_LEN;
	for (i = 0; i < n; i++) {
		ssize_t w;

		if (f[i].iovcnt > HOST_MAX_IOV) {
			h->stats.tx_errors++;
			continue;
		}
		memcpy(&iov[1], f[i].iov, f[i].iovcnt * sizeof(iov[0]));
		w = writev(t->fd, iov, (int)f[i].iovcnt + 1);
		if (w < 0) {
			if (errno == EINTR) {
				i--;
				continue;
			}
			if (errno == EAGAIN)
				break;
			if (errno == EBADFD || errno == EBADF)
				return i ? (int)i : -errno;
			h->stats.tx_errors++;	/* EINVAL, EIO: this frame */
			continue;
		}
		h->stats.tx_frames++;
		h->stats.tx_bytes += f[i].len;
	}
	return (int)i;
}

static int tap_rx_burst(struct host_path *h, struct host_frame *f,
			unsigned n)
{
	struct tap *t = to_tap(h);
	struct virtio_net_hdr_mrg_rxbuf hdr;
	struct iovec iov[HOST_MAX_IOV + 1];
	unsigned i = 0, tries = 0;

	iov[0].iov_base = &hdr;
	iov[0].iov_len = TAP_HDR_LEN;
	/* Truncated frames reuse their slot; bounded so a flood of them
	 * cannot keep this call from returning. */
	while (i < n && tries++ < n + HOST_BURST) {
		size_t cap = 0;
		ssize_t r;
		unsigned k;

		if (f[i].iovcnt > HOST_MAX_IOV || !f[i].iovcnt)
			return -EINVAL;
		for (k = 0; k < f[i].iovcnt; k++)
			cap += f[i].iov[k].iov_len;
		memcpy(&iov[1], f[i].iov, f[i].iovcnt * sizeof(iov[0]));
		r = readv(t->fd, iov, (int)f[i].iovcnt + 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno == EBADFD || errno == EBADF)
				return i ? (int)i : -errno;
			h->stats.rx_errors++;
			continue;
		}
		if ((size_t)r < TAP_HDR_LEN + ETH_HDR_LEN) {
			h->stats.rx_errors++;
			continue;
		}
		/* tun reports the whole frame's length even when it copied
		 * only what fitted. */
		if ((size_t)r - TAP_HDR_LEN > cap) {
			h->stats.rx_truncated++;
			tap_read_mtu(t);	/* the caller sizes by it */
			continue;
		}
		f[i].len = (size_t)r - TAP_HDR_LEN;
		h->stats.rx_frames++;
		h->stats.rx_bytes += f[i].len;
		i++;
	}
	return (int)i;
}

static int tap_rx_fd(const struct host_path *h)
{
	return to_tap(h)->fd;
}

static size_t tap_max_frame(const struct host_path *h)
{
	return to_tap(h)->mtu + ETH_HDR_LEN + VLAN_TAG_LEN;
}

static void tap_close(struct host_path *h)
{
	struct tap *t = to_tap(h);

	if (t->fd >= 0)
		close(t->fd);
	if (t->ctl >= 0)
		close(t->ctl);
	free(t);
}

static const struct host_ops tap_ops = {
	.kind = "tap",
	.tx_burst = tap_tx_burst,
	.rx_burst = tap_rx_burst,
	.rx_fd = tap_rx_fd,
	.max_frame = tap_max_frame,
	.close = tap_close,
};

int tap_open(const char *ifname, struct host_path **out, char *err,
	     size_t errlen)
{
	struct ifreq ifr = { 0 };
	int hdr_len = TAP_HDR_LEN;
	struct tap *t;
	int rc;

	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/')) {
		snprintf(err, errlen, "tap: bad interface name '%s'", ifname);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "tap: out of memory");
		return -ENOMEM;
	}
	t->h.ops = &tap_ops;
	t->ctl = -1;
	snprintf(t->h.name, sizeof(t->h.name), "tap:%s", ifname);
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "tap: /dev/net/tun: %s", strerror(errno));
		goto fail;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "tap %s: TUNSETIFF: %s%s", ifname,
			 strerror(errno), errno == EINVAL ?
			 " (an existing device that is not a single-queue TAP?)"
			 : errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
		goto fail;
	}
	/* The kernel may have picked the name (a pattern like "tap%d"). */
	memcpy(t->ifname, ifr.ifr_name, sizeof(t->ifname));
	t->ifname[IFNAMSIZ - 1] = '\0';
	snprintf(t->h.name, sizeof(t->h.name), "tap:%s", t->ifname);
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_len) < 0 ||
	    ioctl(t->fd, TUNSETOFFLOAD, 0UL) < 0) {
		rc = -errno;
		snprintf(err, errlen, "tap %s: vnet header set-up: %s", ifname,
			 strerror(errno));
		goto fail;
	}
	rc = tap_up(t, err, errlen);
	if (rc)
		goto fail;
	*out = &t->h;
	return 0;
fail:
	tap_close(&t->h);
	return rc;
}
