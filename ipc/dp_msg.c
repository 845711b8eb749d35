// SPDX-License-Identifier: MIT
/*
 * The device-protocol parser.  Checks run in a fixed order, so a message
 * with several faults is always refused for the same one:
 *
 *   length >= header, magic, flags, hdr.size == length, length <=
 *   DP_MAX_MSG, type known, type allowed in this direction, length exact
 *   for the type, version, then the fields, then the fd count.
 *
 * Reserved fields must be zero, like hdr.flags: that keeps them usable by
 * a later version that negotiates them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "dp_msg.h"

#define PAGE_SIZE_4K	4096ull
#define IO_ALIGN	64u
#define MAX_MEM_BAR	(1ull << 40)
#define MAX_MEM32_BAR	(1ull << 31)
#define MAX_GSI		255u
#define MAX_ERRNO	4095

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return 0;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return 0;
}

#define FAIL(code, ...) \
	do { fail(err, errlen, __VA_ARGS__); return (code); } while (0)

static const char *type_name(uint16_t type)
{
	switch (type) {
	case DP_MSG_HELLO:	return "HELLO";
	case DP_MSG_WELCOME:	return "WELCOME";
	case DP_MSG_MEM_REGION:	return "MEM_REGION";
	case DP_MSG_BAR:	return "BAR";
	case DP_MSG_READY:	return "READY";
	case DP_MSG_ERROR:	return "ERROR";
	}
	return NULL;
}

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

static bool receives(enum dp_side side, uint16_t type)
{
	switch (type) {
	case DP_MSG_READY:
	case DP_MSG_ERROR:
		return true;
	case DP_MSG_HELLO:
		return side == DP_SIDE_CORE;
	case DP_MSG_WELCOME:
	case DP_MSG_MEM_REGION:
	case DP_MSG_BAR:
		return side == DP_SIDE_DEVICE;
	}
	return false;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int check_fds(const char *what, unsigned nfds, unsigned want,
		     char *err, size_t errlen)
{
	if (nfds != want)
		FAIL(-EPROTO, "%s: came with %u fds, carries %u", what, nfds,
		     want);
	return 0;
}

static int check_bars(const struct dp_hello *m, char *err, size_t errlen)
{
	for (unsigned i = 0; i < 6; i++) {
		const struct dp_bar_desc *b = &m->bar[i];
		bool mem = b->type == DP_BAR_MEM32 || b->type == DP_BAR_MEM64;

		if (!all_zero(b->reserved, sizeof(b->reserved)))
			FAIL(-EBADMSG, "HELLO: BAR %u reserved bytes are not zero",
			     i);
		if (i > 0 && m->bar[i - 1].type == DP_BAR_MEM64) {
			if (b->type != DP_BAR_UNUSED || b->size || b->flags ||
			    b->coalesce_off || b->coalesce_len)
				FAIL(-EBADMSG, "HELLO: BAR %u is the upper half of "
				     "64-bit BAR %u and must be unused", i, i - 1);
			continue;
		}
		if (b->type > DP_BAR_MEM64)
			FAIL(-EBADMSG, "HELLO: BAR %u type %u is unknown", i,
			     b->type);
		if (b->type == DP_BAR_UNUSED) {
			if (b->size || b->flags || b->coalesce_off ||
			    b->coalesce_len)
				FAIL(-EBADMSG, "HELLO: BAR %u is unused but has "
				     "size 0x%llx flags 0x%x", i,
				     (unsigned long long)b->size, b->flags);
			continue;
		}
		if (!b->size)
			FAIL(-EBADMSG, "HELLO: BAR %u has size 0 but type %u", i,
			     b->type);
		if (!pow2(b->size))
			FAIL(-EBADMSG, "HELLO: BAR %u size 0x%llx is not a power "
			     "of two", i, (unsigned long long)b->size);
		if (b->type == DP_BAR_IO && (b->size < 4 || b->size > 256))
			FAIL(-EBADMSG, "HELLO: BAR %u I/O size 0x%llx is outside "
			     "4..256", i, (unsigned long long)b->size);
		if (mem && b->size < 16)
			FAIL(-EBADMSG, "HELLO: BAR %u memory size 0x%llx is below "
			     "16", i, (unsigned long long)b->size);
		if (mem && b->size > MAX_MEM_BAR)
			FAIL(-EBADMSG, "HELLO: BAR %u memory size 0x%llx is above "
			     "1 TiB", i, (unsigned long long)b->size);
		if (b->type == DP_BAR_MEM32 && b->size > MAX_MEM32_BAR)
			FAIL(-EBADMSG, "HELLO: BAR %u 32-bit memory size 0x%llx "
			     "is above 2 GiB", i, (unsigned long long)b->size);
		if (b->type == DP_BAR_MEM64 && i == 5)
			FAIL(-EBADMSG, "HELLO: BAR 5 cannot be 64-bit (no slot "
			     "after it)");
		if (b->flags & ~DP_BAR_F_KNOWN)
			FAIL(-EBADMSG, "HELLO: BAR %u flags 0x%x has unknown bits",
			     i, b->flags);
		if (!mem && (b->flags & DP_BAR_F_PREFETCH))
			FAIL(-EBADMSG, "HELLO: BAR %u is I/O and cannot be "
			     "prefetchable", i);
		if (b->coalesce_len && (mem || (uint64_t)b->coalesce_off +
					b->coalesce_len > b->size))
			FAIL(-EBADMSG, "HELLO: BAR %u coalesced range 0x%x+0x%x "
			     "is not inside an I/O BAR", i, b->coalesce_off,
			     b->coalesce_len);
		if ((b->flags & DP_BAR_F_COALESCED_ACK) && !b->coalesce_len)
			FAIL(-EBADMSG, "HELLO: BAR %u has COALESCED_ACK but no "
			     "coalesced range", i);
		if (!b->coalesce_len && b->coalesce_off)
			FAIL(-EBADMSG, "HELLO: BAR %u coalesced range has an "
			     "offset but no length", i);
	}
	return 0;
}

static int check_hello(const struct dp_hello *m, unsigned nfds, char *err,
		       size_t errlen)
{
	const char *nul = memchr(m->name, 0, sizeof(m->name));
	int rc;

	if (m->version != DP_VERSION)
		FAIL(-EPROTONOSUPPORT, "HELLO: version %u, this side speaks %u",
		     m->version, DP_VERSION);
	if (m->features & ~DP_F_KNOWN)
		FAIL(-EBADMSG, "HELLO: features 0x%llx has unknown bits",
		     (unsigned long long)m->features);
	if (m->state_size > DP_MAX_STATE_SIZE)
		FAIL(-EBADMSG, "HELLO: state_size %u is above %u", m->state_size,
		     DP_MAX_STATE_SIZE);
	if (m->vendor_id == 0xffff)
		FAIL(-EBADMSG, "HELLO: vendor_id 0xffff means no device");
	if (m->class_code > 0xffffff)
		FAIL(-EBADMSG, "HELLO: class_code 0x%x is wider than 24 bits",
		     m->class_code);
	if (m->int_pin > 4)
		FAIL(-EBADMSG, "HELLO: int_pin %u is outside 0..4", m->int_pin);
	if (!all_zero(m->reserved, sizeof(m->reserved)))
		FAIL(-EBADMSG, "HELLO: reserved bytes are not zero");
	if (!nul)
		FAIL(-EBADMSG, "HELLO: name is not NUL-terminated within %u "
		     "bytes", DP_NAME_LEN);
	if (nul == m->name)
		FAIL(-EBADMSG, "HELLO: name is empty");
	for (const char *c = m->name; c < nul; c++)
		if (*c < 0x20 || *c > 0x7e)
			FAIL(-EBADMSG, "HELLO: name byte %d is not printable "
			     "ASCII", (int)(c - m->name));
	rc = check_bars(m, err, errlen);
	if (rc)
		return rc;
	return check_fds("HELLO", nfds, 0, err, errlen);
}

static int check_welcome(const struct dp_welcome *m, unsigned nfds,
			 char *err, size_t errlen)
{
	uint32_t io_size;

	if (m->version != DP_VERSION)
		FAIL(-EPROTONOSUPPORT, "WELCOME: version %u, this side speaks %u",
		     m->version, DP_VERSION);
	if (m->nr_vcpus < 1 || m->nr_vcpus > DP_MAX_VCPUS)
		FAIL(-EBADMSG, "WELCOME: nr_vcpus %u is outside 1..%u",
		     m->nr_vcpus, DP_MAX_VCPUS);
	if (m->features & ~DP_F_KNOWN)
		FAIL(-EBADMSG, "WELCOME: features 0x%llx has unknown bits",
		     (unsigned long long)m->features);
	dp_io_layout(m->nr_vcpus, NULL, NULL, NULL, &io_size);
	if (m->io_size != io_size)
		FAIL(-EBADMSG, "WELCOME: io_size %u, %u vCPUs need %u",
		     m->io_size, m->nr_vcpus, io_size);
	if (m->state_size > DP_MAX_STATE_SIZE)
		FAIL(-EBADMSG, "WELCOME: state_size %u is above %u",
		     m->state_size, DP_MAX_STATE_SIZE);
	if (m->generation == 0)
		FAIL(-EBADMSG, "WELCOME: generation 0 (it starts at 1)");
	if (m->nr_mem_regions > DP_MAX_MEM_REGIONS)
		FAIL(-EBADMSG, "WELCOME: nr_mem_regions %u is above %u",
		     m->nr_mem_regions, DP_MAX_MEM_REGIONS);
	if (m->pci_devfn > 0xff)
		FAIL(-EBADMSG, "WELCOME: pci_devfn 0x%x is wider than 8 bits",
		     m->pci_devfn);
	if (m->gsi > MAX_GSI)
		FAIL(-EBADMSG, "WELCOME: gsi %u is above %u", m->gsi, MAX_GSI);
	return check_fds("WELCOME", nfds, dp_welcome_nfds(m->nr_vcpus), err,
			 errlen);
}

static int check_mem_region(const struct dp_mem_region *m, unsigned nfds,
			    char *err, size_t errlen)
{
	if (!m->size)
		FAIL(-EBADMSG, "MEM_REGION: size is 0");
	if (m->gpa % PAGE_SIZE_4K || m->size % PAGE_SIZE_4K)
		FAIL(-EBADMSG, "MEM_REGION: gpa 0x%llx size 0x%llx are not "
		     "page-aligned", (unsigned long long)m->gpa,
		     (unsigned long long)m->size);
	if (m->gpa + m->size < m->gpa)
		FAIL(-EBADMSG, "MEM_REGION: gpa 0x%llx + size 0x%llx wraps",
		     (unsigned long long)m->gpa, (unsigned long long)m->size);
	if (m->fd_offset % PAGE_SIZE_4K)
		FAIL(-EBADMSG, "MEM_REGION: fd_offset 0x%llx is not "
		     "page-aligned", (unsigned long long)m->fd_offset);
	/* mmap() takes a signed off_t. */
	if (m->fd_offset > (uint64_t)INT64_MAX ||
	    m->size > (uint64_t)INT64_MAX - m->fd_offset)
		FAIL(-EBADMSG, "MEM_REGION: fd_offset 0x%llx + size 0x%llx is "
		     "beyond any file", (unsigned long long)m->fd_offset,
		     (unsigned long long)m->size);
	return check_fds("MEM_REGION", nfds, 1, err, errlen);
}

