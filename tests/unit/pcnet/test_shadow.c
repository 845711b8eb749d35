// SPDX-License-Identifier: MIT
/*
 * The register shadow (pcnet_shadow()): what a VMM answers for the chip
 * must be what the chip would answer, in every layout and for every
 * register the shadow lists, and a CSR0 read answered from it must leave
 * the late acknowledge working (pcnet_shadow_note()).
 */
#include <stdlib.h>

#include "harness.h"

#define T(f) cmocka_unit_test_setup_teardown(f, bench_setup, bench_teardown)

static const uint8_t peer[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

/* The entry a read of @off/@size with RAP = @rap matches, or NULL. */
static const struct pcnet_shadow_reg *find(const struct pcnet_shadow *sh,
					   uint32_t off, unsigned int size,
					   unsigned int rap)
{
	for (unsigned int i = 0; i < sh->n; i++) {
		const struct pcnet_shadow_reg *r = &sh->reg[i];

		if (r->offset == off && r->size == size &&
		    (!r->indexed || r->rap == rap))
			return r;
	}
	return NULL;
}

/* As find(), failing the test if there is none. */
static const struct pcnet_shadow_reg *must_find(const struct pcnet_shadow *sh,
						uint32_t off, unsigned int size,
						unsigned int rap)
{
	static const struct pcnet_shadow_reg none;
	const struct pcnet_shadow_reg *r = find(sh, off, size, rap);

	if (!r) {
		fail_msg("no entry for offset 0x%x size %u RAP %u", off, size, rap);
		return &none;
	}
	return r;
}

/*
 * For each RAP value: select it, take the shadow, and compare every
 * entry that holds for it with a real read (which comes after, so that
 * a read's own effect cannot feed the shadow).
 */
static unsigned int compare_all(struct bench *b, unsigned int size)
{
	uint32_t rap_port = size == 4 ? 0x14 : 0x12;
	unsigned int checked = 0;

	for (unsigned int rap = 0; rap < 128; rap++) {
		struct pcnet_shadow sh;

		pcnet_io_write(b->dev, rap_port, size, rap);
		pcnet_shadow(b->dev, &sh);
		assert_int_equal(sh.rap.offset, rap_port);
		assert_int_equal(sh.rap.size, size);
		assert_int_equal(sh.rap.value, rap);
		assert_true(sh.n <= PCNET_SHADOW_MAX);
		for (unsigned int i = 0; i < sh.n; i++) {
			const struct pcnet_shadow_reg *r = &sh.reg[i];

			assert_int_equal(r->size, size);
			assert_true(r->indexed);
			if (r->rap != rap)
				continue;
			if (r->offset == (size == 4 ? 0x1cu : 0x16u))
				assert_int_not_equal(rap, 34);	/* the PHY */
			assert_int_equal(r->value,
					 pcnet_io_read(b->dev, r->offset, size));
			assert_int_equal(pcnet_io_read(b->dev, rap_port, size),
					 rap);
			checked++;
		}
		/* RDP and BDP at the RAP now, but BDP at BCR34. */
		assert_non_null(find(&sh, 0x10, size, rap));
		if (rap == 34)
			assert_null(find(&sh, size == 4 ? 0x1c : 0x16, size, rap));
		else
			assert_non_null(find(&sh, size == 4 ? 0x1c : 0x16, size, rap));
	}
	return checked;
}

static void pcnet_shadow_answers_as_reads_do_in_wio_and_dwio(void **s)
{
	struct bench *b = *s;
	struct pcnet_shadow sh;

	/* Some state worth reading: a running chip with rings and a frame. */
	chip_start(b, 2, 0);
	csr_w(b, 4, 0x0915);
	assert_true(compare_all(b, 2) >= 128 * 2 - 1);

	/* DWIO: other offsets and sizes, CSR88 with CSR89 above it. */
	pcnet_io_write(b->dev, 0x10, 4, 0);
	compare_all(b, 4);
	pcnet_io_write(b->dev, 0x14, 4, 88);
	pcnet_shadow(b->dev, &sh);
	assert_int_equal(must_find(&sh, 0x10, 4, 88)->value, 0x02621003u);
	/* No WIO entries once in DWIO: those reads reach nothing. */
	assert_null(find(&sh, 0x10, 2, 0));
	assert_int_equal(sh.rap.offset, 0x14);
}

static void pcnet_shadow_csr0_asks_to_be_told_and_the_rest_does_not(void **s)
{
	struct bench *b = *s;
	struct pcnet_shadow sh;

	chip_start(b, 2, 0);
	wio_w(b, 0x12, 58);
	pcnet_shadow(b->dev, &sh);
	for (unsigned int i = 0; i < sh.n; i++)
		assert_int_equal(sh.reg[i].note,
				 sh.reg[i].offset == 0x10 && sh.reg[i].rap == 0);
	assert_true(must_find(&sh, 0x10, 2, 0)->note);
	assert_non_null(find(&sh, 0x10, 2, 3));
	assert_non_null(find(&sh, 0x10, 2, 4));
	assert_non_null(find(&sh, 0x10, 2, 58));
}

static void send_one(struct bench *b, uint32_t idx)
{
	uint8_t f[64];

	make_frame(f, peer, sizeof(f), (uint8_t)idx);
	send_frame(b, idx, f, sizeof(f));
}

/*
 * pcnet32's handler reads CSR0 and acknowledges with what it read; the
 * read answered from the shadow, the chip learns of it from the note.  A
 * TINT raised after the snapshot the answer came from was not seen: the
 * acknowledge must spare it, one raised before it is taken.
 */
static void pcnet_shadow_note_makes_the_late_acknowledge_spare_unseen_tint(void **s)
{
	struct bench *b = *s;
	const struct pcnet_shadow_reg *r;
	struct pcnet_shadow sh;
	uint32_t seen, token;

	chip_start(b, 2, 0);
	send_one(b, 0);
	assert_int_equal(b->ntx, 1);
	wio_w(b, 0x12, 0);
	pcnet_shadow(b->dev, &sh);
	r = must_find(&sh, 0x10, 2, 0);
	seen = r->value;
	token = r->token;
	assert_true(seen & CSR0_TINT);
	/* Another frame completes before the note and the ack arrive. */
	send_one(b, 1);
	assert_int_equal(b->ntx, 2);
	pcnet_shadow_note(b->dev, seen, token);
	csr_w(b, 0, (uint16_t)(seen & ~0x004fu));
	assert_true(csr_r(b, 0) & CSR0_TINT);

	/* Answered from an up-to-date snapshot, the acknowledge takes it. */
	pcnet_shadow(b->dev, &sh);
	r = must_find(&sh, 0x10, 2, 0);
	pcnet_shadow_note(b->dev, r->value, r->token);
	csr_w(b, 0, (uint16_t)(r->value & ~0x004fu));
	assert_false(csr_r(b, 0) & CSR0_TINT);
	assert_int_equal(b->irq, 0);
}

/* Every entry of @a has the same answer in @b. */
static void same_answers(const struct pcnet_shadow *a, const struct pcnet_shadow *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->rap.value, b->rap.value);
	for (unsigned int i = 0; i < a->n; i++) {
		const struct pcnet_shadow_reg *r = &a->reg[i];

		assert_int_equal(must_find(b, r->offset, r->size, r->rap)->value,
				 r->value);
	}
}

