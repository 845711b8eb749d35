/* SPDX-License-Identifier: MIT */
/*
 * The device protocol between vmm-core and an out-of-process PCI device:
 * the messages on the AF_UNIX SOCK_SEQPACKET device socket and the layout
 * of the shared-memory I/O region.  PROTOCOL.md beside this file is the
 * prose; this header is the one definition both sides compile, and the
 * static assertions at the end pin every size and offset.
 *
 * All integers are little-endian (both ends run on the same host); every
 * message starts with struct dp_hdr and has exactly the size its type
 * gives (DP_MSG_ERROR too: a short text is NUL-terminated inside the
 * full-size array).  Reserved fields are sent as zero and refused
 * otherwise, like dp_hdr.flags.
 */
#ifndef PROTO_DEVPROTO_H
#define PROTO_DEVPROTO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "spsc_ring.h"

#define DP_MAGIC		0x56445053u	/* "SPDV" */
#define DP_VERSION		1u

/* Feature bits, offered in HELLO and answered in WELCOME (the AND). */
#define DP_F_POSTED_WRITES	(1ull << 0)	/* writes go through the posted ring */
#define DP_F_SHADOW_READS	(1ull << 1)	/* the core answers reads from the shadow */
#define DP_F_KNOWN		(DP_F_POSTED_WRITES | DP_F_SHADOW_READS)

/* Limits a receiver enforces. */
#define DP_MAX_MSG		512		/* no message is larger */
#define DP_MAX_VCPUS		64
#define DP_MAX_MEM_REGIONS	8
#define DP_MAX_STATE_SIZE	(16u << 20)	/* state region, bytes */
#define DP_MAX_FDS		(5 + DP_MAX_VCPUS)
#define DP_NAME_LEN		32
#define DP_ERROR_TEXT_LEN	120

enum dp_msg_type {
	DP_MSG_HELLO = 1,	/* device -> core, first message, no fds */
	DP_MSG_WELCOME = 2,	/* core -> device, DP_WELCOME_FDS + nr_vcpus fds */
	DP_MSG_MEM_REGION = 3,	/* core -> device, one fd: a guest-RAM memfd */
	DP_MSG_BAR = 4,		/* core -> device, no fds: where a BAR is now */
	DP_MSG_READY = 5,	/* both ways, no fds: set-up complete / serving */
	DP_MSG_ERROR = 6,	/* both ways, no fds: the last message was refused */
};

struct dp_hdr {
	uint32_t magic;		/* DP_MAGIC */
	uint16_t type;		/* enum dp_msg_type */
	uint16_t flags;		/* 0; receivers reject anything else */
	uint32_t size;		/* of the whole message, header included */
	uint32_t seq;		/* sender's counter; ERROR echoes the refused one */
};

enum dp_bar_type {
	DP_BAR_UNUSED = 0,
	DP_BAR_IO = 1,
	DP_BAR_MEM32 = 2,
	DP_BAR_MEM64 = 3,	/* takes this slot and the next, which is UNUSED */
};

#define DP_BAR_F_PREFETCH	(1u << 0)	/* memory BARs only */
#define DP_BAR_F_SYNC_WRITES	(1u << 1)	/* writes use the slot, not the ring */
/* I/O BARs with a coalesced range only: a write there may acknowledge an
 * interrupt, so the core delivers what is queued before it forwards the
 * guest's EOI (resample) to the device. */
#define DP_BAR_F_COALESCED_ACK	(1u << 2)
#define DP_BAR_F_KNOWN		(DP_BAR_F_PREFETCH | DP_BAR_F_SYNC_WRITES | \
				 DP_BAR_F_COALESCED_ACK)

struct dp_bar_desc {
	uint64_t size;		/* power of two (I/O 4..256, memory >= 16), or 0 */
	uint8_t type;		/* enum dp_bar_type */
	uint8_t flags;		/* DP_BAR_F_* */
	/*
	 * I/O BARs only: writes to [coalesce_off, coalesce_off +
	 * coalesce_len) may reach the device late, at the writing vCPU's
	 * next exit or any vCPU's next access to the device, in order (the
	 * core may register them as KVM coalesced PIO, so they cost no exit).
	 * For registers whose writes have no effect the guest could see
	 * before it touches the device again, e.g. PCnet's RAP.  0: none.
	 */
	uint8_t coalesce_off;
	uint8_t coalesce_len;
	uint8_t reserved[4];
};

/* Device -> core.  What the core puts on the PCI bus and serves in config. */
struct dp_hello {
	struct dp_hdr hdr;
	uint32_t version;	/* DP_VERSION */
	uint32_t state_size;	/* bytes of state region wanted, <= DP_MAX_STATE_SIZE */
	uint64_t features;	/* DP_F_* offered */
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t subsys_vendor_id;
	uint16_t subsys_id;
	uint32_t class_code;	/* base << 16 | sub << 8 | prog-if */
	uint8_t revision;
	uint8_t int_pin;	/* 0 none, 1-4 INTA#-INTD# */
	uint8_t reserved[2];
	char name[DP_NAME_LEN];	/* for messages; NUL-terminated */
	struct dp_bar_desc bar[6];
};

