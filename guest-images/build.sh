#!/usr/bin/env bash
# Rebuilds every guest image in guest-images/bin/ from guest-images/src/.
#
#   guest-images/build.sh            build all
#   guest-images/build.sh NAME...    build only these
#
# Needs gcc-multilib and g++-multilib (amd64 Debian 12). musl and the i386 static
# libraries are taken from /usr when installed there (musl-dev:i386, zlib1g-dev:i386,
# libsqlite3-dev:i386, liblua5.4-dev:i386), otherwise they are downloaded once with
# fetch-debs.sh and unpacked into $GROWSDOWN_I386_SYSROOT (default
# target/i386-sysroot): musl-dev:i386 cannot be installed next to gcc-multilib.
#
# The binaries are committed; after rebuilding, run guest-images/check-native.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
src=$here/src
bin=$here/bin
sysroot=${GROWSDOWN_I386_SYSROOT:-$root/target/i386-sysroot}
mkdir -p "$bin"

# Common flags. -fno-pie -no-pie: ET_EXEC at 0x08048000, as the spec assumes.
GLIBC=(gcc -m32 -static -O2 -fno-pie -no-pie -Wall -Wno-unused-result)
GXX=(g++ -m32 -static -O2 -fno-pie -no-pie -Wall)
FREE=(gcc -m32 -static -nostdlib -ffreestanding -fno-builtin -fno-pie -no-pie
      -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none
      -O2 -Wall -Wl,--build-id=none -I"$src/free")

need_debs() {
    "$here/fetch-debs.sh" "$sysroot" "$@"
}

# musl: Debian's musl-dev:i386 layout, under /usr or the sysroot.
musl_prefix() {
    if [ -e /usr/lib/i386-linux-musl/libc.a ]; then
        echo /usr
    else
        need_debs musl:i386 musl-dev:i386
        echo "$sysroot/usr"
    fi
}

# Static i386 library libNAME.a from package PKG: prints "-isystem ... path/libNAME.a".
lib_prefix() {
    local name=$1 pkg=$2
    if [ -e "/usr/lib/i386-linux-gnu/lib$name.a" ]; then
        echo /usr
    else
        need_debs "$pkg"
        echo "$sysroot/usr"
    fi
}

quiet_link() {
    # Static glibc warns that dlopen/getpwnam in a static binary need the shared
    # libraries at run time; those code paths are never taken here.
    "$@" 2> >(grep -vE 'warning: Using .* in statically linked|in function .*(DlOpen|lookforfunc|loadlib)' >&2)
}

