// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for what a hostile vhost-user peer controls:
 *
 *   byte 0 bits 6-7 pick the mode, bits 0-5 a count:
 *   0 message   bytes 1.. are a message (12-byte header, payload), bits
 *               0-5 the fd count that "came" with it; vu_msg_check() runs
 *               as back-end and as front-end; a SET_MEM_TABLE or
 *               ADD_MEM_REG it accepts is mapped for real (dups of one
 *               small memfd) and translated at fuzzed addresses
 *   1 device    the device side of a queue over a region the input fills:
 *               byte 1 = log2 queue size (low 3 bits, 1..128) and features
 *               (bit 6 INDIRECT, bit 7 EVENT_IDX); then the descriptor
 *               table, the avail ring, and an area for indirect tables;
 *               chains are popped, checked, written and returned
 *   2 driver    the driver side with chains in flight against a used ring
 *               the input fills
 *
 * Buffers are heap-allocated at their exact size so ASan sees any access
 * outside them; the invariants callers rely on abort on failure.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost_user.h"
#include "virtq.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- messages ---------------------------------------------------------- */

#define MEMFD_SIZE	(64u << 10)

static int memfd(void)
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("vhost-fuzz", MFD_CLOEXEC);
		CHECK(fd >= 0);
		CHECK(ftruncate(fd, MEMFD_SIZE) == 0);
	}
	return fd;
}

/* Reads and writes back one byte: faults unless it is mapped writable. */
static void touch(volatile uint8_t *b)
{
	uint8_t v = *b;

	*b = v;
}

/* Every pointer the map hands out lies inside a mapping: touch its ends. */
static void probe(const struct vu_mem *m, uint64_t a, uint64_t len)
{
	uint8_t *p;

	p = vu_gpa_to_ptr(m, a, len);
	if (p) {
		touch(p);
		touch(p + (len ? len - 1 : 0));
	}
	p = vu_uva_to_ptr(m, a, len);
	if (p) {
		touch(p);
		touch(p + (len ? len - 1 : 0));
	}
}

static void map_accepted(const struct vu_msg *m, const uint8_t *data,
			 size_t size)
{
	struct vu_mem mem;
	int fds[VHOST_MEMORY_MAX_NREGIONS];
	unsigned n = 0;
	int rc;

	vu_mem_init(&mem);
	if (m->hdr.request == VHOST_USER_SET_MEM_TABLE) {
		n = m->payload.mem.nregions;
		CHECK(n >= 1 && n <= VHOST_MEMORY_MAX_NREGIONS);
		for (unsigned i = 0; i < n; i++) {
			fds[i] = dup(memfd());
			CHECK(fds[i] >= 0);
		}
		rc = vu_mem_set_table(&mem, &m->payload.mem, fds);
		for (unsigned i = 0; i < n; i++)
			CHECK(fds[i] == -1);
	} else {
		rc = vu_mem_add_region(&mem, &m->payload.mem_reg.region,
				       dup(memfd()));
	}
	if (rc == 0) {
		for (unsigned i = 0; i < mem.gm.nr; i++) {
			const struct guest_mem_region *r = &mem.gm.r[i];

			CHECK(r->size <= MEMFD_SIZE);
			probe(&mem, r->gpa, r->size);
			probe(&mem, mem.map[i].uva, r->size);
			probe(&mem, r->gpa + r->size - 1, 1);
			CHECK(!vu_gpa_to_ptr(&mem, r->gpa, r->size + 1));
		}
	}
	/* Fuzzed addresses and lengths from the input's tail. */
	for (size_t off = 0; off + 16 <= size && off < 256; off += 16) {
		uint64_t a, l;

		memcpy(&a, data + off, 8);
		memcpy(&l, data + off + 8, 8);
		probe(&mem, a, l % (2 * MEMFD_SIZE));
	}
	vu_mem_free(&mem);
	CHECK(mem.gm.nr == 0);
}

static void fuzz_msg(unsigned nfds, const uint8_t *data, size_t size)
{
	struct vhost_user_hdr h = { 0 };
	size_t payload, room;
	struct vu_msg *m;
	char err[160];
	int rc, rc2;

	memcpy(&h, data, size < 12 ? size : 12);
	data += size < 12 ? size : 12;
	size -= size < 12 ? size : 12;
	/* What vu_msg_recv delivers: exactly hdr.size payload bytes. */
	payload = h.size <= VHOST_USER_MAX_PAYLOAD ? h.size : 0;
	room = offsetof(struct vu_msg, payload) + payload;
	m = calloc(1, room);
	CHECK(m);
	m->hdr = h;
	memcpy((uint8_t *)m + offsetof(struct vu_msg, payload), data,
	       size < payload ? size : payload);

	for (int dir = 0; dir < 2; dir++) {
		memset(err, 0x7f, sizeof(err));
		rc = vu_msg_check(m, nfds, dir, err, sizeof(err));
		rc2 = vu_msg_check(m, nfds, dir, NULL, 0);
		CHECK(rc == rc2);
		CHECK(rc == 0 || rc == -EPROTO || rc == -EBADMSG ||
		      rc == -EOPNOTSUPP);
		if (rc) {
			CHECK(memchr(err, 0, sizeof(err)));
			CHECK(err[0]);
		} else {
			CHECK(h.size <= VHOST_USER_MAX_PAYLOAD);
		}
		if (rc == 0 && dir == 1 &&
		    (h.request == VHOST_USER_SET_MEM_TABLE ||
		     h.request == VHOST_USER_ADD_MEM_REG))
			map_accepted(m, data, size);
	}
	free(m);
}

/* ---- device side ------------------------------------------------------- */

