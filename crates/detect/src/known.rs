//! Facts dwell carries about the internet: who the well-known vendors are, which
//! services store files, which remote-management tools exist and where they call home.
//!
//! These are lists of facts (domain names and ports, as their operators publish them),
//! written for dwell; each detector that uses one says how in its header.

use crate::names::registered_domain;

/// Registered domains of the big vendors whose software calls home on a schedule by
/// design (OS and browser updates, push and telemetry channels, antivirus, certificate
/// revocation). Periodic traffic to them is expected; `beaconing` weighs it down.
pub const VENDOR_DOMAINS: &[&str] = &[
    // Microsoft
    "microsoft.com",
    "windows.com",
    "windowsupdate.com",
    "msftncsi.com",
    "msftconnecttest.com",
    "msedge.net",
    "live.com",
    "office.com",
    "office.net",
    "office365.com",
    "microsoftonline.com",
    "azure.com",
    "azureedge.net",
    "trafficmanager.net",
    "skype.com",
    "bing.com",
    "msn.com",
    "windows.net",
    "microsoftonline-p.com",
    "aadrm.com",
    "msauth.net",
    "msftauth.net",
    // Apple, Google, Mozilla
    "apple.com",
    "icloud.com",
    "mzstatic.com",
    "apple-dns.net",
    "google.com",
    "googleapis.com",
    "gstatic.com",
    "gvt1.com",
    "gvt2.com",
    "1e100.net",
    "mozilla.org",
    "mozilla.net",
    "mozilla.com",
    "firefox.com",
    // Operating-system distributions
    "ubuntu.com",
    "canonical.com",
    "debian.org",
    "redhat.com",
    "fedoraproject.org",
    // Antivirus and endpoint security
    "eset.com",
    "symantec.com",
    "norton.com",
    "mcafee.com",
    "trendmicro.com",
    "kaspersky.com",
    "kaspersky-labs.com",
    "sophos.com",
    "bitdefender.com",
    "bitdefender.net",
    "avast.com",
    "avg.com",
    "crowdstrike.com",
    "sentinelone.net",
    "malwarebytes.com",
    // Reputation and block-list lookups (high-entropy labels by design)
    "sophosxl.net",
    "e5.sk",
    "spamhaus.org",
    "cymru.com",
    "surbl.org",
    "barracudacentral.org",
    "senderbase.org",
    "spamcop.net",
    "uribl.com",
    // Certificate authorities (OCSP, CRL)
    "digicert.com",
    "letsencrypt.org",
    "lencr.org",
    "sectigo.com",
    "globalsign.com",
    "usertrust.com",
    "comodoca.com",
];

/// Whether `name` is under a well-known vendor's registered domain.
pub fn vendor(name: &str) -> Option<&'static str> {
    let reg = registered_domain(name);
    VENDOR_DOMAINS.iter().copied().find(|d| *d == reg)
}

/// Cloud storage and file-sharing services (suffixes): uploads there are a classic
/// exfiltration path (T1567.002).
pub const FILE_SHARING: &[(&str, &str)] = &[
    ("mega.nz", "MEGA"),
    ("mega.co.nz", "MEGA"),
    ("mega.io", "MEGA"),
    ("dropbox.com", "Dropbox"),
    ("dropboxapi.com", "Dropbox"),
    ("dropboxusercontent.com", "Dropbox"),
    ("drive.google.com", "Google Drive"),
    ("docs.google.com", "Google Drive"),
    ("googleusercontent.com", "Google Drive"),
    ("onedrive.live.com", "OneDrive (personal)"),
    ("1drv.ms", "OneDrive (personal)"),
    ("storage.live.com", "OneDrive (personal)"),
    ("docs.live.net", "OneDrive (personal)"),
    ("box.com", "Box"),
    ("boxcloud.com", "Box"),
    ("wetransfer.com", "WeTransfer"),
    ("wetransfer.net", "WeTransfer"),
    ("sendspace.com", "Sendspace"),
    ("mediafire.com", "MediaFire"),
    ("pcloud.com", "pCloud"),
    ("icedrive.net", "Icedrive"),
    ("filemail.com", "Filemail"),
    ("gofile.io", "Gofile"),
    ("file.io", "file.io"),
    ("transfer.sh", "transfer.sh"),
    ("anonfiles.com", "AnonFiles"),
    ("catbox.moe", "Catbox"),
    ("uploadfiles.io", "UploadFiles"),
    ("ufile.io", "uFile"),
    ("sync.com", "Sync.com"),
    ("tresorit.com", "Tresorit"),
    ("jottacloud.com", "Jottacloud"),
    ("yandex.disk", "Yandex Disk"),
    ("disk.yandex.ru", "Yandex Disk"),
    ("cloud.mail.ru", "Mail.ru Cloud"),
    ("pastebin.com", "Pastebin"),
    ("paste.ee", "Paste.ee"),
    ("temp.sh", "temp.sh"),
    ("bashupload.com", "bashupload"),
    ("s3.amazonaws.com", "Amazon S3"),
    ("blob.core.windows.net", "Azure Blob Storage"),
    ("storage.googleapis.com", "Google Cloud Storage"),
    ("backblazeb2.com", "Backblaze B2"),
    ("wasabisys.com", "Wasabi"),
];

