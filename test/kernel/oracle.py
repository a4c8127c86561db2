#!/usr/bin/env python3
"""Kernel oracle for bindcheck's SimulatedNamespace: performs socket scenarios with real sockets.

Reads a JSON list of scenarios on stdin; prints a JSON object {"results": [[verdict, ...], ...], "env": {...}}
where each verdict is "ok" or an errno name, one per operation. Run it in a throwaway network namespace:

    unshare -n python3 oracle.py --setup < scenarios.json

--setup brings lo up, adds 192.0.2.10/32 and 2001:db8::10/128 to lo and creates a veth pair v0/v1, so that
nothing touches the host's sockets. Python 3 standard library only.

Scenario: {"sysctl": {"net/ipv6/bindv6only": "1", ...}?, "ops": [op, ...]}; ops name sockets by index "s":
  {"op": "socket", "s": 0, "proto": "tcp"|"udp", "family": "inet"|"inet6", "reuseaddr": bool, "reuseport": bool,
   "v6only": bool|null, "freebind": bool, "device": str|null, "uid": int}
  {"op": "bind", "s": 0, "addr": "127.0.0.1", "port": 20000}   (addr family may differ from the socket's)
  {"op": "listen", "s": 0}
  {"op": "close", "s": 0}
  {"op": "accept", "s": 0, "child": 5, "connect": "127.0.0.1"}  a client connects to listener s at the address
        `connect` (same port); the accepted connection becomes socket `child` (an ESTABLISHED holder of the port)
  {"op": "timewait", "s": 5}  close accepted socket s first (active close), then its client: s enters TIME_WAIT
Socket creation and bind() run in a child process with setresuid(uid) when uid != 0: SO_REUSEPORT compares the
uid recorded at socket creation (sk_uid), while the privileged-port check looks at the binder's capabilities.
"""
import ctypes
import errno
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

LIBC = ctypes.CDLL(None, use_errno=True)
IP_FREEBIND = 15
SO_BINDTODEVICE = 25
SYSCTL_DEFAULTS = {
    "net/ipv4/ip_nonlocal_bind": "0",
    "net/ipv6/ip_nonlocal_bind": "0",
    "net/ipv6/bindv6only": "0",
    "net/ipv4/ip_unprivileged_port_start": "1024",
}


