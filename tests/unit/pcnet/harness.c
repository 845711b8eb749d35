// SPDX-License-Identifier: MIT
#include <stdlib.h>

#include "harness.h"

const uint8_t bench_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void fake_irq(void *opaque, int level)
{
	struct bench *b = opaque;

	b->irq_calls++;
	if (level && !b->irq)
		b->irq_rises++;
	b->irq = level;
	if (b->nirq_trace < MAX_IRQ_TRACE)
		b->irq_trace[b->nirq_trace++] = (struct irq_edge){
			.at = b->now, .level = level,
		};
}

static void fake_deadline_changed(void *opaque)
{
	struct bench *b = opaque;

	b->deadline_calls++;
	b->deadline_seen = pcnet_next_deadline(b->dev);
}

static enum pcnet_tx_result fake_tx(void *opaque, const struct pcnet_seg *seg,
				    unsigned int nseg, uint32_t len,
				    unsigned int flags)
{
	struct bench *b = opaque;
	struct captured *c;
	uint32_t off = 0;

	if (b->tx_hook)
		b->tx_hook(b, seg, nseg, len);
	if (b->ntx == MAX_TX_CAPTURE)
		return b->tx_result;
	c = &b->tx[b->ntx++];
	c->len = len;
	c->flags = flags;
	c->nseg = nseg;
	for (unsigned int i = 0; i < nseg; i++) {
		assert_true(off + seg[i].len <= sizeof(c->data));
		memcpy(c->data + off, seg[i].host, seg[i].len);
		off += seg[i].len;
		if (i < 40) {
			c->gpa[i] = seg[i].gpa;
			c->seglen[i] = seg[i].len;
		}
	}
	assert_int_equal(off, len);
	return b->tx_result;
}

static uint64_t fake_now(void *opaque)
{
	return ((struct bench *)opaque)->now;
}

static const struct pcnet_ops bench_ops_table = {
	.set_irq = fake_irq,
	.tx = fake_tx,
	.now_ns = fake_now,
	.deadline_changed = fake_deadline_changed,
};

const struct pcnet_ops *bench_ops(void)
{
	return &bench_ops_table;
}

struct bench *bench_new(void)
{
	struct bench *b = calloc(1, sizeof(*b));
	struct pcnet_config cfg;

	assert_non_null(b);
	b->ram = calloc(1, RAM_SIZE);
	assert_non_null(b->ram);
	guest_mem_init(&b->mem);
	assert_int_equal(guest_mem_add(&b->mem, 0, RAM_SIZE, b->ram, -1, 0),
			 0);
	memcpy(b->mac, bench_mac, 6);
	cfg.mem = &b->mem;
	memcpy(cfg.mac, b->mac, 6);
	b->now = 1000;
	assert_int_equal(pcnet_create(&b->dev, &b->st, &cfg, &bench_ops_table,
				      b, 0), 0);
	return b;
}

void bench_free(struct bench *b)
{
	pcnet_destroy(b->dev);
	free(b->ram);
	free(b);
}

int bench_setup(void **state)
{
	*state = bench_new();
	return 0;
}

int bench_teardown(void **state)
{
	bench_free(*state);
	return 0;
}

void wio_w(struct bench *b, uint32_t off, uint16_t v)
{
	pcnet_io_write(b->dev, off, 2, v);
}

uint16_t wio_r(struct bench *b, uint32_t off)
{
	return (uint16_t)pcnet_io_read(b->dev, off, 2);
}

void csr_w(struct bench *b, unsigned int n, uint16_t v)
{
	if (b->dwio) {
		pcnet_io_write(b->dev, 0x14, 4, n);
		pcnet_io_write(b->dev, 0x10, 4, v);
	} else {
		wio_w(b, 0x12, (uint16_t)n);
		wio_w(b, 0x10, v);
	}
}

uint16_t csr_r(struct bench *b, unsigned int n)
{
	if (b->dwio) {
		pcnet_io_write(b->dev, 0x14, 4, n);
		return (uint16_t)pcnet_io_read(b->dev, 0x10, 4);
	}
	wio_w(b, 0x12, (uint16_t)n);
	return wio_r(b, 0x10);
}

