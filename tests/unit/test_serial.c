/* SPDX-License-Identifier: MIT */
/* 16550A UART: registers, FIFO, interrupts and loopback as a driver sees them. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "serial.h"

/* Register offsets and bits, spelled out here as a driver would. */
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2,
       LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_ERBFI	0x01
#define IER_ETBEI	0x02
#define IER_ELSI	0x04
#define IER_EDSSI	0x08
#define IIR_NONE	0x01
#define IIR_MODEM	0x00
#define IIR_THRE	0x02
#define IIR_RDA		0x04
#define IIR_RLS		0x06
#define IIR_CTI		0x0c
#define IIR_FIFOS	0xc0
#define FCR_ENABLE	0x01
#define FCR_RX_RESET	0x02
#define FCR_TRIG_4	0x40
#define FCR_TRIG_14	0xc0
#define LCR_DLAB	0x80
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

struct fixture {
	struct serial *s;
	bool level;
	unsigned edges;		/* level changes seen */
	unsigned gsi;
	uint8_t tx[256];
	size_t tx_len;
};

static void record_level(void *opaque, unsigned gsi, bool level)
{
	struct fixture *f = opaque;

	f->gsi = gsi;
	if (level != f->level)
		f->edges++;
	f->level = level;
}

static void record_tx(void *opaque, const uint8_t *buf, size_t n)
{
	struct fixture *f = opaque;

	assert_true(f->tx_len + n <= sizeof(f->tx));
	memcpy(f->tx + f->tx_len, buf, n);
	f->tx_len += n;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct serial_config cfg = {
		.irq = { .set_level = record_level, .opaque = f, .gsi = 4 },
		.tx = record_tx,
		.tx_opaque = f,
	};

	if (!f)
		return -1;
	f->s = serial_new(&cfg);
	*state = f;
	return f->s ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	serial_free(f->s);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f, unsigned reg)
{
	uint8_t v = 0;

	serial_pio(NULL, reg, &v, 1, false, f->s);
	return v;
}

static void wr(struct fixture *f, unsigned reg, uint8_t v)
{
	serial_pio(NULL, reg, &v, 1, true, f->s);
}

static void receive(struct fixture *f, const char *s)
{
	assert_int_equal(serial_receive(f->s, (const uint8_t *)s, strlen(s)),
			 strlen(s));
}

static void serial_reset_values_match_datasheet(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, IER), 0);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	assert_int_equal(rd(f, LCR), 0);
	assert_int_equal(rd(f, MCR), 0);
	assert_int_equal(rd(f, LSR), LSR_THRE | LSR_TEMT);
	/* A console on the line: clear to send, ready, carrier. */
	assert_int_equal(rd(f, MSR), MSR_CTS | MSR_DSR | MSR_DCD);
	assert_false(f->level);
	assert_int_equal(serial_rx_space(f->s), 1);
}

static void serial_thr_bytes_reach_tx_callback_at_once(void **state)
{
	struct fixture *f = *state;

	wr(f, THR, 'o');
	assert_int_equal(f->tx_len, 1);
	wr(f, THR, 'k');
	assert_memory_equal(f->tx, "ok", 2);
	assert_int_equal(f->tx_len, 2);
	assert_int_equal(rd(f, LSR) & (LSR_THRE | LSR_TEMT),
			 LSR_THRE | LSR_TEMT);
}

static void serial_dlab_maps_divisor_latch_over_rbr_thr_and_ier(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, IER_ERBFI);
	wr(f, LCR, LCR_DLAB | 0x03);
	wr(f, DLL, 0x01);
	wr(f, DLM, 0x02);
	assert_int_equal(f->tx_len, 0);
	assert_int_equal(rd(f, DLL), 0x01);
	assert_int_equal(rd(f, DLM), 0x02);
	assert_int_equal(rd(f, LCR), LCR_DLAB | 0x03);

	wr(f, LCR, 0x03);
	assert_int_equal(rd(f, IER), IER_ERBFI);
	wr(f, THR, 'x');
	assert_int_equal(f->tx_len, 1);

	wr(f, LCR, LCR_DLAB);
	assert_int_equal(rd(f, DLL), 0x01);
	assert_int_equal(rd(f, DLM), 0x02);
}

