/* SPDX-License-Identifier: MIT */
/*
 * A PCnet on a bench: fake guest RAM behind guest_mem, a port that keeps
 * the frames it is given, an interrupt line that counts its edges and a
 * clock the test moves.  Helpers speak to the chip the way a driver does
 * (RAP then RDP/BDP, WIO or DWIO) and lay out init blocks and descriptor
 * rings in the three software styles.
 */
#ifndef TESTS_PCNET_HARNESS_H
#define TESTS_PCNET_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest_mem.h"
#include "pcnet.h"

#define RAM_SIZE	(1u << 20)	/* guest RAM at GPA 0 */
#define IB_GPA		0x1000u		/* init block */
#define RDRA_GPA	0x2000u		/* receive ring */
#define TDRA_GPA	0x4000u		/* transmit ring */
#define RXBUF_GPA	0x10000u	/* receive buffers, a stride apart */
#define TXBUF_GPA	0x80000u	/* transmit buffers */
#define RXBUF_STRIDE	0x800u
#define TXBUF_STRIDE	0x1000u
#define BAR_GPA		0xfebf0000u	/* where the BARs are: not RAM */

/* Register bits the tests name. */
#define CSR0_ERR	0x8000
#define CSR0_BABL	0x4000
#define CSR0_CERR	0x2000
#define CSR0_MISS	0x1000
#define CSR0_MERR	0x0800
#define CSR0_RINT	0x0400
#define CSR0_TINT	0x0200
#define CSR0_IDON	0x0100
#define CSR0_INTR	0x0080
#define CSR0_IENA	0x0040
#define CSR0_RXON	0x0020
#define CSR0_TXON	0x0010
#define CSR0_TDMD	0x0008
#define CSR0_STOP	0x0004
#define CSR0_STRT	0x0002
#define CSR0_INIT	0x0001

#define OWN		0x8000
#define ERR		0x4000
#define ADD_FCS		0x2000
#define LTINT		0x1000
#define STP		0x0200
#define ENP		0x0100
#define RMD_FRAM	0x2000
#define RMD_OFLO	0x1000
#define RMD_CRC		0x0800
#define RMD_BUFF	0x0400
#define RMD_PAM		0x0040
#define RMD_LAFM	0x0020
#define RMD_BAM		0x0010
#define TMD2_BUFF	0x80000000u
#define TMD2_UFLO	0x40000000u
#define TMD2_LCAR	0x08000000u

#define MODE_PROM	0x8000
#define MODE_DRCVBC	0x4000
#define MODE_DRCVPA	0x2000
#define MODE_DLNKTST	0x1000
#define MODE_INTL	0x0040
#define MODE_DXMTFCS	0x0008
#define MODE_LOOP	0x0004

#define MAX_TX_CAPTURE	64

struct captured {
	uint8_t data[8192];
	uint32_t len;
	unsigned int flags;
	unsigned int nseg;
	uint64_t gpa[40];
	uint32_t seglen[40];
};

#define MAX_IRQ_TRACE	64

/* One change of INTA#, at the bench clock's time. */
struct irq_edge {
	uint64_t at;
	int level;
};

struct bench;
typedef void (*tx_hook_fn)(struct bench *b, const struct pcnet_seg *seg,
			   unsigned int nseg, uint32_t len);

struct bench {
	uint8_t *ram;
	struct guest_mem mem;
	struct pcnet_state st;
	struct pcnet *dev;
	uint8_t mac[6];
	int irq;
	unsigned int irq_rises;
	unsigned int irq_calls;
	struct irq_edge irq_trace[MAX_IRQ_TRACE];
	unsigned int nirq_trace;
	unsigned int deadline_calls;	/* ops.deadline_changed */
	uint64_t deadline_seen;		/* pcnet_next_deadline() then */
	uint64_t now;
	bool dwio;		/* helpers use DWIO accesses */
	unsigned int swstyle;	/* layout the ring helpers use */
	uint32_t rx_len, tx_len;
	struct captured tx[MAX_TX_CAPTURE];
	unsigned int ntx;
	enum pcnet_tx_result tx_result;
	tx_hook_fn tx_hook;
	void *hook_data;
};

extern const uint8_t bench_mac[6];

const struct pcnet_ops *bench_ops(void);
struct bench *bench_new(void);
void bench_free(struct bench *b);
int bench_setup(void **state);
int bench_teardown(void **state);

/* Driver-style register access. */
void wio_w(struct bench *b, uint32_t off, uint16_t v);
uint16_t wio_r(struct bench *b, uint32_t off);
void csr_w(struct bench *b, unsigned int n, uint16_t v);
uint16_t csr_r(struct bench *b, unsigned int n);
void bcr_w(struct bench *b, unsigned int n, uint16_t v);
uint16_t bcr_r(struct bench *b, unsigned int n);
void chip_reset(struct bench *b);
/* The timer fires at @t: the bench clock moves there first. */
void bench_tick(struct bench *b, uint64_t t);

/* Guest RAM. */
void put8(struct bench *b, uint32_t gpa, uint8_t v);
void put16(struct bench *b, uint32_t gpa, uint16_t v);
void put32(struct bench *b, uint32_t gpa, uint32_t v);
uint16_t get16(struct bench *b, uint32_t gpa);
uint32_t get32(struct bench *b, uint32_t gpa);

/*
 * Lays out an init block for the current SWSTYLE (BCR20 is written here)
 * with 2^rlen receive and 2^tlen transmit descriptors, receive buffers of
 * @rxbuf bytes owned by the chip, then INIT and waits for IDON.
 */
void chip_init(struct bench *b, unsigned int swstyle, unsigned int rlen,
	       unsigned int tlen, uint16_t mode, uint32_t rxbuf);
/* INIT then STRT with IENA, the way pcnet32_open() ends. */
void chip_start(struct bench *b, unsigned int swstyle, uint16_t mode);

uint32_t desc_gpa(struct bench *b, uint32_t base, uint32_t idx);
/* TMD with OWN written last. */
void tmd_put(struct bench *b, uint32_t idx, uint32_t addr, uint32_t len,
	     uint16_t status);
uint16_t tmd_status(struct bench *b, uint32_t idx);
uint32_t tmd2(struct bench *b, uint32_t idx);
void rmd_put(struct bench *b, uint32_t idx, uint32_t addr, uint32_t len,
	     bool own);
uint16_t rmd_status(struct bench *b, uint32_t idx);
uint16_t rmd_mcnt(struct bench *b, uint32_t idx);
uint32_t rmd_addr(struct bench *b, uint32_t idx);

/* Builds a frame to @dst from the bench MAC with a counting payload. */
size_t make_frame(uint8_t *buf, const uint8_t dst[6], size_t len,
		  uint8_t seed);
/* Queues one single-buffer frame at TX index @idx and kicks TDMD. */
void send_frame(struct bench *b, uint32_t idx, const uint8_t *frame,
		size_t len);
enum pcnet_rx_result recv_frame(struct bench *b, const uint8_t *frame,
				size_t len);
uint32_t ether_fcs(const uint8_t *p, size_t len);

#endif
