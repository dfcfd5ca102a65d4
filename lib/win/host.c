/*
 * host.c — machine and process facts on Windows (see host.h and
 * 70-windows.md "Identity on Windows"): image paths from
 * QueryFullProcessImageNameW, the boot id from the registry's BootId,
 * start times from GetProcessTimes, the executable hash remembered by
 * volume and file index.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

#include "blake3.h"
#include "host.h"
#include "io.h"
#include "names.h"
#include "servicedef.h"

/* 100 ns intervals from 1601-01-01 to 1970-01-01. */
#define EPOCH_DIFF 116444736000000000ULL

#define PATH_WMAX 32768

int
rp_host_machine_id(char *out, size_t outsz)
{
	wchar_t guid[64];
	DWORD size = sizeof(guid);
	LSTATUS r;

	r = RegGetValueW(HKEY_LOCAL_MACHINE,
	    L"SOFTWARE\\Microsoft\\Cryptography", L"MachineGuid",
	    RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY, NULL, guid, &size);
	if (r != ERROR_SUCCESS)
		return rp_win_fail_err((DWORD)r);
	if (rp_win_utf8_into(guid, out, outsz) < 0) {
		errno = ERANGE;
		return -1;
	}
	return (int)strlen(out);
}

int
rp_host_boot_id(char *out, size_t outsz)
{
	DWORD boot = 0, size = sizeof(boot);
	LSTATUS r;
	int n;

	if (outsz == 0) {
		errno = ERANGE;
		return -1;
	}
	r = RegGetValueW(HKEY_LOCAL_MACHINE,
	    L"SYSTEM\\CurrentControlSet\\Control\\Session Manager\\"
	    L"Memory Management\\PrefetchParameters", L"BootId",
	    RRF_RT_REG_DWORD, NULL, &boot, &size);
	if (r != ERROR_SUCCESS) {
		/* Not kept here (Wine): nobody can check it, and the
		 * identity says so by leaving it empty. */
		out[0] = '\0';
		return 0;
	}
	n = snprintf(out, outsz, "windows-boot-%lu", (unsigned long)boot);
	if (n < 0 || (size_t)n >= outsz) {
		out[0] = '\0';
		errno = ERANGE;
		return -1;
	}
	return n;
}

/* A process handle for pid (0: ourselves, never closed). */
static HANDLE
open_proc(uint32_t pid, DWORD access)
{
	HANDLE p;
	DWORD err;

	if (pid == 0 || pid == GetCurrentProcessId())
		return GetCurrentProcess();
	p = OpenProcess(access, FALSE, pid);
	if (p == NULL) {
		err = GetLastError();
		errno = err == ERROR_INVALID_PARAMETER ? ESRCH :
		    rp_win_errno(err);
	}
	return p;
}

static void
close_proc(HANDLE p)
{
	if (p != GetCurrentProcess())
		CloseHandle(p);
}

/* The image of pid as a wide path (malloc'd), or NULL with errno. */
static wchar_t *
image_path(uint32_t pid)
{
	HANDLE p = open_proc(pid, PROCESS_QUERY_LIMITED_INFORMATION);
	wchar_t *w;
	DWORD n = PATH_WMAX, err;

	if (p == NULL)
		return NULL;
	if ((w = malloc(PATH_WMAX * sizeof(*w))) == NULL) {
		close_proc(p);
		return NULL;
	}
	if (!QueryFullProcessImageNameW(p, 0, w, &n)) {
		err = GetLastError();
		close_proc(p);
		free(w);
		rp_win_fail_err(err);
		return NULL;
	}
	close_proc(p);
	return w;
}

int
rp_host_exe_path(uint32_t pid, char *out, size_t outsz)
{
	wchar_t *w = image_path(pid);
	int n;

	if (w == NULL)
		return -1;
	n = rp_win_utf8_into(w, out, outsz);
	free(w);
	return n;
}

int
rp_host_exe_open(uint32_t pid)
{
	wchar_t *w = image_path(pid);
	HANDLE h;

	if (w == NULL)
		return -1;
	/* A running image cannot be written or deleted (only renamed), so
	 * the path still names what runs. */
	h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE |
	    FILE_SHARE_DELETE, NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN,
	    NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE)
		return rp_win_fail();
	return rp_wfd_open(h, RP_WFD_PLAIN, 0);
}

int
rp_host_process_start_ms(uint32_t pid, uint64_t *out)
{
	HANDLE p = open_proc(pid, PROCESS_QUERY_LIMITED_INFORMATION);
	FILETIME created, ended, kernel, user;
	ULARGE_INTEGER u;
	DWORD err;

	if (p == NULL)
		return -1;
	if (!GetProcessTimes(p, &created, &ended, &kernel, &user)) {
		err = GetLastError();
		close_proc(p);
		return rp_win_fail_err(err);
	}
	close_proc(p);
	u.LowPart = created.dwLowDateTime;
	u.HighPart = created.dwHighDateTime;
	if (u.QuadPart < EPOCH_DIFF) {
		errno = EPROTO;
		return -1;
	}
	*out = (u.QuadPart - EPOCH_DIFF) / 10000;
	return 0;
}

uint32_t
rp_host_pid(void)
{
	return (uint32_t)GetCurrentProcessId();
}

uint32_t
rp_host_euid(void)
{
	return rp_win_sid_rid(rp_win_self_sid());
}

int
rp_servicedef_default_dir(char *out, size_t outsz, const char *flag_dir)
{
	const char *env = getenv("RUNNING_PROCESS_SERVICE_DEF_DIR");
	wchar_t w[MAX_PATH];
	char base[MAX_PATH * 3];
	DWORD n;
	int r;

	if (flag_dir != NULL && *flag_dir != '\0')
		return rp_servicedef_dir(out, outsz, flag_dir, NULL, NULL, NULL);
	if (env != NULL && *env != '\0')
		return rp_servicedef_dir(out, outsz, NULL, env, NULL, NULL);
	/* The roaming application data, as dirs::config_dir() finds it. */
	n = GetEnvironmentVariableW(L"APPDATA", w, MAX_PATH);
	if (n > 0 && n < MAX_PATH && rp_win_utf8_into(w, base,
	    sizeof(base)) > 0)
		r = snprintf(out, outsz, "%s\\running-process\\services", base);
	else
		r = snprintf(out, outsz,
		    "C:\\ProgramData\\running-process\\services");
	if (r < 0 || (size_t)r >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return r;
}

int
rp_host_broker_endpoint(char *out, size_t outsz, enum rp_isolation iso,
    const char *name)
{
	PSID sid = rp_win_self_sid();
	char hash[17];

	if (sid == NULL)
		return -1;
	rp_names_user_hash_sid(hash, (const uint8_t *)sid, GetLengthSid(sid));
	return rp_names_broker_pipe(out, outsz, hash, iso, name);
}

int
rp_host_user_hash(char out[17], const char *machine_id)
{
	PSID sid = rp_win_self_sid();

	(void)machine_id;
	if (sid == NULL)
		return -1;
	rp_names_user_hash_sid(out, (const uint8_t *)sid, GetLengthSid(sid));
	return 0;
}