static int check_bar(const struct dp_bar *m, unsigned nfds, char *err,
		     size_t errlen)
{
	if (m->index >= 6)
		FAIL(-EBADMSG, "BAR: index %u is outside 0..5", m->index);
	if (m->enabled > 1)
		FAIL(-EBADMSG, "BAR: enabled %u is neither 0 nor 1", m->enabled);
	return check_fds("BAR", nfds, 0, err, errlen);
}

static int check_error(const struct dp_error *m, unsigned nfds, char *err,
		       size_t errlen)
{
	if (m->code <= 0 || m->code > MAX_ERRNO)
		FAIL(-EBADMSG, "ERROR: code %d is not a positive errno value",
		     (int)m->code);
	if (m->reserved)
		FAIL(-EBADMSG, "ERROR: reserved field is not zero");
	if (!memchr(m->text, 0, sizeof(m->text)))
		FAIL(-EBADMSG, "ERROR: text is not NUL-terminated within %u "
		     "bytes", DP_ERROR_TEXT_LEN);
	return check_fds("ERROR", nfds, 0, err, errlen);
}

int dp_msg_check(enum dp_side side, const void *buf, size_t len,
		 unsigned nfds, char *err, size_t errlen)
{
	/* Copied out: a peer never gets to change it between two reads. */
	union {
		struct dp_hdr hdr;
		struct dp_hello hello;
		struct dp_welcome welcome;
		struct dp_mem_region mem_region;
		struct dp_bar bar;
		struct dp_ready ready;
		struct dp_error error;
	} m;
	const char *name;

	if (err && errlen)
		err[0] = 0;
	if (!buf || len < sizeof(struct dp_hdr))
		FAIL(-EPROTO, "short message: %zu bytes, a header is %zu", len,
		     sizeof(struct dp_hdr));
	memcpy(&m.hdr, buf, sizeof(m.hdr));
	if (m.hdr.magic != DP_MAGIC)
		FAIL(-EPROTO, "bad magic 0x%08x (want 0x%08x)", m.hdr.magic,
		     DP_MAGIC);
	if (m.hdr.flags)
		FAIL(-EPROTO, "header flags 0x%x are not zero", m.hdr.flags);
	if (m.hdr.size != len)
		FAIL(-EPROTO, "header size %u but the message is %zu bytes",
		     m.hdr.size, len);
	if (len > DP_MAX_MSG)
		FAIL(-EPROTO, "message of %zu bytes is above the %u limit", len,
		     DP_MAX_MSG);
	name = type_name(m.hdr.type);
	if (!name)
		FAIL(-EOPNOTSUPP, "unknown message type %u", m.hdr.type);
	if (!receives(side, m.hdr.type))
		FAIL(-EOPNOTSUPP, "%s is not sent to the %s", name,
		     side == DP_SIDE_CORE ? "core" : "device");
	if (len != type_size(m.hdr.type))
		FAIL(-EPROTO, "%s: %zu bytes, it is %zu", name, len,
		     type_size(m.hdr.type));
	memcpy(&m, buf, len);

	switch (m.hdr.type) {
	case DP_MSG_HELLO:
		return check_hello(&m.hello, nfds, err, errlen);
	case DP_MSG_WELCOME:
		return check_welcome(&m.welcome, nfds, err, errlen);
	case DP_MSG_MEM_REGION:
		return check_mem_region(&m.mem_region, nfds, err, errlen);
	case DP_MSG_BAR:
		return check_bar(&m.bar, nfds, err, errlen);
	case DP_MSG_READY:
		return check_fds("READY", nfds, 0, err, errlen);
	case DP_MSG_ERROR:
		return check_error(&m.error, nfds, err, errlen);
	}
	FAIL(-EOPNOTSUPP, "unknown message type %u", m.hdr.type);
}

