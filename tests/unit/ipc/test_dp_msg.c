// SPDX-License-Identifier: MIT
/* ipc/dp_msg.h: the device-protocol parser, message builders, I/O layout. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dp_msg.h"
#include "ring.h"

static char err[256];

/* Refused with @code and a one-line reason that contains @want. */
static void refused_(int line, enum dp_side side, const void *m, size_t len,
		     unsigned nfds, int code, const char *want)
{
	int rc;

	memset(err, 0, sizeof(err));
	rc = dp_msg_check(side, m, len, nfds, err, sizeof(err));
	if (rc != code)
		fail_msg("line %d: rc %d, want %d (err '%s')", line, rc, code, err);
	if (!err[0] || strchr(err, '\n'))
		fail_msg("line %d: err '%s' is not one non-empty line", line, err);
	if (want && !strstr(err, want))
		fail_msg("line %d: err '%s' does not say '%s'", line, err, want);
}
#define refused(...) refused_(__LINE__, __VA_ARGS__)

static void accepted_(int line, enum dp_side side, const void *m, size_t len,
		      unsigned nfds)
{
	int rc;

	err[0] = 0;
	rc = dp_msg_check(side, m, len, nfds, err, sizeof(err));
	if (rc)
		fail_msg("line %d: refused %d: %s", line, rc, err);
}
#define accepted(...) accepted_(__LINE__, __VA_ARGS__)

static struct dp_hello valid_hello(void)
{
	struct dp_hello h = {
		.version = DP_VERSION,
		.state_size = 4096,
		.features = DP_F_POSTED_WRITES,
		.vendor_id = 0x1022,
		.device_id = 0x2000,
		.subsys_vendor_id = 0x1022,
		.subsys_id = 0x2000,
		.class_code = 0x020000,
		.revision = 0x10,
		.int_pin = 1,
		.name = "pcnet",
		.bar = {
			[0] = { .size = 32, .type = DP_BAR_IO },
			[1] = { .size = 32, .type = DP_BAR_MEM32,
				.flags = DP_BAR_F_SYNC_WRITES },
			[2] = { .size = 0x1000, .type = DP_BAR_MEM64,
				.flags = DP_BAR_F_PREFETCH },
			[4] = { .size = 1ull << 40, .type = DP_BAR_MEM64 },
		},
	};

	dp_hdr_init(&h.hdr, DP_MSG_HELLO, sizeof(h), 1);
	return h;
}

static struct dp_welcome valid_welcome(uint32_t nr_vcpus)
{
	struct dp_welcome w = {
		.version = DP_VERSION,
		.nr_vcpus = nr_vcpus,
		.features = DP_F_POSTED_WRITES,
		.state_size = 4096,
		.generation = 1,
		.nr_mem_regions = 2,
		.pci_devfn = 3 << 3,
		.gsi = 17,
	};

	dp_io_layout(nr_vcpus, NULL, NULL, NULL, &w.io_size);
	dp_hdr_init(&w.hdr, DP_MSG_WELCOME, sizeof(w), 1);
	return w;
}

static struct dp_mem_region valid_mem_region(void)
{
	struct dp_mem_region r = { .gpa = 0x100000000ull, .size = 0x40000000,
				   .fd_offset = 0xc0000000 };

	dp_hdr_init(&r.hdr, DP_MSG_MEM_REGION, sizeof(r), 2);
	return r;
}

static struct dp_bar valid_bar(void)
{
	struct dp_bar b = { .index = 5, .enabled = 1, .addr = 0xfebf0000 };

	dp_hdr_init(&b.hdr, DP_MSG_BAR, sizeof(b), 3);
	return b;
}

static struct dp_ready valid_ready(void)
{
	struct dp_ready r;

	dp_hdr_init(&r.hdr, DP_MSG_READY, sizeof(r), 4);
	return r;
}

static struct dp_error valid_error(void)
{
	struct dp_error e;

	dp_error_init(&e, 9, DP_MSG_BAR, EBADMSG, "BAR: index 7 is outside 0..5");
	return e;
}

/* ------------------------------------------------------------- accepted */

static void dp_valid_messages_are_accepted_by_their_receiver(void **state)
{
	struct dp_hello h = valid_hello();
	struct dp_welcome w1 = valid_welcome(1), w64 = valid_welcome(DP_MAX_VCPUS);
	struct dp_mem_region r = valid_mem_region();
	struct dp_bar b = valid_bar();
	struct dp_ready y = valid_ready();
	struct dp_error e = valid_error();

	(void)state;
	accepted(DP_SIDE_CORE, &h, sizeof(h), 0);
	accepted(DP_SIDE_DEVICE, &w1, sizeof(w1), dp_welcome_nfds(1));
	accepted(DP_SIDE_DEVICE, &w64, sizeof(w64), DP_MAX_FDS);
	accepted(DP_SIDE_DEVICE, &r, sizeof(r), 1);
	accepted(DP_SIDE_DEVICE, &b, sizeof(b), 0);
	accepted(DP_SIDE_CORE, &y, sizeof(y), 0);
	accepted(DP_SIDE_DEVICE, &y, sizeof(y), 0);
	accepted(DP_SIDE_CORE, &e, sizeof(e), 0);
	accepted(DP_SIDE_DEVICE, &e, sizeof(e), 0);
	/* A NULL or one-byte err is fine too. */
	assert_int_equal(dp_msg_check(DP_SIDE_CORE, &h, sizeof(h), 0, NULL, 0), 0);
}

