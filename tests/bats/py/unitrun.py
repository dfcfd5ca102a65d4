#!/usr/bin/env python3
"""unitrun — the example systemd units of examples/systemd/, checked and
run without systemd.

  unitrun.py check UNIT...
      A strict reading of each unit file: every section and key must be
      one of those listed below (each documented in systemd.unit(5),
      systemd.socket(5), systemd.service(5), systemd.exec(5) or
      systemd.kill(5)), with a value of the documented form; a key given
      twice, a missing ListenStream= or ExecStart=, or a Type= other than
      notify is an error.  This is what the tests check when
      systemd-analyze is not there (and as well when it is).

  unitrun.py run --socket S --service V [--bin-dir D] --ready FIFO --out F
      What the user's service manager does with them, as far as rp-broker
      can tell: the socket of S bound (its directory made with
      DirectoryMode=, the socket with SocketMode=) and listening; the
      ExecStart= of V run (its program taken from D when given) with that
      socket on fd 3, LISTEN_FDS=1, LISTEN_PID, NOTIFY_SOCKET, the UMask=
      and the StateDirectory= made; "ready PID" written to FIFO once
      READY=1 arrives; every notification written to F.  SIGHUP runs
      ExecReload= ($MAINPID set); SIGTERM stops the service as
      KillMode=mixed does (SIGTERM to the main process, SIGKILL to the
      process group after TimeoutStopSec=); then "exit N" goes to F and
      unitrun exits.  %t is $XDG_RUNTIME_DIR, %S $XDG_STATE_HOME.
"""
import os
import re
import select
import shlex
import signal
import socket
import sys
import time

BOOL = re.compile(r"^(yes|no|true|false|on|off|1|0)$")
OCTAL = re.compile(r"^0?[0-7]{3,4}$")
TIMESPAN = re.compile(r"^(infinity|\d+(\.\d+)?(us|ms|s|sec|m|min|h|hr)?"
                      r"( ?\d+(\.\d+)?(us|ms|s|sec|m|min|h|hr))*)$")
UNITS = re.compile(r"^([A-Za-z0-9:_.@-]+\.(socket|service|target))( \S+)*$")
ABSCMD = re.compile(r"^[-@:+!]*/\S+")
PATHSPEC = re.compile(r"^(/|%[tSh]/)\S+$")


def one_of(*words):
    return re.compile("^(" + "|".join(re.escape(w) for w in words) + ")$")


# Section -> key -> the form of its value (None: any text).
KEYS = {
    "Unit": {
        "Description": None,
        "Documentation": re.compile(r"^((man|https?|file|info):\S+ ?)+$"),
        "Requires": UNITS, "Wants": UNITS, "After": UNITS, "Before": UNITS,
    },
    "Socket": {
        "ListenStream": PATHSPEC,
        "SocketMode": OCTAL, "DirectoryMode": OCTAL,
        "RemoveOnStop": BOOL, "Accept": one_of("no", "false"),
    },
    "Service": {
        "Type": one_of("notify"),
        "ExecStart": ABSCMD, "ExecReload": ABSCMD,
        "StateDirectory": re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"),
        "KillMode": one_of("control-group", "mixed", "process", "none"),
        "TimeoutStopSec": TIMESPAN,
        "Restart": one_of("no", "on-success", "on-failure", "on-abnormal",
                          "on-watchdog", "on-abort", "always"),
        "RestartSec": TIMESPAN,
        "NotifyAccess": one_of("none", "main", "exec", "all"),
        "UMask": OCTAL,
        "NoNewPrivileges": BOOL, "LockPersonality": BOOL,
        "RestrictRealtime": BOOL, "RestrictSUIDSGID": BOOL,
        "MemoryDenyWriteExecute": BOOL,
        "RestrictNamespaces": re.compile(
            r"^(yes|no|true|false|~?((cgroup|ipc|net|mnt|pid|user|uts) ?)+)$"),
        "SystemCallArchitectures": re.compile(r"^(native|x86-64|x86|x32|"
                                              r"arm64|arm)( \S+)*$"),
        "RestrictAddressFamilies": re.compile(r"^(none|~?(AF_[A-Z0-9]+ ?)+)$"),
    },
    "Install": {"WantedBy": UNITS},
}


def parse(path):
    """[(section, key, value, lineno)], and the errors found reading."""
    out, errs, sec, buf, start = [], [], None, "", 0
    with open(path) as f:
        lines = f.read().split("\n")
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not buf and (not line or line[0] in "#;"):
            continue
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        line, buf = buf + line, ""
        m = re.match(r"^\[([A-Za-z]+)\]$", line)
        if m:
            sec = m.group(1)
            if sec not in KEYS:
                errs.append("%s:%d: unknown section [%s]" % (path, start, sec))
            continue
        m = re.match(r"^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*)$", line)
        if not m or sec is None:
            errs.append("%s:%d: not a key=value line in a section" % (path, start))
            continue
        out.append((sec, m.group(1), m.group(2), start))
    return out, errs


def check(path):
    items, errs = parse(path)
    seen = set()
    for sec, key, val, n in items:
        form = KEYS.get(sec, {})
        if key not in form:
            errs.append("%s:%d: unknown key %s in [%s]" % (path, n, key, sec))
            continue
        if (sec, key) in seen:
            errs.append("%s:%d: %s given twice" % (path, n, key))
        seen.add((sec, key))
        if form[key] is not None and not form[key].match(val):
            errs.append("%s:%d: %s=%s is not of its documented form" %
                        (path, n, key, val))
    if path.endswith(".socket") and ("Socket", "ListenStream") not in seen:
        errs.append("%s: no ListenStream=" % path)
    if path.endswith(".service"):
        for key in ("Type", "ExecStart"):
            if ("Service", key) not in seen:
                errs.append("%s: no %s=" % (path, key))
    return errs


