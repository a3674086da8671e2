//! `report.html` in a real browser: the demo's report is rendered by headless Chromium
//! (Debian's `chromium`, installed by `.ci/run`), which takes a screenshot and dumps the
//! DOM after layout. The page must load without console errors and show every
//! incident's title and timeline.

use std::path::PathBuf;
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file())
        })
    });
    if found.is_none() {
        let required = std::env::var("DWELL_REQUIRE_SHARED").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "DWELL_REQUIRE_SHARED=1 but chromium is not installed (apt-get install chromium)"
        );
        eprintln!("SKIP: chromium not installed");
    }
    found
}

fn browser(bin: &PathBuf, profile: &std::path::Path) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,3000",
    ]);
    c.arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn the_report_renders_in_a_browser_with_every_incident() {
    let Some(bin) = chromium() else { return };
    let out = std::env::temp_dir().join(format!("dwell-browser-{}", std::process::id()));
    std::fs::remove_dir_all(&out).ok();
    let o = Command::new(env!("CARGO_BIN_EXE_dwell"))
        .args(["demo", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = out.join("report.html");
    let url = format!("file://{}", report.display());
    let incidents: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("incidents.json")).unwrap())
            .unwrap();
    let titles: Vec<String> = incidents["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect();
    assert!(!titles.is_empty());

    let shot = out.join("report.png");
    let o = browser(&bin, &out.join("profile-shot"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{log}");
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "screenshot of {} bytes", png.len());
    for bad in ["Uncaught", "CONSOLE(", "Refused to", "Failed to load resource"] {
        assert!(!log.contains(bad), "browser log reports {bad:?}:\n{log}");
    }

    let o = browser(&bin, &out.join("profile-dom")).arg("--dump-dom").arg(&url).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout);
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    for t in &titles {
        assert!(dom.contains(&esc(t)), "the page does not show incident {t:?}");
    }
    let timelines = dom.matches("aria-label=\"timeline\"").count();
    assert_eq!(timelines, titles.len(), "one timeline per incident");
    println!(
        "screenshot {} ({} bytes): {} incidents, {} timelines, no console errors",
        shot.display(),
        png.len(),
        titles.len(),
        timelines
    );
    std::fs::remove_dir_all(&out).ok();
}
