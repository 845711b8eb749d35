// SPDX-License-Identifier: MIT
/*
 * ipc/virtq.h: the driver side and the device side of a split virtqueue
 * talking to each other over one shared region, as dev-pcnet and
 * dev-net-backend will; then a hostile driver (hand-written descriptors)
 * against the device side, and a hostile device against the driver side.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtq.h"

/*
 * The shared region, guest-physical BASE_GPA..: rings first (room for
 * 32768 entries), then buffers.
 */
#define REGION_SIZE	(4u << 20)
#define BASE_GPA	0x40000000ull
#define DESC_OFF	0x000000u
#define AVAIL_OFF	0x080000u
#define USED_OFF	0x0a0000u
#define BUF_OFF		0x200000u

#define F(bit)		(1ull << (bit))
#define F_INDIRECT	F(VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT		F(VIRTIO_RING_F_EVENT_IDX)

struct pair {
	uint8_t *mem;
	struct guest_mem gm;
	struct virtq_drv drv;
	struct virtq_dev dev;
	unsigned size;
	bool drv_up;
};

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	p->mem = aligned_alloc(4096, REGION_SIZE);
	if (!p->mem) {
		free(p);
		return -1;
	}
	memset(p->mem, 0, REGION_SIZE);
	guest_mem_init(&p->gm);
	if (guest_mem_add(&p->gm, BASE_GPA, REGION_SIZE, p->mem, -1, 0))
		return -1;
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	if (p->drv_up)
		virtq_drv_free(&p->drv);
	free(p->mem);
	free(p);
	return 0;
}

static uint64_t gpa(unsigned off)
{
	return BASE_GPA + off;
}

static void *ptr(struct pair *p, unsigned off)
{
	return p->mem + off;
}

/* Both sides over the same rings. */
static void pair_init(struct pair *p, unsigned size, uint64_t drv_features,
		      uint64_t dev_features)
{
	p->size = size;
	assert_int_equal(virtq_drv_init(&p->drv, size, ptr(p, DESC_OFF),
					ptr(p, AVAIL_OFF), ptr(p, USED_OFF),
					drv_features), 0);
	p->drv_up = true;
	assert_int_equal(virtq_dev_init(&p->dev, size, ptr(p, DESC_OFF),
					ptr(p, AVAIL_OFF), ptr(p, USED_OFF),
					&p->gm, dev_features), 0);
}

/* Only the device side: the test plays a (hostile) driver by hand. */
static void dev_only(struct pair *p, unsigned size, uint64_t features)
{
	p->size = size;
	assert_int_equal(virtq_dev_init(&p->dev, size, ptr(p, DESC_OFF),
					ptr(p, AVAIL_OFF), ptr(p, USED_OFF),
					&p->gm, features), 0);
}

static struct vring_desc *desc(struct pair *p)
{
	return ptr(p, DESC_OFF);
}

static struct vring_avail *avail(struct pair *p)
{
	return ptr(p, AVAIL_OFF);
}

static struct vring_used *used(struct pair *p)
{
	return ptr(p, USED_OFF);
}

static void put(struct vring_desc *d, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Makes @head available, as a driver would. */
static void offer(struct pair *p, uint16_t head)
{
	uint16_t idx = avail(p)->idx;

	avail(p)->ring[idx & (p->size - 1)] = head;
	__atomic_store_n(&avail(p)->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

static void pop_fails(struct pair *p, int err)
{
	struct virtq_chain c;

	assert_int_equal(virtq_dev_pop(&p->dev, &c), err);
	assert_true(virtq_dev_broken(&p->dev));
	assert_int_equal(virtq_dev_pop(&p->dev, &c), -EIO);
	assert_int_equal(virtq_dev_avail(&p->dev), 0);
}

/* ---- both sides -------------------------------------------------------- */

static void virtq_one_buffer_goes_to_the_device_and_comes_back(void **state)
{
	struct pair *p = *state;
	struct virtq_buf b = { gpa(BUF_OFF), 64 };
	struct virtq_chain c;
	int token;
	uint32_t len = 99;

	pair_init(p, 8, 0, 0);
	memcpy(ptr(p, BUF_OFF), "frame", 6);
	assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &token), 0);
	assert_int_equal(virtq_drv_num_free(&p->drv), 7);
	/* Not published yet: the device sees nothing. */
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 0);
	assert_true(virtq_drv_kick_needed(&p->drv));
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.n_out, 1);
	assert_int_equal(c.n_in, 0);
	assert_int_equal(c.out_len, 64);
	assert_ptr_equal(c.iov[0].ptr, ptr(p, BUF_OFF));
	assert_false(c.iov[0].writable);
	assert_string_equal(c.iov[0].ptr, "frame");
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 0);
	assert_null(virtq_drv_get_used(&p->drv, &len));
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	virtq_dev_flush(&p->dev);
	assert_true(virtq_dev_need_call(&p->dev));
	assert_false(virtq_dev_need_call(&p->dev));	/* nothing new */
	assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), &token);
	assert_int_equal(len, 0);
	assert_null(virtq_drv_get_used(&p->drv, &len));
	assert_int_equal(virtq_drv_num_free(&p->drv), 8);
	assert_false(virtq_drv_broken(&p->drv));
	assert_false(virtq_dev_broken(&p->dev));
}

