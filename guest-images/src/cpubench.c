/* cpubench [ROUNDS]: a CPU-bound, fault-light program for benchmarks.
 *
 * After start-up it touches no new memory: each round runs integer work (an LCG,
 * a shell sort of 4096 ints, a sieve, a CRC-32 over 16 KiB) on static buffers that
 * are already paged in, so nearly every instruction is ordinary ALU, load, store and
 * branch work and page faults are a negligible share. Prints one checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned a[4096];
static unsigned char sieve[65536];
static unsigned char buf[16384];
static unsigned crc_table[256];

static void shell_sort(unsigned *v, int n) {
    static const int gaps[] = {1750, 701, 301, 132, 57, 23, 10, 4, 1};
    for (unsigned g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        int gap = gaps[g];
        for (int i = gap; i < n; i++) {
            unsigned t = v[i];
            int j = i;
            for (; j >= gap && v[j - gap] > t; j -= gap) v[j] = v[j - gap];
            v[j] = t;
        }
    }
}

static unsigned crc32(const unsigned char *p, size_t n) {
    unsigned c = 0xffffffffu;
    while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    for (unsigned i = 0; i < 256; i++) {
        unsigned c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    memset(sieve, 0, sizeof sieve);
    memset(buf, 0, sizeof buf);
    memset(a, 0, sizeof a);
    unsigned x = 12345, sum = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 4096; i++) a[i] = x = x * 1103515245u + 12345u;
        shell_sort(a, 4096);
        memset(sieve, 1, sizeof sieve);
        for (unsigned i = 2; i * i < sizeof sieve; i++)
            if (sieve[i])
                for (unsigned j = i * i; j < sizeof sieve; j += i) sieve[j] = 0;
        unsigned primes = 0;
        for (unsigned i = 2; i < sizeof sieve; i++) primes += sieve[i];
        for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(a[i & 4095] >> (i & 24));
        sum = sum * 31 + a[r & 4095] + primes + crc32(buf, sizeof buf);
    }
    printf("cpubench: %d rounds, checksum %08x\n", rounds, sum);
    return 0;
}
