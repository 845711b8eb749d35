// SPDX-License-Identifier: MIT
/*
 * The PCnet port as a vhost-user front-end, zero copy.
 *
 * Memory.  SET_MEM_TABLE carries every guest-RAM region (the memfds the
 * core gave dev-pcnet, guest_phys_addr = GPA, userspace_addr = dev-pcnet's
 * own mapping) plus one region of dev-pcnet's own, a memfd placed at
 * guest-physical OWN_GPA (1 << 46, above any guest RAM) that holds the two
 * split rings, the virtio-net headers and a few TX pieces without a GPA.
 * Descriptor addresses are guest-physical, ring addresses (SET_VRING_ADDR)
 * are dev-pcnet's virtual addresses, as vhost-user wants.
 *
 * Transmit (queue 1).  The model hands a frame as pieces with GPAs: they
 * become one chain [12-byte header, all zero, in the own region][each
 * PCnet buffer, GPA as it is], the model is told PCNET_TX_PENDING, and the
 * used entry completes the descriptors (pcnet_tx_complete()).  Only the
 * pieces without a GPA (APAD_XMT padding, a frame of more than 32 pieces)
 * are copied into a slot of the own region.  A guest FCS (DXMTFCS) is cut
 * off: virtio frames have none.
 *
 * Receive (queue 0).  Every receive buffer the chip owns, in ring order,
 * is one chain [header slot of 12 bytes in the own region][the PCnet
 * buffer, its length minus RX_RESERVE].  The header cannot go into the
 * guest's buffer (the driver expects the frame at its first byte), so it
 * gets a slot of its own, one per ring position.  The reserve leaves room
 * for what the chip appends itself: the pad to 60 bytes and the FCS,
 * which pcnet_rx_complete() writes in place.  Buffers smaller than a
 * VLAN-tagged frame plus the reserve (RX_ZC_MIN) are not posted: such a
 * guest gets copy mode (below).  A used chain at the chip's
 * current descriptor completes it where the frame lies: nothing is moved.
 *
 * Out of step.  Frames come back in posting order and each normally takes
 * the chip's current descriptor, so a chain is in step when its
 * descriptor is as many past the current one as chains are ahead of it.
 * A frame the chip refuses (address filter, receiver off, descriptor
 * rewritten) leaves its descriptor owned while its chain is used up; a
 * frame the back-end spread over several chains (MRG_RXBUF, num_buffers
 * > 1: guest buffers smaller than the frame) has 12 bytes of its
 * continuation in a header slot and may need fewer descriptors than it
 * used chains.  Such frames, and every frame that arrives out of step,
 * dev-pcnet moves itself: gathered from slots and buffers and delivered
 * with pcnet_receive() into the descriptors the chip is at, never into a
 * buffer the back-end still holds.  To get back in step without letting
 * the queue run dry, it posts bounce chains (buffers of its own region,
 * not tied to a descriptor) for the gap, then guest buffers again, which
 * are in step once the bounce frames have been moved.
 *
 * STOP, INIT, a reset, SPND or a master abort (pcnet_rx_epoch() moves)
 * while receive buffers are posted: the driver may take those buffers
 * back, so the back-end must not write them any more.  The front-end
 * stops the receive queue with GET_VRING_BASE, which the back-end answers
 * only once it no longer touches the queue (as the chip finishes a DMA in
 * flight), drops what came back, and sets the queue up afresh.  The
 * transmit side needs no such step: the back-end only reads, and the
 * model no longer waits for the frames it forgot.
 *
 * The back-end gone (hang-up, a failed request, or no TX frame back for
 * a second): pending TX frames are handed back as sent, posted RX buffers
 * stay the chip's, and the connection is tried again with a growing
 * delay.  Requests are synchronous on the devsrv thread, each bounded by
 * REQ_TIMEOUT_MS: a back-end that hangs mid-request holds the NIC's
 * register accesses that long.  The guest sees a
 * quiet wire meanwhile; without a back-end, frames are dropped.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "devsrv.h"
#include "doorbell.h"
#include "msg.h"
#include "vhost_frontend.h"
#include "vhost_user.h"
#include "virtq.h"

#define OWN_GPA		(1ull << 46)
#define OWN_SIZE	(2u << 20)
#define QSIZE		1024u
#define Q_RX		0
#define Q_TX		1
#define NR_Q		2

/* The own region's layout. */
#define Q_BYTES		0x8000u			/* one queue's three rings */
#define Q_DESC(q)	((q) * Q_BYTES)
#define Q_AVAIL(q)	((q) * Q_BYTES + 0x4000u)
#define Q_USED(q)	((q) * Q_BYTES + 0x5000u)
#define TX_HDR_OFF	0x10000u		/* the all-zero TX header */
#define RX_HDR_OFF	0x11000u		/* one slot per ring position */
#define RX_HDR_STRIDE	16u
#define RX_BHDR_OFF	0x13000u		/* header slots of bounce chains */
#define TX_SLOT_OFF	0x20000u
#define TX_SLOT_SIZE	2048u
#define RX_BOUNCE_OFF	0x120000u		/* bounce chains' buffers */
#define RX_BOUNCE_SIZE	2048u
#define RX_BOUNCES	64u
#define MAX_RING	512u			/* the longest PCnet ring */
#define TX_TOKENS	512u

