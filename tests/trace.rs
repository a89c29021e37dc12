//! `growsdown trace`: the events are what the Linux 2.4 spec predicts, their counts
//! agree with --stats and with what the guest reads from getrusage(), the JSONL
//! follows docs/trace-format.md, the text output of a fixed program is stable, and
//! the SVG is well-formed XML with one mark per fault.

#[path = "support/mod.rs"]
mod support;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use support::root;

use serde_json::Value;

fn image(name: &str) -> PathBuf {
    root().join("guest-images/bin").join(name)
}

fn scratch(name: &str) -> PathBuf {
    // Tests run in parallel and may trace the same program: one file per call.
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("growsdown-trace-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(format!("{n}-{name}"))
}

use support::growsdown_clean as growsdown;

/// The fault records and the summary of a JSONL trace of `prog args`.
fn jsonl(prog: &str, args: &[&str]) -> (Vec<Value>, Value, Output) {
    let out_file = scratch(&format!("{prog}-{}.jsonl", args.join("_")));
    let p = image(prog);
    let mut a = vec!["trace", "--format", "jsonl", "-o", out_file.to_str().unwrap(), p.to_str().unwrap()];
    a.extend_from_slice(args);
    let out = growsdown(&a);
    let text = std::fs::read_to_string(&out_file).unwrap();
    let mut lines: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    let summary = lines.pop().expect("a summary line");
    assert_eq!(summary["type"], "summary");
    (lines, summary, out)
}

fn hex(v: &Value) -> u32 {
    let s = v.as_str().unwrap_or_else(|| panic!("{v} is not an address string"));
    u32::from_str_radix(s.strip_prefix("0x").expect("0x prefix"), 16).unwrap()
}

fn fns(ev: &Value) -> Vec<String> {
    ev["path"].as_array().unwrap().iter().map(|s| s["fn"].as_str().unwrap().to_string()).collect()
}

fn step<'a>(ev: &'a Value, f: &str) -> &'a Value {
    ev["path"].as_array().unwrap().iter().find(|s| s["fn"] == f).unwrap_or_else(|| panic!("no {f} in {ev}"))
}

