//! Event time.
//!
//! dwell never reads the wall clock on a detection path: every decision is made in
//! *event time*, the instant the telemetry says something happened. [`Timestamp`] is
//! that instant as signed microseconds since the Unix epoch (UTC). Microseconds are
//! the finest unit Zeek, Suricata and pcap (in its classic form) give, and an `i64`
//! of them spans ±292,000 years, so arithmetic never needs to saturate in practice.
//!
//! Parsing is strict and allocation-free: epoch seconds with a decimal fraction
//! (Zeek TSV/JSON `ts`) are parsed from their text, not through `f64`, so that
//! `1588316522.186129` stays exactly `1588316522186129` µs; ISO 8601 / RFC 3339 text
//! (Suricata `timestamp`, Zeek JSON with ISO timestamps) accepts `Z`, `+HH:MM` and
//! `+HHMM` offsets and any number of fraction digits (truncated to µs).

use std::fmt;

/// Microseconds per second.
pub const MICROS_PER_SEC: i64 = 1_000_000;

/// An instant in event time: microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The earliest representable instant; used as "no time yet".
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    /// The latest representable instant; used as the final watermark.
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// From whole seconds since the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// From microseconds since the epoch.
    pub const fn from_micros(us: i64) -> Self {
        Timestamp(us)
    }

    /// Microseconds since the epoch.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch as a float (for statistics and JSON output only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// Whole seconds since the epoch (floor).
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }

    /// This instant plus a (possibly negative) number of seconds, saturating.
    pub fn add_secs_f64(self, secs: f64) -> Self {
        let us = (secs * MICROS_PER_SEC as f64).round();
        if us.is_nan() {
            return self;
        }
        // `as` saturates for out-of-range floats.
        Timestamp(self.0.saturating_add(us as i64))
    }

    /// This instant plus whole seconds, saturating.
    pub const fn add_secs(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs.saturating_mul(MICROS_PER_SEC)))
    }

    /// Seconds elapsed from `earlier` to `self` (negative if `earlier` is later).
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        (self.0 as i128 - earlier.0 as i128) as f64 / MICROS_PER_SEC as f64
    }

    /// Parses Zeek-style epoch seconds: `1588316522.186129`, `22.335172`, `-1.5`.
    ///
    /// Digits after the sixth fraction digit are truncated. Returns `None` for
    /// anything that is not `-?digits(.digits)?` or does not fit.
    #[inline]
    pub fn parse_epoch(text: &str) -> Option<Self> {
        Self::parse_epoch_bytes(text.as_bytes())
    }

    /// [`parse_epoch`](Self::parse_epoch) of bytes (anything but ASCII digits, `-` and
    /// `.` is refused, so the bytes need not be checked for UTF-8 first).
    #[inline]
    pub fn parse_epoch_bytes(b: &[u8]) -> Option<Self> {
        if let Some(t) = zeek_time(b) {
            return Some(t);
        }
        let (neg, b) = match b.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, b),
        };
        if b.is_empty() || b.len() > 40 {
            return None;
        }
        // Integer digits: eight at a time while eight digits follow, then one by one.
        // Eighteen integer digits cannot overflow an i64 before the multiply by 10^6
        // is checked.
        let mut secs: i64 = 0;
        let mut i = 0;
        while let Some(v) = b.get(i..i + 8).and_then(eight_digits) {
            if i + 8 > 18 {
                return None;
            }
            secs = secs * 100_000_000 + i64::from(v);
            i += 8;
        }
        while let Some(&c) = b.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if i == 18 {
                return None;
            }
            secs = secs * 10 + i64::from(d);
            i += 1;
        }
        if i == 0 {
            return None;
        }
        let mut us: i64 = 0;
        if i < b.len() {
            if b[i] != b'.' || i + 1 == b.len() {
                return None;
            }
            let frac = &b[i + 1..];
            if frac.len() <= 8 {
                // Pad with zeros to eight digits: the value is the fraction in units of
                // 10^-8 s; digits past the sixth are truncated. The digits are the top
                // bytes of the text's last eight, shifted down; '0's fill above them.
                let n = frac.len();
                let low = match b.len().checked_sub(8).and_then(|s| b.get(s..)) {
                    Some(last) => {
                        let mut w = [0u8; 8];
                        w.copy_from_slice(last);
                        u64::from_le_bytes(w) >> (64 - 8 * n)
                    }
                    None => frac.iter().rev().fold(0u64, |w, &c| w << 8 | u64::from(c)),
                };
                let pad = low | 0x3030_3030_3030_3030u64.checked_shl(8 * n as u32).unwrap_or(0);
                us = i64::from(eight_digits(&pad.to_le_bytes())? / 100);
            } else {
                let mut scale = 100_000;
                for &c in frac {
                    let d = c.wrapping_sub(b'0');
                    if d > 9 {
                        return None;
                    }
                    us += i64::from(d) * scale;
                    scale /= 10;
                }
            }
        }
        let total = secs.checked_mul(MICROS_PER_SEC)?.checked_add(us)?;
        Some(Timestamp(if neg { -total } else { total }))
    }

    /// Parses ISO 8601 / RFC 3339 date-time text.
    ///
    /// Accepted: `YYYY-MM-DDTHH:MM:SS[.frac][Z|±HH:MM|±HHMM|±HH]`, with `T` or a space
    /// between date and time. Text without an offset is taken as UTC (Suricata writes
    /// local offsets; Zeek's ISO timestamps end in `Z`).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() < 19 {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let s = b.get(r)?;
            let mut v = 0i64;
            for &c in s {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + i64::from(c - b'0');
            }
            Some(v)
        };
        if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ' || b[10] == b't') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 {
            return None;
        }
        // Allow a leap second (60) by folding it into the next second.
        if s > 60 {
            return None;
        }
        let mut i = 19;
        let mut us = 0i64;
        if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 6 {
                    us = us * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 {
                return None;
            }
            for _ in n..6 {
                us *= 10;
            }
        }
        let offset_s = match b.get(i) {
            None => 0,
            Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
            Some(&sign @ (b'+' | b'-')) => {
                let rest = &b[i + 1..];
                let (oh, om) = match rest.len() {
                    2 => (num(i + 1..i + 3)?, 0),
                    4 => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                    5 if rest[2] == b':' => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                    _ => return None,
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = oh * 3600 + om * 60;
                if sign == b'+' {
                    off
                } else {
                    -off
                }
            }
            _ => return None,
        };
        let days = days_from_civil(y, mo, d);
        let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_s;
        Some(Timestamp(secs * MICROS_PER_SEC + us))
    }

    /// Breaks the instant into UTC calendar fields.
    pub fn to_civil(self) -> Civil {
        let secs = self.0.div_euclid(MICROS_PER_SEC);
        let micros = self.0.rem_euclid(MICROS_PER_SEC) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month: month as u8,
            day: day as u8,
            hour: (sod / 3600) as u8,
            minute: (sod % 3600 / 60) as u8,
            second: (sod % 60) as u8,
            micros,
        }
    }

    /// RFC 3339 text in UTC with microseconds: `2020-05-01T07:02:02.186129Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

