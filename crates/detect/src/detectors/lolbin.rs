//! `lolbin`: native Windows binaries used the way intruders use them.
//!
//! **Finds.** Living off the land: the binaries every Windows machine carries, run with
//! the arguments that turn them into a proxy, a downloader, a credential dumper or a
//! script host — the set public reports on Volt Typhoon and the LOLBAS project list:
//! `netsh interface portproxy`, `ntdsutil` IFM snapshots, `vssadmin create shadow`,
//! `wmic process call create` and `/node:`, `wmic /format:` XSL, `certutil -urlcache` and
//! `-decode`, `reg save` of the SAM/SYSTEM/SECURITY hives, `rundll32 comsvcs.dll
//! MiniDump`, `rundll32 javascript:`/`url.dll`/`advpack.dll`, `ldifde` and `dsquery`
//! exports, `nltest /dclist`, `wevtutil cl`, `bitsadmin /transfer`, `mshta` with a URL or
//! script, `regsvr32 /i:` scriptlets, `msiexec /q` from a URL, `pcalua -a`, `msxsl`,
//! `desktopimgdownldr /lockscreenurl:`, `installutil`, `ftp -s:`, PowerShell download
//! cradles and encoded commands.
//!
//! **ATT&CK.** Per rule (T1218.x, T1105, T1003.x, T1090.001, T1047, T1070.001, T1220,
//! T1197, T1202, T1059.001, T1087.002, T1482); stage per rule.
//!
//! **Inputs.** `process` events (Sysmon 1, Security 4688 with command-line auditing).
//!
//! **Method.** A rule names binaries (by image name or by the PE's original file name,
//! so a renamed copy still matches) and argument groups that must all be present in
//! the normalised command line (case folded, `-`/`/` and Unicode dashes equal, caret
//! escapes removed). Each rule has a base score; context raises it: the parent is a web
//! server or a Java/Tomcat process (web shell), a remote-management agent, or a remote
//! execution host (WMI provider, WinRM, PowerShell remoting) +15; the binary runs
//! renamed +15 or from outside the system directories +10; the host ran the same rule
//! for the first time after it had a day of process history +5. A rule the same
//! computer ran on at least `routine_days` distinct days before is an admin habit:
//! −20.
//!
//! **Thresholds and why.** Discovery rules (`dsquery`, `nltest`) start at 40 and need
//! context to reach 50: administrators run them from jump hosts every day, intruders run
//! them from web shells and RMM sessions. Rules with no administrative use in their
//! matched form (`comsvcs MiniDump`, `ntdsutil ifm`, `regsvr32 /i:http`) start at 70–85.
//!
//! **Known false positives.** Installers that use `msiexec`/`bitsadmin` with URLs;
//! software deployment tools running `wmic /node:`. **Known misses.** Binaries or
//! arguments not in the rule list; obfuscation beyond carets and dash look-alikes;
//! 4688 without command-line auditing (no arguments logged).
//!
//! **References.** CISA AA23-144A and AA24-038A (Volt Typhoon living-off-the-land
//! commands); the LOLBAS project (lolbas-project.github.io); MITRE ATT&CK T1218.

use std::collections::{HashMap, HashSet};

use dwell_model::{Body, Event, Kind, Stage, Technique, Timestamp};
use foldhash::fast::RandomState;
use serde_json::json;

use crate::ctx::Ctx;
use crate::detector_config;
use crate::endpoint::{base, dir, draft, norm_cmdline, system_dir, ProcTable};
use crate::meta::DetectorMeta;
use crate::registry::{parse_config, BuildCx, ConfigError, Registration};
use crate::Detector;

detector_config! {
    /// Thresholds of `lolbin`.
    pub struct Config {
        /// Distinct days a computer must have run a rule before it counts as routine there.
        pub routine_days: usize = 3,
        /// Most computers whose history is kept.
        pub max_hosts: usize = 100_000,
    }
}

const fn t(id: &'static str) -> Technique {
    Technique::must(id)
}

