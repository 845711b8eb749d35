// SPDX-License-Identifier: MIT
/*
 * The back-end's message state machine against a fake front-end:
 * feature and protocol-feature negotiation, the memory table, ring set-up
 * and GET_VRING_BASE.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define ALL_FEATURES	(~0ull)

static int setup(void **state)
{
	static struct fe fe;
	struct vb_config cfg;

	vb_config_default(&cfg);
	fe_init(&fe, &cfg);
	*state = &fe;
	return 0;
}

static int teardown(void **state)
{
	fe_fini(*state);
	return 0;
}

static void backend_offers_version_1_mergeable_and_protocol_features(void **state)
{
	struct fe *fe = *state;
	uint64_t f = fe_get_u64(fe, VHOST_USER_GET_FEATURES);

	assert_true(f & (1ull << VIRTIO_F_VERSION_1));
	assert_true(f & (1ull << VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f & (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
	/* No offloads, no control queue, no packed ring, no MQ. */
	assert_false(f & (1ull << VIRTIO_NET_F_CSUM));
	assert_false(f & (1ull << VIRTIO_NET_F_GUEST_TSO4));
	assert_false(f & (1ull << VIRTIO_NET_F_CTRL_VQ));
	assert_false(f & (1ull << VIRTIO_NET_F_MQ));
	assert_false(f & (1ull << VIRTIO_F_RING_PACKED));
}

static void backend_offers_reply_ack_without_mq(void **state)
{
	struct fe *fe = *state;
	uint64_t p = fe_get_u64(fe, VHOST_USER_GET_PROTOCOL_FEATURES);

	assert_true(p & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	assert_false(p & (1ull << VHOST_USER_PROTOCOL_F_MQ));
	assert_int_equal(fe_get_u64(fe, VHOST_USER_GET_QUEUE_NUM), 1);
}

static void negotiated_features_are_kept_and_acked(void **state)
{
	struct fe *fe = *state;

	fe_negotiate(fe, ALL_FEATURES);
	assert_int_equal(vb_features(fe->vb), fe->features);
	assert_int_equal(vb_protocol_features(fe->vb),
			 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
}

static void features_never_offered_are_refused(void **state)
{
	struct fe *fe = *state;
	uint64_t bad = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_CSUM;
	uint64_t pbad = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK |
			1ull << VHOST_USER_PROTOCOL_F_MQ;

	fe_negotiate(fe, ALL_FEATURES);
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_FEATURES, &bad,
				    sizeof(bad), NULL, 0), 0);
	assert_int_equal(vb_features(fe->vb), fe->features);
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_PROTOCOL_FEATURES,
				    &pbad, sizeof(pbad), NULL, 0), 0);
}

static void no_reply_ack_means_no_ack(void **state)
{
	struct fe *fe = *state;
	struct vu_msg r;
	uint64_t f = 1ull << VIRTIO_F_VERSION_1;

	/* REPLY_ACK not negotiated: NEED_REPLY is ignored. */
	assert_int_equal(fe_send(fe, VHOST_USER_SET_FEATURES,
				 VHOST_USER_F_NEED_REPLY, &f, sizeof(f), NULL,
				 0), 0);
	assert_int_equal(fe_reply(fe, &r), -1);
	assert_int_equal(vb_features(fe->vb), f);
}

static void mem_table_of_two_memfds_is_mapped(void **state)
{
	struct fe *fe = *state;

	fe_negotiate(fe, ALL_FEATURES);
	assert_int_equal(fe_mem_table(fe), 0);
	/* A second table replaces the first. */
	assert_int_equal(fe_mem_table(fe), 0);
}

static void mem_table_region_beyond_its_file_is_refused(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_mem_table t = { .nregions = 1 };

	fe_negotiate(fe, ALL_FEATURES);
	t.regions[0].guest_phys_addr = 0;
	t.regions[0].memory_size = 2 * FE_REGION_SIZE;	/* file is 1 MiB */
	t.regions[0].userspace_addr = fe_uva(fe->ram[0]);
	assert_int_not_equal(fe_ack(fe, VHOST_USER_SET_MEM_TABLE, &t,
				    vhost_user_mem_table_size(1), fe->memfd,
				    1), 0);
}

