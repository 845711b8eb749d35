// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the PCnet model: the input is a program of register
 * accesses, guest-memory writes, descriptors, received frames, timer ticks
 * and link changes run against a fresh device with 256 KiB of guest RAM
 * at 0 and 4 KiB just below 4 GiB (so DMA can run off either end).
 *
 * The first byte picks a starting point (reset chip, or one initialized
 * and started in SWSTYLE 0/2/3, WIO or DWIO, loopback or not) so that
 * mutations reach the data paths quickly.  The port reads every byte it
 * is handed, so ASan checks each host pointer, and may try to re-enter.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "pcnet.h"

#define LOW_SIZE	0x40000u
#define TOP_GPA		0xfffff000u
#define TOP_SIZE	0x1000u
#define IB		0x100u
#define RDRA		0x200u
#define TDRA		0x400u
#define RXBUF		0x1000u
#define TXBUF		0x8000u

struct fuzz {
	const uint8_t *p;
	size_t n;
	uint8_t *low, *top;
	struct guest_mem mem;
	struct pcnet_state st;
	struct pcnet *dev;
	uint64_t now;
	int level;
	bool dwio;
	unsigned int style;
	bool reenter;
	unsigned int sink;
};

static uint8_t take8(struct fuzz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static uint16_t take16(struct fuzz *f)
{
	return (uint16_t)(take8(f) | take8(f) << 8);
}

static uint32_t take32(struct fuzz *f)
{
	return take16(f) | (uint32_t)take16(f) << 16;
}

static void fz_irq(void *opaque, int level)
{
	struct fuzz *f = opaque;

	if (level != 0 && level != 1)
		abort();
	f->level = level;
	if (f->reenter)
		(void)pcnet_io_read(f->dev, 0x10, 2);
}

static enum pcnet_tx_result fz_tx(void *opaque, const struct pcnet_seg *seg,
				  unsigned int nseg, uint32_t len,
				  unsigned int flags)
{
	struct fuzz *f = opaque;
	uint32_t total = 0;

	(void)flags;
	for (unsigned int i = 0; i < nseg; i++) {
		const uint8_t *h = seg[i].host;

		for (uint32_t k = 0; k < seg[i].len; k++)
			f->sink += h[k];
		total += seg[i].len;
	}
	if (total != len || len > PCNET_MAX_FRAME)
		abort();
	if (f->reenter && nseg) {
		struct iovec iov = { (void *)seg[0].host, seg[0].len };

		(void)pcnet_receive(f->dev, &iov, 1);
		pcnet_io_write(f->dev, 0x10, 2, 0x0004);
	}
	return f->sink & 1 ? PCNET_TX_DROPPED : PCNET_TX_ACCEPTED;
}

static uint64_t fz_now(void *opaque)
{
	return ((struct fuzz *)opaque)->now;
}

static const struct pcnet_ops fz_ops = {
	.set_irq = fz_irq,
	.tx = fz_tx,
	.now_ns = fz_now,
};

static void reg_w(struct fuzz *f, uint32_t port, unsigned int n, uint16_t v)
{
	if (f->dwio) {
		pcnet_io_write(f->dev, 0x14, 4, n);
		pcnet_io_write(f->dev, port == 0x10 ? 0x10 : 0x1c, 4, v);
	} else {
		pcnet_io_write(f->dev, 0x12, 2, n);
		pcnet_io_write(f->dev, port, 2, v);
	}
}

static void put16(uint8_t *m, uint32_t off, uint16_t v)
{
	m[off] = (uint8_t)v;
	m[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *m, uint32_t off, uint32_t v)
{
	put16(m, off, (uint16_t)v);
	put16(m, off + 2, (uint16_t)(v >> 16));
}

static uint32_t dsize(const struct fuzz *f)
{
	return f->style == 0 ? 8 : 16;
}

/* A descriptor in the current style, OWN last like a driver. */
static void desc_put(struct fuzz *f, uint32_t ring, uint32_t idx,
		     uint32_t addr, uint32_t len, uint16_t status)
{
	uint32_t a = ring + (idx % 16) * dsize(f);
	uint16_t bcnt = (uint16_t)(0xf000 | ((0u - len) & 0xfff));

	if (f->style == 0) {
		put16(f->low, a, (uint16_t)addr);
		put16(f->low, a + 4, bcnt);
		put16(f->low, a + 6, 0);
		put16(f->low, a + 2,
		      (uint16_t)(((addr >> 16) & 0xff) | status));
		return;
	}
	put32(f->low, f->style == 3 ? a + 8 : a, addr);
	put32(f->low, f->style == 3 ? a : a + 8, 0);
	put32(f->low, a + 4, (uint32_t)status << 16 | bcnt);
}

static void preset(struct fuzz *f, uint8_t how)
{
	static const unsigned int styles[4] = { 0, 2, 3, 2 };
	uint16_t mode = 0;

	if (how & 0x80)
		return;		/* leave the chip as reset */
	f->style = styles[how & 3];
	if (how & 4) {
		pcnet_io_write(f->dev, 0x10, 4, 0);
		f->dwio = true;
	}
	if (how & 8)
		mode |= 0x0044;		/* LOOP | INTL */
	if (how & 16)
		mode |= 0x8000;		/* PROM */
	reg_w(f, 0x16, 20, (uint16_t)f->style);
	put16(f->low, IB, mode);
	if (f->style == 0) {
		put32(f->low, IB + 16, RDRA | 4u << 29);
		put32(f->low, IB + 20, TDRA | 4u << 29);
	} else {
		f->low[IB + 2] = 4 << 4;
		f->low[IB + 3] = 4 << 4;
		put32(f->low, IB + 20, RDRA);
		put32(f->low, IB + 24, TDRA);
	}
	for (uint32_t i = 0; i < 16; i++)
		desc_put(f, RDRA, i, RXBUF + i * 0x600, 0x600, 0x8000);
	reg_w(f, 0x10, 1, IB);
	reg_w(f, 0x10, 2, 0);
	reg_w(f, 0x10, 4, (how & 32) ? 0x0915 : 0x0115);
	reg_w(f, 0x10, 0, 0x0043);	/* INIT | STRT | IENA */
}

static void receive(struct fuzz *f)
{
	static uint8_t frame[2 * PCNET_MAX_FRAME];
	uint16_t len = take16(f) % sizeof(frame);
	uint8_t how = take8(f);
	struct iovec iov[3];
	size_t have = len < f->n ? len : f->n;

	memset(frame, 0, len);
	memcpy(frame, f->p, have);
	f->p += have;
	f->n -= have;
	if ((how & 3) == 1 && len >= 6)
		memset(frame, 0xff, 6);
	else if ((how & 3) == 2 && len >= 6)
		memcpy(frame, f->st.aprom, 6);
	iov[0] = (struct iovec){ frame, len / 3 };
	iov[1] = (struct iovec){ frame + len / 3, 0 };
	iov[2] = (struct iovec){ frame + len / 3, len - len / 3 };
	(void)pcnet_receive(f->dev, iov, 3);
}

static void mem_write(struct fuzz *f)
{
	uint32_t off = take32(f);
	uint8_t len = take8(f);
	uint8_t *m = f->low;
	uint32_t size = LOW_SIZE;

	if (off & 0x80000000u) {
		m = f->top;
		size = TOP_SIZE;
	}
	off %= size;
	for (uint8_t i = 0; i < len && off + i < size; i++)
		m[off + i] = take8(f);
}

static void step(struct fuzz *f)
{
	uint8_t op = take8(f);

	switch (op % 16) {
	case 0: {
		uint8_t off = take8(f) & 0x3f, size = 1u << (take8(f) % 3);

		pcnet_io_write(f->dev, off, size, take32(f));
		break;
	}
	case 1: {
		uint8_t off = take8(f) & 0x3f, size = 1u << (take8(f) % 3);

		(void)pcnet_io_read(f->dev, off, size);
		break;
	}
	case 2: {
		uint8_t n = take8(f);

		reg_w(f, 0x10, n, take16(f));
		break;
	}
	case 3: {
		uint8_t n = take8(f);

		reg_w(f, 0x16, n, take16(f));
		break;
	}
	case 4:
		mem_write(f);
		break;
	case 5: {
		uint8_t idx = take8(f);
		uint32_t addr = take32(f);
		uint16_t len = take16(f);

		desc_put(f, TDRA, idx, addr, len, take16(f) | 0x8000);
		break;
	}
	case 6: {
		uint8_t idx = take8(f);
		uint32_t addr = take32(f);
		uint16_t len = take16(f);

		desc_put(f, RDRA, idx, addr, len, 0x8000);
		break;
	}
	case 7: {
		/* A well-formed frame: STP|ENP in TX buffer space. */
		uint8_t idx = take8(f);
		uint16_t len = take16(f) % 1600;

		desc_put(f, TDRA, idx, TXBUF + (idx % 16) * 0x800, len,
			 0x8000 | 0x0300);
		reg_w(f, 0x10, 0, 0x0048);
		break;
	}
	case 8:
		receive(f);
		break;
	case 9:
		f->now += take32(f);
		pcnet_timer(f->dev, f->now);
		break;
	case 10:
		pcnet_set_link(f->dev, take8(f) & 1);
		break;
	case 11:
		if (!(take8(f) & 15)) {
			pcnet_hard_reset(f->dev);
			f->dwio = false;
		}
		break;
	case 12: {
		uint8_t off = take8(f);

		if (off & 1)
			pcnet_mmio_write(f->dev, off >> 1, 2, take16(f));
		else
			(void)pcnet_mmio_read(f->dev, off >> 1, 4);
		break;
	}
	case 13:
		f->reenter = take8(f) & 1;
		break;
	case 14: {
		/* The shadow answers as a read does, whatever state this is. */
		struct pcnet_shadow sh;

		pcnet_shadow(f->dev, &sh);
		if (sh.n > PCNET_SHADOW_MAX || sh.rap.value > PCNET_RAP_MASK)
			abort();
		for (unsigned int i = 0; i < sh.n; i++)
			if (sh.reg[i].rap == sh.rap.value && !sh.reg[i].note &&
			    pcnet_io_read(f->dev, sh.reg[i].offset,
					  sh.reg[i].size) != sh.reg[i].value)
				abort();
		if (pcnet_io_read(f->dev, sh.rap.offset, sh.rap.size) !=
		    sh.rap.value)
			abort();
		break;
	}
	case 15:
		pcnet_shadow_note(f->dev, take16(f), take32(f));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz *f = calloc(1, sizeof(*f));
	struct pcnet_config cfg = {
		.mac = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc },
	};
	unsigned int steps = 0;

	if (!f)
		return 0;
	f->p = data;
	f->n = size;
	f->low = calloc(1, LOW_SIZE);
	f->top = calloc(1, TOP_SIZE);
	if (!f->low || !f->top)
		goto out;
	guest_mem_init(&f->mem);
	if (guest_mem_add(&f->mem, 0, LOW_SIZE, f->low, -1, 0) ||
	    guest_mem_add(&f->mem, TOP_GPA, TOP_SIZE, f->top, -1, 0))
		goto out;
	cfg.mem = &f->mem;
	f->now = 1;
	if (pcnet_create(&f->dev, &f->st, &cfg, &fz_ops, f, 0) != 0)
		goto out;
	preset(f, take8(f));
	while (f->n && steps++ < 4096)
		step(f);
	/* Invariants a resumed process relies on. */
	if ((f->st.rx_len && f->st.rx_idx >= f->st.rx_len) ||
	    (f->st.tx_len && f->st.tx_idx >= f->st.tx_len) ||
	    f->st.tx_inflight_count || f->st.rx_inflight_count ||
	    pcnet_irq_level(f->dev) != f->level)
		abort();
	pcnet_destroy(f->dev);
out:
	free(f->low);
	free(f->top);
	free(f);
	return 0;
}
