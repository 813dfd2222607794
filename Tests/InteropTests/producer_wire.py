"""Raw producer frames for tests that must send exactly what a producer sends or retries:
InitProducerId, record batches with producer ids, sequences and the transactional bit, and a
one-batch Produce."""
import struct

from kafka.record.default_records import DefaultRecordBatchBuilder

import kafka_wire


def init_producer_id(broker) -> tuple[int, int]:
    """InitProducerId v0 without a transactional id: (producer id, epoch)."""
    sock = kafka_wire.connect(broker.bootstrap)
    try:
        sock.sendall(kafka_wire.request_frame(22, 0, 1, struct.pack(">hi", -1, 60_000)))
        frame = kafka_wire.read_frame(sock)
        correlation, _throttle, error, producer_id, epoch = struct.unpack(">iihqh", frame)
        assert (correlation, error) == (1, 0)
        return producer_id, epoch
    finally:
        sock.close()


def batch(producer_id: int, epoch: int, sequence: int, values: list[bytes], transactional: bool = False,
          timestamp: int = 1_700_000_000_000) -> bytes:
    """A v2 batch of `values`, record i stamped `timestamp + i`; producer id -1 for a plain batch."""
    builder = DefaultRecordBatchBuilder(2, 0, transactional, producer_id, epoch, sequence, 1 << 20)
    for index, value in enumerate(values):
        builder.append(index, timestamp + index, None, value, [])
    return bytes(builder.build())


def produce(broker, topic: str, records: bytes, partition: int = 0) -> tuple[int, int]:
    """Produce v3 (acks=-1) of one batch: (error code, base offset)."""
    name = topic.encode()
    body = struct.pack(">hhi", -1, -1, 10_000) + struct.pack(">i", 1) + struct.pack(">h", len(name)) + name
    body += struct.pack(">i", 1) + struct.pack(">i", partition) + struct.pack(">i", len(records)) + records
    sock = kafka_wire.connect(broker.bootstrap)
    try:
        sock.sendall(kafka_wire.request_frame(0, 3, 7, body))
        frame = kafka_wire.read_frame(sock)
    finally:
        sock.close()
    position = 4 + 4  # correlation id, topic count
    (name_length,) = struct.unpack_from(">h", frame, position)
    position += 2 + name_length + 4  # name, partition count
    _index, error, base_offset = struct.unpack_from(">ihq", frame, position)
    return error, base_offset