/// UTC calendar fields of a [`Timestamp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Proleptic Gregorian year.
    pub year: i64,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59.
    pub second: u8,
    /// 0–999,999.
    pub micros: u32,
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.to_civil();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The shape Zeek writes every time in — ten integer digits (2001-09-09 to 2286-11-20),
/// a dot, six fraction digits — read as two eight-digit numbers: the first eight
/// digits, and the last two integer digits with the six fraction digits, which is the
/// time's microseconds below 10^8 s. No loop; anything else is `None`.
#[inline(always)]
fn zeek_time(b: &[u8]) -> Option<Timestamp> {
    let b: &[u8; 17] = b.try_into().ok()?;
    if b[10] != b'.' {
        return None;
    }
    let high = eight_digits(&b[..8])?;
    let mut low = [0u8; 8];
    low[..2].copy_from_slice(&b[8..10]);
    low[2..].copy_from_slice(&b[11..]);
    let low = eight_digits(&low)?;
    Some(Timestamp(i64::from(high) * 100_000_000 + i64::from(low)))
}

/// The value of eight ASCII decimal digits, or `None` if any byte is not a digit.
///
/// All eight at once: a byte is a digit when its high nibble is 3 and adding 6 does not
/// carry out of the low nibble; then pairs, quads and the two halves are combined with
/// three multiplies.
#[inline(always)]
pub fn eight_digits(b: &[u8]) -> Option<u32> {
    let w: [u8; 8] = b.try_into().ok()?;
    let v = u64::from_le_bytes(w);
    let hi = 0xF0F0_F0F0_F0F0_F0F0u64;
    if (v & hi) != 0x3030_3030_3030_3030
        || (v.wrapping_add(0x0606_0606_0606_0606) & hi) != 0x3030_3030_3030_3030
    {
        return None;
    }
    let v = v - 0x3030_3030_3030_3030;
    // Byte k holds digit k (most significant first, at the lowest address).
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    let v = v.wrapping_mul(10_000) + (v >> 32);
    Some(v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_text_is_exact() {
        assert_eq!(Timestamp::parse_epoch("1588316522.186129"), Some(Timestamp(1588316522186129)));
        assert_eq!(Timestamp::parse_epoch("22.335172"), Some(Timestamp(22335172)));
        assert_eq!(Timestamp::parse_epoch("1"), Some(Timestamp(1_000_000)));
        assert_eq!(Timestamp::parse_epoch("1.5"), Some(Timestamp(1_500_000)));
        assert_eq!(Timestamp::parse_epoch("1.1234567"), Some(Timestamp(1_123_456)));
        assert_eq!(Timestamp::parse_epoch("-1.5"), Some(Timestamp(-1_500_000)));
        // Eight-digit blocks and their edges.
        assert_eq!(Timestamp::parse_epoch("12345678"), Some(Timestamp(12_345_678_000_000)));
        // Zeek's fixed shape, and bad bytes in each of its parts.
        assert_eq!(
            Timestamp::parse_epoch("1717200000.009541"),
            Some(Timestamp(1_717_200_000_009_541))
        );
        assert_eq!(
            Timestamp::parse_epoch("9999999999.999999"),
            Some(Timestamp(9_999_999_999_999_999))
        );
        for bad in
            ["17172000x0.009541", "171720000x.009541", "1717200000.00954x", "1717200000x009541"]
        {
            assert_eq!(Timestamp::parse_epoch(bad), None, "{bad}");
        }
        assert_eq!(
            Timestamp::parse_epoch("99999999.99999999"),
            Some(Timestamp(99_999_999_999_999))
        );
        assert_eq!(
            Timestamp::parse_epoch("123456789012345678"),
            None,
            "18 integer digits overflow the multiply by 10^6"
        );
        assert_eq!(
            Timestamp::parse_epoch("1234567890123.000001"),
            Some(Timestamp(1_234_567_890_123_000_001))
        );
        for bad in ["1234567x.5", "12345678.1234567x", "1.:", "1./", "1234567890123456789"] {
            assert_eq!(Timestamp::parse_epoch(bad), None, "{bad}");
        }
        for bad in ["", "-", ".5", "1.", "1e9", "abc", "1.2.3", "99999999999999999999999"] {
            assert_eq!(Timestamp::parse_epoch(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_offsets() {
        // Suricata writes +HHMM local offsets.
        let t = Timestamp::parse_rfc3339("2021-06-06T15:59:46.457984+0200").unwrap();
        assert_eq!(t.to_string(), "2021-06-06T13:59:46.457984Z");
        let t = Timestamp::parse_rfc3339("2020-05-01T07:02:02.186129Z").unwrap();
        assert_eq!(t, Timestamp(1588316522186129));
        let t = Timestamp::parse_rfc3339("2020-05-01T02:02:02-05:00").unwrap();
        assert_eq!(t, Timestamp(1588316522000000));
        let t = Timestamp::parse_rfc3339("2020-05-01 07:02:02").unwrap();
        assert_eq!(t, Timestamp(1588316522000000));
        for bad in ["2020-13-01T00:00:00Z", "2021-02-29T00:00:00Z", "2020-05-01T07:02", "x"] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 11_016, 18_383, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn serde_round_trip() {
        let t = Timestamp(1588316522186129);
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(s, "\"2020-05-01T07:02:02.186129Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&s).unwrap(), t);
    }
}