#define RX_RESERVE	16u	/* pad and FCS, 12 for a continuation */
/* Guest buffers posted in place must hold a whole frame (VLAN-tagged). */
#define RX_ZC_MIN	(1518u + RX_RESERVE)
#define RX_MERGE_MAX	32u
#define TX_PIECES	40u

#define REQ_TIMEOUT_MS	1000
/* TX frames out this long without one coming back: the back-end hangs. */
#define TX_STALL_NS	(1000ull * 1000 * 1000)
#define RETRY_MIN_MS	10u
#define RETRY_MAX_MS	1000u

_Static_assert(RX_HDR_OFF + MAX_RING * RX_HDR_STRIDE <= TX_SLOT_OFF,
	       "header slots fit");
_Static_assert(TX_SLOT_OFF + TX_TOKENS * TX_SLOT_SIZE <= RX_BOUNCE_OFF,
	       "TX slots fit");
_Static_assert(RX_BHDR_OFF + RX_BOUNCES * RX_HDR_STRIDE <= TX_SLOT_OFF,
	       "bounce header slots fit");
_Static_assert(RX_BOUNCE_OFF + RX_BOUNCES * RX_BOUNCE_SIZE <= OWN_SIZE,
	       "bounce buffers fit");
_Static_assert(QSIZE * sizeof(struct vring_desc) <= 0x4000u, "desc fits");

struct rx_chain {
	struct pcnet_rx_buf buf;	/* guest chains: the PCnet buffer */
	uint8_t *host;			/* the buffer, locally */
	uint32_t post_len;		/* its length in the chain */
	uint32_t hdr_off;		/* header slot in the own region */
	uint32_t used_len;
	bool posted;
	bool consumed;			/* used, its descriptor not yet done */
	bool bounce;			/* an own-region buffer, no position */
};

struct tx_tok {
	uint32_t seq;
	unsigned int slot;
	bool busy;
};

struct vfe {
	struct devsrv *srv;
	struct pcnet *dev;
	const char *path;
	int sock;
	int own_fd;
	uint8_t *own;
	int kick[NR_Q], call[NR_Q];
	int retry_fd;
	unsigned int backoff_ms;
	bool ready;		/* set up: frames flow */
	bool broken;		/* drop the connection at the next sync */
	bool polling;		/* calls off: vfe_poll() looks instead */
	bool reply_ack;
	bool proto;		/* VHOST_USER_F_PROTOCOL_FEATURES acked */
	uint64_t features;
	unsigned int hdr_len;
	struct virtq_drv q[NR_Q];
	bool q_live[NR_Q];
	bool kick_pending[NR_Q];

	struct rx_chain rx[MAX_RING];	/* by ring position */
	struct rx_chain rxb[RX_BOUNCES];
	unsigned int posted;		/* guest chains with the back-end */
	unsigned int bposted;		/* bounce chains with the back-end */
	uint32_t epoch;
	struct rx_chain *merge[RX_MERGE_MAX];
	unsigned int nmerge, merge_want;

	struct tx_tok tok[TX_TOKENS];
	unsigned int ntok;		/* busy tokens */
	uint64_t tx_progress_ns;	/* last TX used entry, or first chain */
	unsigned int tok_hint;

	uint8_t bounce[PCNET_MAX_FRAME + 64];
	struct vfe_stats stats;
};

/* ---- the control channel --------------------------------------------- */

/*
 * One request; waits for the reply when @reply is given (GET_*) or, with
 * REPLY_ACK, for the ack of anything else.  0 or -errno.
 */
static int fe_req(struct vfe *fe, uint32_t req, const void *payload,
		  uint32_t size, const int *fds, unsigned int nfds,
		  struct vu_msg *reply)
{
	bool ack = !reply && fe->reply_ack;
	int rfds[VHOST_USER_MAX_FDS];
	struct vu_msg m, r;
	unsigned int n = 0;
	char err[128];
	int rc;

	vu_msg_init(&m, req, size);
	if (size)
		memcpy(&m.payload, payload, size);
	if (ack)
		m.hdr.flags |= VHOST_USER_F_NEED_REPLY;
	rc = vu_msg_send(fe->sock, &m, fds, nfds);
	if (rc)
		return rc;
	if (!reply && !ack)
		return 0;
	rc = vu_msg_recv(fe->sock, &r, rfds, VHOST_USER_MAX_FDS, &n);
	if (rc <= 0)
		return rc ? rc : -EPIPE;
	if (vu_msg_check(&r, n, false, err, sizeof(err))) {
		ipc_close_fds(rfds, n);
		fprintf(stderr, "dev-pcnet: backend reply to %s: %s\n",
			vu_request_name(req), err);
		return -EPROTO;
	}
	ipc_close_fds(rfds, n);
	if (r.hdr.request != req)
		return -EPROTO;
	if (ack)
		return r.payload.u64 ? -EIO : 0;
	*reply = r;
	return 0;
}