static void dp_hello_accepts_the_edges_of_every_range(void **state)
{
	struct dp_hello h;

	(void)state;
#define HELLO_OK(stmt) do { h = valid_hello(); stmt; \
		accepted(DP_SIDE_CORE, &h, sizeof(h), 0); } while (0)
	HELLO_OK(h.int_pin = 0);
	HELLO_OK(h.int_pin = 4);
	HELLO_OK(h.state_size = 0);
	HELLO_OK(h.state_size = DP_MAX_STATE_SIZE);
	HELLO_OK(h.features = 0);
	HELLO_OK(h.class_code = 0xffffff);
	HELLO_OK(memset(h.bar, 0, sizeof(h.bar)));
	HELLO_OK(h.bar[0].size = 4);
	HELLO_OK(h.bar[0].size = 256);
	HELLO_OK(h.bar[0].flags = DP_BAR_F_SYNC_WRITES);
	HELLO_OK(h.bar[1].size = 16);
	HELLO_OK(h.bar[1].size = 1ull << 31);
	HELLO_OK(h.bar[1].flags = DP_BAR_F_PREFETCH | DP_BAR_F_SYNC_WRITES);
	HELLO_OK(h.bar[0].flags = DP_BAR_F_COALESCED_ACK;
		 h.bar[0].coalesce_off = 0x10; h.bar[0].coalesce_len = 8);
	HELLO_OK(h.bar[0].coalesce_off = 0x12; h.bar[0].coalesce_len = 6);
	HELLO_OK(h.bar[0].coalesce_off = 0; h.bar[0].coalesce_len = 32);
	HELLO_OK(memset(h.name, 'n', DP_NAME_LEN - 1); h.name[DP_NAME_LEN - 1] = 0);
#undef HELLO_OK
}

/* -------------------------------------------------------- header faults */

static void dp_short_message_is_eproto(void **state)
{
	struct dp_ready y = valid_ready();

	(void)state;
	refused(DP_SIDE_CORE, &y, 0, 0, -EPROTO, "short");
	refused(DP_SIDE_CORE, &y, sizeof(struct dp_hdr) - 1, 0, -EPROTO, "short");
	refused(DP_SIDE_DEVICE, NULL, 16, 0, -EPROTO, "short");
}

static void dp_oversized_message_is_eproto(void **state)
{
	uint8_t big[DP_MAX_MSG + 8];
	struct dp_hello h = valid_hello();

	(void)state;
	memset(big, 0, sizeof(big));
	h.hdr.size = DP_MAX_MSG + 1;
	memcpy(big, &h, sizeof(h));
	refused(DP_SIDE_CORE, big, DP_MAX_MSG + 1, 0, -EPROTO, "limit");
	/* Within the limit but longer than a HELLO. */
	h.hdr.size = sizeof(h) + 8;
	memcpy(big, &h, sizeof(h));
	refused(DP_SIDE_CORE, big, sizeof(h) + 8, 0, -EPROTO, "HELLO");
}

static void dp_wrong_magic_is_eproto(void **state)
{
	struct dp_ready y = valid_ready();

	(void)state;
	y.hdr.magic = DP_MAGIC ^ 1;
	refused(DP_SIDE_CORE, &y, sizeof(y), 0, -EPROTO, "magic");
	y.hdr.magic = __builtin_bswap32(DP_MAGIC);
	refused(DP_SIDE_DEVICE, &y, sizeof(y), 0, -EPROTO, "magic");
}

static void dp_nonzero_header_flags_is_eproto(void **state)
{
	struct dp_ready y = valid_ready();

	(void)state;
	y.hdr.flags = 1;
	refused(DP_SIDE_CORE, &y, sizeof(y), 0, -EPROTO, "flags");
	y.hdr.flags = 0x8000;
	refused(DP_SIDE_DEVICE, &y, sizeof(y), 0, -EPROTO, "flags");
}

static void dp_header_size_other_than_the_length_is_eproto(void **state)
{
	struct dp_bar b = valid_bar();

	(void)state;
	b.hdr.size = sizeof(b) - 1;
	refused(DP_SIDE_DEVICE, &b, sizeof(b), 0, -EPROTO, "size");
	b.hdr.size = sizeof(b) + 1;
	refused(DP_SIDE_DEVICE, &b, sizeof(b), 0, -EPROTO, "size");
	b.hdr.size = 0;
	refused(DP_SIDE_DEVICE, &b, sizeof(b), 0, -EPROTO, "size");
}

