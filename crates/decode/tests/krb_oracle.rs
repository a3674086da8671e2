//! Kerberos exchanges with a KDC, checked against tshark: for every capture of the shared
//! data, each AS-REQ / TGS-REQ tshark dissects is the request of one `kerberos` event,
//! and each AS-REP / TGS-REP / KRB-ERROR the answer of one (an error with the same
//! code).

use dwell_decode::pcap::krb::error_name;
use dwell_decode::{DecodeOptions, FileDecoder};
use dwell_model::{Body, FileId};
use dwell_testkit::{capture_files, shared_or_skip, tshark, tshark_lines};

#[test]
fn kdc_exchanges_match_tshark() {
    let data = shared_or_skip!();
    let Some(tshark) = tshark() else { return };
    let mut total = 0;
    for row in capture_files(&data) {
        let (mut want_req, mut want_ans) = (Vec::new(), Vec::new());
        let lines = tshark_lines(
            &tshark,
            &row.path,
            &["-Y", "kerberos.msg_type"],
            &["kerberos.msg_type", "kerberos.error_code"],
        );
        for line in &lines {
            let mut c = line.split('\t');
            // A KDC message first; an AP-REQ (14) inside a TGS-REQ's padata follows it.
            let msg = c.next().and_then(|m| m.split(',').next()).unwrap_or("");
            let code = c.next().unwrap_or("");
            match msg {
                "10" => want_req.push("AS".to_string()),
                "12" => want_req.push("TGS".to_string()),
                "11" | "13" => want_ans.push("ok".to_string()),
                "30" => want_ans
                    .push(code.parse().ok().and_then(error_name).unwrap_or("unnamed").to_string()),
                _ => {}
            }
        }
        let (mut got_req, mut got_ans) = (Vec::new(), Vec::new());
        for e in FileDecoder::open(&row.path, FileId(0), &DecodeOptions::default()).unwrap() {
            let Body::Kerberos(k) = e.body else { continue };
            // A request seen on the wire always carries its KDC options.
            if k.forwardable.is_some() {
                got_req.push(k.request_type.as_deref().unwrap_or("").to_string());
            }
            match k.success {
                Some(true) => got_ans.push("ok".to_string()),
                Some(false) => got_ans.push(k.error_msg.as_deref().unwrap_or("").to_string()),
                None => {}
            }
        }
        for v in [&mut want_req, &mut want_ans, &mut got_req, &mut got_ans] {
            v.sort();
        }
        assert_eq!(got_req, want_req, "{}: requests", row.rel);
        assert_eq!(got_ans, want_ans, "{}: answers", row.rel);
        total += want_req.len() + want_ans.len();
    }
    eprintln!("{total} Kerberos messages agree with tshark");
    assert!(total >= 2, "the shared captures hold KDC exchanges (OTRF APT29 SCRANTON)");
}