/*
 * Core -> device.  The fds, in this order: the state region, the I/O
 * region, the kick eventfd (core -> device), the irqfd and its resample fd
 * (a device with int_pin 0 still gets two eventfds, wired to nothing), then
 * one completion eventfd per vCPU (device -> core).
 */
enum dp_welcome_fd {
	DP_FD_STATE = 0,
	DP_FD_IO = 1,
	DP_FD_KICK = 2,
	DP_FD_IRQ = 3,
	DP_FD_RESAMPLE = 4,
	DP_WELCOME_FDS = 5,	/* DP_FD_DONE(i) = DP_WELCOME_FDS + i */
};

struct dp_welcome {
	struct dp_hdr hdr;
	uint32_t version;	/* DP_VERSION */
	uint32_t nr_vcpus;	/* 1..DP_MAX_VCPUS: slots and posted rings */
	uint64_t features;	/* DP_F_* in force */
	uint32_t io_size;	/* bytes of the I/O region */
	uint32_t state_size;	/* bytes of the state region */
	uint32_t generation;	/* 1 on the first attach, +1 on each reconnect */
	uint32_t nr_mem_regions;/* MEM_REGION messages that follow */
	uint32_t pci_devfn;	/* where the function sits on bus 0 */
	uint32_t gsi;		/* the IOAPIC input its INTx reaches */
};

struct dp_mem_region {
	struct dp_hdr hdr;
	uint64_t gpa;
	uint64_t size;
	uint64_t fd_offset;	/* of gpa in the memfd; page-aligned */
};

struct dp_bar {
	struct dp_hdr hdr;
	uint32_t index;		/* 0-5 */
	uint32_t enabled;	/* 1 if the BAR decodes at addr now */
	uint64_t addr;
};

struct dp_ready {
	struct dp_hdr hdr;
};

struct dp_error {
	struct dp_hdr hdr;
	int32_t code;		/* a positive errno value */
	uint16_t refused_type;	/* type of the refused message, 0 if unknown */
	uint16_t reserved;
	char text[DP_ERROR_TEXT_LEN];	/* NUL-terminated; may be cut short */
};

/* ------------------------------------------------------------ I/O region */
/*
 * Laid out by the core, mapped shared by both:
 *
 *   0                    struct dp_io_header
 *   slot_offset          nr_vcpus x struct dp_slot (one cache line each)
 *   posted_offset        nr_vcpus x (struct spsc_ring + posted_entries x
 *                        struct dp_posted), each posted_stride bytes
 *   shadow_offset        struct dp_shadow (used with DP_F_SHADOW_READS)
 *
 * Everything in it is written by one side and only read by the other,
 * except the need-wake flags, and each reader checks what it reads.
 */
#define DP_IO_MAGIC		0x4f495053u	/* "SPIO" */
#define DP_POSTED_ENTRIES	256u		/* per vCPU; a power of two */

struct dp_io_header {
	uint32_t magic;		/* DP_IO_MAGIC */
	uint32_t version;	/* DP_VERSION */
	uint32_t nr_vcpus;
	uint32_t posted_entries;
	uint32_t slot_offset;
	uint32_t posted_offset;
	uint32_t posted_stride;
	/*
	 * Set by the device before it sleeps on the kick eventfd, cleared
	 * when it wakes: the core signals the eventfd only while it is set.
	 */
	uint32_t device_need_kick;
	uint32_t shadow_offset;
	uint8_t reserved[28];
};

enum dp_slot_state {
	DP_SLOT_IDLE = 0,	/* the core may fill it */
	DP_SLOT_REQUEST = 1,	/* filled; the device's to serve */
	DP_SLOT_RESPONSE = 2,	/* served; data holds a read's value */
};

enum dp_dir {
	DP_DIR_READ = 0,
	DP_DIR_WRITE = 1,
};

/* One per vCPU: a synchronous access, as Xen's ioreq. */
struct dp_slot {
	uint32_t state;		/* enum dp_slot_state, release/acquire */
	uint32_t core_need_wake;/* the vCPU sleeps on its completion eventfd */
	uint32_t seq;		/* the core's request counter, echoed nowhere */
	uint8_t dir;		/* enum dp_dir */
	uint8_t size;		/* 1, 2 or 4 (8 for memory BARs) */
	uint8_t bar;		/* 0-5 */
	uint8_t reserved0;
	uint64_t offset;	/* within the BAR */
	uint64_t data;		/* write value, or the read's answer */
	uint8_t reserved[32];
};

