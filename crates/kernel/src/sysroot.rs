//! `--sysroot DIR` (`Config::sysroot`): where a guest's absolute path is looked up.
//!
//! A guest absolute path is walked inside DIR first, as if DIR were the root (a
//! chroot, or qemu-user's `-L` with an unpacked userland): every symbolic link met
//! inside DIR is resolved there, an absolute target starts again at DIR, and `..`
//! stops at DIR (`follow_dotdot` at the process root). If the walk reaches an
//! existing object, that object (DIR/…, with its symlinks resolved) is what the call
//! acts on; if it fails anywhere (a missing component, a component that is not a
//! directory, a dangling link, a loop), the guest path is walked on the host's `/`
//! as if there were no sysroot. So an i386 userland unpacked from Debian's packages
//! provides `/lib/ld-linux.so.2`, `/lib/i386-linux-gnu/…` and `/usr/lib/…` even
//! when the host's `/lib` is a symlink to `usr/lib` and has no `i386-linux-gnu`,
//! while `/tmp`, `/dev`, `/etc/passwd` and new files stay the host's.
//!
//! `/proc` and everything under it are never looked up in DIR: the guest kernel
//! answers them ([`crate::procfs`]).

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// `MAXSYMLINKS` (include/linux/namei.h): links followed in one walk.
const MAXSYMLINKS: u32 = 40;

/// The host path standing for guest absolute path `path` inside sysroot `root` (a
/// canonical host directory without a trailing slash), or `None` when `path` is not
/// absolute, is under `/proc`, or does not exist inside `root` (see the module doc).
/// `follow`: whether a symbolic link in the last component is followed (a trailing
/// slash follows it too, as in `link_path_walk`).
pub fn resolve(root: &str, path: &[u8], follow: bool) -> Option<Vec<u8>> {
    if path.first() != Some(&b'/') {
        return None;
    }
    let split = |p: &[u8]| -> VecDeque<Vec<u8>> {
        p.split(|&c| c == b'/').filter(|c| !c.is_empty()).map(<[u8]>::to_vec).collect()
    };
    let mut queue = split(path);
    if queue.front().is_some_and(|c| c == b"proc") {
        return None;
    }
    let trailing = path.ends_with(b"/");
    let follow = follow || trailing;
    let root = root.trim_end_matches('/').as_bytes();
    let host = |parts: &[Vec<u8>]| {
        let mut p = root.to_vec();
        for c in parts {
            p.push(b'/');
            p.extend_from_slice(c);
        }
        p
    };
    // The components walked so far, below `root`, without links.
    let mut resolved: Vec<Vec<u8>> = Vec::new();
    let mut links = 0u32;
    while let Some(name) = queue.pop_front() {
        let last = queue.is_empty();
        if name == b"." {
            continue;
        }
        if name == b".." {
            resolved.pop();
            continue;
        }
        resolved.push(name);
        let p = host(&resolved);
        let md = std::fs::symlink_metadata(OsStr::from_bytes(&p)).ok()?;
        if md.file_type().is_symlink() && (follow || !last) {
            links += 1;
            if links > MAXSYMLINKS {
                return None;
            }
            resolved.pop();
            let target = std::fs::read_link(OsStr::from_bytes(&p)).ok()?;
            let target = target.as_os_str().as_bytes();
            // An absolute target starts again at the sysroot, as in a chroot.
            if target.first() == Some(&b'/') {
                resolved.clear();
            }
            let mut q = split(target);
            q.extend(queue);
            queue = q;
        } else if !last && !md.is_dir() {
            return None;
        }
    }
    let mut p = host(&resolved);
    if trailing {
        p.push(b'/');
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::resolve;
    use std::os::unix::fs::symlink;

    /// A sysroot like an unpacked Debian i386 userland, with links of each kind.
    fn tree(name: &str) -> String {
        let d = std::env::temp_dir().join(format!("growsdown-sysroot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("lib/i386-linux-gnu")).unwrap();
        std::fs::create_dir_all(d.join("usr/lib/i386-linux-gnu")).unwrap();
        std::fs::write(d.join("lib/i386-linux-gnu/libc.so.6"), b"").unwrap();
        std::fs::write(d.join("usr/lib/i386-linux-gnu/libz.so.1.2"), b"").unwrap();
        symlink("i386-linux-gnu/libc.so.6", d.join("lib/libc.so.6")).unwrap();
        symlink("libz.so.1.2", d.join("usr/lib/i386-linux-gnu/libz.so.1")).unwrap();
        symlink("/usr/lib", d.join("ulib")).unwrap();
        symlink("../../../../../lib", d.join("usr/lib/up")).unwrap();
        symlink("/nonexistent", d.join("dangling")).unwrap();
        symlink("loop", d.join("loop")).unwrap();
        std::fs::create_dir_all(d.join("proc")).unwrap();
        d.canonicalize().unwrap().to_str().unwrap().to_string()
    }

    fn r(root: &str, path: &str, follow: bool) -> Option<String> {
        resolve(root, path.as_bytes(), follow).map(|p| String::from_utf8(p).unwrap())
    }

    #[test]
    fn walks_inside_the_sysroot() {
        let d = tree("walk");
        let s = |p: &str| Some(format!("{d}{p}"));
        assert_eq!(r(&d, "/lib/i386-linux-gnu/libc.so.6", true), s("/lib/i386-linux-gnu/libc.so.6"));
        // Relative and absolute links are resolved inside the sysroot.
        assert_eq!(r(&d, "/lib/libc.so.6", true), s("/lib/i386-linux-gnu/libc.so.6"));
        assert_eq!(r(&d, "/ulib/i386-linux-gnu/libz.so.1", true), s("/usr/lib/i386-linux-gnu/libz.so.1.2"));
        // A last component that is a link and is not followed is the link itself.
        assert_eq!(r(&d, "/ulib/i386-linux-gnu/libz.so.1", false), s("/usr/lib/i386-linux-gnu/libz.so.1"));
        assert_eq!(r(&d, "/lib/libc.so.6", false), s("/lib/libc.so.6"));
        // `..` stops at the sysroot, also through a link.
        assert_eq!(r(&d, "/../../lib/./libc.so.6", true), s("/lib/i386-linux-gnu/libc.so.6"));
        assert_eq!(r(&d, "/usr/lib/up/libc.so.6", true), s("/lib/i386-linux-gnu/libc.so.6"));
        assert_eq!(r(&d, "/", true), s("/"));
        assert_eq!(r(&d, "/usr/..", true), Some(d.clone()));
        assert_eq!(r(&d, "/usr/lib/", false), s("/usr/lib/"));
        assert_eq!(r(&d, "/dangling", false), s("/dangling"));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn falls_back_to_the_host() {
        let d = tree("fallback");
        for p in [
            "relative/lib",
            "/missing",
            "/lib/missing.so",
            "/lib/i386-linux-gnu/libc.so.6/x",
            "/dangling",
            "/dangling/x",
            "/loop",
            "/proc",
            "/proc/self/maps",
        ] {
            assert_eq!(r(&d, p, true), None, "{p}");
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