static void serial_scratch_and_ier_keep_what_is_written(void **state)
{
	struct fixture *f = *state;

	wr(f, SCR, 0xa5);
	assert_int_equal(rd(f, SCR), 0xa5);
	/* IER bits 7:4 are always 0 on a 16550A. */
	wr(f, IER, 0xff);
	assert_int_equal(rd(f, IER), 0x0f);
	/* MCR bits 7:5 likewise. */
	wr(f, MCR, 0xef);
	assert_int_equal(rd(f, MCR), 0x0f);
}

static void serial_received_bytes_read_in_order_with_dr(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, FCR_ENABLE);
	receive(f, "abc");
	assert_int_equal(rd(f, LSR) & LSR_DR, LSR_DR);
	assert_int_equal(rd(f, RBR), 'a');
	assert_int_equal(rd(f, RBR), 'b');
	assert_int_equal(rd(f, LSR) & LSR_DR, LSR_DR);
	assert_int_equal(rd(f, RBR), 'c');
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	assert_int_equal(f->tx_len, 0);
}

static void serial_without_fifo_holds_one_byte(void **state)
{
	struct fixture *f = *state;
	const uint8_t in[] = "xy";

	assert_int_equal(serial_receive(f->s, in, 2), 1);
	assert_int_equal(serial_rx_space(f->s), 0);
	assert_int_equal(rd(f, RBR), 'x');
	assert_int_equal(serial_receive(f->s, in + 1, 1), 1);
	assert_int_equal(rd(f, RBR), 'y');
}

