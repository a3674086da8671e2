//! `remote_execution`: code started on a computer from another one, seen on the host.
//!
//! **Finds.** The host side of lateral movement: PsExec-style service installs (and
//! their clones RemCom, PAExec, CSExec, smbexec, Metasploit's psexec), WMI provider
//! host children (Impacket wmiexec, SharpWMI), WinRM and PowerShell-remoting hosts
//! spawning programs, DCOM objects (MMC20.Application, ShellWindows/ShellBrowserWindow,
//! LethalHTA's `mshta -Embedding`), remote scheduled tasks (ATSVC) and remote services
//! (SVCCTL) over SMB named pipes, tools copied to administrative shares, remote
//! registry writes to autostart keys, pass-the-hash logons (`sekurlsa::pth`), and
//! commands typed into the Run dialog by an RDP client seconds after it connected
//! (SharpRDP drives a session's keyboard to do exactly that), and WinRM sessions
//! opened by programs that live in user-writable folders (the remoting side of an
//! implant such as Covenant's Grunt).
//!
//! **ATT&CK.** T1021.001 RDP, T1021.002 SMB/Admin shares, T1021.003 DCOM, T1021.006 WinRM, T1569.002
//! Service Execution, T1047 WMI, T1053.005 Scheduled Task, T1570 Lateral Tool Transfer,
//! T1550.002 Pass the Hash, T1547.001 Run keys; stage `lateral_movement`.
//!
//! **Inputs.** `process` (Sysmon 1, 4688), `service_install` (7045, 4697),
//! `registry_set` (Sysmon 13), `share_access` (5140/5145), `logon` (4624),
//! `task_create` (4698), `net_connect` (Sysmon 3), `image_load` (Sysmon 7).
//!
//! **Method.** Each record is judged on what only remote execution produces: a service
//! whose binary is a shell, a one-liner or a known remote-execution service; a child of
//! `WmiPrvSE.exe`, `wsmprovhost.exe`, `winrshost.exe` or of an `-Embedding` DCOM
//! server; output redirected to `\\127.0.0.1\ADMIN$` (Impacket's signature habit); a
//! named pipe of a remote-execution tool, or SVCCTL/ATSVC opened from another address;
//! an executable written to `ADMIN$`/`C$` from another address; a logon of type 9
//! through `seclogo`; a scripting host that loads the Task Scheduler library and talks
//! to another computer's RPC endpoint mapper; a Run-key write by the Remote Registry
//! service; a command that Explorer records in `RunMRU` (the Run dialog's history)
//! within seconds of an inbound RDP connection (Sysmon 3 on port 3389, or a type-10
//! logon) — a person logging on needs longer than that before typing, a program
//! sending keystrokes does not. Evidence of the same kind on the same computer from
//! the same source joins one finding. The source address, when the record has it, is
//! the finding's peer.
//!
//! **Thresholds and why.** Scores are by how unambiguous the trace is: 80–85 for
//! tool signatures (PSEXESVC pipes, `\\127.0.0.1\ADMIN$\__` redirections), 70–75 for
//! shells as services and WMI/WinRM children, 55–60 for SVCCTL/ATSVC pipe access alone
//! (remote administration consoles open them too). A Run-dialog command right after
//! an RDP connection scores 45 once (an administrator reconnecting to an open session
//! can be that quick) and 65 when the same source repeats connect-then-command within
//! an hour; +10 when the command starts an interpreter or fetches a URL. A WinRM
//! connection from a program in a user-writable folder scores 65 (administrators
//! remote through powershell, pwsh or winrs, installed where users cannot write).
//!
//! **Known false positives.** Software deployment through PsExec or WMI by
//! administrators (approve their jump hosts in the org profile: findings whose source
//! is an admin host lose 40); management agents that run commands under WmiPrvSE.
//! **Known misses.** Remote execution through tools with unknown service and pipe
//! names that also avoid shells; anything on a computer without Sysmon or the
//! Security-audit subcategories (5145, 4698, 4688) enabled.
//!
//! **References.** Microsoft, "Advanced Security Audit Policy" events 5145/4698/7045;
//! JPCERT/CC, "Detecting Lateral Movement through Tracking Event Logs"; MITRE ATT&CK
//! T1021, T1569.002.

