/*
 * check.h — what every fuzz target shares: the libFuzzer entry point it
 * defines (replay.c calls it when built without libFuzzer) and CHECK, an
 * assertion that stays on in every build and aborts, so that libFuzzer and
 * the replays alike see a failed property as a crash.
 */
#ifndef RP_FUZZ_CHECK_H
#define RP_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                        \
	do {                                                            \
		if (!(c)) {                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n",    \
			    __FILE__, __LINE__, #c);                    \
			abort();                                        \
		}                                                       \
	} while (0)

#endif
