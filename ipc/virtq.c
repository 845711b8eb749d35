// SPDX-License-Identifier: MIT
/*
 * Split virtqueues, device and driver side (see virtq.h for the trust and
 * ordering rules).  Shared scalars are accessed with __atomic loads and
 * stores: acquire/release where the virtio ordering needs it, relaxed
 * elsewhere, which still keeps the compiler from tearing or repeating a
 * load of memory the peer writes.  Descriptors are copied out whole with
 * memcpy (an indirect table need not be aligned) and checked on the copy.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtq.h"

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STORE_REL(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define FULL_FENCE()	__atomic_thread_fence(__ATOMIC_SEQ_CST)

static bool pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

static bool rings_ok(unsigned size, const void *desc, const void *avail,
		     const void *used)
{
	if (size > VIRTQ_MAX_SIZE || !pow2(size) || !desc || !avail || !used)
		return false;
	return !((uintptr_t)desc & (VRING_DESC_ALIGN_SIZE - 1)) &&
	       !((uintptr_t)avail & (VRING_AVAIL_ALIGN_SIZE - 1)) &&
	       !((uintptr_t)used & (VRING_USED_ALIGN_SIZE - 1));
}

static bool has(uint64_t features, unsigned bit)
{
	return features & (1ull << bit);
}

/* used_event lives after avail->ring[], avail_event after used->ring[]. */
static __virtio16 *used_event(struct vring_avail *avail, uint16_t size)
{
	return &avail->ring[size];
}

static __virtio16 *avail_event(struct vring_used *used, uint16_t size)
{
	return (__virtio16 *)(void *)&used->ring[size];
}

/* ---- device side ------------------------------------------------------- */

int virtq_dev_init(struct virtq_dev *q, unsigned size, void *desc,
		   void *avail, void *used, const struct guest_mem *mem,
		   uint64_t features)
{
	if (!rings_ok(size, desc, avail, used) || !mem)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->mem = mem;
	q->size = (uint16_t)size;
	q->mask = (uint16_t)(size - 1);
	q->indirect = has(features, VIRTIO_RING_F_INDIRECT_DESC);
	q->event_idx = has(features, VIRTIO_RING_F_EVENT_IDX);
	q->notify_on_empty = has(features, VIRTIO_F_NOTIFY_ON_EMPTY);
	q->used_idx = le16toh(LOAD(&q->used->idx));
	q->signalled_used = q->used_idx;
	if (q->event_idx)
		STORE(avail_event(q->used, q->size), htole16(q->last_avail));
	return 0;
}

int virtq_dev_move_rings(struct virtq_dev *q, void *desc, void *avail,
			 void *used)
{
	if (!rings_ok(q->size, desc, avail, used))
		return -EINVAL;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	return 0;
}

void virtq_dev_set_base(struct virtq_dev *q, uint16_t last_avail)
{
	q->last_avail = last_avail;
	q->used_idx = last_avail;
	q->pending = 0;
	q->signalled_used = last_avail;
	q->signalled_valid = false;
	if (q->event_idx && !q->no_kick)
		STORE(avail_event(q->used, q->size), htole16(last_avail));
}

static int dev_broken(struct virtq_dev *q, int err)
{
	q->broken = true;
	return err;
}

/* Available entries; marks the queue broken if the driver's index ran off. */
static int dev_avail_count(struct virtq_dev *q, uint16_t *n)
{
	uint16_t idx = le16toh(LOAD_ACQ(&q->avail->idx));

	*n = (uint16_t)(idx - q->last_avail);
	if (*n > q->size) {
		*n = 0;
		return dev_broken(q, -EPROTO);
	}
	return 0;
}

unsigned virtq_dev_avail(struct virtq_dev *q)
{
	uint16_t n;

	if (q->broken || dev_avail_count(q, &n))
		return 0;
	return n;
}

static int chain_add(struct virtq_chain *c, void *ptr, uint32_t len,
		     bool writable)
{
	if (c->n == VIRTQ_CHAIN_MAX)
		return -E2BIG;
	if (writable) {
		if (len > UINT32_MAX - c->in_len)
			return -E2BIG;
		c->in_len += len;
		c->n_in++;
	} else {
		if (len > UINT32_MAX - c->out_len)
			return -E2BIG;
		c->out_len += len;
		c->n_out++;
	}
	c->iov[c->n++] = (struct virtq_iov){
		.ptr = ptr, .len = len, .writable = writable,
	};
	return 0;
}

/*
 * Walks the chain at @head.  The walk is bounded by counting: at most
 * size descriptors in the ring and at most its entry count in the one
 * indirect table, so a loop ends as -ELOOP however the links are set.
 */
