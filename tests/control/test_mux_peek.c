/* The multiplexer's look at a message's MsgType before the session parses it (the user's Logout
 * and the venue's Reject, control/ctl_mux.c): the same answer as memmem of "<SOH>35=c<SOH>"
 * over the first 32 bytes, which it replaced, at every position, every length, and among
 * SOHs that almost match. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

bool ctl_mux_head_has_type(const char *msg, size_t len, char c);

static bool by_memmem(const char *msg, size_t len, char c)
{
	char pat[6] = {'\001', '3', '5', '=', c, '\001'};
	return memmem(msg, len < 32 ? len : 32, pat, 6) != NULL;
}

/* The pattern (or a near miss of it) at every offset of buffers of every length up to 40. */
Test(mux_peek, agrees_with_memmem_at_every_offset_and_length)
{
	static const char *const variants[] = {"\00135=5\001", "\00135=3\001", "\00135=55\001",
					       "\00134=5\001", "\00135=5=", "\001135=5\001",
					       "35=5\001", "\00135=\001"};
	char buf[64];
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		size_t vl = strlen(variants[v]);
		for (size_t len = 0; len <= 40; len++) {
			for (size_t off = 0; off + vl <= 48; off++) {
				memset(buf, 'x', sizeof(buf));
				memcpy(buf + off, variants[v], vl);
				for (int k = 0; k < 2; k++) {
					char c = k ? '3' : '5';
					cr_assert_eq(ctl_mux_head_has_type(buf, len, c),
						     by_memmem(buf, len, c),
						     "variant %zu at %zu, length %zu, type %c", v,
						     off, len, c);
				}
			}
		}
	}
}

Test(mux_peek, agrees_with_memmem_on_real_headers_and_random_soh_runs)
{
	static const char *const msgs[] = {
		"8=FIX.4.4\0019=178\00135=D\00134=2\00149=alice\00152=20261126-12:00:00.000\001",
		"8=FIX.4.4\0019=60\00135=5\00134=7\00149=alice\00156=LMAX.Orders\001",
		"8=FIXT.1.1\0019=1234567\00135=3\00134=9\00149=LMAX\001",
		"8=FIXT.1.1\0019=1234567890123456\00135=5\00134=9\001", /* ends past byte 32 */
		"8=FIX.4.2\0019=5\00135=AE\00134=5\0015=5\001",
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		for (size_t len = 0; len <= strlen(msgs[i]); len++)
			for (char c = '0'; c <= '9'; c++)
				cr_assert_eq(ctl_mux_head_has_type(msgs[i], len, c),
					     by_memmem(msgs[i], len, c), "message %zu length %zu %c", i,
					     len, c);
	cr_assert(ctl_mux_head_has_type(msgs[1], strlen(msgs[1]), '5'));
	cr_assert(!ctl_mux_head_has_type(msgs[3], strlen(msgs[3]), '5'), "outside the window");
	/* Buffers made of SOH, '3', '5', '=' and the type: many candidates per window. */
	srand(7);
	static const char alphabet[] = "\00135=\0015";
	char buf[40];
	for (int n = 0; n < 200000; n++) {
		for (size_t j = 0; j < sizeof(buf); j++)
			buf[j] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		size_t len = (size_t)(rand() % 41);
		cr_assert_eq(ctl_mux_head_has_type(buf, len, '5'), by_memmem(buf, len, '5'),
			     "random buffer %d length %zu", n, len);
	}
}
