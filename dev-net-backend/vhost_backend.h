/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user-net back-end: one front-end connection at a time, one
 * queue pair (MQ off): virtqueue 0 is the guest's receive queue (host to
 * guest), 1 its transmit queue (guest to host).  Frames move between guest
 * RAM and a host path (host.h) in place (transmit through a copy with
 * vb_config.tx_copy); see README.md.
 *
 * Everything runs on the caller's thread: vb_poll() waits for the
 * connection socket, the kick eventfds and the host path, then handles one
 * message and/or moves a batch of frames each way.  main.c loops on it;
 * the unit tests drive it step by step over a socketpair.
 */
#ifndef NETBACKEND_VHOST_BACKEND_H
#define NETBACKEND_VHOST_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "host.h"
#include "pcap.h"

#define VB_RXQ		0	/* receiveq1: host -> guest */
#define VB_TXQ		1	/* transmitq1: guest -> host */
#define VB_NQUEUES	2

/*
 * The longest transmit frame --tx-copy on accepts (the size of its copy
 * buffer): no offload is negotiated, so a frame is at most an MTU plus
 * an Ethernet header and a VLAN tag, and Linux's largest MTU is 65535.
 */
#define VB_TX_FRAME_MAX	(65535 + 14 + 4)

/* Per-queue counters; they add up over every connection. */
struct vb_queue_stats {
	uint64_t frames, bytes;
	uint64_t kicks;		/* kick eventfd signals consumed */
	uint64_t calls;		/* call eventfd signals sent */
	uint64_t copy_bytes;	/* tx: bytes copied out of guest RAM
				 * (--tx-copy on) */
	/* drops, by cause */
	uint64_t drop_bad_chain;	/* wrong direction, shorter than the
					 * header, too many segments */
	uint64_t drop_runt;		/* tx: shorter than an Ethernet header */
	uint64_t drop_truncated;	/* rx: frame longer than the buffers */
	uint64_t drop_disabled;		/* tx: ring disabled (spec: discard) */
	uint64_t drop_host;		/* host path error; with tx_copy
					 * also longer than VB_TX_FRAME_MAX */
	uint64_t drop_host_busy;	/* tx: host path would block */
	uint64_t broken;		/* times the ring broke (protocol
					 * violation in the shared ring) */
};

struct vb_config {
	bool mrg_rxbuf;		/* offer VIRTIO_NET_F_MRG_RXBUF */
	bool event_idx;		/* offer VIRTIO_RING_F_EVENT_IDX */
	bool indirect;		/* offer VIRTIO_RING_F_INDIRECT_DESC */
	uint64_t busy_poll_ns;	/* keep polling this long after the last
				 * work before sleeping; 0: sleep at once */
	unsigned burst;		/* frames per batch, 1..HOST_BURST */
	bool tx_copy;		/* copy each transmit frame into the
				 * back-end's buffer first (measures what
				 * zero copy saves); off by default */
	unsigned msg_timeout_ms;	/* a message begun but not complete
					 * for this long drops the peer */
	struct pcap_writer *pcap;	/* NULL: none; not owned */
	int verbose;		/* log messages to stderr */
};

struct vhost_backend;

/* The defaults: mrg_rxbuf, event_idx, indirect on, no busy poll, zero
 * copy. */
void vb_config_default(struct vb_config *cfg);

/* @host is not owned.  NULL on out-of-memory. */
struct vhost_backend *vb_create(struct host_path *host,
				const struct vb_config *cfg);
void vb_destroy(struct vhost_backend *vb);

/* Takes a connected vhost-user socket (closed by vb_detach()). */
void vb_attach(struct vhost_backend *vb, int sock);
bool vb_connected(const struct vhost_backend *vb);
/* Drops the connection: rings stopped, memory unmapped, fds closed,
 * negotiation forgotten.  Counters stay. */
void vb_detach(struct vhost_backend *vb);

/*
 * Receives and handles one message.  0, or negative when the connection
 * is gone or out of step (the caller detaches): -ENOTCONN (peer closed),
 * -EPROTO and friends.  A malformed but framed message is answered with
 * an error (REPLY_ACK, or an empty reply to a GET) and returns 0.
 */
int vb_handle_message(struct vhost_backend *vb);

/* Moves up to one batch guest->host / host->guest; frames moved. */
unsigned vb_process_tx(struct vhost_backend *vb);
unsigned vb_process_rx(struct vhost_backend *vb);

/*
 * One turn of the event loop: waits up to @timeout_ms (-1: forever, but
 * never while work is pending or busy polling) for the socket, the kicks
 * and the host path, then serves them.  0, or -ENOTCONN once the
 * connection was dropped (vb_detach() already done), -EINTR when a
 * signal interrupted the wait.
 */
int vb_poll(struct vhost_backend *vb, int timeout_ms);

const struct vb_queue_stats *vb_stats(const struct vhost_backend *vb,
				      unsigned q);
/* Negotiated virtio features / protocol features (0 before). */
uint64_t vb_features(const struct vhost_backend *vb);
uint64_t vb_protocol_features(const struct vhost_backend *vb);
/* Started (kick received, rings mapped), not stopped, not broken. */
bool vb_queue_running(const struct vhost_backend *vb, unsigned q);
/* The host path failed for good (its device is gone): nothing more can
 * move, the process should exit and be restarted. */
bool vb_host_failed(const struct vhost_backend *vb);
/* Offered virtio features under @cfg. */
uint64_t vb_offered_features(const struct vb_config *cfg);

/* Counters, one line per queue and one for the host path. */
void vb_print_stats(const struct vhost_backend *vb, FILE *f);
/* The same counters as "NAME VALUE" lines (ipc/stats.h), for the live
 * counter socket; may run on another thread while frames move. */
void vb_write_counters(const struct vhost_backend *vb, FILE *f);

#endif