static void dp_length_other_than_the_types_size_is_eproto(void **state)
{
	uint8_t buf[DP_MAX_MSG];
	struct dp_error e = valid_error();
	struct dp_ready y = valid_ready();
	struct dp_welcome w = valid_welcome(2);

	(void)state;
	memset(buf, 0, sizeof(buf));
	/* ERROR is exact too: a shorter text is not a shorter message. */
	e.hdr.size = 100;
	memcpy(buf, &e, 100);
	refused(DP_SIDE_CORE, buf, 100, 0, -EPROTO, "ERROR");
	y.hdr.size = 24;
	memcpy(buf, &y, sizeof(y));
	refused(DP_SIDE_CORE, buf, 24, 0, -EPROTO, "READY");
	w.hdr.size = sizeof(w) - 8;
	refused(DP_SIDE_DEVICE, &w, sizeof(w) - 8, dp_welcome_nfds(2), -EPROTO,
		"WELCOME");
}

static void dp_unknown_type_is_eopnotsupp(void **state)
{
	struct dp_ready y = valid_ready();
	const uint16_t types[] = { 0, 7, 0x100, 0xffff };

	(void)state;
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		y.hdr.type = types[i];
		refused(DP_SIDE_CORE, &y, sizeof(y), 0, -EOPNOTSUPP, "unknown");
		refused(DP_SIDE_DEVICE, &y, sizeof(y), 0, -EOPNOTSUPP, "unknown");
	}
}

static void dp_message_in_the_wrong_direction_is_eopnotsupp(void **state)
{
	struct dp_hello h = valid_hello();
	struct dp_welcome w = valid_welcome(1);
	struct dp_mem_region r = valid_mem_region();
	struct dp_bar b = valid_bar();

	(void)state;
	refused(DP_SIDE_DEVICE, &h, sizeof(h), 0, -EOPNOTSUPP, "HELLO");
	refused(DP_SIDE_CORE, &w, sizeof(w), dp_welcome_nfds(1), -EOPNOTSUPP,
		"WELCOME");
	refused(DP_SIDE_CORE, &r, sizeof(r), 1, -EOPNOTSUPP, "MEM_REGION");
	refused(DP_SIDE_CORE, &b, sizeof(b), 0, -EOPNOTSUPP, "BAR");
}

static void dp_other_version_is_eprotonosupport(void **state)
{
	struct dp_hello h = valid_hello();
	struct dp_welcome w = valid_welcome(4);

	(void)state;
	h.version = DP_VERSION + 1;
	refused(DP_SIDE_CORE, &h, sizeof(h), 0, -EPROTONOSUPPORT, "version");
	h.version = 0;
	refused(DP_SIDE_CORE, &h, sizeof(h), 0, -EPROTONOSUPPORT, "version");
	w.version = DP_VERSION + 1;
	refused(DP_SIDE_DEVICE, &w, sizeof(w), dp_welcome_nfds(4),
		-EPROTONOSUPPORT, "version");
}

static void dp_fd_count_other_than_the_types_is_eproto(void **state)
{
	struct dp_hello h = valid_hello();
	struct dp_welcome w = valid_welcome(3);
	struct dp_mem_region r = valid_mem_region();
	struct dp_bar b = valid_bar();
	struct dp_ready y = valid_ready();
	struct dp_error e = valid_error();

	(void)state;
	refused(DP_SIDE_CORE, &h, sizeof(h), 1, -EPROTO, "fds");
	refused(DP_SIDE_DEVICE, &w, sizeof(w), dp_welcome_nfds(3) - 1, -EPROTO,
		"fds");
	refused(DP_SIDE_DEVICE, &w, sizeof(w), dp_welcome_nfds(3) + 1, -EPROTO,
		"fds");
	refused(DP_SIDE_DEVICE, &w, sizeof(w), 0, -EPROTO, "fds");
	refused(DP_SIDE_DEVICE, &r, sizeof(r), 0, -EPROTO, "fds");
	refused(DP_SIDE_DEVICE, &r, sizeof(r), 2, -EPROTO, "fds");
	refused(DP_SIDE_DEVICE, &b, sizeof(b), 1, -EPROTO, "fds");
	refused(DP_SIDE_CORE, &y, sizeof(y), 1, -EPROTO, "fds");
	refused(DP_SIDE_DEVICE, &y, sizeof(y), 3, -EPROTO, "fds");
	refused(DP_SIDE_CORE, &e, sizeof(e), 1, -EPROTO, "fds");
}

/* --------------------------------------------------------- field faults */

static void dp_hello_with_a_bad_field_is_ebadmsg(void **state)
{
	struct dp_hello h;

	(void)state;
#define HELLO_BAD(stmt, want) do { h = valid_hello(); stmt; \
		refused(DP_SIDE_CORE, &h, sizeof(h), 0, -EBADMSG, want); } while (0)
	HELLO_BAD(h.features = 1ull << 2, "features");
	HELLO_BAD(h.features = 1ull << 63, "features");
	HELLO_BAD(h.state_size = DP_MAX_STATE_SIZE + 1, "state_size");
	HELLO_BAD(h.vendor_id = 0xffff, "vendor_id");
	HELLO_BAD(h.class_code = 0x1000000, "class_code");
	HELLO_BAD(h.int_pin = 5, "int_pin");
	HELLO_BAD(h.int_pin = 0xff, "int_pin");
	HELLO_BAD(h.reserved[1] = 1, "reserved");
	HELLO_BAD(memset(h.name, 'x', DP_NAME_LEN), "NUL");
	HELLO_BAD(h.name[0] = 0, "empty");
	HELLO_BAD(h.name[2] = '\n', "printable");
	HELLO_BAD(h.name[1] = (char)0xc3, "printable");