static void virtq_chains_of_1_to_n_keep_order_direction_and_lengths(
	void **state)
{
	struct pair *p = *state;
	const unsigned size = 16;
	int tokens[16];

	pair_init(p, size, 0, 0);
	for (unsigned n = 1; n <= size; n++) {
		struct virtq_buf b[16];
		unsigned n_out = n / 2, n_in = n - n_out;
		struct virtq_chain c;
		uint32_t len;

		for (unsigned k = 0; k < n; k++)
			b[k] = (struct virtq_buf){
				gpa(BUF_OFF + k * 0x1000), 100 + k,
			};
		assert_int_equal(virtq_drv_add(&p->drv, b, n_out, n_in,
					       &tokens[n - 1]), 0);
		virtq_drv_publish(&p->drv);
		assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
		assert_int_equal(c.n, n);
		assert_int_equal(c.n_out, n_out);
		assert_int_equal(c.n_in, n_in);
		for (unsigned k = 0; k < n; k++) {
			assert_ptr_equal(c.iov[k].ptr,
					 ptr(p, BUF_OFF + k * 0x1000));
			assert_int_equal(c.iov[k].len, 100 + k);
			assert_int_equal(c.iov[k].writable, k >= n_out);
		}
		assert_int_equal(virtq_dev_push(&p->dev, c.head, c.in_len), 0);
		virtq_dev_flush(&p->dev);
		assert_ptr_equal(virtq_drv_get_used(&p->drv, &len),
				 &tokens[n - 1]);
		assert_int_equal(len, c.in_len);
		assert_int_equal(virtq_drv_num_free(&p->drv), size);
	}
}

static void virtq_full_queue_refuses_more_and_frees_on_use(void **state)
{
	struct pair *p = *state;
	struct virtq_buf b[3] = {
		{ gpa(BUF_OFF), 10 }, { gpa(BUF_OFF + 16), 10 },
		{ gpa(BUF_OFF + 32), 10 },
	};
	int t[4];
	struct virtq_chain c;
	uint32_t len;

	pair_init(p, 4, 0, 0);
	assert_int_equal(virtq_drv_add(&p->drv, b, 1, 2, &t[0]), 0);
	assert_int_equal(virtq_drv_add(&p->drv, b, 2, 0, &t[1]), -ENOSPC);
	assert_int_equal(virtq_drv_add(&p->drv, b, 1, 0, &t[1]), 0);
	assert_int_equal(virtq_drv_add(&p->drv, b, 1, 0, &t[2]), -ENOSPC);
	assert_int_equal(virtq_drv_add(&p->drv, b, 0, 0, &t[2]), -EINVAL);
	assert_int_equal(virtq_drv_add(&p->drv, b, 1, 0, NULL), -EINVAL);
	virtq_drv_publish(&p->drv);
	assert_int_equal(virtq_dev_avail(&p->dev), 2);
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 20), 0);
	virtq_dev_flush(&p->dev);
	assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), &t[0]);
	assert_int_equal(len, 20);
	assert_int_equal(virtq_drv_num_free(&p->drv), 3);
	assert_int_equal(virtq_drv_add(&p->drv, b, 1, 2, &t[2]), 0);
}