static int fe_req_u64(struct vfe *fe, uint32_t req, uint64_t v, int fd)
{
	return fe_req(fe, req, &v, sizeof(v), fd >= 0 ? &fd : NULL,
		      fd >= 0 ? 1 : 0, NULL);
}

static int fe_get_u64(struct vfe *fe, uint32_t req, uint64_t *v)
{
	struct vu_msg r;
	int rc = fe_req(fe, req, NULL, 0, NULL, 0, &r);

	if (!rc)
		*v = r.payload.u64;
	return rc;
}

static int fe_vring_state(struct vfe *fe, uint32_t req, unsigned int q,
			  unsigned int num)
{
	struct vhost_user_vring_state s = { .index = q, .num = num };

	return fe_req(fe, req, &s, sizeof(s), NULL, 0, NULL);
}

/* A fresh queue @q, told to the back-end from NUM to ENABLE. */
static int fe_queue_setup(struct vfe *fe, unsigned int q)
{
	struct vhost_user_vring_addr a = { .index = q };
	uint8_t *desc = fe->own + Q_DESC(q), *avail = fe->own + Q_AVAIL(q),
		*used = fe->own + Q_USED(q);
	int rc;

	if (fe->q_live[q])
		virtq_drv_free(&fe->q[q]);
	fe->q_live[q] = false;
	rc = virtq_drv_init(&fe->q[q], QSIZE, desc, avail, used,
			    fe->features);
	if (rc)
		return rc;
	fe->q_live[q] = true;
	if (fe->polling)	/* a queue started afresh while the loop spins */
		virtq_drv_disable_cb(&fe->q[q]);
	a.desc_user_addr = (uintptr_t)desc;
	a.avail_user_addr = (uintptr_t)avail;
	a.used_user_addr = (uintptr_t)used;
	rc = fe_vring_state(fe, VHOST_USER_SET_VRING_NUM, q, QSIZE);
	if (!rc)
		rc = fe_req(fe, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a),
			    NULL, 0, NULL);
	if (!rc)
		rc = fe_vring_state(fe, VHOST_USER_SET_VRING_BASE, q, 0);
	if (!rc)
		rc = fe_req_u64(fe, VHOST_USER_SET_VRING_KICK, q, fe->kick[q]);
	if (!rc)
		rc = fe_req_u64(fe, VHOST_USER_SET_VRING_CALL, q, fe->call[q]);
	if (!rc && fe->proto)
		rc = fe_vring_state(fe, VHOST_USER_SET_VRING_ENABLE, q, 1);
	return rc;
}

static int fe_mem_table(struct vfe *fe)
{
	const struct guest_mem *gm = devsrv_guest_mem(fe->srv);
	struct vhost_user_mem_table t = { 0 };
	int fds[VHOST_MEMORY_MAX_NREGIONS];
	unsigned int n = 0;

	for (unsigned int i = 0; i < gm->nr; i++) {
		if (gm->r[i].fd < 0 || n + 1 >= VHOST_MEMORY_MAX_NREGIONS)
			return -EINVAL;
		t.regions[n] = (struct vhost_user_mem_region){
			.guest_phys_addr = gm->r[i].gpa,
			.memory_size = gm->r[i].size,
			.userspace_addr = (uintptr_t)gm->r[i].host,
			.mmap_offset = gm->r[i].fd_offset,
		};
		fds[n++] = gm->r[i].fd;
	}
	t.regions[n] = (struct vhost_user_mem_region){
		.guest_phys_addr = OWN_GPA,
		.memory_size = OWN_SIZE,
		.userspace_addr = (uintptr_t)fe->own,
	};
	fds[n++] = fe->own_fd;
	t.nregions = n;
	return fe_req(fe, VHOST_USER_SET_MEM_TABLE, &t,
		      vhost_user_mem_table_size(n), fds, n, NULL);
}

