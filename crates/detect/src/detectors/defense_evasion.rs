//! `defense_evasion`: a host's own defences switched off or its traces wiped.
//!
//! **Finds.** Event logs cleared (Security 1102, System 104); Sysmon stopped, unloaded
//! or uninstalled; Microsoft Defender's protections disabled or excluded (by command
//! line or registry policy); the firewall turned off; audit policy cleared; file
//! creation times rewritten by programs running from user-writable folders
//! (timestomping).
//!
//! **ATT&CK.** T1070.001 Clear Windows Event Logs, T1562.001 Disable or Modify Tools,
//! T1562.002 Disable Windows Event Logging, T1562.004 Disable or Modify System
//! Firewall, T1070.006 Timestomp; stage `defense_evasion`.
//!
//! **Inputs.** `log_cleared`, `process`, `registry_set`, and `win_other` (Sysmon 2 file
//! time change, Sysmon 4 service state change).
//!
//! **Method.** Rules on what each record says: any log clearing (there is no routine
//! reason to clear the Security log); command lines that stop or unload Sysmon, set
//! Defender preferences to disabled or add exclusions, turn a firewall profile off or
//! clear audit policy; registry writes of Defender `Disable*` policy values to 1 or of
//! the Sysmon driver's start type to disabled; Sysmon reporting itself stopped; Sysmon 2
//! by an image in a user-writable folder on an executable or library.
//!
//! **Thresholds and why.** Log clearing 75; tampering 70; timestomping 60 (installers
//! preserve timestamps too, but rarely from user folders onto executables).
//!
//! **Known false positives.** Administrators clearing lab logs; software that adds
//! Defender exclusions for itself during installation. **Known misses.** Tampering
//! through direct driver or kernel access; logs cleared with the service stopped
//! (no 1102 is written — the gap itself is the signal, not modelled yet).
//!
//! **References.** MITRE ATT&CK T1070.001, T1562; Microsoft Defender policy registry
//! reference; Sysmon documentation (events 2, 4).

use dwell_model::{Body, Event, Kind, Stage, Technique, WinKind};
use serde_json::json;

use crate::ctx::Ctx;
use crate::detector_config;
use crate::endpoint::{any, base, dir, draft, evidence, norm_cmdline, user_writable};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `defense_evasion`.
    pub struct Config {
        /// Score of a cleared event log.
        pub log_cleared_score: f64 = 75.0,
    }
}

const fn t(id: &'static str) -> Technique {
    Technique::must(id)
}

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "defense_evasion",
    title: "Host defences tampered with",
    stage: Stage::DefenseEvasion,
    attack: &[t("T1070.001"), t("T1562.001"), t("T1562.002"), t("T1562.004"), t("T1070.006")],
    inputs: &[Kind::LogCleared, Kind::Process, Kind::RegistrySet, Kind::WinOther],
    doc: "Event logs cleared; Sysmon stopped or unloaded; Defender disabled or excluded; \
          firewall off; audit policy cleared; file times rewritten from user-writable folders.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(DefenseEvasion { cfg }))
}

/// The detector.
pub struct DefenseEvasion {
    cfg: Config,
}

/// Words of which every alternative of every rule in [`tamper_command`] holds one: a
/// command line (nearly all of them) with none is passed over with a few scans instead
/// of the rules' two dozen.
const TAMPER_WORDS: &[&str] =
    &["sysmon", "fltmc", "mppreference", "windefend", "netsh", "netfirewallprofile", "auditpol"];

