//! `credential_access`: credential stores read on a host.
//!
//! **Finds.** LSASS memory opened for reading by a process that has no business there
//! (Mimikatz, ProcDump, comsvcs MiniDump, nanodump, custom dumpers), dump files of
//! LSASS written to disk, credential tools by their command lines (`sekurlsa::`,
//! `lsadump::`, `procdump -ma lsass`), copies of `ntds.dit` outside the NTDS folder,
//! DCSync (directory replication rights used by an account that is not a domain
//! controller), and the memory of remote-management tools read for their stored
//! passwords (TeamViewer, AnyDesk).
//!
//! **ATT&CK.** T1003.001 LSASS Memory, T1003.003 NTDS, T1003.006 DCSync, T1555
//! Credentials from Password Stores; stage `credential_access`.
//!
//! **Inputs.** `process_access` (Sysmon 10), `file_create` (Sysmon 11), `process`
//! (Sysmon 1, 4688), `directory_access` (Security 4662).
//!
//! **Method.** Sysmon 10 with rights that include `PROCESS_VM_READ` (0x10) on
//! `lsass.exe`, from an image that is not a system component or security product in
//! our list; stronger when the call trace passes through `dbghelp.dll`/`dbgcore.dll`
//! (MiniDumpWriteDump) or through `UNKNOWN` memory (injected code). The same rights on
//! a remote-management tool's process from another program. 4662 whose properties name
//! the replication GUIDs (`DS-Replication-Get-Changes`, `-All`,
//! `-In-Filtered-Set`) by an account not ending in `$`. File and command-line rules as
//! listed.
//!
//! **Thresholds and why.** LSASS reads 80 (90 with a dump call trace, 85 with
//! unknown memory); DCSync 85; dump files 80; tool command lines 85–90; RMM memory reads
//! 70. None of these has a benign form outside the listed system components, backup
//! agents and EDRs.
//!
//! **Known false positives.** Security products and backup agents not in the list
//! (add them to the profile's future allow-list; today: suppress by image in the
//! report); Azure AD Connect's DCSync account (named, so easy to suppress).
//! **Known misses.** Dumps through direct system calls without `PROCESS_VM_READ` in the
//! handle (handle duplication), LSASS reads on hosts without Sysmon 10 configured for
//! lsass, DCSync without 4662 auditing on the domain object.
//!
//! **References.** Microsoft, "Detecting and preventing LSASS credential dumping
//! attacks"; MITRE ATT&CK T1003; Sysmon event 10 documentation.

use dwell_model::{Body, Event, Kind, Stage, Technique, WinKind};
use serde_json::json;

use crate::ctx::Ctx;
use crate::detector_config;
use crate::endpoint::{any, base, draft, evidence, norm_cmdline};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `credential_access`.
    pub struct Config {
        /// Access-right bits that read memory (PROCESS_VM_READ).
        pub read_mask: u64 = 0x10,
    }
}

const fn t(id: &'static str) -> Technique {
    Technique::must(id)
}

/// Programs that open LSASS with read rights as part of their job (lower-case names).
const LSASS_READERS: &[&str] = &[
    "msmpeng.exe",
    "mssense.exe",
    "sensecncproxy.exe",
    "csrss.exe",
    "wininit.exe",
    "services.exe",
    "lsm.exe",
    "smss.exe",
    "wmiprvse.exe",
    "svchost.exe",
    "taskmgr.exe",
    "vmtoolsd.exe",
    "securityhealthservice.exe",
    "mrt.exe",
    "werfault.exe",
    "lsass.exe",
    "csfalconservice.exe",
    "sentinelagent.exe",
    "cyserver.exe",
    "cb.exe",
    "repmgr.exe",
    "mbamservice.exe",
    "avp.exe",
    "ekrn.exe",
    "ccsvchst.exe",
    "msiexec.exe",
];
const RMM_PROCESSES: &[&str] = &["teamviewer.exe", "anydesk.exe", "teamviewer_service.exe"];
/// Directory replication rights (schema GUIDs, public facts).
const REPLICATION_GUIDS: &[&str] = &[
    "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2",
    "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2",
    "89e95b76-444d-4c62-991a-0facbeda640c",
];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "credential_access",
    title: "Credential access on a host",
    stage: Stage::CredentialAccess,
    attack: &[t("T1003.001"), t("T1003.003"), t("T1003.006"), t("T1555")],
    inputs: &[Kind::ProcessAccess, Kind::FileCreate, Kind::Process, Kind::DirectoryAccess],
    doc: "LSASS memory read by an unexpected process (stronger with a MiniDump or unknown-memory \
          call trace), LSASS dumps and ntds.dit copies on disk, credential tools' command lines, \
          DCSync by a non-DC account, and remote-management tools' memory read for stored \
          passwords.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(CredentialAccess { cfg }))
}

