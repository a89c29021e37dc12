/* Report of the stack-edge tests, run after ESP is restored (see esp-test.S). */
#include "rt.h"

extern struct rt_rusage ru0, ru_mid, ru1;
extern u32 read_value;

void esp_report(const char *name, int mid) __attribute__((noreturn));

void esp_report(const char *name, int mid) {
    rt_puts(name);
    if (mid) {
        /* read-below: a read, then a write to the same address. */
        rt_puts(": read value=");
        rt_putdec((s32)read_value);
        rt_putdelta(&ru0, &ru_mid);
        rt_puts("\n");
        rt_puts(name);
        rt_puts(": write");
        rt_putdelta(&ru_mid, &ru1);
        rt_puts("\n");
    } else {
        rt_puts(": survived");
        rt_putdelta(&ru0, &ru1);
        rt_puts("\n");
    }
    rt_exit(0);
}
