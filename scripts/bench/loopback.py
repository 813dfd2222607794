"""Loopback TCP bandwidth, the reference for broker throughput: one sender, one receiver,
1 MiB sends over 127.0.0.1. Prints MB/s (10^6 bytes). Usage: loopback.py [GiB]"""
import socket
import sys
import threading
import time

TOTAL = int(float(sys.argv[1] if len(sys.argv) > 1 else 4) * (1 << 30))
CHUNK = 1 << 20


def receive(server: socket.socket, result: list) -> None:
    connection, _ = server.accept()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    received = 0
    while received < TOTAL:
        n = connection.recv_into(view)
        if n == 0:
            break
        received += n
    result.append((received, time.perf_counter()))
    connection.close()


server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
result: list = []
receiver = threading.Thread(target=receive, args=(server, result))
receiver.start()
client = socket.create_connection(server.getsockname())
payload = b"x" * CHUNK
start = time.perf_counter()
sent = 0
while sent < TOTAL:
    client.sendall(payload)
    sent += CHUNK
client.close()
receiver.join()
received, end = result[0]
print(f"loopback: {received} bytes in {end - start:.3f} s, {received / (end - start) / 1e6:.0f} MB/s")
