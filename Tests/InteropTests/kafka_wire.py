"""A few raw Kafka frames for tests that must send what no client would."""
import socket
import struct


def request_frame(api_key: int, api_version: int, correlation_id: int, body: bytes = b"", client_id: str = "interop") -> bytes:
    header = struct.pack(">hhi", api_key, api_version, correlation_id)
    encoded = client_id.encode()
    header += struct.pack(">h", len(encoded)) + encoded
    if api_version >= 3 and api_key == 18:
        header += b"\x00"  # tagged fields of request header v2
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def api_versions_body(version: int, name: str = "interop", software_version: str = "1.0") -> bytes:
    """The body of an ApiVersions request: empty before v3, client software name and version after."""
    if version < 3:
        return b""
    return bytes([len(name) + 1]) + name.encode() + bytes([len(software_version) + 1]) + software_version.encode() + b"\x00"


def read_frame(sock: socket.socket) -> bytes:
    size = struct.unpack(">i", read_exactly(sock, 4))[0]
    return read_exactly(sock, size)


def read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def connect(bootstrap: str, timeout: float = 5.0) -> socket.socket:
    host, port = bootstrap.split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    return sock


def is_closed(sock: socket.socket) -> bool:
    """True once the peer has closed the connection (recv returns b"")."""
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