static void rings_start_with_kick_and_stop_at_get_vring_base(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_vring_state s = { .index = VB_TXQ };
	struct vu_msg r;
	uint8_t *buf;
	struct virtq_buf b;
	unsigned i;

	fe_bring_up(fe, ALL_FEATURES);
	/* Three frames go through, so the base is 3. */
	buf = fe_alloc(fe, 1, 12 + 60, 8);
	b.addr = fe_gpa(fe, buf);
	b.len = 12 + 60;
	for (i = 0; i < 3; i++) {
		fe_add(fe, VB_TXQ, &b, 1, 0, buf);
		fe_kick(fe, VB_TXQ);
		fe_run(fe, 2);
	}
	assert_int_equal(fe->host.ntx, 3);
	assert_int_equal(fe_send(fe, VHOST_USER_GET_VRING_BASE, 0, &s,
				 sizeof(s), NULL, 0), 0);
	assert_int_equal(fe_reply(fe, &r), sizeof(s));
	assert_int_equal(r.payload.state.index, VB_TXQ);
	assert_int_equal(r.payload.state.num, 3);
	assert_false(vb_queue_running(fe->vb, VB_TXQ));
	assert_true(vb_queue_running(fe->vb, VB_RXQ));
	/* Stopped: a fourth frame stays in the ring. */
	fe_add(fe, VB_TXQ, &b, 1, 0, buf);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 3);
	assert_int_equal(fe->host.ntx, 3);
}

static void ring_restarts_from_its_base(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_vring_state s = { .index = VB_TXQ };
	uint64_t u = VB_TXQ;
	struct vu_msg r;
	uint8_t *buf;
	struct virtq_buf b;

	fe_bring_up(fe, ALL_FEATURES);
	buf = fe_alloc(fe, 1, 12 + 60, 8);
	b.addr = fe_gpa(fe, buf);
	b.len = 12 + 60;
	fe_add(fe, VB_TXQ, &b, 1, 0, buf);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe_send(fe, VHOST_USER_GET_VRING_BASE, 0, &s,
				 sizeof(s), NULL, 0), 0);
	assert_int_equal(fe_reply(fe, &r), sizeof(s));
	assert_int_equal(r.payload.state.num, 1);
	/* A frame added while stopped goes once the ring is kicked again. */
	fe_add(fe, VB_TXQ, &b, 1, 0, buf);
	s.num = 1;
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_BASE, &s, sizeof(s),
				NULL, 0), 0);
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_KICK, &u, sizeof(u),
				&fe->kick[VB_TXQ], 1), 0);
	assert_true(vb_queue_running(fe->vb, VB_TXQ));
	fe_run(fe, 2);
	assert_int_equal(fe->host.ntx, 2);
}

static void ring_waits_for_enable_when_protocol_features_acked(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_vring_state s = { .index = VB_TXQ, .num = 0 };
	uint8_t *buf;
	struct virtq_buf b;

	fe_bring_up(fe, ALL_FEATURES);
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_ENABLE, &s,
				sizeof(s), NULL, 0), 0);
	buf = fe_alloc(fe, 1, 12 + 60, 8);
	b.addr = fe_gpa(fe, buf);
	b.len = 12 + 60;
	fe_add(fe, VB_TXQ, &b, 1, 0, buf);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	/* Disabled: drained and discarded, as the spec says. */
	assert_int_equal(fe->host.ntx, 0);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->drop_disabled, 1);
	assert_non_null(virtq_drv_get_used(&fe->q[VB_TXQ], &(uint32_t){ 0 }));
}

static void reset_owner_forgets_everything(void **state)
{
	struct fe *fe = *state;

	fe_bring_up(fe, ALL_FEATURES);
	assert_int_equal(fe_send(fe, VHOST_USER_RESET_OWNER, 0, NULL, 0,
				 NULL, 0), 0);
	assert_false(vb_queue_running(fe->vb, VB_RXQ));
	assert_false(vb_queue_running(fe->vb, VB_TXQ));
	assert_int_equal(vb_features(fe->vb), 0);
}

static void peer_hang_up_is_reported(void **state)
{
	struct fe *fe = *state;

	fe_bring_up(fe, ALL_FEATURES);
	close(fe->sock);
	fe->sock = -1;
	assert_int_equal(vb_poll(fe->vb, 100), -ENOTCONN);
	assert_false(vb_connected(fe->vb));
	assert_false(vb_queue_running(fe->vb, VB_TXQ));
}

static void ring_without_kick_fd_is_polled(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_vring_state s = { .index = VB_TXQ };
	uint64_t u = VB_TXQ | VHOST_USER_VRING_NOFD_MASK;
	struct vu_msg r;
	uint8_t *buf;
	struct virtq_buf b;

	fe_bring_up(fe, ALL_FEATURES);
	assert_int_equal(fe_send(fe, VHOST_USER_GET_VRING_BASE, 0, &s,
				 sizeof(s), NULL, 0), 0);
	assert_int_equal(fe_reply(fe, &r), sizeof(s));
	/* Restart with NOFD: the front-end will never kick. */
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_KICK, &u, sizeof(u),
				NULL, 0), 0);
	assert_true(vb_queue_running(fe->vb, VB_TXQ));
	fe_run(fe, 2);
	buf = fe_alloc(fe, 1, 12 + 60, 8);
	b.addr = fe_gpa(fe, buf);
	b.len = 12 + 60;
	fe_add(fe, VB_TXQ, &b, 1, 0, buf);
	/* No kick: a turn that may wait finds it by polling. */
	assert_int_equal(vb_poll(fe->vb, 5), 0);
	assert_int_equal(fe->host.ntx, 1);
}