void dp_hdr_init(struct dp_hdr *h, enum dp_msg_type type, uint32_t size,
		 uint32_t seq)
{
	h->magic = DP_MAGIC;
	h->type = (uint16_t)type;
	h->flags = 0;
	h->size = size;
	h->seq = seq;
}

void dp_error_init(struct dp_error *e, uint32_t seq, uint16_t refused_type,
		   int code, const char *text)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	dp_hdr_init(&e->hdr, DP_MSG_ERROR, sizeof(*e), seq);
	e->code = code > 0 && code <= MAX_ERRNO ? code : EPROTO;
	e->refused_type = refused_type;
	if (!text)
		text = "";
	/* Cut to fit, and kept on one line. */
	for (i = 0; i < sizeof(e->text) - 1 && text[i]; i++)
		e->text[i] = (text[i] == '\n' || text[i] == '\r') ? ' ' : text[i];
	e->text[i] = 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

void dp_io_layout(uint32_t nr_vcpus, uint32_t *slot_offset,
		  uint32_t *posted_offset, uint32_t *posted_stride,
		  uint32_t *io_size)
{
	uint64_t slot = sizeof(struct dp_io_header);
	uint64_t posted = align_up(slot + (uint64_t)nr_vcpus *
				   sizeof(struct dp_slot), IO_ALIGN);
	uint64_t stride = align_up(dp_posted_stride(DP_POSTED_ENTRIES),
				   IO_ALIGN);
	uint64_t shadow = align_up(posted + (uint64_t)nr_vcpus * stride,
				   IO_ALIGN);
	uint64_t size = align_up(shadow + sizeof(struct dp_shadow),
				 PAGE_SIZE_4K);

	/* Only 1..DP_MAX_VCPUS has a layout; anything else is all zero. */
	if (nr_vcpus < 1 || nr_vcpus > DP_MAX_VCPUS)
		slot = posted = stride = size = 0;
	if (slot_offset)
		*slot_offset = (uint32_t)slot;
	if (posted_offset)
		*posted_offset = (uint32_t)posted;
	if (posted_stride)
		*posted_stride = (uint32_t)stride;
	if (io_size)
		*io_size = (uint32_t)size;
}

