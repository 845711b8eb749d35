/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART as the guest's console.  The UART knows neither its port
 * base nor its GSI: the caller registers serial_pio() on the pio bus at the
 * base (SERIAL_NR_PORTS ports) and hands in the interrupt line.
 *
 * Transmit is immediate: every byte the guest writes to THR goes to the tx
 * callback at once, so THR always looks empty to the guest.  Receive goes
 * through a 16-byte FIFO fed by serial_receive(); what does not fit is left
 * with the caller (backpressure), never dropped.
 *
 * Host input thread, the intended loop:
 *
 *	n = read(stdin, buf, sizeof(buf));
 *	while (n > 0) {
 *		size_t k = serial_receive(s, buf, n);
 *		memmove(buf, buf + k, n - k);
 *		n -= k;
 *		if (n)
 *			poll {serial_rx_eventfd(s), POLLIN} and read it to clear;
 *	}
 *
 * The eventfd is signalled whenever space appears in the RX FIFO after a
 * serial_receive() could not take everything, so no wake-up is lost.
 */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "irq.h"
#include "pio.h"

#define SERIAL_NR_PORTS		8
#define SERIAL_FIFO_SIZE	16

/* The PC's first port, for callers that want the usual wiring. */
#define SERIAL_COM1_BASE	0x3f8
#define SERIAL_COM1_IRQ		4

struct serial_config {
	/*
	 * Level = interrupt pending and MCR.OUT2 set (the PC's IRQ gate),
	 * outside loopback (which forces the OUT2 pin inactive).
	 */
	struct irq_line irq;
	/*
	 * Called for every transmitted byte, with the UART's lock held: it
	 * must not call back into this UART.
	 */
	void (*tx)(void *opaque, const uint8_t *buf, size_t n);
	void *tx_opaque;
};

struct serial;

/* NULL on failure (errno set). */
struct serial *serial_new(const struct serial_config *cfg);
void serial_free(struct serial *s);

/* The pio_fn to register at the base, with @opaque = the struct serial. */
void serial_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		unsigned len, bool is_write, void *opaque);

/*
 * Offers @n received bytes; returns how many the RX FIFO accepted (0 when
 * full, or in loopback mode, where the receiver is cut off the line).
 */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t n);

/* How many bytes serial_receive() would accept now. */
size_t serial_rx_space(struct serial *s);

/* Readable (EFD_NONBLOCK) once RX space appears after a short receive. */
int serial_rx_eventfd(const struct serial *s);

#endif
