//! Record data: stored values read into wire data, and the presentation text of each
//! (what `dig` prints, and what the journal keeps).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::store::types::txt_strings;

/// One label, as bytes: a query may carry any byte in a label.
pub(super) type Label = Vec<u8>;

/// Record data in a form both the encoder and the presentation text can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Data {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// CNAME, NS, PTR, DNAME: one absolute name.
    Name(Vec<Label>),
    Mx(u16, Vec<Label>),
    Srv(u16, u16, u16, Vec<Label>),
    /// TXT and SPF: character-strings, each at most 255 bytes.
    Txt(Vec<Vec<u8>>),
    Soa {
        mname: Vec<Label>,
        rname: Vec<Label>,
        serial: u32,
        refresh: i32,
        retry: i32,
        expire: i32,
        minimum: u32,
    },
    /// The RFC 8482 answer to ANY.
    Hinfo(String, String),
    /// CAA, DS, SSHFP, TLSA: encoded here, with their presentation text.
    Opaque {
        rdata: Vec<u8>,
        text: String,
    },
}

/// A stored TXT value as character-strings; each longer than 255 bytes is split in pieces
/// of 255, as RFC 1035 requires and as Gandi does for long DKIM keys.
pub(super) fn character_strings(value: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for s in txt_strings(value) {
        let bytes = s.into_bytes();
        if bytes.is_empty() {
            out.push(Vec::new());
        }
        out.extend(bytes.chunks(255).map(<[u8]>::to_vec));
    }
    out
}

/// CAA (RFC 8659): `flags tag "value"`.
pub(super) fn caa(value: &str) -> Option<Data> {
    let mut parts = value.trim().splitn(3, ' ');
    let flags: u8 = parts.next()?.parse().ok()?;
    let tag = parts.next()?;
    if tag.is_empty() || tag.len() > 255 {
        return None;
    }
    let val = txt_strings(parts.next().unwrap_or_default()).join(" ");
    let mut rdata = vec![flags, u8::try_from(tag.len()).ok()?];
    rdata.extend_from_slice(tag.as_bytes());
    rdata.extend_from_slice(val.as_bytes());
    let text = format!("{flags} {tag} {}", quote(val.as_bytes()));
    Some(Data::Opaque { rdata, text })
}

/// DS, SSHFP, TLSA: numeric fields of the given byte widths, then hex.
pub(super) fn opaque(fields: &[&str], widths: &[usize]) -> Option<Data> {
    if fields.len() != widths.len() + 1 {
        return None;
    }
    let mut rdata = Vec::new();
    let mut text = Vec::new();
    for (field, width) in fields.iter().zip(widths) {
        let n: u16 = field.parse().ok()?;
        if *width == 1 {
            rdata.push(u8::try_from(n).ok()?);
        } else {
            rdata.extend_from_slice(&n.to_be_bytes());
        }
        text.push(n.to_string());
    }
    let hex = fields.last()?;
    if hex.len() % 2 != 0 {
        return None;
    }
    for pair in hex.as_bytes().chunks(2) {
        let s = std::str::from_utf8(pair).ok()?;
        rdata.push(u8::from_str_radix(s, 16).ok()?);
    }
    text.push(hex.to_ascii_uppercase());
    Some(Data::Opaque {
        rdata,
        text: text.join(" "),
    })
}

/// A character-string in presentation format: quoted, `"` and `\` escaped, other
/// unprintable bytes as `\DDD`.
pub(super) fn quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(char::from(b));
            }
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\{b:03}")),
        }
    }
    s.push('"');
    s
}

/// A name in presentation format, with its trailing dot when `absolute`.
pub(super) fn name_text(labels: &[Label], absolute: bool) -> String {
    if labels.is_empty() {
        return ".".into();
    }
    let mut s = String::new();
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        for &b in label {
            match b {
                b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                    s.push('\\');
                    s.push(char::from(b));
                }
                0x21..=0x7e => s.push(char::from(b)),
                _ => s.push_str(&format!("\\{b:03}")),
            }
        }
    }
    if absolute {
        s.push('.');
    }
    s
}

impl Data {
    /// Presentation text, as `dig` prints the data of a record.
    pub(super) fn text(&self) -> String {
        match self {
            Data::A(a) => a.to_string(),
            Data::Aaaa(a) => a.to_string(),
            Data::Name(n) => name_text(n, true),
            Data::Mx(p, n) => format!("{p} {}", name_text(n, true)),
            Data::Srv(p, w, port, n) => format!("{p} {w} {port} {}", name_text(n, true)),
            Data::Txt(strings) => strings
                .iter()
                .map(|s| quote(s))
                .collect::<Vec<_>>()
                .join(" "),
            Data::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => format!(
                "{} {} {serial} {refresh} {retry} {expire} {minimum}",
                name_text(mname, true),
                name_text(rname, true)
            ),
            Data::Hinfo(cpu, os) => format!("{} {}", quote(cpu.as_bytes()), quote(os.as_bytes())),
            Data::Opaque { text, .. } => text.clone(),
        }
    }
}
