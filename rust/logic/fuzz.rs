// SPDX-License-Identifier: GPL-2.0

//! Host-only robustness test: every parser gets every byte string up to
//! length 3 over an alphabet of interesting bytes, and many pseudo-random
//! (and, for the binary formats, mutated valid) buffers, and must not
//! panic; round trips and invariants are checked on the way.

use super::{fh, ino, metacopy, options, redirect, xattr, xattrval};

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
    let _ = crate::redirect::parse_redirect(input);
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

/// A literal port of the C loop of `ovl_get_redirect_xattr` over a
/// NUL-terminated copy, as an oracle for `redirect::parse_redirect`.
fn c_redirect_valid(value: &[u8]) -> bool {
    if value.is_empty() {
        return false;
    }
    let mut buf = std::vec::Vec::from(value);
    buf.push(0);
    let at = |i: usize| buf.get(i).copied().unwrap_or(0);
    if at(0) == b'/' {
        let mut s = 0usize;
        loop {
            let c = at(s);
            s += 1;
            if c != b'/' {
                break;
            }
            let mut next = s;
            while at(next) != 0 && at(next) != b'/' {
                next += 1;
            }
            if s == next {
                return false;
            }
            s = next;
        }
        true
    } else {
        let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
        !buf[..end].contains(&b'/')
    }
}

/// Every binary parser gets `input` and must not panic; checks invariants.
fn feed_binary(input: &[u8]) {
    // File handles.
    for fb in [fh::check_fb(input), fh::fh_from_xattr(input).and_then(|o| o.ok_or(fh::FhError::Unknown))]
        .into_iter()
        .flatten()
    {
        let len = usize::from(fb.fb_len());
        assert!(input.len() >= fh::FB_HEADER_LEN && input.len() >= len);
        assert_eq!(fb.as_bytes().len(), len);
        assert!(fb.is_native_endian());
        let _ = (fb.version(), fb.flags(), fb.fh_type(), fb.uuid(), fb.is_upper(), fb.stale_is_unknown());
        if len >= fh::FB_HEADER_LEN {
            assert_eq!(fb.fid().len() + fh::FB_HEADER_LEN, len);
            assert_eq!(fb.decode_fid().map(|f| f.len() % 4), Some(0));
        } else {
            assert_eq!(fb.fid_dwords(), None);
        }
        let mut name = [0u8; 2 * 256];
        let mut back = [0u8; 256];
        if let Ok(n) = fh::index_name(&fb, &mut name) {
            let r = fh::fb_from_index_name(n, &mut back);
            if len >= fh::FB_HEADER_LEN {
                assert_eq!(r, Ok(fb));
            }
        }
        let mut wire = [0u8; 300];
        if let Ok(n) = fh::fb_to_wire(&fb, &mut wire) {
            if len >= fh::FB_HEADER_LEN {
                assert_eq!(fh::check_wire(&wire[..n], fh::FILEID_V1), Ok(fb));
            }
        }
    }
    for t in [fh::FILEID_V0, fh::FILEID_V1, 0, -1, 0xff] {
        let _ = fh::check_wire(input, t);
    }
    let mut back = [0u8; 64];
    let _ = fh::fb_from_index_name(input, &mut back);
    let mut out = [0u8; 64];
    let uuid = [0x42u8; 16];
    let ty = input.first().copied().unwrap_or(0);
    if let Ok(n) = fh::encode_fb(&mut out, ty, &uuid, input, fh::encode_flags(input.len().is_multiple_of(2)))
    {
        let fb = fh::check_fb(&out[..n]);
        assert_eq!(fb.map(|f| (f.fid(), f.fh_type(), *f.uuid())), Ok((input, ty, uuid)));
    }
    // Redirects.
    match redirect::parse_redirect(input) {
        Ok(redirect::Redirect::Absolute(a)) => {
            assert!(c_redirect_valid(input));
            let mut total = 0;
            for c in a.components() {
                assert!(!c.is_empty() && !c.contains(&b'/') && !c.contains(&0));
                total += c.len() + 1;
                let _ = redirect::check_component(c);
            }
            assert_eq!(total, a.as_bytes().len());
        }
        Ok(redirect::Redirect::Relative(r)) => {
            assert!(c_redirect_valid(input));
            assert!(!r.contains(&b'/') && !r.contains(&0));
            let _ = redirect::check_component(r);
        }
        Err(e) => {
            assert!(!c_redirect_valid(input));
            let _ = (e.message(), e.errno());
        }
    }
    // Metacopy.
    let _ = metacopy::check_size(input.len());
    if let Ok(m) = metacopy::parse(input) {
        assert!(input.is_empty() || m.size() == input.len());
        let mut out = [0u8; metacopy::MAX_SIZE];
        if let Some(n) = metacopy::encode(&mut out, m.digest().as_ref()) {
            assert_eq!(metacopy::check_metacopy(&out[..n]), Ok(m.digest()));
        }
    }
    for mode in [options::Verity::Off, options::Verity::On, options::Verity::Require] {
        if let Ok(Some(d)) = metacopy::verity_expected(mode, true, Some(input)) {
            assert_eq!(metacopy::verity_compare(&d, Some(&d)).is_ok(), !d.bytes.is_empty());
        }
    }
    // Small xattrs.
    let _ = xattrval::opaque(true, Some(input));
    let _ = xattrval::is_impure(true, Some(input));
    if let Ok(n) = xattrval::parse_nlink(input) {
        let _ = n.apply(3, 4);
    }
    let _ = xattrval::get_nlink(Some(2), Some(2), Some(input));
    let _ = xattrval::parse_uuid(input);
    let _ = xattrval::init_uuid(options::Uuid::Auto, Ok(input), || Ok(input.len()));
    if let Ok(p) = xattrval::parse_protattr(input) {
        assert_eq!(xattrval::parse_protattr(xattrval::format_protattr(p).as_bytes()), Ok(p));
    }
    // Integers from the input.
    let mut w = [0u8; 8];
    for (d, s) in w.iter_mut().zip(input) {
        *d = *s;
    }
    let ino = u64::from_le_bytes(w);
    let small = u32::from(input.get(8).copied().unwrap_or(0));
    feed_ino(ino, small, u32::from(input.get(9).copied().unwrap_or(0)));
}

