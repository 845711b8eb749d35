/* SPDX-License-Identifier: MIT */
/*
 * 16550A UART, register by register as the National PC16550D datasheet
 * names them.  Transmission is instantaneous (THR and the transmitter shift
 * register are always empty), reception goes through the 16-byte RCVR FIFO
 * (one byte, the RBR, in 16450 mode).  Without a baud-rate clock there is
 * no character timer, so a character timeout indication is raised as soon
 * as the RCVR FIFO holds data below its trigger level.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "serial.h"

/* Register offsets from the base. */
#define UART_RBR	0	/* read, DLAB=0 */
#define UART_THR	0	/* write, DLAB=0 */
#define UART_DLL	0	/* DLAB=1 */
#define UART_IER	1	/* DLAB=0 */
#define UART_DLM	1	/* DLAB=1 */
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* transmitter holding register empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */
#define IER_MASK	0x0f

#define IIR_NO_INT	0x01
#define IIR_MSR		0x00	/* modem status */
#define IIR_THRE	0x02	/* THR empty */
#define IIR_RDA		0x04	/* received data available */
#define IIR_RLS		0x06	/* receiver line status */
#define IIR_CTI		0x0c	/* character timeout indication */
#define IIR_FIFOS	0xc0	/* FIFOs enabled */

#define FCR_FIFO_ENABLE	0x01
#define FCR_RCVR_RESET	0x02
#define FCR_XMIT_RESET	0x04
#define FCR_DMA_MODE	0x08
#define FCR_TRIGGER	0xc0

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_PE		0x04
#define LSR_FE		0x08
#define LSR_BI		0x10
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_RCVR_ERR	0x80	/* PE, FE or BI somewhere in the RCVR FIFO */
#define LSR_ERRORS	(LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTAS	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/*
 * The far end of the line: a console that is always there, so Clear To
 * Send, Data Set Ready and carrier are asserted and the ring is quiet.
 */
#define MSR_LINE_INPUTS	(MSR_CTS | MSR_DSR | MSR_DCD)

struct serial {
	pthread_mutex_t lock;
	struct serial_config cfg;
	int rx_efd;
	bool rx_waiting;	/* a serial_receive() came up short */

	uint8_t rx_fifo[SERIAL_FIFO_SIZE];
	unsigned rx_head;
	unsigned rx_count;
	uint8_t rbr;		/* last byte read, what an empty RBR returns */

	uint8_t ier;
	uint8_t fcr;		/* FIFO enable, DMA mode, trigger; resets self-clear */
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr;		/* only the error bits; the rest is computed */
	uint8_t msr;		/* status and delta bits */
	uint8_t scr;
	uint8_t dll;
	uint8_t dlm;
	bool thr_ipending;	/* THRE interrupt not yet acknowledged */
	bool irq_level;
};

static bool serial_fifo_on(const struct serial *s)
{
	return s->fcr & FCR_FIFO_ENABLE;
}

static unsigned serial_rx_capacity(const struct serial *s)
{
	return serial_fifo_on(s) ? SERIAL_FIFO_SIZE : 1;
}

static unsigned serial_rx_trigger(const struct serial *s)
{
	static const unsigned level[4] = { 1, 4, 8, 14 };

	return level[(s->fcr & FCR_TRIGGER) >> 6];
}

/* The pending interrupt of highest priority, as IIR bits 3:0. */
static uint8_t serial_iir_id(const struct serial *s)
{
	if ((s->ier & IER_ELSI) && (s->lsr & LSR_ERRORS))
		return IIR_RLS;
	if ((s->ier & IER_ERBFI) && s->rx_count) {
		if (serial_fifo_on(s) && s->rx_count < serial_rx_trigger(s))
			return IIR_CTI;
		return IIR_RDA;
	}
	if ((s->ier & IER_ETBEI) && s->thr_ipending)
		return IIR_THRE;
	if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS))
		return IIR_MSR;
	return IIR_NO_INT;
}

/*
 * On a PC the UART's INTR output reaches the PIC through a buffer enabled
 * by the OUT2 pin; in loopback the chip forces OUT2 inactive, which
 * disconnects the line as well.
 */
