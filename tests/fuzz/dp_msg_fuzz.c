// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for what a hostile peer controls in the device
 * protocol: the bytes of a message on the device socket (and how many fds
 * came with it), the I/O region header, and the indices of a posted ring.
 *
 *   byte 0       bits 0-6: the fd count that "came" with the message
 *                (0..127, beyond DP_MAX_FDS); bit 7 picks the mode:
 *   raw (0)      bytes 1.. are the message, checked by dp_msg_check() as
 *                the core and as the device receive it
 *   template (1) byte 1 picks a valid message of each type (low bits) and
 *                whether its length is the template's or the input's (bit
 *                7); bytes 2.. are XORed onto it and bits 0-6 of byte 0
 *                onto the fd count it needs, so zeros are a valid message
 *                and every mutation is a fault in some field
 *   and in both  the same bytes as a dp_io_header
 *   the same bytes again drive a ring: geometry and starting indices from
 *                the first bytes, then one op a byte (consume up to n,
 *                produce n, scribble on head or tail)
 *
 * Every buffer is heap-allocated at its exact size so ASan sees any read
 * or write outside it; the invariants the callers rely on are checked and
 * abort on failure.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp_msg.h"
#include "ring.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t type_size(uint16_t type)
{
	switch (type) {
	case DP_MSG_HELLO:	return sizeof(struct dp_hello);
	case DP_MSG_WELCOME:	return sizeof(struct dp_welcome);
	case DP_MSG_MEM_REGION:	return sizeof(struct dp_mem_region);
	case DP_MSG_BAR:	return sizeof(struct dp_bar);
	case DP_MSG_READY:	return sizeof(struct dp_ready);
	case DP_MSG_ERROR:	return sizeof(struct dp_error);
	}
	return 0;
}

static void check_side(enum dp_side side, const uint8_t *m, size_t len,
		       unsigned nfds)
{
	char err[160], tiny[4];
	int rc, rc2, rc3;

	memset(err, 0x7f, sizeof(err));
	rc = dp_msg_check(side, m, len, nfds, err, sizeof(err));
	/* The same verdict whatever the error buffer. */
	rc2 = dp_msg_check(side, m, len, nfds, NULL, 0);
	rc3 = dp_msg_check(side, m, len, nfds, tiny, sizeof(tiny));
	CHECK(rc == rc2 && rc == rc3);
	CHECK(memchr(tiny, 0, sizeof(tiny)));
	CHECK(memchr(err, 0, sizeof(err)));

	if (rc) {
		CHECK(rc == -EPROTO || rc == -EBADMSG || rc == -EOPNOTSUPP ||
		      rc == -EPROTONOSUPPORT);
		CHECK(err[0] && !strchr(err, '\n'));
		return;
	}

	/* Accepted: what the callers go on to trust. */
	const struct dp_hdr *h = (const struct dp_hdr *)m;

	CHECK(err[0] == 0);
	CHECK(len >= sizeof(*h) && len <= DP_MAX_MSG);
	CHECK(h->magic == DP_MAGIC && h->flags == 0 && h->size == len);
	CHECK(type_size(h->type) == len);
	switch (h->type) {
	case DP_MSG_HELLO: {
		const struct dp_hello *x = (const void *)m;

		CHECK(side == DP_SIDE_CORE && nfds == 0);
		CHECK(x->version == DP_VERSION && x->int_pin <= 4);
		CHECK(!(x->features & ~DP_F_KNOWN));
		CHECK(x->state_size <= DP_MAX_STATE_SIZE);
		CHECK(memchr(x->name, 0, sizeof(x->name)));
		for (unsigned i = 0; i < 6; i++) {
			const struct dp_bar_desc *b = &x->bar[i];

			CHECK(b->type <= DP_BAR_MEM64);
			CHECK((b->size == 0) == (b->type == DP_BAR_UNUSED));
			CHECK(!(b->size & (b->size - 1)));
			if (b->type == DP_BAR_IO)
				CHECK(b->size >= 4 && b->size <= 256);
			if (b->type == DP_BAR_MEM64)
				CHECK(i < 5 && x->bar[i + 1].type == DP_BAR_UNUSED);
		}
		break;
	}
	case DP_MSG_WELCOME: {
		const struct dp_welcome *x = (const void *)m;
		uint32_t io_size;

		CHECK(side == DP_SIDE_DEVICE);
		CHECK(x->nr_vcpus >= 1 && x->nr_vcpus <= DP_MAX_VCPUS);
		CHECK(nfds == dp_welcome_nfds(x->nr_vcpus) && nfds <= DP_MAX_FDS);
		CHECK(x->nr_mem_regions <= DP_MAX_MEM_REGIONS);
		dp_io_layout(x->nr_vcpus, NULL, NULL, NULL, &io_size);
		CHECK(x->io_size == io_size);
		break;
	}
	case DP_MSG_MEM_REGION: {
		const struct dp_mem_region *x = (const void *)m;

		CHECK(side == DP_SIDE_DEVICE && nfds == 1);
		CHECK(x->size && x->gpa + x->size > x->gpa);
		CHECK(!(x->gpa & 4095) && !(x->size & 4095) &&
		      !(x->fd_offset & 4095));
		break;
	}
	case DP_MSG_BAR: {
		const struct dp_bar *x = (const void *)m;

		CHECK(side == DP_SIDE_DEVICE && nfds == 0);
		CHECK(x->index < 6 && x->enabled <= 1);
		break;
	}
	case DP_MSG_READY:
		CHECK(nfds == 0);
		break;
	case DP_MSG_ERROR: {
		const struct dp_error *x = (const void *)m;

		CHECK(nfds == 0 && x->code > 0);
		CHECK(memchr(x->text, 0, sizeof(x->text)));
		break;
	}
	default:
		CHECK(0);
	}
}