fn feed_ino(ino: u64, a: u32, b: u32) {
    for raw in [-2, -1, 0, 1, 2, 3, 10, 32, 63, 64, 65, a as i32] {
        let x = ino::XinoMode::from_raw(raw);
        let bits = x.bits();
        for fsid in [0, 1, a, b, u32::MAX] {
            if let Some(m) = ino::xino_map(ino, bits, fsid) {
                assert!(bits > 0);
                assert_eq!(m & u64::MAX.checked_shr(bits).unwrap_or(0), ino);
            }
            let _ = ino::map_dev_ino(x, true, ino, fsid, fsid.is_multiple_of(2), a.into());
            let _ = ino::map_ino(x, ino, fsid, true);
            let _ = ino::remap_lower_ino(ino, bits, fsid);
            for e in [ino::Entry::Origin, ino::Entry::Upper, ino::Entry::Lower { fsid }] {
                let _ = ino::cache_entry_ino(x, true, ino, e);
            }
            let t = ino::RealDirTranslate { parent_ino: ino, has_cache: false, bits, fsid };
            let _ = t.d_ino(b"..", ino, |_| None);
            let _ = t.d_ino(b"x", ino, |_| None);
        }
        let mut c = ino;
        let _ = ino::next_ino(x, || {
            c = c.wrapping_add(1);
            c
        });
        let real = ino::Real::Origin { fsid: a, ino, nlink: b };
        let _ = ino::getattr_ino(x, a.is_multiple_of(2), real, ino, b.is_multiple_of(2), a.is_multiple_of(3));
    }
    for xino in [options::Xino::Off, options::Xino::Auto, options::Xino::On] {
        for numfs in [0, 1, 2, a, b, u32::MAX] {
            let s = ino::xino_setup(xino, a, b.is_multiple_of(2), numfs, a.is_multiple_of(2));
            assert!((-1..=64).contains(&s.mode.raw()));
        }
    }
    let v = xattrval::format_nlink(xattrval::NlinkBase::Upper, a.wrapping_mul(0x9e37_79b9), b);
    let n = xattrval::parse_nlink(v.as_bytes());
    assert_eq!(n.map(|n| n.diff), Ok(a.wrapping_mul(0x9e37_79b9).wrapping_sub(b) as i32));
}

