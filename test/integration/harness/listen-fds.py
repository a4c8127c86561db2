"""Play systemd's part in socket activation for the integration harness: create the sockets given as JSON (what a
socket unit asks for), put them on fds 3.., set LISTEN_FDS/LISTEN_PID as sd_listen_fds(3) expects, and exec the
daemon in this same process (LISTEN_PID must be the daemon's pid).

usage: listen-fds.py JSON COMMAND [ARG...]
JSON: [{"proto": "tcp"|"udp", "family": "inet"|"inet6", "address": "::", "port": 22, "reuseAddr": true,
        "reusePort": false, "v6Only": null}]"""
import json
import os
import socket
import sys

specs = json.loads(sys.argv[1])
socks = []
for sp in specs:
    fam = socket.AF_INET6 if sp["family"] == "inet6" else socket.AF_INET
    typ = socket.SOCK_DGRAM if sp["proto"] == "udp" else socket.SOCK_STREAM
    s = socket.socket(fam, typ)
    if sp.get("reuseAddr"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sp.get("reusePort"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if fam == socket.AF_INET6 and sp.get("v6Only") is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if sp["v6Only"] else 0)
    s.bind((sp["address"], sp["port"]))
    if typ == socket.SOCK_STREAM:
        s.listen(socket.SOMAXCONN)
    socks.append(s)
for i, s in enumerate(socks):
    os.dup2(s.fileno(), 3 + i)
    os.set_inheritable(3 + i, True)
os.environ["LISTEN_FDS"] = str(len(socks))
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])
