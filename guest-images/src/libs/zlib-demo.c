/* zlib-demo: links Debian's static i386 zlib (zlib1g-dev:i386).
 * Compresses 256 KiB of generated text at levels 1, 6 and 9, uncompresses each
 * and compares, then a streaming deflate/inflate with a small window and buffer.
 * Prints sizes and checksums; exit status 0 if every round trip matches.
 *
 *   zlib-demo [BYTES]   input size, 1..262144 (default 262144: ~370 M instructions;
 *                       2048: a whole run in about a million, for difftest) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define N (256 * 1024)

static size_t n = N;
static unsigned char src[N], packed[N + N / 100 + 1024], unpacked[N];

static void fill(void) {
    static const char *words[] = {"growsdown", "stack", "page", "fault", "vma", "brk",
                                  "mmap", "expand", "zero", "copy", "on", "write"};
    unsigned x = 12345;
    size_t i = 0;
    while (i < n) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % 12];
        while (*w && i < n) src[i++] = (unsigned char)*w++;
        if (i < n) src[i++] = (x >> 8) % 7 ? ' ' : '\n';
    }
}

static int stream_round_trip(void) {
    z_stream d = {0}, f = {0};
    if (deflateInit2(&d, 5, Z_DEFLATED, 10, 4, Z_DEFAULT_STRATEGY) != Z_OK) return 1;
    unsigned char out[4096];
    size_t packed_len = 0;
    d.next_in = src;
    d.avail_in = (uInt)n;
    int rc;
    do {
        d.next_out = out;
        d.avail_out = sizeof out;
        rc = deflate(&d, Z_FINISH);
        memcpy(packed + packed_len, out, sizeof out - d.avail_out);
        packed_len += sizeof out - d.avail_out;
    } while (rc == Z_OK);
    deflateEnd(&d);
    if (rc != Z_STREAM_END) return 1;
    if (inflateInit2(&f, 10) != Z_OK) return 1;
    f.next_in = packed;
    f.avail_in = (uInt)packed_len;
    size_t got = 0;
    do {
        f.next_out = unpacked + got;
        f.avail_out = (uInt)(n - got < 1000 ? n - got : 1000);
        size_t before = f.avail_out;
        rc = inflate(&f, Z_NO_FLUSH);
        got += before - f.avail_out;
    } while (rc == Z_OK);
    inflateEnd(&f);
    int ok = rc == Z_STREAM_END && got == n && memcmp(src, unpacked, n) == 0;
    printf("stream: windowBits 10, %zu -> %zu bytes, %s\n", n, packed_len, ok ? "round trip ok" : "MISMATCH");
    return !ok;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        n = strtoul(argv[1], NULL, 0);
        if (n < 1 || n > N) {
            fprintf(stderr, "usage: zlib-demo [BYTES], 1..%d\n", N);
            return 2;
        }
    }
    int bad = 0;
    fill();
    printf("zlib %s\n", zlibVersion());
    printf("input %zu bytes, crc32 %08lx, adler32 %08lx\n", n, crc32(0L, src, (uInt)n), adler32(1L, src, (uInt)n));
    for (int level = 1; level <= 9; level += level == 1 ? 5 : 3) {
        uLongf plen = sizeof packed, ulen = sizeof unpacked;
        int c = compress2(packed, &plen, src, n, level);
        int u = uncompress(unpacked, &ulen, packed, plen);
        int ok = c == Z_OK && u == Z_OK && ulen == n && memcmp(src, unpacked, n) == 0;
        printf("level %d: %lu bytes, crc32 of compressed %08lx, %s\n", level, (unsigned long)plen,
               crc32(0L, packed, (uInt)plen), ok ? "round trip ok" : "MISMATCH");
        bad |= !ok;
    }
    bad |= stream_round_trip();
    return bad;
}