uint32_t dp_io_shadow_offset(uint32_t nr_vcpus)
{
	uint32_t posted, stride, size;

	dp_io_layout(nr_vcpus, NULL, &posted, &stride, &size);
	if (!size)
		return 0;
	return (uint32_t)align_up(posted + (uint64_t)nr_vcpus * stride,
				  IO_ALIGN);
}

void dp_shadow_store(struct dp_shadow *sh, struct dp_shadow *src)
{
	const uint32_t *from = (const uint32_t *)src;
	uint32_t *to = (uint32_t *)sh, seq = src->seq | 1;

	/* Word by word: the reader loads them while they change. */
	__atomic_store_n(&sh->seq, seq, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (size_t i = 1; i < sizeof(*sh) / 4; i++)
		__atomic_store_n(&to[i], from[i], __ATOMIC_RELAXED);
	src->seq = seq + 1;
	__atomic_store_n(&sh->seq, seq + 1, __ATOMIC_RELEASE);
}

/* Words [first, first + n) of @sh into @w, stable under the lock. */
static bool shadow_read(const struct dp_shadow *sh, size_t first, size_t n,
			uint32_t *w)
{
	const uint32_t *from = (const uint32_t *)sh;
	uint32_t seq = __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE);

	if (seq & 1)
		return false;
	for (size_t i = 0; i < n; i++)
		w[i] = __atomic_load_n(&from[first + i], __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&sh->seq, __ATOMIC_RELAXED) == seq;
}