/// The file-sharing service a name belongs to, if any.
pub fn file_sharing(name: &str) -> Option<&'static str> {
    suffix_match(name, FILE_SHARING)
}

/// Remote-management tools: (tool id, domain suffixes). Tool ids are what the org
/// profile's `[[rmm.approved]] tool = ...` names.
pub const RMM_TOOLS: &[(&str, &[&str])] = &[
    ("anydesk", &["anydesk.com", "net.anydesk.com"]),
    ("screenconnect", &["screenconnect.com", "connectwise.com", "itsupport247.net"]),
    ("teamviewer", &["teamviewer.com", "teamviewer.cn"]),
    ("atera", &["atera.com", "atera-agent-heartbeat.servicebus.windows.net"]),
    ("splashtop", &["splashtop.com", "splashtop.eu"]),
    ("netsupport", &["netsupportsoftware.com", "netsupportmanager.com"]),
    ("rustdesk", &["rustdesk.com"]),
    ("meshcentral", &["meshcentral.com"]),
    ("tacticalrmm", &["tacticalrmm.com", "tacticalrmm.io"]),
    ("logmein", &["logmein.com", "logme.in", "logmeinrescue.com", "logmein-gateway.com"]),
    ("zoho_assist", &["zohoassist.com", "assist.zoho.com", "assist.zoho.eu"]),
    ("simplehelp", &["simple-help.com"]),
    ("level", &["level.io"]),
    ("action1", &["action1.com"]),
    ("ngrok", &["ngrok.io", "ngrok.com", "ngrok-free.app", "ngrok.app"]),
    ("cloudflared", &["trycloudflare.com", "argotunnel.com"]),
    ("remote_utilities", &["remoteutilities.com", "remoteutilities.net"]),
    ("supremo", &["supremocontrol.com", "nanosystems.it"]),
    ("beyondtrust", &["beyondtrustcloud.com", "bomgarcloud.com", "bomgar.com"]),
    ("kaseya", &["kaseya.com", "kaseya.net"]),
    ("n_able", &["n-able.com", "swi-rc.com", "swi-tc.com", "solarwindsmsp.com"]),
    ("pulseway", &["pulseway.com"]),
    ("ninjaone", &["ninjarmm.com", "ninjaone.com"]),
    ("dameware", &["dameware.com"]),
    ("goto", &["goto.com", "gotoassist.com", "gotomypc.com"]),
    ("showmypc", &["showmypc.com"]),
    ("isl_online", &["islonline.net", "islonline.com"]),
    ("getscreen", &["getscreen.me"]),
    ("dwservice", &["dwservice.net"]),
    ("remotepc", &["remotepc.com"]),
    ("parsec", &["parsec.app", "parsecgaming.com"]),
    ("chrome_remote_desktop", &["remotedesktop.google.com", "remotedesktop-pa.googleapis.com"]),
    ("ammyy", &["ammyy.com"]),
    ("radmin", &["radmin.com"]),
    ("fixme_it", &["fixme.it", "techinline.net"]),
    ("xeox", &["xeox.com"]),
    ("zerotier", &["zerotier.com"]),
    // VNC has no relay domain: it is recognised by its RFB banner or its ports.
    ("vnc", &[]),
];

/// Ports some remote-management tools use for their own protocol, direct or relayed:
/// (tool id, first port, last port). A port alone is weaker evidence than a relay name;
/// it counts only for sessions that carried data both ways.
pub const RMM_PORTS: &[(&str, u16, u16)] = &[
    ("teamviewer", 5938, 5938),
    ("anydesk", 7070, 7070),
    ("rustdesk", 21115, 21119),
    ("netsupport", 5405, 5405),
    ("radmin", 4899, 4899),
    ("screenconnect", 8041, 8041),
    ("ammyy", 5931, 5931),
    ("dameware", 6129, 6129),
    ("remote_utilities", 5650, 5655),
    ("vnc", 5900, 5906),
];