static void virtq_indirect_chain_is_walked_as_one_descriptor(void **state)
{
	struct pair *p = *state;
	struct virtq_buf b[5];
	struct virtq_chain c;
	int token;
	uint32_t len;

	pair_init(p, 4, F_INDIRECT, F_INDIRECT);
	for (unsigned k = 0; k < 5; k++)
		b[k] = (struct virtq_buf){ gpa(BUF_OFF + k * 256), 256 };
	/* The table at an odd address: it need not be aligned. */
	assert_int_equal(virtq_drv_add_indirect(&p->drv, b, 2, 3,
						ptr(p, BUF_OFF + 0x10001),
						gpa(BUF_OFF + 0x10001), &token),
			 0);
	assert_int_equal(virtq_drv_num_free(&p->drv), 3);
	assert_true(virtq_drv_kick_needed(&p->drv));
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.n_out, 2);
	assert_int_equal(c.n_in, 3);
	assert_int_equal(c.out_len, 512);
	assert_int_equal(c.in_len, 768);
	for (unsigned k = 0; k < 5; k++)
		assert_ptr_equal(c.iov[k].ptr, ptr(p, BUF_OFF + k * 256));
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 768), 0);
	virtq_dev_flush(&p->dev);
	assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), &token);
	assert_int_equal(len, 768);
	assert_int_equal(virtq_drv_num_free(&p->drv), 4);
}

static void virtq_indirect_without_the_feature_is_refused(void **state)
{
	struct pair *p = *state;
	struct virtq_buf b = { gpa(BUF_OFF), 16 };
	int token;

	/* The driver side will not make one ... */
	pair_init(p, 4, 0, 0);
	assert_int_equal(virtq_drv_add_indirect(&p->drv, &b, 1, 0,
						ptr(p, BUF_OFF + 0x1000),
						gpa(BUF_OFF + 0x1000), &token),
			 -EINVAL);
	virtq_drv_free(&p->drv);
	/* ... and the device side refuses one it did not negotiate. */
	pair_init(p, 4, F_INDIRECT, 0);
	assert_int_equal(virtq_drv_add_indirect(&p->drv, &b, 1, 0,
						ptr(p, BUF_OFF + 0x1000),
						gpa(BUF_OFF + 0x1000), &token),
			 0);
	virtq_drv_publish(&p->drv);
	pop_fails(p, -EBADMSG);
}

static void virtq_16_bit_indices_wrap_around(void **state)
{
	struct pair *p = *state;
	const unsigned rounds = 70000;	/* past 65535 on every index */

	pair_init(p, 4, F_EVENT, F_EVENT);
	for (unsigned i = 0; i < rounds; i++) {
		struct virtq_buf b[2] = {
			{ gpa(BUF_OFF + (i % 64) * 64), 32 },
			{ gpa(BUF_OFF + 0x8000), 32 },
		};
		void *tok = (void *)(uintptr_t)(i + 1);
		struct virtq_chain c;
		uint32_t len;

		assert_int_equal(virtq_drv_add(&p->drv, b, 1, 1, tok), 0);
		virtq_drv_kick_needed(&p->drv);
		assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
		assert_ptr_equal(c.iov[0].ptr, ptr(p, BUF_OFF + (i % 64) * 64));
		assert_int_equal(virtq_dev_push(&p->dev, c.head, i % 33), 0);
		virtq_dev_flush(&p->dev);
		virtq_dev_need_call(&p->dev);
		assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), tok);
		assert_int_equal(len, i % 33);
	}
	assert_int_equal(avail(p)->idx, rounds & 0xffff);
	assert_int_equal(used(p)->idx, rounds & 0xffff);
	assert_int_equal(virtq_dev_get_base(&p->dev), rounds & 0xffff);
	assert_false(virtq_dev_broken(&p->dev));
	assert_false(virtq_drv_broken(&p->drv));
}

static void virtq_used_entries_appear_in_one_batch_on_flush(void **state)
{
	struct pair *p = *state;
	struct virtq_chain c[4];
	int t[4];
	uint32_t len;

	pair_init(p, 8, 0, 0);
	for (unsigned i = 0; i < 4; i++) {
		struct virtq_buf b = { gpa(BUF_OFF + i * 64), 64 };

		assert_int_equal(virtq_drv_add(&p->drv, &b, 0, 1, &t[i]), 0);
	}
	assert_true(virtq_drv_kick_needed(&p->drv));	/* one kick for 4 */
	assert_false(virtq_drv_kick_needed(&p->drv));	/* nothing new */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(virtq_dev_pop(&p->dev, &c[i]), 1);
	/* Completed out of order, published together. */
	for (unsigned i = 4; i-- > 0;)
		assert_int_equal(virtq_dev_push(&p->dev, c[i].head, i), 0);
	assert_int_equal(used(p)->idx, 0);
	assert_null(virtq_drv_get_used(&p->drv, &len));
	virtq_dev_flush(&p->dev);
	assert_int_equal(used(p)->idx, 4);
	for (unsigned i = 4; i-- > 0;) {
		assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), &t[i]);
		assert_int_equal(len, i);
	}
	assert_null(virtq_drv_get_used(&p->drv, &len));
	assert_int_equal(virtq_drv_num_free(&p->drv), 8);
}