#[test]
fn jsonl_follows_the_documented_schema() {
    let (events, summary, out) = jsonl("stackgrow", &[]);
    assert!(out.status.success());
    assert!(events.len() > 100);
    for (i, ev) in events.iter().enumerate() {
        assert_eq!(ev["type"], "fault");
        assert_eq!(ev["seq"].as_u64(), Some(i as u64 + 1), "seq runs 1, 2, 3 ...");
        for f in ["pid", "tid", "icount", "error_code", "min_flt", "maj_flt"] {
            assert!(ev[f].is_u64(), "{f} is a number in {ev}");
        }
        for f in ["eip", "cr2", "esp"] {
            hex(&ev[f]);
        }
        assert!(ev["insn"].is_string() && ev["kernel_mode"].is_boolean());
        let code = ev["error_code"].as_u64().unwrap();
        assert_eq!(ev["error"]["access"], if code & 2 != 0 { "write" } else { "read" });
        assert_eq!(ev["error"]["cause"], if code & 1 != 0 { "protection" } else { "not-present" });
        assert_eq!(ev["error"]["mode"], if code & 4 != 0 { "user" } else { "kernel" });
        assert_eq!(ev["kernel_mode"], code & 4 == 0);
        assert!(
            ev["vma"].is_null()
                || (ev["vma"]["flags"].as_str().unwrap().len() == 4 && ev["vma"]["growsdown"].is_boolean())
        );
        assert_eq!(fns(ev)[0], "do_page_fault");
        assert!(["minor", "major", "sigsegv", "sigbus", "efault", "oom"]
            .contains(&ev["result"].as_str().unwrap()));
        assert_eq!(ev["si_code"].is_null(), !["sigsegv", "sigbus"].contains(&ev["result"].as_str().unwrap()));
        for f in ["rss", "pswpin", "pswpout"] {
            assert!(ev["mem"][f].is_u64(), "mem.{f} is a number in {ev}");
        }
    }
    assert_eq!(summary["faults"].as_u64(), Some(events.len() as u64));
    let by_result: u64 =
        summary["by_result"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(by_result, events.len() as u64);
}

/// Spec §8.1: a push just below the stack VMA is error code 6, expand_stack, a new
/// zeroed frame from do_anonymous_page, a minor fault.
#[test]
fn push_below_the_stack_expands_it() {
    let (events, _, out) = jsonl("push1", &[]);
    assert!(out.status.success());
    let ev =
        events.iter().find(|e| e["error_code"] == 6 && fns(e).contains(&"expand_stack".to_string())).unwrap();
    let esp = hex(&ev["esp"]);
    assert_eq!(hex(&ev["cr2"]), esp - 4, "the push writes ESP-4");
    assert_eq!(esp & 0xfff, 0, "ESP sits at the stack VMA's start");
    assert_eq!(
        fns(ev),
        [
            "do_page_fault",
            "find_vma",
            "esp_check",
            "expand_stack",
            "good_area",
            "handle_mm_fault",
            "handle_pte_fault",
            "do_anonymous_page"
        ]
    );
    let x = step(ev, "expand_stack");
    assert_eq!(hex(&x["old_start"]), esp);
    assert_eq!(hex(&x["new_start"]), esp - 0x1000);
    assert_eq!(step(ev, "do_anonymous_page")["zero_page"], false);
    assert_eq!(ev["result"], "minor");
    assert_eq!(ev["insn"], "push eax");
    assert_eq!(hex(&ev["vma"]["start"]), esp - 0x1000);
    assert_eq!(ev["vma"]["growsdown"], true);
}

/// Spec §8.4: a read below the stack maps ZERO_PAGE (code 4); the write after it is
/// code 7 and do_wp_page copies (clears) a new frame.
#[test]
fn read_then_write_below_the_stack_is_zero_page_then_cow() {
    let (events, _, out) = jsonl("read-below", &[]);
    assert!(out.status.success());
    let i = events
        .iter()
        .position(|e| e["error_code"] == 4 && fns(e).contains(&"expand_stack".to_string()))
        .unwrap();
    let (read, write) = (&events[i], &events[i + 1]);
    assert_eq!(step(read, "do_anonymous_page")["zero_page"], true);
    assert_eq!(read["result"], "minor");
    assert_eq!(write["error_code"], 7);
    assert_eq!(write["cr2"], read["cr2"]);
    let wp = step(write, "do_wp_page");
    assert_eq!((wp["action"].as_str(), wp["from_zero_page"].as_bool()), (Some("copy"), Some(true)));
    assert_eq!(write["result"], "minor");
}

/// Spec §8.7: a write into text reaches good_area and is refused: bad_area,
/// SEGV_ACCERR, no counter change.
#[test]
fn write_into_text_is_bad_area_accerr() {
    let (events, _, out) = jsonl("scenarios", &["write-text"]);
    assert!(out.status.success());
    let segv: Vec<&Value> = events.iter().filter(|e| e["result"] == "sigsegv").collect();
    assert_eq!(segv.len(), 3, "three refused writes in the write-text scenario");
    for ev in segv {
        assert_eq!(ev["si_code"], 2);
        assert_eq!(step(ev, "bad_area")["si_code"], 2);
        assert!(fns(ev).contains(&"good_area".to_string()) || fns(ev).contains(&"bad_area".to_string()));
        assert_eq!(ev["vma"]["flags"], "r-xp");
    }
}

/// Spec §8.5 on an anonymous mmap: read → ZERO_PAGE, write → code 7 copy.
#[test]
fn anonymous_mmap_zero_page_then_copy() {
    let (events, _, _) = jsonl("scenarios", &["zeropage-cow"]);
    let at = |a: u32| events.iter().filter(move |e| hex(&e["cr2"]) & !0xfff == a).collect::<Vec<_>>();
    let p = at(0x4000_0000);
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0]["error_code"].as_u64(), step(p[0], "do_anonymous_page")["zero_page"].as_bool()),
        (Some(4), Some(true))
    );
    assert_eq!(p[1]["error_code"], 7);
    assert_eq!(step(p[1], "do_wp_page")["action"], "copy");
    let q = at(0x4000_1000);
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0]["error_code"].as_u64(), step(q[0], "do_anonymous_page")["zero_page"].as_bool()),
        (Some(6), Some(false))
    );
}

