// SPDX-License-Identifier: MIT
/*
 * The DPDK host path: "dpdk:<EAL args>", the first ethdev port the EAL
 * probes (a vdev such as net_tap or net_af_packet, or a PCI NIC bound to
 * vfio-pci), one RX and one TX queue, promiscuous.
 *
 * Frames are copied once, between the guest's buffers and mbufs: the PMD
 * owns its buffers, so they cannot point into guest RAM.  Transmit chains
 * 2 KiB mbufs when the PMD takes multi-segment packets and otherwise uses
 * mbufs big enough for a jumbo frame (JUMBO_FRAME).  Both directions are
 * bounded by the port's MTU (the ethdev default, 1500) plus Ethernet
 * header and VLAN tag: PMDs drop longer frames, and a bigger receive limit
 * would make the back-end gather several guest buffers for every frame.
 *
 * Poll mode: there is no fd to wait on, so rx_fd is -1 and vb_poll looks
 * at the port every turn (at least every millisecond).  The EAL pins the
 * calling thread to its main lcore (-l/--lcores decide which CPU).
 *
 * The EAL can be initialised once per process (rte_eal_init refuses a
 * second call, also after rte_eal_cleanup), hence one DPDK path at most.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "host.h"

#define DPDK_MAX_ARGS	64
#define ETH_HDR_LEN	14
#define VLAN_TAG_LEN	4
#define JUMBO_FRAME	(9000 + ETH_HDR_LEN + VLAN_TAG_LEN)
#define NB_RXD		1024
#define NB_TXD		1024
#define POOL_CACHE	64
/* rte_eth_tx_burst calls per burst while the PMD keeps taking some. */
#define TX_TRIES	4

struct dpdk {
	struct host_path h;
	uint16_t port;
	bool started;
	struct rte_mempool *pool;
	size_t tx_max;		/* longest frame tx_burst sends */
	size_t rx_max;		/* longest frame the port receives */
};

/* The EAL keeps pointers into its argv (devargs, prefixes): kept here. */
static char eal_args[4096];
static char *eal_argv[DPDK_MAX_ARGS + 2];
static bool eal_used;

static struct dpdk *to_dpdk(const struct host_path *h)
{
	return (struct dpdk *)h;
}

/* Copies @f (its iovecs point into guest RAM) into an mbuf chain. */
static struct rte_mbuf *frame_to_mbuf(struct dpdk *d,
				      const struct host_frame *f)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(d->pool), *seg = head;
	unsigned k;

	if (!head)
		return NULL;
	for (k = 0; k < f->iovcnt; k++) {
		const uint8_t *src = f->iov[k].iov_base;
		size_t left = f->iov[k].iov_len;

		while (left) {
			size_t room = rte_pktmbuf_tailroom(seg), c;

			if (!room) {
				struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool);

				if (!m) {
					rte_pktmbuf_free(head);
					return NULL;
				}
				seg->next = m;
				seg = m;
				head->nb_segs++;
				room = rte_pktmbuf_tailroom(seg);
			}
			c = left < room ? left : room;
			memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *,
						       seg->data_len), src, c);
			seg->data_len = (uint16_t)(seg->data_len + c);
			head->pkt_len += (uint32_t)c;
			src += c;
			left -= c;
		}
	}
	return head;
}

static int dpdk_tx_burst(struct host_path *h, const struct host_frame *f,
			 unsigned n)
{
	struct dpdk *d = to_dpdk(h);
	struct rte_mbuf *m[HOST_BURST];
	size_t len[HOST_BURST];
	uint16_t nb = 0, sent = 0, tries = 0;
	unsigned i;

	if (n > HOST_BURST)
		n = HOST_BURST;
	for (i = 0; i < n; i++) {
		if (f[i].len > d->tx_max ||
		    !(m[nb] = frame_to_mbuf(d, &f[i]))) {
			h->stats.tx_errors++;	/* too long, or no mbufs */
			continue;
		}
		len[nb++] = f[i].len;
	}
	/* A PMD whose ring is full takes fewer: retried while it makes
	 * progress, then the rest is dropped (there is nothing to wait on). */
	while (sent < nb && tries++ < TX_TRIES) {
		uint16_t k = rte_eth_tx_burst(d->port, 0, m + sent, nb - sent);

		if (!k)
			break;
		sent = (uint16_t)(sent + k);
	}
	for (i = 0; i < sent; i++) {
		h->stats.tx_frames++;
		h->stats.tx_bytes += len[i];
	}
	for (i = sent; i < nb; i++) {
		rte_pktmbuf_free(m[i]);
		h->stats.tx_errors++;
	}
	return (int)n;
}

