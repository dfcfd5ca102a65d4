/*
 * main.c — the entry point of every program built for Windows (linked
 * with -municode): the command line as UTF-16 (CommandLineToArgvW's
 * reading of it, which is the C runtime's), each argument converted to
 * UTF-8 for the program's own main().  Programs stay as they are on POSIX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#include "win.h"

int main(int argc, char **argv);
int wmain(int argc, wchar_t **wargv);

int
wmain(int argc, wchar_t **wargv)
{
	char **argv;
	int i;

	if (argc < 0 || (argv = calloc((size_t)argc + 1, sizeof(*argv))) ==
	    NULL) {
		fputs("out of memory for the command line\n", stderr);
		return 125;
	}
	for (i = 0; i < argc; i++) {
		if ((argv[i] = rp_win_utf8(wargv[i])) == NULL) {
			fprintf(stderr, "argument %d is not valid UTF-16\n", i);
			return 125;
		}
	}
	/* argv lives as long as the process, as the runtime's own does. */
	return main(argc, argv);
}
