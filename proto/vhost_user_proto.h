/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user wire format (QEMU docs/interop/vhost-user.rst), our own
 * definitions: the message header, the front-end request codes, the
 * payloads, and the feature bits.  dev-pcnet (front-end) and
 * dev-net-backend (back-end) both compile this header; ipc/vhost_user.h
 * is the codec and validator over it, ipc/virtq.h the split virtqueues.
 *
 * A message on the AF_UNIX SOCK_STREAM socket is a 12-byte header followed
 * by exactly hdr.size bytes of payload; file descriptors travel as
 * SCM_RIGHTS with the header.  All integers are little-endian (both ends
 * run on the same host).  The header is not padded on the wire, so the
 * payload starts at byte 12; the codec sends and receives header and
 * payload separately, which lets struct vu_msg keep both naturally aligned.
 *
 * The standard virtio structures and feature bits come from the kernel's
 * UAPI headers (struct vring_desc, VIRTIO_NET_F_*, VIRTIO_F_VERSION_1,
 * VIRTIO_RING_F_EVENT_IDX, ...); only vhost-user's own are defined here.
 * Names are prefixed VHOST_USER_ / vhost_user_ so that <linux/vhost.h>
 * (struct vhost_vring_state and friends) can be included alongside.
 */
#ifndef PROTO_VHOST_USER_PROTO_H
#define PROTO_VHOST_USER_PROTO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

/* ---- header ------------------------------------------------------------ */

struct vhost_user_hdr {
	uint32_t request;	/* enum vhost_user_request */
	uint32_t flags;		/* VHOST_USER_VERSION | VHOST_USER_F_* below */
	uint32_t size;		/* payload bytes that follow the header */
};

#define VHOST_USER_HDR_SIZE		12u

/* hdr.flags */
#define VHOST_USER_VERSION_MASK		0x3u	/* bits 0-1: protocol version */
#define VHOST_USER_VERSION		0x1u	/* the only version there is */
#define VHOST_USER_F_REPLY		0x4u	/* bit 2: this is a reply */
#define VHOST_USER_F_NEED_REPLY		0x8u	/* bit 3: REPLY_ACK wanted */
/* Bits 4-31 are reserved: sent as zero, refused by vu_msg_check(). */
#define VHOST_USER_FLAGS_KNOWN \
	(VHOST_USER_VERSION_MASK | VHOST_USER_F_REPLY | VHOST_USER_F_NEED_REPLY)

/* ---- front-end requests (front-end -> back-end) ------------------------ */

enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,		/* -, reply u64 */
	VHOST_USER_SET_FEATURES = 2,		/* u64 */
	VHOST_USER_SET_OWNER = 3,		/* - */
	VHOST_USER_RESET_OWNER = 4,		/* - (deprecated) */
	VHOST_USER_SET_MEM_TABLE = 5,		/* mem table, nregions fds */
	VHOST_USER_SET_LOG_BASE = 6,		/* log, 1 fd, reply u64 */
	VHOST_USER_SET_LOG_FD = 7,		/* -, 1 fd */
	VHOST_USER_SET_VRING_NUM = 8,		/* vring state: queue size */
	VHOST_USER_SET_VRING_ADDR = 9,		/* vring addr (front-end VAs) */
	VHOST_USER_SET_VRING_BASE = 10,		/* vring state: last_avail */
	VHOST_USER_GET_VRING_BASE = 11,		/* vring state, reply state */
	VHOST_USER_SET_VRING_KICK = 12,		/* u64 index|NOFD, 0/1 fd */
	VHOST_USER_SET_VRING_CALL = 13,		/* u64 index|NOFD, 0/1 fd */
	VHOST_USER_SET_VRING_ERR = 14,		/* u64 index|NOFD, 0/1 fd */
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,	/* -, reply u64 */
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,	/* u64 */
	VHOST_USER_GET_QUEUE_NUM = 17,		/* -, reply u64 */
	VHOST_USER_SET_VRING_ENABLE = 18,	/* vring state: num 0/1 */
	VHOST_USER_SEND_RARP = 19,		/* u64: MAC in bytes 0-5 */
	VHOST_USER_NET_SET_MTU = 20,		/* u64 */
	VHOST_USER_SET_BACKEND_REQ_FD = 21,	/* -, 1 fd */
	VHOST_USER_IOTLB_MSG = 22,		/* not supported here */
	VHOST_USER_SET_VRING_ENDIAN = 23,	/* vring state */
	VHOST_USER_GET_CONFIG = 24,		/* config, reply config */
	VHOST_USER_SET_CONFIG = 25,		/* config */
	VHOST_USER_CREATE_CRYPTO_SESSION = 26,	/* not supported here */
	VHOST_USER_CLOSE_CRYPTO_SESSION = 27,	/* not supported here */
	VHOST_USER_POSTCOPY_ADVISE = 28,	/* not supported here */
	VHOST_USER_POSTCOPY_LISTEN = 29,	/* not supported here */
	VHOST_USER_POSTCOPY_END = 30,		/* not supported here */
	VHOST_USER_GET_INFLIGHT_FD = 31,	/* not supported here */
	VHOST_USER_SET_INFLIGHT_FD = 32,	/* not supported here */
	VHOST_USER_GPU_SET_SOCKET = 33,		/* not supported here */
	VHOST_USER_RESET_DEVICE = 34,		/* - */
	VHOST_USER_VRING_KICK = 35,		/* vring state (in-band kick) */
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,	/* -, reply u64 */
	VHOST_USER_ADD_MEM_REG = 37,		/* mem region, 1 fd */
	VHOST_USER_REM_MEM_REG = 38,		/* mem region, 0 fd (or 1) */
	VHOST_USER_SET_STATUS = 39,		/* u64: virtio status byte */
	VHOST_USER_GET_STATUS = 40,		/* -, reply u64 */
	VHOST_USER_REQUEST_MAX,
};

/* ---- payloads ---------------------------------------------------------- */

/* SET_VRING_NUM/BASE/ENABLE/ENDIAN, GET_VRING_BASE, VRING_KICK. */
struct vhost_user_vring_state {
	uint32_t index;		/* queue index */
	uint32_t num;		/* size, base (last_avail) or enable */
};

/* SET_VRING_ADDR: every address is a front-end virtual address (UVA). */
struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;		/* VHOST_USER_VRING_F_LOG or 0 */
	uint64_t desc_user_addr;	/* 16-byte aligned */
	uint64_t used_user_addr;	/* 4-byte aligned */
	uint64_t avail_user_addr;	/* 2-byte aligned */
	uint64_t log_guest_addr;	/* GPA of the used ring, for logging */
};

#define VHOST_USER_VRING_F_LOG		(1u << 0)

/* The u64 of SET_VRING_KICK/CALL/ERR. */
#define VHOST_USER_VRING_IDX_MASK	0xffull		/* bits 0-7: queue */
#define VHOST_USER_VRING_NOFD_MASK	(1ull << 8)	/* no fd: poll / none */

/* Largest split queue size (virtio 1.x: a power of two up to 32768). */
#define VHOST_USER_MAX_QUEUE_SIZE	32768u

/*
 * One region of guest memory as the front-end maps it: a GPA range, the
 * front-end's own virtual address for it (vring addresses are given in
 * these), and where it starts in the fd passed alongside.
 */
struct vhost_user_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

/* Regions in one SET_MEM_TABLE; also the fd limit of any one message. */
#define VHOST_MEMORY_MAX_NREGIONS	8u
#define VHOST_USER_MAX_FDS		VHOST_MEMORY_MAX_NREGIONS

/*
 * SET_MEM_TABLE.  On the wire hdr.size is 8 + nregions * 32: only the
 * regions in use are sent, one fd each, in order.
 */
struct vhost_user_mem_table {
	uint32_t nregions;	/* 1 .. VHOST_MEMORY_MAX_NREGIONS */
	uint32_t padding;
	struct vhost_user_mem_region regions[VHOST_MEMORY_MAX_NREGIONS];
};

static inline uint32_t vhost_user_mem_table_size(uint32_t nregions)
{
	return (uint32_t)(offsetof(struct vhost_user_mem_table, regions) +
			  nregions * sizeof(struct vhost_user_mem_region));
}