static void serial_update_irq(struct serial *s)
{
	bool level = serial_iir_id(s) != IIR_NO_INT &&
		     (s->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	irq_line_set(&s->cfg.irq, level);
}

static size_t serial_space_locked(const struct serial *s)
{
	if (s->mcr & MCR_LOOP)
		return 0;
	return serial_rx_capacity(s) - s->rx_count;
}

/* Tell a host input thread held back by a full FIFO that room appeared. */
static void serial_wake_rx(struct serial *s)
{
	uint64_t one = 1;

	if (!s->rx_waiting || !serial_space_locked(s))
		return;
	s->rx_waiting = false;
	/* EAGAIN means the counter is already saturated, i.e. readable. */
	if (write(s->rx_efd, &one, sizeof(one)) < 0)
		return;
}

static void serial_rx_reset(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
	serial_wake_rx(s);
}

static void serial_rx_push(struct serial *s, uint8_t byte)
{
	unsigned cap = serial_rx_capacity(s);

	if (s->rx_count == cap) {
		s->lsr |= LSR_OE;
		/* In 16450 mode the new character overwrites the RBR; with
		 * FIFOs it is lost in the shift register. */
		if (!serial_fifo_on(s))
			s->rx_fifo[s->rx_head] = byte;
		return;
	}
	s->rx_fifo[(s->rx_head + s->rx_count) % cap] = byte;
	s->rx_count++;
}

static uint8_t serial_rx_pop(struct serial *s)
{
	if (!s->rx_count)
		return s->rbr;
	s->rbr = s->rx_fifo[s->rx_head];
	s->rx_head = (s->rx_head + 1) % serial_rx_capacity(s);
	s->rx_count--;
	serial_wake_rx(s);
	return s->rbr;
}

/* Modem inputs: the line's, or in loopback the MCR outputs wired back. */
static uint8_t serial_msr_inputs(const struct serial *s)
{
	uint8_t in = 0;

	if (!(s->mcr & MCR_LOOP))
		return MSR_LINE_INPUTS;
	if (s->mcr & MCR_RTS)
		in |= MSR_CTS;
	if (s->mcr & MCR_DTR)
		in |= MSR_DSR;
	if (s->mcr & MCR_OUT1)
		in |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		in |= MSR_DCD;
	return in;
}

/* Latch delta bits for every modem input that changed. */
static void serial_update_msr(struct serial *s)
{
	uint8_t old = s->msr & ~MSR_DELTAS;
	uint8_t in = serial_msr_inputs(s);
	uint8_t changed = old ^ in;

	if (changed & MSR_CTS)
		s->msr |= MSR_DCTS;
	if (changed & MSR_DSR)
		s->msr |= MSR_DDSR;
	if (changed & MSR_DCD)
		s->msr |= MSR_DDCD;
	/* TERI flags the trailing edge of ring only. */
	if ((old & MSR_RI) && !(in & MSR_RI))
		s->msr |= MSR_TERI;
	s->msr = (s->msr & MSR_DELTAS) | in;
}

static void serial_write_thr(struct serial *s, uint8_t byte)
{
	if (s->mcr & MCR_LOOP)
		serial_rx_push(s, byte);
	else if (s->cfg.tx)
		s->cfg.tx(s->cfg.tx_opaque, &byte, 1);
	/* Writing THR acknowledges THRE; it empties again at once. */
	s->thr_ipending = true;
}

static void serial_write_ier(struct serial *s, uint8_t val)
{
	val &= IER_MASK;
	/* Enabling ETBEI while THR is empty raises THRE right away. */
	if ((val & IER_ETBEI) && !(s->ier & IER_ETBEI))
		s->thr_ipending = true;
	s->ier = val;
}

static void serial_write_fcr(struct serial *s, uint8_t val)
{
	/* Toggling FIFO enable empties both FIFOs. */
	if ((val ^ s->fcr) & FCR_FIFO_ENABLE) {
		s->fcr = val & FCR_FIFO_ENABLE;
		serial_rx_reset(s);
	}
	/* The other bits are only programmed along with FIFO enable. */
	if (!(val & FCR_FIFO_ENABLE))
		return;
	if (val & FCR_RCVR_RESET)
		serial_rx_reset(s);
	/* FCR_XMIT_RESET: the transmitter is always empty. */
	s->fcr = val & (FCR_FIFO_ENABLE | FCR_DMA_MODE | FCR_TRIGGER);
}

static void serial_write_mcr(struct serial *s, uint8_t val)
{
	uint8_t old = s->mcr;

	s->mcr = val & MCR_MASK;
	serial_update_msr(s);
	/* Leaving loopback reconnects the receiver to the host. */
	if ((old & MCR_LOOP) && !(s->mcr & MCR_LOOP))
		serial_wake_rx(s);
}

static void serial_write(struct serial *s, unsigned reg, uint8_t val)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case UART_THR:
		if (dlab)
			s->dll = val;
		else
			serial_write_thr(s, val);
		break;
	case UART_IER:
		if (dlab)
			s->dlm = val;
		else
			serial_write_ier(s, val);
		break;
	case UART_FCR:
		serial_write_fcr(s, val);
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR:
		serial_write_mcr(s, val);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Factory test registers on the real part: ignore. */
		break;
	case UART_SCR:
		s->scr = val;
		break;
	}
}

