//! Debian's dynamically linked i386 programs under `growsdown run --sysroot DIR`
//! (issue 14): coreutils' `ls -l`, `sort` and `sha256sum`, python3.11-minimal,
//! perl-base and gawk, unpacked with their libraries into DIR by tests/run
//! (`target/i386-userland`, or `$GROWSDOWN_I386_USERLAND`).
//!
//! Each program runs twice with the same arguments, environment (`env -i
//! PATH=/usr/bin:/bin LC_ALL=C`) and working directory: natively, through DIR's own
//! dynamic linker (`DIR/lib/ld-linux.so.2 --library-path DIR/lib/i386-linux-gnu:
//! DIR/usr/lib/i386-linux-gnu DIR/usr/bin/PROG ARGS`), and under growsdown, where the
//! kernel finds ld.so and every library in DIR through the sysroot lookup. stdout,
//! stderr and the exit status must be identical. Nothing printed depends on
//! addresses, time or randomness (python's str hashes are never printed in hash
//! order; the files listed have fixed names and times). A missing userland skips
//! the tests, and fails them under `CI=true`.

#[path = "../../../tests/support/mod.rs"]
mod support;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::root;

/// The unpacked userland, or None (skipped; a failure under `CI=true`).
#[track_caller]
fn userland() -> Option<PathBuf> {
    let d = std::env::var_os("GROWSDOWN_I386_USERLAND")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/i386-userland"));
    if d.join("lib/ld-linux.so.2").exists() && d.join("usr/bin/python3.11").exists() {
        return Some(d.canonicalize().unwrap());
    }
    let msg = format!(
        "{} is missing: run tests/run, which unpacks Debian's i386 coreutils, python3.11-minimal, \
         perl-base and gawk there",
        d.display()
    );
    assert!(std::env::var_os("CI").is_none_or(|v| v != "true"), "{msg} (CI=true)");
    eprintln!("SKIPPED: {msg}");
    None
}

/// A fresh folder of this test's own under the temporary directory.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("growsdown-userland-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Run<'a> {
    dir: &'a Path,
    /// The program, inside the userland (`bin/ls`, `usr/bin/perl`).
    prog: &'a str,
    args: Vec<String>,
    cwd: PathBuf,
    stdin: Vec<u8>,
    env: Vec<(&'a str, &'a str)>,
}

impl<'a> Run<'a> {
    fn new(dir: &'a Path, prog: &'a str, args: &[&str]) -> Self {
        Run {
            dir,
            prog,
            args: args.iter().map(|s| s.to_string()).collect(),
            cwd: std::env::temp_dir(),
            stdin: Vec::new(),
            env: vec![("PATH", "/usr/bin:/bin"), ("LC_ALL", "C")],
        }
    }

    fn output(&self, mut c: Command) -> Output {
        use std::io::Write;
        c.env_clear().envs(self.env.iter().copied()).current_dir(&self.cwd);
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn");
        let mut stdin = child.stdin.take().unwrap();
        let data = self.stdin.clone();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        out
    }

    fn native(&self) -> Output {
        let d = self.dir.display();
        let mut c = Command::new(self.dir.join("lib/ld-linux.so.2"));
        c.arg("--library-path")
            .arg(format!("{d}/lib/i386-linux-gnu:{d}/usr/lib/i386-linux-gnu"))
            .arg(self.dir.join(self.prog))
            .args(&self.args);
        self.output(c)
    }

    fn emulated(&self) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_growsdown"));
        c.arg("run").arg("--sysroot").arg(self.dir).arg(self.dir.join(self.prog)).args(&self.args);
        self.output(c)
    }

    /// Runs both ways; asserts identical stdout, stderr and status. Returns stdout.
    #[track_caller]
    fn same(&self) -> String {
        let n = self.native();
        let e = self.emulated();
        let what = format!("{} {:?}", self.prog, self.args);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        assert_eq!(text(&e.stderr), text(&n.stderr), "{what}: stderr");
        assert_eq!(text(&e.stdout), text(&n.stdout), "{what}: stdout");
        assert_eq!(e.status.code(), n.status.code(), "{what}: status");
        text(&n.stdout)
    }
}

