/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.x, struct vring_desc/avail/used from
 * <linux/virtio_ring.h>), both sides:
 *
 *   device side (dev-net-backend): takes descriptor chains the driver made
 *     available, returns them as used;
 *   driver side (dev-pcnet as vhost-user front-end): places buffers and
 *     collects them back.
 *
 * Where the memory is: the three rings are local pointers the caller
 * obtained with a bounds-checked translation of the whole ring (the
 * back-end: vu_uva_to_ptr() of the SET_VRING_ADDR addresses, which are
 * front-end virtual addresses, with the lengths virtq_*_bytes() give).
 * Descriptor addresses are guest-physical: the device side translates
 * every addr + len through a struct guest_mem (vu_mem.gm, built from
 * SET_MEM_TABLE) and never follows an untranslated address.  The rings
 * themselves must lie in a region of that table: a front-end whose rings
 * are not in guest RAM (dev-pcnet) sends an extra region for them.
 *
 * Trust: the peer can write the shared rings at any time.  Each side keeps
 * its indices privately and only publishes them; a shared value is read
 * once into a local before it is checked and used (descriptors are copied
 * out, never dereferenced twice), so a peer can make a queue look empty,
 * full or broken, never make this side touch memory outside the table.
 * A side that sees a protocol violation marks the queue broken; a broken
 * queue does nothing until it is set up again (virtio's DEVICE_NEEDS_RESET).
 *
 * Memory ordering (virtio 1.x 2.7.13, 2.7.7.2):
 *   driver: writes descriptors and avail->ring[], store-release avail->idx;
 *   device: load-acquire avail->idx, then reads ring entries and
 *     descriptors, fills buffers, writes used->ring[], store-release
 *     used->idx;
 *   driver: load-acquire used->idx, then reads used->ring[] and buffers.
 *   Notification decisions need a full fence (store of our index, then
 *   load of the peer's flags/event index: store-load ordering), so
 *   virtq_dev_need_call() and virtq_drv_kick_needed() issue a seq_cst
 *   fence before they read.
 *
 * Single-threaded per queue on each side: one thread owns a struct
 * virtq_dev / virtq_drv.
 */
#ifndef IPC_VIRTQ_H
#define IPC_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "guest_mem.h"

#define VIRTQ_MAX_SIZE		32768u	/* split rings: power of two up to */
#define VIRTQ_CHAIN_MAX		64u	/* segments virtq_dev_pop() returns */

/* Bytes of each ring for @size entries, event-index fields included. */
static inline size_t virtq_desc_bytes(unsigned size)
{
	return (size_t)size * sizeof(struct vring_desc);
}

static inline size_t virtq_avail_bytes(unsigned size)
{
	return 6 + 2 * (size_t)size;	/* flags, idx, ring[], used_event */
}

static inline size_t virtq_used_bytes(unsigned size)
{
	return 6 + 8 * (size_t)size;	/* flags, idx, ring[], avail_event */
}

/* ---- device side ------------------------------------------------------- */

/* One segment of a chain, already translated and bounds-checked. */
struct virtq_iov {
	void *ptr;
	uint32_t len;
	bool writable;		/* device-writable (VRING_DESC_F_WRITE) */
};

/*
 * A popped chain: the readable segments first (n_out of them), then the
 * writable ones (n_in); out_len/in_len are their byte totals.
 * Zero-length descriptors are skipped (no segment).
 */
struct virtq_chain {
	uint16_t head;		/* give this back to virtq_dev_push() */
	unsigned n;		/* segments in iov[] */
	unsigned n_out, n_in;
	uint32_t out_len, in_len;
	struct virtq_iov iov[VIRTQ_CHAIN_MAX];
};

struct virtq_dev {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	const struct guest_mem *mem;	/* translates descriptor GPAs */
	uint16_t size;			/* private: never re-read */
	uint16_t mask;
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC */
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX */
	bool notify_on_empty;		/* VIRTIO_F_NOTIFY_ON_EMPTY */
	bool broken;
	bool no_kick;			/* virtq_dev_disable_kick() */
	uint16_t last_avail;		/* next avail->ring[] slot to take */
	uint16_t used_idx;		/* published used->idx */
	uint16_t pending;		/* pushed, not yet flushed */
	uint16_t signalled_used;	/* used_idx at the last call */
	bool signalled_valid;
};

/*
 * Sets up the device side over rings of @size entries (a power of two,
 * 1..32768) at local @desc, @avail, @used (aligned 16/2/4, each covering
 * virtq_*_bytes(@size)), translating descriptor addresses through @mem
 * (kept by pointer: it may be refilled, the rings may not move), with the
 * negotiated virtio @features.  last_avail starts at 0 and the used index
 * at what used->idx holds now.  0, or -EINVAL.
 */
int virtq_dev_init(struct virtq_dev *q, unsigned size, void *desc,
		   void *avail, void *used, const struct guest_mem *mem,
		   uint64_t features);

/*
 * Points the queue at the same rings mapped anew (the back-end after a
 * SET_MEM_TABLE replaced its mappings: translate the SET_VRING_ADDR
 * addresses again), keeping every index.  Chains popped before hold
 * pointers into the old mappings: push them (with len 0 if their buffers
 * are gone) but do not touch their segments.  0, or -EINVAL (alignment).
 */
int virtq_dev_move_rings(struct virtq_dev *q, void *desc, void *avail,
			 void *used);

/*
 * Takes the next available chain into @c.  With EVENT_IDX and kicks
 * enabled it also moves avail_event to the new last_avail, so the driver
 * kicks for the next buffer.  1: a chain (give c->head back
 * with virtq_dev_push()); 0: none available; negative: the queue is
 * broken (now or before) and nothing more will be popped:
 *   -EPROTO   avail->idx ran more than size ahead of last_avail;
 *   -EBADMSG  head or next index >= size (or the indirect table's size),
 *             INDIRECT not negotiated / nested / with NEXT / length 0,
 *             not a multiple of 16 or over 32768 entries, a readable
 *             descriptor after a writable one;
 *   -ELOOP    a loop: more descriptors than the queue size in the ring,
 *             more than its entries in an indirect table;
 *   -EFAULT   a descriptor or indirect table outside the memory table;
 *   -E2BIG    more than VIRTQ_CHAIN_MAX segments, or byte totals > 4 GiB-1;
 *   -EIO      the queue was already broken.
 */
int virtq_dev_pop(struct virtq_dev *q, struct virtq_chain *c);

/*
 * Returns chain @head as used, @len bytes written into its writable
 * segments.  Invisible to the driver until virtq_dev_flush().  0, or
 * -EINVAL (head >= size, more pending than the queue holds, broken).
 */
int virtq_dev_push(struct virtq_dev *q, uint16_t head, uint32_t len);

/* Publishes every pushed entry: one store-release of used->idx. */
void virtq_dev_flush(struct virtq_dev *q);

/*
 * After a flush: should the driver be interrupted (SET_VRING_CALL's
 * eventfd)?  EVENT_IDX: whether used->idx passed used_event since the
 * last call; otherwise unless the driver set VRING_AVAIL_F_NO_INTERRUPT
 * (NOTIFY_ON_EMPTY overrides that when the queue ran empty).  A "yes"
 * counts as a call: call when it says so.
 */
bool virtq_dev_need_call(struct virtq_dev *q);

/*
 * Kick suppression, for a polling device: disable asks the driver not to
 * kick (VRING_USED_F_NO_NOTIFY or, with EVENT_IDX, no avail_event update);
 * enable asks it to kick on the next buffer and returns true if buffers
 * arrived meanwhile (process them: no kick will come for those).
 */
void virtq_dev_disable_kick(struct virtq_dev *q);
bool virtq_dev_enable_kick(struct virtq_dev *q);

/* Chains available now (0 if broken). */
unsigned virtq_dev_avail(struct virtq_dev *q);

/* GET_VRING_BASE / SET_VRING_BASE: the next avail index to take. */
static inline uint16_t virtq_dev_get_base(const struct virtq_dev *q)
{
	return q->last_avail;
}

/*
 * Restores last_avail (SET_VRING_BASE after virtq_dev_init()); the used
 * index is set to the same value, as when no chain was in flight.
 */
void virtq_dev_set_base(struct virtq_dev *q, uint16_t last_avail);

static inline bool virtq_dev_broken(const struct virtq_dev *q)
{
	return q->broken;
}

/* ---- driver side ------------------------------------------------------- */

/* One buffer the driver places: a guest-physical address and a length. */
struct virtq_buf {
	uint64_t addr;
	uint32_t len;
};

struct virtq_drv {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t size;
	uint16_t mask;
	bool event_idx;
	bool indirect;
	bool broken;
	bool no_cb;			/* virtq_drv_disable_cb() */
	uint16_t num_free;		/* descriptors on the free list */
	uint16_t free_head;
	uint16_t avail_idx;		/* private: entries added */
	uint16_t kicked_avail;		/* avail_idx at the last kick check */
	uint16_t last_used;		/* next used->ring[] slot to read */
	/* Private per-descriptor state (calloc'ed), never read from rings. */
	uint16_t *next;			/* free-list / chain links */
	uint16_t *chain_len;		/* descriptors in the chain at a head */
	uint32_t *in_len;		/* writable bytes of a head's chain */
	void **token;			/* non-NULL while a head is in flight */
};

/*
 * Sets up the driver side over rings it allocated (zeroed here) of @size
 * entries (power of two, 1..32768; aligned 16/2/4; sizes virtq_*_bytes())
 * with the negotiated @features.  0, -EINVAL or -ENOMEM.  Free with
 * virtq_drv_free().
 */
int virtq_drv_init(struct virtq_drv *q, unsigned size, void *desc,
		   void *avail, void *used, uint64_t features);
void virtq_drv_free(struct virtq_drv *q);

/*
 * Adds one chain: @n_out device-readable buffers then @n_in device-writable
 * ones (@bufs holds n_out + n_in), addresses guest-physical; @token (not
 * NULL) comes back from virtq_drv_get_used().  Not visible to the device
 * until virtq_drv_publish() or virtq_drv_kick_needed(), so several adds
 * are published at once.  0, or -EINVAL (no buffers, NULL token, broken),
 * -ENOSPC (not enough free descriptors).
 */
int virtq_drv_add(struct virtq_drv *q, const struct virtq_buf *bufs,
		  unsigned n_out, unsigned n_in, void *token);

/*
 * Adds one chain as a single VRING_DESC_F_INDIRECT descriptor (needs
 * VIRTIO_RING_F_INDIRECT_DESC): the table is written at local @table,
 * which is guest-physical @table_gpa and holds n_out + n_in descriptors,
 * and must stay untouched until the token comes back.  As virtq_drv_add().
 */
int virtq_drv_add_indirect(struct virtq_drv *q, const struct virtq_buf *bufs,
			   unsigned n_out, unsigned n_in, void *table,
			   uint64_t table_gpa, void *token);

/* Makes every added chain visible: one store-release of avail->idx. */
void virtq_drv_publish(struct virtq_drv *q);

/*
 * Publishes, then says whether the device wants a kick (SET_VRING_KICK's
 * eventfd) for what was added since the last call: EVENT_IDX via
 * avail_event, otherwise unless VRING_USED_F_NO_NOTIFY.
 */
bool virtq_drv_kick_needed(struct virtq_drv *q);

/*
 * Takes the next used chain: returns its token and the device's written
 * length in *@len, or NULL if none is used (or the queue is broken: a
 * used index run ahead, an id that is not in flight, a length beyond the
 * chain's writable bytes).  The chain's descriptors are free again.
 */
void *virtq_drv_get_used(struct virtq_drv *q, uint32_t *len);

/*
 * Interrupt suppression: disable asks the device not to call; enable asks
 * it to call on the next used buffer and returns true if some arrived
 * meanwhile (collect them: no call will come for those).
 */
void virtq_drv_disable_cb(struct virtq_drv *q);
bool virtq_drv_enable_cb(struct virtq_drv *q);

static inline unsigned virtq_drv_num_free(const struct virtq_drv *q)
{
	return q->num_free;
}

static inline bool virtq_drv_broken(const struct virtq_drv *q)
{
	return q->broken;
}

#endif
