"""A minimal Server-Sent Events client over raw sockets for the streaming reliability tests and
the stream benchmark: many streams read by one thread (selectors), chunked transfer decoding,
events parsed into (id, event, data). Python standard library only."""

import selectors
import socket
import time

LOOPBACK = "127.0.0.1"


class SseStream:
    """One GET with Accept: text/event-stream; feed() takes received bytes, events come out."""

    def __init__(self, port, target, last_event_id=None):
        self.sock = socket.create_connection((LOOPBACK, port), timeout=10)
        self.sock.setblocking(False)
        headers = "Accept: text/event-stream\r\n"
        if last_event_id:
            headers += "Last-Event-ID: %s\r\n" % last_event_id
        request = "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (target, LOOPBACK, headers)
        self.sock.setblocking(True)
        self.sock.sendall(request.encode())
        self.sock.setblocking(False)
        self.raw = b""
        self.status = None
        self.header_done = False
        self.chunk_left = None   # bytes left in the current chunk; None: expecting a size line
        self.body_done = False
        self.closed = False
        self.text = ""
        self.events = []         # (id, event, data, arrival monotonic seconds)

    def fileno(self):
        return self.sock.fileno()

    def read(self):
        """Reads what is there; False once the connection is closed."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError:
            self.closed = True
            return False
        if not data:
            self.closed = True
            return False
        self._feed(data, time.monotonic())
        return True

    def _feed(self, data, now):
        self.raw += data
        if not self.header_done:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.raw[:end].decode("latin-1").split("\r\n")
            self.status = int(head[0].split()[1])
            self.raw = self.raw[end + 4:]
            self.header_done = True
        # Chunked body: "<hex size>\r\n<data>\r\n" ... "0\r\n\r\n".
        while self.raw and not self.body_done:
            if self.chunk_left is None:
                end = self.raw.find(b"\r\n")
                if end < 0:
                    break
                size = int(self.raw[:end].split(b";")[0], 16)
                self.raw = self.raw[end + 2:]
                if size == 0:
                    self.body_done = True
                    break
                self.chunk_left = size + 2  # the data and its CRLF
            take = self.raw[:self.chunk_left]
            self.raw = self.raw[len(take):]
            before = self.chunk_left
            self.chunk_left -= len(take)
            data_part = take[:max(0, min(len(take), before - 2))]
            self.text += data_part.decode("utf-8")
            if self.chunk_left == 0:
                self.chunk_left = None
        self._parse_events(now)

    def _parse_events(self, now):
        while True:
            end = self.text.find("\n\n")
            if end < 0:
                return
            block, self.text = self.text[:end], self.text[end + 2:]
            event_id, name, data = None, "message", ""
            for line in block.split("\n"):
                if not line or line.startswith(":"):
                    continue
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "id":
                    event_id = value
                elif field == "event":
                    name = value
                elif field == "data":
                    data += value
            if event_id is None and name == "message" and not data:
                continue  # a comment-only block
            self.events.append((event_id, name, data, now))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Reader:
    """Reads many SseStreams from one thread until stopped."""

    def __init__(self, streams):
        self.selector = selectors.DefaultSelector()
        self.streams = list(streams)
        for stream in self.streams:
            self.selector.register(stream, selectors.EVENT_READ)

    def add(self, stream):
        self.streams.append(stream)
        self.selector.register(stream, selectors.EVENT_READ)

    def poll(self, timeout=0.05):
        for key, _ in self.selector.select(timeout):
            stream = key.fileobj
            if not stream.read():
                self.selector.unregister(stream)

    def poll_until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            self.poll(0.05)
        return predicate()

    def close(self):
        for stream in self.streams:
            try:
                self.selector.unregister(stream)
            except (KeyError, ValueError):
                pass
            stream.close()