use std::collections::HashMap;
use std::net::IpAddr;

use dwell_model::{Body, Event, Kind, Peer, Stage, Technique, WinEvent, WinKind};
use foldhash::fast::RandomState;
use serde_json::json;

use crate::ctx::Ctx;
use crate::detector_config;
use crate::endpoint::{any, base, draft, norm_cmdline, user_writable, ProcTable};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `remote_execution`.
    pub struct Config {
        /// Seconds between a Task Scheduler library load and an RPC connection for the
        /// two to count as one remote task creation.
        pub task_rpc_window_s: f64 = 120.0,
        /// Score taken off when the source is a declared admin host.
        pub admin_host_discount: f64 = 40.0,
        /// Seconds after a network logon (4624 type 3/10) within which an execution
        /// record on the same computer is attributed to that logon's source.
        pub logon_window_s: f64 = 120.0,
        /// Seconds after an inbound RDP connection within which a Run-dialog command
        /// is taken as typed by the connecting program.
        pub rdp_run_window_s: f64 = 15.0,
        /// Seconds within which a second connect-then-command from the same source
        /// counts as a repetition.
        pub rdp_repeat_window_s: f64 = 3600.0,
    }
}

const fn t(id: &'static str) -> Technique {
    Technique::must(id)
}

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "remote_execution",
    title: "Remote execution on a host",
    stage: Stage::LateralMovement,
    attack: &[
        t("T1021.001"),
        t("T1021.002"),
        t("T1021.003"),
        t("T1021.006"),
        t("T1569.002"),
        t("T1047"),
        t("T1053.005"),
        t("T1570"),
        t("T1550.002"),
    ],
    inputs: &[
        Kind::Process,
        Kind::ServiceInstall,
        Kind::RegistrySet,
        Kind::ShareAccess,
        Kind::Logon,
        Kind::TaskCreate,
        Kind::NetConnect,
        Kind::ImageLoad,
    ],
    doc: "Host traces of code started from another computer: PsExec-style and shell services, \
          WMI/WinRM/DCOM server children, Impacket output redirections to ADMIN$, remote-exec \
          tool pipes, SVCCTL/ATSVC pipes and executables written to admin shares from other \
          addresses, remote scheduled tasks, Remote Registry Run-key writes, pass-the-hash \
          logons, Run-dialog commands typed seconds after an inbound RDP connection, WinRM \
          sessions opened by programs in user-writable folders.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(RemoteExecution {
        cfg,
        procs: ProcTable::default(),
        task_loads: HashMap::default(),
        remote_registry: Default::default(),
        logons: HashMap::default(),
        rdp_in: HashMap::default(),
        rdp_runs: HashMap::default(),
    }))
}

/// Service names and binaries of remote-execution tools (public facts).
const EXEC_SERVICES: &[&str] =
    &["psexesvc", "remcomsvc", "paexec", "csexecsvc", "btobto", "winexesvc", "rexesvc"];
/// Pipe name parts of remote-execution tools.
const EXEC_PIPES: &[&str] =
    &["psexesvc", "remcom", "paexec", "csexec", "-stdin", "-stdout", "-stderr"];
