// CRC-32C (Castagnoli) for Kafka record batches.
//
// Polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value and final xor 0xFFFFFFFF.
// The functions take and return the *finished* CRC value, so checksums can be chained:
//
//     uint32_t crc = brook_crc32c_update(0, first, n1);
//     crc = brook_crc32c_update(crc, second, n2);   // == CRC-32C of first ++ second
//
// brook_crc32c_update(0, "123456789", 9) == 0xE3069283.
//
// Thread safety: every function is safe to call from any thread; lookup tables are built once,
// on first use, under pthread_once.

#ifndef BROOK_CCRC32C_H
#define BROOK_CCRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CRC-32C of `length` bytes at `data`, continuing from the finished CRC `crc` (0 to start).
/// Uses the SSE4.2 `crc32` instruction (three interleaved streams) when the CPU has it, otherwise
/// the portable slicing-by-8 implementation.
uint32_t brook_crc32c_update(uint32_t crc, const void *data, size_t length);

/// Same result as brook_crc32c_update, always computed with the portable slicing-by-8 tables.
uint32_t brook_crc32c_portable(uint32_t crc, const void *data, size_t length);

/// 1 when brook_crc32c_update uses a hardware instruction on this CPU, 0 otherwise.
int brook_crc32c_hardware_available(void);

#ifdef __cplusplus
}
#endif

#endif
