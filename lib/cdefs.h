/*
 * cdefs.h — compiler attributes the library and its users share.
 */
#ifndef RP_CDEFS_H
#define RP_CDEFS_H

/*
 * A printf-like function: the format is argument f, its values start at
 * argument a (0 for a va_list).  Formats are C99's everywhere: on MinGW
 * the build uses MinGW's own stdio (__USE_MINGW_ANSI_STDIO=1, so %zu and
 * %lld work), and they are checked as such rather than as the Microsoft
 * CRT's, which is what GCC's plain "printf" means there.
 */
#ifdef __MINGW32__
#define RP_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#else
#define RP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#endif

#endif