/// Programs that are no service: installing one as a service is running a command.
const NOT_SERVICES: &[&str] = &[
    "cmd.exe",
    "powershell.exe",
    "pwsh.exe",
    "rundll32.exe",
    "mshta.exe",
    "wscript.exe",
    "cscript.exe",
    "regsvr32.exe",
    "calc.exe",
    "notepad.exe",
    "whoami.exe",
    "net.exe",
];
/// Children a WMI provider host starts by itself.
const WMI_OWN_CHILDREN: &[&str] = &["wmiadap.exe", "werfault.exe", "wmiprvse.exe", "scrcons.exe"];
const SHELLS: &[&str] = &[
    "cmd.exe",
    "powershell.exe",
    "pwsh.exe",
    "rundll32.exe",
    "mshta.exe",
    "wscript.exe",
    "cscript.exe",
    "regsvr32.exe",
    "hostname.exe",
    "whoami.exe",
    "ipconfig.exe",
    "net.exe",
    "calc.exe",
    "notepad.exe",
    "certutil.exe",
];

/// The detector.
pub struct RemoteExecution {
    cfg: Config,
    procs: ProcTable,
    /// (computer, pid) of scripting hosts that loaded taskschd.dll → when.
    task_loads: HashMap<(String, u64), f64, RandomState>,
    /// (computer, pid) of Remote Registry service hosts.
    remote_registry: std::collections::HashSet<(String, u64), RandomState>,
    /// Computer → its latest network or remote-interactive logon (time s, source, user).
    logons: HashMap<String, (f64, IpAddr, String), RandomState>,
    /// Computer → its latest inbound RDP connection or remote-interactive logon (time s,
    /// source).
    rdp_in: HashMap<String, (f64, IpAddr), RandomState>,
    /// (computer, source) → Run-dialog commands right after an RDP connection: (count,
    /// time of the latest).
    rdp_runs: HashMap<(String, IpAddr), (u32, f64), RandomState>,
}

struct Hit {
    rule: &'static str,
    score: f64,
    attack: Vec<Technique>,
    what: String,
    /// The other computer: where the execution came from, or (`outbound`) where this
    /// computer started it.
    source: Option<IpAddr>,
    /// This computer is the one that reached out: `source` is the target, and the
    /// admin-host discount looks at this computer's own address (`local`).
    outbound: bool,
    local: Option<IpAddr>,
}

fn hit(rule: &'static str, score: f64, attack: &[Technique], what: String) -> Hit {
    Hit { rule, score, attack: attack.to_vec(), what, source: None, outbound: false, local: None }
}

fn remote_ip(v: Option<&str>) -> Option<IpAddr> {
    let ip: IpAddr = v?.trim().trim_start_matches("::ffff:").parse().ok()?;
    if ip.is_loopback() || ip.is_unspecified() {
        return None;
    }
    Some(ip)
}

/// A command that a service entry would run, judged.
fn service_command(name: &str, image_path: &str) -> Option<Hit> {
    let cmd = norm_cmdline(image_path);
    let bin = base(cmd.split(" /").next().unwrap_or(&cmd).trim());
    let lname = name.to_ascii_lowercase();
    if EXEC_SERVICES.iter().any(|s| lname.contains(s) || bin.contains(s)) {
        return Some(hit(
            "exec_tool_service",
            80.0,
            &[t("T1569.002"), t("T1021.002")],
            format!("the service {name} of a remote-execution tool ({image_path})"),
        ));
    }
    if any(
        &cmd,
        &[
            "%comspec%",
            "cmd.exe /c",
            "cmd /c",
            "cmd.exe /b /c",
            "cmd.exe /q /c",
            "powershell",
            "\\\\127.0.0.1\\",
            "\\\\localhost\\",
            "admin$",
            "mshta",
            "regsvr32",
        ],
    ) {
        let admin = any(&cmd, &["\\\\127.0.0.1\\", "admin$"]);
        return Some(hit(
            "command_service",
            if admin { 85.0 } else { 75.0 },
            &[t("T1569.002"), t("T1021.002")],
            format!("a service {name} that runs a command line ({image_path})"),
        ));
    }
    if NOT_SERVICES.contains(&&*bin) {
        return Some(hit(
            "program_as_service",
            70.0,
            &[t("T1569.002")],
            format!("a service {name} whose binary is not a service ({image_path})"),
        ));
    }
    if user_writable(&cmd) {
        return Some(hit(
            "user_dir_service",
            60.0,
            &[t("T1569.002"), t("T1543.003")],
            format!("a service {name} run from a user-writable folder ({image_path})"),
        ));
    }
    None
}