static int fe_handshake(struct vfe *fe)
{
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) |
			(1ull << VIRTIO_NET_F_MRG_RXBUF) |
			(1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	uint64_t offered, pf;
	int rc;

	fe->reply_ack = false;
	fe->proto = false;
	rc = fe_req(fe, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0, NULL);
	if (!rc)
		rc = fe_get_u64(fe, VHOST_USER_GET_FEATURES, &offered);
	if (rc)
		return rc;
	fe->features = offered & want;
	if (fe->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)) {
		fe->proto = true;
		rc = fe_get_u64(fe, VHOST_USER_GET_PROTOCOL_FEATURES, &pf);
		if (rc)
			return rc;
		pf &= 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
		rc = fe_req_u64(fe, VHOST_USER_SET_PROTOCOL_FEATURES, pf, -1);
		if (rc)
			return rc;
		fe->reply_ack = pf != 0;
	}
	rc = fe_req_u64(fe, VHOST_USER_SET_FEATURES, fe->features, -1);
	if (rc)
		return rc;
	fe->hdr_len = fe->features & ((1ull << VIRTIO_F_VERSION_1) |
				      (1ull << VIRTIO_NET_F_MRG_RXBUF)) ?
			      sizeof(struct virtio_net_hdr_mrg_rxbuf) :
			      sizeof(struct virtio_net_hdr);
	rc = fe_mem_table(fe);
	for (unsigned int q = 0; !rc && q < NR_Q; q++)
		rc = fe_queue_setup(fe, q);
	return rc;
}

/* ---- connection ------------------------------------------------------ */

static void fe_retry_later(struct vfe *fe)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = fe->backoff_ms / 1000;
	its.it_value.tv_nsec = (long)(fe->backoff_ms % 1000) * 1000000L;
	timerfd_settime(fe->retry_fd, 0, &its, NULL);
	fe->backoff_ms = fe->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
							     fe->backoff_ms * 2;
}

static void fe_forget_rx(struct vfe *fe)
{
	for (unsigned int i = 0; i < MAX_RING; i++)
		fe->rx[i].posted = fe->rx[i].consumed = false;
	for (unsigned int i = 0; i < RX_BOUNCES; i++)
		fe->rxb[i].posted = false;
	fe->posted = 0;
	fe->bposted = 0;
	fe->nmerge = 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_sock(void *opaque, int fd);
static void on_call(void *opaque, int fd);

static void fe_disconnect(struct vfe *fe, const char *why)
{
	bool was_ready = fe->ready;

	if (fe->sock >= 0) {
		devsrv_del_fd(fe->srv, fe->sock);
		close(fe->sock);
		fe->sock = -1;
	}
	for (unsigned int q = 0; q < NR_Q; q++) {
		devsrv_del_fd(fe->srv, fe->call[q]);
		if (fe->q_live[q])
			virtq_drv_free(&fe->q[q]);
		fe->q_live[q] = false;
		fe->kick_pending[q] = false;
	}
	fe->ready = false;
	fe->broken = false;
	fe->polling = false;
	fe_forget_rx(fe);
	/* Gone with the back-end, on the wire or not: hand them back. */
	for (unsigned int i = 0; i < TX_TOKENS; i++) {
		if (!fe->tok[i].busy)
			continue;
		fe->tok[i].busy = false;
		if (fe->dev)
			pcnet_tx_complete(fe->dev, fe->tok[i].seq,
					  PCNET_TX_ACCEPTED);
	}
	fe->ntok = 0;
	if (was_ready)
		fprintf(stderr, "dev-pcnet: backend %s: %s; reconnecting\n",
			fe->path, why);
	fe_retry_later(fe);
}

static void fe_connect(struct vfe *fe)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = {
		.tv_sec = REQ_TIMEOUT_MS / 1000,
		.tv_usec = (REQ_TIMEOUT_MS % 1000) * 1000,
	};
	int fd, rc;

	if (fe->sock >= 0)
		return;
	if (strlen(fe->path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "dev-pcnet: --backend path too long\n");
		return;
	}
	strcpy(sa.sun_path, fe->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fe_retry_later(fe);
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		fe_retry_later(fe);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	fe->sock = fd;
	rc = fe_handshake(fe);
	if (rc || devsrv_add_fd(fe->srv, fd, on_sock, fe) ||
	    devsrv_add_fd(fe->srv, fe->call[Q_RX], on_call, fe) ||
	    devsrv_add_fd(fe->srv, fe->call[Q_TX], on_call, fe)) {
		fprintf(stderr, "dev-pcnet: backend %s: set-up failed: %s\n",
			fe->path, rc ? strerror(-rc) : "too many fds");
		fe_disconnect(fe, "set-up failed");
		return;
	}
	fe->ready = true;
	fe->backoff_ms = RETRY_MIN_MS;
	fe->epoch = fe->dev ? pcnet_rx_epoch(fe->dev) : 0;
	fe->stats.connects++;
	fprintf(stderr, "dev-pcnet: backend %s connected, features 0x%llx%s, %u-byte headers\n",
		fe->path, (unsigned long long)fe->features,
		fe->reply_ack ? ", REPLY_ACK" : "", fe->hdr_len);
	vfe_sync(fe);
}

static void on_retry(void *opaque, int fd)
{
	struct vfe *fe = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	fe_connect(fe);
}

static void on_sock(void *opaque, int fd)
{
	struct vfe *fe = opaque;
	int fds[VHOST_USER_MAX_FDS];
	struct vu_msg m;
	unsigned int n = 0;
	ssize_t got;
	char b;

	got = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got <= 0) {
		fe_disconnect(fe, "hung up");
		return;
	}
	/* Nothing is expected from the back-end unasked: read and drop. */
	if (vu_msg_recv(fd, &m, fds, VHOST_USER_MAX_FDS, &n) <= 0) {
		fe_disconnect(fe, "broken stream");
		return;
	}
	ipc_close_fds(fds, n);
}

