//! NTLM authentications in SMB session setups and HTTP `Authorization` headers, checked
//! against tshark: for every capture of the shared data, each NTLMSSP AUTHENTICATE
//! tshark dissects in SMB or HTTP is one `ntlm` event with the same user, domain and
//! workstation.

use dwell_decode::{DecodeOptions, FileDecoder};
use dwell_model::{Body, FileId};
use dwell_testkit::{capture_files, shared_or_skip, tshark, tshark_lines};

#[test]
fn ntlm_authentications_match_tshark() {
    let data = shared_or_skip!();
    let Some(tshark) = tshark() else { return };
    let mut total = 0;
    for row in capture_files(&data) {
        let mut want: Vec<(String, String, String)> = tshark_lines(
            &tshark,
            &row.path,
            &["-Y", "ntlmssp.messagetype == 3 && (smb2 || smb || http)"],
            &["ntlmssp.auth.username", "ntlmssp.auth.domain", "ntlmssp.auth.hostname"],
        )
        .iter()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let g = |i: usize| c.get(i).map(|s| s.to_string()).unwrap_or_default();
            (g(0), g(1), g(2))
        })
        .collect();
        let mut got: Vec<(String, String, String)> =
            FileDecoder::open(&row.path, FileId(0), &DecodeOptions::default())
                .unwrap()
                .filter_map(|e| match e.body {
                    Body::Ntlm(n) => Some((
                        n.username.as_deref().unwrap_or("").to_string(),
                        n.domainname.as_deref().unwrap_or("").to_string(),
                        n.hostname.as_deref().unwrap_or("").to_string(),
                    )),
                    _ => None,
                })
                .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{}", row.rel);
        total += got.len();
    }
    eprintln!("{total} NTLM authentications agree with tshark");
    assert!(total >= 1);
}