bool dp_shadow_load(const struct dp_shadow *sh, struct dp_shadow *out)
{
	uint32_t w[sizeof(*out) / 4];

	if (!shadow_read(sh, 0, sizeof(w) / 4, w))
		return false;
	memcpy(out, w, sizeof(*out));
	if (out->nr > DP_SHADOW_REGS)
		out->nr = DP_SHADOW_REGS;
	return true;
}

bool dp_shadow_load_index(const struct dp_shadow *sh,
			  struct dp_shadow_reg *out)
{
	uint32_t w[sizeof(*out) / 4];

	if (!shadow_read(sh, offsetof(struct dp_shadow, index) / 4,
			 sizeof(w) / 4, w))
		return false;
	memcpy(out, w, sizeof(*out));
	return true;
}

bool dp_shadow_decodes(const struct dp_shadow_reg *r, unsigned bar,
		       uint64_t offset, unsigned size)
{
	return (r->flags & DP_SHADOW_F_VALID) && bar < 8 &&
	       (r->bars >> bar & 1) && r->offset == offset && r->size == size;
}

const struct dp_shadow_reg *dp_shadow_find(const struct dp_shadow *snap,
					   unsigned bar, uint64_t offset,
					   unsigned size, uint32_t index)
{
	for (uint32_t k = 0; k < snap->nr && k < DP_SHADOW_REGS; k++) {
		const struct dp_shadow_reg *r = &snap->reg[k];

		if (dp_shadow_decodes(r, bar, offset, size) &&
		    (!(r->flags & DP_SHADOW_F_INDEXED) || r->index == index))
			return r;
	}
	return NULL;
}

