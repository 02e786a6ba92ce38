"""The interactive mysql client, through a pseudo-terminal, as a person
runs it: `mysql -h 127.0.0.1 -P <port> -u root <database>` (it reads the
table names for completion), a query, `USE`, quit. Prints what the
terminal showed; exits non-zero if the client did not end in time."""

import os
import pty
import select
import sys
import time

port, database = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("mysql", ["mysql", "-h", "127.0.0.1", "-P", port, "-u", "root", database])

shown = b""


def read_for(seconds):
    global shown
    end = time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                shown += os.read(fd, 4096)
            except OSError:
                return


read_for(3)
os.write(fd, b"SELECT count(*) AS n FROM orders;\n")
read_for(2)
os.write(fd, b"USE shop;\n")
read_for(2)
os.write(fd, b"quit\n")
deadline = time.time() + 5
while time.time() < deadline:
    done, _ = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    read_for(0.2)
else:
    os.kill(pid, 9)
    print(shown.decode(errors="replace"))
    sys.exit("the mysql client did not end")
print(shown.decode(errors="replace"))
