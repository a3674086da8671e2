//! Endpoint telemetry of the simulated enterprise (`--endpoint`): Sysmon and Security
//! records of the Windows machines as Winlogbeat writes them (one JSON object per line,
//! `winlog.event_data` under Sysmon's field names).
//!
//! Benign: users log on in the morning and start Outlook, Word, a browser, Teams and
//! OneDrive (the last two from their profile folders, loading their own signed DLLs);
//! browsers and Windows Update connect out; Defender reads LSASS; updaters install
//! services and tasks from Program Files; administrators on the jump host run `nltest`,
//! `dsquery` and the AD console and open PowerShell-remoting sessions to servers
//! (network logon, then `wsmprovhost.exe` and its children on the server); the
//! helpdesk's approved ScreenConnect runs; the web server's IIS worker compiles pages;
//! domain controllers log the workstations' Kerberos logons.
//!
//! Attacks, derived from the network sessions of the scenario stages so both sides
//! agree on hosts and times: the smash-and-grab's SMB service execution leaves a network
//! logon from the VPN appliance, SVCCTL pipe access and a service running a command line
//! on each target; its DCSync leaves a 4662 replication access by the stolen account on
//! the DC. The low-and-slow web shell leaves the IIS worker starting a shell; the
//! unapproved AnyDesk its process starts from Downloads; the 4-hour beacon's implant is a
//! signed program side-loading an unsigned DLL from the user's profile (a stage of its
//! own in the truth, `sideload_implant`).

use std::collections::BTreeSet;
use std::io::Write;

use dwell_model::{Stage, Timestamp};
use serde_json::{json, Map, Value};

use crate::attack::Plan;
use crate::benign::{HOUR, US};
use crate::rng::{key, Rng};
use crate::truth::StageTruth;
use crate::world::{ip_str, Role, World};

/// One record before writing.
struct Rec {
    ts: i64,
    host: usize,
    channel: &'static str,
    id: u32,
    data: Map<String, Value>,
}

