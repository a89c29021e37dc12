#!/usr/bin/env bash
# Runs every case of expected/manifest natively (the host runs i386 code) and
# compares stdout and the exit outcome with the host's expectations:
# expected/native/CASE.out if it exists, else expected/CASE.out, and the "native"
# column of the manifest if set, else the "exit" column.
#
#   guest-images/check-native.sh            check, print a line per case
#   guest-images/check-native.sh --record   (re)write native outputs: a case without
#       expected/CASE.out gets one; a case whose native stdout differs from
#       expected/CASE.out (a hand-written spec golden) gets expected/native/CASE.out.
#   guest-images/check-native.sh --runner "target/release/growsdown run" [CASE...]
#       run the cases through an emulator instead and check them against the spec
#       goldens (expected/CASE.out and the "exit" column); the runner's own stderr
#       is ignored.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
record=0
runner=
case "${1:-}" in
--record) record=1; shift ;;
--runner) runner=$2; shift 2 ;;
esac
only=" $* "
exp=$here/expected
mkdir -p "$exp/native"
out=$(mktemp)
trap 'rm -f "$out" "$out.ref"' EXIT

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }

# Address-space randomisation off, so that the native runs print the same
# absolute addresses every time (util-linux setarch).
norand=
[ -z "$runner" ] && setarch -R true 2>/dev/null && norand="setarch -R"

fail=0
while IFS='|' read -r case binary want native env args opts; do
    case=$(trim "$case")
    [ -z "$case" ] || [ "${case:0:1}" = "#" ] && continue
    binary=$(trim "$binary")
    want=$(trim "$want")
    native=$(trim "$native")
    env=$(trim "$env")
    args=$(trim "$args")
    # The optional 7th column: options for the runner (growsdown run's --mem,
    # --swap); a native run has no such options.
    opts=$(trim "${opts:-}")
    run=$runner
    [ -n "$runner" ] && run="$runner $opts"
    [ "$only" != "  " ] && [[ $only != *" $case "* ]] && continue
    [ -n "$native" ] && [ -z "$runner" ] && want=$native
    # stdout through a pipe read to its end: the output of processes that outlive
    # the program (orphans) is waited for too.
    # shellcheck disable=SC2086 # env, args and the runner are word lists
    { (cd /tmp && exec $norand env -i $env $run "$here/bin/$binary" $args) 2>/dev/null </dev/null | cat >"$out"; } 2>/dev/null
    rc=${PIPESTATUS[0]}
    if [ $rc -gt 128 ]; then got="signal $((rc - 128))"; else got=$rc; fi

    golden=$exp/$case.out
    nat=$exp/native/$case.out
    if [ $record = 1 ]; then
        if [ ! -e "$golden" ]; then
            cp "$out" "$golden"
        elif cmp -s "$out" "$golden"; then
            rm -f "$nat"
        else
            cp "$out" "$nat"
        fi
    fi
    ref=$golden
    [ -e "$nat" ] && [ -z "$runner" ] && ref=$nat
    status=ok
    # Natively, whether a file-backed page faults as major depends on the host's page
    # cache (a freshly built binary is cached, an evicted one is read from disk), not
    # on the program; compare native runs with the major-fault counts masked. Runs
    # through an emulator (--runner) are compared exactly: under the 2.4 rules every
    # do_no_page is major, deterministically.
    if [ -z "$runner" ] && [ -e "$ref" ]; then
        sed -E 's/majflt(\+?)=[0-9]+/majflt\1=N/g' "$ref" >"$out.ref"
        sed -E -i 's/majflt(\+?)=[0-9]+/majflt\1=N/g' "$out"
        cmpref=$out.ref
    else
        cmpref=$ref
    fi
    if [ ! -e "$ref" ]; then
        status="no expected output"
    elif ! cmp -s "$out" "$cmpref"; then
        status="stdout differs from ${ref#"$here"/}"
    fi
    if [ "$got" != "$want" ]; then
        status="${status/#ok/}${status:+; }exit '$got', expected '$want'"
        status=${status#; }
    fi
    if [ "$status" = ok ]; then
        printf '%-32s ok (%s)\n' "$case" "$got"
    else
        printf '%-32s FAIL: %s\n' "$case" "$status"
        [ "$status" != ok ] && [ -e "$ref" ] && diff "$ref" "$out" | head -n 10 | sed 's/^/    /'
        fail=1
    fi
done <"$exp/manifest"
exit $fail
