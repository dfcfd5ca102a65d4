/*
 * fuzz_openmetrics — OpenMetrics text (a broker's METRICS body, which a
 * hostile broker chooses) into Prometheus text: never a crash or a read
 * past the input; on success only whole lines, none of the OpenMetrics-
 * only ones (# EOF, # UNIT), no NUL; on failure EINVAL or ENOMEM, a
 * reason, and the output's length as it was.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "openmetrics.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_buf out = { 0 };
	char why[256], *copy, *line, *end;
	int r;

	/* Exactly size bytes, so that ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	CHECK(rp_buf_puts(&out, "head\n") == 0);
	r = rp_openmetrics_to_prometheus(copy, size, &out, why, sizeof(why));
	if (r != 0) {
		CHECK(errno == EINVAL || errno == ENOMEM);
		CHECK(why[0] != '\0' || errno == ENOMEM);
		CHECK(out.len == 5);
	} else {
		CHECK(out.len >= 5);
		CHECK(memchr(out.data, '\0', out.len) == NULL);
		CHECK(out.data[out.len - 1] == '\n');
		line = (char *)out.data;
		end = line + out.len;
		while (line < end) {
			char *nl = memchr(line, '\n', (size_t)(end - line));

			CHECK(nl != NULL);
			CHECK(nl > line);       /* no empty line */
			CHECK(!(nl - line == 5 && memcmp(line, "# EOF", 5) == 0));
			CHECK(!(nl - line >= 7 && memcmp(line, "# UNIT ", 7) == 0));
			line = nl + 1;
		}
	}
	rp_buf_free(&out);
	free(copy);
	return 0;
}
