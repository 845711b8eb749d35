// SPDX-License-Identifier: MIT
/*
 * COM1 (16550A), polled. Every register access is a VM exit, so when the
 * UART has a FIFO we write 16 characters per THRE poll instead of one.
 * Polls are bounded: a UART that never drains costs output, not a hang.
 */
#include "guest.h"

#define COM1		0x3f8
#define UART_THR	0	/* DLAB=0, write */
#define UART_RBR	0	/* DLAB=0, read */
#define UART_DLL	0	/* DLAB=1 */
#define UART_IER	1
#define UART_DLM	1
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5

#define LCR_WLS_8	0x03
#define LCR_DLAB	0x80
#define FCR_FIFO_EN	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04
#define IIR_FIFO_MASK	0xc0
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define UART_FIFO_SIZE	16
#define LSR_POLL_MAX	200000

static unsigned int tx_burst = 1;	/* bytes per THRE */
static unsigned int tx_room;		/* bytes we may still write blindly */
static bool at_line_start = true;

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1);	/* 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_WLS_8);
	outb(COM1 + UART_FCR, FCR_FIFO_EN | FCR_CLEAR_RX | FCR_CLEAR_TX);
	if ((inb(COM1 + UART_IIR) & IIR_FIFO_MASK) == IIR_FIFO_MASK)
		tx_burst = UART_FIFO_SIZE;
	outb(COM1 + UART_MCR, MCR_DTR | MCR_RTS);	/* OUT2 off: no IRQ */
	tx_room = 0;
}

static void wait_lsr(uint8_t bit)
{
	for (unsigned int i = 0; i < LSR_POLL_MAX; i++)
		if (inb(COM1 + UART_LSR) & bit)
			return;
}

void serial_putc(char c)
{
	if (!tx_room) {
		wait_lsr(LSR_THRE);
		tx_room = tx_burst;
	}
	outb(COM1 + UART_THR, (uint8_t)c);
	tx_room--;
	at_line_start = c == '\n';
}

/* Wait until the last byte has left, e.g. before a reset. */
void serial_flush(void)
{
	wait_lsr(LSR_TEMT);
	tx_room = 0;
}

bool serial_at_line_start(void)
{
	return at_line_start;
}

/* One received byte, or -1 if none waits (two exits: LSR, RBR). */
int serial_getc(void)
{
	if (!(inb(COM1 + UART_LSR) & LSR_DR))
		return -1;
	return inb(COM1 + UART_RBR);
}
