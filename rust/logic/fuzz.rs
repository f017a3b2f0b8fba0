// SPDX-License-Identifier: GPL-2.0

//! Host-only robustness test: every parser gets every byte string up to
//! length 3 over an alphabet of interesting bytes, and many pseudo-random
//! buffers, and must not panic.

use super::{options, xattr};

fn feed(input: &[u8]) {
    let _ = options::parse_opt(input, Some(input));
    let _ = options::parse_opt(input, None);
    for o in options::split_monolithic(input) {
        let _ = options::split_key_value(o);
    }
    for seg in options::split_lowerdir(input) {
        if let Ok(seg) = seg {
            let mut out = [0u8; 8];
            let _ = options::unescape_into(seg.raw, &mut out);
        }
    }
    let _ = options::validate_lowerdir(input);
    let mut buf = [0u8; 64];
    let n = input.len().min(buf.len());
    buf[..n].copy_from_slice(&input[..n]);
    for ns in [xattr::XattrNs::Trusted, xattr::XattrNs::User] {
        let _ = xattr::map_user_name(input, ns);
        let mut b = buf;
        let _ = xattr::list_filter_in_place(&mut b, n + 3, ns, true);
    }
    let _ = xattr::check_redirect(input);
    let mut s = std::string::String::new();
    let _ = options::show_option(&mut s, "lowerdir", input);
}

#[test]
fn parsers_never_panic() {
    const ALPHABET: &[u8] = b":\\,=\0/ ao.\xff";
    feed(b"");
    for &a in ALPHABET {
        feed(&[a]);
        for &b in ALPHABET {
            feed(&[a, b]);
            for &c in ALPHABET {
                feed(&[a, b, c]);
            }
        }
    }
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..20000 {
        let mut buf = [0u8; 48];
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 48) as usize;
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = ALPHABET[(x % ALPHABET.len() as u64) as usize];
        }
        feed(&buf[..len]);
    }
}