static void virtq_event_idx_suppresses_kicks_and_calls(void **state)
{
	struct pair *p = *state;
	struct virtq_buf b = { gpa(BUF_OFF), 64 };
	struct virtq_chain c;
	int t[4];
	uint32_t len;

	pair_init(p, 8, F_EVENT, F_EVENT);
	/* Kicks follow avail_event, which the device moves as it pops. */
	assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[0]), 0);
	assert_true(virtq_drv_kick_needed(&p->drv));
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[1]), 0);
	assert_true(virtq_drv_kick_needed(&p->drv));
	virtq_dev_disable_kick(&p->dev);	/* the device polls now */
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[2]), 0);
	assert_false(virtq_drv_kick_needed(&p->drv));
	/* Re-enabling finds what came meanwhile: no kick is owed for it. */
	assert_true(virtq_dev_enable_kick(&p->dev));
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	assert_false(virtq_dev_enable_kick(&p->dev));

	/* Calls follow used_event, which the driver moves as it collects. */
	virtq_dev_flush(&p->dev);		/* used->idx 3 */
	assert_true(virtq_dev_need_call(&p->dev));	/* the first one */
	assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[3]), 0);
	virtq_drv_kick_needed(&p->drv);
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	virtq_dev_flush(&p->dev);		/* used->idx 4, used_event 0 */
	assert_false(virtq_dev_need_call(&p->dev));
	for (unsigned i = 0; i < 4; i++)
		assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), &t[i]);
	assert_false(virtq_drv_enable_cb(&p->drv));	/* used_event 4 */
	assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[0]), 0);
	virtq_drv_kick_needed(&p->drv);
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	virtq_dev_flush(&p->dev);		/* used->idx 5 passes 4 */
	assert_true(virtq_dev_need_call(&p->dev));
	assert_true(virtq_drv_enable_cb(&p->drv));	/* one is waiting */
}

static void virtq_flags_suppress_kicks_and_calls_without_event_idx(
	void **state)
{
	struct pair *p = *state;
	struct virtq_buf b = { gpa(BUF_OFF), 64 };
	struct virtq_chain c;
	int t[3];
	uint32_t len;

	pair_init(p, 8, 0, 0);
	virtq_dev_disable_kick(&p->dev);
	assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[0]), 0);
	assert_false(virtq_drv_kick_needed(&p->drv));
	assert_true(virtq_dev_enable_kick(&p->dev));
	assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[1]), 0);
	assert_true(virtq_drv_kick_needed(&p->drv));

	virtq_drv_disable_cb(&p->drv);
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	virtq_dev_flush(&p->dev);
	assert_false(virtq_dev_need_call(&p->dev));
	assert_true(virtq_drv_enable_cb(&p->drv));
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	virtq_dev_flush(&p->dev);
	assert_true(virtq_dev_need_call(&p->dev));
	assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), &t[0]);
	assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), &t[1]);
	assert_false(virtq_drv_enable_cb(&p->drv));
}

static void virtq_notify_on_empty_calls_despite_no_interrupt(void **state)
{
	struct pair *p = *state;
	const uint64_t f = F(VIRTIO_F_NOTIFY_ON_EMPTY);
	struct virtq_buf b = { gpa(BUF_OFF), 64 };
	struct virtq_chain c;
	int t[2];

	pair_init(p, 8, f, f);
	virtq_drv_disable_cb(&p->drv);
	assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[0]), 0);
	assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[1]), 0);
	virtq_drv_publish(&p->drv);
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	virtq_dev_flush(&p->dev);
	assert_false(virtq_dev_need_call(&p->dev));	/* one still queued */
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	virtq_dev_flush(&p->dev);
	assert_true(virtq_dev_need_call(&p->dev));	/* ran empty */
}

