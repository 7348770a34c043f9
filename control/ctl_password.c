/* control: salted password hashes for user logons. libxcrypt's crypt(3) (yescrypt by default,
 * the algorithm Debian uses for /etc/shadow) does the hashing: a well-kept, audited library
 * beats anything written here. Start-up and logon (control path) only.
 */
#include "ctl_config.h"

#include <crypt.h>
#include <string.h>

int ctl_password_hash(const char *pass, char *out, size_t out_cap)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data;
	/* NULL prefix: the library's preferred method; NULL random bytes: it reads its own from the
	 * kernel. */
	if (!crypt_gensalt_rn(NULL, 0, NULL, 0, salt, sizeof(salt)))
		return -1;
	memset(&data, 0, sizeof(data));
	const char *h = crypt_r(pass, salt, &data);
	if (!h || h[0] == '*' || strlen(h) >= out_cap)
		return -1;
	strcpy(out, h);
	return 0;
}

bool ctl_password_check(const char *hash, const char *pass, size_t pass_len)
{
	char buf[CRYPT_MAX_PASSPHRASE_SIZE + 1];
	struct crypt_data data;
	if (pass_len >= sizeof(buf) || memchr(pass, '\0', pass_len))
		return false;
	memcpy(buf, pass, pass_len);
	buf[pass_len] = '\0';
	memset(&data, 0, sizeof(data));
	const char *h = crypt_r(buf, hash, &data);
	memset(buf, 0, sizeof(buf));
	if (!h || h[0] == '*')
		return false;
	size_t n = strlen(hash);
	if (strlen(h) != n)
		return false;
	/* Compare every byte whatever the first difference: no timing hint for an attacker. */
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(h[i] ^ hash[i]);
	return diff == 0;
}