#undef HELLO_BAD
}

static void dp_hello_with_a_bad_bar_is_ebadmsg(void **state)
{
	struct dp_hello h;

	(void)state;
	h = valid_hello();
	h.bar[2].size = 0x30;
	refused(DP_SIDE_CORE, &h, sizeof(h), 0, -EBADMSG, NULL);
	assert_string_equal(err, "HELLO: BAR 2 size 0x30 is not a power of two");

#define BAR_BAD(stmt, want) do { h = valid_hello(); stmt; \
		refused(DP_SIDE_CORE, &h, sizeof(h), 0, -EBADMSG, want); } while (0)
	/* Sizes. */
	BAR_BAD(h.bar[0].size = 2, "BAR 0 I/O size");
	BAR_BAD(h.bar[0].size = 512, "BAR 0 I/O size");
	BAR_BAD(h.bar[0].size = 24, "BAR 0 size 0x18 is not a power of two");
	BAR_BAD(h.bar[1].size = 8, "BAR 1 memory size");
	BAR_BAD(h.bar[1].size = 1ull << 32, "BAR 1 32-bit");
	BAR_BAD(h.bar[4].size = 1ull << 41, "BAR 4 memory size");
	BAR_BAD(h.bar[4].size = 0, "BAR 4 has size 0");
	BAR_BAD(h.bar[1].size = UINT64_MAX, "power of two");
	/* Types and the 64-bit pairing. */
	BAR_BAD(h.bar[1].type = 4, "BAR 1 type 4");
	BAR_BAD(h.bar[3].type = DP_BAR_IO, "BAR 3 is the upper half");
	BAR_BAD(h.bar[3].size = 16, "BAR 3 is the upper half");
	BAR_BAD(h.bar[3].flags = 1, "BAR 3 is the upper half");
	BAR_BAD(h.bar[5].type = DP_BAR_MEM32, "BAR 5 is the upper half");
	BAR_BAD(memset(&h.bar[4], 0, sizeof(h.bar[4]));
		h.bar[5].size = 16; h.bar[5].type = DP_BAR_MEM64,
		"BAR 5 cannot be 64-bit");
	BAR_BAD(h.bar[4].type = DP_BAR_UNUSED; h.bar[4].size = 16,
		"BAR 4 is unused");
	BAR_BAD(h.bar[4].type = DP_BAR_UNUSED; h.bar[4].size = 0;
		h.bar[4].flags = DP_BAR_F_SYNC_WRITES, "BAR 4 is unused");
	/* Flags and reserved bytes. */
	BAR_BAD(h.bar[1].flags = 1u << 3, "BAR 1 flags");
	BAR_BAD(h.bar[0].flags = DP_BAR_F_COALESCED_ACK, "COALESCED_ACK but no coalesced range");
	BAR_BAD(h.bar[1].flags = DP_BAR_F_COALESCED_ACK, "BAR 1 has COALESCED_ACK");
	BAR_BAD(h.bar[1].flags = 0x80, "BAR 1 flags");
	BAR_BAD(h.bar[0].flags = DP_BAR_F_PREFETCH, "prefetchable");
	BAR_BAD(h.bar[0].reserved[3] = 1, "BAR 0 reserved");
	/* Coalesced ranges: inside an I/O BAR only. */
	BAR_BAD(h.bar[0].coalesce_off = 0x10; h.bar[0].coalesce_len = 0x20,
		"BAR 0 coalesced range 0x10+0x20");
	BAR_BAD(h.bar[0].coalesce_off = 4, "offset but no length");
	BAR_BAD(h.bar[1].coalesce_len = 2, "BAR 1 coalesced range");
	BAR_BAD(h.bar[3].coalesce_len = 2, "BAR 3 is the upper half");
	BAR_BAD(h.bar[3].reserved[0] = 1, "BAR 3 reserved");
#undef BAR_BAD
}

static void dp_welcome_with_a_bad_field_is_ebadmsg(void **state)
{
	struct dp_welcome w;

	(void)state;
#define WELCOME_BAD(stmt, want) do { w = valid_welcome(2); stmt; \
		refused(DP_SIDE_DEVICE, &w, sizeof(w), dp_welcome_nfds(2), \
			-EBADMSG, want); } while (0)
	WELCOME_BAD(w.nr_vcpus = 0, "nr_vcpus");
	WELCOME_BAD(w.nr_vcpus = DP_MAX_VCPUS + 1, "nr_vcpus");
	WELCOME_BAD(w.nr_vcpus = UINT32_MAX, "nr_vcpus");
	WELCOME_BAD(w.features = 4, "features");
	WELCOME_BAD(w.io_size += 4096, "io_size");
	WELCOME_BAD(w.io_size -= 4096, "io_size");
	WELCOME_BAD(w.io_size = 0, "io_size");
	/* The io_size of another vCPU count. */
	WELCOME_BAD(dp_io_layout(3, NULL, NULL, NULL, &w.io_size), "io_size");
	WELCOME_BAD(w.state_size = DP_MAX_STATE_SIZE + 1, "state_size");
	WELCOME_BAD(w.generation = 0, "generation");
	WELCOME_BAD(w.nr_mem_regions = DP_MAX_MEM_REGIONS + 1, "nr_mem_regions");
	WELCOME_BAD(w.pci_devfn = 0x100, "pci_devfn");
	WELCOME_BAD(w.gsi = 256, "gsi");
	WELCOME_BAD(w.gsi = UINT32_MAX, "gsi");