#define R_GPA		0x10000ull
#define R_SIZE		0x8000u
#define R_DESC		0x0000u		/* 128 * 16 = 0x800 */
#define R_AVAIL		0x0800u		/* 6 + 2 * 128 */
#define R_USED		0x1000u		/* 6 + 8 * 128 */
#define R_TABLES	0x1800u		/* indirect tables, buffers */

static size_t fill(uint8_t *dst, size_t cap, const uint8_t **data,
		   size_t *size)
{
	size_t n = *size < cap ? *size : cap;

	memcpy(dst, *data, n);
	*data += n;
	*size -= n;
	return n;
}

static void check_chain(const struct virtq_chain *c, const uint8_t *region,
			unsigned qsize)
{
	uint64_t out = 0, in = 0;

	CHECK(c->head < qsize);
	CHECK(c->n <= VIRTQ_CHAIN_MAX && c->n == c->n_out + c->n_in);
	for (unsigned i = 0; i < c->n; i++) {
		const struct virtq_iov *v = &c->iov[i];
		const uint8_t *p = v->ptr;

		CHECK(v->len > 0);
		CHECK(p >= region && p + v->len <= region + R_SIZE);
		CHECK(v->writable == (i >= c->n_out));
		if (v->writable) {
			in += v->len;
			/* The device writes the whole segment. */
			memset(v->ptr, 0xd5, v->len);
		} else {
			out += v->len;
		}
	}
	CHECK(out == c->out_len && in == c->in_len);
}

static void fuzz_device(const uint8_t *data, size_t size)
{
	struct virtq_chain *c = malloc(sizeof(*c));
	struct guest_mem gm;
	struct virtq_dev q;
	uint8_t *region = aligned_alloc(16, R_SIZE);
	unsigned qsize, pops = 0;
	uint64_t features = 0;
	uint8_t cfg;

	CHECK(c && region);
	memset(region, 0, R_SIZE);
	if (!size)
		goto out;
	cfg = data[0];
	data++;
	size--;
	qsize = 1u << (cfg & 7);
	if (cfg & 0x40)
		features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (cfg & 0x80)
		features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (cfg & 0x20)
		features |= 1ull << VIRTIO_F_NOTIFY_ON_EMPTY;
	fill(region + R_DESC, virtq_desc_bytes(qsize), &data, &size);
	fill(region + R_AVAIL, virtq_avail_bytes(qsize), &data, &size);
	fill(region + R_TABLES, R_SIZE - R_TABLES, &data, &size);
	guest_mem_init(&gm);
	CHECK(guest_mem_add(&gm, R_GPA, R_SIZE, region, -1, 0) == 0);
	CHECK(virtq_dev_init(&q, qsize, region + R_DESC, region + R_AVAIL,
			     region + R_USED, &gm, features) == 0);

	while (pops++ < 2 * qsize + 4) {
		int rc = virtq_dev_pop(&q, c);

		if (rc <= 0) {
			if (rc < 0) {
				CHECK(virtq_dev_broken(&q));
				CHECK(virtq_dev_pop(&q, c) == -EIO);
			}
			break;
		}
		check_chain(c, region, qsize);
		if (q.pending == q.size)
			virtq_dev_flush(&q);
		CHECK(virtq_dev_push(&q, c->head, c->in_len) == 0);
		if (pops % 3 == 0) {
			virtq_dev_flush(&q);
			(void)virtq_dev_need_call(&q);
		}
	}
	virtq_dev_flush(&q);
	(void)virtq_dev_need_call(&q);
	(void)virtq_dev_enable_kick(&q);
out:
	free(region);
	free(c);
}

/* ---- driver side ------------------------------------------------------- */

static void fuzz_driver(const uint8_t *data, size_t size)
{
	uint8_t *region = aligned_alloc(16, R_SIZE);
	struct virtq_drv q;
	static int tokens[128];
	unsigned qsize, added = 0, got = 0;
	uint64_t features = 0;
	uint8_t cfg;

	CHECK(region);
	memset(region, 0, R_SIZE);
	if (!size)
		goto out;
	cfg = data[0];
	data++;
	size--;
	qsize = 1u << (cfg & 7);
	if (cfg & 0x80)
		features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	CHECK(virtq_drv_init(&q, qsize, region + R_DESC, region + R_AVAIL,
			     region + R_USED, features) == 0);
	/* Chains of 1..3 buffers until the queue is full. */
	for (unsigned i = 0; i < qsize; i++) {
		struct virtq_buf b[3] = {
			{ R_GPA + R_TABLES, 64 }, { R_GPA + R_TABLES, 64 },
			{ R_GPA + R_TABLES, 64 },
		};
		unsigned n = 1 + i % 3;

		if (virtq_drv_add(&q, b, n / 2, n - n / 2, &tokens[i]))
			break;
		added++;
	}
	(void)virtq_drv_kick_needed(&q);
	/* The hostile device writes the used ring. */
	fill(region + R_USED, virtq_used_bytes(qsize), &data, &size);
	for (;;) {
		uint32_t len;
		int *t = virtq_drv_get_used(&q, &len);

		if (!t)
			break;
		CHECK(t >= tokens && t < tokens + added);
		CHECK(len <= 128);
		CHECK(++got <= added);
	}
	CHECK(virtq_drv_num_free(&q) <= qsize);
	(void)virtq_drv_enable_cb(&q);
	virtq_drv_free(&q);
out:
	free(region);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode, arg;

	if (!size)
		return 0;
	mode = data[0] >> 6;
	arg = data[0] & 0x3f;
	switch (mode) {
	case 0:
	case 3:
		fuzz_msg(arg, data + 1, size - 1);
		break;
	case 1:
		fuzz_device(data + 1, size - 1);
		break;
	case 2:
		fuzz_driver(data + 1, size - 1);
		break;
	}
	return 0;
}