/* ---- receive --------------------------------------------------------- */

static uint8_t *rx_slot(struct vfe *fe, const struct rx_chain *c)
{
	return fe->own + c->hdr_off;
}

/*
 * Bytes the chip may write from its current descriptor on without
 * touching a buffer the back-end still holds.
 */
static size_t rx_room_unposted(struct vfe *fe)
{
	struct pcnet_rx_buf b[RX_MERGE_MAX + 2];
	unsigned int n = pcnet_rx_buffers(fe->dev, 0, b, RX_MERGE_MAX + 2);
	size_t room = 0;

	for (unsigned int i = 0; i < n && !fe->rx[b[i].idx].posted; i++)
		room += b[i].len;
	return room;
}

/* The frame of merge[] into the bounce buffer; its length or 0. */
static size_t rx_gather(struct vfe *fe)
{
	size_t total = 0;

	for (unsigned int i = 0; i < fe->nmerge; i++) {
		struct rx_chain *c = fe->merge[i];
		uint32_t len = c->used_len, in_slot;

		/* The first chain's slot is the header; later ones hold data. */
		in_slot = len < fe->hdr_len ? len : fe->hdr_len;
		len -= in_slot;
		if (i && in_slot) {
			if (total + in_slot > sizeof(fe->bounce))
				return 0;
			memcpy(fe->bounce + total, rx_slot(fe, c), in_slot);
			total += in_slot;
		}
		if (!len)
			continue;
		if (len > c->post_len || total + len > sizeof(fe->bounce))
			return 0;
		memcpy(fe->bounce + total, c->host, len);
		total += len;
	}
	return total;
}

/* Positions the chip's current descriptor passed are done with. */
static void rx_passed(struct vfe *fe, uint32_t from)
{
	uint32_t len, to = pcnet_rx_position(fe->dev, &len);

	if (!len || from >= len)
		return;
	for (uint32_t p = from, n = 0; p != to && n < len; n++) {
		fe->rx[p % MAX_RING].consumed = false;
		p = (p + 1) % len;
	}
}

static void rx_frame(struct vfe *fe)
{
	struct rx_chain *c = fe->merge[0];
	uint32_t len = c->used_len - fe->hdr_len;
	uint32_t head = pcnet_rx_position(fe->dev, NULL);
	enum pcnet_rx_result r;
	struct iovec iov;
	size_t total;

	/* In step: the frame is where the chip wants it. */
	if (fe->nmerge == 1 && !c->bounce && len && len <= c->post_len &&
	    c->buf.idx == head) {
		r = pcnet_rx_complete(fe->dev, &c->buf, 1, len);
		if (r == PCNET_RX_DELIVERED || r == PCNET_RX_OVERFLOW)
			fe->stats.rx_zero_copy++;
		else if (r == PCNET_RX_FILTERED)
			fe->stats.rx_filtered++;
		else
			fe->stats.rx_dropped++;
		/* Refused (filter): the descriptor stays, the chain is gone. */
		rx_passed(fe, head);
		return;
	}
	total = rx_gather(fe);
	if (!total || (total < 60 ? 64 : total + 4) > rx_room_unposted(fe)) {
		fe->stats.rx_dropped++;
		return;
	}
	iov = (struct iovec){ .iov_base = fe->bounce, .iov_len = total };
	r = pcnet_receive(fe->dev, &iov, 1);
	if (r == PCNET_RX_DELIVERED || r == PCNET_RX_OVERFLOW)
		fe->stats.rx_copied++;
	else if (r == PCNET_RX_FILTERED)
		fe->stats.rx_filtered++;
	else
		fe->stats.rx_dropped++;
	rx_passed(fe, head);
}

static unsigned int rx_reap(struct vfe *fe)
{
	unsigned int n = 0;
	struct rx_chain *c;
	uint32_t len;

	while ((c = virtq_drv_get_used(&fe->q[Q_RX], &len))) {
		n++;
		c->posted = false;
		if (c->bounce) {
			fe->bposted--;
		} else {
			fe->posted--;
			c->consumed = true;
		}
		c->used_len = len;
		if (!fe->nmerge) {
			uint16_t nb = 1;

			if (len < fe->hdr_len) {
				fe->stats.rx_dropped++;
				continue;
			}
			if (fe->features & (1ull << VIRTIO_NET_F_MRG_RXBUF))
				memcpy(&nb, rx_slot(fe, c) + 10, 2);
			if (!nb || nb > RX_MERGE_MAX) {
				fe->stats.rx_dropped++;
				continue;
			}
			fe->merge_want = nb;
		}
		fe->merge[fe->nmerge++] = c;
		if (fe->nmerge < fe->merge_want)
			continue;
		rx_frame(fe);
		fe->nmerge = 0;
	}
	if (virtq_drv_broken(&fe->q[Q_RX]))
		fe->broken = true;
	return n;
}

