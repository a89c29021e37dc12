/* code-rewrite: one instruction address that faults three times, holding a
 * different instruction each time. A two-byte load or store followed by `ret` is
 * written into a read-write-execute page and called with a fresh page's address in
 * EAX, so the load or store faults there: first `mov (%eax),%al` (a read), then,
 * rewritten in place, `mov %al,(%eax)` (a write), then, after the code page is
 * unmapped and a new one mapped at the same address, `mov (%eax),%eax`.
 * tests/trace.rs checks that `growsdown trace` names each one at that EIP: what the
 * tracer remembers of an instruction's bytes must not outlive the bytes. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096

/* The generated code takes its argument and returns its result in EAX. */
typedef unsigned __attribute__((regparm(1))) (*fn)(unsigned);

static unsigned char *fresh(void) {
    void *p = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? 0 : p;
}

static unsigned char *code_page(void *at) {
    void *p = mmap(at, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED : 0), -1, 0);
    return p == MAP_FAILED ? 0 : p;
}

int main(void) {
    unsigned char *code = code_page(0);
    unsigned char *a = fresh(), *b = fresh(), *c = fresh();
    if (!code || !a || !b || !c) {
        perror("mmap");
        return 1;
    }
    static const unsigned char load_byte[] = {0x8a, 0x00, 0xc3};  /* mov (%eax),%al; ret */
    static const unsigned char store_byte[] = {0x88, 0x00, 0xc3}; /* mov %al,(%eax); ret */
    static const unsigned char load_word[] = {0x8b, 0x00, 0xc3};  /* mov (%eax),%eax; ret */

    memcpy(code, load_byte, sizeof load_byte);
    unsigned r = ((fn)(void *)code)((unsigned)a);
    printf("load byte from a fresh page: low byte %u, high bytes are the address: %s\n", r & 0xff,
           (r & ~0xffu) == ((unsigned)a & ~0xffu) ? "yes" : "no");

    memcpy(code, store_byte, sizeof store_byte);
    ((fn)(void *)code)((unsigned)b);
    printf("store byte into a fresh page: stored the address's low byte: %s\n",
           b[0] == ((unsigned)b & 0xff) ? "yes" : "no");

    if (munmap(code, PAGE) != 0 || code_page(code) != code) {
        perror("remap");
        return 1;
    }
    memcpy(code, load_word, sizeof load_word);
    r = ((fn)(void *)code)((unsigned)c);
    printf("load word from a fresh page after remapping the code: %u\n", r);
    return 0;
}
