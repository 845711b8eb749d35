// SPDX-License-Identifier: MIT
/*
 * Malformed and hostile vhost-user messages: each is answered with an
 * error (REPLY_ACK failure, an empty reply to a GET) or ends the
 * connection when the stream is out of step, never a crash, and never
 * leaves a descriptor open.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define ALL_FEATURES	(~0ull)

static struct fe fe_storage;
static unsigned fds_before;

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	struct vb_config cfg;

	vb_config_default(&cfg);
	fe_init(&fe_storage, &cfg);
	fe_negotiate(&fe_storage, ALL_FEATURES);
	fds_before = open_fds();
	*state = &fe_storage;
	return 0;
}

static int teardown(void **state)
{
	fe_fini(*state);
	return 0;
}

/* The connection still works: a GET_FEATURES is answered. */
static void still_alive(struct fe *fe)
{
	assert_true(fe_get_u64(fe, VHOST_USER_GET_FEATURES) &
		    (1ull << VIRTIO_F_VERSION_1));
}

static void raw(struct fe *fe, const void *bytes, size_t len)
{
	assert_int_equal(write(fe->sock, bytes, len), (ssize_t)len);
}

static void unknown_request_is_nacked(void **state)
{
	struct fe *fe = *state;

	assert_int_not_equal(fe_ack(fe, 99, NULL, 0, NULL, 0), 0);
	assert_int_not_equal(fe_ack(fe, VHOST_USER_POSTCOPY_LISTEN, NULL, 0,
				    NULL, 0), 0);
	still_alive(fe);
}

static void wrong_payload_size_is_nacked(void **state)
{
	struct fe *fe = *state;
	uint32_t four = 1;

	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_FEATURES, &four,
				    sizeof(four), NULL, 0), 0);
	still_alive(fe);
}

static void get_with_bad_payload_gets_an_empty_reply(void **state)
{
	struct fe *fe = *state;
	uint64_t junk = 0;
	struct vu_msg r;

	assert_int_equal(fe_send(fe, VHOST_USER_GET_FEATURES, 0, &junk,
				 sizeof(junk), NULL, 0), 0);
	assert_int_equal(fe_reply(fe, &r), 0);
	still_alive(fe);
}

static void get_vring_base_of_a_missing_queue_gets_an_empty_reply(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_vring_state s = { .index = 7 };
	struct vu_msg r;

	assert_int_equal(fe_send(fe, VHOST_USER_GET_VRING_BASE, 0, &s,
				 sizeof(s), NULL, 0), 0);
	assert_int_equal(fe_reply(fe, &r), 0);
	still_alive(fe);
}

static void vring_fields_out_of_range_are_nacked(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_vring_state s = { .index = 0, .num = 3 };
	struct vhost_user_vring_addr a = { .index = 0, .desc_user_addr = 8 };
	uint64_t u = 5;	/* queue 5: no MQ */

	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_VRING_NUM, &s,
				    sizeof(s), NULL, 0), 0);	/* not 2^n */
	s.num = 65536;
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_VRING_NUM, &s,
				    sizeof(s), NULL, 0), 0);
	s.index = 2;
	s.num = 64;
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_VRING_NUM, &s,
				    sizeof(s), NULL, 0), 0);
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_VRING_ADDR, &a,
				    sizeof(a), NULL, 0), 0);	/* unaligned */
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_VRING_KICK, &u,
				    sizeof(u), &fe->kick[0], 1), 0);
	u = 0;		/* an fd is announced but none comes */
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_VRING_CALL, &u,
				    sizeof(u), NULL, 0), 0);
	assert_int_equal(open_fds(), fds_before);
	still_alive(fe);
}

static void ring_addresses_outside_the_table_do_not_start_it(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_vring_state s = { .index = 1, .num = 64 };
	struct vhost_user_vring_addr a = {
		.index = 1, .desc_user_addr = 0x1000,
		.avail_user_addr = 0x2000, .used_user_addr = 0x3000,
	};
	uint64_t u = 1;

	assert_int_equal(fe_mem_table(fe), 0);
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_NUM, &s, sizeof(s),
				NULL, 0), 0);
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a),
				NULL, 0), 0);
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_VRING_KICK, &u,
				    sizeof(u), &fe->kick[1], 1), 0);
	assert_false(vb_queue_running(fe->vb, 1));
	still_alive(fe);
}