static bool rx_post_bounce(struct vfe *fe)
{
	for (unsigned int i = 0; i < RX_BOUNCES; i++) {
		struct rx_chain *c = &fe->rxb[i];
		uint32_t off = RX_BOUNCE_OFF + i * RX_BOUNCE_SIZE;
		struct virtq_buf v[2];

		if (c->posted)
			continue;
		*c = (struct rx_chain){
			.host = fe->own + off, .post_len = RX_BOUNCE_SIZE,
			.hdr_off = RX_BHDR_OFF + i * RX_HDR_STRIDE,
			.bounce = true,
		};
		v[0] = (struct virtq_buf){ OWN_GPA + c->hdr_off, fe->hdr_len };
		v[1] = (struct virtq_buf){ OWN_GPA + off, RX_BOUNCE_SIZE };
		if (virtq_drv_add(&fe->q[Q_RX], v, 0, 2, c))
			return false;
		c->posted = true;
		fe->bposted++;
		fe->kick_pending[Q_RX] = true;
		return true;
	}
	return false;
}

/*
 * Posts what the chip owns beyond what is posted, in ring order.  Frames
 * come back in posting order and each normally takes the chip's current
 * descriptor, so a chain posted behind @n others is in step if its
 * descriptor is @n past the current one.  Positions from the current
 * descriptor on are "taken" while posted or used but not yet done (a
 * refused frame's, a merged frame's spare ones); while fewer chains are
 * out than positions taken, bounce chains of the own region fill the
 * gap (their frames are moved by dev-pcnet), so that the guest buffers
 * posted next are in step again and nothing waits for the queue to run
 * dry.  Receive buffers too small for a whole frame (RX_ZC_MIN) are
 * never posted: then only bounce chains are, and every frame is moved.
 */
static void rx_refill(struct vfe *fe)
{
	const struct guest_mem *gm = devsrv_guest_mem(fe->srv);
	struct pcnet_rx_buf b[64];
	uint32_t rlen, head = pcnet_rx_position(fe->dev, &rlen), taken = 0;
	unsigned int n;

	if (!rlen || fe->nmerge)
		return;
	while (taken < rlen && taken < MAX_RING &&
	       (fe->rx[(head + taken) % rlen].posted ||
		fe->rx[(head + taken) % rlen].consumed))
		taken++;
	n = pcnet_rx_buffers(fe->dev, taken, b, 64);
	/*
	 * Buffers too small for a frame, or not in one piece of RAM, or an
	 * owned descriptor whose buffer is not in RAM at all (not listed):
	 * copy mode, bounce chains only, once no guest buffer is posted.  The
	 * model then chains the descriptors, or raises the master abort the
	 * chip would when the frame comes.
	 */
	if ((n && (b[0].len < RX_ZC_MIN ||
		   !guest_mem_ptr(gm, b[0].gpa, b[0].len - RX_RESERVE))) ||
	    (!n && !taken && pcnet_rx_ready(fe->dev))) {
		while (!fe->posted && fe->bposted < taken + (n ? n : 1) &&
		       rx_post_bounce(fe))
			;
		return;
	}
	while (fe->posted + fe->bposted < taken && rx_post_bounce(fe))
		;
	if (fe->posted + fe->bposted != taken)
		return;
	for (;;) {
		for (unsigned int i = 0; i < n; i++) {
			struct rx_chain *c = &fe->rx[b[i].idx % MAX_RING];
			uint32_t plen = b[i].len - RX_RESERVE;
			struct virtq_buf v[2];
			uint8_t *host;

			if (b[i].len < RX_ZC_MIN || c->posted || c->consumed)
				return;
			host = guest_mem_ptr(gm, b[i].gpa, plen);
			if (!host)
				return;
			*c = (struct rx_chain){
				.buf = b[i], .host = host, .post_len = plen,
				.hdr_off = RX_HDR_OFF + b[i].idx * RX_HDR_STRIDE,
			};
			v[0] = (struct virtq_buf){ OWN_GPA + c->hdr_off,
						   fe->hdr_len };
			v[1] = (struct virtq_buf){ b[i].gpa, plen };
			if (virtq_drv_add(&fe->q[Q_RX], v, 0, 2, c))
				return;
			c->posted = true;
			fe->posted++;
			taken++;
			fe->kick_pending[Q_RX] = true;
		}
		if (n < 64)
			return;
		n = pcnet_rx_buffers(fe->dev, taken, b, 64);
	}
}