#[test]
fn binary_parsers_never_panic() {
    const ALPHABET: &[u8] = b"\0\x01\x02\x04\x15\x1d/ULiax+-9\n\xfb\xf8\xff";
    feed_binary(b"");
    for &a in ALPHABET {
        feed_binary(&[a]);
        for &b in ALPHABET {
            feed_binary(&[a, b]);
            for &c in ALPHABET {
                feed_binary(&[a, b, c]);
            }
        }
    }
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // Random bytes, and mutations of valid values of each format.
    let mut valid_fb = [0u8; 64];
    let n = fh::encode_fb(&mut valid_fb, 1, &[7; 16], &[1, 2, 3, 4, 5, 6, 7, 8], fh::encode_flags(false));
    let valid_fb = &valid_fb[..n.unwrap_or(0)];
    let seeds: [&[u8]; 6] = [valid_fb, b"/a/bb/ccc", b"U+12", &[0, 36, 0, 1, 9, 9, 9, 9], b"ai", b"L-7\n"];
    for i in 0..40000 {
        let mut buf = [0u8; 72];
        let len = (next() % 72) as usize;
        if i % 2 == 0 {
            for b in buf.iter_mut() {
                *b = if next() % 3 == 0 {
                    ALPHABET[(next() % ALPHABET.len() as u64) as usize]
                } else {
                    next() as u8
                };
            }
            feed_binary(&buf[..len]);
        } else {
            let seed = seeds[(next() % seeds.len() as u64) as usize];
            buf[..seed.len()].copy_from_slice(seed);
            for _ in 0..(next() % 3) {
                let at = (next() % 72) as usize;
                buf[at] = next() as u8;
            }
            let len = if next() % 2 == 0 { seed.len() } else { len };
            feed_binary(&buf[..len]);
        }
    }
}

/// The readdir merge against a model of overlayfs's list and rb-tree
/// (`ovl_fill_merge`/`ovl_fill_lowest`), on random layers of random names.
#[test]
fn readdir_merge_matches_model() {
    use super::readdir;
    use std::collections::BTreeMap;
    use std::vec::Vec;
    let mut x: u64 = 0x2545f4914f6cdd1d;
    let mut next = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    for _ in 0..2000 {
        let nlayers = 1 + next(4) as usize;
        // Entries (name, depth), each layer's names unique, top first.
        let mut e: Vec<(Vec<u8>, usize)> = Vec::new();
        for d in 0..nlayers {
            let mut names: Vec<Vec<u8>> = Vec::new();
            for _ in 0..next(40) {
                let len = next(3) as usize;
                let nm: Vec<u8> = (0..len).map(|_| b"abc"[next(3) as usize]).collect();
                if !names.contains(&nm) {
                    names.push(nm);
                }
            }
            e.extend(names.into_iter().map(|n| (n, d)));
        }
        let lowest = nlayers - 1;
        // The model: upper entries go to the list in read order; a lowest
        // entry moves its name's (topmost) entry, or adds itself, before
        // the upper-only part ("middle").
        let mut tree: BTreeMap<&[u8], usize> = BTreeMap::new();
        let mut upper: Vec<usize> = Vec::new();
        let mut low: Vec<usize> = Vec::new();
        for (i, (nm, d)) in e.iter().enumerate() {
            let found = tree.get(nm.as_slice()).copied();
            if *d != lowest {
                if found.is_none() {
                    tree.insert(nm, i);
                    upper.push(i);
                }
            } else if let Some(t) = found {
                upper.retain(|&u| u != t);
                low.push(t);
            } else {
                tree.insert(nm, i);
                low.push(i);
            }
        }
        low.extend(upper);
        let n = e.len();
        let mut table = std::vec![0u32; readdir::table_len(n).unwrap()];
        let mut rep = std::vec![0u32; n];
        let mut out = std::vec![0u32; n];
        let k = readdir::merge(n, |i| e[i].0.as_slice(), |i| e[i].1, lowest, &mut table, &mut rep, &mut out).unwrap();
        let got: Vec<usize> = out[..k].iter().map(|&i| i as usize).collect();
        assert_eq!(got, low, "entries {e:?}");
    }
}
