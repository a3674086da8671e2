//! Property tests: no input makes a decoder panic, and every record is accounted for
//! (decoded, skipped or counted as an anomaly).

use dwell_decode::{DecodeOptions, FileDecoder, Format};
use proptest::prelude::*;

fn drain(bytes: Vec<u8>, force: Option<Format>) {
    let opts = DecodeOptions { max_line: 4096, ..DecodeOptions::default() };
    if let Ok(mut d) = FileDecoder::from_bytes("fuzz", bytes, force, &opts) {
        let mut n = 0u64;
        while d.next_event().is_some() {
            n += 1;
        }
        let st = d.stats();
        assert_eq!(st.event_total(), n);
        assert!(st.records >= n);
    }
}

const TSV_HEAD: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype\tanswers\tTTLs\tAA\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_any_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        drain(bytes.clone(), None);
        drain(bytes.clone(), Some(Format::ZeekTsv));
        drain(bytes.clone(), Some(Format::ZeekJson));
        drain(bytes, Some(Format::Eve));
    }

    #[test]
    fn tsv_records_with_hostile_fields(fields in proptest::collection::vec("[ -~\\t\\\\]{0,24}", 0..16)) {
        let mut text = String::from(TSV_HEAD);
        text.push_str(&fields.join("\t"));
        text.push('\n');
        drain(text.into_bytes(), None);
    }

    #[test]
    fn json_records_with_hostile_values(
        key in prop::sample::select(vec!["ts", "id.orig_h", "id_resp_p", "answers", "TTLs", "query", "qtype", "AA", "_path"]),
        value in prop::sample::select(vec!["null", "1e999", "-1", "\"x\"", "[1,[2]]", "{\"a\":{}}", "true", "18446744073709551616", "\"\\ud800\""]),
    ) {
        let line = format!("{{\"_path\":\"dns\",\"ts\":1.0,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"{key}\":{value}}}\n");
        drain(line.into_bytes(), None);
    }

    #[test]
    fn eve_records_with_hostile_values(
        etype in prop::sample::select(vec!["flow", "dns", "tls", "http", "alert", "anomaly", "fileinfo", "smb", "rdp", "krb5", "dcerpc", "dhcp", "netflow"]),
        body in prop::sample::select(vec!["{}", "null", "[]", "{\"version\":3,\"queries\":[{}],\"answers\":[{\"rdata\":{}}]}", "{\"start\":\"x\",\"end\":\"2020-01-01T00:00:00Z\"}", "{\"ja4\":[1],\"sni\":7}"]),
    ) {
        let line = format!("{{\"timestamp\":\"2021-06-06T15:59:46.457984+0200\",\"event_type\":\"{etype}\",\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"10.0.0.2\",\"proto\":\"TCP\",\"{etype}\":{body}}}\n");
        drain(line.into_bytes(), None);
    }
}