/*
 * The driver may take the posted buffers back: GET_VRING_BASE stops the
 * back-end on the queue (its reply comes once it no longer touches it),
 * then the queue starts afresh.
 */
static void rx_stop_queue(struct vfe *fe)
{
	struct vhost_user_vring_state s = { .index = Q_RX };
	struct vu_msg r;
	int rc;

	rc = fe_req(fe, VHOST_USER_GET_VRING_BASE, &s, sizeof(s), NULL, 0,
		    &r);
	fe_forget_rx(fe);
	fe->stats.rx_ring_stops++;
	if (!rc)
		rc = fe_queue_setup(fe, Q_RX);
	if (rc)
		fe->broken = true;
}

/* ---- transmit -------------------------------------------------------- */

static struct tx_tok *tok_get(struct vfe *fe)
{
	for (unsigned int k = 0; k < TX_TOKENS; k++) {
		unsigned int i = (fe->tok_hint + k) % TX_TOKENS;

		if (!fe->tok[i].busy) {
			fe->tok_hint = (i + 1) % TX_TOKENS;
			fe->tok[i].busy = true;
			fe->tok[i].slot = i;
			fe->ntok++;
			return &fe->tok[i];
		}
	}
	return NULL;
}

static void tok_put(struct vfe *fe, struct tx_tok *t)
{
	t->busy = false;
	fe->ntok--;
}

enum pcnet_tx_result vfe_tx(struct vfe *fe, const struct pcnet_seg *seg,
			    unsigned int nseg, uint32_t len,
			    unsigned int flags)
{
	struct virtq_buf v[TX_PIECES];
	uint32_t wire = len, taken = 0, copied = 0;
	unsigned int n = 0;
	struct tx_tok *t;
	uint8_t *slot;

	if (!fe->ready || fe->broken || !fe->dev)
		return PCNET_TX_DROPPED;
	if (flags & PCNET_TX_FCS_INCLUDED)
		wire = len > 4 ? len - 4 : 0;
	t = tok_get(fe);
	if (!t) {
		fe->stats.tx_full++;
		return PCNET_TX_DROPPED;
	}
	slot = fe->own + TX_SLOT_OFF + t->slot * TX_SLOT_SIZE;
	v[n++] = (struct virtq_buf){ OWN_GPA + TX_HDR_OFF, fe->hdr_len };
	for (unsigned int i = 0; i < nseg && taken < wire; i++) {
		uint32_t l = seg[i].len < wire - taken ? seg[i].len :
							 wire - taken;

		if (!l)
			continue;
		if (n == TX_PIECES)
			goto full;
		if (seg[i].gpa != PCNET_SEG_NO_GPA) {
			v[n++] = (struct virtq_buf){ seg[i].gpa, l };
		} else {
			/* Bytes of the chip's own: valid during the call only. */
			if (copied + l > TX_SLOT_SIZE)
				goto full;
			memcpy(slot + copied, seg[i].host, l);
			v[n++] = (struct virtq_buf){
				OWN_GPA + TX_SLOT_OFF +
					t->slot * TX_SLOT_SIZE + copied, l };
			copied += l;
			fe->stats.tx_copied++;
		}
		taken += l;
	}
	if (virtq_drv_add(&fe->q[Q_TX], v, n, 0, t))
		goto full;
	t->seq = pcnet_tx_seq(fe->dev);
	if (fe->ntok == 1)
		fe->tx_progress_ns = mono_ns();
	fe->kick_pending[Q_TX] = true;
	fe->stats.tx_chains++;
	return PCNET_TX_PENDING;
full:
	tok_put(fe, t);
	fe->stats.tx_full++;
	return PCNET_TX_DROPPED;
}

static unsigned int tx_reap(struct vfe *fe)
{
	unsigned int n = 0;
	struct tx_tok *t;
	uint32_t len;

	while ((t = virtq_drv_get_used(&fe->q[Q_TX], &len))) {
		uint32_t seq = t->seq;

		n++;
		tok_put(fe, t);
		fe->stats.tx_used++;
		pcnet_tx_complete(fe->dev, seq, PCNET_TX_ACCEPTED);
	}
	if (n)	/* one clock read a batch, not a frame */
		fe->tx_progress_ns = mono_ns();
	if (virtq_drv_broken(&fe->q[Q_TX]))
		fe->broken = true;
	return n;
}

static void on_call(void *opaque, int fd)
{
	struct vfe *fe = opaque;

	ipc_eventfd_drain(fd);
	if (!fe->ready || !fe->dev)
		return;
	if (fd == fe->call[Q_TX])
		tx_reap(fe);
	else
		rx_reap(fe);
	vfe_sync(fe);
}

