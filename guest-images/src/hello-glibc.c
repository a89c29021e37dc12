/* hello-glibc: the smallest glibc program worth running. Static glibc start-up
 * (TLS through set_thread_area, IRELATIVE relocations chosen from CPUID, brk,
 * AT_RANDOM) followed by stdio.
 * Expected (with arguments "one two" and environment A=1 B=2):
 *   hello from glibc
 *   argc=3 envc=2
 *   argv[1]=one
 *   argv[2]=two
 *   pagesz=4096 clktck=100 platform=i686 random=yes execfn=yes
 *   exit status 0 */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

int main(int argc, char **argv, char **envp) {
    int envc = 0;
    while (envp[envc]) envc++;
    printf("hello from glibc\n");
    printf("argc=%d envc=%d\n", argc, envc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    const char *plat = (const char *)getauxval(AT_PLATFORM);
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    printf("pagesz=%lu clktck=%lu platform=%s random=%s execfn=%s\n", getauxval(AT_PAGESZ),
           getauxval(AT_CLKTCK), plat ? plat : "(none)", getauxval(AT_RANDOM) ? "yes" : "no",
           execfn && strlen(execfn) > 0 ? "yes" : "no");
    return 0;
}
