#!/usr/bin/python3
"""brokerwire.py — a raw-bytes v1 client of rp-broker for the bats suites.

An independent peer: it speaks the framing and the protobuf messages with
Python's protobuf classes, generated at test time from proto/rp_v1.proto
(rp_pb_setup in endpoint.bash puts them on PYTHONPATH), and plain sockets,
so the broker's tests do not depend on our own C client code.

Every subcommand prints one JSON document on stdout describing what came
back (a decoded reply, or "eof": the broker closed without a byte).
"""

import argparse
import array
import json
import os
import select
import socket
import struct
import sys
import time

if os.environ.get("RP_PB_DIR"):
    sys.path.insert(0, os.environ["RP_PB_DIR"])
import rp_v1_pb2 as pb  # noqa: E402  (generated at test time)

CONTROL = 0x0000
ADMIN = 0xAD01


def frame_bytes(body):
    return b"\x01" + struct.pack("<I", len(body)) + body


def frame(payload=b"", protocol=CONTROL, kind=0, request_id=0,
          encoding=0, envelope=1, traceparent="", tracestate="",
          deadline=0):
    f = pb.Frame(envelope_version=envelope, kind=kind,
                 payload_protocol=protocol, payload=payload,
                 request_id=request_id, payload_encoding=encoding,
                 traceparent=traceparent, tracestate=tracestate,
                 deadline_unix_ms=deadline)
    return frame_bytes(f.SerializeToString())


def hello(service="echo", version="1.0.0", minp=1, maxp=1, **kw):
    h = pb.Hello(client_min_protocol=minp, client_max_protocol=maxp,
                 service_name=service, wanted_version=version, **kw)
    return h.SerializeToString()


def connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            return out
        out += chunk
    return out


def read_reply(s):
    """One frame body, or None on EOF before a header."""
    try:
        hdr = recv_exact(s, 5)
    except ConnectionResetError:
        return None
    if len(hdr) == 0:
        return None
    if len(hdr) < 5 or hdr[0] != 1:
        raise SystemExit("bad reply header %r" % hdr)
    n = struct.unpack("<I", hdr[1:])[0]
    body = recv_exact(s, n)
    if len(body) != n:
        raise SystemExit("short reply body")
    return body


def describe(body):
    if body is None:
        return {"eof": True}
    f = pb.Frame()
    f.ParseFromString(body)
    out = {"eof": False, "envelope_version": f.envelope_version,
           "kind": f.kind, "payload_protocol": f.payload_protocol,
           "request_id": f.request_id, "encoding": f.payload_encoding,
           "deadline_unix_ms": f.deadline_unix_ms,
           "traceparent": f.traceparent, "tracestate": f.tracestate}
    if f.payload_protocol == ADMIN:
        r = pb.AdminReply()
        r.ParseFromString(f.payload)
        out.update({"result": "admin", "admin_kind": r.kind,
                    "exit_code": r.exit_code,
                    "content_type": r.content_type, "body": r.body})
        return out
    r = pb.HelloReply()
    r.ParseFromString(f.payload)
    which = r.WhichOneof("result")
    if which == "negotiated":
        n = r.negotiated
        out.update({"result": "negotiated",
                    "negotiated_protocol": n.negotiated_protocol,
                    "daemon_version": n.daemon_version,
                    "backend_pipe": n.backend_pipe,
                    "warnings": list(n.warnings),
                    "server_capabilities": n.server_capabilities,
                    "keepalive_interval_secs": n.keepalive_interval_secs,
                    "handle_passed_token": n.handle_passed_token.hex(),
                    "connection_id": n.connection_id})
    elif which == "refused":
        x = r.refused
        out.update({"result": "refused", "code": x.code,
                    "reason": x.reason, "retry_after_ms": x.retry_after_ms,
                    "daemon_min_protocol": x.daemon_min_protocol,
                    "daemon_max_protocol": x.daemon_max_protocol,
                    "details": dict(x.details)})
    else:
        out["result"] = "empty"
    return out