/// Pseudo-random but fixed bytes (xorshift32), for inputs.
fn xorshift(n: usize, mut x: u32) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn ls_long_listing() {
    let Some(dir) = userland() else { return };
    let d = scratch("ls");
    let t = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    for (i, (name, mode, len)) in [
        ("alpha", 0o644, 0usize),
        ("Beta.txt", 0o600, 1234),
        ("gamma-script", 0o755, 77),
        (".hidden", 0o640, 5),
        ("setuid", 0o4755, 10),
        ("a name with spaces", 0o444, 100_000),
    ]
    .into_iter()
    .enumerate()
    {
        let p = d.join(name);
        std::fs::write(&p, vec![b'x'; len]).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(t(1_000_000_000 + i as u64 * 86_400 * 40)).unwrap();
    }
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/inner"), b"inner\n").unwrap();
    std::os::unix::fs::symlink("alpha", d.join("link-to-alpha")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/target", d.join("dangling")).unwrap();
    for p in ["sub/inner", "sub"] {
        let f = std::fs::File::open(d.join(p)).unwrap();
        f.set_modified(t(1_500_000_000)).unwrap();
    }
    let s = d.to_str().unwrap();
    let listing = Run::new(&dir, "bin/ls", &["-l", s]).same();
    assert!(listing.contains("-rwsr-xr-x 1 "), "{listing}");
    assert!(listing.contains("link-to-alpha -> alpha"), "{listing}");
    for args in [
        vec!["-la", s],
        vec!["-lR", s],
        vec!["-l", "--full-time", "-S", s],
        vec!["-lt", "-r", s],
        vec!["-1F", s],
        vec!["-ld", s, "/nonexistent-file"],
        vec!["-lL", s],
    ] {
        Run::new(&dir, "bin/ls", &args).same();
    }
    // The same in the working directory, with relative names.
    let mut r = Run::new(&dir, "bin/ls", &["-l", ".", "sub", "alpha"]);
    r.cwd = d.clone();
    r.same();
    // Without LC_ALL (the POSIX locale by default).
    let mut r = Run::new(&dir, "bin/ls", &["-l", s]);
    r.env = vec![("PATH", "/usr/bin:/bin")];
    r.same();
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn sort_numbers_and_words() {
    let Some(dir) = userland() else { return };
    let d = scratch("sort");
    let words = ["pear", "apple", "fig", "Kiwi", "banana", "cherry", "date", "apple", "Zucchini"];
    let mut text = String::new();
    let bytes = xorshift(2000, 2463534242);
    for (i, c) in bytes.chunks(4).enumerate() {
        let n = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) % 5000;
        let neg = if c[0] & 1 == 1 { "-" } else { "" };
        text.push_str(&format!("{neg}{n}\t{}\t{}\n", words[i % words.len()], c[1] % 7));
    }
    assert!(text.len() > 4000);
    let f = d.join("input");
    std::fs::write(&f, &text).unwrap();
    let fs = f.to_str().unwrap();
    let out = Run::new(&dir, "usr/bin/sort", &["-n", fs]).same();
    assert_eq!(out.lines().count(), 500);
    for args in [
        vec![fs],
        vec!["-r", fs],
        vec!["-nr", fs],
        vec!["-u", "-t", "\t", "-k2,2", fs],
        vec!["-n", "-u", fs],
        vec!["-t", "\t", "-k3,3n", "-k1,1nr", fs],
        vec!["-f", "-k2", fs],
        vec!["-c", fs],
        vec!["-n", "/nonexistent-input"],
    ] {
        Run::new(&dir, "usr/bin/sort", &args).same();
    }
    // From stdin.
    let mut r = Run::new(&dir, "usr/bin/sort", &["-rn"]);
    r.stdin = text.into_bytes();
    r.same();
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn sha256sum_of_a_megabyte() {
    let Some(dir) = userland() else { return };
    let d = scratch("sha");
    let f = d.join("data");
    std::fs::write(&f, xorshift(1 << 20, 88675123)).unwrap();
    std::fs::write(d.join("empty"), b"").unwrap();
    let out = Run::new(&dir, "usr/bin/sha256sum", &[f.to_str().unwrap()]).same();
    assert_eq!(out.len(), 64 + 2 + f.to_str().unwrap().len() + 1, "{out}");
    let mut r = Run::new(&dir, "usr/bin/sha256sum", &["data", "empty", "missing"]);
    r.cwd = d.clone();
    let sums = r.same();
    std::fs::write(d.join("sums"), sums).unwrap();
    let mut r = Run::new(&dir, "usr/bin/sha256sum", &["-c", "sums"]);
    r.cwd = d.clone();
    r.same();
    let mut r = Run::new(&dir, "usr/bin/sha256sum", &["-"]);
    r.stdin = xorshift(300_000, 1);
    r.same();
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn python_programs() {
    let Some(dir) = userland() else { return };
    let programs = [
        // Arithmetic, bigints, floats.
        "print(2**200, 7**77 % 1000003, -17 // 5, -17 % 5, 1/3, round(2.675, 2), 10**40 // 7)\n\
         print(float('1e308') * 10, -0.0, 1e-320, format(123456789.125, ',.2f'), (1 << 100).bit_length())\n\
         import math; print(math.sqrt(2), math.factorial(30), math.gcd(2**64, 6**20), math.pi)",
        // Dicts, lists, a small class, exceptions.
        "class P:\n    def __init__(s, x): s.x = x\n    def __repr__(s): return 'P(%r)' % s.x\n    \
         def __lt__(s, o): return s.x < o.x\n\
         d = {str(i): i * i for i in range(25)}\n\
         print(sorted(d.items())[:5], len(d), sum(d.values()))\n\
         print(sorted([P(3), P(1), P(2)]), [x for x in range(30) if x % 7 == 3])\n\
         try:\n    {}['missing']\nexcept KeyError as e:\n    print('KeyError', e)\n\
         print(list(zip('abc', range(3))), ' '.join(reversed('a b c'.split())))",
        // Modules of -minimal.
        "import os, sys, re, struct, collections, hashlib, datetime, random, pickle, base64, functools\n\
         print(sys.version_info[:2], sys.prefix == os.path.dirname(os.path.dirname(sys.executable)))\n\
         print(re.sub(r'(\\d+)', r'<\\1>', 'a1b22c333'), struct.pack('<iHd', 7, 9, 1.5))\n\
         print(hashlib.sha256(b'abc').hexdigest(), hashlib.md5(b'').hexdigest())\n\
         print(datetime.date(2020, 2, 29) + datetime.timedelta(days=400))\n\
         random.seed(42); print(random.random(), random.randint(1, 1000))\n\
         print(pickle.loads(pickle.dumps({1: [2, 3.5, 'x']})), base64.b64encode(b'growsdown'))\n\
         print(collections.Counter('mississippi').most_common(3), functools.reduce(lambda a, b: a * b, range(1, 20)))\n\
         print(os.getcwd() == os.path.realpath('.'), os.path.exists('/nonexistent'), os.getpid() > 0)",
        // Exit status and stderr.
        "import sys; print('out'); sys.stderr.write('err\\n'); sys.exit(7)",
        "raise ValueError('boom')",
    ];
    for p in programs {
        Run::new(&dir, "usr/bin/python3.11", &["-I", "-B", "-c", p]).same();
    }
}

#[test]
fn perl_programs() {
    let Some(dir) = userland() else { return };
    let programs = [
        "my %h = map { $_ => $_ ** 2 } 1..12; print join(',', map {\"$_=$h{$_}\"} sort { $a <=> $b } keys %h), \"\\n\";",
        "my $s = 'The quick brown fox 123 jumps 4567'; my @n = $s =~ /(\\d+)/g; print \"@n\\n\"; \
         (my $t = $s) =~ s/(\\w+)/\\u$1/g; print \"$t\\n\"; print join('|', split /\\s+/, $s), \"\\n\"; \
         print 'yes' if $s =~ /^The\\s+(\\w+)/ && $1 eq 'quick'; print \"\\n\";",
        "printf(\"%.3f %e %x %o %s %5.1f|%-6s|%+d %08.3f\\n\", 3.14159, 12345.678, 255, 8, 'str', 2.25, 'ab', 5, -3.5);",
        "my $p = pack('NnC A3 V', 0xdeadbeef, 513, 7, 'xyz', 42); print unpack('H*', $p), \"\\n\"; \
         my @u = unpack('NnC A3 V', $p); print \"@u\\n\";",
        "print join(' ', sort { $b cmp $a } qw(pear apple fig)), \"\\n\"; \
         print 2**53 + 1, ' ', 9**20, ' ', int(7/2), ' ', -7 % 3, ' ', 10/3, \"\\n\"; \
         my @a = (5, 3, 9, 1); print 'max ', (sort { $b <=> $a } @a)[0], ' sum ', eval { my $s = 0; $s += $_ for @a; $s }, \"\\n\";",
        "print STDERR \"to stderr\\n\"; print \"to stdout\\n\"; exit 3;",
        "die \"dying\\n\";",
    ];
    for p in programs {
        Run::new(&dir, "usr/bin/perl", &["-e", p]).same();
    }
}

#[test]
fn gawk_programs() {
    let Some(dir) = userland() else { return };
    let d = scratch("gawk");
    let input = d.join("input");
    std::fs::write(&input, "root:x:0:0\nbin:x:2:2\nroot:y:5:1\nsys:z:17:3\ndaemon:q:1:1\n").unwrap();
    let i = input.to_str().unwrap();
    let programs = [
        "BEGIN { FS = \":\" } { n[$1]++; s += $3; printf \"%-10s %8.3f %d\\n\", $1, $3 / 7, NF } \
         END { for (k in n) c++; printf \"count %d sum %d avg %f\\n\", c, s, s / NR }",
        "BEGIN { print length(\"hello\"), substr(\"abcdef\", 2, 3), toupper(\"x\"), index(\"hello\", \"l\"), \
         sprintf(\"%05.1f|%e|%g|%x|%c\", 3.14159, 1234.5, 0.0001, 255, 65); \
         x = \"a-b-c\"; print split(x, arr, \"-\"), arr[3]; print 2^31, 2^53, int(-3.7), 7 % 3, -7 % 3; \
         s = \"foo bar foo\"; print gsub(/foo/, \"baz\", s), s; print match(\"xxabcxx\", /abc/), RSTART, RLENGTH }",
        "BEGIN { FS = \":\" } $3 > 1 { print NR \": \" $1 } /root/ { r++ } END { print \"root lines\", r }",
        "BEGIN { n = split(\"5 3 9 1 7\", a, \" \"); asort(a); for (i = 1; i <= n; i++) printf \"%s \", a[i]; print \"\"; \
         printf \"%.10f %d\\n\", atan2(0, -1), log(exp(3)) }",
        "BEGIN { print 1 / 0 }",
        "BEGIN { exit 4 }",
    ];
    for p in programs {
        Run::new(&dir, "usr/bin/gawk", &[p, i]).same();
    }
    let mut r = Run::new(&dir, "usr/bin/gawk", &["{ print NR, $2, $1 }"]);
    r.stdin = b"a b\nc d\ne f\n".to_vec();
    r.same();
    let _ = std::fs::remove_dir_all(&d);
}

/// The sysroot lookup itself (docs/process-image.md, `--sysroot`), with busybox's
/// applets as the guest: a path is walked inside the sysroot first, its relative and
/// absolute links resolved there (DIR/lib -> usr/lib as in Debian's merged /usr,
/// an absolute link re-rooted at DIR, `..` stopping at DIR), and on the host's / when
/// it does not exist there; /proc is always the guest kernel's; `/` lists DIR.
#[test]
fn sysroot_lookup_walks_inside_the_sysroot_first() {
    let d = scratch("lookup").canonicalize().unwrap();
    std::fs::create_dir_all(d.join("usr/lib/i386-linux-gnu")).unwrap();
    std::fs::create_dir_all(d.join("etc")).unwrap();
    std::fs::create_dir_all(d.join("opt")).unwrap();
    std::os::unix::fs::symlink("usr/lib", d.join("lib")).unwrap();
    std::fs::write(d.join("usr/lib/i386-linux-gnu/file"), "in the sysroot\n").unwrap();
    std::os::unix::fs::symlink("/usr/lib/i386-linux-gnu/file", d.join("etc/abs-link")).unwrap();
    std::os::unix::fs::symlink("../../../lib", d.join("opt/up")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", d.join("etc/dangling")).unwrap();
    let host = scratch("lookup-host").canonicalize().unwrap();
    std::fs::write(host.join("host-file"), "on the host\n").unwrap();
    // The same folder in the sysroot, without the files.
    let mirror = d.join(host.strip_prefix("/").unwrap());
    std::fs::create_dir_all(&mirror).unwrap();
    let script = format!(
        "cat /lib/i386-linux-gnu/file /etc/abs-link /opt/up/i386-linux-gnu/file /../../lib/./i386-linux-gnu/file; \
         readlink /etc/abs-link; cat {h}/host-file; test -e /etc/hostname && echo host /etc; \
         cat /etc/dangling 2>/dev/null || echo dangling: host lookup fails; \
         test -e /proc/self/exe && echo proc; ls /; \
         cd /lib/i386-linux-gnu && cat ./file; echo new > {h}/created; cat {h}/created",
        h = host.display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_growsdown"))
        .arg("run")
        .arg("--sysroot")
        .arg(&d)
        .arg(support::busybox())
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    // `ls /`: the sysroot's top level, the mirror's first component included.
    let mut top: Vec<String> =
        std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    top.sort();
    let top: String = top.iter().map(|n| format!("{n}\n")).collect();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "in the sysroot\nin the sysroot\nin the sysroot\nin the sysroot\n/usr/lib/i386-linux-gnu/file\n\
         on the host\nhost /etc\ndangling: host lookup fails\nproc\n{top}in the sysroot\nnew\n"
        )
    );
    assert_eq!(out.status.code(), Some(0));
    // A new file: its folder exists in both, the file in neither, so the walk in
    // the sysroot fails at the last component and the file is made on the host.
    assert!(host.join("created").exists() && !mirror.join("created").exists());
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&host);
}
