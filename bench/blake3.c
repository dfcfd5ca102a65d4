/*
 * bench/blake3 FILE [N [IMPL]] — hash FILE N times (default 5) with
 * rp_blake3_file, using implementation IMPL (default: the best this CPU
 * has), and print one line:
 *
 *   <best seconds> <MB/s of the best run> <impl> <hex digest>
 *
 * MB is 10^6 bytes.  Used by bench/blake3.sh, which compares the figure
 * with b3sum's in the same run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blake3.h"
#include "deadline.h"

int
main(int argc, char **argv)
{
	uint8_t d[32];
	struct stat st;
	int64_t t0, t, best = INT64_MAX;
	unsigned long n = 5;
	char *end;
	unsigned long i;
	int k;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: blake3 FILE [N [IMPL]]\n");
		return 2;
	}
	if (argc > 2) {
		errno = 0;
		n = strtoul(argv[2], &end, 10);
		if (errno != 0 || *end != '\0' || n == 0 || n > 10000) {
			fprintf(stderr, "blake3: bad count: %s\n", argv[2]);
			return 2;
		}
	}
	if (argc > 3 && rp_blake3_set_impl(argv[3]) < 0) {
		fprintf(stderr, "blake3: implementation %s: %s\n", argv[3],
		    strerror(errno));
		return 2;
	}
	if (stat(argv[1], &st) < 0) {
		fprintf(stderr, "blake3: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		t0 = rp_now_ns();
		if (rp_blake3_file(argv[1], d) < 0) {
			fprintf(stderr, "blake3: %s: %s\n", argv[1],
			    strerror(errno));
			return 1;
		}
		t = rp_now_ns() - t0;
		if (t < best)
			best = t;
	}
	if (best < 1)
		best = 1;
	printf("%.6f %.1f %s ", (double)best / 1e9,
	    (double)st.st_size / ((double)best / 1e9) / 1e6,
	    rp_blake3_impl());
	for (k = 0; k < 32; k++)
		printf("%02x", d[k]);
	printf("\n");
	return 0;
}