impl RemoteExecution {
    fn rdp_connected(&mut self, host: String, at: f64, src: IpAddr) {
        if self.rdp_in.len() >= 100_000 {
            self.rdp_in.clear();
        }
        self.rdp_in.insert(host, (at, src));
    }

    /// A Run-dialog history entry (`RunMRU\a` = `command\1`): suspicious when an RDP
    /// client connected to this computer seconds before.
    fn run_dialog(&mut self, ev: &Event, w: &WinEvent) -> Option<Hit> {
        let host = w.host_key();
        let (at, src) = *self.rdp_in.get(&host)?;
        let after = secs(ev) - at;
        if !(0.0..=self.cfg.rdp_run_window_s).contains(&after) {
            return None;
        }
        let command = w.get("Details")?.trim();
        let command = command.strip_suffix("\\1").unwrap_or(command);
        if command.is_empty() {
            return None;
        }
        if self.rdp_runs.len() >= 100_000 {
            self.rdp_runs.clear();
        }
        let e = self.rdp_runs.entry((host, src)).or_insert((0, f64::MIN));
        if secs(ev) - e.1 > self.cfg.rdp_repeat_window_s {
            e.0 = 0;
        }
        e.0 += 1;
        e.1 = secs(ev);
        let times = e.0;
        let mut score = if times >= 2 { 65.0 } else { 45.0 };
        let c = norm_cmdline(command);
        let loud = any(
            &c,
            &[
                "cmd",
                "powershell",
                "pwsh",
                "mshta",
                "rundll32",
                "regsvr32",
                "wscript",
                "cscript",
                "certutil",
                "bitsadmin",
                "msiexec",
                "http://",
                "https://",
                "\\\\",
            ],
        );
        if loud {
            score += 10.0;
        }
        let mut h = hit(
            "rdp_run_dialog",
            score,
            &[t("T1021.001")],
            format!(
                "`{command}` typed into the Run dialog {after:.0} s after an RDP connection from {src}{}",
                if times >= 2 {
                    format!(" (connect-then-command {times} times within the hour)")
                } else {
                    String::new()
                }
            ),
        );
        h.source = Some(src);
        Some(h)
    }