/* A valid message of each type, and the fds it comes with. */
static size_t template(unsigned which, uint8_t *out, unsigned *nfds)
{
	union {
		struct dp_hello hello;
		struct dp_welcome welcome;
		struct dp_mem_region region;
		struct dp_bar bar;
		struct dp_ready ready;
		struct dp_error error;
	} t;
	size_t len = 0;

	memset(&t, 0, sizeof(t));
	*nfds = 0;
	switch (which % 6) {
	case 0:
		len = sizeof(t.hello);
		t.hello.version = DP_VERSION;
		t.hello.state_size = 4096;
		t.hello.features = DP_F_POSTED_WRITES;
		t.hello.vendor_id = 0x1022;
		t.hello.device_id = 0x2000;
		t.hello.class_code = 0x020000;
		t.hello.int_pin = 1;
		memcpy(t.hello.name, "pcnet", 6);
		t.hello.bar[0].size = 32;
		t.hello.bar[0].type = DP_BAR_IO;
		t.hello.bar[1].size = 32;
		t.hello.bar[1].type = DP_BAR_MEM32;
		t.hello.bar[2].size = 1u << 20;
		t.hello.bar[2].type = DP_BAR_MEM64;
		t.hello.bar[2].flags = DP_BAR_F_PREFETCH;
		dp_hdr_init(&t.hello.hdr, DP_MSG_HELLO, (uint32_t)len, 1);
		break;
	case 1:
		len = sizeof(t.welcome);
		t.welcome.version = DP_VERSION;
		t.welcome.nr_vcpus = 2;
		t.welcome.features = DP_F_POSTED_WRITES;
		dp_io_layout(2, NULL, NULL, NULL, &t.welcome.io_size);
		t.welcome.state_size = 4096;
		t.welcome.generation = 1;
		t.welcome.nr_mem_regions = 2;
		t.welcome.pci_devfn = 0x18;
		t.welcome.gsi = 17;
		*nfds = dp_welcome_nfds(2);
		dp_hdr_init(&t.hello.hdr, DP_MSG_WELCOME, (uint32_t)len, 1);
		break;
	case 2:
		len = sizeof(t.region);
		t.region.gpa = 0x100000;
		t.region.size = 0x100000;
		t.region.fd_offset = 0x100000;
		*nfds = 1;
		dp_hdr_init(&t.hello.hdr, DP_MSG_MEM_REGION, (uint32_t)len, 1);
		break;
	case 3:
		len = sizeof(t.bar);
		t.bar.index = 1;
		t.bar.enabled = 1;
		t.bar.addr = 0xfebf0000;
		dp_hdr_init(&t.hello.hdr, DP_MSG_BAR, (uint32_t)len, 1);
		break;
	case 4:
		len = sizeof(t.ready);
		dp_hdr_init(&t.hello.hdr, DP_MSG_READY, (uint32_t)len, 1);
		break;
	case 5:
		len = sizeof(t.error);
		dp_error_init(&t.error, 1, DP_MSG_BAR, EBADMSG, "refused");
		break;
	}
	memcpy(out, &t, len);
	return len;
}

static void check_template(const uint8_t *in, size_t n, unsigned fd_xor)
{
	uint8_t *m, base[DP_MAX_MSG];
	size_t len, tlen;
	unsigned nfds;

	if (!n)
		return;
	tlen = template(in[0], base, &nfds);
	len = (in[0] & 0x80) ? n - 1 : tlen;
	if (len > DP_MAX_MSG + 16)
		len = DP_MAX_MSG + 16;
	m = malloc(len ? len : 1);
	CHECK(m);
	for (size_t i = 0; i < len; i++)
		m[i] = (i < tlen ? base[i] : 0) ^ (i + 1 < n ? in[i + 1] : 0);
	nfds ^= fd_xor;
	check_side(DP_SIDE_CORE, m, len, nfds);
	check_side(DP_SIDE_DEVICE, m, len, nfds);
	free(m);
}

