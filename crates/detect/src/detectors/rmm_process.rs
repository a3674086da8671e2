//! `rmm_process`: remote-management tools started on a host, against the approved-tool
//! ledger.
//!
//! **Finds.** The endpoint half of RMM abuse: AnyDesk, TeamViewer, ScreenConnect,
//! Atera, Splashtop, NetSupport, RustDesk, MeshCentral, ngrok, cloudflared and the other
//! tools of our list started on a computer where the org profile's ledger does not allow
//! them — the same ledger (`[[rmm.approved]]`) the network `rmm_tool` detector reads.
//!
//! **ATT&CK.** T1219 Remote Access Software (T1572 for tunnelling tools); stage
//! `command_and_control`.
//!
//! **Inputs.** `process` events (Sysmon 1, 4688).
//!
//! **Method.** The image name, the PE's original file name and the company name are
//! matched against our table of RMM executables (public facts). The ledger decides the
//! base: approved here and now → nothing; approved but on another host or outside its
//! hours → 55; not in the ledger → 60; no ledger configured → 45 (visible, not an
//! alert: a network without a ledger cannot say what is sanctioned). Context adds: the
//! tool runs from a user-writable folder (a portable copy, not an installation) +15; it
//! was started by a shell, a script host or a remote-execution host +10; silent or
//! unattended-install arguments +10. One finding per computer and tool.
//!
//! **Thresholds and why.** A sanctioned tool must never fire; an unsanctioned install
//! by the helpdesk is a policy matter (60); a portable copy launched from a shell is an
//! intrusion's habit (85).
//!
//! **Known false positives.** Tools the helpdesk uses but nobody entered in the ledger.
//! **Known misses.** Renamed tools with stripped version information; tools not in the
//! list.
//!
//! **References.** CISA AA23-025A ("Protecting Against Malicious Use of Remote
//! Monitoring and Management Software"); MITRE ATT&CK T1219.

use dwell_model::{Body, Event, Kind, Stage, Technique};
use serde_json::json;

use crate::ctx::Ctx;
use crate::detector_config;
use crate::detectors::rmm_tool::{verdict, Verdict};
use crate::endpoint::{any, base, dir, draft, evidence, norm_cmdline, user_writable};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `rmm_process`.
    pub struct Config {
        /// Score when no ledger is configured.
        pub no_ledger_score: f64 = 45.0,
        /// Score when the tool is not in the ledger.
        pub unapproved_score: f64 = 60.0,
    }
}

const fn t(id: &'static str) -> Technique {
    Technique::must(id)
}

/// Executable names (lower case) → tool id as in the network detector's list.
const EXES: &[(&str, &str)] = &[
    ("anydesk.exe", "anydesk"),
    ("teamviewer.exe", "teamviewer"),
    ("teamviewer_service.exe", "teamviewer"),
    ("tv_w32.exe", "teamviewer"),
    ("tv_x64.exe", "teamviewer"),
    ("teamviewerqs.exe", "teamviewer"),
    ("screenconnect.clientservice.exe", "screenconnect"),
    ("screenconnect.windowsclient.exe", "screenconnect"),
    ("connectwisecontrol.client.exe", "screenconnect"),
    ("atera_agent.exe", "atera"),
    ("ateraagent.exe", "atera"),
    ("srservice.exe", "splashtop"),
    ("srmanager.exe", "splashtop"),
    ("strwinclt.exe", "splashtop"),
    ("client32.exe", "netsupport"),
    ("rustdesk.exe", "rustdesk"),
    ("meshagent.exe", "meshcentral"),
    ("tacticalrmm.exe", "tacticalrmm"),
    ("logmein.exe", "logmein"),
    ("lmiguardiansvc.exe", "logmein"),
    ("za_connect.exe", "zoho_assist"),
    ("zohours.exe", "zoho_assist"),
    ("remote access.exe", "simplehelp"),
    ("simplegatewayservice.exe", "simplehelp"),
    ("action1_agent.exe", "action1"),
    ("ngrok.exe", "ngrok"),
    ("cloudflared.exe", "cloudflared"),
    ("rutserv.exe", "remote_utilities"),
    ("rfusclient.exe", "remote_utilities"),
    ("supremo.exe", "supremo"),
    ("supremoservice.exe", "supremo"),
    ("bomgar-scc.exe", "beyondtrust"),
    ("agentmon.exe", "kaseya"),
    ("ninjarmmagent.exe", "ninjaone"),
    ("dwrcs.exe", "dameware"),
    ("dwrcst.exe", "dameware"),
    ("winvnc.exe", "vnc"),
    ("tvnserver.exe", "vnc"),
    ("vncserver.exe", "vnc"),
    ("uvnc_service.exe", "vnc"),
    ("aa_v3.exe", "ammyy"),
    ("ammyy_admin.exe", "ammyy"),
    ("rserver3.exe", "radmin"),
    ("parsecd.exe", "parsec"),
    ("remoting_host.exe", "chrome_remote_desktop"),
    ("pcmonitorsrv.exe", "pulseway"),
    ("getscreen.exe", "getscreen"),
    ("dwagent.exe", "dwservice"),
    ("remotepcservice.exe", "remotepc"),
    ("islalwaysonmonitor.exe", "isl_online"),
];
/// Company names in version information → tool id.
const COMPANIES: &[(&str, &str)] = &[
    ("anydesk software", "anydesk"),
    ("teamviewer", "teamviewer"),
    ("screenconnect", "screenconnect"),
    ("connectwise", "screenconnect"),
    ("atera networks", "atera"),
    ("splashtop", "splashtop"),
    ("netsupport", "netsupport"),
    ("rustdesk", "rustdesk"),
    ("ngrok", "ngrok"),
    ("usoris", "remote_utilities"),
    ("nanosystems", "supremo"),
];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "rmm_process",
    title: "Remote-management tool started",
    stage: Stage::CommandAndControl,
    attack: &[t("T1219")],
    inputs: &[Kind::Process],
    doc: "Remote-management tools (by image, original file name or company) started where the \
          org profile's RMM ledger does not allow them; higher for portable copies in user \
          folders, shell or remote-execution parents and silent installs.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(RmmProcess { cfg }))
}

