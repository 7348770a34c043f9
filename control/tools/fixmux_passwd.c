/* fixmux-passwd: prints a salted hash for a user's password_hash key.
 * The password is read from standard input (one line), never from the command line, so it
 * does not end up in shell history or in the process list.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl_config.h"

int main(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: %s < password-file   (or type the password and press Enter)\n"
				"prints a password_hash value for a [user] section of fixmux.ini\n",
			argv[0]);
		return 2;
	}
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "password: ");
	char line[512];
	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "fixmux-passwd: no password on standard input\n");
		return 1;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0') {
		fprintf(stderr, "fixmux-passwd: refusing an empty password\n");
		return 1;
	}
	char hash[CTL_TEXT_MAX];
	if (ctl_password_hash(line, hash, sizeof(hash)) != 0) {
		fprintf(stderr, "fixmux-passwd: hashing failed\n");
		return 1;
	}
	memset(line, 0, sizeof(line));
	printf("%s\n", hash);
	return 0;
}
