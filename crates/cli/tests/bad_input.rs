//! Bad input never panics: a named error with exit status 2, or counted anomalies with
//! exit status 0.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dwell(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dwell")).args(args).output().unwrap()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dwell-bad-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn analyze(input: &Path, out: &Path) -> Output {
    dwell(&["analyze".as_ref(), input.as_os_str(), "--out".as_ref(), out.as_os_str()])
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A small Zeek conn.log we generate ourselves.
fn conn_log(rows: usize) -> String {
    let mut s = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n",
    );
    for i in 0..rows {
        s.push_str(&format!(
            "{}.000000\tC{i}\t10.0.0.{}\t{}\t203.0.113.{}\t443\ttcp\tssl\t1.5\t100\t2000\tSF\n",
            1_700_000_000 + i,
            i % 200 + 1,
            40000 + i % 20000,
            i % 250 + 1
        ));
    }
    s
}

fn one_error_line(o: &Output, path: &Path, why: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    assert!(e.contains(&path.display().to_string()), "names the file: {e}");
    assert!(e.contains(why), "says why ({why}): {e}");
}

#[test]
fn binary_garbage_empty_and_headerless_files_are_named_errors() {
    let d = tmpdir("named");
    let garbage = d.join("garbage.bin");
    std::fs::write(&garbage, (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<_>>())
        .unwrap();
    one_error_line(&analyze(&garbage, &d.join("o")), &garbage, "unknown format");
    let empty = d.join("empty.log");
    std::fs::write(&empty, b"").unwrap();
    one_error_line(&analyze(&empty, &d.join("o")), &empty, "empty");
    let nofields = d.join("nofields.log");
    std::fs::write(&nofields, "#separator \\x09\n#path\tconn\n1.0\tC1\t10.0.0.1\n").unwrap();
    one_error_line(&analyze(&nofields, &d.join("o")), &nofields, "#fields");
    let missing = d.join("does-not-exist.log");
    one_error_line(&analyze(&missing, &d.join("o")), &missing, "cannot read");
    let long_json = d.join("long.json");
    let mut big = String::from("{\"ts\": 1.0, \"uid\": \"");
    big.push_str(&"A".repeat(10 << 20));
    big.push_str("\"}\n");
    std::fs::write(&long_json, big).unwrap();
    one_error_line(&analyze(&long_json, &d.join("o")), &long_json, "longer than");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn truncated_gzip_keeps_what_came_before() {
    let d = tmpdir("gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(conn_log(20_000).as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let cut = d.join("conn.log.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let o = analyze(&cut, &d.join("o"));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("truncated"), "{e}");
    let n: u64 = e
        .split("decoded ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    assert!(n > 1000 && n < 20_000, "kept the records before the cut: {n}");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn wrong_type_in_one_field_and_a_10mb_line_are_counted() {
    let d = tmpdir("counted");
    let json = d.join("conn.json");
    std::fs::write(
        &json,
        "{\"_path\":\"conn\",\"ts\":1.0,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"203.0.113.1\",\"orig_bytes\":\"lots\"}\n\
         {\"_path\":\"conn\",\"ts\":2.0,\"uid\":\"C2\",\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"203.0.113.1\",\"orig_bytes\":5}\n",
    )
    .unwrap();
    let o = analyze(&json, &d.join("o"));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("bad_value 1"), "{e}");
    assert!(e.contains(&format!("{}:1", json.display())), "names file:line: {e}");

    let tsv = d.join("conn.log");
    let mut text = conn_log(10);
    text.push_str(&"x".repeat(10 << 20));
    text.push('\n');
    text.push_str(&conn_log(5).lines().last().unwrap().replace("\tC4\t", "\tC99\t"));
    text.push('\n');
    std::fs::write(&tsv, text).unwrap();
    let o = analyze(&tsv, &d.join("o"));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("line_too_long 1"), "{e}");
    assert!(e.contains("decoded 12 records"), "{e}");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn directories_skip_what_they_cannot_read_and_say_so() {
    let d = tmpdir("dir");
    std::fs::write(d.join("README.txt"), "not telemetry\n").unwrap();
    std::fs::write(d.join("conn.log"), conn_log(50)).unwrap();
    let o = analyze(&d, &d.join("out"));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("README.txt"), "lists the skipped file: {e}");
    assert!(e.contains("decoded 50 records"), "{e}");
    let only_junk = tmpdir("junk");
    std::fs::write(only_junk.join("notes.txt"), "hello\n").unwrap();
    let o = analyze(&only_junk, &d.join("out2"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    std::fs::remove_dir_all(&d).ok();
    std::fs::remove_dir_all(&only_junk).ok();
}

#[test]
fn bad_config_and_usage_exit_2() {
    let d = tmpdir("cfg");
    std::fs::write(d.join("conn.log"), conn_log(5)).unwrap();
    let cfg = d.join("dwell.toml");
    std::fs::write(&cfg, "sector = \"energy\"\nedge_hostz = [\"10.0.0.1\"]\n").unwrap();
    let o = dwell(&[
        "analyze".as_ref(),
        d.join("conn.log").as_os_str(),
        "--config".as_ref(),
        cfg.as_os_str(),
        "--out".as_ref(),
        d.join("o").as_os_str(),
    ]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("edge_hostz") && e.contains("dwell.toml"), "{e}");
    let o = dwell(&[
        "decode".as_ref(),
        d.join("conn.log").as_os_str(),
        "--kind".as_ref(),
        "conn,bogus".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bogus"));
    let o = dwell(&["analyze".as_ref()]);
    assert_eq!(o.status.code(), Some(2), "clap usage error");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn decode_prints_zeek_named_json_and_stats() {
    let d = tmpdir("decode");
    std::fs::write(d.join("conn.log"), conn_log(3)).unwrap();
    let o = dwell(&["decode".as_ref(), d.join("conn.log").as_os_str()]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["kind"], "conn");
    assert_eq!(lines[0]["id.orig_h"], "10.0.0.1");
    assert_eq!(lines[0]["id.resp_p"], 443);
    assert_eq!(lines[0]["ts"].as_f64(), Some(1_700_000_000.0));
    assert_eq!(lines[0]["conn_state"], "SF");
    let o = dwell(&["decode".as_ref(), d.join("conn.log").as_os_str(), "--stats".as_ref()]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("conn 3"), "{text}");
    assert!(text.contains("per CPU-second"), "reports the rate or why it cannot: {text}");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    use std::process::Stdio;
    for args in [&["detectors"][..], &["detectors", "--format", "json"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dwell"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first byte, as `| head -0` would.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success() && !err.contains("panicked"), "{args:?}: {:?} {err}", o.status);
    }
}