#undef WELCOME_BAD
	w = valid_welcome(2);
	w.nr_mem_regions = DP_MAX_MEM_REGIONS;
	w.generation = UINT32_MAX;
	w.features = 0;
	w.pci_devfn = 0xff;
	accepted(DP_SIDE_DEVICE, &w, sizeof(w), dp_welcome_nfds(2));
}

static void dp_welcome_fd_count_follows_nr_vcpus(void **state)
{
	(void)state;
	for (uint32_t n = 1; n <= DP_MAX_VCPUS; n++) {
		struct dp_welcome w = valid_welcome(n);

		assert_int_equal(dp_welcome_nfds(n), DP_WELCOME_FDS + n);
		accepted(DP_SIDE_DEVICE, &w, sizeof(w), dp_welcome_nfds(n));
		refused(DP_SIDE_DEVICE, &w, sizeof(w), dp_welcome_nfds(n) - 1,
			-EPROTO, "WELCOME");
	}
	assert_int_equal(dp_welcome_nfds(DP_MAX_VCPUS), DP_MAX_FDS);
}

static void dp_mem_region_with_a_bad_field_is_ebadmsg(void **state)
{
	struct dp_mem_region r;

	(void)state;
#define REGION_BAD(stmt, want) do { r = valid_mem_region(); stmt; \
		refused(DP_SIDE_DEVICE, &r, sizeof(r), 1, -EBADMSG, want); } while (0)
	REGION_BAD(r.size = 0, "size is 0");
	REGION_BAD(r.gpa += 0x800, "page-aligned");
	REGION_BAD(r.size += 1, "page-aligned");
	REGION_BAD(r.gpa = 0xfffffffffffff000ull; r.size = 0x2000, "wraps");
	REGION_BAD(r.gpa = 0xfffffffffffff000ull; r.size = 0x1000, "wraps");
	REGION_BAD(r.fd_offset = 0x10, "fd_offset");
	REGION_BAD(r.fd_offset = 0x8000000000000000ull, "fd_offset");
	REGION_BAD(r.fd_offset = 0x7ffffffffffff000ull, "fd_offset");
#undef REGION_BAD
	r = valid_mem_region();
	r.gpa = 0;
	r.size = 0x1000;
	r.fd_offset = 0;
	accepted(DP_SIDE_DEVICE, &r, sizeof(r), 1);
	r.gpa = 0xffffffffffffe000ull;
	accepted(DP_SIDE_DEVICE, &r, sizeof(r), 1);
}

static void dp_bar_with_a_bad_field_is_ebadmsg(void **state)
{
	struct dp_bar b;

	(void)state;
	b = valid_bar();
	b.index = 6;
	refused(DP_SIDE_DEVICE, &b, sizeof(b), 0, -EBADMSG, "index");
	b.index = UINT32_MAX;
	refused(DP_SIDE_DEVICE, &b, sizeof(b), 0, -EBADMSG, "index");
	b = valid_bar();
	b.enabled = 2;
	refused(DP_SIDE_DEVICE, &b, sizeof(b), 0, -EBADMSG, "enabled");
	b = valid_bar();
	b.index = 0;
	b.enabled = 0;
	b.addr = 0;
	accepted(DP_SIDE_DEVICE, &b, sizeof(b), 0);
}

static void dp_error_with_a_bad_field_is_ebadmsg(void **state)
{
	struct dp_error e;

	(void)state;
	e = valid_error();
	memset(e.text, 'x', sizeof(e.text));
	refused(DP_SIDE_CORE, &e, sizeof(e), 0, -EBADMSG, "NUL");
	e = valid_error();
	e.code = 0;
	refused(DP_SIDE_DEVICE, &e, sizeof(e), 0, -EBADMSG, "code");
	e.code = -EPROTO;
	refused(DP_SIDE_DEVICE, &e, sizeof(e), 0, -EBADMSG, "code");
	e = valid_error();
	e.reserved = 1;
	refused(DP_SIDE_CORE, &e, sizeof(e), 0, -EBADMSG, "reserved");
	/* The NUL in the last byte, and any refused_type, are fine. */
	e = valid_error();
	memset(e.text, 'y', sizeof(e.text) - 1);
	e.text[DP_ERROR_TEXT_LEN - 1] = 0;
	e.refused_type = 0xbeef;
	accepted(DP_SIDE_CORE, &e, sizeof(e), 0);
}

/* ------------------------------------------------------------- builders */

static void dp_hdr_init_fills_every_field(void **state)
{
	struct dp_hdr h;

	(void)state;
	memset(&h, 0xff, sizeof(h));
	dp_hdr_init(&h, DP_MSG_BAR, 32, 77);
	assert_int_equal(h.magic, DP_MAGIC);
	assert_int_equal(h.type, DP_MSG_BAR);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.size, 32);
	assert_int_equal(h.seq, 77);
}

