/* SPDX-License-Identifier: MIT */
/*
 * dev-pcnet's PCnet port as a vhost-user front-end (virtio-net, one RX
 * queue 0 and one TX queue 1), zero copy: the descriptors it places point
 * at the guest's own PCnet buffers.  Everything runs on the devsrv thread;
 * see vhost_frontend.c for the design.
 */
#ifndef DEV_PCNET_VHOST_FRONTEND_H
#define DEV_PCNET_VHOST_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>

#include "pcnet.h"

struct devsrv;
struct vfe;

struct vfe_stats {
	uint64_t connects;
	uint64_t tx_chains;	/* frames placed on the TX queue */
	uint64_t tx_used;
	uint64_t tx_copied;	/* pieces without a GPA, copied (padding) */
	uint64_t tx_full;	/* TX queue full: frame dropped */
	uint64_t rx_zero_copy;	/* frames completed in place */
	uint64_t rx_copied;	/* frames moved by dev-pcnet (resync, merge) */
	uint64_t rx_filtered;	/* the chip's address filter said no */
	uint64_t rx_dropped;
	uint64_t rx_ring_stops;	/* GET_VRING_BASE after STOP/INIT/reset */
};

/*
 * A front-end that connects to the back-end socket @path (retrying with
 * backoff, also after the back-end went away).  Attach the device with
 * vfe_attach() before the first frame.  NULL on allocation failure.
 */
struct vfe *vfe_new(struct devsrv *srv, const char *path);
void vfe_attach(struct vfe *fe, struct pcnet *dev);
void vfe_free(struct vfe *fe);

/* The pcnet_ops.tx of a device wired to the front-end (opaque: the vfe). */
enum pcnet_tx_result vfe_tx(struct vfe *fe, const struct pcnet_seg *seg,
			    unsigned int nseg, uint32_t len,
			    unsigned int flags);

/*
 * After anything that may have changed the chip (a guest access, the poll
 * timer): notices STOP/INIT/reset, posts receive buffers the guest handed
 * to the chip, kicks the back-end for what was queued.
 */
void vfe_sync(struct vfe *fe);

/*
 * Busy polling (devsrv_ops.poll and .before_sleep): vfe_poll() turns the
 * back-end's calls off and collects what it used; vfe_before_sleep() turns
 * them on again, true if buffers were used meanwhile (poll again).
 */
unsigned int vfe_poll(struct vfe *fe);
bool vfe_before_sleep(struct vfe *fe);

void vfe_get_stats(const struct vfe *fe, struct vfe_stats *out);
bool vfe_connected(const struct vfe *fe);

#endif