/// The detector.
pub struct RmmProcess {
    cfg: Config,
}

fn tool_of(image: &str, original: &str, company: &str) -> Option<&'static str> {
    let name = base(image);
    // Our lists are lower case; the record's names are compared regardless of case,
    // without copying them (a company name is short: a plain scan beats a searcher).
    let company = company.as_bytes();
    let in_company =
        |c: &str| company.windows(c.len()).any(|w| w.eq_ignore_ascii_case(c.as_bytes()));
    EXES.iter()
        .find(|(e, _)| *e == name || e.eq_ignore_ascii_case(original))
        .map(|(_, t)| *t)
        .or_else(|| COMPANIES.iter().find(|(c, _)| in_company(c)).map(|(_, t)| *t))
}

impl Detector for RmmProcess {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Win(w) = &ev.body else { return };
        let Some(image) = w.get("Image") else { return };
        let Some(tool) =
            tool_of(image, w.get("OriginalFileName").unwrap_or(""), w.get("Company").unwrap_or(""))
        else {
            return;
        };
        let entity = cx.host_entity(&w.computer);
        let v = verdict(cx.profile(), tool, entity.ip, Some(&w.computer), ev.ts());
        let (mut score, ledger) = match v {
            Verdict::Approved => return,
            Verdict::OutOfBounds => (55.0, "approved, but not on this computer or at this hour"),
            Verdict::Unapproved => (self.cfg.unapproved_score, "not in the approved-tool ledger"),
            Verdict::NoLedger => (self.cfg.no_ledger_score, "no approved-tool ledger configured"),
        };
        let mut why = vec![ledger.to_string()];
        if user_writable(&dir(image)) {
            score += 15.0;
            why.push(format!("runs from a user-writable folder ({})", dir(image)));
        }
        let parent = base(w.get("ParentImage").unwrap_or(""));
        if matches!(
            &*parent,
            "cmd.exe"
                | "powershell.exe"
                | "pwsh.exe"
                | "wscript.exe"
                | "cscript.exe"
                | "mshta.exe"
                | "rundll32.exe"
                | "wmiprvse.exe"
                | "wsmprovhost.exe"
                | "winrshost.exe"
        ) {
            score += 10.0;
            why.push(format!("started by {parent}"));
        }
        let cmd = norm_cmdline(w.get("CommandLine").unwrap_or(""));
        if any(
            &cmd,
            &[
                "/silent",
                "/install",
                "/s ",
                "/quiet",
                "/verysilent",
                "/start-with-win",
                "/unattended",
                "/set-password",
            ],
        ) {
            score += 10.0;
            why.push("silent or unattended install arguments".into());
        }
        let summary =
            format!("{}: {tool} started ({}); {}", w.computer, base(image), why.join("; "));
        let mut d = draft(cx, ev, w, score, summary);
        d.discriminator = tool.to_string();
        if matches!(tool, "ngrok" | "cloudflared" | "zerotier") {
            d.attack = Some(vec![t("T1219"), t("T1572")]);
        }
        d.evidence = evidence(json!({
            "tool": tool,
            "image": image,
            "command_line": w.get("CommandLine"),
            "parent_image": w.get("ParentImage"),
            "company": w.get("Company"),
            "user": w.get("User"),
            "ledger": ledger,
        }));
        cx.emit(d);
    }
}

#[cfg(test)]
mod tests;