/*
 * The core answers CSR0 reads across a queued write the shadow calls
 * quiet (a driver's TDMD kick): such a write must change no answer in
 * any state, and the rule must not take in a write that does (IENA
 * turned over, an acknowledge).  Nothing is queued to send, so the
 * transmit poll TDMD starts finds nothing: only the write's own effect
 * is looked at.
 */
static void pcnet_shadow_quiet_writes_to_csr0_change_no_answer(void **s)
{
	struct bench *b = *s;
	struct pcnet_shadow before, after;
	const struct pcnet_shadow_reg *r;

	chip_start(b, 2, 0);
	send_one(b, 0);		/* TINT pending: an acknowledge would clear it */
	for (unsigned int round = 0; round < 4; round++) {
		uint16_t iena = round & 1 ? CSR0_IENA : 0, mask, value;
		unsigned int rap = round & 2 ? 4 : 0;

		csr_w(b, 0, iena);
		wio_w(b, 0x12, (uint16_t)rap);
		pcnet_shadow(b->dev, &before);
		for (unsigned int i = 0; i < before.n; i++)
			if (before.reg[i].rap != 0)
				assert_int_equal(before.reg[i].quiet_mask |
						 before.reg[i].quiet_value, 0);
		r = must_find(&before, 0x10, 2, 0);
		mask = r->quiet_mask;
		value = r->quiet_value;
		assert_int_equal(mask, CSR0_TDMD);
		assert_int_equal(value, iena);
		assert_true(r->value & CSR0_TINT);
		for (uint32_t v = 0; v <= 0xffff; v++) {
			if ((v & (uint32_t)~mask) != value)
				continue;
			csr_w(b, 0, (uint16_t)v);
			wio_w(b, 0x12, (uint16_t)rap);
			pcnet_shadow(b->dev, &after);
			same_answers(&before, &after);
		}
		/* Outside the rule: IENA turned over, TINT acknowledged. */
		assert_int_not_equal((value ^ CSR0_IENA) & ~mask, value);
		assert_int_not_equal((value | CSR0_TINT) & ~mask, value);
		csr_w(b, 0, value | CSR0_TINT);
		assert_false(csr_r(b, 0) & CSR0_TINT);
		send_one(b, round + 1);	/* TINT again for the next round */
	}
	assert_int_equal(b->ntx, 5);
}