unsigned int vfe_poll(struct vfe *fe)
{
	unsigned int n;

	if (!fe->ready || !fe->dev)
		return 0;
	if (!fe->polling) {
		/* The back-end's calls would only wake a loop that is awake. */
		for (unsigned int q = 0; q < NR_Q; q++)
			virtq_drv_disable_cb(&fe->q[q]);
		fe->polling = true;
	}
	n = tx_reap(fe) + rx_reap(fe);
	if (n || fe->broken)
		vfe_sync(fe);
	return n;
}

bool vfe_before_sleep(struct vfe *fe)
{
	bool more = false;

	if (!fe->polling)
		return false;
	fe->polling = false;
	if (!fe->ready)
		return false;
	/* Both turned on before either is looked at: none is missed. */
	for (unsigned int q = 0; q < NR_Q; q++)
		more |= virtq_drv_enable_cb(&fe->q[q]);
	return more;
}

/* ---- wiring ---------------------------------------------------------- */

void vfe_sync(struct vfe *fe)
{
	uint32_t e;

	if (fe->broken && fe->sock >= 0)
		fe_disconnect(fe, "broken queue or failed request");
	if (!fe->ready || !fe->dev)
		return;
	/*
	 * A back-end that keeps the socket but takes no frames (hung, or
	 * dying slowly) would stall the guest's transmit ring: treat it as
	 * gone.  The poll timer brings us here while the transmitter is on.
	 */
	if (fe->ntok && mono_ns() - fe->tx_progress_ns > TX_STALL_NS) {
		fe_disconnect(fe, "no transmit progress for 1 s");
		return;
	}
	e = pcnet_rx_epoch(fe->dev);
	if (e != fe->epoch) {
		fe->epoch = e;
		if (fe->posted || fe->bposted || fe->nmerge)
			rx_stop_queue(fe);
		else
			fe_forget_rx(fe);
		if (fe->broken) {
			fe_disconnect(fe, "receive queue stop failed");
			return;
		}
	}
	rx_refill(fe);
	for (unsigned int q = 0; q < NR_Q; q++) {
		if (!fe->kick_pending[q])
			continue;
		fe->kick_pending[q] = false;
		if (virtq_drv_kick_needed(&fe->q[q]))
			ipc_eventfd_signal(fe->kick[q]);
	}
}

struct vfe *vfe_new(struct devsrv *srv, const char *path)
{
	struct vfe *fe = calloc(1, sizeof(*fe));
	void *p;

	if (!fe)
		return NULL;
	fe->srv = srv;
	fe->path = path;
	fe->sock = -1;
	fe->retry_fd = -1;
	fe->own_fd = -1;
	fe->backoff_ms = RETRY_MIN_MS;
	for (unsigned int q = 0; q < NR_Q; q++)
		fe->kick[q] = fe->call[q] = -1;
	fe->own_fd = memfd_create("dev-pcnet-vhost", MFD_CLOEXEC);
	if (fe->own_fd < 0 || ftruncate(fe->own_fd, OWN_SIZE))
		goto fail;
	p = mmap(NULL, OWN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fe->own_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	fe->own = p;
	for (unsigned int q = 0; q < NR_Q; q++) {
		fe->kick[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		fe->call[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (fe->kick[q] < 0 || fe->call[q] < 0)
			goto fail;
	}
	fe->retry_fd = timerfd_create(CLOCK_MONOTONIC,
				      TFD_NONBLOCK | TFD_CLOEXEC);
	if (fe->retry_fd < 0 ||
	    devsrv_add_fd(srv, fe->retry_fd, on_retry, fe))
		goto fail;
	return fe;
fail:
	vfe_free(fe);
	return NULL;
}

void vfe_attach(struct vfe *fe, struct pcnet *dev)
{
	fe->dev = dev;
	fe->epoch = pcnet_rx_epoch(dev);
	fe_connect(fe);
}

void vfe_free(struct vfe *fe)
{
	if (!fe)
		return;
	if (fe->sock >= 0) {
		devsrv_del_fd(fe->srv, fe->sock);
		close(fe->sock);
	}
	for (unsigned int q = 0; q < NR_Q; q++) {
		if (fe->q_live[q])
			virtq_drv_free(&fe->q[q]);
		if (fe->call[q] >= 0) {
			devsrv_del_fd(fe->srv, fe->call[q]);
			close(fe->call[q]);
		}
		if (fe->kick[q] >= 0)
			close(fe->kick[q]);
	}
	if (fe->retry_fd >= 0) {
		devsrv_del_fd(fe->srv, fe->retry_fd);
		close(fe->retry_fd);
	}
	if (fe->own)
		munmap(fe->own, OWN_SIZE);
	if (fe->own_fd >= 0)
		close(fe->own_fd);
	free(fe);
}

void vfe_get_stats(const struct vfe *fe, struct vfe_stats *out)
{
	*out = fe->stats;
}

bool vfe_connected(const struct vfe *fe)
{
	return fe->ready;
}
