//! The OOM killer (crates/kernel/src/mm/oom_kill.rs) on guest-images/bin/oom-three
//! under `--mem 16M`: emulator only, since natively nothing runs out (the program's
//! native output has every child finish).
//!
//! The scores, by hand, from 2.4's `badness()` (mm/oom_kill.c, 2.4.10+):
//!
//! ```text
//! points = total_vm
//! points /= int_sqrt(cpu_time)            cpu_time = ticks >> 10 = 0 here: int_sqrt(0) = 1
//! points /= int_sqrt(int_sqrt(run_time))  run_time = ticks >> 17 = 0:        int_sqrt(1) = 1
//! nice > 0        → points *= 2
//! root (uid/euid 0 or CAP_SYS_ADMIN) → /4;  CAP_SYS_RAWIO → /4   (the program drops root)
//! ```
//!
//! Each child has the 208 pages of address space it inherited at fork plus the
//! region it mapped; the parent has 209 (the program's committed binary and an empty
//! environment fix these numbers):
//!
//! | pid  | who   | total_vm         | nice | badness        |
//! |------|-------|------------------|------|----------------|
//! | 1000 | parent| 209              | 0    | 209            |
//! | 1001 | nice  | 208 + 1280 = 1488| 10   | 1488 × 2 = 2976|
//! | 1002 | small | 208 + 1024 = 1232| 0    | 1232           |
//! | 1003 | big   | 208 + 2048 = 2256| 0    | 2256           |
//!
//! "big" (1003) is the one whose fault finds no memory; the victim is 1001, "nice",
//! although "big" is the biggest: the nice adjustment decides. 1003's fault is
//! retried after 1001 exits and succeeds.

#[path = "support/mod.rs"]
mod support;
use support::root;

use serde_json::Value;

use support::growsdown_clean as growsdown;

fn image() -> String {
    root().join("guest-images/bin/oom-three").to_str().unwrap().to_string()
}

/// 2.4's `int_sqrt` (the rough one of mm/oom_kill.c).
fn int_sqrt(x: u64) -> u64 {
    let (mut x, mut out) = (x, x);
    while x & !1 != 0 {
        x >>= 2;
        out >>= 1;
    }
    if x != 0 {
        out -= out >> 2;
    }
    out.max(1)
}

#[test]
fn the_oom_killer_picks_what_badness_picks_and_the_others_finish() {
    let file = std::env::temp_dir().join(format!("growsdown-oom-{}.jsonl", std::process::id()));
    let out = growsdown(&[
        "trace",
        "--stats",
        "--mem",
        "16M",
        "--format",
        "jsonl",
        "-o",
        file.to_str().unwrap(),
        &image(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(
        stdout,
        "three children mapped 5, 4 and 8 MiB\n\
         nice touched its memory: yes\n\
         small touched its memory: yes\n\
         big touched its memory: yes\n\
         nice: killed by signal 9 (SIGKILL)\n\
         small: exit 0, checksum e4268200\n\
         big: exit 0, checksum b6210400\n"
    );
    assert!(stderr.contains("growsdown: OOM kills             1\n"), "{stderr}");

    let text = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ooms: Vec<&Value> = lines.iter().filter(|l| l["type"] == "oom_kill").collect();
    assert_eq!(ooms.len(), 1, "one OOM kill");
    let oom = ooms[0];
    assert_eq!(oom["pid"], 1003, "big faults when memory is gone");
    assert_eq!(oom["victim"], 1001);
    assert_eq!(oom["victim_badness"], 2976);
    assert_eq!(oom["signal"], "SIGKILL");
    assert_eq!(oom["killed"], serde_json::json!([1001]));

    let cands = oom["candidates"].as_array().unwrap();
    let got: Vec<(u64, u64, i64, u64)> = cands
        .iter()
        .map(|c| {
            (
                c["pid"].as_u64().unwrap(),
                c["total_vm"].as_u64().unwrap(),
                c["nice"].as_i64().unwrap(),
                c["badness"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(1000, 209, 0, 209), (1001, 1488, 10, 2976), (1002, 1232, 0, 1232), (1003, 2256, 0, 2256)]
    );
    // And the formula, for every candidate, from the inputs the trace gives.
    for c in cands {
        let mut points = c["total_vm"].as_u64().unwrap();
        points /= int_sqrt(c["cpu_time"].as_u64().unwrap());
        points /= int_sqrt(int_sqrt(c["run_time"].as_u64().unwrap()));
        if c["nice"].as_i64().unwrap() > 0 {
            points *= 2;
        }
        if c["root"] == true {
            points /= 4;
        }
        if c["rawio"] == true {
            points /= 4;
        }
        assert_eq!(c["badness"].as_u64().unwrap(), points, "{c}");
        assert_eq!(c["root"], false, "the program drops root");
    }

    // The fault that ran out is retried: oom-retry, then the same address resolved.
    let seq = oom["seq"].as_u64().unwrap();
    let faults: Vec<&Value> = lines.iter().filter(|l| l["type"] == "fault").collect();
    let i = faults.iter().position(|f| f["seq"] == seq).expect("the fault of the OOM kill");
    let f = faults[i];
    assert_eq!(f["result"], "oom-retry");
    assert_eq!(f["pid"], 1003);
    let last = f["path"].as_array().unwrap().last().unwrap();
    assert_eq!(last["fn"], "oom_kill");
    assert_eq!(last["victim"], 1001);
    let again = faults[i + 1..].iter().find(|g| g["pid"] == 1003).expect("big faults again");
    assert_eq!(again["cr2"], f["cr2"]);
    assert_eq!(again["result"], "minor");
    let summary = lines.last().unwrap();
    assert_eq!(summary["oom_kills"], 1);
}

#[test]
fn a_process_alone_is_its_own_victim_and_the_kill_line_says_so() {
    let out = growsdown(&["run", "--mem", "16M", &image(), "alone"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128 + 9), "stderr: {stderr}");
    assert_eq!(
        stdout, "alone: 64 MiB mmap: Cannot allocate memory\nalone: touching 64 MiB (MAP_NORESERVE)\n",
        "vm_enough_memory refuses what MAP_NORESERVE lets through"
    );
    assert!(
        stderr.contains("killed by SIGKILL (signal 9) (OOM killer: out of memory): si_code=128"),
        "{stderr}"
    );

    // overcommit_memory 1: vm_enough_memory grants everything.
    let out = growsdown(&["run", "--mem", "16M", "--overcommit-memory", "1", &image(), "alone"]);
    assert_eq!(out.status.code(), Some(128 + 9));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("alone: 64 MiB mmap: mapped\n"));
}