def values(path):
    items, errs = parse(path)
    if errs:
        sys.exit("\n".join(errs))
    return {(s, k): v for s, k, v, _ in items}


def expand(s):
    state = os.environ.get("XDG_STATE_HOME") or \
        os.path.join(os.environ["HOME"], ".local/state")
    return (s.replace("%t", os.environ["XDG_RUNTIME_DIR"])
            .replace("%S", state).replace("%%", "%"))


def timespan(s):
    m = re.match(r"^(\d+)(s|sec|ms|min|m)?$", s)
    mult = {"ms": 0.001, "min": 60, "m": 60}.get(m.group(2), 1)
    return int(m.group(1)) * mult


def run(a):
    sock_u, svc = values(a.socket), values(a.service)
    path = expand(sock_u[("Socket", "ListenStream")])
    os.makedirs(os.path.dirname(path),
                mode=int(sock_u.get(("Socket", "DirectoryMode"), "0755"), 8),
                exist_ok=True)
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    os.chmod(path, int(sock_u.get(("Socket", "SocketMode"), "0666"), 8))
    lst.listen(128)
    note_path = os.path.join(os.environ["XDG_RUNTIME_DIR"], "notify.sock")
    note = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    note.bind(note_path)
    if ("Service", "StateDirectory") in svc:
        os.makedirs(expand("%S/" + svc[("Service", "StateDirectory")]),
                    mode=0o755, exist_ok=True)
    argv = [expand(w) for w in shlex.split(svc[("Service", "ExecStart")])]
    if a.bin_dir:
        argv[0] = os.path.join(a.bin_dir, os.path.basename(argv[0]))
    umask = int(svc.get(("Service", "UMask"), "0022"), 8)
    stop_after = timespan(svc.get(("Service", "TimeoutStopSec"), "90s"))

    pid = os.fork()
    if pid == 0:
        os.dup2(lst.fileno(), 3)
        os.set_inheritable(3, True)
        os.umask(umask)
        env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()),
                   NOTIFY_SOCKET=note_path)
        os.setpgid(0, 0)
        os.execve(argv[0], argv, env)
    flags = {"hup": False, "term": False}
    signal.signal(signal.SIGHUP, lambda *_: flags.__setitem__("hup", True))
    signal.signal(signal.SIGTERM, lambda *_: flags.__setitem__("term", True))
    out = open(a.out, "a", buffering=1)
    ready_sent, deadline, status = False, time.monotonic() + 10, None
    while status is None:
        try:
            r, _, _ = select.select([note], [], [], 0.05)
        except InterruptedError:
            r = []
        if r:
            msg = note.recv(4096).decode()
            out.write(msg + "\n")
            if "READY=1" in msg.split("\n") and not ready_sent:
                with open(a.ready, "w") as f:
                    f.write("ready %d\n" % pid)
                ready_sent = True
        if not ready_sent and time.monotonic() > deadline:
            out.write("no READY=1 in 10 s\n")
            os.killpg(pid, signal.SIGKILL)
        if flags["hup"]:
            flags["hup"] = False
            cmd = svc[("Service", "ExecReload")].replace("$MAINPID", str(pid))
            os.spawnv(os.P_WAIT, shlex.split(cmd)[0], shlex.split(cmd))
        if flags["term"]:
            flags["term"] = False
            # KillMode=mixed: the main process alone, then everyone.
            os.kill(pid, signal.SIGTERM)
            end = time.monotonic() + stop_after
            while time.monotonic() < end:
                w, st = os.waitpid(pid, os.WNOHANG)
                if w == pid:
                    status = st
                    break
                r, _, _ = select.select([note], [], [], 0.05)
                if r:
                    out.write(note.recv(4096).decode() + "\n")
            else:
                out.write("TimeoutStopSec passed: SIGKILL\n")
                os.killpg(pid, signal.SIGKILL)
        if status is None:
            w, st = os.waitpid(pid, os.WNOHANG)
            if w == pid:
                status = st
    while True:
        r, _, _ = select.select([note], [], [], 0)
        if not r:
            break
        out.write(note.recv(4096).decode() + "\n")
    try:
        os.killpg(pid, signal.SIGKILL)   # whatever of the unit is left
    except ProcessLookupError:
        pass
    out.write("exit %d\n" % (os.waitstatus_to_exitcode(status)))
    if not ready_sent:
        with open(a.ready, "w") as f:
            f.write("failed\n")
    return 0


def main(argv):
    import argparse
    p = argparse.ArgumentParser(prog="unitrun")
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("check")
    q.add_argument("units", nargs="+")
    q = sub.add_parser("run")
    q.add_argument("--socket", required=True)
    q.add_argument("--service", required=True)
    q.add_argument("--bin-dir")
    q.add_argument("--ready", required=True)
    q.add_argument("--out", required=True)
    a = p.parse_args(argv)
    if a.cmd == "check":
        errs = [e for u in a.units for e in check(u)]
        for e in errs:
            print(e)
        return 1 if errs else 0
    return run(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