static bool eventfd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void serial_full_fifo_refuses_bytes_and_signals_space(void **state)
{
	struct fixture *f = *state;
	uint8_t in[20];
	uint64_t cnt;
	int efd = serial_rx_eventfd(f->s);
	unsigned i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = 'A' + i;
	wr(f, FCR, FCR_ENABLE);
	assert_int_equal(serial_rx_space(f->s), SERIAL_FIFO_SIZE);
	assert_int_equal(serial_receive(f->s, in, sizeof(in)),
			 SERIAL_FIFO_SIZE);
	assert_int_equal(serial_rx_space(f->s), 0);
	assert_int_equal(serial_receive(f->s, in + 16, 4), 0);
	assert_false(eventfd_readable(efd));

	assert_int_equal(rd(f, RBR), 'A');
	assert_true(eventfd_readable(efd));
	assert_int_equal(read(efd, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_int_equal(serial_rx_space(f->s), 1);
	assert_int_equal(serial_receive(f->s, in + 16, 4), 1);
	/* Nothing was overrun: host input waits instead. */
	assert_int_equal(rd(f, LSR) & LSR_OE, 0);
	for (i = 1; i <= 16; i++)
		assert_int_equal(rd(f, RBR), 'A' + i);
}

static void serial_fifo_overrun_sets_oe_until_lsr_read(void **state)
{
	struct fixture *f = *state;
	unsigned i;

	wr(f, FCR, FCR_ENABLE);
	wr(f, MCR, MCR_LOOP);
	for (i = 0; i < SERIAL_FIFO_SIZE; i++)
		wr(f, THR, 'a' + i);
	assert_int_equal(rd(f, LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	wr(f, THR, '!');
	assert_int_equal(rd(f, LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
	assert_int_equal(rd(f, LSR) & LSR_OE, 0);
	/* The FIFO kept the first 16; the 17th was lost. */
	for (i = 0; i < SERIAL_FIFO_SIZE; i++)
		assert_int_equal(rd(f, RBR), 'a' + i);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
}

static void serial_iir_reports_sources_by_priority(void **state)
{
	struct fixture *f = *state;
	unsigned i;

	wr(f, MCR, MCR_LOOP);
	/* Overrun the 1-byte RBR: line status and data available. */
	wr(f, THR, '1');
	wr(f, THR, '2');
	/* Modem status: raise RTS, CTS follows in loopback. */
	wr(f, MCR, MCR_LOOP | MCR_RTS);
	wr(f, IER, IER_ERBFI | IER_ETBEI | IER_ELSI | IER_EDSSI);

	assert_int_equal(rd(f, IIR), IIR_RLS);
	assert_int_equal(rd(f, IIR), IIR_RLS);
	rd(f, LSR);
	assert_int_equal(rd(f, IIR), IIR_RDA);
	/* 16450 mode: the second byte overwrote the first. */
	assert_int_equal(rd(f, RBR), '2');
	assert_int_equal(rd(f, IIR), IIR_THRE);
	assert_int_equal(rd(f, IIR), IIR_MODEM);
	assert_int_equal(rd(f, MSR) & MSR_DCTS, MSR_DCTS);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	for (i = 0; i < 3; i++)
		assert_int_equal(rd(f, IIR), IIR_NONE);
}

static void serial_rx_trigger_level_separates_rda_from_timeout(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, FCR_ENABLE | FCR_TRIG_4);
	wr(f, IER, IER_ERBFI);
	receive(f, "abc");
	assert_int_equal(rd(f, IIR), IIR_FIFOS | IIR_CTI);
	receive(f, "d");
	assert_int_equal(rd(f, IIR), IIR_FIFOS | IIR_RDA);
	rd(f, RBR);
	assert_int_equal(rd(f, IIR), IIR_FIFOS | IIR_CTI);

	wr(f, FCR, FCR_ENABLE | FCR_TRIG_14);
	receive(f, "0123456789a");
	assert_int_equal(rd(f, IIR), IIR_FIFOS | IIR_RDA);
}

static void serial_fcr_resets_and_fifo_toggle_empty_rx(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, FCR_ENABLE);
	assert_int_equal(rd(f, IIR) & IIR_FIFOS, IIR_FIFOS);
	receive(f, "hello");
	wr(f, FCR, FCR_ENABLE | FCR_RX_RESET);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	assert_int_equal(serial_rx_space(f->s), SERIAL_FIFO_SIZE);

	receive(f, "again");
	wr(f, FCR, 0);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	assert_int_equal(rd(f, IIR) & IIR_FIFOS, 0);
	assert_int_equal(serial_rx_space(f->s), 1);
}

static void serial_thre_interrupt_raised_when_etbei_enabled(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	assert_false(f->level);
	wr(f, IER, IER_ETBEI);
	assert_true(f->level);
	assert_int_equal(f->gsi, 4);
	assert_int_equal(rd(f, IIR), IIR_THRE);
}

static void serial_thre_interrupt_cleared_by_iir_read(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	wr(f, IER, IER_ETBEI);
	assert_int_equal(rd(f, IIR), IIR_THRE);
	assert_false(f->level);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	/* Rewriting IER with ETBEI still set is no new edge. */
	wr(f, IER, IER_ETBEI);
	assert_int_equal(rd(f, IIR), IIR_NONE);
}

static void serial_thre_interrupt_rearmed_by_thr_write(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	wr(f, IER, IER_ETBEI);
	rd(f, IIR);
	assert_false(f->level);
	wr(f, THR, 'z');
	/* Sent at once, so THR is empty again and says so. */
	assert_true(f->level);
	assert_int_equal(rd(f, IIR), IIR_THRE);
	assert_false(f->level);
	assert_int_equal(f->edges, 4);
}

static void serial_thre_survives_iir_read_reporting_rx_data(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, IER_ETBEI | IER_ERBFI);
	receive(f, "q");
	assert_int_equal(rd(f, IIR), IIR_RDA);
	assert_int_equal(rd(f, RBR), 'q');
	assert_int_equal(rd(f, IIR), IIR_THRE);
	assert_int_equal(rd(f, IIR), IIR_NONE);
}

static void serial_irq_line_follows_out2(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, IER_ERBFI);
	receive(f, "k");
	assert_false(f->level);
	wr(f, MCR, MCR_OUT2);
	assert_true(f->level);
	wr(f, MCR, MCR_DTR | MCR_RTS);
	assert_false(f->level);
	wr(f, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	assert_true(f->level);
	rd(f, RBR);
	assert_false(f->level);
}

static void serial_irq_line_quiet_with_interrupts_disabled(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	receive(f, "k");
	wr(f, THR, 'k');
	assert_false(f->level);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	wr(f, IER, IER_ERBFI);
	assert_true(f->level);
	wr(f, IER, 0);
	assert_false(f->level);
}

static void serial_loopback_returns_thr_bytes_to_rbr(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, FCR_ENABLE);
	wr(f, MCR, MCR_LOOP);
	wr(f, THR, 'L');
	wr(f, THR, 'b');
	assert_int_equal(f->tx_len, 0);
	assert_int_equal(rd(f, RBR), 'L');
	assert_int_equal(rd(f, RBR), 'b');
	wr(f, MCR, 0);
	wr(f, THR, 'n');
	assert_int_equal(f->tx_len, 1);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
}

static void serial_loopback_keeps_interrupts_off_the_line(void **state)
{
	struct fixture *f = *state;

	/* OUT2 is forced inactive in loopback, and it gates the IRQ. */
	wr(f, MCR, MCR_LOOP | MCR_OUT2);
	wr(f, IER, IER_ERBFI);
	wr(f, THR, 'i');
	assert_int_equal(rd(f, IIR), IIR_RDA);
	assert_false(f->level);
	wr(f, MCR, MCR_OUT2);
	assert_true(f->level);
}

static void serial_loopback_maps_mcr_outputs_to_msr_inputs(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_LOOP);
	assert_int_equal(rd(f, MSR) & 0xf0, 0);
	wr(f, MCR, MCR_LOOP | MCR_RTS);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_CTS);
	wr(f, MCR, MCR_LOOP | MCR_DTR);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_DSR);
	wr(f, MCR, MCR_LOOP | MCR_OUT1);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_RI);
	wr(f, MCR, MCR_LOOP | MCR_OUT2);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_DCD);
	/* Linux's 8250 probe: LOOP | RTS | OUT2 must read back 0x90. */
	wr(f, MCR, MCR_LOOP | MCR_RTS | MCR_OUT2);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_CTS | MSR_DCD);
	wr(f, MCR, 0);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_CTS | MSR_DSR | MSR_DCD);
}