static void virtq_base_survives_a_device_restart(void **state)
{
	struct pair *p = *state;
	struct virtq_buf b = { gpa(BUF_OFF), 64 };
	struct virtq_chain c;
	int t[3];
	uint32_t len;
	uint16_t base;

	pair_init(p, 8, 0, 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[i]), 0);
	virtq_drv_publish(&p->drv);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
		assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	}
	virtq_dev_flush(&p->dev);
	base = virtq_dev_get_base(&p->dev);	/* GET_VRING_BASE */
	assert_int_equal(base, 2);
	/* A new back-end process: SET_VRING_ADDR, SET_VRING_BASE. */
	memset(&p->dev, 0xa5, sizeof(p->dev));
	assert_int_equal(virtq_dev_init(&p->dev, 8, ptr(p, DESC_OFF),
					ptr(p, AVAIL_OFF), ptr(p, USED_OFF),
					&p->gm, 0), 0);
	virtq_dev_set_base(&p->dev, base);
	assert_int_equal(virtq_dev_avail(&p->dev), 1);
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	virtq_dev_flush(&p->dev);
	for (unsigned i = 0; i < 3; i++)
		assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), &t[i]);
}

static void virtq_rings_moved_to_a_new_mapping_keep_their_indices(
	void **state)
{
	struct pair *p = *state;
	struct virtq_buf b = { gpa(BUF_OFF), 64 };
	struct virtq_chain c;
	uint8_t *copy = aligned_alloc(4096, BUF_OFF);
	int t[3];
	uint32_t len;

	assert_non_null(copy);
	pair_init(p, 8, 0, 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(virtq_drv_add(&p->drv, &b, 1, 0, &t[i]), 0);
	virtq_drv_publish(&p->drv);
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	/* The same ring memory seen through a second mapping (a copy). */
	memcpy(copy, p->mem, BUF_OFF);
	assert_int_equal(virtq_dev_move_rings(&p->dev, copy + DESC_OFF,
					      copy + AVAIL_OFF, copy + 1),
			 -EINVAL);
	assert_int_equal(virtq_dev_move_rings(&p->dev, copy + DESC_OFF,
					      copy + AVAIL_OFF,
					      copy + USED_OFF), 0);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(virtq_dev_push(&p->dev, c.head, 0), 0);
	virtq_dev_flush(&p->dev);
	assert_int_equal(((struct vring_used *)(void *)(copy + USED_OFF))->idx,
			 2);
	assert_int_equal(virtq_dev_avail(&p->dev), 1);
	/* Copy back so that the driver sees what the device wrote. */
	memcpy(p->mem + USED_OFF, copy + USED_OFF, virtq_used_bytes(8));
	assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), &t[0]);
	assert_ptr_equal(virtq_drv_get_used(&p->drv, &len), &t[1]);
	free(copy);
}

static void virtq_init_refuses_bad_sizes_and_alignment(void **state)
{
	struct pair *p = *state;
	struct virtq_dev d;
	struct virtq_drv q;
	void *de = ptr(p, DESC_OFF), *av = ptr(p, AVAIL_OFF);
	void *us = ptr(p, USED_OFF);

	assert_int_equal(virtq_dev_init(&d, 0, de, av, us, &p->gm, 0), -EINVAL);
	assert_int_equal(virtq_dev_init(&d, 3, de, av, us, &p->gm, 0), -EINVAL);
	assert_int_equal(virtq_dev_init(&d, 65536, de, av, us, &p->gm, 0),
			 -EINVAL);
	assert_int_equal(virtq_dev_init(&d, 8, ptr(p, 8), av, us, &p->gm, 0),
			 -EINVAL);
	assert_int_equal(virtq_dev_init(&d, 8, de, ptr(p, AVAIL_OFF + 1), us,
					&p->gm, 0), -EINVAL);
	assert_int_equal(virtq_dev_init(&d, 8, de, av, ptr(p, USED_OFF + 2),
					&p->gm, 0), -EINVAL);
	assert_int_equal(virtq_dev_init(&d, 8, de, av, us, NULL, 0), -EINVAL);
	assert_int_equal(virtq_dev_init(&d, 32768, de, av, us, &p->gm, 0), 0);
	assert_int_equal(virtq_drv_init(&q, 12, de, av, us, 0), -EINVAL);
	assert_int_equal(virtq_drv_init(&q, 32768, de, av, us, 0), 0);
	assert_int_equal(virtq_drv_num_free(&q), 32768);
	virtq_drv_free(&q);
	assert_int_equal(virtq_dev_push(&d, 32768, 0), -EINVAL);
}

/* ---- a hostile driver against the device side ------------------------- */

static void virtq_descriptor_loop_is_rejected(void **state)
{
	struct pair *p = *state;

	dev_only(p, 8, 0);
	put(&desc(p)[0], gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 1);
	put(&desc(p)[1], gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 0);
	offer(p, 0);
	pop_fails(p, -ELOOP);
}