static void dp_error_init_builds_a_valid_message_cut_to_one_line(void **state)
{
	struct dp_error e;
	char longtext[400];

	(void)state;
	memset(&e, 0xee, sizeof(e));
	dp_error_init(&e, 42, DP_MSG_HELLO, EEXIST, "device description differs");
	accepted(DP_SIDE_DEVICE, &e, sizeof(e), 0);
	assert_int_equal(e.hdr.seq, 42);
	assert_int_equal(e.hdr.size, sizeof(e));
	assert_int_equal(e.refused_type, DP_MSG_HELLO);
	assert_int_equal(e.code, EEXIST);
	assert_int_equal(e.reserved, 0);
	assert_string_equal(e.text, "device description differs");

	memset(longtext, 'L', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = 0;
	longtext[10] = '\n';
	dp_error_init(&e, 1, 0, EPROTO, longtext);
	accepted(DP_SIDE_CORE, &e, sizeof(e), 0);
	assert_int_equal(strlen(e.text), DP_ERROR_TEXT_LEN - 1);
	assert_null(strchr(e.text, '\n'));

	/* A code that is no errno still gives a valid ERROR. */
	dp_error_init(&e, 1, 0, -5, NULL);
	accepted(DP_SIDE_CORE, &e, sizeof(e), 0);
	assert_string_equal(e.text, "");
}

/* ----------------------------------------------------------- I/O region */

static void dp_io_layout_puts_slots_at_64_and_rings_after_them(void **state)
{
	uint32_t slot, posted, stride, size;

	(void)state;
	dp_io_layout(1, &slot, &posted, &stride, &size);
	assert_int_equal(slot, 64);
	assert_int_equal(posted, 128);
	assert_int_equal(stride, 192 + DP_POSTED_ENTRIES * 16);	/* 4288 */
	assert_int_equal(size, 8192);

	dp_io_layout(DP_MAX_VCPUS, &slot, &posted, &stride, &size);
	assert_int_equal(slot, 64);
	assert_int_equal(posted, 64 + DP_MAX_VCPUS * 64);
	assert_int_equal(size, 282624);

	for (uint32_t n = 1; n <= DP_MAX_VCPUS; n++) {
		dp_io_layout(n, &slot, &posted, &stride, &size);
		assert_int_equal(posted % 64, 0);
		assert_int_equal(stride % 64, 0);
		assert_true(posted >= slot + n * sizeof(struct dp_slot));
		assert_true(stride >= ipc_ring_bytes(DP_POSTED_ENTRIES,
						     sizeof(struct dp_posted)));
		assert_true((uint64_t)posted + (uint64_t)n * stride <=
			    dp_io_shadow_offset(n));
		assert_int_equal(dp_io_shadow_offset(n) % 64, 0);
		assert_true(dp_io_shadow_offset(n) + sizeof(struct dp_shadow) <= size);
		assert_int_equal(size % 4096, 0);
		assert_true(size - (dp_io_shadow_offset(n) +
				    sizeof(struct dp_shadow)) < 4096);
	}
	/* Counts without a layout give zeros, not an overflowed size. */
	dp_io_layout(0, &slot, &posted, &stride, &size);
	assert_int_equal(size, 0);
	assert_int_equal(dp_io_shadow_offset(0), 0);
	dp_io_layout(UINT32_MAX, NULL, NULL, NULL, &size);
	assert_int_equal(size, 0);
}

static void io_header_for(struct dp_io_header *h, uint32_t nr_vcpus)
{
	uint32_t size;

	memset(h, 0, sizeof(*h));
	h->magic = DP_IO_MAGIC;
	h->version = DP_VERSION;
	h->nr_vcpus = nr_vcpus;
	h->posted_entries = DP_POSTED_ENTRIES;
	dp_io_layout(nr_vcpus, &h->slot_offset, &h->posted_offset,
		     &h->posted_stride, &size);
	h->shadow_offset = dp_io_shadow_offset(nr_vcpus);
}

static void dp_io_header_check_accepts_the_layout_and_refuses_each_change(void **state)
{
	struct dp_io_header h;
	uint32_t size;

	(void)state;
	dp_io_layout(4, NULL, NULL, NULL, &size);
	io_header_for(&h, 4);
	assert_int_equal(dp_io_header_check(&h, 4, size, err, sizeof(err)), 0);
	h.device_need_kick = 1;		/* live state, not checked */
	assert_int_equal(dp_io_header_check(&h, 4, size, NULL, 0), 0);

#define IO_BAD(stmt, nr, sz, want) do { io_header_for(&h, 4); stmt; \
		err[0] = 0; \
		assert_int_equal(dp_io_header_check(&h, nr, sz, err, sizeof(err)), \
				 -EBADMSG); \
		if (!strstr(err, want)) \
			fail_msg("err '%s' does not say '%s'", err, want); \
	} while (0)
	IO_BAD(h.magic = 0, 4, size, "magic");
	IO_BAD(h.version = 2, 4, size, "version");
	IO_BAD(h.nr_vcpus = 5, 4, size, "nr_vcpus");
	IO_BAD((void)0, 5, size, "nr_vcpus");
	IO_BAD(h.nr_vcpus = 0, 0, size, "nr_vcpus");
	IO_BAD(h.posted_entries = 128, 4, size, "posted_entries");
	IO_BAD(h.slot_offset = 0, 4, size, "slot_offset");
	IO_BAD(h.posted_offset += 64, 4, size, "posted_offset");
	IO_BAD(h.posted_stride -= 64, 4, size, "posted_stride");
	IO_BAD(h.posted_stride = UINT32_MAX, 4, size, "posted_stride");
	IO_BAD(h.shadow_offset = 0, 4, size, "shadow_offset");
	IO_BAD(h.shadow_offset += 64, 4, size, "shadow_offset");
	IO_BAD((void)0, 4, size - 4096, "bytes");
	IO_BAD((void)0, 4, 0, "bytes");
#undef IO_BAD
}