/// The RMM tool whose own port `port` is, if any.
pub fn rmm_port(port: u16) -> Option<&'static str> {
    RMM_PORTS.iter().find(|(_, a, b)| (*a..=*b).contains(&port)).map(|(t, _, _)| *t)
}

/// Commercial VPN, proxy and circumvention services: (domain suffix, service). Their
/// clients' API and endpoint names.
pub const ANONYMIZERS: &[(&str, &str)] = &[
    ("torproject.org", "Tor Project"),
    ("cloudflareclient.com", "Cloudflare WARP"),
    ("sec-tunnel.com", "Opera VPN"),
    ("proton.me", "Proton VPN"),
    ("protonvpn.com", "Proton VPN"),
    ("protonvpn.net", "Proton VPN"),
    ("mullvad.net", "Mullvad VPN"),
    ("nordvpn.com", "NordVPN"),
    ("nordvpn.net", "NordVPN"),
    ("expressvpn.com", "ExpressVPN"),
    ("windscribe.com", "Windscribe"),
    ("privateinternetaccess.com", "Private Internet Access"),
    ("surfshark.com", "Surfshark"),
    ("hide.me", "hide.me"),
    ("tunnelbear.com", "TunnelBear"),
    ("hotspotshield.com", "Hotspot Shield"),
    ("psiphon3.com", "Psiphon"),
    ("psiphon.ca", "Psiphon"),
    ("ipvanish.com", "IPVanish"),
    ("cyberghostvpn.com", "CyberGhost"),
    ("purevpn.com", "PureVPN"),
    ("torguard.net", "TorGuard"),
    ("vyprvpn.com", "VyprVPN"),
    ("zenmate.com", "ZenMate"),
    ("ultrasurf.us", "UltraSurf"),
    ("getlantern.org", "Lantern"),
    ("vpngate.net", "VPN Gate"),
    ("softether.net", "SoftEther VPN"),
    ("browsec.com", "Browsec"),
    ("hola.org", "Hola"),
    ("urban-vpn.com", "Urban VPN"),
    ("astrill.com", "Astrill"),
];

/// The anonymising service a name belongs to, if any.
pub fn anonymizer(name: &str) -> Option<&'static str> {
    suffix_match(name, ANONYMIZERS)
}

/// Whether `name` is `suffix` or a subdomain of it (ASCII case-insensitive, no allocation:
/// this runs for every DNS, TLS and HTTP event).
pub fn under(name: &str, suffix: &str) -> bool {
    let n = name.trim_end_matches('.').as_bytes();
    let s = suffix.as_bytes();
    if n.len() < s.len() {
        return false;
    }
    let cut = n.len() - s.len();
    n[cut..].eq_ignore_ascii_case(s) && (cut == 0 || n[cut - 1] == b'.')
}

/// The RMM tool a name belongs to, if any.
pub fn rmm_tool(name: &str) -> Option<&'static str> {
    RMM_TOOLS
        .iter()
        .find(|(_, suffixes)| suffixes.iter().any(|s| under(name, s)))
        .map(|(id, _)| *id)
}

fn suffix_match(name: &str, list: &'static [(&str, &'static str)]) -> Option<&'static str> {
    list.iter().find(|(s, _)| under(name, s)).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(vendor("v10.events.data.microsoft.com"), Some("microsoft.com"));
        assert_eq!(vendor("epns.eset.com"), Some("eset.com"));
        assert_eq!(vendor("cdn-update-check.net"), None);
        assert_eq!(file_sharing("gfs270n122.userstorage.mega.co.nz"), Some("MEGA"));
        assert_eq!(file_sharing("content.dropboxapi.com"), Some("Dropbox"));
        assert_eq!(file_sharing("sync.sharepoint.com"), None);
        assert_eq!(rmm_tool("relay-4a1f9c.net.anydesk.com"), Some("anydesk"));
        assert_eq!(rmm_tool("relay.screenconnect.com"), Some("screenconnect"));
        assert_eq!(rmm_tool("notanydesk.com"), None);
        assert_eq!(rmm_tool("RELAY.AnyDesk.com."), Some("anydesk"));
        assert!(under("a.b.example.com", "example.com") && !under("xexample.com", "example.com"));
        assert!(RMM_TOOLS.len() >= 30);
        let mut ids: Vec<&str> = RMM_TOOLS.iter().map(|(i, _)| *i).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RMM_TOOLS.len(), "tool ids are unique");
    }
}