/* Copies @m's segments into @f's buffers; false when they are too small. */
static bool mbuf_to_frame(const struct rte_mbuf *m, struct host_frame *f)
{
	size_t cap = 0, off = 0;
	unsigned k = 0;

	for (unsigned j = 0; j < f->iovcnt; j++)
		cap += f->iov[j].iov_len;
	if (m->pkt_len > cap)
		return false;
	for (; m; m = m->next) {
		const uint8_t *src = rte_pktmbuf_mtod(m, const uint8_t *);
		size_t left = m->data_len;

		while (left) {
			size_t room = f->iov[k].iov_len - off;
			size_t c = left < room ? left : room;

			memcpy((uint8_t *)f->iov[k].iov_base + off, src, c);
			src += c;
			left -= c;
			off += c;
			if (off == f->iov[k].iov_len) {
				k++;
				off = 0;
			}
		}
	}
	return true;
}

static int dpdk_rx_burst(struct host_path *h, struct host_frame *f,
			 unsigned n)
{
	struct dpdk *d = to_dpdk(h);
	struct rte_mbuf *m[HOST_BURST];
	unsigned i = 0, tries = 0;

	if (n > HOST_BURST)
		n = HOST_BURST;
	/* Dropped frames leave their slot to the next; bounded, so a flood
	 * of them cannot keep this call from returning. */
	while (i < n && tries++ < 2) {
		uint16_t want = (uint16_t)(n - i);
		uint16_t k = rte_eth_rx_burst(d->port, 0, m, want), j;

		for (j = 0; j < k; j++) {
			uint32_t len = m[j]->pkt_len;

			if (len < ETH_HDR_LEN) {
				h->stats.rx_errors++;
			} else if (!mbuf_to_frame(m[j], &f[i])) {
				h->stats.rx_truncated++;
			} else {
				f[i++].len = len;
				h->stats.rx_frames++;
				h->stats.rx_bytes += len;
			}
			rte_pktmbuf_free(m[j]);
		}
		if (k < want)
			break;
	}
	return (int)i;
}

static int dpdk_rx_fd(const struct host_path *h)
{
	(void)h;
	return -1;
}

static size_t dpdk_max_frame(const struct host_path *h)
{
	return to_dpdk(h)->rx_max;
}

static void dpdk_close(struct host_path *h)
{
	struct dpdk *d = to_dpdk(h);

	if (d->started)
		rte_eth_dev_stop(d->port);
	rte_eth_dev_close(d->port);
	rte_mempool_free(d->pool);
	free(d);
	rte_eal_cleanup();
}

static const struct host_ops dpdk_ops = {
	.kind = "dpdk",
	.tx_burst = dpdk_tx_burst,
	.rx_burst = dpdk_rx_burst,
	.rx_fd = dpdk_rx_fd,
	.max_frame = dpdk_max_frame,
	.close = dpdk_close,
};