/// The minor/major events equal --stats, and the counts the guest read with
/// getrusage() are the running counts at one of the events.
#[test]
fn counts_agree_with_stats_and_getrusage() {
    let (events, summary, out) = jsonl("stackgrow", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let minor = events.iter().filter(|e| e["result"] == "minor").count() as u64;
    let major = events.iter().filter(|e| e["result"] == "major").count() as u64;
    assert_eq!(summary["by_result"]["minor"].as_u64(), Some(minor));
    let last = events.last().unwrap();
    assert_eq!((last["min_flt"].as_u64(), last["maj_flt"].as_u64()), (Some(minor), Some(major)));

    let p = image("stackgrow");
    let stats = growsdown(&["run", "--stats", p.to_str().unwrap()]);
    let s = String::from_utf8_lossy(&stats.stderr);
    let field = |name: &str| -> u64 {
        let line = s.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no '{name}' in {s}"));
        line.split_whitespace().nth(3).unwrap().parse().unwrap()
    };
    assert_eq!((field("minor faults"), field("major faults")), (minor, major), "--stats and the trace agree");

    // stackgrow prints "stackgrow totals: minflt=N majflt=M" from getrusage().
    let totals = stderr.lines().find(|l| l.starts_with("stackgrow totals:")).expect("guest totals line");
    let num = |k: &str| -> u64 {
        totals.split(k).nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap()
    };
    let (g_min, g_maj) = (num("minflt="), num("majflt="));
    assert!(
        events.iter().any(|e| e["min_flt"].as_u64() == Some(g_min) && e["maj_flt"].as_u64() == Some(g_maj)),
        "getrusage's ({g_min}, {g_maj}) is the running count after some fault"
    );
}

#[test]
fn text_trace_of_esp32_matches_golden() {
    // Run as ./esp32 from its folder: argv[0] and the file name are copied onto the
    // initial stack, so an absolute path would make ESP depend on where the checkout
    // lives.
    let out = Command::new(env!("CARGO_BIN_EXE_growsdown"))
        .args(["trace", "./esp32"])
        .env_clear()
        .current_dir(root().join("guest-images/bin"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let got = String::from_utf8_lossy(&out.stderr).to_string();
    let golden_path = root().join("tests/golden/trace-esp32.txt");
    if std::env::var_os("GROWSDOWN_BLESS").is_some() {
        std::fs::write(&golden_path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden_path)
        .expect("tests/golden/trace-esp32.txt (GROWSDOWN_BLESS=1 writes it)");
    assert_eq!(got, want, "text trace differs from the golden file");
}

#[test]
fn svg_is_well_formed_with_one_mark_per_fault() {
    let svg = scratch("stackgrow.svg");
    let jl = scratch("stackgrow-svg.jsonl");
    let p = image("stackgrow");
    let out = growsdown(&[
        "trace",
        "--format",
        "jsonl",
        "-o",
        jl.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
        p.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let faults =
        std::fs::read_to_string(&jl).unwrap().lines().filter(|l| l.contains("\"type\":\"fault\"")).count();
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root_el = doc.root_element();
    assert_eq!(root_el.tag_name().name(), "svg");
    assert_eq!(root_el.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    let marks = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("class") == Some("fault"))
        .count();
    assert_eq!(marks, faults);
    assert!(doc.descendants().any(|n| n.attribute("class") == Some("stack-bound")));
    let labels: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    for l in ["text", "stack"] {
        assert!(labels.contains(&l), "band label {l}");
    }
    // Resident pages always; no swap, so no swap lines.
    let lines: Vec<&str> = mem_lines(&doc).iter().map(|n| n.attribute("data-line").unwrap()).collect();
    assert_eq!(lines, ["resident"]);
}

/// The SVG's memory curves (`<polyline class="mem">`).
fn mem_lines<'a, 'i>(doc: &'a roxmltree::Document<'i>) -> Vec<roxmltree::Node<'a, 'i>> {
    doc.descendants().filter(|n| n.has_tag_name("polyline") && n.attribute("class") == Some("mem")).collect()
}

/// `growsdown trace --format jsonl -o … --svg … --stats --mem 16M --swap 128M
/// swap-workset`: its records (faults and reclaim decisions), the SVG and the
/// --stats lines.
fn swap_workset_trace() -> (Vec<Value>, String, String) {
    let jl = scratch("swap-workset.jsonl");
    let svg = scratch("swap-workset.svg");
    let p = image("swap-workset");
    let out = growsdown(&[
        "trace",
        "--format",
        "jsonl",
        "-o",
        jl.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
        "--stats",
        "--mem",
        "16M",
        "--swap",
        "128M",
        p.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("mismatches 0"));
    let mut records: Vec<Value> = std::fs::read_to_string(&jl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(records.pop().unwrap()["type"], "summary");
    (records, std::fs::read_to_string(&svg).unwrap(), stderr)
}

/// The number --stats prints after `name`, `index`th of the line's numbers.
fn stats_number(stats: &str, name: &str, index: usize) -> u64 {
    let line = stats.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no '{name}' in {stats}"));
    line.split(|c: char| !c.is_ascii_digit()).filter(|w| !w.is_empty()).nth(index).unwrap().parse().unwrap()
}

/// Issue 15's observability: the SVG of a run that swaps draws resident pages,
/// pages swapped out and pages swapped in over time, ending at what --stats prints;
/// every record carries the counters the curves are drawn from.
#[test]
fn svg_of_a_swap_run_draws_resident_swapped_out_and_swapped_in() {
    let (records, svg, stats) = swap_workset_trace();
    let (swapped_in, swapped_out) =
        (stats_number(&stats, "pages swapped in/out", 0), stats_number(&stats, "pages swapped in/out", 1));
    assert!(swapped_in > 0 && swapped_out > 0, "{stats}");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let lines = mem_lines(&doc);
    let names: Vec<&str> = lines.iter().map(|n| n.attribute("data-line").unwrap()).collect();
    assert_eq!(names, ["resident", "swapped-out", "swapped-in"]);
    let final_of = |name: &str| -> u64 {
        let n = lines.iter().find(|n| n.attribute("data-line") == Some(name)).unwrap();
        n.attribute("data-final").unwrap().parse().unwrap()
    };
    assert_eq!(final_of("swapped-out"), swapped_out, "{stats}");
    assert_eq!(final_of("swapped-in"), swapped_in, "{stats}");
    // One process: the machine's resident pages peak where its own do.
    let peak = stats_number(&stats, "peak resident pages", 0);
    let title = |name: &str| {
        let n = lines.iter().find(|n| n.attribute("data-line") == Some(name)).unwrap();
        n.children().find(|c| c.has_tag_name("title")).and_then(|t| t.text()).unwrap().to_string()
    };
    assert!(title("resident").ends_with(&format!("peak {peak}")), "{}", title("resident"));
    assert!(title("swapped-out").ends_with(&format!(": {swapped_out}")), "{}", title("swapped-out"));
    // The swap curves only rise (y grows downwards) and run to the right edge.
    for name in ["swapped-out", "swapped-in"] {
        let n = lines.iter().find(|n| n.attribute("data-line") == Some(name)).unwrap();
        let pts: Vec<(f64, f64)> = n
            .attribute("points")
            .unwrap()
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        assert!(pts.windows(2).all(|w| w[1].0 >= w[0].0 && w[1].1 <= w[0].1), "{name} only rises");
        let right = pts.iter().map(|p| p.0).fold(0.0, f64::max);
        assert_eq!(pts.last().unwrap().0, right);
    }
    // The records' counters: the swap counts never fall, and the last record's are
    // at most the end's.
    let mut last = (0, 0);
    for r in &records {
        let m = &r["mem"];
        let now = (m["pswpin"].as_u64().unwrap(), m["pswpout"].as_u64().unwrap());
        assert!(m["rss"].is_u64() && now.0 >= last.0 && now.1 >= last.1, "{r}");
        last = now;
    }
    assert!(last.0 <= swapped_in && last.1 <= swapped_out);
    assert!(records.iter().any(|r| r["type"] == "reclaim") && records.iter().any(|r| r["type"] == "fault"));
}

/// The value and size of the ELF32 symbol whose name is `name` or starts with
/// `name.` (a function's static variable: GCC names it `hot.1`).
fn elf_symbol(path: &std::path::Path, name: &str) -> (u32, u32) {
    let f = std::fs::read(path).unwrap();
    let u16_at = |o: usize| u16::from_le_bytes([f[o], f[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(f[o..o + 4].try_into().unwrap());
    assert_eq!(&f[..5], b"\x7fELF\x01", "an ELF32 file");
    let (shoff, shentsize, shnum) = (u32_at(0x20) as usize, u16_at(0x2e), u16_at(0x30));
    let section = |i: usize| shoff + i * shentsize;
    for i in 0..shnum {
        let sh = section(i);
        // SHT_SYMTAB, its string table in sh_link.
        if u32_at(sh + 4) != 2 {
            continue;
        }
        let (off, size, link, entsize) = (
            u32_at(sh + 16) as usize,
            u32_at(sh + 20) as usize,
            u32_at(sh + 24) as usize,
            u32_at(sh + 36) as usize,
        );
        let strtab = u32_at(section(link) + 16) as usize;
        for sym in (off..off + size).step_by(entsize) {
            let n = strtab + u32_at(sym) as usize;
            let end = n + f[n..].iter().position(|&b| b == 0).unwrap();
            let sname = std::str::from_utf8(&f[n..end]).unwrap();
            if sname == name || sname.strip_prefix(name).is_some_and(|r| r.starts_with('.')) {
                return (u32_at(sym + 4), u32_at(sym + 8));
            }
        }
    }
    panic!("no symbol {name} in {}", path.display());
}

/// Issue 15: "a page touched often stays resident while untouched ones go out (from
/// the trace)". swap-workset touches its `hot` array between every page of its
/// working set; try_to_swap_out finds the Accessed bit set on the pages holding it
/// whenever the guest has run since it last looked, and keeps them (young), while
/// the working set's pages, touched once a pass, are swapped out by the thousand.
/// A hot page is unmapped only when one reclaim pass comes back to it before the
/// guest ran again (2.4's aging: nothing could have set the bit meanwhile).
#[test]
fn a_page_touched_often_stays_resident_while_untouched_ones_go_out() {
    let (records, _, _) = swap_workset_trace();
    let (hot, size) = elf_symbol(&image("swap-workset"), "hot");
    let hot_pages: Vec<u32> = ((hot & !0xfff)..hot + size).step_by(4096).collect();
    let reclaim: Vec<&Value> = records.iter().filter(|r| r["type"] == "reclaim").collect();
    for &page in &hot_pages {
        let seen: Vec<&&Value> = reclaim.iter().filter(|r| hex(&r["address"]) == page).collect();
        let young = seen.iter().filter(|r| r["decision"] == "young").count();
        assert!(young >= 10, "hot page {page:#x}: young {young} times");
        let mut last_look = None;
        for r in &seen {
            let at = r["machine_icount"].as_u64().unwrap();
            // The first look, or one after the guest ran: the hot page was touched.
            if last_look.is_none_or(|l| l < at) {
                assert_eq!(r["decision"], "young", "the guest touched {page:#x} since the last look: {r}");
            }
            last_look = Some(at);
        }
    }
    let cold_swapped = reclaim
        .iter()
        .filter(|r| r["decision"] == "swapped" && !hot_pages.contains(&hex(&r["address"])))
        .count();
    // More than the 4096 frames of --mem 16M: the working set went out.
    assert!(cold_swapped > 4096, "{cold_swapped} other pages swapped");
}

/// A trace file is rendered on a second thread, batch by batch; standard error is
/// written in place. Both must be the same records, in the same order, none lost or
/// written twice: checked on a fault-heavy run (many batches, the last one partial),
/// a run of several processes and one killed by a signal, in both formats.
#[test]
fn trace_file_is_the_stderr_trace_record_for_record() {
    for (prog, args) in
        [("faultbench", &["2345"][..]), ("procs", &[]), ("segv-exit", &[]), ("code-rewrite", &[])]
    {
        let p = image(prog);
        for format in ["text", "jsonl"] {
            let file = scratch(&format!("{prog}-threaded.{format}"));
            let mut a = vec!["trace", "--format", format, "-o", file.to_str().unwrap(), p.to_str().unwrap()];
            a.extend_from_slice(args);
            let threaded = growsdown(&a);
            let mut a = vec!["trace", "--format", format, p.to_str().unwrap()];
            a.extend_from_slice(args);
            let in_place = growsdown(&a);
            assert_eq!(threaded.status.code(), in_place.status.code(), "{prog} {format}");
            assert_eq!(threaded.stdout, in_place.stdout, "{prog} {format}");
            let file = std::fs::read_to_string(&file).unwrap();
            let guest_stderr = String::from_utf8(threaded.stderr).unwrap();
            // What growsdown says about the guest (segv-exit's signal) comes between
            // the records and the summary on the in-place run; the rest is the trace.
            let stderr = String::from_utf8(in_place.stderr).unwrap();
            assert!(stderr.contains(&guest_stderr), "{prog} {format}");
            assert_eq!(file, stderr.replacen(&guest_stderr, "", 1), "{prog} {format}");
            let faults = match format {
                "text" => file.lines().filter(|l| l.starts_with("fault #")).count(),
                _ => file.lines().filter(|l| l.contains(r#""type":"fault""#)).count(),
            };
            let seqs: Vec<u64> = file
                .lines()
                .filter_map(|l| l.strip_prefix("fault #").or_else(|| l.split(r#""seq":"#).nth(1)))
                .map(|l| l.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap())
                .collect();
            assert_eq!(seqs.len(), faults, "{prog} {format}");
            assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{prog} {format}: seq runs 1, 2, 3, …");
            if prog == "faultbench" {
                assert!(faults > 4000, "{faults} faults: several batches");
            }
        }
    }
}

/// One EIP faults three times holding a different instruction each time (rewritten
/// in place, then in a new page mapped at the same address): the trace names each
/// one, on standard error and in a file alike, so what the tracer keeps of the bytes
/// or the text of an instruction cannot go stale.
#[test]
fn a_rewritten_instruction_is_named_anew_at_the_same_eip() {
    let (events, _, out) = jsonl("code-rewrite", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let code = events.iter().find(|e| e["insn"] == "mov al, [eax]").expect("the first load faults");
    let at: Vec<(&str, u64)> = events
        .iter()
        .filter(|e| e["eip"] == code["eip"])
        .map(|e| (e["insn"].as_str().unwrap(), e["error_code"].as_u64().unwrap()))
        .collect();
    assert_eq!(at, [("mov al, [eax]", 4), ("mov [eax], al", 6), ("mov eax, [eax]", 4)]);
}

/// Two stacks in one process (docs/walkthrough.md, section 7): the main thread's
/// faults below its initial stack grow the GROWSDOWN VMA through expand_stack; the
/// second thread's stack is an mmap'd VMA without VM_GROWSDOWN, so its faults there
/// are do_anonymous_page alone. Every event names the process in `pid` and the
/// thread in `tid`, and each thread's `min_flt` is its own.
#[test]
fn thread_stacks_main_expands_the_other_thread_only_faults_in() {
    let (events, summary, out) = jsonl("thread-stacks", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let pid = events[0]["pid"].as_u64().unwrap();
    assert!(events.iter().all(|e| e["pid"].as_u64() == Some(pid)), "one process");
    for e in &events {
        assert!(e["tid"].is_u64(), "tid in every record: {e}");
    }

    // The main thread: the stack VMA it starts with (after exec) is the vm_start of
    // its first expand_stack; everything below that it faults on grows the stack.
    let main: Vec<&Value> = events.iter().filter(|e| e["tid"] == e["pid"]).collect();
    let first = main.iter().find(|e| fns(e).contains(&"expand_stack".to_string())).unwrap();
    let initial_start = hex(&step(first, "expand_stack")["old_start"]);
    let below: Vec<&&Value> =
        main.iter().filter(|e| e["vma"]["growsdown"] == true && hex(&e["cr2"]) < initial_start).collect();
    assert!(below.len() >= 65, "the main thread grew its stack 65 pages: {} faults", below.len());
    for e in &below {
        assert!(fns(e).contains(&"expand_stack".to_string()), "main thread below its stack: {e}");
        assert_eq!(e["result"], "minor");
    }

    // The other thread: the faults on its own stack (the VMA that holds its ESP).
    let others: Vec<&Value> = events.iter().filter(|e| e["tid"] != e["pid"]).collect();
    let tid = others.first().expect("faults of a second thread")["tid"].clone();
    assert!(others.iter().all(|e| e["tid"] == tid), "one other thread");
    let on_stack: Vec<&&Value> = others
        .iter()
        .filter(|e| {
            let v = &e["vma"];
            !v.is_null() && (hex(&v["start"])..hex(&v["end"])).contains(&hex(&e["esp"]))
        })
        .collect();
    assert_eq!(on_stack.len(), 33, "the thread touched 33 pages of its stack");
    for e in &on_stack {
        let f = fns(e);
        assert!(!f.contains(&"expand_stack".to_string()) && !f.contains(&"esp_check".to_string()), "{e}");
        assert_eq!(f.last().map(String::as_str), Some("do_anonymous_page"), "{e}");
        assert_eq!(step(e, "do_anonymous_page")["zero_page"], false);
        assert_eq!(e["vma"]["growsdown"], false, "a thread stack has no VM_GROWSDOWN: {e}");
        assert_eq!(e["vma"]["flags"], "rw-p");
        assert_eq!(e["result"], "minor");
    }
    // Each thread's counters are its own: the other thread's start from its first fault.
    let counts: Vec<u64> = others.iter().map(|e| e["min_flt"].as_u64().unwrap()).collect();
    assert!(counts[0] <= 1 && counts.windows(2).all(|w| w[1] >= w[0]), "{counts:?}");
    assert!(
        stdout.contains("thread: touched 33 pages of its mmap'd stack, minflt+=33 majflt+=0"),
        "{stdout}"
    );
    assert_eq!(summary["faults"].as_u64(), Some(events.len() as u64));
}

/// --stats: the process's counts are the sums over its threads, and a process of
/// several threads gets a line per thread; a single-threaded one does not.
#[test]
fn stats_name_each_thread_and_sum_them() {
    let (events, _, _) = jsonl("thread-stacks", &[]);
    let p = image("thread-stacks");
    let out = growsdown(&["run", "--stats", p.to_str().unwrap()]);
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stderr);
    let total = |name: &str| -> u64 {
        let line = s.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no '{name}' in {s}"));
        line.split_whitespace().find_map(|w| w.parse().ok()).unwrap()
    };
    let threads: Vec<(u64, u64, u64)> = s
        .lines()
        .filter_map(|l| l.strip_prefix("growsdown:   tid "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w[0].parse().unwrap(), w[1].parse().unwrap(), w[3].parse().unwrap())
        })
        .collect();
    assert_eq!(threads.len(), 2, "{s}");
    assert_eq!(total("threads that faulted"), 2);
    let minor = events.iter().filter(|e| e["result"] == "minor").count() as u64;
    let major = events.iter().filter(|e| e["result"] == "major").count() as u64;
    assert_eq!((total("minor faults"), total("major faults")), (minor, major), "{s}");
    assert_eq!(threads.iter().map(|t| t.1).sum::<u64>(), minor, "{s}");
    assert_eq!(threads.iter().map(|t| t.2).sum::<u64>(), major, "{s}");
    for &(tid, min, maj) in &threads {
        let of = |r: &str| events.iter().filter(|e| e["tid"] == tid && e["result"] == r).count() as u64;
        assert_eq!((min, maj), (of("minor"), of("major")), "tid {tid}: {s}");
    }

    let p = image("stackgrow");
    let out = growsdown(&["run", "--stats", p.to_str().unwrap()]);
    let s = String::from_utf8_lossy(&out.stderr);
    assert!(!s.contains("threads that faulted") && !s.contains(" tid "), "{s}");
}

/// The text format names the thread only where it is not the process's first, and
/// the SVG gives the second thread's stack a band of its own, labelled with its tid,
/// with that thread's faults ringed.
#[test]
fn text_and_svg_tell_the_threads_apart() {
    let (events, _, _) = jsonl("thread-stacks", &[]);
    let others = events.iter().filter(|e| e["tid"] != e["pid"]).count();
    let tid = events.iter().find(|e| e["tid"] != e["pid"]).unwrap()["tid"].as_u64().unwrap();
    let svg = scratch("thread-stacks.svg");
    let p = image("thread-stacks");
    let out = growsdown(&["trace", "--svg", svg.to_str().unwrap(), p.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    let heads: Vec<&str> = text.lines().filter(|l| l.starts_with("fault #")).collect();
    assert_eq!(heads.len(), events.len());
    assert_eq!(heads.iter().filter(|l| l.contains(&format!("  tid {tid}  "))).count(), others);
    assert_eq!(heads.iter().filter(|l| l.contains(" tid ")).count(), others, "no tid for the first thread");

    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let marks: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("class") == Some("fault"))
        .collect();
    assert_eq!(marks.len(), events.len());
    let tid_s = tid.to_string();
    assert_eq!(marks.iter().filter(|n| n.attribute("data-tid") == Some(tid_s.as_str())).count(), others);
    let labels: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(labels.contains(&"thread stack") && labels.contains(&"stack"), "{labels:?}");
    assert!(labels.contains(&format!("tid {tid}").as_str()), "{labels:?}");
    assert!(labels.iter().any(|l| l.ends_with("rw-p, no VM_GROWSDOWN")), "{labels:?}");
}

/// A swapoff's try_to_unuse is one record, in order with the rest: swap-on (see
/// tests/swapon.rs; root only, otherwise its swapon is EPERM and nothing is
/// swapped) first fails with ENOMEM, the pages not fitting, then succeeds with every
/// slot given back. The trace file (rendered on the second thread) and standard
/// error (in place) agree record for record.
#[test]
fn swapoff_is_one_try_to_unuse_record() {
    let file = scratch("swap-on.jsonl");
    // Both runs make their swap files in this directory, one after the other: the
    // same names, so the same instruction counts and the same kswapd decisions.
    let dir = scratch("swap-on-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let (p, d) = (image("swap-on"), dir.to_str().unwrap().to_string());
    let piped = growsdown(&[
        "trace",
        "--format",
        "jsonl",
        "-o",
        file.to_str().unwrap(),
        "--mem",
        "16M",
        p.to_str().unwrap(),
        &d,
    ]);
    assert!(piped.status.success(), "{}", String::from_utf8_lossy(&piped.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    let in_place = growsdown(&["trace", "--format", "jsonl", "--mem", "16M", p.to_str().unwrap(), &d]);
    let guest_stderr = String::from_utf8(piped.stderr).unwrap();
    let in_place = String::from_utf8(in_place.stderr).unwrap().replacen(&guest_stderr, "", 1);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(in_place == text, "the trace file and standard error differ");
    let unuse: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["type"] == "unuse")
        .collect();
    // SAFETY: geteuid has no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        assert!(unuse.is_empty());
        return;
    }
    assert_eq!(unuse.len(), 2, "{unuse:?}");
    let (failed, ok) = (&unuse[0], &unuse[1]);
    assert_eq!((failed["fn"].as_str(), failed["result"].as_str()), (Some("try_to_unuse"), Some("ENOMEM")));
    assert!(failed["slots_after"].as_u64().unwrap() > 0, "{failed}");
    assert_eq!(ok["result"], "ok");
    assert_eq!(ok["slots_after"], 0, "{ok}");
    assert!(ok["pages_read"].as_u64().unwrap() > 0 && ok["mem"]["pswpin"].as_u64().is_some(), "{ok}");
}

/// Issue 15: "after fork a swapped-out page shared by parent and child is read once
/// and then COW-copied on the child's write". swap-fork's child reads pages of its
/// parent's that are out in swap (`do_swap_page` reads them into the swap cache and
/// maps them read-only, since the slot is still the parent's too), then writes one
/// word in every 8th page: `do_wp_page` copies. The parent, touching its pages after
/// the child, finds some of them in the swap cache rather than reading them again.
#[test]
fn a_swapped_page_shared_after_fork_is_read_once_then_copied_on_write() {
    let jl = scratch("swap-fork.jsonl");
    let p = image("swap-fork");
    let out = growsdown(&[
        "trace",
        "--format",
        "jsonl",
        "-o",
        jl.to_str().unwrap(),
        "--mem",
        "16M",
        "--swap",
        "64M",
        p.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let faults: Vec<Value> = std::fs::read_to_string(&jl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["type"] == "fault")
        .collect();
    let parent = faults[0]["pid"].as_u64().unwrap();
    let child =
        faults.iter().map(|f| f["pid"].as_u64().unwrap()).find(|&p| p != parent).expect("a child faulted");
    let swap_step =
        |f: &Value| f["path"].as_array().unwrap().iter().find(|s| s["fn"] == "do_swap_page").cloned();
    // Pages the child brought in from swap, by address, in order.
    let mut child_in = std::collections::BTreeMap::new();
    let mut copies = 0;
    let mut parent_hits_on_child_pages = 0;
    // Only the 24 MiB anonymous area: the parent does not touch it while the child
    // runs (the child's writes to pages the parent has since copied for itself, such
    // as glibc's data, rightly reuse the page).
    let in_area = |f: &Value| {
        let v = &f["vma"];
        !v.is_null() && hex(&v["end"]) - hex(&v["start"]) >= 24 << 20
    };
    for f in faults.iter().filter(|f| in_area(f)) {
        let pid = f["pid"].as_u64().unwrap();
        let page = hex(&f["cr2"]) & !0xfff;
        if pid == child {
            if let Some(s) = swap_step(f) {
                child_in.insert(page, s["swap_cache"].as_str().unwrap().to_string());
            } else if f["error"]["access"] == "write" && child_in.contains_key(&page) {
                let wp = f["path"].as_array().unwrap().iter().find(|s| s["fn"] == "do_wp_page");
                let wp =
                    wp.unwrap_or_else(|| panic!("child write to a swapped-in page without do_wp_page: {f}"));
                assert_eq!(wp["action"], "copy", "the parent still holds the page: {f}");
                copies += 1;
            }
        } else if pid == parent && child_in.contains_key(&page) {
            if let Some(s) = swap_step(f) {
                if s["swap_cache"] == "hit" {
                    parent_hits_on_child_pages += 1;
                }
            }
        }
    }
    let read = child_in.values().filter(|v| *v == "read").count();
    assert!(read > 1000, "the child read {read} pages from swap");
    // One word in every 8th of the 24 MiB: 768 pages written, each a copy.
    assert!(copies >= 500, "{copies} COW copies of swapped-in pages");
    assert!(parent_hits_on_child_pages > 0, "the parent found none of the child's reads in the swap cache");
}

/// kswapd (crates/kernel/src/mm/vmscan.rs) seen from the command line: under
/// `--mem 16M --swap 128M` the zone's watermarks are 2.4's for 4096 pages, both
/// kswapd and the process's own direct reclaim make decisions, each record says
/// which (`by`, `by_pid`), and a second run makes the same decisions, by the same
/// reclaimer, with the same `--stats`.
#[test]
fn reclaim_records_name_the_reclaimer_and_two_runs_are_the_same() {
    let (records, _, stderr) = swap_workset_trace();
    let stats = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|l| l.starts_with("growsdown: ") && !l.contains("MIPS"))
            .map(String::from)
            .collect()
    };
    let reclaims = |records: Vec<Value>| -> Vec<Value> {
        records.into_iter().filter(|r| r["type"] == "reclaim").collect()
    };
    assert!(
        stderr.lines().any(|l| l == "growsdown: zone watermarks       min 32, low 64, high 96 pages"),
        "16 MiB: pages_min 4096 / 128 = 32: {stderr}"
    );
    let wakeups = stats_number(&stderr, "growsdown: kswapd ", 0);
    let by_kswapd = stats_number(&stderr, "growsdown: kswapd ", 1);
    let direct = stats_number(&stderr, "growsdown: kswapd ", 2);
    assert!(wakeups > 0 && by_kswapd > 0 && direct > 0, "{stderr}");
    let first = reclaims(records);
    let (mut kswapd, mut direct_records) = (0, 0);
    for r in &first {
        match (r["by"].as_str(), &r["by_pid"]) {
            (Some("kswapd"), Value::Null) => kswapd += 1,
            (Some("direct"), p) if p.as_u64() == Some(1000) => direct_records += 1,
            _ => panic!("by/by_pid: {r}"),
        }
    }
    assert!(kswapd > 0 && direct_records > 0, "records by both: {kswapd} by kswapd, {direct_records} direct");
    let (records2, _, stderr2) = swap_workset_trace();
    assert_eq!(stats(&stderr), stats(&stderr2));
    let second = reclaims(records2);
    assert_eq!(first.len(), second.len());
    assert!(first == second, "the same reclaim records");
}

/// On standard error the records are held back until the guest's next system call,
/// then written before it: what the guest writes there still comes after the
/// records of every fault before it. stackgrow writes its own getrusage totals to
/// standard error once its faults are done; every fault those totals count must be
/// on a record above that line, and the records keep their order.
#[test]
fn standard_error_keeps_the_records_in_order_with_the_guests_writes() {
    let p = image("stackgrow");
    let out = growsdown(&["trace", p.to_str().unwrap()]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    let seqs: Vec<(usize, u64)> = err
        .lines()
        .enumerate()
        .filter_map(|(i, l)| Some((i, l.strip_prefix("fault #")?.split(' ').next()?.parse().ok()?)))
        .collect();
    assert!(seqs.windows(2).all(|w| w[1].1 == w[0].1 + 1), "every record, in order");
    let (at, totals) = err
        .lines()
        .enumerate()
        .find_map(|(i, l)| Some((i, l.strip_prefix("stackgrow totals: minflt=")?)))
        .expect("the guest's own line");
    let (min, maj) = totals.split_once(" majflt=").unwrap();
    let counted: usize = min.parse::<usize>().unwrap() + maj.parse::<usize>().unwrap();
    let above = seqs.iter().filter(|(i, _)| *i < at).count();
    assert!(above >= counted, "{above} records above the guest's line, which counts {counted} faults");
    assert!(above < seqs.len(), "the faults of exit come after it");
}
