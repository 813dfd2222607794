"""A TCP proxy between a client and the broker that can drop the broker's answer to a chosen
request and cut the connection, the way a network failure loses an acknowledgement."""
import socket
import struct
import threading


class DroppingProxy:
    """Forwards 127.0.0.1:<port> to the broker. `drop_responses_to(api_key, count)` makes the proxy
    swallow the next `count` responses to that API and close the client's connection instead."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.target: tuple[str, int] | None = None
        self.lock = threading.Lock()
        self.to_drop: dict[int, int] = {}
        self.dropped = 0
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def drop_responses_to(self, api_key: int, count: int = 1) -> None:
        with self.lock:
            self.to_drop[api_key] = count

    def close(self) -> None:
        self.closed = True
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            assert self.target is not None
            upstream = socket.create_connection(self.target)
            pending: dict[int, int] = {}  # correlation id -> api key
            threading.Thread(target=self._requests, args=(client, upstream, pending), daemon=True).start()
            threading.Thread(target=self._responses, args=(upstream, client, pending), daemon=True).start()

    @staticmethod
    def _frame(sock: socket.socket) -> bytes | None:
        header = b""
        while len(header) < 4:
            chunk = sock.recv(4 - len(header))
            if not chunk:
                return None
            header += chunk
        size = struct.unpack(">i", header)[0]
        body = b""
        while len(body) < size:
            chunk = sock.recv(size - len(body))
            if not chunk:
                return None
            body += chunk
        return header + body

    def _requests(self, client: socket.socket, upstream: socket.socket, pending: dict[int, int]) -> None:
        try:
            while (frame := self._frame(client)) is not None:
                api_key, _version, correlation = struct.unpack_from(">hhi", frame, 4)
                pending[correlation] = api_key
                upstream.sendall(frame)
        except OSError:
            pass
        finally:
            try:
                upstream.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            upstream.close()

    def _responses(self, upstream: socket.socket, client: socket.socket, pending: dict[int, int]) -> None:
        try:
            while (frame := self._frame(upstream)) is not None:
                correlation = struct.unpack_from(">i", frame, 4)[0]
                api_key = pending.pop(correlation, -1)
                with self.lock:
                    drop = self.to_drop.get(api_key, 0) > 0
                    if drop:
                        self.to_drop[api_key] -= 1
                        self.dropped += 1
                if drop:
                    break
                client.sendall(frame)
        except OSError:
            pass
        finally:
            # shutdown() wakes the other thread's recv; close() alone would leave the client
            # connected until that thread returns.
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