/* Splits @args at blanks into eal_argv after argv[0]; the count or -1. */
static int split_args(const char *args, char *err, size_t errlen)
{
	int argc = 0;
	char *save, *tok;

	if (strlen(args) >= sizeof(eal_args)) {
		snprintf(err, errlen, "dpdk: EAL arguments longer than %zu bytes",
			 sizeof(eal_args) - 1);
		return -1;
	}
	strcpy(eal_args, args);
	eal_argv[argc++] = (char *)"dev-net-backend";
	for (tok = strtok_r(eal_args, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (argc > DPDK_MAX_ARGS) {
			snprintf(err, errlen, "dpdk: more than %d EAL arguments",
				 DPDK_MAX_ARGS);
			return -1;
		}
		eal_argv[argc++] = tok;
	}
	eal_argv[argc] = NULL;
	return argc;
}

/* Configures, starts and names port d->port; 0 or -errno with @err. */
static int port_setup(struct dpdk *d, char *err, size_t errlen)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txc;
	struct rte_ether_addr mac;
	uint16_t nb_rxd = NB_RXD, nb_txd = NB_TXD, mtu;
	uint16_t room = RTE_MBUF_DEFAULT_BUF_SIZE;
	bool multi_seg;
	int socket, rc;
	unsigned nb_mbufs;
	const char *what;

	rc = rte_eth_dev_info_get(d->port, &info);
	if (rc) {
		what = "reading device info";
		goto fail;
	}
	multi_seg = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (multi_seg)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	else	/* one mbuf per frame: big enough for a jumbo frame */
		room = RTE_PKTMBUF_HEADROOM + JUMBO_FRAME;
	rc = rte_eth_dev_configure(d->port, 1, 1, &conf);
	if (rc) {
		what = "configuring 1 RX + 1 TX queue";
		goto fail;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(d->port, &nb_rxd, &nb_txd);
	if (rc) {
		what = "adjusting the ring sizes";
		goto fail;
	}
	/* Both rings full, a burst in flight each way with jumbo chains,
	 * and the main lcore's cache. */
	nb_mbufs = nb_rxd + nb_txd +
		   2 * HOST_BURST * (JUMBO_FRAME / 2048 + 1) + 2 * POOL_CACHE;
	socket = rte_eth_dev_socket_id(d->port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	d->pool = rte_pktmbuf_pool_create("netbackend_mbufs", nb_mbufs,
					  POOL_CACHE, 0, room, socket);
	if (!d->pool) {
		snprintf(err, errlen, "dpdk: port %u: mbuf pool of %u x %u bytes: %s",
			 d->port, nb_mbufs, room, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = rte_eth_rx_queue_setup(d->port, 0, nb_rxd, (unsigned)socket,
				    NULL, d->pool);
	if (rc) {
		what = "setting up the RX queue";
		goto fail;
	}
	txc = info.default_txconf;
	txc.offloads = conf.txmode.offloads;
	rc = rte_eth_tx_queue_setup(d->port, 0, nb_txd, (unsigned)socket, &txc);
	if (rc) {
		what = "setting up the TX queue";
		goto fail;
	}
	rc = rte_eth_dev_start(d->port);
	if (rc) {
		what = "starting it";
		goto fail;
	}
	d->started = true;
	rc = rte_eth_promiscuous_enable(d->port);
	if (rc) {
		what = "turning promiscuous mode on";
		goto fail;
	}
	if (rte_eth_dev_get_mtu(d->port, &mtu))
		mtu = RTE_ETHER_MTU;
	d->rx_max = (size_t)mtu + ETH_HDR_LEN + VLAN_TAG_LEN;
	/* PMDs drop what exceeds their MTU (net_tap does): so does this. */
	d->tx_max = multi_seg ? JUMBO_FRAME :
		    (size_t)room - RTE_PKTMBUF_HEADROOM;
	if (d->tx_max > d->rx_max)
		d->tx_max = d->rx_max;
	if (rte_eth_macaddr_get(d->port, &mac))
		memset(&mac, 0, sizeof(mac));
	snprintf(d->h.name, sizeof(d->h.name),
		 "dpdk:port %u (%s " RTE_ETHER_ADDR_PRT_FMT ")", d->port,
		 info.driver_name, RTE_ETHER_ADDR_BYTES(&mac));
	return 0;
fail:
	snprintf(err, errlen, "dpdk: port %u: %s: %s", d->port, what,
		 rte_strerror(rc < 0 ? -rc : rc));
	return rc < 0 ? rc : -rc;
}

int dpdk_open(const char *args, struct host_path **out, char *err,
	      size_t errlen)
{
	struct dpdk *d;
	uint16_t port;
	int argc, rc;

	if (eal_used) {
		snprintf(err, errlen,
			 "dpdk: one dpdk host path per process (the EAL initialises once)");
		return -EBUSY;
	}
	argc = split_args(args, err, errlen);
	if (argc < 0)
		return -E2BIG;
	eal_used = true;
	if (rte_eal_init(argc, eal_argv) < 0) {
		rc = rte_errno;
		/* EACCES: the EAL found no usable hugepages. */
		snprintf(err, errlen, "dpdk: EAL initialisation (%s): %s%s",
			 args[0] ? args : "no arguments", rte_strerror(rc),
			 rc == EACCES ? " (no hugepages? --no-huge -m 256)" : "");
		return rc > 0 ? -rc : -EINVAL;
	}
	RTE_ETH_FOREACH_DEV(port)
		break;
	if (port >= RTE_MAX_ETHPORTS) {
		snprintf(err, errlen,
			 "dpdk: the EAL found no ethdev port: give one, e.g. --vdev=net_tap0,iface=NAME, --vdev=net_af_packet0,iface=NAME or -a PCI-ADDRESS of a NIC bound to vfio-pci");
		rte_eal_cleanup();
		return -ENODEV;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "dpdk: out of memory");
		rte_eal_cleanup();
		return -ENOMEM;
	}
	d->h.ops = &dpdk_ops;
	d->port = port;
	snprintf(d->h.name, sizeof(d->h.name), "dpdk:port %u", port);
	rc = port_setup(d, err, errlen);
	if (rc) {
		dpdk_close(&d->h);
		return rc;
	}
	*out = &d->h;
	return 0;
}
