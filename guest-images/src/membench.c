/* membench [ROUNDS]: a memory- and string-heavy program for benchmarks.
 *
 * After start-up it touches no new memory: each round moves and scans two static
 * 1 MiB buffers that are paged in first, through glibc's string functions (memset,
 * memcpy, memmove, memcmp, memchr, strlen, strchr, strcpy/strcat, strncmp) and
 * through plain byte and word loops the compiler emits itself, so nearly every
 * instruction is a load, a store or a string instruction. Prints one checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N (1024 * 1024)

static unsigned char src[N], dst[N];
static char text[64 * 1024], small[256];

static unsigned mix(unsigned h, unsigned v) { return (h ^ v) * 16777619u; }

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    unsigned x = 2463534242u, h = 2166136261u;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        src[i] = (unsigned char)x;
    }
    memset(dst, 0, sizeof dst);
    for (size_t i = 0; i < sizeof text - 1; i++) text[i] = (char)('a' + i % 26);
    text[sizeof text - 1] = 0;
    for (int r = 0; r < rounds; r++) {
        memset(dst, r, N);
        h = mix(h, dst[N - 1]);
        memcpy(dst, src, N);
        memmove(dst + 1, dst, N - 1);
        memmove(dst, dst + 3, N - 3);
        h = mix(h, (unsigned)memcmp(src, dst, N) < 0x80000000u);
        unsigned char *m = memchr(dst, (unsigned char)(r * 7), N);
        h = mix(h, m ? (unsigned)(m - dst) : 0);
        /* A word loop and a byte loop: the compiler's own loads and stores. */
        unsigned *sw = (unsigned *)src, *dw = (unsigned *)dst;
        for (size_t i = 0; i < N / 4; i++) dw[i] = sw[N / 4 - 1 - i] + (unsigned)r;
        for (size_t i = 0; i < N; i += 3) h = mix(h, dst[i]);
        text[(r * 4099) % (sizeof text - 1)] = 0;
        h = mix(h, (unsigned)strlen(text));
        char *c = strchr(text, 'z');
        h = mix(h, c ? (unsigned)(c - text) : 0);
        text[(r * 4099) % (sizeof text - 1)] = (char)('a' + (r * 4099) % (sizeof text - 1) % 26);
        for (int k = 0; k < 2000; k++) {
            strcpy(small, "growsdown");
            strcat(small, k & 1 ? " stack" : " page");
            strcat(small, " fault");
            h = mix(h, (unsigned)strncmp(small, "growsdown page", 14) < 0x80000000u);
            h = mix(h, (unsigned)strlen(small));
        }
    }
    printf("membench: %d rounds, checksum %08x\n", rounds, h);
    return 0;
}