/* ---------------------------------------- regs_changed and INTA# order */

static struct {
	struct bench *b;
	unsigned int calls;
	uint32_t csr0;		/* as the last regs_changed saw it */
	unsigned int rises_seen_stale;
} hook;

static void hook_regs_changed(void *opaque)
{
	struct pcnet_shadow sh;
	const struct pcnet_shadow_reg *r;

	(void)opaque;
	hook.calls++;
	if (!hook.b->dev)
		return;
	pcnet_shadow(hook.b->dev, &sh);
	r = must_find(&sh, 0x10, sh.rap.size, 0);
	hook.csr0 = r->value;
}

static void hook_set_irq(void *opaque, int level)
{
	/* What the handler's read would be answered: INTR already there. */
	if (level && !(hook.csr0 & CSR0_INTR))
		hook.rises_seen_stale++;
	bench_ops()->set_irq(opaque, level);
}

static void pcnet_shadow_is_published_before_intr_rises(void **s)
{
	struct bench *b = *s;
	static struct pcnet_ops ops;
	struct pcnet_config cfg = { .mem = &b->mem };

	ops = *bench_ops();
	ops.regs_changed = hook_regs_changed;
	ops.set_irq = hook_set_irq;
	memcpy(cfg.mac, b->mac, 6);
	pcnet_destroy(b->dev);
	b->dev = NULL;
	memset(&hook, 0, sizeof(hook));
	hook.b = b;
	assert_int_equal(pcnet_create(&b->dev, &b->st, &cfg, &ops, b, 0), 0);

	chip_start(b, 2, 0);
	b->irq_rises = 0;
	send_one(b, 0);
	assert_int_equal(b->irq_rises, 1);
	assert_int_equal(hook.rises_seen_stale, 0);
	assert_true(hook.csr0 & CSR0_TINT);
	/* Every entry point ends with one, so a poller never reads stale. */
	hook.calls = 0;
	(void)wio_r(b, 0x12);
	assert_true(hook.calls >= 1);
	hook.calls = 0;
	assert_int_equal(recv_frame(b, (const uint8_t[60]){ 0xff, 0xff, 0xff,
							   0xff, 0xff, 0xff },
				    60), PCNET_RX_DELIVERED);
	assert_true(hook.calls >= 1);
	assert_true(hook.csr0 & CSR0_RINT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(pcnet_shadow_answers_as_reads_do_in_wio_and_dwio),
		T(pcnet_shadow_csr0_asks_to_be_told_and_the_rest_does_not),
		T(pcnet_shadow_note_makes_the_late_acknowledge_spare_unseen_tint),
		T(pcnet_shadow_quiet_writes_to_csr0_change_no_answer),
		T(pcnet_shadow_is_published_before_intr_rises),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