def exchange(path, data, shut_wr=False, timeout=10.0):
    s = connect(path, timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if shut_wr:
            s.shutdown(socket.SHUT_WR)
        return describe(read_reply(s))
    finally:
        s.close()


# ------------------------------------------------ exact bytes (conformance)
#
# What running-process v1 answers, built here with the protobuf classes
# (fields in number order, defaults left out: what prost writes), so that a
# test compares the broker's bytes with bytes our C encoder never made.

def reply_frame(payload, protocol=CONTROL, request_id=0, traceparent="",
                tracestate=""):
    f = pb.Frame(envelope_version=1, kind=1, payload_protocol=protocol,
                 payload=payload, request_id=request_id,
                 traceparent=traceparent, tracestate=tracestate)
    return frame_bytes(f.SerializeToString())


def refused_frame(code, reason, retry=0, **echo):
    r = pb.HelloReply(refused=pb.Refused(
        reason=reason, daemon_min_protocol=1, daemon_max_protocol=1,
        code=code, retry_after_ms=retry))
    return reply_frame(r.SerializeToString(), **echo)


def admin_reply_frame(kind, body, exit_code, content_type, **echo):
    r = pb.AdminReply(kind=kind, body=body, exit_code=exit_code,
                      content_type=content_type)
    return reply_frame(r.SerializeToString(), protocol=ADMIN, **echo)


def talk(path, data, shut_wr=False, timeout=20.0):
    """Send data (all of it: the broker must read it), maybe half-close,
    then read to the end.  Returns (bytes, how): how is "eof" for a clean
    end, "reset" when the connection was reset, "send-failed" when the
    broker stopped reading before all of data went."""
    s = connect(path, timeout)
    how = "eof"
    out = b""
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            how = "send-failed"
        if shut_wr and how == "eof":
            s.shutdown(socket.SHUT_WR)
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return out, "reset"
            if not chunk:
                return out, how
            out += chunk
    finally:
        s.close()


def expect_exact(got, how, want, want_how="eof"):
    """Exit 1 with both sides in hex unless the bytes and the ending are
    the expected ones."""
    if got == want and how == want_how:
        print("exact: %d bytes, %s" % (len(got), how))
        return
    print("got  (%s) %s" % (how, got.hex()))
    print("want (%s) %s" % (want_how, want.hex()))
    if len(got) > 5 and got[0] == 1:
        try:
            print("got  decoded: %s" % json.dumps(describe(got[5:])))
        except Exception as e:  # noqa: BLE001 (show what we can)
            print("got  undecodable: %s" % e)
    sys.exit(1)


def hello_frame_from(args):
    kw = {}
    for name in ("client_version", "request_id", "client_lib_name",
                 "client_lib_version"):
        v = getattr(args, name)
        if v is not None:
            kw[name] = v
    if args.peer_pid is not None:
        kw["peer_pid"] = os.getpid() if args.peer_pid < 0 else args.peer_pid
    if args.keepalive is not None:
        kw["client_keepalive_secs"] = args.keepalive
    if args.capabilities is not None:
        kw["client_capabilities"] = args.capabilities
    payload = hello(args.service, args.version, args.min_protocol,
                    args.max_protocol, **kw)
    if args.payload_hex is not None:
        payload = bytes.fromhex(args.payload_hex)

    def build(p):
        return frame(p, protocol=args.protocol, kind=args.kind,
                     request_id=args.frame_id, encoding=args.encoding,
                     envelope=args.envelope,
                     traceparent=args.traceparent or "",
                     tracestate=args.tracestate or "")
    data = build(payload)
    if args.pad_to is not None:
        # Grow client_version until the frame body is exactly pad_to bytes
        # (lengths of the varints shift as it grows: search).
        pad = max(0, args.pad_to - (len(data) - 5) - 8)
        while True:
            kw["client_version"] = "v" * pad
            data = build(hello(args.service, args.version, args.min_protocol,
                               args.max_protocol, **kw))
            if len(data) - 5 >= args.pad_to:
                break
            pad += 1
        if len(data) - 5 != args.pad_to:
            raise SystemExit("cannot pad to %d" % args.pad_to)
    return data


def cmd_hello(args):
    data = hello_frame_from(args)
    if args.parallel > 1:
        import threading
        results = [None] * args.parallel

        def one(i):
            results[i] = exchange(args.socket, data, timeout=60)
        ts = [threading.Thread(target=one, args=(i,))
              for i in range(args.parallel)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print(json.dumps(results))
        return
    if args.count > 1:
        results = [exchange(args.socket, data) for _ in range(args.count)]
        print(json.dumps(results))
        return
    print(json.dumps(exchange(args.socket, data)))


def cmd_raw(args):
    data = bytes.fromhex(args.hex)
    print(json.dumps(exchange(args.socket, data, shut_wr=args.shut_wr)))


def cmd_admin(args):
    verb = getattr(pb, "ADMIN_VERB_" + args.verb.upper().replace("-", "_"),
                   None)
    if verb is None:
        verb = int(args.verb)
    req = pb.AdminRequest(verb=verb, json=args.json,
                          service_name=args.service or "",
                          output_path=args.output_path or "",
                          drain_deadline_ms=args.drain_ms or 0)
    data = frame(req.SerializeToString(), protocol=ADMIN,
                 request_id=args.frame_id, traceparent=args.traceparent or "")
    r = exchange(args.socket, data)
    if args.body:
        sys.stdout.write(r.get("body", ""))
        sys.exit(r.get("exit_code", 99) if not r["eof"] else 98)
    print(json.dumps(r))


def cmd_trickle(args):
    """Send a Hello one byte at a time, args.delay_ms apart."""
    data = frame(hello(args.service, args.version), request_id=77)
    s = connect(args.socket, timeout=60)
    got = None
    try:
        for i in range(len(data)):
            try:
                s.send(data[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            r, _, _ = select.select([s], [], [], args.delay_ms / 1000.0)
            if r:
                got = read_reply(s)
                break
        if got is None:
            got = read_reply(s)
    finally:
        s.close()
    out = describe(got)
    out["bytes_sent"] = i + 1
    print(json.dumps(out))


def cmd_early_close(args):
    """Send a whole Hello and close before the reply, n times."""
    data = frame(hello(args.service, args.version,
                       client_capabilities=args.capabilities), request_id=5)
    for _ in range(args.count):
        s = connect(args.socket)
        s.sendall(data)
        s.close()
    print(json.dumps({"sent": args.count}))


def cmd_sendfds(args):
    """A Hello that carries fds (SCM_RIGHTS); report their inodes."""
    r, w = os.pipe()
    fds = [r, w]
    inodes = [os.fstat(fd).st_ino for fd in fds]
    data = frame(hello(args.service, args.version), request_id=9)
    s = connect(args.socket)
    try:
        socket.send_fds(s, [data[:args.split]], fds)
        if args.split < len(data):
            s.sendall(data[args.split:])
        out = describe(read_reply(s))
    finally:
        s.close()
        os.close(r)
        os.close(w)
    out["pipe_inodes"] = inodes
    print(json.dumps(out))


def wait_go(path):
    while not os.path.exists(path):
        time.sleep(0.01)


def cmd_idle(args):
    """Hold args.count connections that send nothing; print "ready" once
    they are all connected, then wait for the file args.go and report what
    each received."""
    socks = []
    for _ in range(args.count):
        socks.append(connect(args.socket))
    print("ready", flush=True)
    wait_go(args.go)
    replies = {"eof": 0, "refused": 0, "other": 0, "open": 0}
    codes = {}
    for s in socks:
        s.setblocking(False)
        try:
            body = read_reply(s)
        except BlockingIOError:
            replies["open"] += 1
            s.close()
            continue
        d = describe(body)
        if d["eof"]:
            replies["eof"] += 1
        elif d.get("result") == "refused":
            replies["refused"] += 1
            codes[str(d["code"])] = codes.get(str(d["code"]), 0) + 1
        else:
            replies["other"] += 1
        s.close()
    replies["codes"] = codes
    print(json.dumps(replies), flush=True)


def cmd_flood(args):
    """Open args.count connections as fast as possible, each sending a
    Hello (or nothing, with --silent), then (after the file --go exists,
    when given) read every reply.  Reports the outcomes."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    data = frame(hello(args.service, args.version), request_id=3)
    socks = []
    connect_failed = 0
    sndtimeo = struct.pack("ll", int(args.timeout), 0)
    for _ in range(args.count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A blocking connect waits for room in a full backlog (bounded by
        # SO_SNDTIMEO); Python's timeout mode would fail at once instead.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, sndtimeo)
        try:
            s.connect(args.socket)
        except OSError:
            connect_failed += 1
            s.close()
            continue
        s.settimeout(args.timeout)
        if not args.silent:
            try:
                s.sendall(data)
            except OSError:
                pass
        socks.append(s)
    if args.go:
        print("connected %d" % len(socks), flush=True)
        wait_go(args.go)
    out = {"connected": len(socks), "connect_failed": connect_failed,
           "negotiated": 0, "eof": 0, "codes": {}, "error": 0}
    for s in socks:
        try:
            d = describe(read_reply(s))
        except OSError:
            out["error"] += 1
            s.close()
            continue
        if d["eof"]:
            out["eof"] += 1
        elif d["result"] == "negotiated":
            out["negotiated"] += 1
        elif d["result"] == "refused":
            c = str(d["code"])
            out["codes"][c] = out["codes"].get(c, 0) + 1
        s.close()
    print(json.dumps(out), flush=True)


def cmd_held(args):
    """Connect now; send the frame (a Hello, or an admin verb) only once
    the file args.go exists; print the reply."""
    if args.admin:
        verb = getattr(pb, "ADMIN_VERB_" + args.admin.upper().replace(
            "-", "_"))
        data = frame(pb.AdminRequest(verb=verb).SerializeToString(),
                     protocol=ADMIN, request_id=8)
    else:
        data = frame(hello(args.service, args.version), request_id=8)
    s = connect(args.socket, timeout=60)
    print("connected", flush=True)
    while not os.path.exists(args.go):
        time.sleep(0.01)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    out = describe(read_reply(s))
    s.close()
    print(json.dumps(out), flush=True)


def cmd_handoffs(args):
    """N handoffs one after the other, as fast as they go: Hello with
    capability bit 0, the reply (a token), a 100-byte request, the event
    and the echo on the same connection, close (after --linger-ms).  With
    --early the request goes in the same write as the Hello.
    Prints how many took
    that route ({"handed_off": N}); anything else ends it with a message.
    """
    data = frame(hello(args.service, args.version, client_capabilities=1))
    req = b"r" * 100
    done = 0
    for _ in range(args.count):
        s = connect(args.socket)
        s.sendall(data + req if args.early else data)
        r = describe(read_reply(s))
        if r.get("result") != "negotiated" or not r["handle_passed_token"]:
            raise SystemExit("no token: %r" % r)
        if not args.early:
            s.sendall(req)
        ev = pb.Frame()
        ev.ParseFromString(read_reply(s) or b"")
        if ev.kind != 2 or ev.payload_protocol != 0xD0FF:
            raise SystemExit("no handoff event: %r" % ev)
        if recv_exact(s, len(req)) != req:
            raise SystemExit("no echo after the event")
        if args.linger_ms:
            time.sleep(args.linger_ms / 1000.0)
        s.close()
        done += 1
    print(json.dumps({"handed_off": done}))


def cmd_encode_hello(args):
    """The bytes of a whole Hello frame, in hex (for peers without the
    protobuf classes, such as another uid's)."""
    print(frame(hello(args.service, args.version), request_id=args.frame_id)
          .hex())


def cmd_activate(args):
    """Socket activation by hand: listen on args.path (mode args.mode),
    then exec the command with the socket on fd 3, LISTEN_FDS=1 and
    LISTEN_PID = its pid; fd args.ready_from is moved to args.ready_to
    first (the command's --ready-fd)."""
    # Move the readiness fd first, so the socket cannot land on its
    # target number.
    if args.ready_from is not None:
        os.dup2(args.ready_from, args.ready_to)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(args.path)
    os.chmod(args.path, int(args.mode, 8))
    s.listen(128)
    os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    if args.ready_to is not None:
        os.set_inheritable(args.ready_to, True)
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.execvp(args.command[0], args.command)


def cmd_notify_record(args):
    """Bind a datagram socket at args.path, run the command with
    NOTIFY_SOCKET pointing there (fd 3 passed on), write its pid to
    args.pidfile, record every datagram to args.out (one a line), and
    exit with the command's status."""
    import signal
    import subprocess
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    d.bind(args.path)
    env = dict(os.environ, NOTIFY_SOCKET=args.path)
    p = subprocess.Popen(args.command, env=env, pass_fds=(3,))

    def stop(*_):
        p.terminate()
        p.wait()
        sys.exit(1)
    signal.signal(signal.SIGTERM, stop)
    with open(args.pidfile + ".tmp", "w") as f:
        f.write("%d\n" % p.pid)
    os.rename(args.pidfile + ".tmp", args.pidfile)
    # The readiness fd is the command's alone now; its end of file, once
    # the command closes it too, comes after the pid file.
    os.close(3)
    with open(args.out, "a") as out:
        while True:
            r, _, _ = select.select([d], [], [], 0.05)
            if r:
                out.write(d.recv(4096).decode() + "\n")
                out.flush()
            elif p.poll() is not None:
                break
    sys.exit(p.returncode)


def cmd_servicedef(args):
    """Write a .servicedef file (the bytes of a ServiceDefinition)."""
    d = pb.ServiceDefinition(service_name=args.service,
                             binary_path=args.binary,
                             isolation=args.isolation,
                             explicit_instance=args.instance or "",
                             per_version_binary_dir=args.per_version_dir or "",
                             min_version=args.min_version or "")
    d.version_allow_list.extend(args.allow or [])
    path = os.path.join(args.dir, (args.file or args.service) + ".servicedef")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(d.SerializeToString())
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)
    print(path)


def cmd_race(args):
    """Start args.count brokers at once on one socket; report how each
    ended.  The survivor must be the only one serving."""
    import signal
    import subprocess
    procs = []

    def stop_all(*_):
        # Stopped from outside (a failing test's teardown): the brokers go
        # too.
        for p, _ in procs:
            if p.poll() is None:
                p.terminate()
        for p, _ in procs:
            p.wait()
        sys.exit(1)
    signal.signal(signal.SIGTERM, stop_all)
    for i in range(args.count):
        rfd, wfd = os.pipe()
        p = subprocess.Popen(
            [args.broker, "-s", args.socket, "--ready-fd", str(wfd)]
            + args.extra, pass_fds=[wfd], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        os.close(wfd)
        procs.append((p, rfd))
    exited = {}
    ready = []
    for p, rfd in procs:
        line = os.read(rfd, 1)  # "\n" from the winner, EOF from losers
        os.close(rfd)
        if line == b"\n":
            ready.append(p)
        else:
            p.wait(timeout=30)
            exited[p.pid] = (p.returncode, p.stderr.read().decode())
    out = {"ready": len(ready), "exit_codes": sorted(c for c, _ in
                                                      exited.values()),
           "messages": sorted(set(m.strip() for _, m in exited.values())),
           "winner": ready[0].pid if ready else None}
    print(json.dumps(out), flush=True)
    # The winner runs until the file args.go exists; then it is stopped.
    wait_go(args.go)
    codes = []
    for p in ready:
        p.terminate()
        p.wait(timeout=30)
        codes.append(p.returncode)
        p.stderr.close()
    print(json.dumps({"winner_exit": codes}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--socket", required=True)
        p.add_argument("--frame-id", type=int, default=0)
        p.add_argument("--traceparent")
        p.add_argument("--tracestate")

    def service(p):
        p.add_argument("--service", default="echo")
        p.add_argument("--version", default="1.0.0")

    p = sub.add_parser("hello")
    common(p)
    service(p)
    p.add_argument("--min-protocol", type=int, default=1)
    p.add_argument("--max-protocol", type=int, default=1)
    p.add_argument("--client-version")
    p.add_argument("--client-lib-name")
    p.add_argument("--client-lib-version")
    p.add_argument("--request-id")
    p.add_argument("--peer-pid", type=int)
    p.add_argument("--keepalive", type=int)
    p.add_argument("--capabilities", type=int)
    p.add_argument("--protocol", type=int, default=CONTROL)
    p.add_argument("--kind", type=int, default=0)
    p.add_argument("--encoding", type=int, default=0)
    p.add_argument("--envelope", type=int, default=1)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--parallel", type=int, default=1)
    p.add_argument("--payload-hex")
    p.add_argument("--pad-to", type=int)
    p.set_defaults(fn=cmd_hello)

    p = sub.add_parser("held")
    p.add_argument("--socket", required=True)
    p.add_argument("--go", required=True)
    service(p)
    p.add_argument("--admin")
    p.set_defaults(fn=cmd_held)

    p = sub.add_parser("handoffs")
    p.add_argument("--socket", required=True)
    service(p)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--linger-ms", type=int, default=0)
    p.add_argument("--early", action="store_true")
    p.set_defaults(fn=cmd_handoffs)

    p = sub.add_parser("encode-hello")
    service(p)
    p.add_argument("--frame-id", type=int, default=0)
    p.set_defaults(fn=cmd_encode_hello)

    p = sub.add_parser("activate")
    p.add_argument("--path", required=True)
    p.add_argument("--mode", default="600")
    p.add_argument("--ready-from", type=int)
    p.add_argument("--ready-to", type=int)
    p.add_argument("command", nargs="+")
    p.set_defaults(fn=cmd_activate)

    p = sub.add_parser("notify-record")
    p.add_argument("--path", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--pidfile", required=True)
    p.add_argument("command", nargs="+")
    p.set_defaults(fn=cmd_notify_record)

    p = sub.add_parser("raw")
    p.add_argument("--socket", required=True)
    p.add_argument("--hex", required=True)
    p.add_argument("--shut-wr", action="store_true")
    p.set_defaults(fn=cmd_raw)

    p = sub.add_parser("admin")
    common(p)
    p.add_argument("verb")
    p.add_argument("--json", action="store_true")
    p.add_argument("--service")
    p.add_argument("--output-path")
    p.add_argument("--drain-ms", type=int)
    p.add_argument("--body", action="store_true",
                   help="print the body, exit with exit_code")
    p.set_defaults(fn=cmd_admin)

    p = sub.add_parser("trickle")
    p.add_argument("--socket", required=True)
    service(p)
    p.add_argument("--delay-ms", type=int, default=20)
    p.set_defaults(fn=cmd_trickle)

    p = sub.add_parser("early-close")
    p.add_argument("--socket", required=True)
    service(p)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--capabilities", type=int, default=0)
    p.set_defaults(fn=cmd_early_close)

    p = sub.add_parser("sendfds")
    p.add_argument("--socket", required=True)
    service(p)
    p.add_argument("--split", type=int, default=1 << 30)
    p.set_defaults(fn=cmd_sendfds)

    p = sub.add_parser("idle")
    p.add_argument("--socket", required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--go", required=True)
    p.set_defaults(fn=cmd_idle)

    p = sub.add_parser("flood")
    p.add_argument("--socket", required=True)
    service(p)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--silent", action="store_true")
    p.add_argument("--go")
    p.set_defaults(fn=cmd_flood)

    p = sub.add_parser("servicedef")
    p.add_argument("--dir", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--file")
    p.add_argument("--isolation", type=int, default=1)
    p.add_argument("--instance")
    p.add_argument("--per-version-dir")
    p.add_argument("--min-version")
    p.add_argument("--allow", action="append")
    p.set_defaults(fn=cmd_servicedef)

    p = sub.add_parser("race")
    p.add_argument("--socket", required=True)
    p.add_argument("--broker", required=True)
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--go", required=True)
    p.add_argument("extra", nargs="*")
    p.set_defaults(fn=cmd_race)

    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