enum dp_pending dp_shadow_pending(const struct dp_shadow *snap,
				  const struct dp_posted *e, uint32_t *index)
{
	const struct dp_shadow_reg *r;

	/* Neither changes what a register reads. */
	if (e->bar == DP_POSTED_SHADOW_READ || e->bar == DP_POSTED_EOI)
		return DP_PENDING_NONE;
	if (dp_shadow_decodes(&snap->index, e->bar, e->offset, e->size)) {
		*index = (uint32_t)e->data & snap->index.value;
		return DP_PENDING_INDEX;
	}
	r = dp_shadow_find(snap, e->bar, e->offset, e->size, *index);
	if (r && (r->flags & DP_SHADOW_F_QUIET) &&
	    (e->data & ~(uint64_t)r->quiet_mask) == r->quiet_value)
		return DP_PENDING_QUIET;
	return DP_PENDING_BLOCKS;
}

int dp_io_header_check(const struct dp_io_header *h, uint32_t nr_vcpus,
		       uint32_t io_size, char *err, size_t errlen)
{
	uint32_t slot, posted, stride, size;
	struct dp_io_header c;

	if (err && errlen)
		err[0] = 0;
	/* One read of each field: the peer may be writing the region. */
	c.magic = __atomic_load_n(&h->magic, __ATOMIC_RELAXED);
	c.version = __atomic_load_n(&h->version, __ATOMIC_RELAXED);
	c.nr_vcpus = __atomic_load_n(&h->nr_vcpus, __ATOMIC_RELAXED);
	c.posted_entries = __atomic_load_n(&h->posted_entries, __ATOMIC_RELAXED);
	c.slot_offset = __atomic_load_n(&h->slot_offset, __ATOMIC_RELAXED);
	c.posted_offset = __atomic_load_n(&h->posted_offset, __ATOMIC_RELAXED);
	c.posted_stride = __atomic_load_n(&h->posted_stride, __ATOMIC_RELAXED);
	c.shadow_offset = __atomic_load_n(&h->shadow_offset, __ATOMIC_RELAXED);

	if (c.magic != DP_IO_MAGIC)
		FAIL(-EBADMSG, "I/O region: bad magic 0x%08x (want 0x%08x)",
		     c.magic, DP_IO_MAGIC);
	if (c.version != DP_VERSION)
		FAIL(-EBADMSG, "I/O region: version %u, this side speaks %u",
		     c.version, DP_VERSION);
	if (nr_vcpus < 1 || nr_vcpus > DP_MAX_VCPUS)
		FAIL(-EBADMSG, "I/O region: nr_vcpus %u is outside 1..%u",
		     nr_vcpus, DP_MAX_VCPUS);
	if (c.nr_vcpus != nr_vcpus)
		FAIL(-EBADMSG, "I/O region: nr_vcpus %u, WELCOME said %u",
		     c.nr_vcpus, nr_vcpus);
	if (c.posted_entries != DP_POSTED_ENTRIES)
		FAIL(-EBADMSG, "I/O region: posted_entries %u (want %u)",
		     c.posted_entries, DP_POSTED_ENTRIES);
	dp_io_layout(nr_vcpus, &slot, &posted, &stride, &size);
	if (c.slot_offset != slot)
		FAIL(-EBADMSG, "I/O region: slot_offset %u (want %u)",
		     c.slot_offset, slot);
	if (c.posted_offset != posted)
		FAIL(-EBADMSG, "I/O region: posted_offset %u (want %u)",
		     c.posted_offset, posted);
	if (c.posted_stride != stride)
		FAIL(-EBADMSG, "I/O region: posted_stride %u (want %u)",
		     c.posted_stride, stride);
	if (c.shadow_offset != dp_io_shadow_offset(nr_vcpus))
		FAIL(-EBADMSG, "I/O region: shadow_offset %u (want %u)",
		     c.shadow_offset, dp_io_shadow_offset(nr_vcpus));
	if (io_size < size)
		FAIL(-EBADMSG, "I/O region: %u bytes, the layout needs %u",
		     io_size, size);
	return 0;
}