/// One living-off-the-land pattern.
struct Rule {
    id: &'static str,
    /// Image or original file names (lower case).
    bins: &'static [&'static str],
    /// Groups of words; every group needs one word in the command line.
    all: &'static [&'static [&'static str]],
    stage: Stage,
    attack: &'static [Technique],
    score: f64,
    what: &'static str,
    /// The arguments alone identify the binary (a renamed copy matches by them).
    args_identify: bool,
}

const URL: &[&str] = &["http://", "https://", "ftp://", "\\\\"];

static RULES: &[Rule] = &[
    Rule {
        id: "netsh_portproxy",
        bins: &["netsh.exe"],
        all: &[&["portproxy"], &["add", "set"]],
        stage: Stage::CommandAndControl,
        attack: &[t("T1090.001")],
        score: 75.0,
        what: "a port proxy (traffic relayed through this host)",
        args_identify: false,
    },
    Rule {
        id: "ntdsutil_ifm",
        bins: &["ntdsutil.exe"],
        all: &[&["ifm", "ac i ntds", "activate instance ntds", "snapshot"]],
        stage: Stage::CredentialAccess,
        attack: &[t("T1003.003")],
        score: 85.0,
        what: "a copy of the Active Directory database (NTDS.dit)",
        args_identify: false,
    },
    Rule {
        id: "vssadmin_shadow",
        bins: &["vssadmin.exe"],
        all: &[&["create shadow"]],
        stage: Stage::CredentialAccess,
        attack: &[t("T1003.003")],
        score: 65.0,
        what: "a volume shadow copy (to read locked files such as NTDS.dit)",
        args_identify: false,
    },
    Rule {
        id: "wmic_shadowcopy",
        bins: &["wmic.exe"],
        all: &[&["shadowcopy"], &["create"]],
        stage: Stage::CredentialAccess,
        attack: &[t("T1003.003")],
        score: 65.0,
        what: "a volume shadow copy through WMI",
        args_identify: false,
    },
    Rule {
        id: "wmic_remote",
        bins: &["wmic.exe"],
        all: &[&["/node:"], &["process call create", "call create"]],
        stage: Stage::LateralMovement,
        attack: &[t("T1047")],
        score: 70.0,
        what: "a process started on another computer through WMI",
        args_identify: false,
    },
    Rule {
        id: "wmic_create",
        bins: &["wmic.exe"],
        all: &[&["process call create"]],
        stage: Stage::Execution,
        attack: &[t("T1047")],
        score: 60.0,
        what: "a process started through WMI",
        args_identify: false,
    },
    Rule {
        id: "wmic_xsl",
        bins: &["wmic.exe"],
        all: &[&["/format:"], &["http", ".xsl", "\\\\"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1220")],
        score: 75.0,
        what: "a remote XSL script run by WMIC (Squiblytwo)",
        args_identify: true,
    },
    Rule {
        id: "certutil_download",
        bins: &["certutil.exe"],
        all: &[&["/urlcache", "/verifyctl", "/url"], URL],
        stage: Stage::CommandAndControl,
        attack: &[t("T1105")],
        score: 75.0,
        what: "a file downloaded with certutil",
        args_identify: false,
    },
    Rule {
        id: "certutil_decode",
        bins: &["certutil.exe"],
        all: &[&["/decode", "/decodehex"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1140")],
        score: 60.0,
        what: "a file decoded with certutil",
        args_identify: false,
    },
    Rule {
        id: "reg_save_hive",
        bins: &["reg.exe"],
        all: &[
            &["save", "export"],
            &[
                "hklm\\sam",
                "hklm\\system",
                "hklm\\security",
                "hkey_local_machine\\sam",
                "hkey_local_machine\\system",
                "hkey_local_machine\\security",
            ],
        ],
        stage: Stage::CredentialAccess,
        attack: &[t("T1003.002")],
        score: 75.0,
        what: "a registry hive with credential material saved to a file",
        args_identify: false,
    },
    Rule {
        id: "comsvcs_minidump",
        bins: &["rundll32.exe"],
        all: &[&["comsvcs"], &["minidump", "#24", "#+24", "#-"]],
        stage: Stage::CredentialAccess,
        attack: &[t("T1003.001")],
        score: 85.0,
        what: "a process memory dump through comsvcs.dll (LSASS dumping)",
        args_identify: true,
    },
    Rule {
        id: "rundll32_script",
        bins: &["rundll32.exe"],
        all: &[&["javascript:", "vbscript:", "mshtml,runhtmlapplication"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1218.011")],
        score: 80.0,
        what: "script run through rundll32",
        args_identify: true,
    },
    Rule {
        id: "rundll32_proxy",
        bins: &["rundll32.exe"],
        all: &[&[
            "url.dll,fileprotocolhandler",
            "url.dll,openurl",
            "ieframe.dll,openurl",
            "advpack.dll,registerocx",
            "advpack.dll,launchinfsection",
            "shdocvw.dll,openurl",
            "zipfldr.dll,routecall",
            "pcwutl.dll,launchapplication",
            "setupapi.dll,installhinfsection",
            "syssetup.dll,setupinfobjectinstallaction",
            "ieadvpack.dll,launchinfsection",
        ]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1218.011")],
        score: 65.0,
        what: "a program launched through a rundll32 proxy export",
        args_identify: false,
    },
    Rule {
        id: "rundll32_cpl_user",
        bins: &["rundll32.exe", "control.exe"],
        all: &[
            &[".cpl"],
            &["\\users\\", "\\temp\\", "\\downloads\\", "\\programdata\\", "\\appdata\\"],
        ],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1218.002")],
        score: 65.0,
        what: "a control-panel item from a user-writable folder",
        args_identify: false,
    },
    Rule {
        id: "ldifde_export",
        bins: &["ldifde.exe"],
        all: &[&["/f"]],
        stage: Stage::Discovery,
        attack: &[t("T1087.002")],
        score: 45.0,
        what: "an export of directory objects",
        args_identify: false,
    },
    Rule {
        id: "dsquery",
        bins: &["dsquery.exe"],
        all: &[&["*", "user", "computer", "group", "server", "subnet", "site"]],
        stage: Stage::Discovery,
        attack: &[t("T1087.002")],
        score: 40.0,
        what: "a directory query",
        args_identify: false,
    },
    Rule {
        id: "nltest_dc",
        bins: &["nltest.exe"],
        all: &[&["/dclist", "/domain_trusts", "/dsgetdc", "/all_trusts"]],
        stage: Stage::Discovery,
        attack: &[t("T1482")],
        score: 40.0,
        what: "a domain-controller or trust enumeration",
        args_identify: false,
    },
    Rule {
        id: "wevtutil_clear",
        bins: &["wevtutil.exe"],
        all: &[&[" cl ", " clear-log "]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1070.001")],
        score: 75.0,
        what: "an event log cleared",
        args_identify: false,
    },
    Rule {
        id: "wevtutil_query_logons",
        bins: &["wevtutil.exe"],
        all: &[&[" qe ", " query-events "], &["security"], &["4624", "eventid"]],
        stage: Stage::Discovery,
        attack: &[t("T1654")],
        score: 50.0,
        what: "logon events read from the Security log",
        args_identify: false,
    },
    Rule {
        id: "bitsadmin_transfer",
        bins: &["bitsadmin.exe"],
        all: &[&["/transfer", "/addfile", "/setnotifycmdline"]],
        stage: Stage::CommandAndControl,
        attack: &[t("T1197"), t("T1105")],
        score: 65.0,
        what: "a download or persistence through BITS",
        args_identify: false,
    },
    Rule {
        id: "mshta_remote",
        bins: &["mshta.exe"],
        all: &[&["http://", "https://", "javascript:", "vbscript:", ".hta", "\\\\"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1218.005")],
        score: 70.0,
        what: "an HTML application run by mshta",
        args_identify: false,
    },
    Rule {
        id: "regsvr32_scriptlet",
        bins: &["regsvr32.exe"],
        all: &[&["/i:"], &["http", "scrobj", ".sct", "\\\\"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1218.010")],
        score: 80.0,
        what: "a COM scriptlet run by regsvr32 (Squiblydoo)",
        args_identify: true,
    },
    Rule {
        id: "msiexec_remote",
        bins: &["msiexec.exe"],
        all: &[&["/q"], &["http://", "https://"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1218.007")],
        score: 65.0,
        what: "a package installed quietly from a URL",
        args_identify: false,
    },
    Rule {
        id: "pcalua_proxy",
        bins: &["pcalua.exe"],
        all: &[&["/a "]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1202")],
        score: 65.0,
        what: "a program launched through the Program Compatibility Assistant",
        args_identify: false,
    },
    Rule {
        id: "msxsl",
        bins: &["msxsl.exe"],
        all: &[&[" "]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1220")],
        score: 75.0,
        what: "an XSL script run by msxsl",
        args_identify: false,
    },
    Rule {
        id: "desktopimgdownldr",
        bins: &["desktopimgdownldr.exe"],
        all: &[&["/lockscreenurl:"]],
        stage: Stage::CommandAndControl,
        attack: &[t("T1105")],
        score: 75.0,
        what: "a file downloaded through the lock-screen image downloader",
        args_identify: true,
    },
    Rule {
        id: "installutil",
        bins: &["installutil.exe"],
        all: &[&["/logfile=", "/u", "/logtoconsole"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1218.004")],
        score: 70.0,
        what: "an assembly run by InstallUtil",
        args_identify: false,
    },
    Rule {
        id: "regasm_regsvcs",
        bins: &["regasm.exe", "regsvcs.exe"],
        all: &[&["/u", ".dll"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1218.009")],
        score: 45.0,
        what: "an assembly run by RegAsm/RegSvcs",
        args_identify: false,
    },
    Rule {
        id: "ftp_script",
        bins: &["ftp.exe"],
        all: &[&["/s:"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1202")],
        score: 60.0,
        what: "commands run from an ftp script",
        args_identify: false,
    },
    Rule {
        id: "cmstp_inf",
        bins: &["cmstp.exe"],
        all: &[&["/s", "/au"], &[".inf"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1218.003")],
        score: 75.0,
        what: "an INF run by cmstp",
        args_identify: false,
    },
    Rule {
        id: "powershell_download",
        bins: &["powershell.exe", "pwsh.exe"],
        all: &[&[
            "downloadstring",
            "downloadfile",
            "downloaddata",
            "invoke-webrequest",
            "iwr ",
            "net.webclient",
            "start-bitstransfer",
            "invoke-restmethod",
        ]],
        stage: Stage::CommandAndControl,
        attack: &[t("T1059.001"), t("T1105")],
        score: 65.0,
        what: "a PowerShell download cradle",
        args_identify: false,
    },
    Rule {
        id: "powershell_encoded",
        bins: &["powershell.exe", "pwsh.exe"],
        all: &[
            &["/enc", "/ec ", "frombase64string", "gzipstream", "/encodedcommand"],
            &[
                "/w hidden",
                "/windowstyle hidden",
                "/nop",
                "/noni",
                "iex",
                "invoke-expression",
                "[scriptblock]::create",
            ],
        ],
        stage: Stage::Execution,
        attack: &[t("T1059.001"), t("T1027")],
        score: 70.0,
        what: "a hidden PowerShell command with encoded or compressed code",
        args_identify: false,
    },
    Rule {
        id: "wscript_user_script",
        bins: &["wscript.exe", "cscript.exe"],
        all: &[
            &[".js", ".jse", ".vbs", ".vbe", ".wsf", ".txt", "/e:"],
            &[
                "\\users\\",
                "\\temp\\",
                "\\downloads\\",
                "\\programdata\\",
                "\\appdata\\",
                "temporary internet files",
            ],
        ],
        stage: Stage::Execution,
        attack: &[t("T1059.005"), t("T1059.007")],
        score: 60.0,
        what: "a script from a user-writable folder run by the Windows Script Host",
        args_identify: false,
    },
    Rule {
        id: "esentutl_ntds",
        bins: &["esentutl.exe"],
        all: &[&["ntds.dit", "\\sam", "\\system"], &["/y", "/vss"]],
        stage: Stage::CredentialAccess,
        attack: &[t("T1003.003")],
        score: 80.0,
        what: "a locked credential store copied with esentutl",
        args_identify: false,
    },
    Rule {
        id: "register_cimprovider",
        bins: &["register-cimprovider.exe"],
        all: &[&["/path"]],
        stage: Stage::DefenseEvasion,
        attack: &[t("T1218")],
        score: 70.0,
        what: "a DLL loaded through Register-CimProvider",
        args_identify: false,
    },
    Rule {
        id: "net_user_add",
        bins: &["net.exe", "net1.exe"],
        all: &[&[" user ", " localgroup "], &["/add"]],
        stage: Stage::Persistence,
        attack: &[t("T1136.001")],
        score: 55.0,
        what: "an account created or added to a group",
        args_identify: false,
    },
];

/// Parents that make a living-off-the-land command an intruder's: web servers (web
/// shells), remote-management agents, and remote-execution hosts.
const WEB_PARENTS: &[&str] = &[
    "w3wp.exe",
    "httpd.exe",
    "nginx.exe",
    "php-cgi.exe",
    "php.exe",
    "tomcat.exe",
    "tomcat7.exe",
    "tomcat8.exe",
    "tomcat9.exe",
    "java.exe",
    "javaw.exe",
    "umworkerprocess.exe",
    "sqlservr.exe",
    // Unix servers (Sysmon for Linux).
    "java",
    "httpd",
    "apache2",
    "nginx",
    "php-fpm",
    "php-cgi",
    "lighttpd",
];
const RMM_PARENTS: &[&str] = &[
    "anydesk.exe",
    "teamviewer.exe",
    "teamviewer_service.exe",
    "screenconnect.clientservice.exe",
    "screenconnect.windowsclient.exe",
    "atera_agent.exe",
    "ateraagent.exe",
    "srservice.exe",
    "splashtop.exe",
    "rustdesk.exe",
    "meshagent.exe",
    "tacticalrmm.exe",
    "ltsvc.exe",
    "agentmon.exe",
    "rutserv.exe",
    "client32.exe",
    "ninjarmmagent.exe",
    "winvnc.exe",
];
const REMOTE_PARENTS: &[&str] = &["wmiprvse.exe", "wsmprovhost.exe", "winrshost.exe"];

/// Detector metadata.
pub static META: DetectorMeta = DetectorMeta {
    id: "lolbin",
    title: "Living off the land",
    stage: Stage::Execution,
    attack: &[
        t("T1218"),
        t("T1105"),
        t("T1003.003"),
        t("T1090.001"),
        t("T1047"),
        t("T1070.001"),
        t("T1220"),
        t("T1197"),
    ],
    inputs: &[Kind::Process, Kind::WinOther],
    doc: "Native Windows binaries run with the arguments that make them proxies, downloaders, \
          credential dumpers or script hosts (Volt Typhoon's set and LOLBAS patterns), \
          matched by image or original file name; higher when the parent is a web server, an \
          RMM agent or a remote-execution host, when renamed or outside System32, and when new \
          for the computer; lower when routine there.",
    params: Config::params,
};

/// Registration in the detector list.
pub static REGISTRATION: Registration = Registration { meta: &META, build };

fn build(cx: &BuildCx<'_>) -> Result<Box<dyn Detector>, ConfigError> {
    let cfg: Config = parse_config(META.id, cx.settings(META.id))?;
    Ok(Box::new(Lolbin {
        cfg,
        hosts: HashMap::default(),
        procs: ProcTable::default(),
        bits_jobs: HashMap::default(),
    }))
}

#[derive(Debug, Default)]
struct HostHistory {
    first: Option<Timestamp>,
    /// Rule id → distinct days it ran.
    days: HashMap<&'static str, HashSet<i64>>,
}

/// The detector.
pub struct Lolbin {
    cfg: Config,
    hosts: HashMap<String, HostHistory, RandomState>,
    procs: ProcTable,
    /// BITS job id → the program that created it (Bits-Client event 3).
    bits_jobs: HashMap<String, String, RandomState>,
}

/// Programs whose BITS downloads are someone using a native binary as a downloader.
const BITS_ABUSERS: &[&str] = &[
    "desktopimgdownldr.exe",
    "bitsadmin.exe",
    "powershell.exe",
    "pwsh.exe",
    "cmd.exe",
    "rundll32.exe",
    "mshta.exe",
    "wscript.exe",
    "cscript.exe",
    "regsvr32.exe",
    "certutil.exe",
];

fn args_match(rule: &Rule, cmd: &str) -> bool {
    rule.all.iter().all(|group| group.iter().any(|w| cmd.contains(w)))
}

/// The rule a process start meets: by binary first; else, for a program that is not a
/// shell (whose command line merely names the binary it launches), by arguments that
/// only one binary takes (a renamed copy).
fn find_rule(name: &str, original: &str, cmd: &str) -> Option<&'static Rule> {
    // Rules by binary name, in `RULES` order (built once).
    static BY_BIN: std::sync::LazyLock<HashMap<&'static str, Vec<usize>>> =
        std::sync::LazyLock::new(|| {
            let mut m: HashMap<&'static str, Vec<usize>> = HashMap::new();
            for (i, r) in RULES.iter().enumerate() {
                for b in r.bins {
                    m.entry(*b).or_default().push(i);
                }
            }
            m
        });
    let none: &[usize] = &[];
    let (a, b) = (
        BY_BIN.get(name).map_or(none, Vec::as_slice),
        BY_BIN.get(original).map_or(none, Vec::as_slice),
    );
    let mut by_bin: Vec<usize> = a.iter().chain(b).copied().collect();
    by_bin.sort_unstable();
    by_bin.into_iter().map(|i| &RULES[i]).find(|r| args_match(r, cmd)).or_else(|| {
        if SHELLS.contains(&name) || SHELLS.contains(&original) {
            return None;
        }
        RULES.iter().find(|r| r.args_identify && args_match(r, cmd))
    })
}

/// Programs that run other programs on an operator's behalf (indirect command
/// execution): a shell or any program as their child is the proxy at work.
const PROXY_PARENTS: &[&str] =
    &["ftp.exe", "msxsl.exe", "forfiles.exe", "scriptrunner.exe", "pcalua.exe"];
/// Shells and interpreters, Windows and Unix.
const SHELLS: &[&str] = &[
    "cmd.exe",
    "powershell.exe",
    "pwsh.exe",
    "bash",
    "sh",
    "dash",
    "zsh",
    "ksh",
    "python",
    "python3",
    "perl",
    "nc",
    "ncat",
    "wscript.exe",
    "cscript.exe",
];

impl Lolbin {
    /// BITS transfers started by a native binary used as a downloader: the Bits-Client
    /// log names the program that created the job (event 3) and the URL of each
    /// transfer (event 59), even when no process record exists.
    fn bits(&mut self, ev: &Event, w: &dwell_model::WinEvent, cx: &mut Ctx<'_>) {
        if !w.channel.to_ascii_lowercase().contains("bits-client") {
            return;
        }
        match w.event_id {
            3 => {
                if let (Some(job), Some(path)) = (w.get("jobId"), w.get("processPath")) {
                    if self.bits_jobs.len() >= 100_000 {
                        self.bits_jobs.clear();
                    }
                    self.bits_jobs.insert(job.to_ascii_lowercase(), path.to_string());
                }
            }
            59 => {
                let Some(url) = w.get("url") else { return };
                let job = w.get("Id").unwrap_or("").to_ascii_lowercase();
                let Some(creator) = self.bits_jobs.get(&job).cloned() else { return };
                let name = base(&creator);
                if !BITS_ABUSERS.contains(&&*name) {
                    return;
                }
                let lurl = url.to_ascii_lowercase();
                let host =
                    lurl.split("://").nth(1).unwrap_or("").split(['/', ':']).next().unwrap_or("");
                let mut score = 70.0;
                let mut why = Vec::new();
                if host.parse::<std::net::IpAddr>().is_ok() {
                    score += 10.0;
                    why.push("from a raw address");
                }
                let path = lurl.split(['?', '#']).next().unwrap_or("");
                if [
                    ".exe", ".dll", ".ps1", ".bat", ".hta", ".scr", ".7z", ".zip", ".rar", ".vbs",
                    ".js",
                ]
                .iter()
                .any(|x| path.ends_with(x))
                {
                    score += 5.0;
                    why.push("an executable or archive");
                }
                let summary = format!(
                    "{}: {name} had BITS download {url}{}",
                    w.computer,
                    if why.is_empty() { String::new() } else { format!(" ({})", why.join(", ")) }
                );
                let mut d = draft(cx, ev, w, score, summary);
                d.discriminator = format!("bits|{url}");
                d.title = Some("Living off the land: BITS download".into());
                d.stage = Some(Stage::CommandAndControl);
                d.attack = Some(vec![t("T1197"), t("T1105")]);
                if let serde_json::Value::Object(m) = json!({
                    "rule": "bits_download",
                    "job_creator": creator,
                    "url": url,
                    "job": w.get("name"),
                    "bytes_total": w.get("bytesTotal"),
                }) {
                    d.evidence = m;
                }
                cx.emit(d);
            }
            _ => {}
        }
    }

    /// A shell started by a web server or Java application server (a web shell or an
    /// exploited service), or any program started by an indirect-execution proxy.
    fn child_of_server(
        &mut self,
        ev: &Event,
        w: &dwell_model::WinEvent,
        name: &str,
        cx: &mut Ctx<'_>,
    ) {
        let parent = self.procs.parent_image(w).unwrap_or_default();
        let pname = base(parent);
        let (rule, score, stage, attack, what) = if WEB_PARENTS.contains(&&*pname)
            && SHELLS.contains(&name)
        {
            (
                "server_spawned_shell",
                80.0,
                Stage::InitialAccess,
                vec![t("T1190"), t("T1505.003"), t("T1059")],
                format!("the server process {pname} started a shell ({name}): a web shell or an exploited service"),
            )
        } else if PROXY_PARENTS.contains(&&*pname) && name != pname {
            (
                "indirect_execution",
                60.0,
                Stage::DefenseEvasion,
                vec![t("T1202")],
                format!("{pname} started {name}: a program run through a proxy binary"),
            )
        } else {
            return;
        };
        let summary = format!(
            "{}: {what} (command line: {})",
            w.computer,
            w.get("CommandLine").unwrap_or("").chars().take(160).collect::<String>()
        );
        let mut d = draft(cx, ev, w, score, summary);
        d.discriminator = format!("{rule}|{pname}|{name}");
        d.title = Some(format!("Living off the land: {}", rule.replace('_', " ")));
        d.stage = Some(stage);
        d.attack = Some(attack);
        if let serde_json::Value::Object(m) = json!({
            "rule": rule,
            "image": w.get("Image"),
            "command_line": w.get("CommandLine"),
            "parent_image": parent,
            "parent_command_line": w.get("ParentCommandLine"),
            "user": w.get("User"),
        }) {
            d.evidence = m;
        }
        cx.emit(d);
    }
}

impl Detector for Lolbin {
    fn meta(&self) -> &'static DetectorMeta {
        &META
    }

    fn on_event(&mut self, ev: &Event, cx: &mut Ctx<'_>) {
        let Body::Win(w) = &ev.body else { return };
        if w.kind == dwell_model::WinKind::Other {
            self.bits(ev, w, cx);
            return;
        }
        self.procs.start(w);
        let Some(image) = w.get("Image") else { return };
        let name = base(image);
        let original =
            w.get("OriginalFileName").map(|o| o.to_ascii_lowercase()).unwrap_or_default();
        // Pad so that rules can ask for a word with spaces around it.
        let cmd = format!(" {} ", norm_cmdline(w.get("CommandLine").unwrap_or("")));
        let Some(rule) = find_rule(&name, &original, &cmd) else {
            self.child_of_server(ev, w, &name, cx);
            return;
        };
        let ts = ev.ts();
        let day = ts.secs().div_euclid(86_400);
        let key = w.host_key();
        if !self.hosts.contains_key(&key) && self.hosts.len() >= self.cfg.max_hosts {
            cx.count("dropped.hosts_full", 1);
            return;
        }
        let h = self.hosts.entry(key).or_default();
        let first = *h.first.get_or_insert(ts);
        let days = h.days.entry(rule.id).or_default();
        let seen_days = days.iter().filter(|d| **d < day).count();
        let new_for_host = days.is_empty();
        if days.len() < 64 {
            days.insert(day);
        }

        let mut score = rule.score;
        let mut why: Vec<String> = Vec::new();
        let parent = self.procs.parent_image(w).unwrap_or_default();
        let pname = base(parent);
        if WEB_PARENTS.contains(&&*pname) {
            score += 15.0;
            why.push(format!("started by a web server process ({pname}): a web shell"));
        } else if RMM_PARENTS.contains(&&*pname) {
            score += 15.0;
            why.push(format!("started from a remote-management agent ({pname})"));
        } else if REMOTE_PARENTS.contains(&&*pname) {
            score += 15.0;
            why.push(format!("started by a remote-execution host ({pname})"));
        }
        let renamed =
            !original.is_empty() && rule.bins.contains(&original.as_str()) && name != original;
        if renamed {
            score += 15.0;
            why.push(format!("the binary runs renamed ({name}, originally {original})"));
        } else if !system_dir(&dir(image)) && !pname.is_empty() {
            score += 10.0;
            why.push(format!(
                "the binary runs from outside the system directories ({})",
                dir(image)
            ));
        }
        if new_for_host && ts.secs_since(first) >= 86_400.0 {
            score += 5.0;
            why.push("first time on this computer after a day of history".into());
        }
        if seen_days >= self.cfg.routine_days {
            score -= 20.0;
            why.push(format!("routine here: run on {seen_days} earlier days"));
        }
        let user = w.get("User").unwrap_or("?");
        let summary = format!(
            "{} ran {}: {} (user {user}{}){}",
            w.computer,
            name,
            rule.what,
            if pname.is_empty() { String::new() } else { format!(", parent {pname}") },
            if why.is_empty() { String::new() } else { format!("; {}", why.join("; ")) },
        );
        let mut d = draft(cx, ev, w, score, summary);
        d.discriminator = format!("{}|{}", rule.id, w.get("CommandLine").unwrap_or(""));
        d.title = Some(format!("Living off the land: {}", rule.id.replace('_', " ")));
        d.stage = Some(rule.stage);
        d.attack = Some(rule.attack.to_vec());
        let ev_obj = json!({
            "rule": rule.id,
            "image": image,
            "original_file_name": w.get("OriginalFileName"),
            "command_line": w.get("CommandLine"),
            "parent_image": if parent.is_empty() { None } else { Some(parent) },
            "user": w.get("User"),
            "earlier_days": seen_days,
        });
        if let serde_json::Value::Object(m) = ev_obj {
            d.evidence = m;
        }
        cx.emit(d);
    }
}

#[cfg(test)]
mod tests;
