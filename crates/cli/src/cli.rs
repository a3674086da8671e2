//! Command-line shape. `--help` should teach: every command has examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// dwell learns each host's pattern of life from the telemetry a SOC already has and
/// finds the intruders that depart from it.
#[derive(Parser, Debug)]
#[command(
    name = "dwell",
    version,
    about = "Behavioural detection of state-aligned intrusions in network and endpoint telemetry",
    long_about = "dwell learns each host's pattern of life from Zeek logs and Suricata EVE \
(packet captures, NetFlow and Windows event logs are coming), flags behaviour that departs \
from it, groups findings into incidents along the intrusion life cycle, and says whether an \
incident looks like a fast smash-and-grab or a low-and-slow operation.",
    after_help = "Examples:\n  dwell analyze /var/log/zeek/2024-05-01/ --out results/\n  dwell analyze eve.json --intel c2-ips.txt --config dwell.toml\n  dwell decode conn.log.gz --kind conn,dns | head\n  dwell decode zeek/ --stats\n  dwell detectors"
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug; or set DWELL_LOG).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse telemetry: decode, learn, detect, correlate; write findings, incidents, report.
    #[command(after_help = "Inputs may be files or directories (walked recursively); the \
format of each file is sniffed from its content: packet captures (pcap, pcapng), Zeek TSV or \
JSON logs (plain or .gz, hourly rotated names included), Suricata eve.json, Windows EVTX files \
and Windows events as JSON lines (evtx_dump, Winlogbeat, NXLog/OTRF, syslog-carried Sysmon \
XML). Network and endpoint findings about the same machine land in the same incident.\n\n\
Writes DIR/findings.jsonl, DIR/incidents.json, DIR/report.html, DIR/report.md and \
DIR/attack-layer.json (ATT&CK Navigator), and prints a table of incidents.\n\nExamples:\n  \
dwell analyze zeek-logs/ --out out/\n  dwell analyze conn.log dns.log ssl.log x509.log\n  \
dwell analyze eve.json --intel feodo.txt --intel ja3.csv\n  \
dwell analyze capture.pcap Security.evtx sysmon.jsonl --sigma sigma/rules/windows\n  \
dwell analyze today/ --baseline lastweek.json.gz --save-baseline today.json.gz\n  \
dwell analyze logs/ --config dwell.toml --format json > incidents.json")]
    Analyze(AnalyzeArgs),
    /// Print the normalised events of inputs as JSON lines (Zeek field names), or counts.
    #[command(after_help = "One JSON object per event with a `kind` field (conn, dns, tls, \
x509, http, file, smb, dce_rpc, rdp, ntlm, kerberos, dhcp, alert, anomaly, and for Windows \
records process, image_load, net_connect, logon, service_install, ... win_other) and Zeek's \
field names (ts, uid, id.orig_h, ...; Sysmon's for Windows records). Events come in time \
order across all inputs.\n\nExamples:\n  \
dwell decode eve.json --kind dns | jq -r .query | sort | uniq -c\n  dwell decode zeek/ --stats\n  \
dwell decode capture.pcap --zeek-out zeek/   # Zeek logs from a capture\n  \
dwell decode Security.evtx --kind logon | head")]
    Decode(DecodeArgs),
    /// Simulate a small enterprise with an intrusion, analyse it and write the report.
    #[command(after_help = "Writes the simulated Zeek logs to DIR/sim/, the results to DIR/ \
(findings.jsonl, incidents.json, report.html) and the evaluation against the ground truth to \
DIR/eval.json; prints the incidents and the evaluation table.\n\nExamples:\n  dwell demo\n  \
dwell demo --out /tmp/demo --seed 7")]
    Demo(DemoArgs),
    /// Write a simulated enterprise (and intrusions) as Zeek logs and/or a pcap, plus truth.json.
    #[command(after_help = "Scenarios: none (benign only), smash_and_grab (edge exploit, \
lateral movement, beacon, bulk upload within ~2 days), low_and_slow (web shell from a \
residential relay, RMM tool, 4-hourly beacon, DNS tunnel, ~50 MB/day exfiltration), both.\n\n\
Examples:\n  dwell simulate --scenario both --days 7 --out sim/\n  \
dwell simulate --scenario none --hosts 5000 --days 7 --out /data/benign   # a benchmark corpus\n  \
dwell simulate --hosts 16 --days 1 --format both --out sim/   # logs and capture.pcap of the same traffic")]
    Simulate(SimulateArgs),
    /// Score findings and incidents against a simulation's truth.json.
    #[command(
        after_help = "Examples:\n  dwell simulate --out sim/ && dwell analyze sim/ --out res/ && \
dwell eval --truth sim/truth.json res/"
    )]
    Eval(EvalArgs),
    /// List the detectors: id, title, stage, ATT&CK ids, inputs and thresholds.
    #[command(after_help = "Thresholds can be overridden per detector in the org profile:\n\n  \
