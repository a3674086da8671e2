//! DNS vocabulary: query type and response code names (IANA registries).
//!
//! Zeek logs both number and name; Suricata logs names only. Decoders fill whichever
//! side the source lacks from these tables, so detectors can rely on either.

/// (number, name) for the query types worth naming. Names as IANA and Zeek spell them.
pub const QTYPES: &[(u16, &str)] = &[
    (1, "A"),
    (2, "NS"),
    (5, "CNAME"),
    (6, "SOA"),
    (10, "NULL"),
    (12, "PTR"),
    (13, "HINFO"),
    (15, "MX"),
    (16, "TXT"),
    (17, "RP"),
    (18, "AFSDB"),
    (24, "SIG"),
    (25, "KEY"),
    (28, "AAAA"),
    (29, "LOC"),
    (33, "SRV"),
    (35, "NAPTR"),
    (36, "KX"),
    (37, "CERT"),
    (39, "DNAME"),
    (41, "OPT"),
    (43, "DS"),
    (44, "SSHFP"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (50, "NSEC3"),
    (51, "NSEC3PARAM"),
    (52, "TLSA"),
    (59, "CDS"),
    (60, "CDNSKEY"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (99, "SPF"),
    (249, "TKEY"),
    (250, "TSIG"),
    (251, "IXFR"),
    (252, "AXFR"),
    (255, "*"),
    (256, "URI"),
    (257, "CAA"),
];

/// (number, name) of response codes (RFC 1035, 2136, 6895).
pub const RCODES: &[(u16, &str)] = &[
    (0, "NOERROR"),
    (1, "FORMERR"),
    (2, "SERVFAIL"),
    (3, "NXDOMAIN"),
    (4, "NOTIMP"),
    (5, "REFUSED"),
    (6, "YXDOMAIN"),
    (7, "YXRRSET"),
    (8, "NXRRSET"),
    (9, "NOTAUTH"),
    (10, "NOTZONE"),
    (16, "BADVERS"),
];

/// Name of a query type; `None` if unnamed here.
pub fn qtype_name(n: u16) -> Option<&'static str> {
    QTYPES.iter().find(|(k, _)| *k == n).map(|(_, v)| *v)
}

/// Number of a query type name (`A`, `TXT`, `TYPE65` style too).
pub fn qtype_number(name: &str) -> Option<u16> {
    if let Some((n, _)) = QTYPES.iter().find(|(_, v)| v.eq_ignore_ascii_case(name)) {
        return Some(*n);
    }
    if name.eq_ignore_ascii_case("ANY") {
        return Some(255);
    }
    let digits = name.strip_prefix("TYPE").or_else(|| name.strip_prefix("type"))?;
    digits.parse().ok()
}

/// Name of a response code; `None` if unnamed here.
pub fn rcode_name(n: u16) -> Option<&'static str> {
    RCODES.iter().find(|(k, _)| *k == n).map(|(_, v)| *v)
}

/// Number of a response code name.
pub fn rcode_number(name: &str) -> Option<u16> {
    RCODES.iter().find(|(_, v)| v.eq_ignore_ascii_case(name)).map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_consistent() {
        for (n, name) in QTYPES {
            assert_eq!(qtype_number(name), Some(*n));
            assert_eq!(qtype_name(*n), Some(*name));
        }
        for (n, name) in RCODES {
            assert_eq!(rcode_number(name), Some(*n));
        }
        assert_eq!(qtype_number("TYPE65534"), Some(65534));
        assert_eq!(qtype_number("bogus"), None);
    }
}