void bcr_w(struct bench *b, unsigned int n, uint16_t v)
{
	if (b->dwio) {
		pcnet_io_write(b->dev, 0x14, 4, n);
		pcnet_io_write(b->dev, 0x1c, 4, v);
	} else {
		wio_w(b, 0x12, (uint16_t)n);
		wio_w(b, 0x16, v);
	}
}

uint16_t bcr_r(struct bench *b, unsigned int n)
{
	if (b->dwio) {
		pcnet_io_write(b->dev, 0x14, 4, n);
		return (uint16_t)pcnet_io_read(b->dev, 0x1c, 4);
	}
	wio_w(b, 0x12, (uint16_t)n);
	return wio_r(b, 0x16);
}

void bench_tick(struct bench *b, uint64_t t)
{
	b->now = t;
	pcnet_timer(b->dev, t);
}

void chip_reset(struct bench *b)
{
	if (b->dwio)
		(void)pcnet_io_read(b->dev, 0x18, 4);
	else
		(void)wio_r(b, 0x14);
}

void put8(struct bench *b, uint32_t gpa, uint8_t v)
{
	b->ram[gpa] = v;
}

void put16(struct bench *b, uint32_t gpa, uint16_t v)
{
	b->ram[gpa] = (uint8_t)v;
	b->ram[gpa + 1] = (uint8_t)(v >> 8);
}

void put32(struct bench *b, uint32_t gpa, uint32_t v)
{
	put16(b, gpa, (uint16_t)v);
	put16(b, gpa + 2, (uint16_t)(v >> 16));
}

uint16_t get16(struct bench *b, uint32_t gpa)
{
	return (uint16_t)(b->ram[gpa] | b->ram[gpa + 1] << 8);
}

uint32_t get32(struct bench *b, uint32_t gpa)
{
	return get16(b, gpa) | (uint32_t)get16(b, gpa + 2) << 16;
}

uint32_t desc_gpa(struct bench *b, uint32_t base, uint32_t idx)
{
	return base + idx * (b->swstyle == 0 ? 8 : 16);
}

static uint16_t bcnt(uint32_t len)
{
	return (uint16_t)(0xf000 | ((0u - len) & 0x0fff));
}

void tmd_put(struct bench *b, uint32_t idx, uint32_t addr, uint32_t len,
	     uint16_t status)
{
	uint32_t a = desc_gpa(b, TDRA_GPA, idx);

	if (b->swstyle == 0) {
		put16(b, a, (uint16_t)addr);
		put16(b, a + 4, bcnt(len));
		put16(b, a + 6, 0);
		put16(b, a + 2, (uint16_t)(((addr >> 16) & 0xff) | status));
		return;
	}
	put32(b, b->swstyle == 3 ? a + 8 : a, addr);
	put32(b, b->swstyle == 3 ? a : a + 8, 0);
	put32(b, a + 12, 0);
	put32(b, a + 4, (uint32_t)status << 16 | bcnt(len));
}

uint16_t tmd_status(struct bench *b, uint32_t idx)
{
	uint32_t a = desc_gpa(b, TDRA_GPA, idx);

	if (b->swstyle == 0)
		return get16(b, a + 2) & 0xff00;
	return get16(b, a + 6);
}

uint32_t tmd2(struct bench *b, uint32_t idx)
{
	uint32_t a = desc_gpa(b, TDRA_GPA, idx);

	if (b->swstyle == 0)
		return (uint32_t)get16(b, a + 6) << 16;
	return get32(b, b->swstyle == 3 ? a : a + 8);
}

void rmd_put(struct bench *b, uint32_t idx, uint32_t addr, uint32_t len,
	     bool own)
{
	uint32_t a = desc_gpa(b, RDRA_GPA, idx);
	uint16_t status = own ? OWN : 0;

	if (b->swstyle == 0) {
		put16(b, a, (uint16_t)addr);
		put16(b, a + 4, bcnt(len));
		put16(b, a + 6, 0);
		put16(b, a + 2, (uint16_t)(((addr >> 16) & 0xff) | status));
		return;
	}
	put32(b, b->swstyle == 3 ? a + 8 : a, addr);
	put32(b, b->swstyle == 3 ? a : a + 8, 0);
	put32(b, a + 12, 0);
	put32(b, a + 4, (uint32_t)status << 16 | bcnt(len));
}

