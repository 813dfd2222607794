// CRC-32C (Castagnoli), reflected, as stored in Kafka record batches. See include/ccrc32c.h.
//
// Two implementations:
//  * portable: slicing-by-8, eight 256-entry tables, 8 bytes per step.
//  * x86-64 with SSE4.2: the `crc32` instruction has a latency of about three cycles but a
//    throughput of one per cycle, so large inputs are cut into three equal stretches whose CRCs
//    are computed at the same time and then combined. Combining uses the linearity of the CRC
//    register: reg(A ++ B) = shift(reg(A), |B|) ^ reg_from_zero(B), where shift(r, n) feeds n
//    zero bytes into the register. shift(r, n) is r * x^(8n) mod P, a linear map of the 32 bits
//    of r, evaluated with four 256-entry tables per block size (built once from the polynomial).
//
// Internal register values below are the complement of the finished CRC.

#include "ccrc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#define POLY 0x82F63B78u

// Stretch sizes (bytes per stream) for the three-way interleaved hardware loop: large inputs
// use long stretches (fewer combines), what is left uses shorter ones.
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256
#define TINY_BLOCK 64

static uint32_t slice8[8][256];
static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];
static uint32_t shift_tiny[4][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static int use_hardware = 0;

// a * b mod P, both in reflected representation (bit 31 is x^0).
static uint32_t gf2_multiply(uint32_t a, uint32_t b) {
    uint32_t product = 0;
    for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
        if (a & m) {
            product ^= b;
        }
        b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
    }
    return product;
}

// x^(8 * bytes) mod P, reflected: the operator that feeds `bytes` zero bytes into the register.
static uint32_t x_pow_8n(uint64_t bytes) {
    uint32_t result = 1u << 31;   // x^0
    uint32_t base = 1u << 23;     // x^8
    while (bytes != 0) {
        if (bytes & 1) {
            result = gf2_multiply(result, base);
        }
        base = gf2_multiply(base, base);
        bytes >>= 1;
    }
    return result;
}

static void build_shift_table(uint32_t table[4][256], uint64_t bytes) {
    uint32_t op = x_pow_8n(bytes);
    for (int k = 0; k < 4; k++) {
        for (uint32_t n = 0; n < 256; n++) {
            table[k][n] = gf2_multiply(op, n << (8 * k));
        }
    }
}

static void build_tables(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        }
        slice8[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        for (int k = 1; k < 8; k++) {
            uint32_t prev = slice8[k - 1][n];
            slice8[k][n] = (prev >> 8) ^ slice8[0][prev & 0xFF];
        }
    }
    build_shift_table(shift_long, LONG_BLOCK);
    build_shift_table(shift_short, SHORT_BLOCK);
    build_shift_table(shift_tiny, TINY_BLOCK);
#if defined(__x86_64__)
    __builtin_cpu_init();
    use_hardware = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#endif
}

static inline void ensure_tables(void) {
    pthread_once(&tables_once, build_tables);
}

static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t portable_register(uint32_t reg, const unsigned char *p, size_t length) {
    while (length != 0 && ((uintptr_t)p & 7) != 0) {
        reg = (reg >> 8) ^ slice8[0][(reg ^ *p++) & 0xFF];
        length--;
    }
    while (length >= 8) {
        // Little-endian word order: the first byte of the input sits in the low bits.
        uint64_t word = load64(p);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        word = __builtin_bswap64(word);
#endif
        word ^= reg;
        reg = slice8[7][word & 0xFF] ^ slice8[6][(word >> 8) & 0xFF] ^
              slice8[5][(word >> 16) & 0xFF] ^ slice8[4][(word >> 24) & 0xFF] ^
              slice8[3][(word >> 32) & 0xFF] ^ slice8[2][(word >> 40) & 0xFF] ^
              slice8[1][(word >> 48) & 0xFF] ^ slice8[0][word >> 56];
        p += 8;
        length -= 8;
    }
    while (length != 0) {
        reg = (reg >> 8) ^ slice8[0][(reg ^ *p++) & 0xFF];
        length--;
    }
    return reg;
}

uint32_t brook_crc32c_portable(uint32_t crc, const void *data, size_t length) {
    ensure_tables();
    return ~portable_register(~crc, (const unsigned char *)data, length);
}

#if defined(__x86_64__)

static inline uint32_t apply_shift(const uint32_t table[4][256], uint32_t reg) {
    return table[0][reg & 0xFF] ^ table[1][(reg >> 8) & 0xFF] ^
           table[2][(reg >> 16) & 0xFF] ^ table[3][reg >> 24];
}

// Runs three interleaved streams over stretches of `block` bytes while at least 3 * block bytes
// remain; returns the register, advances *p and *length.
__attribute__((target("sse4.2"), always_inline))
static inline uint64_t hardware_interleaved(uint64_t c0, const unsigned char **p, size_t *length,
                                            size_t block, const uint32_t table[4][256]) {
    const unsigned char *q = *p;
    size_t n = *length;
    while (n >= 3 * block) {
        uint64_t c1 = 0, c2 = 0;
        const unsigned char *end = q + block;
        do {
            c0 = _mm_crc32_u64(c0, load64(q));
            c1 = _mm_crc32_u64(c1, load64(q + block));
            c2 = _mm_crc32_u64(c2, load64(q + 2 * block));
            q += 8;
        } while (q < end);
        c0 = apply_shift(table, (uint32_t)c0) ^ (uint32_t)c1;
        c0 = apply_shift(table, (uint32_t)c0) ^ (uint32_t)c2;
        q += 2 * block;
        n -= 3 * block;
    }
    *p = q;
    *length = n;
    return c0;
}

__attribute__((target("sse4.2")))
static uint32_t hardware_register(uint32_t reg, const unsigned char *p, size_t length) {
    uint64_t c0 = reg;
    while (length != 0 && ((uintptr_t)p & 7) != 0) {
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
        length--;
    }
    c0 = hardware_interleaved(c0, &p, &length, LONG_BLOCK, shift_long);
    c0 = hardware_interleaved(c0, &p, &length, SHORT_BLOCK, shift_short);
    c0 = hardware_interleaved(c0, &p, &length, TINY_BLOCK, shift_tiny);
    while (length >= 8) {
        c0 = _mm_crc32_u64(c0, load64(p));
        p += 8;
        length -= 8;
    }
    while (length != 0) {
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
        length--;
    }
    return (uint32_t)c0;
}

#endif

uint32_t brook_crc32c_update(uint32_t crc, const void *data, size_t length) {
    ensure_tables();
#if defined(__x86_64__)
    if (use_hardware) {
        return ~hardware_register(~crc, (const unsigned char *)data, length);
    }
#endif
    return ~portable_register(~crc, (const unsigned char *)data, length);
}

int brook_crc32c_hardware_available(void) {
    ensure_tables();
    return use_hardware;
}
