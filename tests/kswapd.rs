//! kswapd (crates/kernel/src/mm/vmscan.rs) seen from the command line: on
//! guest-images/bin/swap-workset under `--mem 16M --swap 128M`, the reclaim records
//! of `growsdown trace` say who reclaimed, and two runs make the same decisions, by
//! the same reclaimer, with the same `--stats`.

#[path = "support/mod.rs"]
mod support;
use support::root;

use serde_json::Value;

use support::growsdown_clean as growsdown;

/// One traced run: the JSONL reclaim records, as written, and the `--stats` lines
/// that do not depend on the host's speed.
fn traced_run(tag: &str) -> (Vec<String>, Vec<String>) {
    let image = root().join("guest-images/bin/swap-workset");
    let file = std::env::temp_dir().join(format!("growsdown-kswapd-{}-{tag}.jsonl", std::process::id()));
    let out = growsdown(&[
        "trace",
        "--stats",
        "--format",
        "jsonl",
        "-o",
        file.to_str().unwrap(),
        "--mem",
        "16M",
        "--swap",
        "128M",
        image.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let trace = std::fs::read_to_string(&file).expect("the trace");
    let _ = std::fs::remove_file(&file);
    let reclaims: Vec<String> =
        trace.lines().filter(|l| l.starts_with(r#"{"type":"reclaim""#)).map(String::from).collect();
    let stats = stderr
        .lines()
        .filter(|l| l.starts_with("growsdown: ") && !l.contains("MIPS"))
        .map(String::from)
        .collect();
    (reclaims, stats)
}

/// `growsdown: kswapd  W wakeups, F pages freed by kswapd, D direct reclaims`.
fn kswapd_line(stats: &[String]) -> (u64, u64, u64) {
    let line = stats.iter().find(|l| l.starts_with("growsdown: kswapd ")).expect("a kswapd line");
    let n: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    assert_eq!(n.len(), 3, "{line}");
    (n[0], n[1], n[2])
}

#[test]
fn reclaim_records_name_the_reclaimer_and_two_runs_are_the_same() {
    let (reclaims, stats) = traced_run("a");
    assert!(
        stats.iter().any(|l| l == "growsdown: zone watermarks       min 32, low 64, high 96 pages"),
        "16 MiB: pages_min 4096 / 128 = 32: {stats:#?}"
    );
    let (wakeups, by_kswapd, direct) = kswapd_line(&stats);
    assert!(wakeups > 0 && by_kswapd > 0 && direct > 0, "{stats:#?}");
    let (mut kswapd, mut direct_records) = (0, 0);
    for line in &reclaims {
        let v: Value = serde_json::from_str(line).expect("a JSON record");
        match (v["by"].as_str(), &v["by_pid"]) {
            (Some("kswapd"), Value::Null) => kswapd += 1,
            (Some("direct"), p) if p.as_u64() == Some(1000) => direct_records += 1,
            _ => panic!("by/by_pid: {line}"),
        }
    }
    assert!(kswapd > 0 && direct_records > 0, "records by both: {kswapd} by kswapd, {direct_records} direct");
    let (reclaims2, stats2) = traced_run("b");
    assert_eq!(stats, stats2);
    assert_eq!(reclaims.len(), reclaims2.len());
    assert!(reclaims == reclaims2, "the same reclaim records");
}
