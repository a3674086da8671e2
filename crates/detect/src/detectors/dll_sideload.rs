//! `dll_sideload`: a trusted program made to load the intruder's DLL.
//!
//! **Finds.** DLL side-loading and search-order hijacking, a favourite of China-nexus
//! operators (PlugX, ShadowPad, APT10, APT41): a legitimate, often signed program copied
//! to a folder beside a malicious DLL with the name it imports (`wwlib.dll` beside a
//! copied `WINWORD.EXE`, `jli.dll` beside `jjs.exe`, `NvSmartMax.dll` beside
//! `NvSmart.exe`); a system library's name loaded from outside the system folders (the
//! UAC bypasses that plant `CRYPTBASE.dll` beside `sysprep.exe` or `migwiz.exe`, or a
//! look-alike `C:\Windows \System32\`); a service loading a DLL Windows itself never
//! ships (phantom DLLs such as `ualapi.dll` for the fax service, `cdpsgshims.dll` for
//! CDPSvc, `wbemcomn.dll` in the WMI folder).
//!
//! **ATT&CK.** T1574.002 DLL Side-Loading, T1574.001 DLL Search Order Hijacking
//! (T1548.002 for the UAC-bypass form); stage `defense_evasion` (also persistence and
//! privilege escalation).
//!
//! **Inputs.** `image_load` events (Sysmon 7 with `Signed`/`SignatureStatus`).
//!
//! **Method.** Only unsigned or invalidly signed modules are judged (a signed DLL
//! beside its program is how most software ships). Such a module is reported when (a)
//! it sits in the loading program's own folder and that folder is user-writable, (b)
//! its name is the name of a System32 library (our list of the ones side-loading abuses)
//! and it is not in System32/SysWOW64/WinSxS, (c) the (program, DLL) pair is a known
//! side-loading pair, (d) it is a known phantom DLL, or (e) the path goes through a
//! mocked Windows directory. The rules add up (a known pair in a user folder is
//! stronger than either).
//!
//! **Thresholds and why.** (a) 60, (b) 70, (c) 80, (d) 75, (e) 85; capped at 95.
//!
//! **Known false positives.** Portable applications in user folders that ship unsigned
//! DLLs of their own (rule (a) alone scores 60: visible, below most alerting
//! thresholds' high band); developers' build outputs. **Known misses.** Side-loading
//! with a signed (stolen-certificate) DLL; hosts without Sysmon image-load logging
//! (it is off in many Sysmon configurations because of its volume).
//!
//! **References.** MITRE ATT&CK T1574.002; Wietze Beukema, "Hijacking DLLs in Windows"
//! and the HijackLibs list (facts: program/DLL pairs); Mandiant and Secureworks
//! reports on PlugX and ShadowPad side-loading.

use dwell_model::{Body, Event, Kind, Stage, Technique};
use serde_json::json;

use crate::ctx::Ctx;
use crate::detector_config;
use crate::endpoint::{base, dir, draft, mocked_windir, system_dir, user_writable};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `dll_sideload`.
    pub struct Config {
        /// Highest score a finding gets.
        pub max_score: f64 = 95.0,
    }
}

const fn t(id: &'static str) -> Technique {
    Technique::must(id)
}

/// System32 libraries whose names side-loading and hijacking reuse (facts from public
/// side-loading research; lower case).
const SYSTEM_DLLS: &[&str] = &[
    "version.dll",
    "cryptbase.dll",
    "cryptsp.dll",
    "dbghelp.dll",
    "dbgcore.dll",
    "winmm.dll",
    "uxtheme.dll",
    "dwmapi.dll",
    "propsys.dll",
    "wer.dll",
    "winhttp.dll",
    "wininet.dll",
    "shcore.dll",
    "edputil.dll",
    "dui70.dll",
    "xmllite.dll",
    "secur32.dll",
    "userenv.dll",
    "profapi.dll",
    "netapi32.dll",
    "iphlpapi.dll",
    "wtsapi32.dll",
    "dwrite.dll",
    "oleacc.dll",
    "mpr.dll",
    "sspicli.dll",
    "netutils.dll",
    "wkscli.dll",
    "srvcli.dll",
    "winsta.dll",
    "duser.dll",
    "atl.dll",
    "msftedit.dll",
    "wdscore.dll",
    "unattend.dll",
    "dpx.dll",
    "elscore.dll",
    "slc.dll",
    "wimgapi.dll",
    "sxs.dll",
    "comctl32.dll",
    "mswsock.dll",
    "dnsapi.dll",
    "wbemcomn.dll",
    "credui.dll",
    "dsrole.dll",
    "logoncli.dll",
    "samcli.dll",
    "winspool.drv",
    "cscapi.dll",
    "fltlib.dll",
    "msimg32.dll",
    "linkinfo.dll",
    "ntmarta.dll",
    "devobj.dll",
    "mscms.dll",
    "d3d11.dll",
    "dxgi.dll",
    "wow64log.dll",
    "winbrand.dll",
    "ualapi.dll",
    "tsmsisrv.dll",
    "tsvipsrv.dll",
    "wlbsctrl.dll",
    "fxsst.dll",
];

/// DLLs Windows services look for but Windows does not ship (phantom DLLs).
const PHANTOM_DLLS: &[&str] = &[
    "ualapi.dll",
    "cdpsgshims.dll",
    "wlbsctrl.dll",
    "tsmsisrv.dll",
    "tsvipsrv.dll",
    "wow64log.dll",
    "fveapi.dll",
    "fxsst.dll",
    "ikeext.dll",
];