/* The reader sees what the writer stored, whole or not at all. */
static void dp_shadow_load_sees_a_store_whole_or_not_at_all(void **state)
{
	struct dp_shadow sh = { 0 }, src = { 0 }, out;
	struct dp_shadow_reg idx;

	(void)state;
	src.nr = DP_SHADOW_REGS + 5;	/* the device's word: clamped */
	src.index = (struct dp_shadow_reg){
		.bars = 1, .size = 2, .flags = DP_SHADOW_F_VALID,
		.offset = 0x12, .index = 88, .value = 0x7f,
	};
	src.reg[3].value = 0xbeef;
	dp_shadow_store(&sh, &src);
	assert_int_equal(sh.seq % 2, 0);
	assert_true(dp_shadow_load(&sh, &out));
	assert_int_equal(out.nr, DP_SHADOW_REGS);
	assert_int_equal(out.reg[3].value, 0xbeef);
	assert_memory_equal(&out.index, &src.index, sizeof(src.index));
	assert_true(dp_shadow_load_index(&sh, &idx));
	assert_memory_equal(&idx, &src.index, sizeof(idx));
	assert_true(dp_shadow_decodes(&idx, 0, 0x12, 2));
	assert_false(dp_shadow_decodes(&idx, 1, 0x12, 2));
	/* A writer in the middle: odd sequence, no answer from either. */
	sh.seq++;
	assert_false(dp_shadow_load(&sh, &out));
	assert_false(dp_shadow_load_index(&sh, &idx));
}

/*
 * Which queued writes a read may be answered across: notes and EOIs,
 * index writes (tracked), and writes the register's entry calls quiet at
 * the index the writes before them leave; nothing else.  The entries are
 * PCnet's: RAP at 0x12, CSR0 at RDP 0x10 with TDMD quiet while IENA is
 * set, CSR4 at RDP with no quiet writes.
 */
static void dp_shadow_pending_lets_only_index_and_quiet_writes_by(void **state)
{
	struct dp_shadow snap = { .nr = 2 };
	uint32_t index = 0;
	struct dp_posted e;

	(void)state;
	snap.index = (struct dp_shadow_reg){
		.bars = 3, .size = 2, .flags = DP_SHADOW_F_VALID,
		.offset = 0x12, .index = 0, .value = 0x7f,
	};
	snap.reg[0] = (struct dp_shadow_reg){
		.bars = 3, .size = 2, .offset = 0x10, .index = 0, .value = 0x02f3,
		.flags = DP_SHADOW_F_VALID | DP_SHADOW_F_INDEXED | DP_SHADOW_F_QUIET,
		.quiet_mask = 0x0008, .quiet_value = 0x0040,
	};
	snap.reg[1] = (struct dp_shadow_reg){
		.bars = 3, .size = 2, .offset = 0x10, .index = 4, .value = 0x0915,
		.flags = DP_SHADOW_F_VALID | DP_SHADOW_F_INDEXED,
		.quiet_mask = 0x0008, .quiet_value = 0x0040,	/* no QUIET flag */
	};
#define PEND(b, off, sz, d) (e = (struct dp_posted){ .bar = (b), .size = (sz), \
	.offset = (off), .data = (d) }, dp_shadow_pending(&snap, &e, &index))

	assert_int_equal(PEND(DP_POSTED_EOI, 0, 0, 0), DP_PENDING_NONE);
	assert_int_equal(PEND(DP_POSTED_SHADOW_READ, 0x10, 2, 0x48), DP_PENDING_NONE);
	/* CSR0: the kick (IENA as it is, TDMD or not) is quiet... */
	assert_int_equal(PEND(0, 0x10, 2, 0x0048), DP_PENDING_QUIET);
	assert_int_equal(PEND(1, 0x10, 2, 0x0040), DP_PENDING_QUIET);
	/* ...an acknowledge, IENA off, a start, high bits, are not. */
	assert_int_equal(PEND(0, 0x10, 2, 0x0248), DP_PENDING_BLOCKS);
	assert_int_equal(PEND(0, 0x10, 2, 0x0008), DP_PENDING_BLOCKS);
	assert_int_equal(PEND(0, 0x10, 2, 0x004a), DP_PENDING_BLOCKS);
	assert_int_equal(PEND(0, 0x10, 2, 0x10048), DP_PENDING_BLOCKS);
	/* Another size, BAR or offset is not the entry's register. */
	assert_int_equal(PEND(0, 0x10, 4, 0x0048), DP_PENDING_BLOCKS);
	assert_int_equal(PEND(2, 0x10, 2, 0x0048), DP_PENDING_BLOCKS);
	assert_int_equal(PEND(0, 0x16, 2, 0x0048), DP_PENDING_BLOCKS);
	assert_int_equal(index, 0);
	/* RAP = 4 (masked): the same write now goes to CSR4, not quiet;
	 * RAP = 0 again and it is. */
	assert_int_equal(PEND(0, 0x12, 2, 0xff84), DP_PENDING_INDEX);
	assert_int_equal(index, 4);
	assert_int_equal(PEND(0, 0x10, 2, 0x0048), DP_PENDING_BLOCKS);
	assert_int_equal(PEND(0, 0x12, 2, 0), DP_PENDING_INDEX);
	assert_int_equal(PEND(0, 0x10, 2, 0x0048), DP_PENDING_QUIET);
	/* No entry for the index at all: blocks. */
	assert_int_equal(PEND(0, 0x12, 2, 9), DP_PENDING_INDEX);
	assert_int_equal(PEND(0, 0x10, 2, 0x0048), DP_PENDING_BLOCKS);