[detectors.long_connection]\n  base_s = 1800.0\n\nExamples:\n  dwell detectors\n  dwell detectors --format json")]
    Detectors(DetectorsArgs),
}

/// Output format of `analyze`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table of incidents and a closing summary.
    Table,
    /// incidents.json on stdout.
    Json,
}

/// `dwell analyze`.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Files or directories to analyse.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Directory for findings.jsonl, incidents.json, report.html, report.md and
    /// attack-layer.json (created if missing).
    #[arg(short, long, value_name = "DIR", default_value = "dwell-out")]
    pub out: PathBuf,
    /// Org profile (TOML): internal networks, resolvers, edge hosts, RMM ledger, overrides.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Threat-intel list: one indicator per line, or CSV with a description column.
    /// Repeatable.
    #[arg(long, value_name = "FILE")]
    pub intel: Vec<PathBuf>,
    /// Directory (or file) of Sigma rules, searched recursively for .yml/.yaml; each match
    /// is a finding with the rule's level and ATT&CK tags. Rules that cannot be compiled
    /// are listed with the reason at the end. Repeatable.
    #[arg(long, value_name = "DIR")]
    pub sigma: Vec<PathBuf>,
    /// Start from a saved pattern of life (`--save-baseline` of earlier runs: peers and
    /// domains with their first-seen times and prevalence, hosts and their roles, names).
    /// Repeatable: several are merged.
    #[arg(long, value_name = "FILE")]
    pub baseline: Vec<PathBuf>,
    /// Save the pattern of life at the end of the run (JSON; gzip when FILE ends in .gz),
    /// to start the next run from it.
    #[arg(long, value_name = "FILE")]
    pub save_baseline: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Seconds of event time each input may be out of order before events count as late.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    pub reorder_window: f64,
    /// No progress bar and no closing summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `dwell decode`.
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// Files or directories to decode.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Only these kinds (comma separated: conn,dns,tls,x509,http,...).
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    pub kind: Vec<String>,
    /// Print only counts per kind, anomalies and throughput (the decode benchmark).
    #[arg(long)]
    pub stats: bool,
    /// Write conn/dns/ssl/x509/http logs in Zeek's TSV format into DIR instead of JSON
    /// lines on stdout (a capture becomes logs any Zeek tool reads).
    #[arg(long, value_name = "DIR")]
    pub zeek_out: Option<std::path::PathBuf>,
    /// Seconds of event time each input may be out of order.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    pub reorder_window: f64,
}

/// `dwell demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Directory for the simulation, results and evaluation.
    #[arg(short, long, value_name = "DIR", default_value = "dwell-demo")]
    pub out: PathBuf,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `dwell simulate`.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Intrusions to put in: none, smash_and_grab, low_and_slow, both.
    #[arg(long, default_value = "both")]
    pub scenario: String,
    /// Seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Internal hosts (at least 16).
    #[arg(long, default_value_t = 50)]
    pub hosts: usize,
    /// Days of traffic.
    #[arg(long, default_value_t = 4.0)]
    pub days: f64,
    /// Output directory.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Output format: zeek (conn/dns/ssl/x509/http/dce_rpc/smb logs), pcap (one
    /// `capture.pcap` of the same sessions as packets, bulk payload cut by a snap
    /// length) or both.
    #[arg(long, default_value = "zeek")]
    pub format: String,
    /// Also write the Windows machines' Sysmon and Security records
    /// (`endpoint/winlogbeat.jsonl`, Winlogbeat JSON lines) with the same intrusions.
    #[arg(long)]
    pub endpoint: bool,
}

/// `dwell eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The simulation's truth.json.
    #[arg(long, value_name = "FILE")]
    pub truth: PathBuf,
    /// Directory holding findings.jsonl and incidents.json from `dwell analyze`; the
    /// evaluation is written there as eval.json.
    #[arg(value_name = "RESULTS_DIR", required_unless_present = "out")]
    pub results: Option<PathBuf>,
    /// The same directory, named as `dwell analyze --out` names it.
    #[arg(long, value_name = "DIR", conflicts_with = "results")]
    pub out: Option<PathBuf>,
    /// Print the evaluation as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Output format of `detectors`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    /// Human-readable.
    Text,
    /// JSON array.
    Json,
}

/// `dwell detectors`.
#[derive(Args, Debug)]
pub struct DetectorsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}