static void mem_table_with_too_many_or_missing_fds_is_nacked(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_mem_table t = { .nregions = 2 };
	unsigned i;

	for (i = 0; i < 2; i++) {
		t.regions[i].guest_phys_addr = (uint64_t)i * FE_REGION_SIZE;
		t.regions[i].memory_size = FE_REGION_SIZE;
		t.regions[i].userspace_addr = fe_uva(fe->ram[i]);
	}
	/* Two regions, one fd. */
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_MEM_TABLE, &t,
				    vhost_user_mem_table_size(2), fe->memfd,
				    1), 0);
	/* Overlapping regions. */
	t.regions[1].guest_phys_addr = 4096;
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_MEM_TABLE, &t,
				    vhost_user_mem_table_size(2), fe->memfd,
				    2), 0);
	/* Nine regions claimed. */
	t.nregions = 9;
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_MEM_TABLE, &t,
				    vhost_user_mem_table_size(2), fe->memfd,
				    2), 0);
	assert_int_equal(open_fds(), fds_before);
	still_alive(fe);
}

static void fds_on_a_request_that_takes_none_are_closed(void **state)
{
	struct fe *fe = *state;
	uint64_t f = fe->features;

	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_FEATURES, &f,
				    sizeof(f), fe->memfd, 2), 0);
	assert_int_equal(open_fds(), fds_before);
	still_alive(fe);
}

static void bad_version_or_reply_flag_is_nacked(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_hdr h = { VHOST_USER_SET_OWNER,
				    0x2 | VHOST_USER_F_NEED_REPLY, 0 };
	struct vu_msg r;

	raw(fe, &h, sizeof(h));
	assert_int_equal(vb_handle_message(fe->vb), 0);
	assert_int_equal(fe_reply(fe, &r), 8);
	assert_int_not_equal(r.payload.u64, 0);
	h.flags = VHOST_USER_VERSION | VHOST_USER_F_REPLY;
	raw(fe, &h, sizeof(h));
	assert_int_equal(vb_handle_message(fe->vb), 0);
	still_alive(fe);
}

static void oversized_payload_ends_the_connection(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_hdr h = { VHOST_USER_SET_FEATURES,
				    VHOST_USER_VERSION, 0xffffffffu };

	raw(fe, &h, sizeof(h));
	assert_true(vb_handle_message(fe->vb) < 0);
}

static void message_cut_short_by_hang_up_ends_the_connection(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_hdr h = { VHOST_USER_SET_MEM_TABLE,
				    VHOST_USER_VERSION, 200 };

	raw(fe, &h, sizeof(h));
	raw(fe, "abc", 3);
	close(fe->sock);
	fe->sock = -1;
	assert_true(vb_handle_message(fe->vb) < 0);
	assert_int_equal(vb_poll(fe->vb, 0), -ENOTCONN);
}

static void half_a_header_then_hang_up_ends_the_connection(void **state)
{
	struct fe *fe = *state;

	raw(fe, "\x01\x00\x00", 3);
	close(fe->sock);
	fe->sock = -1;
	assert_int_equal(vb_poll(fe->vb, 100), -ENOTCONN);
	assert_false(vb_connected(fe->vb));
}

static void drain_replies(struct fe *fe)
{
	struct vu_msg r;

	while (fe_reply(fe, &r) >= 0)
		;
}

static void random_well_framed_requests_never_crash(void **state)
{
	struct fe *fe = *state;
	unsigned i, k, seed = 12345;
	uint8_t msg[12 + 64];

	/* Every request code, random flags and payloads of random sizes:
	 * each is framed, so each must be answered or ignored and the
	 * connection must stay up. */
	for (i = 0; i < 3000; i++) {
		struct vhost_user_hdr h;

		for (k = 0; k < sizeof(msg); k++) {
			seed = seed * 1103515245u + 12345u;
			msg[k] = (uint8_t)(seed >> 16);
		}
		h.request = msg[0] % (VHOST_USER_REQUEST_MAX + 2);
		h.flags = VHOST_USER_VERSION |
			  (msg[1] & 1 ? VHOST_USER_F_NEED_REPLY : 0);
		/* Mostly sizes some request takes, so checks pass and
		 * handlers see random fields. */
		h.size = (const uint32_t[]){ 8, 8, 40, 0, 8, 40,
					      msg[4] % 64u }[msg[2] % 7];
		/* Small queue indexes now and then, so handlers run. */
		if (msg[3] & 1)
			memset(msg + 12, 0, 4);
		memcpy(msg, &h, sizeof(h));
		raw(fe, msg, 12 + h.size);
		assert_int_equal(vb_handle_message(fe->vb), 0);
		drain_replies(fe);
	}
	assert_int_equal(open_fds(), fds_before);
	still_alive(fe);
}