static void busy_poll_finds_frames_without_kicks(void **state)
{
	struct fe *fe = *state;
	struct vb_config cfg;
	uint8_t *buf;
	struct virtq_buf b;

	fe_fini(fe);
	vb_config_default(&cfg);
	cfg.busy_poll_ns = 10ull * 1000 * 1000 * 1000;	/* the whole test */
	fe_init(fe, &cfg);
	/* Without EVENT_IDX, where "no kicks" is a flag the driver obeys
	 * at once (an event index only stops it after one more kick). */
	fe_bring_up(fe, ~(1ull << VIRTIO_RING_F_EVENT_IDX));
	fe_run(fe, 3);
	buf = fe_alloc(fe, 1, 12 + 60, 8);
	b.addr = fe_gpa(fe, buf);
	b.len = 12 + 60;
	fe_add(fe, VB_TXQ, &b, 1, 0, buf);
	/* While busy polling the driver is asked not to kick... */
	assert_false(virtq_drv_kick_needed(&fe->q[VB_TXQ]));
	/* ...and the next turn takes the frame anyway. */
	fe_run(fe, 1);
	assert_int_equal(fe->host.ntx, 1);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->kicks, 0);
}

static void new_mem_table_while_running_remaps_the_rings(void **state)
{
	struct fe *fe = *state;
	uint8_t *buf;
	struct virtq_buf b;

	fe_bring_up(fe, ALL_FEATURES);
	buf = fe_alloc(fe, 1, 12 + 60, 8);
	b.addr = fe_gpa(fe, buf);
	b.len = 12 + 60;
	fe_add(fe, VB_TXQ, &b, 1, 0, buf);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	/* The old mappings go; the rings follow into the new ones. */
	assert_int_equal(fe_mem_table(fe), 0);
	assert_true(vb_queue_running(fe->vb, VB_TXQ));
	assert_true(vb_queue_running(fe->vb, VB_RXQ));
	fe_add(fe, VB_TXQ, &b, 1, 0, buf);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe->host.ntx, 2);
}

static void removing_the_rings_region_stops_them(void **state)
{
	struct fe *fe = *state;
	struct vhost_user_mem_single r = { 0 };
	uint8_t *buf;
	struct virtq_buf b;

	fe_bring_up(fe, ALL_FEATURES);
	r.region.guest_phys_addr = 0;		/* region 0 holds the rings */
	r.region.memory_size = FE_REGION_SIZE;
	r.region.userspace_addr = fe_uva(fe->ram[0]);
	assert_int_equal(fe_ack(fe, VHOST_USER_REM_MEM_REG, &r, sizeof(r),
				NULL, 0), 0);
	assert_false(vb_queue_running(fe->vb, VB_TXQ));
	buf = fe_alloc(fe, 1, 12 + 60, 8);
	b.addr = fe_gpa(fe, buf);
	b.len = 12 + 60;
	fe_add(fe, VB_TXQ, &b, 1, 0, buf);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe->host.ntx, 0);
	/* Added back, the rings start again where they were. */
	assert_int_equal(fe_ack(fe, VHOST_USER_ADD_MEM_REG, &r, sizeof(r),
				&fe->memfd[0], 1), 0);
	assert_true(vb_queue_running(fe->vb, VB_TXQ));
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe->host.ntx, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(backend_offers_version_1_mergeable_and_protocol_features),
		T(backend_offers_reply_ack_without_mq),
		T(negotiated_features_are_kept_and_acked),
		T(features_never_offered_are_refused),
		T(no_reply_ack_means_no_ack),
		T(mem_table_of_two_memfds_is_mapped),
		T(mem_table_region_beyond_its_file_is_refused),
		T(rings_start_with_kick_and_stop_at_get_vring_base),
		T(ring_restarts_from_its_base),
		T(ring_waits_for_enable_when_protocol_features_acked),
		T(reset_owner_forgets_everything),
		T(peer_hang_up_is_reported),
		T(ring_without_kick_fd_is_polled),
		T(new_mem_table_while_running_remaps_the_rings),
		T(removing_the_rings_region_stops_them),
		T(busy_poll_finds_frames_without_kicks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