    fn judge(&mut self, ev: &Event, w: &WinEvent) -> Option<Hit> {
        match w.kind {
            WinKind::ServiceInstall => {
                let name = w.get("ServiceName").unwrap_or("?");
                service_command(name, w.get("ImagePath")?)
            }
            WinKind::RegistrySet => {
                let target = w.get("TargetObject")?.to_ascii_lowercase();
                let key = (w.host_key(), w.get_u64("ProcessId").unwrap_or(u64::MAX));
                if target.contains("\\services\\") && target.ends_with("\\imagepath") {
                    let svc = target.rsplit('\\').nth(1).unwrap_or("?").to_string();
                    return service_command(&svc, w.get("Details")?);
                }
                if target.contains("\\explorer\\runmru\\") && !target.ends_with("\\mrulist") {
                    return self.run_dialog(ev, w);
                }
                if self.remote_registry.contains(&key)
                    && (target.contains("\\currentversion\\run") || target.contains("\\services\\"))
                {
                    return Some(hit(
                        "remote_registry_autostart",
                        75.0,
                        &[t("T1547.001"), t("T1112")],
                        format!(
                            "the Remote Registry service wrote an autostart entry ({} = {})",
                            w.get("TargetObject").unwrap_or("?"),
                            w.get("Details").unwrap_or("")
                        ),
                    ));
                }
                None
            }
            WinKind::Process => {
                self.procs.start(w);
                let image = w.get("Image").unwrap_or("");
                let cmd = norm_cmdline(w.get("CommandLine").unwrap_or(""));
                if base(image) == "svchost.exe" && cmd.contains("remoteregistry") {
                    if let Some(pid) = w.get_u64("ProcessId") {
                        if self.remote_registry.len() < 10_000 {
                            self.remote_registry.insert((w.host_key(), pid));
                        }
                    }
                }
                let parent = base(self.procs.parent_image(w).unwrap_or_default());
                let child = base(image);
                let impacket = any(
                    &cmd,
                    &[
                        "1> \\\\127.0.0.1\\admin$\\__",
                        "1> \\\\127.0.0.1\\c$\\",
                        "1> \\\\localhost\\admin$\\",
                    ],
                );
                match &*parent {
                    "wmiprvse.exe" if !WMI_OWN_CHILDREN.contains(&&*child) => Some(hit(
                        "wmi_child",
                        if impacket { 85.0 } else { 70.0 },
                        &[t("T1047")],
                        format!("the WMI provider host started {child}{}", if impacket { " with its output sent to an administrative share (Impacket wmiexec)" } else { "" }),
                    )),
                    "wsmprovhost.exe" | "winrshost.exe" => Some(hit(
                        "winrm_child",
                        70.0,
                        &[t("T1021.006")],
                        format!("a WinRM/PowerShell-remoting host ({parent}) started {child}"),
                    )),
                    "mmc.exe" | "explorer.exe" | "excel.exe" | "outlook.exe" | "visio.exe"
                        if impacket =>
                    {
                        Some(hit(
                            "dcom_child",
                            85.0,
                            &[t("T1021.003")],
                            format!("{parent} started {child} with its output sent to an administrative share (Impacket dcomexec)"),
                        ))
                    }
                    "mmc.exe" if SHELLS.contains(&&*child) => Some(hit(
                        "dcom_child",
                        65.0,
                        &[t("T1021.003")],
                        format!("the management console started {child} (MMC20.Application over DCOM)"),
                    )),
                    "services.exe" if SHELLS.contains(&&*child) => Some(hit(
                        "service_shell",
                        75.0,
                        &[t("T1569.002")],
                        format!("the service manager started {child}: a service that runs a command"),
                    )),
                    _ if child == "mshta.exe" && cmd.contains("/embedding") => Some(hit(
                        "dcom_mshta",
                        75.0,
                        &[t("T1021.003"), t("T1218.005")],
                        "mshta started as a DCOM server (-Embedding): an HTA object instantiated remotely (LethalHTA)".into(),
                    )),
                    _ if impacket => Some(hit(
                        "admin_share_redirect",
                        75.0,
                        &[t("T1021.002")],
                        format!("{child} ran with its output sent to an administrative share"),
                    )),
                    _ => None,
                }
            }
            WinKind::ShareAccess => {
                let source = remote_ip(w.get("IpAddress"))?;
                let share = w.get("ShareName").unwrap_or("").to_ascii_lowercase();
                let target = w.get("RelativeTargetName").unwrap_or("").to_ascii_lowercase();
                let mask = w.get_u64("AccessMask").unwrap_or(0);
                let mut h = if share.ends_with("ipc$") {
                    if EXEC_PIPES.iter().any(|p| target.contains(p)) {
                        hit("exec_tool_pipe", 80.0, &[t("T1021.002"), t("T1569.002")], format!("the named pipe {target} of a remote-execution tool opened from {source}"))
                    } else if target == "svcctl" {
                        hit(
                            "svcctl_pipe",
                            55.0,
                            &[t("T1021.002"), t("T1569.002")],
                            format!("the service-control pipe (SVCCTL) opened from {source}"),
                        )
                    } else if target == "atsvc" {
                        hit(
                            "atsvc_pipe",
                            60.0,
                            &[t("T1053.005"), t("T1021.002")],
                            format!("the task-scheduler pipe (ATSVC) opened from {source}"),
                        )
                    } else {
                        return None;
                    }
                } else if (share.ends_with("admin$") || share.ends_with("c$"))
                    && mask & 0x2 != 0
                    && any(&target, &[".exe", ".dll", ".ps1", ".bat", ".cmd", ".vbs", ".sys"])
                {
                    let known = EXEC_SERVICES.iter().any(|s| target.contains(s));
                    hit(
                        "tool_to_admin_share",
                        if known { 80.0 } else { 70.0 },
                        &[t("T1570"), t("T1021.002")],
                        format!("{target} written to {share} from {source}"),
                    )
                } else {
                    return None;
                };
                h.source = Some(source);
                Some(h)
            }
            WinKind::Logon if w.event_id == 4624 => {
                let ty = w.get_u64("LogonType")?;
                if ty == 3 || ty == 10 {
                    if let Some(ip) = remote_ip(w.get("IpAddress")) {
                        if self.logons.len() >= 100_000 {
                            self.logons.clear();
                        }
                        let user = w.get("TargetUserName").unwrap_or("?").to_string();
                        self.logons.insert(w.host_key(), (secs(ev), ip, user));
                        if ty == 10 {
                            self.rdp_connected(w.host_key(), secs(ev), ip);
                        }
                    }
                }
                let process = w.get("LogonProcessName").unwrap_or("").trim().to_ascii_lowercase();
                if ty == 9 && process == "seclogo" {
                    return Some(hit(
                        "pass_the_hash",
                        75.0,
                        &[t("T1550.002")],
                        format!(
                            "a new-credentials logon (type 9 through seclogo) as {}: a process given someone else's hash (sekurlsa::pth)",
                            w.get("TargetUserName").unwrap_or("?")
                        ),
                    ));
                }
                None
            }
            WinKind::TaskCreate => {
                let content = norm_cmdline(w.get("TaskContent").unwrap_or(""));
                if any(
                    &content,
                    &[
                        "cmd.exe",
                        "cmd /c",
                        "powershell",
                        "mshta",
                        "rundll32",
                        "\\temp\\",
                        "\\programdata\\",
                        "\\users\\public",
                    ],
                ) {
                    return Some(hit(
                        "task_runs_command",
                        60.0,
                        &[t("T1053.005")],
                        format!(
                            "a scheduled task {} that runs a command",
                            w.get("TaskName").unwrap_or("?")
                        ),
                    ));
                }
                None
            }
            WinKind::ImageLoad => {
                let image = base(w.get("Image").unwrap_or(""));
                let loaded = base(w.get("ImageLoaded").unwrap_or(""));
                if loaded == "taskschd.dll" && SHELLS.contains(&&*image) {
                    if let Some(pid) = w.get_u64("ProcessId") {
                        if self.task_loads.len() >= 10_000 {
                            self.task_loads.clear();
                        }
                        self.task_loads.insert((w.host_key(), pid), ev.ts().0 as f64 / 1e6);
                    }
                }
                None
            }
            WinKind::NetConnect => {
                let initiated = w.get("Initiated").is_some_and(|v| v.eq_ignore_ascii_case("true"));
                let image = base(w.get("Image").unwrap_or(""));
                let port = w.get_u64("DestinationPort").unwrap_or(0);
                if initiated && (port == 5985 || port == 5986) {
                    // PowerShell remoting is driven by powershell/pwsh, winrs or a
                    // management console; a program from a user-writable folder
                    // speaking WinRM is a tool doing it (Covenant's Grunt, Evil-WinRM
                    // builds, custom C#).
                    let full = w.get("Image").unwrap_or("");
                    let shells = ["powershell.exe", "pwsh.exe", "winrs.exe"];
                    if user_writable(&full.to_ascii_lowercase()) && !shells.contains(&&*image) {
                        let dst = remote_ip(w.get("DestinationIp"))?;
                        let mut h = hit(
                            "winrm_from_tool",
                            65.0,
                            &[t("T1021.006")],
                            format!("{full}, a program in a user-writable folder, opened a WinRM session to {dst} (port {port})"),
                        );
                        h.source = Some(dst);
                        h.outbound = true;
                        h.local = remote_ip(w.get("SourceIp"));
                        return Some(h);
                    }
                }
                if !initiated && port == 3389 {
                    if let Some(src) = remote_ip(w.get("SourceIp")) {
                        self.rdp_connected(w.host_key(), secs(ev), src);
                    }
                    return None;
                }
                if initiated && port == 135 {
                    let pid = w.get_u64("ProcessId")?;
                    let at = *self.task_loads.get(&(w.host_key(), pid))?;
                    let dst = remote_ip(w.get("DestinationIp"))?;
                    if ev.ts().0 as f64 / 1e6 - at <= self.cfg.task_rpc_window_s {
                        let mut h = hit(
                            "remote_task_source",
                            65.0,
                            &[t("T1053.005")],
                            format!("{image} loaded the Task Scheduler library and called {dst}'s RPC endpoint mapper: a task created on another computer"),
                        );
                        h.source = Some(dst);
                        return Some(h);
                    }
                }
                if !initiated && matches!(&*image, "explorer.exe" | "mmc.exe" | "mshta.exe") {
                    let src = remote_ip(w.get("SourceIp"))?;
                    let mut h = hit(
                        "dcom_inbound",
                        60.0,
                        &[t("T1021.003")],
                        format!("{image} accepted a connection from {src} on port {}: a DCOM object driven from another computer", w.get("DestinationPort").unwrap_or("?")),
                    );
                    h.source = Some(src);
                    return Some(h);
                }
                None
            }
            _ => None,
        }
    }
}