/// Known side-loading pairs: (program, DLL) (public facts).
const PAIRS: &[(&str, &str)] = &[
    ("winword.exe", "wwlib.dll"),
    ("jjs.exe", "jli.dll"),
    ("java.exe", "jli.dll"),
    ("javaw.exe", "jli.dll"),
    ("nvsmart.exe", "nvsmartmax.dll"),
    ("mcx2prov.exe", "cryptbase.dll"),
    ("migwiz.exe", "cryptbase.dll"),
    ("sysprep.exe", "cryptbase.dll"),
    ("sysprep.exe", "shcore.dll"),
    ("winsat.exe", "winmm.dll"),
    ("msmpeng.exe", "mpclient.dll"),
    ("mpcmdrun.exe", "mpclient.dll"),
    ("fxssvc.exe", "ualapi.dll"),
    ("consent.exe", "comctl32.dll"),
    ("colorcpl.exe", "colorui.dll"),
    ("bdreinit.exe", "log.dll"),
    ("vmwarehostopen.exe", "vmtools.dll"),
    ("acrord32.exe", "acrord32info.dll"),
    ("sqlservr.exe", "sqlncli.dll"),
    ("hpcustpartui.exe", "hpcustpartui.dll"),
    ("mcutil.exe", "mcutil.dll"),
    ("rastls.exe", "rastls.dll"),
    ("x32dbg.exe", "x32bridge.dll"),
    ("tosbtkbd.exe", "tosbtkbd.dll"),
    ("googleupdate.exe", "goopdate.dll"),
    ("wmiprvse.exe", "wbemcomn.dll"),
];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "dll_sideload",
    title: "DLL side-loading",
    stage: Stage::DefenseEvasion,
    attack: &[t("T1574.002"), t("T1574.001")],
    inputs: &[Kind::ImageLoad],
    doc: "Unsigned modules loaded from the program's own user-writable folder, under a \
          System32 library's name from outside System32, as a known side-loading pair, as a \
          phantom DLL a service looks for, or through a mocked Windows directory.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(DllSideload { cfg }))
}

/// The detector.
pub struct DllSideload {
    cfg: Config,
}

/// Whether a (lower-case) folder is where Windows keeps its own libraries: System32 or
/// SysWOW64 themselves (not their subfolders such as `sysprep\` or `wbem\`), or WinSxS.
fn library_dir(d: &str) -> bool {
    d.ends_with("\\windows\\system32\\")
        || d.ends_with("\\windows\\syswow64\\")
        || (system_dir(d) && d.contains("\\winsxs\\"))
}

/// The rules a load meets: (score, reason, technique).
fn judge(image: &str, loaded: &str) -> Vec<(f64, String, Technique)> {
    let (exe, dll) = (base(image), base(loaded));
    let (exe_dir, dll_dir) = (dir(image), dir(loaded));
    let mut out = Vec::new();
    if mocked_windir(&dll_dir) || mocked_windir(&exe_dir) {
        out.push((
            85.0,
            format!("loaded through a mocked Windows directory ({dll_dir})"),
            t("T1548.002"),
        ));
    }
    if PAIRS.contains(&(&*exe, &*dll)) && !library_dir(&dll_dir) {
        out.push((80.0, format!("{exe} with {dll} is a known side-loading pair"), t("T1574.002")));
    }
    if PHANTOM_DLLS.contains(&&*dll) {
        out.push((
            75.0,
            format!("{dll} is a DLL Windows looks for but does not ship"),
            t("T1574.001"),
        ));
    } else if SYSTEM_DLLS.contains(&&*dll) && !library_dir(&dll_dir) {
        out.push((
            70.0,
            format!("{dll} is a System32 library's name, loaded from {dll_dir}"),
            t("T1574.001"),
        ));
    }
    if exe_dir == dll_dir && user_writable(&dll_dir) {
        out.push((
            60.0,
            format!("the program and the DLL sit together in a user-writable folder ({dll_dir})"),
            t("T1574.002"),
        ));
    }
    out
}

impl Detector for DllSideload {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Win(w) = &ev.body else { return };
        let (Some(image), Some(loaded)) = (w.get("Image"), w.get("ImageLoaded")) else { return };
        let signed = w.get("Signed").map(|s| s.eq_ignore_ascii_case("true"));
        let status = w.get("SignatureStatus").unwrap_or("");
        let trusted =
            signed == Some(true) && (status.is_empty() || status.eq_ignore_ascii_case("valid"));
        // Sysmon 7 also reports a program's own main module; only libraries are judged.
        if trusted || signed.is_none() || image.eq_ignore_ascii_case(loaded) {
            return;
        }
        let rules = judge(image, loaded);
        let Some(best) = rules.iter().map(|r| r.0).reduce(f64::max) else { return };
        // Each further rule met adds a little: the signals are not independent.
        let score = (best + 5.0 * (rules.len() as f64 - 1.0)).min(self.cfg.max_score);
        let reasons: Vec<&str> = rules.iter().map(|r| r.1.as_str()).collect();
        let summary = format!(
            "{}: {} loaded the unsigned {}: {}",
            w.computer,
            base(image),
            loaded,
            reasons.join("; ")
        );
        let mut d = draft(cx, ev, w, score, summary);
        d.discriminator = format!("{}|{}", base(image), loaded.to_ascii_lowercase());
        let mut attack: Vec<Technique> = Vec::new();
        for r in &rules {
            if !attack.contains(&r.2) {
                attack.push(r.2);
            }
        }
        d.attack = Some(attack);
        if let serde_json::Value::Object(m) = json!({
            "image": image,
            "image_loaded": loaded,
            "signed": w.get("Signed"),
            "signature_status": w.get("SignatureStatus"),
            "hashes": w.get("Hashes"),
            "reasons": reasons,
        }) {
            d.evidence = m;
        }
        cx.emit(d);
    }
}

#[cfg(test)]
mod tests;