/// The detector.
pub struct CredentialAccess {
    cfg: Config,
}

impl Detector for CredentialAccess {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Win(w) = &ev.body else { return };
        let (rule, score, tech, what): (&str, f64, Technique, String) = match w.kind {
            WinKind::ProcessAccess => {
                let (Some(src), Some(dst)) = (w.get("SourceImage"), w.get("TargetImage")) else {
                    return;
                };
                let mask = w.get_u64("GrantedAccess").unwrap_or(0);
                if mask & self.cfg.read_mask == 0 {
                    return;
                }
                let (s, d) = (base(src), base(dst));
                let trace = w.get("CallTrace").unwrap_or("").to_ascii_lowercase();
                if d == "lsass.exe" && !LSASS_READERS.contains(&&*s) {
                    let (score, how) = if any(&trace, &["dbghelp.dll", "dbgcore.dll"]) {
                        (90.0, " through MiniDumpWriteDump")
                    } else if trace.contains("unknown(") {
                        (85.0, " from injected code (unknown memory in the call trace)")
                    } else {
                        (80.0, "")
                    };
                    (
                        "lsass_read",
                        score,
                        t("T1003.001"),
                        format!("{src} opened LSASS with read rights ({mask:#x}){how}"),
                    )
                } else if RMM_PROCESSES.contains(&&*d) && s != d && !LSASS_READERS.contains(&&*s) {
                    ("rmm_memory_read", 70.0, t("T1555"), format!("{src} read the memory of {dst} ({mask:#x}): the tool's stored credentials"))
                } else {
                    return;
                }
            }
            WinKind::FileCreate => {
                let Some(f) = w.get("TargetFilename") else { return };
                let l = f.to_ascii_lowercase();
                if l.contains("lsass") && l.ends_with(".dmp") {
                    (
                        "lsass_dump_file",
                        80.0,
                        t("T1003.001"),
                        format!("{} wrote an LSASS dump {f}", w.get("Image").unwrap_or("?")),
                    )
                } else if l.ends_with("\\ntds.dit") && !l.contains("\\windows\\ntds\\") {
                    (
                        "ntds_copy",
                        80.0,
                        t("T1003.003"),
                        format!(
                            "{} wrote a copy of the AD database {f}",
                            w.get("Image").unwrap_or("?")
                        ),
                    )
                } else {
                    return;
                }
            }
            WinKind::Process => {
                let cmd = norm_cmdline(w.get("CommandLine").unwrap_or(""));
                let image = base(w.get("Image").unwrap_or(""));
                if any(
                    &cmd,
                    &[
                        "sekurlsa::",
                        "lsadump::",
                        "privilege::debug",
                        "kerberos::golden",
                        "misc::memssp",
                    ],
                ) {
                    (
                        "mimikatz_command",
                        90.0,
                        t("T1003.001"),
                        format!("{image} ran Mimikatz commands"),
                    )
                } else if (image.starts_with("procdump") || cmd.contains("procdump"))
                    && cmd.contains("lsass")
                {
                    (
                        "procdump_lsass",
                        85.0,
                        t("T1003.001"),
                        format!("{image} dumped LSASS with ProcDump"),
                    )
                } else {
                    return;
                }
            }
            WinKind::DirectoryAccess => {
                let props = w.get("Properties").unwrap_or("").to_ascii_lowercase();
                let user = w.get("SubjectUserName").unwrap_or("");
                if !REPLICATION_GUIDS.iter().any(|g| props.contains(g))
                    || user.ends_with('$')
                    || user.is_empty()
                {
                    return;
                }
                ("dcsync", 85.0, t("T1003.006"), format!("{user} used directory replication rights: DCSync from an account that is not a domain controller"))
            }
            _ => return,
        };
        let summary = format!("{}: {what}", w.computer);
        let mut d = draft(cx, ev, w, score, summary);
        d.discriminator = rule.to_string();
        d.attack = Some(vec![tech]);
        d.evidence = evidence(json!({
            "rule": rule,
            "event_id": w.event_id,
            "source_image": w.get("SourceImage"),
            "target_image": w.get("TargetImage"),
            "granted_access": w.get("GrantedAccess"),
            "call_trace": w.get("CallTrace"),
            "image": w.get("Image"),
            "command_line": w.get("CommandLine"),
            "target_filename": w.get("TargetFilename"),
        }));
        cx.emit(d);
    }
}

#[cfg(test)]
mod tests;