/*
 * One posted write; or, with bar == DP_POSTED_EOI (size, offset and data
 * 0), the guest's EOI of the device's interrupt, which the core's pump
 * posts in order after the writes queued before it (DP_BAR_F_COALESCED_ACK):
 * the device answers it as a resample, so it sees the line as it stood at
 * the EOI, not as writes still queued would leave it.  Or, with bar ==
 * DP_POSTED_SHADOW_READ, a read the core answered from a shadow entry
 * flagged DP_SHADOW_F_NOTE: the read was of BAR note_bar at offset, size
 * bytes, its answer is data's low half and the entry's token the high.
 */
#define DP_POSTED_EOI		0xffu
#define DP_POSTED_SHADOW_READ	0xfeu
struct dp_posted {
	uint8_t bar;
	uint8_t size;
	uint8_t note_bar;	/* DP_POSTED_SHADOW_READ only; else 0 */
	uint8_t reserved;
	uint32_t offset;
	uint64_t data;
};

/*
 * The shadow (DP_F_SHADOW_READS): what reads of the device's side-effect
 * free registers would answer now, published by the device under a
 * sequence lock, so that the core answers them without a round trip.
 * Each register is one struct dp_shadow_reg.  The entry a read matches
 * (a BAR in bars, offset and size equal, and for DP_SHADOW_F_INDEXED the
 * index register holding index) gives the answer, value.
 *
 * The index register (PCnet's RAP) selects what others read: a write to
 * it changes nothing but it, keeping the bits in index.value (the mask);
 * index.index holds its value now.  So the core may answer a read while
 * writes to it alone are still queued, tracking its value itself.
 *
 * The device publishes before it frees the posted entries it executed and
 * before it asserts an interrupt, so an empty ring means an up-to-date
 * shadow.
 */
#define DP_SHADOW_REGS		16u
#define DP_SHADOW_F_VALID	(1u << 0)	/* the entry is in use */
#define DP_SHADOW_F_INDEXED	(1u << 1)	/* holds for one index value */
#define DP_SHADOW_F_NOTE	(1u << 2)	/* reads from it are told */
#define DP_SHADOW_F_QUIET	(1u << 3)	/* some writes to it change no read */

struct dp_shadow_reg {
	uint8_t bars;		/* bit n set: BAR n decodes it at offset */
	uint8_t size;		/* of the access: 1, 2 or 4 */
	uint8_t flags;		/* DP_SHADOW_F_* */
	uint8_t reserved;
	uint32_t offset;
	uint32_t index;		/* INDEXED: for this index; index reg: its value */
	uint32_t value;		/* the answer; index reg: the mask a write keeps */
	uint32_t token;		/* NOTE: echoed to the device in the note */
	/* QUIET: a write of a value v with (v & ~quiet_mask) == quiet_value
	 * changes no value in the shadow (but through what it makes the
	 * device do later, as any of the device's own events): the core may
	 * answer reads across it while it is queued. */
	uint16_t quiet_mask;
	uint16_t quiet_value;
};

struct dp_shadow {
	uint32_t seq;		/* even: stable; odd: being written */
	uint32_t nr;		/* entries of reg[] in use, <= DP_SHADOW_REGS */
	uint8_t reserved[8];
	struct dp_shadow_reg index;	/* flags VALID if the device has one */
	struct dp_shadow_reg reg[DP_SHADOW_REGS];
};

static inline uint32_t dp_posted_stride(uint32_t entries)
{
	return (uint32_t)(sizeof(struct spsc_ring) +
			  entries * sizeof(struct dp_posted));
}

static_assert(sizeof(struct dp_hdr) == 16, "dp_hdr");
static_assert(sizeof(struct dp_bar_desc) == 16, "dp_bar_desc");
static_assert(sizeof(struct dp_hello) == 80 + 6 * 16, "dp_hello");
static_assert(offsetof(struct dp_hello, bar) == 80, "dp_hello.bar");
static_assert(sizeof(struct dp_welcome) == 56, "dp_welcome");
static_assert(sizeof(struct dp_mem_region) == 40, "dp_mem_region");
static_assert(sizeof(struct dp_bar) == 32, "dp_bar");
static_assert(sizeof(struct dp_ready) == 16, "dp_ready");
static_assert(sizeof(struct dp_error) == 144, "dp_error");
static_assert(sizeof(struct dp_io_header) == 64, "dp_io_header");
static_assert(sizeof(struct dp_slot) == 64, "dp_slot: one cache line");
static_assert(offsetof(struct dp_slot, data) == 24, "dp_slot.data");
static_assert(sizeof(struct dp_posted) == 16, "dp_posted");
static_assert(offsetof(struct dp_io_header, shadow_offset) == 32,
	      "dp_io_header.shadow_offset");
static_assert(sizeof(struct dp_shadow_reg) == 24, "dp_shadow_reg");
static_assert(sizeof(struct dp_shadow) == 40 + DP_SHADOW_REGS * 24, "dp_shadow");
static_assert(DP_MAX_MSG >= sizeof(struct dp_hello), "DP_MAX_MSG");

#endif