static void garbage_stream_never_crashes(void **state)
{
	struct fe *fe = *state;
	uint8_t junk[4096];
	unsigned i, seed = 54321;
	int rc = 0;

	for (i = 0; i < sizeof(junk); i++) {
		seed = seed * 1103515245u + 12345u;
		junk[i] = (uint8_t)(seed >> 16);
	}
	raw(fe, junk, sizeof(junk));
	shutdown(fe->sock, SHUT_WR);
	for (i = 0; i < 1000 && rc >= 0; i++)
		rc = vb_handle_message(fe->vb);
	assert_true(rc < 0);
	vb_detach(fe->vb);
}

static void half_a_message_does_not_stop_the_rings(void **state)
{
	struct fe *fe = *state;
	struct vu_msg m, r;
	uint8_t wire[VHOST_USER_HDR_SIZE];
	uint8_t *buf;
	struct virtq_buf b;

	assert_int_equal(fe_mem_table(fe), 0);
	fe_queue(fe, VB_TXQ);
	/* Five bytes of a GET_FEATURES header... */
	vu_msg_init(&m, VHOST_USER_GET_FEATURES, 0);
	memcpy(wire, &m.hdr, sizeof(wire));
	raw(fe, wire, 5);
	assert_int_equal(vb_poll(fe->vb, 0), 0);
	/* ...while frames still move... */
	buf = fe_alloc(fe, 1, 12 + 60, 8);
	b.addr = fe_gpa(fe, buf);
	b.len = 12 + 60;
	fe_add(fe, VB_TXQ, &b, 1, 0, buf);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe->host.ntx, 1);
	assert_int_equal(fe_reply(fe, &r), -1);
	/* ...and the rest of it gets its answer. */
	raw(fe, wire + 5, sizeof(wire) - 5);
	fe_run(fe, 2);
	assert_int_equal(fe_reply(fe, &r), 8);
	assert_int_equal(r.hdr.request, VHOST_USER_GET_FEATURES);
}

static void unfinished_message_drops_the_peer_after_the_timeout(void **state)
{
	struct fe *fe = *state;
	struct vb_config cfg;
	unsigned i;
	int rc = 0;

	fe_fini(fe);
	vb_config_default(&cfg);
	cfg.msg_timeout_ms = 30;
	fe_init(fe, &cfg);
	raw(fe, "\x01\x00\x00\x00\x01", 5);
	for (i = 0; i < 200 && rc == 0; i++)
		rc = vb_poll(fe->vb, 10);
	assert_int_equal(rc, -ENOTCONN);
	assert_false(vb_connected(fe->vb));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(unknown_request_is_nacked),
		T(wrong_payload_size_is_nacked),
		T(get_with_bad_payload_gets_an_empty_reply),
		T(get_vring_base_of_a_missing_queue_gets_an_empty_reply),
		T(vring_fields_out_of_range_are_nacked),
		T(ring_addresses_outside_the_table_do_not_start_it),
		T(mem_table_with_too_many_or_missing_fds_is_nacked),
		T(fds_on_a_request_that_takes_none_are_closed),
		T(bad_version_or_reply_flag_is_nacked),
		T(oversized_payload_ends_the_connection),
		T(message_cut_short_by_hang_up_ends_the_connection),
		T(half_a_header_then_hang_up_ends_the_connection),
		T(random_well_framed_requests_never_crash),
		T(half_a_message_does_not_stop_the_rings),
		T(unfinished_message_drops_the_peer_after_the_timeout),
		T(garbage_stream_never_crashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
