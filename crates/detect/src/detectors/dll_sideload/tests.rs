use super::*;

#[test]
fn rules() {
    let r = judge("C:\\ProgramData\\Intel\\CV.exe", "C:\\ProgramData\\Intel\\wwlib.dll");
    assert_eq!(r.len(), 1, "{r:?}");
    let r = judge("C:\\Users\\u\\Desktop\\x\\jjs.exe", "C:\\Users\\u\\Desktop\\x\\jli.dll");
    assert_eq!(r.iter().map(|x| x.0).reduce(f64::max), Some(80.0));
    let r = judge(
        "C:\\Windows\\System32\\sysprep\\sysprep.exe",
        "C:\\Windows\\System32\\sysprep\\CRYPTBASE.dll",
    );
    assert!(!r.is_empty());
    let r = judge("C:\\Windows \\System32\\winSAT.exe", "C:\\Windows \\System32\\WINMM.dll");
    assert_eq!(r.iter().map(|x| x.0).reduce(f64::max), Some(85.0));
    assert!(
        judge("C:\\Program Files\\App\\app.exe", "C:\\Program Files\\App\\helper.dll").is_empty()
    );
    assert!(judge("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\System32\\version.dll")
        .is_empty());
    let r = judge(
        "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
        "C:\\Windows\\System32\\wbem\\wbemcomn.dll",
    );
    assert_eq!(r.iter().map(|x| x.0).reduce(f64::max), Some(80.0));
}

use crate::testing::{ev, profile_with_internal, run};

fn load(image: &str, dll: &str, signed: &str) -> dwell_model::Event {
    ev::win(
        100.0,
        "WS1",
        "Sysmon",
        7,
        &[
            ("Image", image),
            ("ImageLoaded", dll),
            ("Signed", signed),
            ("SignatureStatus", if signed == "true" { "Valid" } else { "Unavailable" }),
        ],
    )
}

#[test]
fn an_unsigned_library_beside_a_copied_program_is_found() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let f = run(
        &mut DllSideload { cfg: Config::default() },
        &[load(
            "C:\\Users\\u\\AppData\\Roaming\\NvSmart.exe",
            "C:\\Users\\u\\AppData\\Roaming\\NvSmartMax.dll",
            "false",
        )],
        &p,
    );
    assert_eq!(f.len(), 1);
    assert!(f[0].draft.score >= 80.0, "{}", f[0].draft.score);
}

#[test]
fn signed_and_ordinary_loads_are_silent() {
    let p = profile_with_internal(&["10.0.0.0/8"]);
    let evs = vec![
        load(
            "C:\\Users\\u\\AppData\\Local\\App\\app.exe",
            "C:\\Users\\u\\AppData\\Local\\App\\dbghelp.dll",
            "true",
        ),
        load("C:\\Program Files\\App\\app.exe", "C:\\Program Files\\App\\helper.dll", "false"),
        load("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\System32\\version.dll", "true"),
    ];
    assert!(run(&mut DllSideload { cfg: Config::default() }, &evs, &p).is_empty());
}