static void check_io_header(const uint8_t *m, size_t len)
{
	struct dp_io_header *h;
	uint32_t nr, io_size, slot, posted, stride, need;
	char err[160];

	if (len < sizeof(*h) + 8)
		return;
	h = malloc(sizeof(*h));
	memcpy(h, m, sizeof(*h));
	memcpy(&nr, m + sizeof(*h), 4);
	memcpy(&io_size, m + sizeof(*h) + 4, 4);
	if (!dp_io_header_check(h, nr, io_size, err, sizeof(err))) {
		dp_io_layout(nr, &slot, &posted, &stride, &need);
		CHECK(nr >= 1 && nr <= DP_MAX_VCPUS);
		CHECK(h->slot_offset == slot && h->posted_offset == posted &&
		      h->posted_stride == stride);
		CHECK(need <= io_size);
		CHECK((uint64_t)posted + (uint64_t)nr * stride <= io_size);
		CHECK(h->shadow_offset >= posted + (uint64_t)nr * stride &&
		      h->shadow_offset + sizeof(struct dp_shadow) <= io_size);
	} else {
		CHECK(err[0] && !strchr(err, '\n'));
	}
	free(h);
}

static uint32_t get32(const uint8_t *p, size_t n, size_t at)
{
	uint32_t v = 0;

	for (size_t i = 0; i < 4 && at + i < n; i++)
		v |= (uint32_t)p[at + i] << (8 * i);
	return v;
}

static void fuzz_ring(const uint8_t *data, size_t size)
{
	uint32_t entries, elem = 16;
	struct spsc_ring *sh;
	struct ipc_ring p, c;
	bool have_p, have_c;
	size_t len;
	uint64_t seq_in = 0;

	if (size < 10)
		return;
	entries = 4u << (data[1] % 4);		/* 4..32: whole cache lines */
	len = ipc_ring_bytes(entries, elem);
	sh = aligned_alloc(64, len);
	CHECK(sh);
	CHECK(ipc_ring_format(sh, len, entries, elem) == 0);
	/* A ring a previous process left behind, or a hostile one. */
	sh->head = get32(data, size, 2);
	sh->tail = (data[0] & 1) ? get32(data, size, 6)
				 : sh->head - (data[6] % (entries + 2));
	have_c = !ipc_ring_attach_consumer(&c, sh, len, entries, elem);
	have_p = !ipc_ring_attach_producer(&p, sh, len, entries, elem);
	CHECK(have_c == have_p);
	if (!have_c) {
		sh->head = sh->tail = 0;
		CHECK(!ipc_ring_attach_consumer(&c, sh, len, entries, elem));
		CHECK(!ipc_ring_attach_producer(&p, sh, len, entries, elem));
	}

	for (size_t i = 10; i < size; i++) {
		unsigned op = data[i] & 3, n = data[i] >> 2;	/* n: 0..63 */
		uint8_t *buf = malloc(n ? (size_t)n * elem : 1);
		uint32_t got;

		CHECK(buf);
		switch (op) {
		case 0:
			got = ipc_ring_consume(&c, buf, n);
			CHECK(got <= n && got <= entries);
			CHECK(!got || __atomic_load_n(&sh->tail, __ATOMIC_RELAXED)
			      == c.local);
			break;
		case 1:
			for (unsigned k = 0; k < n; k++) {
				uint64_t v = seq_in++;

				memcpy(buf + (size_t)k * elem, &v, 8);
				memcpy(buf + (size_t)k * elem + 8, &v, 8);
			}
			got = ipc_ring_produce(&p, buf, n);
			CHECK(got <= n && got <= entries);
			break;
		case 2:		/* the peer scribbles on head */
			sh->head += (uint32_t)(int8_t)(n << 2) * (n & 1 ? 0x1000001u : 1u);
			break;
		case 3:		/* ... or on tail */
			sh->tail += (uint32_t)(int8_t)(n << 2) * (n & 1 ? 0x1000001u : 1u);
			break;
		}
		CHECK(ipc_ring_count(&c) <= entries);
		CHECK(ipc_ring_used_producer(&p) <= entries);
		CHECK(c.entries == entries && c.mask == entries - 1 &&
		      p.entries == entries && c.elem_size == elem);
		free(buf);
	}
	free(sh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *m;
	size_t len;

	if (!size)
		return 0;
	len = size - 1;
	m = malloc(len ? len : 1);
	if (!m)
		return 0;
	memcpy(m, data + 1, len);
	if (data[0] & 0x80)
		check_template(data + 1, len, data[0] & 0x7f);
	else {
		check_side(DP_SIDE_CORE, m, len, data[0] & 0x7f);
		check_side(DP_SIDE_DEVICE, m, len, data[0] & 0x7f);
	}
	check_io_header(m, len);
	free(m);
	fuzz_ring(data, size);
	return 0;
}