def setup():
    cmds = [
        ["ip", "link", "set", "lo", "up"],
        ["ip", "addr", "add", "192.0.2.10/32", "dev", "lo"],
        ["ip", "-6", "addr", "add", "2001:db8::10/128", "dev", "lo", "nodad"],
        ["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
        ["ip", "link", "set", "v0", "up"],
        ["ip", "link", "set", "v1", "up"],
    ]
    for c in cmds:
        subprocess.run(c, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_sysctl(name, value):
    with open("/proc/sys/" + name, "w") as f:
        f.write(str(value))


def sockaddr(addr, port):
    """A raw sockaddr for addr's own family, so a wrong-family bind reaches the kernel unchanged."""
    if ":" in addr:
        host, _, scope = addr.partition("%")
        scope_id = socket.if_nametoindex(scope) if scope else 0
        raw = struct.pack("<H", socket.AF_INET6) + struct.pack(">HI", port, 0)
        raw += socket.inet_pton(socket.AF_INET6, host) + struct.pack("<I", scope_id)
    else:
        raw = struct.pack("<H", socket.AF_INET) + struct.pack(">H", port)
        raw += socket.inet_pton(socket.AF_INET, addr) + b"\0" * 8
    return ctypes.create_string_buffer(raw, len(raw)), len(raw)


def raw_bind(fd, addr, port):
    buf, n = sockaddr(addr, port)
    if LIBC.bind(fd, buf, n) == 0:
        return 0
    return ctypes.get_errno()


def make_socket(spec):
    fam = socket.AF_INET if spec["family"] == "inet" else socket.AF_INET6
    typ = socket.SOCK_STREAM if spec["proto"] == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, typ)
    if spec.get("reuseaddr"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if spec.get("reuseport"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if fam == socket.AF_INET6 and spec.get("v6only") is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if spec["v6only"] else 0)
    if spec.get("freebind"):
        s.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
    if spec.get("device"):
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, spec["device"].encode())
    return s


def drop_to(uid):
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


class Worker:
    """A long-lived child running as an unprivileged uid: creates sockets and binds them on request.

    Descriptors cross in both directions with SCM_RIGHTS, so the socket's sk_uid is the worker's uid (taken at
    socket creation) and bind() is checked against the worker's (absent) capabilities, as for a real daemon
    running as that user. One process per uid instead of a fork per operation keeps thousands of scenarios fast.
    """

    def __init__(self, uid):
        self.conn, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.pid = os.fork()
        if self.pid == 0:
            self.conn.close()
            try:
                drop_to(uid)
                Worker.serve(child)
            finally:
                os._exit(0)
        child.close()

    @staticmethod
    def serve(conn):
        while True:
            msg, fds, _, _ = socket.recv_fds(conn, 65536, 1)
            if not msg:
                return
            req = json.loads(msg)
            if req["cmd"] == "socket":
                try:
                    s = make_socket(req["spec"])
                    socket.send_fds(conn, [b"0"], [s.fileno()])
                    s.close()
                except OSError as e:
                    conn.send(str(e.errno).encode())
            else:
                fd = fds[0]
                err = raw_bind(fd, req["addr"], req["port"])
                os.close(fd)
                conn.send(str(err).encode())

    def socket(self, spec):
        self.conn.send(json.dumps({"cmd": "socket", "spec": spec}).encode())
        msg, fds, _, _ = socket.recv_fds(self.conn, 64, 1)
        if not fds:
            raise OSError(int(msg), os.strerror(int(msg)))
        return socket.socket(fileno=fds[0])

    def bind(self, s, addr, port):
        socket.send_fds(self.conn, [json.dumps({"cmd": "bind", "addr": addr, "port": port}).encode()], [s.fileno()])
        return int(self.conn.recv(64))


WORKERS = {}


def worker(uid):
    if uid not in WORKERS:
        WORKERS[uid] = Worker(uid)
    return WORKERS[uid]


def socket_as(spec):
    uid = spec.get("uid", 0)
    return make_socket(spec) if uid == 0 else worker(uid).socket(spec)


def bind_as(s, uid, addr, port):
    return raw_bind(s.fileno(), addr, port) if uid == 0 else worker(uid).bind(s, addr, port)


def name(err):
    return "ok" if err == 0 else errno.errorcode.get(err, str(err))


def wait_timewait(port, deadline=0.5):
    """Polls /proc/net/tcp{,6} until a TIME_WAIT (state 06) row with local port `port` exists."""
    hexport = "%04X" % port
    end = time.time() + deadline
    while time.time() < end:
        for f in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(f) as fh:
                for line in fh.readlines()[1:]:
                    cols = line.split()
                    if cols[1].endswith(":" + hexport) and cols[3] == "06":
                        return True
        time.sleep(0.001)
    return False


def run_scenario(sc):
    socks, meta, clients, out = {}, {}, {}, []
    for k, v in sc.get("sysctl", {}).items():
        write_sysctl(k, v)
    try:
        for op in sc["ops"]:
            kind, i = op["op"], op.get("s")
            try:
                if kind == "socket":
                    socks[i] = socket_as(op)
                    meta[i] = op
                    out.append("ok")
                elif kind == "bind":
                    out.append(name(bind_as(socks[i], meta[i].get("uid", 0), op["addr"], op["port"])))
                elif kind == "listen":
                    socks[i].listen(16)
                    out.append("ok")
                elif kind == "close":
                    socks.pop(i).close()
                    out.append("ok")
                elif kind == "accept":
                    lst = socks[i]
                    if not lst.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                        out.append("ECONNREFUSED")
                        continue
                    port = lst.getsockname()[1]
                    target = op["connect"]
                    fam = socket.AF_INET6 if ":" in target else socket.AF_INET
                    c = socket.socket(fam, socket.SOCK_STREAM)
                    c.connect((target, port))
                    # With SO_REUSEPORT groups the connection may land on another listener: do not block.
                    if not select.select([lst], [], [], 0.2)[0]:
                        c.close()
                        out.append("NOACCEPT")
                        continue
                    child, _ = lst.accept()
                    socks[op["child"]] = child
                    clients[op["child"]] = c
                    out.append("ok")
                elif kind == "timewait":
                    if i not in socks or i not in clients:
                        out.append("NOCHILD")
                        continue
                    child = socks.pop(i)
                    port = child.getsockname()[1]
                    child.close()
                    c = clients.pop(i)
                    c.recv(1)  # the FIN of the active closer
                    c.close()
                    out.append("ok" if wait_timewait(port) else "NO_TIMEWAIT")
                else:
                    out.append("BADOP")
            except OSError as e:
                out.append(name(e.errno or 0))
    finally:
        for s in list(socks.values()) + list(clients.values()):
            try:
                s.close()
            except OSError:
                pass
        for k in sc.get("sysctl", {}):
            write_sysctl(k, SYSCTL_DEFAULTS.get(k, "0"))
    return out


def main():
    if "--setup" in sys.argv:
        setup()
    scenarios = json.load(sys.stdin)
    # Fork the unprivileged workers before any scenario socket exists: a worker forked later would inherit (and
    # keep alive) whatever sockets were open at that moment.
    for uid in sorted({op.get("uid", 0) for sc in scenarios for op in sc["ops"] if op["op"] == "socket"} - {0}):
        worker(uid)
    results = [run_scenario(sc) for sc in scenarios]
    env = {"kernel": os.uname().release, "localAddresses": ["192.0.2.10", "2001:db8::10"], "devices": ["lo", "v0", "v1"]}
    json.dump({"env": env, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