fn rec(ts: i64, host: usize, channel: &'static str, id: u32, data: Value) -> Rec {
    let data = match data {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Rec { ts, host, channel, id, data }
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
const SECURITY: &str = "Security";
const SYSTEM: &str = "System";
const DOMAIN: &str = "corp.example";

fn windows(role: Role) -> bool {
    !matches!(role, Role::Vpn | Role::MailGateway)
}

fn user_of(w: &World, h: usize) -> String {
    format!("u{}", w.hosts[h].name.trim_start_matches("ws"))
}

fn proc(ts: i64, h: usize, user: &str, parent: &str, image: &str, cmd: &str, r: &mut Rng) -> Rec {
    let pid = 1000 + r.below(60_000);
    rec(
        ts,
        h,
        SYSMON,
        1,
        json!({
            "UtcTime": utc(ts), "ProcessId": pid.to_string(), "Image": image, "CommandLine": cmd,
            "CurrentDirectory": "C:\\Windows\\system32\\", "User": user, "IntegrityLevel": "Medium",
            "ParentImage": parent, "ParentProcessId": (pid - 1 - r.below(900)).to_string(),
        }),
    )
}

fn utc(ts: i64) -> String {
    let s = Timestamp(ts).to_rfc3339();
    // Sysmon writes `YYYY-MM-DD HH:MM:SS.mmm`.
    let s = s.trim_end_matches('Z').replacen('T', " ", 1);
    match s.find('.') {
        Some(i) => s[..(i + 4).min(s.len())].to_string(),
        None => format!("{s}.000"),
    }
}

/// Benign records of one day (day index `d` from `start`, µs).
fn benign_day(w: &World, day_start: i64, d: u64, out: &mut Vec<Rec>) {
    let weekday = d % 7 < 5;
    let jump = w.hosts.iter().position(|h| h.role == Role::JumpHost);
    let servers: Vec<usize> = w
        .servers
        .iter()
        .copied()
        .filter(|&s| w.hosts[s].role != Role::JumpHost && windows(w.hosts[s].role))
        .collect();
    for (h, host) in w.hosts.iter().enumerate() {
        if !windows(host.role) {
            continue;
        }
        let mut r = Rng::new(&[w.seed, key("endpoint"), d, u64::from(host.ip)]);
        let at = |hour: f64, r: &mut Rng| {
            day_start + ((hour + r.range(0.0, 0.9)) * HOUR as f64 * US as f64) as i64
        };
        let ip = ip_str(host.ip);
        // Windows Update and Defender on every machine, every day.
        let t = at(3.0, &mut r);
        out.push(proc(
            t,
            h,
            "NT AUTHORITY\\SYSTEM",
            "C:\\Windows\\System32\\svchost.exe",
            "C:\\Windows\\System32\\MoUsoCoreWorker.exe",
            "C:\\Windows\\System32\\mousocoreworker.exe -Embedding",
            &mut r,
        ));
        out.push(rec(t + US, h, SYSMON, 3, json!({"UtcTime": utc(t + US), "Image": "C:\\Windows\\System32\\svchost.exe", "Protocol": "tcp", "Initiated": "true", "SourceIp": ip, "SourcePort": "50312", "DestinationIp": "20.190.160.20", "DestinationPort": "443", "User": "NT AUTHORITY\\NETWORK SERVICE"})));
        let t = at(4.0, &mut r);
        out.push(proc(t, h, "NT AUTHORITY\\SYSTEM", "C:\\Windows\\System32\\svchost.exe", "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MpCmdRun.exe", "\"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MpCmdRun.exe\" -SignatureUpdate -ScheduleJob -RestrictPrivileges", &mut r));
        out.push(rec(t + 2 * US, h, SYSMON, 10, json!({"UtcTime": utc(t + 2 * US), "SourceImage": "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MsMpEng.exe", "TargetImage": "C:\\Windows\\system32\\lsass.exe", "GrantedAccess": "0x1010", "CallTrace": "C:\\Windows\\SYSTEM32\\ntdll.dll+9d4c4|C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\mpengine.dll+2a1f3"})));
        if d == 1 && r.chance(0.3) {
            let t = at(11.0, &mut r);
            out.push(rec(t, h, SYSTEM, 7045, json!({"ServiceName": "Microsoft Edge Update Service (edgeupdate)", "ImagePath": "\"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe\" /svc", "ServiceType": "user mode service", "StartType": "auto start", "AccountName": "LocalSystem"})));
            out.push(rec(t + US, h, SECURITY, 4698, json!({"SubjectUserName": format!("{}$", host.name.to_uppercase()), "TaskName": "\\MicrosoftEdgeUpdateTaskMachineCore", "TaskContent": "<Task><Actions><Exec><Command>C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe</Command><Arguments>/c</Arguments></Exec></Actions></Task>"})));
        }
        match host.role {
            Role::Workstation | Role::Helpdesk if weekday => {
                let user = format!("CORP\\{}", user_of(w, h));
                let prof = format!("C:\\Users\\{}", user_of(w, h));
                let t = at(8.0, &mut r);
                out.push(rec(t, h, SECURITY, 4624, json!({"TargetUserName": user_of(w, h), "TargetDomainName": "CORP", "LogonType": "2", "LogonProcessName": "User32", "AuthenticationPackageName": "Negotiate", "WorkstationName": host.name.to_uppercase(), "IpAddress": "127.0.0.1"})));
                let apps: &[(&str, &str)] = &[
                    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\""),
                    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE\" /n"),
                    ("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe", "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --profile-directory=Default"),
                ];
                for (i, (image, cmd)) in apps.iter().enumerate() {
                    out.push(proc(
                        t + (i as i64 + 1) * 30 * US,
                        h,
                        &user,
                        "C:\\Windows\\explorer.exe",
                        image,
                        cmd,
                        &mut r,
                    ));
                }
                let teams = format!("{prof}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe");
                out.push(proc(
                    t + 200 * US,
                    h,
                    &user,
                    "C:\\Windows\\explorer.exe",
                    &teams,
                    &format!("\"{teams}\" --process-start-args \"--system-initiated\""),
                    &mut r,
                ));
                for dll in ["ffmpeg.dll", "libEGL.dll", "d3dcompiler_47.dll"] {
                    out.push(rec(t + 201 * US, h, SYSMON, 7, json!({"UtcTime": utc(t + 201 * US), "Image": teams, "ImageLoaded": format!("{prof}\\AppData\\Local\\Microsoft\\Teams\\current\\{dll}"), "Signed": "true", "Signature": "Microsoft Corporation", "SignatureStatus": "Valid"})));
                }
                let od = format!("{prof}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe");
                out.push(proc(
                    t + 240 * US,
                    h,
                    &user,
                    "C:\\Windows\\explorer.exe",
                    &od,
                    &format!("\"{od}\" /background"),
                    &mut r,
                ));
                out.push(rec(t + 241 * US, h, SYSMON, 7, json!({"UtcTime": utc(t + 241 * US), "Image": od, "ImageLoaded": format!("{prof}\\AppData\\Local\\Microsoft\\OneDrive\\24.201.1006.0005\\FileSyncShell64.dll"), "Signed": "true", "Signature": "Microsoft Corporation", "SignatureStatus": "Valid"})));
                out.push(rec(t + 242 * US, h, SYSMON, 7, json!({"UtcTime": utc(t + 242 * US), "Image": "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "ImageLoaded": "C:\\Program Files\\Microsoft Office\\root\\Office16\\wwlib.dll", "Signed": "true", "Signature": "Microsoft Corporation", "SignatureStatus": "Valid"})));
                for k in 0..3 {
                    let tt = t + (600 + k * 1800) * US;
                    out.push(rec(tt, h, SYSMON, 3, json!({"UtcTime": utc(tt), "Image": "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe", "Protocol": "tcp", "Initiated": "true", "SourceIp": ip, "SourcePort": (50000 + r.below(15000)).to_string(), "DestinationIp": "13.107.21.200", "DestinationPort": "443", "User": user})));
                }
                if r.chance(0.2) {
                    out.push(proc(
                        at(10.0, &mut r),
                        h,
                        &user,
                        "C:\\Windows\\explorer.exe",
                        "C:\\Windows\\System32\\cmd.exe",
                        "\"C:\\Windows\\system32\\cmd.exe\"",
                        &mut r,
                    ));
                    out.push(proc(
                        at(10.2, &mut r),
                        h,
                        &user,
                        "C:\\Windows\\System32\\cmd.exe",
                        "C:\\Windows\\System32\\ipconfig.exe",
                        "ipconfig /all",
                        &mut r,
                    ));
                    out.push(proc(
                        at(10.3, &mut r),
                        h,
                        &user,
                        "C:\\Windows\\System32\\cmd.exe",
                        "C:\\Windows\\System32\\certutil.exe",
                        "certutil -hashfile setup.msi SHA256",
                        &mut r,
                    ));
                }
                if host.role == Role::Helpdesk {
                    let sc = "C:\\Program Files (x86)\\ScreenConnect Client (4b8f2c)\\ScreenConnect.ClientService.exe";
                    out.push(proc(
                        at(9.0, &mut r),
                        h,
                        "NT AUTHORITY\\SYSTEM",
                        "C:\\Windows\\System32\\services.exe",
                        sc,
                        &format!("\"{sc}\" \"?e=Access&y=Guest&h=support.corp.example&p=8041\""),
                        &mut r,
                    ));
                }
                // The logon reaches the DC: Kerberos network logon from this address.
                let dc = w.resolver_of(h);
                out.push(rec(t + 2 * US, dc, SECURITY, 4624, json!({"TargetUserName": user_of(w, h), "TargetDomainName": "CORP", "LogonType": "3", "LogonProcessName": "Kerberos", "AuthenticationPackageName": "Kerberos", "WorkstationName": "-", "IpAddress": ip})));
            }
            Role::JumpHost if weekday => {
                let admin = "CORP\\adm_ops";
                let t = at(9.0, &mut r);
                out.push(proc(
                    t,
                    h,
                    admin,
                    "C:\\Windows\\explorer.exe",
                    "C:\\Windows\\System32\\mmc.exe",
                    "\"C:\\Windows\\system32\\mmc.exe\" \"C:\\Windows\\system32\\dsa.msc\"",
                    &mut r,
                ));
                out.push(proc(
                    t + 60 * US,
                    h,
                    admin,
                    "C:\\Windows\\System32\\cmd.exe",
                    "C:\\Windows\\System32\\nltest.exe",
                    &format!("nltest /dclist:{DOMAIN}"),
                    &mut r,
                ));
                out.push(proc(
                    t + 90 * US,
                    h,
                    admin,
                    "C:\\Windows\\System32\\cmd.exe",
                    "C:\\Windows\\System32\\dsquery.exe",
                    "dsquery user -name *smith* -limit 20",
                    &mut r,
                ));
                // PowerShell remoting to a server or two.
                for k in 0..2 {
                    let Some(&s) = servers.get(r.below(servers.len().max(1) as u64) as usize)
                    else {
                        continue;
                    };
                    let ts = t + (600 + k * 3600) * US;
                    out.push(proc(
                        ts,
                        h,
                        admin,
                        "C:\\Windows\\explorer.exe",
                        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                        &format!(
                            "powershell.exe -NoExit -Command Enter-PSSession -ComputerName {}",
                            w.hosts[s].name
                        ),
                        &mut r,
                    ));
                    out.push(rec(ts + 2 * US, s, SECURITY, 4624, json!({"TargetUserName": "adm_ops", "TargetDomainName": "CORP", "LogonType": "3", "LogonProcessName": "Kerberos", "AuthenticationPackageName": "Kerberos", "WorkstationName": "-", "IpAddress": ip_str(w.hosts[jump.unwrap_or(h)].ip)})));
                    out.push(proc(
                        ts + 3 * US,
                        s,
                        admin,
                        "C:\\Windows\\System32\\svchost.exe",
                        "C:\\Windows\\System32\\wsmprovhost.exe",
                        "C:\\Windows\\system32\\wsmprovhost.exe -Embedding",
                        &mut r,
                    ));
                    for c in [
                        "C:\\Windows\\System32\\HOSTNAME.EXE",
                        "C:\\Windows\\System32\\ipconfig.exe",
                    ] {
                        out.push(proc(
                            ts + 30 * US,
                            s,
                            admin,
                            "C:\\Windows\\System32\\wsmprovhost.exe",
                            c,
                            &format!("\"{c}\""),
                            &mut r,
                        ));
                    }
                }
            }
            Role::WebServer => {
                let t = at(7.0, &mut r);
                out.push(proc(
                    t,
                    h,
                    "IIS APPPOOL\\DefaultAppPool",
                    "C:\\Windows\\System32\\svchost.exe",
                    "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
                    "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"DefaultAppPool\" -v \"v4.0\"",
                    &mut r,
                ));
                out.push(proc(t + 40 * US, h, "IIS APPPOOL\\DefaultAppPool", "C:\\Windows\\System32\\inetsrv\\w3wp.exe", "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe", "\"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe\" /noconfig /fullpaths @\"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Temporary ASP.NET Files\\root\\a1.cmdline\"", &mut r));
            }
            _ => {}
        }
    }
}

/// Attack records derived from the scenario sessions, and the truth stages that only
/// the endpoint shows.
fn attack_records(w: &World, plans: &[Plan], out: &mut Vec<Rec>) -> Vec<(usize, StageTruth)> {
    let by_ip = |ip: u32| w.hosts.iter().position(|h| h.ip == ip);
    let mut extra = Vec::new();
    for (pi, p) in plans.iter().enumerate() {
        let mut r = Rng::new(&[w.seed, key("endpoint-attack"), pi as u64]);
        for (si, sp) in p.stages.iter().enumerate() {
            let ss: Vec<_> =
                p.sessions.iter().filter(|s| s.label.map(|l| l.1) == Some(si as u8)).collect();
            let Some(first) = ss.iter().min_by_key(|s| s.ts) else { continue };
            match sp.name {
                "lateral_smb_service" => {
                    let mut seen = BTreeSet::new();
                    for s in ss.iter().filter(|s| s.resp_p == 445) {
                        if !seen.insert(s.resp) {
                            continue;
                        }
                        let Some(h) = by_ip(s.resp) else { continue };
                        let src = ip_str(s.orig);
                        let svc: String =
                            (0..8).map(|_| (b'A' + r.below(26) as u8) as char).collect();
                        let cmd = format!("%COMSPEC% /Q /c echo cd ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > %TEMP%\\{svc}.bat & %COMSPEC% /Q /c %TEMP%\\{svc}.bat & del %TEMP%\\{svc}.bat");
                        out.push(rec(s.ts, h, SECURITY, 4624, json!({"TargetUserName": "svc_vpn", "TargetDomainName": "CORP", "LogonType": "3", "LogonProcessName": "NtLmSsp", "AuthenticationPackageName": "NTLM", "WorkstationName": "-", "IpAddress": src})));
                        out.push(rec(s.ts + US, h, SECURITY, 5145, json!({"SubjectUserName": "svc_vpn", "ShareName": "\\\\*\\IPC$", "RelativeTargetName": "svcctl", "IpAddress": src, "AccessMask": "0x12019f"})));
                        out.push(rec(s.ts + 2 * US, h, SYSTEM, 7045, json!({"ServiceName": svc, "ImagePath": cmd, "ServiceType": "user mode service", "StartType": "demand start", "AccountName": "LocalSystem"})));
                        out.push(proc(
                            s.ts + 3 * US,
                            h,
                            "NT AUTHORITY\\SYSTEM",
                            "C:\\Windows\\System32\\services.exe",
                            "C:\\Windows\\System32\\cmd.exe",
                            &cmd.replace("%COMSPEC%", "C:\\Windows\\system32\\cmd.exe"),
                            &mut r,
                        ));
                    }
                }
                "dcsync" => {
                    let Some(h) = by_ip(first.resp) else { continue };
                    out.push(rec(first.ts + US, h, SECURITY, 4662, json!({"SubjectUserName": "svc_vpn", "SubjectDomainName": "CORP", "ObjectServer": "DS", "ObjectType": "%{19195a5b-6da0-11d0-afd3-00c04fd930c9}", "AccessMask": "0x100", "Properties": "%%7688 {1131f6aa-9c07-11d1-f79f-00c04fc2dcd2} {1131f6ad-9c07-11d1-f79f-00c04fc2dcd2} {19195a5b-6da0-11d0-afd3-00c04fd930c9}"})));
                }
                "webshell" => {
                    let Some(h) = by_ip(first.resp) else { continue };
                    for (k, c) in [
                        "cmd.exe /c whoami",
                        "cmd.exe /c ipconfig /all & net group \"domain admins\" /domain",
                    ]
                    .iter()
                    .enumerate()
                    {
                        out.push(proc(
                            first.ts + (k as i64 + 1) * US,
                            h,
                            "IIS APPPOOL\\DefaultAppPool",
                            "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
                            "C:\\Windows\\System32\\cmd.exe",
                            c,
                            &mut r,
                        ));
                    }
                }
                "unapproved_rmm" => {
                    let Some(h) = by_ip(first.orig) else { continue };
                    let user = format!("CORP\\{}", user_of(w, h));
                    let exe = format!("C:\\Users\\{}\\Downloads\\AnyDesk.exe", user_of(w, h));
                    let mut days = BTreeSet::new();
                    for s in &ss {
                        if days.insert(s.ts / (24 * HOUR * US)) {
                            out.push(proc(
                                s.ts - 5 * US,
                                h,
                                &user,
                                "C:\\Windows\\explorer.exe",
                                &exe,
                                &format!("\"{exe}\""),
                                &mut r,
                            ));
                        }
                    }
                }
                "beacon_4h" => {
                    let Some(h) = by_ip(first.orig) else { continue };
                    let user = format!("CORP\\{}", user_of(w, h));
                    let dir =
                        format!("C:\\Users\\{}\\AppData\\Roaming\\NvTelemetry", user_of(w, h));
                    let t = first.ts - 90 * US;
                    out.push(rec(t - 30 * US, h, SYSMON, 11, json!({"UtcTime": utc(t - 30 * US), "Image": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "TargetFilename": format!("{dir}\\NvSmartMax.dll")})));
                    out.push(proc(
                        t,
                        h,
                        &user,
                        "C:\\Windows\\explorer.exe",
                        &format!("{dir}\\NvSmart.exe"),
                        &format!("\"{dir}\\NvSmart.exe\""),
                        &mut r,
                    ));
                    out.push(rec(t + US, h, SYSMON, 7, json!({"UtcTime": utc(t + US), "Image": format!("{dir}\\NvSmart.exe"), "ImageLoaded": format!("{dir}\\NvSmartMax.dll"), "Signed": "false", "SignatureStatus": "Unavailable", "Hashes": "SHA256=5F1E2A0B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7"})));
                    extra.push((pi, StageTruth {
                        name: "sideload_implant".into(),
                        stage: Stage::DefenseEvasion,
                        attack: vec!["T1574.002".into()],
                        hosts: vec![ip_str(w.hosts[h].ip)],
                        peers: Vec::new(),
                        start: Timestamp(t),
                        end: Timestamp(t + US),
                        sessions: 0,
                        description: format!("{} runs a copied NVIDIA program that side-loads the implant NvSmartMax.dll from its profile", w.hosts[h].name),
                    }));
                }
                _ => {}
            }
        }
    }
    extra
}

/// Writes `endpoint/winlogbeat.jsonl` under `out`; returns the records written and the
/// endpoint-only truth stages (scenario index, stage).
pub fn write(
    w: &World,
    plans: &[Plan],
    start: i64,
    end: i64,
    out: &std::path::Path,
) -> std::io::Result<(u64, Vec<(usize, StageTruth)>)> {
    let mut recs = Vec::new();
    let days = ((end - start) as f64 / (24 * HOUR * US) as f64).ceil() as u64;
    for d in 0..days {
        benign_day(w, start + d as i64 * 24 * HOUR * US, d, &mut recs);
    }
    let extra = attack_records(w, plans, &mut recs);
    recs.retain(|r| r.ts >= start && r.ts < end);
    recs.sort_by_key(|r| (r.ts, r.host));
    let dir = out.join("endpoint");
    std::fs::create_dir_all(&dir)?;
    let mut f =
        std::io::BufWriter::new(crate::out::OutFile::create(&dir.join("winlogbeat.jsonl"))?);
    for (i, r) in recs.iter().enumerate() {
        let host = &w.hosts[r.host];
        let provider = match r.channel {
            SYSMON => "Microsoft-Windows-Sysmon",
            SECURITY => "Microsoft-Windows-Security-Auditing",
            _ => "Service Control Manager",
        };
        let line = json!({
            "@timestamp": Timestamp(r.ts).to_rfc3339(),
            "host": {"name": host.name},
            "winlog": {
                "channel": r.channel,
                "event_id": r.id,
                "provider_name": provider,
                "computer_name": format!("{}.{DOMAIN}", host.name),
                "record_id": i + 1,
                "event_data": r.data,
            },
        });
        serde_json::to_writer(&mut f, &line)?;
        f.write_all(b"\n")?;
    }
    f.flush()?;
    Ok((recs.len() as u64, extra))
}