static int walk_chain(struct virtq_dev *q, uint16_t head,
		      struct virtq_chain *c)
{
	const uint8_t *table = (const uint8_t *)q->desc;
	uint32_t entries = q->size, seen = 0, i = head;
	bool indirect = false, writable_seen = false;

	memset(c, 0, offsetof(struct virtq_chain, iov));
	c->head = head;
	for (;;) {
		struct vring_desc d;
		uint64_t addr;
		uint32_t len;
		uint16_t flags;
		void *ptr;
		int ret;

		if (++seen > entries)
			return -ELOOP;
		memcpy(&d, table + (size_t)i * sizeof(d), sizeof(d));
		addr = le64toh(d.addr);
		len = le32toh(d.len);
		flags = le16toh(d.flags);

		if (flags & VRING_DESC_F_INDIRECT) {
			if (!q->indirect || indirect ||
			    (flags & VRING_DESC_F_NEXT))
				return -EBADMSG;
			if (!len || len % sizeof(d) ||
			    len / sizeof(d) > VIRTQ_MAX_SIZE)
				return -EBADMSG;
			table = guest_mem_ptr(q->mem, addr, len);
			if (!table)
				return -EFAULT;
			/* WRITE on this descriptor means nothing (2.7.5.3). */
			indirect = true;
			entries = len / sizeof(d);
			seen = 0;
			i = 0;
			continue;
		}
		if (flags & VRING_DESC_F_WRITE)
			writable_seen = true;
		else if (writable_seen)
			return -EBADMSG;
		if (len) {
			ptr = guest_mem_ptr(q->mem, addr, len);
			if (!ptr)
				return -EFAULT;
			ret = chain_add(c, ptr, len,
					flags & VRING_DESC_F_WRITE);
			if (ret)
				return ret;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16toh(d.next);
		if (i >= entries)
			return -EBADMSG;
	}
}

int virtq_dev_pop(struct virtq_dev *q, struct virtq_chain *c)
{
	uint16_t n, head;
	int ret;

	if (q->broken)
		return -EIO;
	ret = dev_avail_count(q, &n);
	if (ret)
		return ret;
	if (!n)
		return 0;
	/* Ordered after the acquire of avail->idx above. */
	head = le16toh(LOAD(&q->avail->ring[q->last_avail & q->mask]));
	if (head >= q->size)
		return dev_broken(q, -EBADMSG);
	ret = walk_chain(q, head, c);
	if (ret)
		return dev_broken(q, ret);
	q->last_avail++;
	if (q->event_idx && !q->no_kick)
		STORE(avail_event(q->used, q->size), htole16(q->last_avail));
	return 1;
}

int virtq_dev_push(struct virtq_dev *q, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e;

	if (q->broken || head >= q->size || q->pending >= q->size)
		return -EINVAL;
	e = &q->used->ring[(uint16_t)(q->used_idx + q->pending) & q->mask];
	STORE(&e->id, htole32(head));
	STORE(&e->len, htole32(len));
	q->pending++;
	return 0;
}

void virtq_dev_flush(struct virtq_dev *q)
{
	if (!q->pending)
		return;
	q->used_idx += q->pending;
	q->pending = 0;
	/* The elements above become visible before the index does. */
	STORE_REL(&q->used->idx, htole16(q->used_idx));
}

bool virtq_dev_need_call(struct virtq_dev *q)
{
	uint16_t old = q->signalled_used, new = q->used_idx, event;
	bool valid = q->signalled_valid;

	if (q->broken)
		return false;
	/* Our used->idx store must be visible before we read the driver's
	 * flags or used_event, or both sides could skip the notification. */
	FULL_FENCE();
	if (valid && old == new)
		return false;		/* nothing new since the last call */
	/* Ran empty: NOTIFY_ON_EMPTY calls whatever the flags say. */
	if (q->notify_on_empty &&
	    le16toh(LOAD(&q->avail->idx)) == q->last_avail)
		goto call;
	if (!q->event_idx) {
		if (le16toh(LOAD(&q->avail->flags)) &
		    VRING_AVAIL_F_NO_INTERRUPT)
			return false;
		goto call;
	}
	event = le16toh(LOAD(used_event(q->avail, q->size)));
	if (valid && !vring_need_event(event, new, old))
		return false;
call:
	q->signalled_used = new;
	q->signalled_valid = true;
	return true;
}

void virtq_dev_disable_kick(struct virtq_dev *q)
{
	q->no_kick = true;
	if (!q->event_idx)
		STORE(&q->used->flags, htole16(VRING_USED_F_NO_NOTIFY));
	/* EVENT_IDX: avail_event is left behind, the driver stops kicking. */
}

bool virtq_dev_enable_kick(struct virtq_dev *q)
{
	q->no_kick = false;
	if (q->event_idx)
		STORE(avail_event(q->used, q->size), htole16(q->last_avail));
	else
		STORE(&q->used->flags, 0);
	/* Publish the request before looking for buffers added meanwhile. */
	FULL_FENCE();
	return virtq_dev_avail(q) > 0;
}

/* ---- driver side ------------------------------------------------------- */

int virtq_drv_init(struct virtq_drv *q, unsigned size, void *desc,
		   void *avail, void *used, uint64_t features)
{
	if (!rings_ok(size, desc, avail, used))
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->next = calloc(size, sizeof(*q->next));
	q->chain_len = calloc(size, sizeof(*q->chain_len));
	q->in_len = calloc(size, sizeof(*q->in_len));
	q->token = calloc(size, sizeof(*q->token));
	if (!q->next || !q->chain_len || !q->in_len || !q->token) {
		virtq_drv_free(q);
		return -ENOMEM;
	}
	memset(desc, 0, virtq_desc_bytes(size));
	memset(avail, 0, virtq_avail_bytes(size));
	memset(used, 0, virtq_used_bytes(size));
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->size = (uint16_t)size;
	q->mask = (uint16_t)(size - 1);
	q->event_idx = has(features, VIRTIO_RING_F_EVENT_IDX);
	q->indirect = has(features, VIRTIO_RING_F_INDIRECT_DESC);
	for (unsigned i = 0; i < size; i++)
		q->next[i] = (uint16_t)(i + 1);	/* the last: never followed */
	q->num_free = (uint16_t)size;
	return 0;
}

void virtq_drv_free(struct virtq_drv *q)
{
	free(q->next);
	free(q->chain_len);
	free(q->in_len);
	free(q->token);
	q->next = q->chain_len = NULL;
	q->in_len = NULL;
	q->token = NULL;
	q->num_free = 0;
}

static void put_desc(struct vring_desc *d, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc v = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	memcpy(d, &v, sizeof(v));	/* @d may be unaligned (indirect) */
}

static int drv_add_check(const struct virtq_drv *q,
			 const struct virtq_buf *bufs, unsigned n_out,
			 unsigned n_in, const void *token, unsigned need,
			 uint32_t *in_bytes)
{
	uint64_t in = 0;

	if (q->broken || !token || !bufs || !q->next)
		return -EINVAL;
	if (!n_out && !n_in)
		return -EINVAL;
	if (n_out > VIRTQ_MAX_SIZE || n_in > VIRTQ_MAX_SIZE)
		return -EINVAL;
	if (need > q->num_free)
		return -ENOSPC;
	for (unsigned k = n_out; k < n_out + n_in; k++)
		in += bufs[k].len;
	*in_bytes = in > UINT32_MAX ? UINT32_MAX : (uint32_t)in;
	return 0;
}

/* Takes @n descriptors off the free list for a chain at the returned head. */
static uint16_t drv_take(struct virtq_drv *q, unsigned n, uint32_t in_bytes,
			 void *token)
{
	uint16_t head = q->free_head, i = head;

	for (unsigned k = 0; k < n; k++)
		i = q->next[i];
	q->free_head = i;
	q->num_free -= (uint16_t)n;
	q->chain_len[head] = (uint16_t)n;
	q->in_len[head] = in_bytes;
	q->token[head] = token;
	/* Written now, published by virtq_drv_publish(). */
	STORE(&q->avail->ring[q->avail_idx & q->mask], htole16(head));
	q->avail_idx++;
	return head;
}

int virtq_drv_add(struct virtq_drv *q, const struct virtq_buf *bufs,
		  unsigned n_out, unsigned n_in, void *token)
{
	unsigned total = n_out + n_in;
	uint32_t in_bytes;
	uint16_t i;
	int ret;

	ret = drv_add_check(q, bufs, n_out, n_in, token, total, &in_bytes);
	if (ret)
		return ret;
	i = q->free_head;
	for (unsigned k = 0; k < total; k++) {
		uint16_t flags = k >= n_out ? VRING_DESC_F_WRITE : 0;
		bool more = k + 1 < total;

		if (more)
			flags |= VRING_DESC_F_NEXT;
		put_desc(&q->desc[i], bufs[k].addr, bufs[k].len, flags,
			 more ? q->next[i] : 0);
		i = q->next[i];
	}
	drv_take(q, total, in_bytes, token);
	return 0;
}

int virtq_drv_add_indirect(struct virtq_drv *q, const struct virtq_buf *bufs,
			   unsigned n_out, unsigned n_in, void *table,
			   uint64_t table_gpa, void *token)
{
	unsigned total = n_out + n_in;
	struct vring_desc *t = table;
	uint32_t in_bytes;
	int ret;

	if (!q->indirect || !table)
		return -EINVAL;
	ret = drv_add_check(q, bufs, n_out, n_in, token, 1, &in_bytes);
	if (ret)
		return ret;
	for (unsigned k = 0; k < total; k++) {
		uint16_t flags = k >= n_out ? VRING_DESC_F_WRITE : 0;
		bool more = k + 1 < total;

		if (more)
			flags |= VRING_DESC_F_NEXT;
		put_desc(&t[k], bufs[k].addr, bufs[k].len, flags,
			 more ? (uint16_t)(k + 1) : 0);
	}
	put_desc(&q->desc[q->free_head], table_gpa,
		 (uint32_t)(total * sizeof(struct vring_desc)),
		 VRING_DESC_F_INDIRECT, 0);
	drv_take(q, 1, in_bytes, token);
	return 0;
}

void virtq_drv_publish(struct virtq_drv *q)
{
	/* Descriptors and ring entries become visible before the index. */
	STORE_REL(&q->avail->idx, htole16(q->avail_idx));
}

bool virtq_drv_kick_needed(struct virtq_drv *q)
{
	uint16_t old = q->kicked_avail, new = q->avail_idx;

	virtq_drv_publish(q);
	q->kicked_avail = new;
	if (q->broken || old == new)
		return false;
	/* avail->idx must be visible before we read the device's wishes. */
	FULL_FENCE();
	if (q->event_idx)
		return vring_need_event(le16toh(LOAD(avail_event(q->used,
								 q->size))),
					new, old);
	return !(le16toh(LOAD(&q->used->flags)) & VRING_USED_F_NO_NOTIFY);
}

static void *drv_broken(struct virtq_drv *q)
{
	q->broken = true;
	return NULL;
}

void *virtq_drv_get_used(struct virtq_drv *q, uint32_t *len)
{
	struct vring_used_elem *e;
	uint16_t idx, n, last;
	uint32_t id, l;
	void *token;

	if (q->broken || !q->next)
		return NULL;
	idx = le16toh(LOAD_ACQ(&q->used->idx));
	n = (uint16_t)(idx - q->last_used);
	if (!n && q->event_idx && !q->no_cb) {
		/*
		 * Empty, but our last used_event store may still sit in this
		 * CPU's store buffer: a device that pushed meanwhile read the
		 * older value and saw no need to call.  Fence, then look
		 * again, or that entry waits for a call that never comes.
		 */
		FULL_FENCE();
		idx = le16toh(LOAD_ACQ(&q->used->idx));
		n = (uint16_t)(idx - q->last_used);
	}
	if (!n)
		return NULL;
	/* More used than in flight is impossible from an honest device. */
	if (n > q->size - q->num_free)
		return drv_broken(q);
	e = &q->used->ring[q->last_used & q->mask];
	id = le32toh(LOAD(&e->id));
	l = le32toh(LOAD(&e->len));
	if (id >= q->size || !q->token[id] || l > q->in_len[id])
		return drv_broken(q);
	token = q->token[id];
	q->token[id] = NULL;
	/* Back on the free list: the chain's links are still in next[]. */
	last = (uint16_t)id;
	for (unsigned k = 1; k < q->chain_len[id]; k++)
		last = q->next[last];
	q->next[last] = q->free_head;
	q->free_head = (uint16_t)id;
	q->num_free += q->chain_len[id];
	q->last_used++;
	if (q->event_idx && !q->no_cb)
		STORE(used_event(q->avail, q->size), htole16(q->last_used));
	if (len)
		*len = l;
	return token;
}

void virtq_drv_disable_cb(struct virtq_drv *q)
{
	q->no_cb = true;
	/* Ignored by a device that negotiated EVENT_IDX: harmless. */
	STORE(&q->avail->flags, htole16(VRING_AVAIL_F_NO_INTERRUPT));
}

bool virtq_drv_enable_cb(struct virtq_drv *q)
{
	q->no_cb = false;
	STORE(&q->avail->flags, 0);
	if (q->event_idx)
		STORE(used_event(q->avail, q->size), htole16(q->last_used));
	/* Publish the request before looking for buffers used meanwhile. */
	FULL_FENCE();
	return le16toh(LOAD_ACQ(&q->used->idx)) != q->last_used;
}