/* ADD_MEM_REG / REM_MEM_REG (CONFIGURE_MEM_SLOTS): one region. */
struct vhost_user_mem_single {
	uint64_t padding;
	struct vhost_user_mem_region region;
};

/* SET_LOG_BASE (LOG_SHMFD): the log is mmap_size bytes at offset of the fd. */
struct vhost_user_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

/* GET_CONFIG / SET_CONFIG: hdr.size is 12 + size. */
#define VHOST_USER_MAX_CONFIG_SIZE	256u
#define VHOST_USER_CONFIG_HDR_SIZE	12u

enum vhost_user_config_flags {
	VHOST_USER_CONFIG_TYPE_FRONTEND = 0,
	VHOST_USER_CONFIG_TYPE_MIGRATION = 1,
};

struct vhost_user_config {
	uint32_t offset;	/* into the device config space */
	uint32_t size;		/* bytes of region[] in use */
	uint32_t flags;		/* enum vhost_user_config_flags */
	uint8_t region[VHOST_USER_MAX_CONFIG_SIZE];
};

/*
 * Every payload.  The largest one on the wire (a full config) bounds what
 * a receiver accepts: VHOST_USER_MAX_PAYLOAD.
 */
union vhost_user_payload {
	uint64_t u64;
	struct vhost_user_vring_state state;
	struct vhost_user_vring_addr addr;
	struct vhost_user_mem_table mem;
	struct vhost_user_mem_single mem_reg;
	struct vhost_user_log log;
	struct vhost_user_config config;
	uint8_t raw[VHOST_USER_CONFIG_HDR_SIZE + VHOST_USER_MAX_CONFIG_SIZE];
};

#define VHOST_USER_MAX_PAYLOAD \
	(VHOST_USER_CONFIG_HDR_SIZE + VHOST_USER_MAX_CONFIG_SIZE)

/* ---- feature bits ------------------------------------------------------ */

/*
 * Virtio feature bit (GET/SET_FEATURES) saying the back-end speaks
 * GET/SET_PROTOCOL_FEATURES.  Never offered to the guest.
 */
#define VHOST_USER_F_PROTOCOL_FEATURES	30
/* vhost's dirty-log feature bit (as in <linux/vhost_types.h>). */
#define VHOST_USER_F_LOG_ALL		26

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
enum vhost_user_protocol_feature {
	VHOST_USER_PROTOCOL_F_MQ = 0,
	VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
	VHOST_USER_PROTOCOL_F_RARP = 2,
	VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
	VHOST_USER_PROTOCOL_F_NET_MTU = 4,
	VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
	VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
	VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
	VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
	VHOST_USER_PROTOCOL_F_CONFIG = 9,
	VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
	VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
	VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VHOST_USER_PROTOCOL_F_STATUS = 16,
	/* 17 is reserved (XEN_MMAP). */
	VHOST_USER_PROTOCOL_F_SHARED_OBJECT = 18,
	VHOST_USER_PROTOCOL_F_DEVICE_STATE = 19,
};

/* ---- pinned sizes ------------------------------------------------------ */

static_assert(sizeof(struct vhost_user_hdr) == VHOST_USER_HDR_SIZE,
	      "vhost-user header is 12 bytes");
static_assert(sizeof(struct vhost_user_vring_state) == 8, "vring state");
static_assert(sizeof(struct vhost_user_vring_addr) == 40, "vring addr");
static_assert(sizeof(struct vhost_user_mem_region) == 32, "mem region");
static_assert(offsetof(struct vhost_user_mem_table, regions) == 8,
	      "mem table header");
static_assert(sizeof(struct vhost_user_mem_table) == 8 + 8 * 32, "mem table");
static_assert(sizeof(struct vhost_user_mem_single) == 40, "single region");
static_assert(sizeof(struct vhost_user_log) == 16, "log");
static_assert(offsetof(struct vhost_user_config, region) ==
	      VHOST_USER_CONFIG_HDR_SIZE, "config header");
static_assert(sizeof(union vhost_user_payload) >= VHOST_USER_MAX_PAYLOAD,
	      "payload union holds the largest payload");
static_assert(sizeof(struct vring_desc) == 16, "virtio descriptor");
static_assert(sizeof(struct vring_used_elem) == 8, "virtio used element");

#endif