static void serial_msr_deltas_latch_until_read(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT2);
	/* Same inputs as the line gave: no change, no delta. */
	assert_int_equal(rd(f, MSR), MSR_CTS | MSR_DSR | MSR_DCD);
	wr(f, MCR, MCR_LOOP | MCR_DTR | MCR_OUT2);
	wr(f, MCR, MCR_LOOP | MCR_DTR);
	assert_int_equal(rd(f, MSR), MSR_DSR | MSR_DCTS | MSR_DDCD);
	assert_int_equal(rd(f, MSR), MSR_DSR);
	/* Ring: only the trailing edge is flagged. */
	wr(f, MCR, MCR_LOOP | MCR_DTR | MCR_OUT1);
	assert_int_equal(rd(f, MSR), MSR_DSR | MSR_RI);
	wr(f, MCR, MCR_LOOP | MCR_DTR);
	assert_int_equal(rd(f, MSR), MSR_DSR | MSR_TERI);
	wr(f, MCR, 0);
	assert_int_equal(rd(f, MSR),
			 MSR_CTS | MSR_DSR | MSR_DCD | MSR_DCTS | MSR_DDCD);
}

static void serial_receiver_is_cut_off_in_loopback(void **state)
{
	struct fixture *f = *state;
	const uint8_t in[] = "host";
	int efd = serial_rx_eventfd(f->s);

	wr(f, FCR, FCR_ENABLE);
	wr(f, MCR, MCR_LOOP);
	assert_int_equal(serial_rx_space(f->s), 0);
	assert_int_equal(serial_receive(f->s, in, 4), 0);
	assert_false(eventfd_readable(efd));
	wr(f, MCR, 0);
	assert_true(eventfd_readable(efd));
	assert_int_equal(serial_receive(f->s, in, 4), 4);
}

static void serial_wide_access_splits_into_byte_registers(void **state)
{
	struct fixture *f = *state;
	uint8_t data[2] = { 0x03, MCR_OUT2 | MCR_DTR };

	/* A word write at LCR writes LCR and MCR. */
	serial_pio(NULL, LCR, data, 2, true, f->s);
	assert_int_equal(rd(f, LCR), 0x03);
	assert_int_equal(rd(f, MCR), MCR_OUT2 | MCR_DTR);
	memset(data, 0, sizeof(data));
	serial_pio(NULL, LCR, data, 2, false, f->s);
	assert_int_equal(data[0], 0x03);
	assert_int_equal(data[1], MCR_OUT2 | MCR_DTR);
}