uint16_t rmd_status(struct bench *b, uint32_t idx)
{
	uint32_t a = desc_gpa(b, RDRA_GPA, idx);

	if (b->swstyle == 0)
		return get16(b, a + 2) & 0xff00;
	return get16(b, a + 6);
}

uint16_t rmd_mcnt(struct bench *b, uint32_t idx)
{
	uint32_t a = desc_gpa(b, RDRA_GPA, idx);

	if (b->swstyle == 0)
		return get16(b, a + 6) & 0x0fff;
	return get32(b, b->swstyle == 3 ? a : a + 8) & 0x0fff;
}

uint32_t rmd_addr(struct bench *b, uint32_t idx)
{
	uint32_t a = desc_gpa(b, RDRA_GPA, idx);

	if (b->swstyle == 0)
		return get16(b, a) | (uint32_t)(get16(b, a + 2) & 0xff) << 16;
	return get32(b, b->swstyle == 3 ? a + 8 : a);
}

static void init_block(struct bench *b, unsigned int rlen, unsigned int tlen,
		       uint16_t mode)
{
	uint32_t ib = IB_GPA;

	memset(b->ram + ib, 0, 32);
	put16(b, ib, mode);
	if (b->swstyle == 0) {
		memcpy(b->ram + ib + 2, b->mac, 6);
		put32(b, ib + 16, RDRA_GPA | rlen << 29);
		put32(b, ib + 20, TDRA_GPA | tlen << 29);
	} else {
		put8(b, ib + 2, (uint8_t)(rlen << 4));
		put8(b, ib + 3, (uint8_t)(tlen << 4));
		memcpy(b->ram + ib + 4, b->mac, 6);
		put32(b, ib + 20, RDRA_GPA);
		put32(b, ib + 24, TDRA_GPA);
	}
}

void chip_init(struct bench *b, unsigned int swstyle, unsigned int rlen,
	       unsigned int tlen, uint16_t mode, uint32_t rxbuf)
{
	b->swstyle = swstyle;
	b->rx_len = 1u << rlen;
	b->tx_len = 1u << tlen;
	bcr_w(b, 20, (uint16_t)swstyle);
	init_block(b, rlen, tlen, mode);
	for (uint32_t i = 0; i < b->rx_len; i++)
		rmd_put(b, i, RXBUF_GPA + i * RXBUF_STRIDE, rxbuf, true);
	for (uint32_t i = 0; i < b->tx_len; i++)
		tmd_put(b, i, TXBUF_GPA + i * TXBUF_STRIDE, 0, 0);
	csr_w(b, 1, IB_GPA & 0xffff);
	csr_w(b, 2, IB_GPA >> 16);
	csr_w(b, 0, CSR0_INIT);
	assert_true(csr_r(b, 0) & CSR0_IDON);
}

void chip_start(struct bench *b, unsigned int swstyle, uint16_t mode)
{
	chip_init(b, swstyle, 3, 3, mode, 1536);
	csr_w(b, 4, 0x0915);
	csr_w(b, 0, CSR0_IDON);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	assert_int_equal(csr_r(b, 0) & (CSR0_TXON | CSR0_RXON | CSR0_STOP),
			 CSR0_TXON | CSR0_RXON);
}

size_t make_frame(uint8_t *buf, const uint8_t dst[6], size_t len,
		  uint8_t seed)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, bench_mac, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	for (size_t i = 14; i < len; i++)
		buf[i] = (uint8_t)(seed + i);
	return len;
}

void send_frame(struct bench *b, uint32_t idx, const uint8_t *frame,
		size_t len)
{
	uint32_t buf = TXBUF_GPA + idx * TXBUF_STRIDE;

	memcpy(b->ram + buf, frame, len);
	tmd_put(b, idx, buf, (uint32_t)len, OWN | STP | ENP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
}

enum pcnet_rx_result recv_frame(struct bench *b, const uint8_t *frame,
				size_t len)
{
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };

	return pcnet_receive(b->dev, &iov, 1);
}

/* Bit at a time, independent of the model's table. */
uint32_t ether_fcs(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}
