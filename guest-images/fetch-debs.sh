#!/usr/bin/env bash
# fetch-debs.sh DEST PACKAGE...
#
# Downloads Debian i386 packages with `apt-get download` and unpacks them with
# `dpkg -x` into DEST, without installing them. Used for what cannot (or should
# not) be installed next to gcc-multilib on an amd64 Debian 12:
#   * musl-dev:i386 depends on gcc-i686-linux-gnu, which conflicts with gcc-multilib;
#   * the -dev:i386 static libraries pull libc6-dev:i386 / linux-libc-dev:i386,
#     which are not always co-installable (bookworm-security has no i386 index);
#   * busybox-static:i386 would replace an amd64 /bin/busybox (used by initramfs).
# Each package is fetched once: DEST/.debs/NAME.done marks it as unpacked.
# Needs `dpkg --add-architecture i386` and an apt index that lists i386.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 DEST PACKAGE..." >&2; exit 2; }
dest=$1
shift
mkdir -p "$dest/.debs"
dest=$(cd "$dest" && pwd)

missing=()
for pkg in "$@"; do
    [ -e "$dest/.debs/${pkg%%:*}.done" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cd "$work"
download() {
    # The _apt sandbox user cannot write into a root-owned temp dir; run unsandboxed.
    apt-get -q -o APT::Sandbox::User=root download "$@" >"$work/apt.log" 2>&1
}
if ! download "${missing[@]}"; then
    # Maybe the index does not know i386 yet: refresh it (errors about
    # bookworm-security i386 are expected and harmless) and try once more.
    if [ "$(id -u)" = 0 ]; then
        dpkg --print-foreign-architectures | grep -qx i386 || dpkg --add-architecture i386
        apt-get -q update >"$work/update.log" 2>&1 || true
    fi
    download "${missing[@]}" || { cat "$work/apt.log" >&2; exit 1; }
fi
for pkg in "${missing[@]}"; do
    name=${pkg%%:*}
    deb=$(ls "$work"/"${name}"_*.deb | head -n1)
    dpkg -x "$deb" "$dest"
    touch "$dest/.debs/$name.done"
done
