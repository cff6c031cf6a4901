"""A tiny IMAP4rev1 server on localhost: just what a mailbox reader needs.

It speaks LOGIN, SELECT, UID SEARCH UNSEEN, UID FETCH (BODY.PEEK[]),
UID STORE +FLAGS (\\Seen) and LOGOUT over a real socket, so the code under
test runs Python's imaplib unchanged.
"""

import re
import socketserver
import threading


class Mailbox:
    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.messages: list[tuple[int, bytes]] = []
        self.seen: set[int] = set()

    def add(self, raw: bytes) -> int:
        uid = len(self.messages) + 1
        self.messages.append((uid, raw))
        return uid


class Handler(socketserver.StreamRequestHandler):
    server: "IMAPServer"

    def send(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")

    def handle(self) -> None:
        box = self.server.mailbox
        self.send(b"* OK IMAP4rev1 test server ready")
        while line := self.rfile.readline():
            tag, _sp, rest = line.rstrip(b"\r\n").partition(b" ")
            command = rest.upper()
            if command.startswith(b"CAPABILITY"):
                self.send(b"* CAPABILITY IMAP4rev1")
            elif command.startswith(b"LOGIN"):
                args = re.findall(rb'"((?:[^"\\]|\\.)*)"|(\S+)', rest)[1:]
                user, password = (a or b for a, b in args)
                if (user.decode(), password.decode()) != (box.user, box.password):
                    self.send(tag + b" NO LOGIN failed")
                    continue
            elif command.startswith(b"SELECT"):
                self.send(b"* %d EXISTS" % len(box.messages))
                self.send(tag + b" OK [READ-WRITE] SELECT done")
                continue
            elif command.startswith(b"UID SEARCH"):
                uids = [str(u).encode() for u, _raw in box.messages if u not in box.seen]
                self.send(b"* SEARCH " + b" ".join(uids))
            elif command.startswith(b"UID FETCH"):
                uid = int(rest.split()[2])
                raw = dict(box.messages)[uid]
                self.wfile.write(b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (uid, uid, len(raw)))
                self.wfile.write(raw + b")\r\n")
            elif command.startswith(b"UID STORE"):
                uid = int(rest.split()[2])
                box.seen.add(uid)
                self.send(b"* %d FETCH (UID %d FLAGS (\\Seen))" % (uid, uid))
            elif command.startswith(b"LOGOUT"):
                self.send(b"* BYE")
                self.send(tag + b" OK LOGOUT done")
                return
            else:
                self.send(tag + b" BAD unknown command")
                continue
            self.send(tag + b" OK done")


class IMAPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox):
        super().__init__(("127.0.0.1", 0), Handler)
        self.mailbox = mailbox
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
