// SPDX-License-Identifier: MIT
/*
 * A small printf: enough for register dumps and test output, no floats.
 */
#include "guest.h"

struct out {
	bool serial;		/* straight to the serial port, else buf */
	char *buf;
	size_t size;
	size_t len;		/* characters produced, stored or not */
};

struct spec {
	bool left;
	bool zero;
	int width;
	int precision;		/* -1: none */
};

static void put(struct out *o, char c)
{
	if (o->serial)
		serial_putc(c);
	else if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, int n, char c)
{
	while (n-- > 0)
		put(o, c);
}

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
	size_t n;

	if (!s)
		s = "(null)";
	n = sp->precision >= 0 ? strnlen(s, (size_t)sp->precision) : strlen(s);
	if (!sp->left)
		pad(o, sp->width - (int)n, ' ');
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, sp->width - (int)n, ' ');
}

static void put_num(struct out *o, uint64_t v, bool neg, unsigned int base,
		    bool upper, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + neg;
	if (!sp->left && !sp->zero)
		pad(o, sp->width - len, ' ');
	if (neg)
		put(o, '-');
	if (!sp->left && sp->zero)
		pad(o, sp->width - len, '0');
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, sp->width - len, ' ');
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .precision = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + *f++ - '0';
	if (*f == '.') {
		sp->precision = 0;
		for (f++; *f >= '0' && *f <= '9'; f++)
			sp->precision = sp->precision * 10 + *f - '0';
	}
	return f;
}

/* Length modifiers: 0 int, 1 long, 2 long long, -1 short, -2 char. */
static const char *parse_length(const char *f, int *len)
{
	*len = 0;
	if (*f == 'h') {
		*len = f[1] == 'h' ? -2 : -1;
		return f + (f[1] == 'h' ? 2 : 1);
	}
	if (*f == 'l') {
		*len = f[1] == 'l' ? 2 : 1;
		return f + (f[1] == 'l' ? 2 : 1);
	}
	if (*f == 'z') {
		*len = 1;
		return f + 1;
	}
	return f;
}

static uint64_t arg_unsigned(va_list *ap, int len)
{
	switch (len) {
	case -2:
		return (unsigned char)va_arg(*ap, unsigned int);
	case -1:
		return (unsigned short)va_arg(*ap, unsigned int);
	case 0:
		return va_arg(*ap, unsigned int);
	case 1:
		return va_arg(*ap, unsigned long);
	default:
		return va_arg(*ap, unsigned long long);
	}
}

static int64_t arg_signed(va_list *ap, int len)
{
	switch (len) {
	case -2:
		return (signed char)va_arg(*ap, int);
	case -1:
		return (short)va_arg(*ap, int);
	case 0:
		return va_arg(*ap, int);
	case 1:
		return va_arg(*ap, long);
	default:
		return va_arg(*ap, long long);
	}
}

static void format(struct out *o, const char *f, va_list ap0)
{
	struct spec sp;
	va_list ap;
	int len;

	va_copy(ap, ap0);
	for (; *f; f++) {
		if (*f != '%') {
			put(o, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &ap);
		f = parse_length(f, &len);
		switch (*f) {
		case 'd':
		case 'i': {
			int64_t v = arg_signed(&ap, len);

			put_num(o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0,
				10, false, &sp);
			break;
		}
		case 'u':
			put_num(o, arg_unsigned(&ap, len), false, 10, false, &sp);
			break;
		case 'x':
		case 'X':
			put_num(o, arg_unsigned(&ap, len), false, 16, *f == 'X',
				&sp);
			break;
		case 'p':
			put(o, '0');
			put(o, 'x');
			put_num(o, (uintptr_t)va_arg(ap, void *), false, 16,
				false, &sp);
			break;
		case 's':
			put_str(o, va_arg(ap, const char *), &sp);
			break;
		case 'c':
			put(o, (char)va_arg(ap, int));
			break;
		case '%':
			put(o, '%');
			break;
		default:	/* unknown: print it, and stop if at the end */
			put(o, '%');
			if (!*f)
				goto out;
			put(o, *f);
		}
	}
out:
	va_end(ap);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size };

	format(&o, fmt, ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	struct out o = { .serial = true };

	format(&o, fmt, ap);
	return (int)o.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}
