"""winwire — the Linux side of the Windows interop tests.

Frames are built and checked here with classes that protoc generates from
proto/rp_v1.proto (never with our C library); a plain Win32 client
(tests/win/helpers/pipe-relay.c) carries them over the named pipe.

    winwire.py probe-request NONCEFILE   a 0xB232 request on stdout, its
                                         nonce (hex) in NONCEFILE
    winwire.py probe-reply NONCEFILE     check the reply on stdin; print
                                         the identity as key: value lines
    winwire.py offer TOKENHEX VALUE CID  a HandoffOffer frame on stdout
    winwire.py ack CID                   check the HandoffAck on stdin,
                                         print accepted / error_detail
    winwire.py hello SERVICE VERSION [KEY=VALUE...]
                                         a Hello frame on stdout (more
                                         Hello fields as KEY=VALUE, ints
                                         as decimal)
    winwire.py hello-reply               the HelloReply frame on stdin as
                                         JSON ("eof" when none came)
    winwire.py handoff-stream            what handoff-client.exe copied
                                         (stdin): the HelloReply, the
                                         handoff event, the echoed data,
                                         as JSON
    winwire.py sid-hash-input SID        "windows-sid:" + the lowercase
                                         hex of the SID's bytes (for b3sum)
"""
import json
import os
import struct
import sys

import rp_v1_pb2 as pb  # generated at test time

REQUEST, RESPONSE = 0, 1
PP_PROBE, PP_HANDOFF = 0xB232, 0xD0FF


def frame_bytes(body):
    return b"\x01" + struct.pack("<I", len(body)) + body


def read_frame(data):
    if len(data) < 5 or data[0] != 1:
        raise SystemExit("not a v1 frame: %r" % data[:16])
    (n,) = struct.unpack("<I", data[1:5])
    if len(data) != 5 + n:
        raise SystemExit("frame of %d bytes, %d came" % (n, len(data) - 5))
    f = pb.Frame()
    f.ParseFromString(data[5:])
    return f


def main(argv):
    cmd = argv[1]
    if cmd == "probe-request":
        nonce = os.urandom(32)
        rid = struct.unpack("<Q", nonce[:8])[0]
        f = pb.Frame(envelope_version=1, kind=REQUEST,
                     payload_protocol=PP_PROBE, payload=nonce, request_id=rid)
        with open(argv[2], "w") as nf:
            nf.write(nonce.hex())
        sys.stdout.buffer.write(frame_bytes(f.SerializeToString()))
        return 0
    if cmd == "probe-reply":
        with open(argv[2]) as nf:
            nonce = bytes.fromhex(nf.read().strip())
        rid = struct.unpack("<Q", nonce[:8])[0]
        f = read_frame(sys.stdin.buffer.read())
        assert f.envelope_version == 1, f
        assert f.kind == RESPONSE, f
        assert f.payload_protocol == PP_PROBE, f
        assert f.request_id == rid, f
        assert f.payload[:32] == nonce, "nonce not echoed"
        dp = pb.DaemonProcess()
        dp.ParseFromString(f.payload[32:])
        print("pid: %d" % dp.pid)
        print("exe_path: %s" % dp.exe_path)
        print("exe_hash: %s" % dp.exe_hash.hex())
        print("exe_hash_algorithm: %s" % dp.exe_hash_algorithm)
        print("boot_id: %s" % dp.boot_id)
        print("namespace: %s" % dp.ipc_endpoint.namespace_id)
        print("endpoint: %s" % dp.ipc_endpoint.path)
        print("started_at_unix_ms: %d" % dp.started_at_unix_ms)
        return 0
    if cmd == "offer":
        tok, value, cid = bytes.fromhex(argv[2]), int(argv[3]), int(argv[4])
        o = pb.HandoffOffer(handle_value=value, token=tok,
                            service_name="svc", correlation_id=cid)
        f = pb.Frame(envelope_version=1, kind=REQUEST,
                     payload_protocol=PP_HANDOFF,
                     payload=o.SerializeToString(), request_id=cid)
        sys.stdout.buffer.write(frame_bytes(f.SerializeToString()))
        return 0
    if cmd == "ack":
        cid = int(argv[2])
        f = read_frame(sys.stdin.buffer.read())
        assert f.kind == RESPONSE and f.payload_protocol == PP_HANDOFF, f
        assert f.request_id == cid, f
        a = pb.HandoffAck()
        a.ParseFromString(f.payload)
        assert a.correlation_id == cid, a
        print("accepted: %s" % ("yes" if a.accepted else "no"))
        print("error_detail: %s" % a.error_detail)
        return 0
    if cmd == "hello":
        h = pb.Hello(client_min_protocol=1, client_max_protocol=1,
                     service_name=argv[2], wanted_version=argv[3])
        for kv in argv[4:]:
            k, v = kv.split("=", 1)
            cur = getattr(h, k)
            setattr(h, k, int(v) if isinstance(cur, int) else
                    bytes.fromhex(v) if isinstance(cur, bytes) else v)
        f = pb.Frame(envelope_version=1, kind=REQUEST, payload_protocol=0,
                     payload=h.SerializeToString())
        sys.stdout.buffer.write(frame_bytes(f.SerializeToString()))
        return 0
    if cmd == "hello-reply":
        data = sys.stdin.buffer.read()
        if not data:
            print(json.dumps("eof"))
            return 0
        f = read_frame(data)
        assert f.envelope_version == 1 and f.kind == RESPONSE, f
        assert f.payload_protocol == 0, f
        r = pb.HelloReply()
        r.ParseFromString(f.payload)
        which = r.WhichOneof("result")
        out = {"result": which}
        m = getattr(r, which)
        for fd, v in m.ListFields():
            out[fd.name] = v.hex() if isinstance(v, bytes) else \
                list(v) if fd.label == fd.LABEL_REPEATED else v
        print(json.dumps(out))
        return 0
    if cmd == "handoff-stream":
        data = sys.stdin.buffer.read()
        out = {}
        frames = []
        while len(frames) < 2 and len(data) >= 5 and data[0] == 1:
            (n,) = struct.unpack("<I", data[1:5])
            frames.append(read_frame(data[:5 + n]))
            data = data[5 + n:]
        if frames:
            f = frames[0]
            assert f.kind == RESPONSE and f.payload_protocol == 0, f
            r = pb.HelloReply()
            r.ParseFromString(f.payload)
            n = r.negotiated
            out["result"] = r.WhichOneof("result")
            out["token"] = n.handle_passed_token.hex()
            out["connection_id"] = n.connection_id
            out["server_capabilities"] = n.server_capabilities
        if len(frames) > 1:
            f = frames[1]
            a = pb.HandoffAck()
            a.ParseFromString(f.payload)
            out["event"] = {"kind": f.kind,
                            "payload_protocol": f.payload_protocol,
                            "request_id": f.request_id,
                            "accepted": a.accepted,
                            "token": a.token.hex(),
                            "correlation_id": a.correlation_id}
        out["data"] = data.decode("utf-8", "replace")
        print(json.dumps(out))
        return 0
    if cmd == "sid-hash-input":
        parts = argv[2].split("-")
        assert parts[0] == "S", parts
        rev, auth, subs = int(parts[1]), int(parts[2]), parts[3:]
        b = bytes([rev, len(subs)]) + auth.to_bytes(6, "big")
        for x in subs:
            b += struct.pack("<I", int(x))
        sys.stdout.write("windows-sid:" + b.hex())
        return 0
    raise SystemExit("unknown command %s" % cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