static void virtq_zero_length_self_loop_is_rejected(void **state)
{
	struct pair *p = *state;

	/* No segment is ever produced: only the count stops this one. */
	dev_only(p, 8, 0);
	put(&desc(p)[3], gpa(BUF_OFF), 0, VRING_DESC_F_NEXT, 3);
	offer(p, 3);
	pop_fails(p, -ELOOP);
}

static void virtq_chain_of_exactly_queue_size_is_accepted(void **state)
{
	struct pair *p = *state;
	struct virtq_chain c;

	dev_only(p, 8, 0);
	for (unsigned i = 0; i < 8; i++)
		put(&desc(p)[i], gpa(BUF_OFF + i), 1,
		    i < 7 ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	offer(p, 0);
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(c.n, 8);
}

static void virtq_indirect_table_loop_is_rejected(void **state)
{
	struct pair *p = *state;
	struct vring_desc *t = ptr(p, BUF_OFF + 0x1000);

	dev_only(p, 8, F_INDIRECT);
	put(&t[0], gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 1);
	put(&t[1], gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 0);
	put(&desc(p)[0], gpa(BUF_OFF + 0x1000), 32, VRING_DESC_F_INDIRECT, 0);
	offer(p, 0);
	pop_fails(p, -ELOOP);
}

static void virtq_nested_indirect_is_rejected(void **state)
{
	struct pair *p = *state;
	struct vring_desc *t = ptr(p, BUF_OFF + 0x1000);

	dev_only(p, 8, F_INDIRECT);
	put(&t[0], gpa(BUF_OFF + 0x1000), 16, VRING_DESC_F_INDIRECT, 0);
	put(&desc(p)[0], gpa(BUF_OFF + 0x1000), 16, VRING_DESC_F_INDIRECT, 0);
	offer(p, 0);
	pop_fails(p, -EBADMSG);
}

static void virtq_malformed_indirect_descriptors_are_rejected(void **state)
{
	struct pair *p = *state;
	const struct { uint32_t len; uint16_t flags; int err; } bad[] = {
		{ 0, VRING_DESC_F_INDIRECT, -EBADMSG },
		{ 24, VRING_DESC_F_INDIRECT, -EBADMSG },
		{ 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, -EBADMSG },
		{ (VIRTQ_MAX_SIZE + 1) * 16, VRING_DESC_F_INDIRECT, -EBADMSG },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(p->mem, 0, BUF_OFF);
		dev_only(p, 8, F_INDIRECT);
		put(&desc(p)[0], gpa(BUF_OFF), bad[i].len, bad[i].flags, 1);
		offer(p, 0);
		pop_fails(p, bad[i].err);
	}
	/* A table that runs off the end of the region. */
	memset(p->mem, 0, BUF_OFF);
	dev_only(p, 8, F_INDIRECT);
	put(&desc(p)[0], gpa(REGION_SIZE - 16), 32, VRING_DESC_F_INDIRECT, 0);
	offer(p, 0);
	pop_fails(p, -EFAULT);
}

static void virtq_indirect_next_beyond_its_table_is_rejected(void **state)
{
	struct pair *p = *state;
	struct vring_desc *t = ptr(p, BUF_OFF + 0x1000);

	dev_only(p, 8, F_INDIRECT);
	put(&t[0], gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 2);	/* 2 entries */
	put(&t[1], gpa(BUF_OFF), 16, 0, 0);
	put(&desc(p)[0], gpa(BUF_OFF + 0x1000), 32, VRING_DESC_F_INDIRECT, 0);
	offer(p, 0);
	pop_fails(p, -EBADMSG);
}

static void virtq_out_of_table_addresses_are_rejected(void **state)
{
	struct pair *p = *state;
	struct virtq_chain c;
	const struct { uint64_t addr; uint32_t len; } bad[] = {
		{ BASE_GPA - 1, 1 },
		{ BASE_GPA - 1, 2 },
		{ BASE_GPA + REGION_SIZE, 1 },
		{ BASE_GPA + REGION_SIZE - 1, 2 },
		{ 0, 64 },
		{ UINT64_MAX, 1 },
		{ UINT64_MAX - 7, 16 },		/* addr + len wraps */
		{ BASE_GPA + 8, UINT32_MAX },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(p->mem, 0, BUF_OFF);
		dev_only(p, 8, 0);
		put(&desc(p)[0], bad[i].addr, bad[i].len, 0, 0);
		offer(p, 0);
		pop_fails(p, -EFAULT);
	}
	/* The very first and the very last byte are fine. */
	memset(p->mem, 0, BUF_OFF);
	dev_only(p, 8, 0);
	put(&desc(p)[0], BASE_GPA, 1, VRING_DESC_F_NEXT, 1);
	put(&desc(p)[1], BASE_GPA + REGION_SIZE - 1, 1, 0, 0);
	offer(p, 0);
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_ptr_equal(c.iov[0].ptr, p->mem);
	assert_ptr_equal(c.iov[1].ptr, p->mem + REGION_SIZE - 1);
}

static void virtq_total_length_overflow_is_rejected(void **state)
{
	struct pair *p = *state;
	struct guest_mem big;

	/*
	 * A 3 GiB region that is never touched (the walker translates, it
	 * does not read buffers), so two descriptors can exceed 4 GiB.
	 */
	guest_mem_init(&big);
	assert_int_equal(guest_mem_add(&big, 0, 3ull << 30, p->mem, -1, 0), 0);
	assert_int_equal(virtq_dev_init(&p->dev, 8, ptr(p, DESC_OFF),
					ptr(p, AVAIL_OFF), ptr(p, USED_OFF),
					&big, 0), 0);
	p->size = 8;
	put(&desc(p)[0], 0, 0xc0000000u, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
	    1);
	put(&desc(p)[1], 0, 0x40000000u, VRING_DESC_F_WRITE, 0);
	offer(p, 0);
	pop_fails(p, -E2BIG);
}

static void virtq_avail_index_jump_breaks_the_queue(void **state)
{
	struct pair *p = *state;

	dev_only(p, 8, 0);
	put(&desc(p)[0], gpa(BUF_OFF), 16, 0, 0);
	avail(p)->idx = 9;		/* 9 new entries in a ring of 8 */
	pop_fails(p, -EPROTO);
	/* Exactly size ahead is legal. */
	memset(p->mem, 0, BUF_OFF);
	dev_only(p, 8, 0);
	put(&desc(p)[0], gpa(BUF_OFF), 16, 0, 0);
	avail(p)->idx = 8;
	assert_int_equal(virtq_dev_avail(&p->dev), 8);
	/* Going backwards is a jump too. */
	memset(p->mem, 0, BUF_OFF);
	dev_only(p, 8, 0);
	avail(p)->idx = 0xffff;
	pop_fails(p, -EPROTO);
}

static void virtq_descriptor_index_beyond_size_is_rejected(void **state)
{
	struct pair *p = *state;

	dev_only(p, 8, 0);
	offer(p, 8);			/* head == size */
	pop_fails(p, -EBADMSG);

	memset(p->mem, 0, BUF_OFF);
	dev_only(p, 8, 0);
	put(&desc(p)[0], gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 8);
	offer(p, 0);
	pop_fails(p, -EBADMSG);

	memset(p->mem, 0, BUF_OFF);
	dev_only(p, 8, 0);
	offer(p, 0xffff);
	pop_fails(p, -EBADMSG);
}

static void virtq_readable_after_writable_is_rejected(void **state)
{
	struct pair *p = *state;

	dev_only(p, 8, 0);
	put(&desc(p)[0], gpa(BUF_OFF), 16,
	    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	put(&desc(p)[1], gpa(BUF_OFF + 16), 16, 0, 0);
	offer(p, 0);
	pop_fails(p, -EBADMSG);
}

static void virtq_chain_beyond_the_segment_limit_is_rejected(void **state)
{
	struct pair *p = *state;
	const unsigned n = VIRTQ_CHAIN_MAX + 1;
	struct virtq_chain c;

	dev_only(p, 128, 0);
	for (unsigned i = 0; i < n; i++)
		put(&desc(p)[i], gpa(BUF_OFF + i), 1,
		    i + 1 < n ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	offer(p, 1);			/* VIRTQ_CHAIN_MAX segments: fine */
	assert_int_equal(virtq_dev_pop(&p->dev, &c), 1);
	assert_int_equal(c.n, VIRTQ_CHAIN_MAX);
	offer(p, 0);
	pop_fails(p, -E2BIG);
}

static void virtq_device_push_refuses_more_than_the_queue_holds(void **state)
{
	struct pair *p = *state;

	dev_only(p, 4, 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(virtq_dev_push(&p->dev, (uint16_t)i, 0), 0);
	assert_int_equal(virtq_dev_push(&p->dev, 0, 0), -EINVAL);
	assert_int_equal(virtq_dev_push(&p->dev, 4, 0), -EINVAL);
	virtq_dev_flush(&p->dev);
	assert_int_equal(used(p)->idx, 4);
}

/* ---- a hostile device against the driver side ------------------------- */

static void virtq_driver_refuses_a_used_index_run_ahead(void **state)
{
	struct pair *p = *state;
	struct virtq_buf b = { gpa(BUF_OFF), 64 };
	int t;
	uint32_t len;

	pair_init(p, 8, 0, 0);
	assert_int_equal(virtq_drv_add(&p->drv, &b, 0, 1, &t), 0);
	virtq_drv_publish(&p->drv);
	used(p)->idx = 2;		/* two used, one in flight */
	assert_null(virtq_drv_get_used(&p->drv, &len));
	assert_true(virtq_drv_broken(&p->drv));
	assert_int_equal(virtq_drv_add(&p->drv, &b, 0, 1, &t), -EINVAL);
}

static void virtq_driver_refuses_an_id_not_in_flight(void **state)
{
	struct pair *p = *state;
	struct virtq_buf b = { gpa(BUF_OFF), 64 };
	int t;
	uint32_t len;

	pair_init(p, 8, 0, 0);
	assert_int_equal(virtq_drv_add(&p->drv, &b, 0, 1, &t), 0);
	virtq_drv_publish(&p->drv);
	used(p)->ring[0].id = 5;	/* head is 0 */
	used(p)->idx = 1;
	assert_null(virtq_drv_get_used(&p->drv, &len));
	assert_true(virtq_drv_broken(&p->drv));

	virtq_drv_free(&p->drv);
	pair_init(p, 8, 0, 0);
	assert_int_equal(virtq_drv_add(&p->drv, &b, 0, 1, &t), 0);
	used(p)->ring[0].id = 8;	/* beyond the ring */
	used(p)->idx = 1;
	assert_null(virtq_drv_get_used(&p->drv, &len));
	assert_true(virtq_drv_broken(&p->drv));
}

static void virtq_driver_refuses_a_length_beyond_the_buffers(void **state)
{
	struct pair *p = *state;
	struct virtq_buf b[2] = { { gpa(BUF_OFF), 64 }, { gpa(BUF_OFF), 100 } };
	int t;
	uint32_t len;

	pair_init(p, 8, 0, 0);
	assert_int_equal(virtq_drv_add(&p->drv, b, 1, 1, &t), 0);
	used(p)->ring[0].id = 0;
	used(p)->ring[0].len = 101;	/* only 100 writable bytes */
	used(p)->idx = 1;
	assert_null(virtq_drv_get_used(&p->drv, &len));
	assert_true(virtq_drv_broken(&p->drv));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(virtq_one_buffer_goes_to_the_device_and_comes_back),
		T(virtq_chains_of_1_to_n_keep_order_direction_and_lengths),
		T(virtq_full_queue_refuses_more_and_frees_on_use),
		T(virtq_indirect_chain_is_walked_as_one_descriptor),
		T(virtq_indirect_without_the_feature_is_refused),
		T(virtq_16_bit_indices_wrap_around),
		T(virtq_used_entries_appear_in_one_batch_on_flush),
		T(virtq_event_idx_suppresses_kicks_and_calls),
		T(virtq_flags_suppress_kicks_and_calls_without_event_idx),
		T(virtq_notify_on_empty_calls_despite_no_interrupt),
		T(virtq_base_survives_a_device_restart),
		T(virtq_rings_moved_to_a_new_mapping_keep_their_indices),
		T(virtq_init_refuses_bad_sizes_and_alignment),
		T(virtq_descriptor_loop_is_rejected),
		T(virtq_zero_length_self_loop_is_rejected),
		T(virtq_chain_of_exactly_queue_size_is_accepted),
		T(virtq_indirect_table_loop_is_rejected),
		T(virtq_nested_indirect_is_rejected),
		T(virtq_malformed_indirect_descriptors_are_rejected),
		T(virtq_indirect_next_beyond_its_table_is_rejected),
		T(virtq_out_of_table_addresses_are_rejected),
		T(virtq_total_length_overflow_is_rejected),
		T(virtq_avail_index_jump_breaks_the_queue),
		T(virtq_descriptor_index_beyond_size_is_rejected),
		T(virtq_readable_after_writable_is_rejected),
		T(virtq_chain_beyond_the_segment_limit_is_rejected),
		T(virtq_device_push_refuses_more_than_the_queue_holds),
		T(virtq_driver_refuses_a_used_index_run_ahead),
		T(virtq_driver_refuses_an_id_not_in_flight),
		T(virtq_driver_refuses_a_length_beyond_the_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
