"""Hold a port for the integration harness: socket(), the requested setsockopt()s, bind(), listen() (TCP), then
print READY (or ERROR errno-name message) and sleep until killed.

usage: port-holder.py tcp|udp inet|inet6 ADDRESS PORT [reuseaddr] [reuseport] [v6only=0|1] [nolisten]"""
import errno
import signal
import socket
import sys

proto, family, address, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
flags = sys.argv[5:]
fam = socket.AF_INET6 if family == "inet6" else socket.AF_INET
typ = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
try:
    s = socket.socket(fam, typ)
    if "reuseaddr" in flags:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if "reuseport" in flags:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    for f in flags:
        if f.startswith("v6only="):
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(f.split("=", 1)[1]))
    s.bind((address, port))
    if typ == socket.SOCK_STREAM and "nolisten" not in flags:
        s.listen(16)
except OSError as e:
    print("ERROR", errno.errorcode.get(e.errno, str(e.errno)), e.strerror, flush=True)
    sys.exit(1)
print("READY", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    signal.pause()