build_one() {
    local name=$1
    case $name in
    hello-glibc | segv-exit | xattr | touch-mem | codegen | scenarios | cpubench | procs | membench | faultbench | trapflag | segments | ldt | procids | sysregs | sigxmm | sigregs | closerange | getdents | fscalls | pgroups | eventfd | pollsel | capget | epoll | shared-file | sysv-ipc | mm-calls | locks | timers | hostsig | rlimits | waitid | priority | io-calls | sockets | signalfd | creds | orphans | vdso | oom-three | swap-workset | swap-fork | swap-procfs | swap-on | swap-shmem | code-rewrite)
        "${GLIBC[@]}" -o "$bin/$name" "$src/$name.c"
        ;;
    threads-fs | threads-sync | threads-tls | threads-cancel | threads-signals | threads-robust | threads-many | threads-exec | futex-fork | futex-timed | threads-futex | sigqueue | creds-threads | host-exec)
        "${GLIBC[@]}" -pthread -o "$bin/$name" "$src/$name.c"
        ;;
    simd-mov) "${GLIBC[@]}" -o "$bin/$name" "$src/$name.c" ;; # no -msse: only the asm runs SSE
    # Not static (issue 14): run through the host's /lib/ld-linux.so.2 (libc6-i386).
    dynamic) gcc -m32 -O2 -fno-pie -no-pie -Wall -o "$bin/$name" "$src/dynamic.c" ;;
    dynamic-pie) gcc -m32 -O2 -fpie -pie -Wall -o "$bin/$name" "$src/dynamic.c" ;;
    static-pie) gcc -m32 -O2 -fpie -static-pie -Wall -o "$bin/$name" "$src/dynamic.c" ;;
    simd-float)
        "${GLIBC[@]}" -o "$bin/$name" "$src/$name.c"
        ;;
    fpbench)
        # Every double operation an x87 instruction, sqrt inline (fsqrt, no errno call).
        "${GLIBC[@]}" -mfpmath=387 -fno-math-errno -o "$bin/$name" "$src/$name.c"
        ;;
    fpbench-sse2)
        # The same program with every double operation an SSE2 instruction.
        "${GLIBC[@]}" -msse2 -mfpmath=sse -fno-math-errno -o "$bin/$name" "$src/fpbench.c"
        ;;
    cpubench-ssse3)
        # Vectorised by the compiler with SSE2/SSSE3 (-O3), scalar floats in SSE.
        "${GLIBC[@]}" -O3 -mssse3 -mfpmath=sse -o "$bin/$name" "$src/cpubench.c"
        ;;
    stackgrow)
        # No stack-clash probes, no canaries: each page is touched by the code
        # under test, in the order the source shows.
        "${GLIBC[@]}" -fno-stack-clash-protection -fno-stack-protector -o "$bin/$name" "$src/$name.c"
        ;;
    thread-stacks)
        # A thread program that grows stacks like stackgrow: the same flags, so each
        # page is touched by the code under test.
        "${GLIBC[@]}" -pthread -fno-stack-clash-protection -fno-stack-protector -o "$bin/$name" "$src/$name.c"
        ;;
    hello-musl)
        local m
        m=$(musl_prefix)
        local ml=$m/lib/i386-linux-musl
        gcc -m32 -static -nostdlib -nostdinc -isystem "$m/include/i386-linux-musl" \
            -fno-pie -no-pie -O2 -Wall -o "$bin/$name" \
            "$ml/crt1.o" "$ml/crti.o" "$src/$name.c" "$ml/libc.a" \
            "$(gcc -m32 -print-libgcc-file-name)" "$ml/crtn.o"
        ;;
    esp32 | esp33 | esp40 | pusha32 | push1 | read-below)
        "${FREE[@]}" -o "$bin/$name" "$src/free/$name.S" "$src/free/esp-report.c" \
            "$src/free/rt.c" "$src/free/rt-asm.S"
        ;;
    x87-qemu | sse-state | eflags-ss)
        "${FREE[@]}" -o "$bin/$name" "$src/free/crt.S" "$src/free/$name.c" \
            "$src/free/rt.c" "$src/free/rt-asm.S"
        ;;
    brk-layout)
        "${FREE[@]}" -T "$src/free/brk-layout.ld" -o "$bin/$name" "$src/free/crt.S" \
            "$src/free/brk-layout.c" "$src/free/rt.c" "$src/free/rt-asm.S"
        ;;
    zlib-demo)
        local p
        p=$(lib_prefix z zlib1g-dev:i386)
        "${GLIBC[@]}" -isystem "$p/include" -o "$bin/$name" "$src/libs/$name.c" \
            "$p/lib/i386-linux-gnu/libz.a"
        ;;
    sqlite-demo)
        local p
        p=$(lib_prefix sqlite3 libsqlite3-dev:i386)
        quiet_link "${GLIBC[@]}" -isystem "$p/include" -o "$bin/$name" "$src/libs/$name.c" \
            "$p/lib/i386-linux-gnu/libsqlite3.a" -lm -lpthread -ldl
        ;;
    lua-demo)
        local p
        p=$(lib_prefix lua5.4 liblua5.4-dev:i386)
        quiet_link "${GLIBC[@]}" -isystem "$p/include/lua5.4" -isystem "$p/include/i386-linux-gnu" \
            -o "$bin/$name" "$src/libs/$name.c" "$p/lib/i386-linux-gnu/liblua5.4.a" -lm -ldl
        ;;
    cxx-demo)
        # Unwind tables found through PT_GNU_EH_FRAME (--eh-frame-hdr, crtbegin.o), as
        # in a dynamic or static-pie link. g++ -static alone links crtbeginT.o, which
        # registers .eh_frame with libgcc: the first throw then sorts every FDE of the
        # program (16.6 M instructions before any frame is unwound; cxx-demo 1000 took
        # 20.8 M instructions instead of 2.6 M, the default size 308 M instead of 234 M),
        # too long for the difftest corpus.
        local crt=()
        for o in crt1.o crti.o crtbegin.o; do crt+=("$(g++ -m32 -print-file-name=$o)"); done
        "${GXX[@]}" -nostartfiles -Wl,--eh-frame-hdr -o "$bin/$name" "${crt[@]}" "$src/libs/$name.cpp" \
            "$(g++ -m32 -print-file-name=crtend.o)" "$(g++ -m32 -print-file-name=crtn.o)"
        ;;
    simd-int) "${GLIBC[@]}" -o "$bin/$name" "$src/$name.c" ;; # no -msse: its only vector code is the asm under test
    simd-state) "${GLIBC[@]}" -o "$bin/$name" "$src/$name.c" ;; # no -msse: only the asm touches MMX/XMM state
    *)
        echo "build.sh: unknown guest image '$name'" >&2
        return 1
        ;;
    esac
}

ALL=(hello-glibc hello-musl stackgrow segv-exit scenarios
     esp32 esp33 esp40 pusha32 push1 read-below brk-layout
     zlib-demo sqlite-demo lua-demo cxx-demo cpubench procs x87-qemu
     membench fpbench faultbench trapflag segments simd-int ldt simd-mov simd-float
     procids sysregs fpbench-sse2 cpubench-ssse3 sigxmm sigregs closerange getdents
     simd-state sse-state eflags-ss fscalls pgroups eventfd pollsel capget epoll
     threads-sync threads-tls threads-cancel threads-signals threads-robust
     threads-many threads-exec futex-fork futex-timed threads-futex thread-stacks threads-fs
     shared-file sysv-ipc mm-calls locks timers hostsig rlimits waitid priority io-calls sockets
     sigqueue signalfd creds creds-threads orphans dynamic dynamic-pie static-pie vdso
     host-exec xattr touch-mem codegen oom-three swap-workset swap-fork swap-procfs swap-on swap-shmem
     code-rewrite)

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=("${ALL[@]}")
fi
for t in "${targets[@]}"; do
    build_one "$t"
done
