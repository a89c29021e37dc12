//! swapon(2)/swapoff(2) (crates/kernel/src/syscall/swapon.rs) on
//! guest-images/bin/swap-on under `--mem 16M`: emulator only — natively, as root, the
//! program would change the host's swap, so it has no manifest row and is never run
//! outside growsdown. The guest's credentials are the host's: as root it makes its
//! own swap file, pages go there, swapoff (try_to_unuse) brings them back; as
//! another user swapon is EPERM and that is all it checks.

#[path = "support/mod.rs"]
mod support;
use std::process::{Command, Stdio};
use support::root;

const AS_ROOT: &str = "\
bad flags: EINVAL
missing file: ENOENT
no signature: EINVAL
swapon: ok
swapon again: EBUSY
child not root: swapon EPERM, swapoff EPERM
child waited: yes
swapoff of a file that is no swap area: EINVAL
/proc/swaps lists it: yes, used 0: yes
sysinfo totalswap is the area: yes
pages went to it: yes
swapoff with 32 MiB mapped: ENOMEM
/proc/swaps lists it: yes
all data intact: yes
swapoff with 8 MiB mapped: ok
/proc/swaps lists it: no
swapoff again: EINVAL
8 MiB intact: yes
";

#[test]
fn a_guest_swap_file_is_used_and_given_back() {
    let image = root().join("guest-images/bin/swap-on");
    let out = Command::new(env!("CARGO_BIN_EXE_growsdown"))
        .args(["run", "--mem", "16M", image.to_str().unwrap()])
        .env_clear()
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    // SAFETY: geteuid has no arguments and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let want = if euid == 0 { AS_ROOT } else { "not root: swapon EPERM\n" };
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
}
