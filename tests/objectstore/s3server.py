"""Starting an S3 server on localhost for the object-store test and the
object-store benchmark: a free port, and a server process that answers."""
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, port, log, env=None):
    """Starts `cmd` (a server listening on `port`) and waits until it
    accepts connections (20 s at most)."""
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{cmd[0]} did not start")