fn secs(ev: &Event) -> f64 {
    ev.ts().0 as f64 / 1e6
}

impl Detector for RemoteExecution {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Win(w) = &ev.body else { return };
        let Some(mut h) = self.judge(ev, w) else { return };
        // Execution records carry no source: the network logon just before does.
        let mut logon_user = None;
        if h.source.is_none()
            && matches!(
                w.kind,
                WinKind::Process
                    | WinKind::ServiceInstall
                    | WinKind::RegistrySet
                    | WinKind::TaskCreate
            )
        {
            if let Some((t, ip, user)) = self.logons.get(&w.host_key()) {
                if (0.0..=self.cfg.logon_window_s).contains(&(secs(ev) - t)) {
                    h.source = Some(*ip);
                    logon_user = Some(user.clone());
                }
            }
        }
        let mut score = h.score;
        let mut note = String::new();
        let from = if h.outbound { h.local } else { h.source };
        if let Some(src) = from {
            if cx.profile().admin_hosts.contains(src) {
                score -= self.cfg.admin_host_discount;
                note = format!("; {src} is a declared admin host");
            }
        }
        if let (Some(src), Some(user)) = (h.source, &logon_user) {
            note = format!("; after a network logon of {user} from {src}{note}");
        }
        let summary = format!("{}: {}{note}", w.computer, h.what);
        let mut d = draft(cx, ev, w, score, summary);
        d.discriminator = h.rule.to_string();
        d.attack = Some(h.attack);
        d.peer = h.source.map(|ip| Peer { ip: Some(ip), domain: None, port: None });
        let mut evidence = json!({
            "rule": h.rule,
            "event_id": w.event_id,
            "channel": &*w.channel,
        });
        for k in [
            "Image",
            "CommandLine",
            "ParentImage",
            "ServiceName",
            "ImagePath",
            "ShareName",
            "RelativeTargetName",
            "IpAddress",
            "TargetUserName",
            "LogonType",
            "TargetObject",
            "TaskName",
        ] {
            if let Some(v) = w.get(k) {
                evidence[k] = json!(v);
            }
        }
        if let serde_json::Value::Object(m) = evidence {
            d.evidence = m;
        }
        cx.emit(d);
    }
}

#[cfg(test)]
mod tests;