/// A command line that tampers with host defences: (rule, technique, what).
fn tamper_command(cmd: &str) -> Option<(&'static str, Technique, &'static str)> {
    let c = norm_cmdline(cmd);
    if !any(&c, TAMPER_WORDS) {
        return None;
    }
    if any(&c, &["sysmondrv", "sysmon64 /u", "sysmon /u", "sysmon.exe /u", "sysmon64.exe /u"])
        || (any(
            &c,
            &[
                "sc stop",
                "sc.exe stop",
                "sc delete",
                "sc.exe delete",
                "sc config",
                "sc.exe config",
                "net stop",
                "stop-service",
            ],
        ) && c.contains("sysmon"))
        || (c.contains("fltmc") && c.contains("unload"))
    {
        return Some(("sysmon_tamper", t("T1562.001"), "stopped, unloaded or removed Sysmon"));
    }
    if (c.contains("set-mppreference") && any(&c, &["/disable", "$true", " 1"]))
        || c.contains("add-mppreference") && c.contains("exclusion")
        || (any(&c, &["sc stop windefend", "sc.exe stop windefend", "sc config windefend"]))
    {
        return Some((
            "defender_tamper",
            t("T1562.001"),
            "disabled Microsoft Defender or added an exclusion",
        ));
    }
    if (c.contains("netsh")
        && c.contains("firewall")
        && any(&c, &["state off", "opmode disable", "opmode mode=disable"]))
        || (c.contains("set-netfirewallprofile") && c.contains("/enabled false"))
    {
        return Some(("firewall_off", t("T1562.004"), "turned a firewall profile off"));
    }
    if c.contains("auditpol")
        && any(&c, &["/clear", "/remove", "/success:disable", "/failure:disable"])
    {
        return Some(("audit_policy_cleared", t("T1562.002"), "cleared or disabled audit policy"));
    }
    None
}

impl Detector for DefenseEvasion {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Win(w) = &ev.body else { return };
        let (rule, score, tech, what): (&str, f64, Technique, String) = match w.kind {
            WinKind::LogCleared => {
                let who = w.get("SubjectUserName").unwrap_or("?");
                let log = w.get("Channel").unwrap_or(&w.channel);
                (
                    "log_cleared",
                    self.cfg.log_cleared_score,
                    t("T1070.001"),
                    format!("the {log} event log was cleared by {who}"),
                )
            }
            WinKind::Process => {
                let Some((rule, tech, what)) = tamper_command(w.get("CommandLine").unwrap_or(""))
                else {
                    return;
                };
                (rule, 70.0, tech, format!("{} {what}", base(w.get("Image").unwrap_or("?"))))
            }
            WinKind::RegistrySet => {
                let target = w.get("TargetObject").unwrap_or("").to_ascii_lowercase();
                let details = w.get("Details").unwrap_or("").to_ascii_lowercase();
                let on = details.contains("0x00000001") || details == "1";
                let off = details.contains("0x00000004");
                if target.contains("\\windows defender\\")
                    && target.rsplit('\\').next().is_some_and(|v| v.starts_with("disable"))
                    && on
                {
                    (
                        "defender_policy",
                        70.0,
                        t("T1562.001"),
                        format!("Defender policy {} set to 1", w.get("TargetObject").unwrap_or("")),
                    )
                } else if target.contains("\\services\\sysmon")
                    && target.ends_with("\\start")
                    && off
                {
                    (
                        "sysmon_disabled",
                        70.0,
                        t("T1562.001"),
                        "the Sysmon driver set not to start".into(),
                    )
                } else {
                    return;
                }
            }
            WinKind::Other if w.channel.to_ascii_lowercase().contains("sysmon") => match w.event_id
            {
                4 if w.get("State").is_some_and(|s| s.eq_ignore_ascii_case("stopped")) => (
                    "sysmon_stopped",
                    70.0,
                    t("T1562.001"),
                    "Sysmon reported itself stopped".into(),
                ),
                2 => {
                    let image = w.get("Image").unwrap_or("");
                    let file = w.get("TargetFilename").unwrap_or("").to_ascii_lowercase();
                    if !user_writable(&dir(image))
                        || !any(&file, &[".exe", ".dll", ".sys", ".ps1", ".bat", ".vbs"])
                    {
                        return;
                    }
                    (
                        "timestomp",
                        60.0,
                        t("T1070.006"),
                        format!(
                            "{} rewrote the creation time of {}",
                            base(image),
                            w.get("TargetFilename").unwrap_or("?")
                        ),
                    )
                }
                _ => return,
            },
            _ => return,
        };
        let summary = format!("{}: {what}", w.computer);
        let mut d = draft(cx, ev, w, score, summary);
        d.discriminator = rule.to_string();
        d.attack = Some(vec![tech]);
        d.evidence = evidence(json!({
            "rule": rule,
            "event_id": w.event_id,
            "channel": &*w.channel,
            "image": w.get("Image"),
            "command_line": w.get("CommandLine"),
            "target_object": w.get("TargetObject"),
            "target_filename": w.get("TargetFilename"),
            "user": w.get("SubjectUserName").or(w.get("User")),
        }));
        cx.emit(d);
    }
}

#[cfg(test)]
mod tests;