#undef PEND
}

static void dp_io_region_rings_attach_where_the_layout_says(void **state)
{
	static uint8_t _Alignas(4096) region[8192 * 2];
	struct dp_io_header *h = (struct dp_io_header *)region;
	uint32_t slot, posted, stride, size;
	struct ipc_ring p, c;
	struct dp_posted in = { .bar = 1, .size = 4, .offset = 0x10, .data = 7 }, out;

	(void)state;
	dp_io_layout(2, &slot, &posted, &stride, &size);
	assert_true(size <= sizeof(region));
	io_header_for(h, 2);
	for (uint32_t i = 0; i < 2; i++)
		assert_int_equal(ipc_ring_format(region + posted + i * stride,
						 stride, DP_POSTED_ENTRIES,
						 sizeof(struct dp_posted)), 0);
	assert_int_equal(dp_io_header_check(h, 2, size, err, sizeof(err)), 0);
	assert_int_equal(ipc_ring_attach_producer(&p, region + posted + stride,
						  stride, DP_POSTED_ENTRIES,
						  sizeof(struct dp_posted)), 0);
	assert_int_equal(ipc_ring_attach_consumer(&c, region + posted + stride,
						  stride, DP_POSTED_ENTRIES,
						  sizeof(struct dp_posted)), 0);
	assert_int_equal(ipc_ring_produce(&p, &in, 1), 1);
	assert_int_equal(ipc_ring_consume(&c, &out, 1), 1);
	assert_memory_equal(&in, &out, sizeof(in));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dp_valid_messages_are_accepted_by_their_receiver),
		cmocka_unit_test(dp_hello_accepts_the_edges_of_every_range),
		cmocka_unit_test(dp_short_message_is_eproto),
		cmocka_unit_test(dp_oversized_message_is_eproto),
		cmocka_unit_test(dp_wrong_magic_is_eproto),
		cmocka_unit_test(dp_nonzero_header_flags_is_eproto),
		cmocka_unit_test(dp_header_size_other_than_the_length_is_eproto),
		cmocka_unit_test(dp_length_other_than_the_types_size_is_eproto),
		cmocka_unit_test(dp_unknown_type_is_eopnotsupp),
		cmocka_unit_test(dp_message_in_the_wrong_direction_is_eopnotsupp),
		cmocka_unit_test(dp_other_version_is_eprotonosupport),
		cmocka_unit_test(dp_fd_count_other_than_the_types_is_eproto),
		cmocka_unit_test(dp_hello_with_a_bad_field_is_ebadmsg),
		cmocka_unit_test(dp_hello_with_a_bad_bar_is_ebadmsg),
		cmocka_unit_test(dp_welcome_with_a_bad_field_is_ebadmsg),
		cmocka_unit_test(dp_welcome_fd_count_follows_nr_vcpus),
		cmocka_unit_test(dp_mem_region_with_a_bad_field_is_ebadmsg),
		cmocka_unit_test(dp_bar_with_a_bad_field_is_ebadmsg),
		cmocka_unit_test(dp_error_with_a_bad_field_is_ebadmsg),
		cmocka_unit_test(dp_hdr_init_fills_every_field),
		cmocka_unit_test(dp_error_init_builds_a_valid_message_cut_to_one_line),
		cmocka_unit_test(dp_io_layout_puts_slots_at_64_and_rings_after_them),
		cmocka_unit_test(dp_io_header_check_accepts_the_layout_and_refuses_each_change),
		cmocka_unit_test(dp_io_region_rings_attach_where_the_layout_says),
		cmocka_unit_test(dp_shadow_load_sees_a_store_whole_or_not_at_all),
		cmocka_unit_test(dp_shadow_pending_lets_only_index_and_quiet_writes_by),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
