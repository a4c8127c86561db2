"""Minimal syslog receiver for the integration harness: an AF_UNIX SOCK_DGRAM server at PATH (normally /dev/log
inside a private mount namespace). Every datagram is appended, verbatim except a trailing NUL/newline, as one
line to OUT. Prints READY once bound."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s.bind(path)
os.chmod(path, 0o666)
print("READY", flush=True)
with open(out, "ab", buffering=0) as f:
    while True:
        data = s.recv(65536)
        f.write(data.rstrip(b"\n\0").replace(b"\n", b"\\n") + b"\n")