static void serial_serves_its_ports_on_a_pio_bus(void **state)
{
	struct fixture *f = *state;
	struct pio_bus *bus = pio_bus_new();
	uint8_t v = 'p';

	assert_non_null(bus);
	assert_int_equal(pio_register(bus, SERIAL_COM1_BASE, SERIAL_NR_PORTS,
				      serial_pio, f->s), 0);
	assert_true(pio_dispatch(bus, NULL, SERIAL_COM1_BASE, &v, 1, true));
	assert_int_equal(f->tx_len, 1);
	assert_true(pio_dispatch(bus, NULL, SERIAL_COM1_BASE + LSR, &v, 1,
				 false));
	assert_int_equal(v, LSR_THRE | LSR_TEMT);
	pio_bus_free(bus);
}

/*
 * A host thread feeds a long stream through the FIFO with backpressure
 * while the "guest" drains it: every byte arrives, once, in order.
 */
#define STREAM_LEN	20000

struct stream {
	struct serial *s;
	bool stalled;		/* no wake-up within a second */
};

static void *feeder(void *arg)
{
	struct stream *st = arg;
	int efd = serial_rx_eventfd(st->s);
	uint8_t buf[64];
	size_t sent = 0;

	while (sent < STREAM_LEN) {
		size_t n = sizeof(buf), i, k;
		struct pollfd p = { .fd = efd, .events = POLLIN };
		uint64_t cnt;

		if (n > STREAM_LEN - sent)
			n = STREAM_LEN - sent;
		for (i = 0; i < n; i++)
			buf[i] = (sent + i) * 31 % 251;
		k = serial_receive(st->s, buf, n);
		sent += k;
		if (k == n)
			continue;
		if (poll(&p, 1, 1000) != 1 ||
		    read(efd, &cnt, sizeof(cnt)) != sizeof(cnt)) {
			__atomic_store_n(&st->stalled, true, __ATOMIC_RELEASE);
			break;
		}
	}
	return NULL;
}

static void serial_stream_with_backpressure_arrives_in_order(void **state)
{
	struct fixture *f = *state;
	struct stream st = { .s = f->s };
	pthread_t t;
	size_t got = 0;

	wr(f, FCR, FCR_ENABLE);
	assert_int_equal(pthread_create(&t, NULL, feeder, &st), 0);
	while (got < STREAM_LEN &&
	       !__atomic_load_n(&st.stalled, __ATOMIC_ACQUIRE)) {
		if (!(rd(f, LSR) & LSR_DR))
			continue;
		assert_int_equal(rd(f, RBR), got * 31 % 251);
		got++;
	}
	pthread_join(t, NULL);
	assert_false(st.stalled);
	assert_int_equal(got, STREAM_LEN);
	assert_int_equal(rd(f, LSR) & (LSR_DR | LSR_OE), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(serial_reset_values_match_datasheet),
		T(serial_thr_bytes_reach_tx_callback_at_once),
		T(serial_dlab_maps_divisor_latch_over_rbr_thr_and_ier),
		T(serial_scratch_and_ier_keep_what_is_written),
		T(serial_received_bytes_read_in_order_with_dr),
		T(serial_without_fifo_holds_one_byte),
		T(serial_full_fifo_refuses_bytes_and_signals_space),
		T(serial_fifo_overrun_sets_oe_until_lsr_read),
		T(serial_iir_reports_sources_by_priority),
		T(serial_rx_trigger_level_separates_rda_from_timeout),
		T(serial_fcr_resets_and_fifo_toggle_empty_rx),
		T(serial_thre_interrupt_raised_when_etbei_enabled),
		T(serial_thre_interrupt_cleared_by_iir_read),
		T(serial_thre_interrupt_rearmed_by_thr_write),
		T(serial_thre_survives_iir_read_reporting_rx_data),
		T(serial_irq_line_follows_out2),
		T(serial_irq_line_quiet_with_interrupts_disabled),
		T(serial_loopback_returns_thr_bytes_to_rbr),
		T(serial_loopback_keeps_interrupts_off_the_line),
		T(serial_loopback_maps_mcr_outputs_to_msr_inputs),
		T(serial_msr_deltas_latch_until_read),
		T(serial_receiver_is_cut_off_in_loopback),
		T(serial_wide_access_splits_into_byte_registers),
		T(serial_serves_its_ports_on_a_pio_bus),
		T(serial_stream_with_backpressure_arrives_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