static uint8_t serial_read_iir(struct serial *s)
{
	uint8_t id = serial_iir_id(s);

	/* Reading IIR acknowledges THRE when THRE is what it reports. */
	if (id == IIR_THRE)
		s->thr_ipending = false;
	return id | (serial_fifo_on(s) ? IIR_FIFOS : 0);
}

static uint8_t serial_read_lsr(struct serial *s)
{
	uint8_t val = s->lsr | LSR_THRE | LSR_TEMT;

	if (s->rx_count)
		val |= LSR_DR;
	/* Reading LSR clears the error bits (and with them the RLS
	 * interrupt). */
	s->lsr &= ~LSR_ERRORS;
	return val;
}

static uint8_t serial_read_msr(struct serial *s)
{
	uint8_t val = s->msr;

	s->msr &= ~MSR_DELTAS;
	return val;
}

static uint8_t serial_read(struct serial *s, unsigned reg)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR:
		return dlab ? s->dll : serial_rx_pop(s);
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR:
		return serial_read_iir(s);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return serial_read_lsr(s);
	case UART_MSR:
		return serial_read_msr(s);
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

/*
 * The UART sits on an 8-bit bus: a wider access is split into byte cycles
 * on consecutive ports, as the chipset does.
 */
void serial_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		unsigned len, bool is_write, void *opaque)
{
	struct serial *s = opaque;
	unsigned i;

	(void)vcpu;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < len; i++) {
		unsigned reg = (offset + i) % SERIAL_NR_PORTS;

		if (is_write)
			serial_write(s, reg, data[i]);
		else
			data[i] = serial_read(s, reg);
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t n)
{
	size_t i, room;

	pthread_mutex_lock(&s->lock);
	room = serial_space_locked(s);
	if (room > n)
		room = n;
	for (i = 0; i < room; i++)
		serial_rx_push(s, buf[i]);
	if (room < n)
		s->rx_waiting = true;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return room;
}

size_t serial_rx_space(struct serial *s)
{
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = serial_space_locked(s);
	pthread_mutex_unlock(&s->lock);
	return room;
}

int serial_rx_eventfd(const struct serial *s)
{
	return s->rx_efd;
}

struct serial *serial_new(const struct serial_config *cfg)
{
	struct serial *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->rx_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->rx_efd < 0)
		goto err_free;
	err = pthread_mutex_init(&s->lock, NULL);
	if (err) {
		errno = err;
		goto err_close;
	}
	/* Reset values per the datasheet; the divisor is left at 9600 baud
	 * (1.8432 MHz / 16 / 12) for guests that never program it. */
	s->dll = 12;
	s->msr = MSR_LINE_INPUTS;
	return s;

err_close:
	close(s->rx_efd);
err_free:
	free(s);
	return NULL;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	close(s->rx_efd);
	free(s);
}
