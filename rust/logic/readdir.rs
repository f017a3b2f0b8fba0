// SPDX-License-Identifier: GPL-2.0

//! The merge rules of a merged directory's entries (`ovl_dir_read_merged`,
//! `ovl_fill_merge`, `ovl_fill_lowest` of `fs/overlayfs/readdir.c`), on
//! entries already read from the layers:
//!
//! * a name is shown once, from the topmost layer that has it (a whiteout
//!   there hides it: the caller skips whiteout entries when iterating);
//! * the iteration order is the lowest layer's names in its read order
//!   (each as the topmost entry of that name), then the names that are only
//!   in higher layers, in read order, so that offsets stay reasonably
//!   constant.
//!
//! Where overlayfs inserts each name into an rb-tree, this groups equal
//! names with an open-addressing hash table of entry indices: the caller
//! provides every buffer, so the function allocates nothing and cannot fail
//! on data, only on buffers of the wrong size.

#![forbid(unsafe_code)]

/// An empty slot of the hash table.
const EMPTY: u32 = u32::MAX;
/// In `rep`: the name of this representative is in the lowest layer.
const IN_LOWEST: u32 = 1 << 31;

/// The largest number of entries [`merge`] takes.
pub const MAX_ENTRIES: usize = (IN_LOWEST - 1) as usize;

/// The hash table length [`merge`] needs for `n` entries: a power of two of
/// at least twice `n` (so that probe sequences stay short), at least 16.
pub fn table_len(n: usize) -> Option<usize> {
    n.checked_mul(2)?.max(16).checked_next_power_of_two()
}

/// FNV-1a, its high bits folded into the low ones the table uses.
fn hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in name {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h ^ (h >> 16)
}

/// Merges `n` entries read from the layers of a directory, top layer first
/// (entry `i` has name `name(i)` and was read from layer `depth(i)`, 0 the
/// top, depths not decreasing with `i`; `lowest` is the lowest layer's
/// depth).  Writes to `out` the indices of the entries to iterate, in
/// order, and returns how many.  `table` (of [`table_len`]`(n)` slots or
/// more, a power of two) and `rep` (`n` slots) are scratch space.  `None`
/// if a buffer is too small or `n` exceeds [`MAX_ENTRIES`].
pub fn merge<'a>(
    n: usize,
    name: impl Fn(usize) -> &'a [u8],
    depth: impl Fn(usize) -> usize,
    lowest: usize,
    table: &mut [u32],
    rep: &mut [u32],
    out: &mut [u32],
) -> Option<usize> {
    if n > MAX_ENTRIES || table.len() <= n || !table.len().is_power_of_two() || rep.len() < n || out.len() < n {
        return None;
    }
    table.fill(EMPTY);
    let mask = table.len() - 1;
    // rep[i]: the first (topmost) entry with the name of entry i.
    for i in 0..n {
        let nm = name(i);
        let mut h = hash(nm) as usize & mask;
        let r = loop {
            let slot = table.get_mut(h)?;
            if *slot == EMPTY {
                *slot = i as u32;
                break i as u32;
            }
            let t = *slot;
            if name(t as usize) == nm {
                break t;
            }
            h = (h + 1) & mask;
        };
        *rep.get_mut(i)? = r;
    }
    for i in 0..n {
        if depth(i) == lowest {
            let r = (*rep.get(i)? & !IN_LOWEST) as usize;
            *rep.get_mut(r)? |= IN_LOWEST;
        }
    }
    let mut k = 0usize;
    for i in 0..n {
        if depth(i) == lowest {
            *out.get_mut(k)? = *rep.get(i)? & !IN_LOWEST;
            k += 1;
        }
    }
    for i in 0..n {
        let r = *rep.get(i)?;
        if depth(i) != lowest && r == i as u32 {
            *out.get_mut(k)? = r;
            k += 1;
        }
    }
    Some(k)
}

#[cfg(any(test, rovl_kernel))]
#[cfg_attr(rovl_kernel, kernel::prelude::kunit_tests(rovl_readdir))]
mod tests {
    use super::*;

    /// Runs [`merge`] over (name, depth) pairs; the result as names with
    /// their depths.
    fn run<'a>(e: &'a [(&'a str, usize)], lowest: usize, out: &mut [(&'a str, usize); 16]) -> usize {
        let mut table = [0u32; 64];
        let mut rep = [0u32; 16];
        let mut idx = [0u32; 16];
        let k = merge(
            e.len(),
            |i| e.get(i).map_or(&b""[..], |x| x.0.as_bytes()),
            |i| e.get(i).map_or(0, |x| x.1),
            lowest,
            &mut table,
            &mut rep,
            &mut idx,
        )
        .expect("buffers are big enough");
        for (o, &i) in out.iter_mut().zip(idx.iter().take(k)) {
            *o = e[i as usize];
        }
        k
    }

    #[test]
    fn order_and_shadowing() {
        // Top layer: a, x, c; middle: b, a, y; lowest: c, b, z, a.
        let e = [("a", 0), ("x", 0), ("c", 0), ("b", 1), ("a", 1), ("y", 1), ("c", 2), ("b", 2), ("z", 2), ("a", 2)];
        let mut out = [("", 0); 16];
        let k = run(&e, 2, &mut out);
        // The lowest layer's names in its order, each from its topmost
        // layer; then the names only in higher layers in read order.
        assert_eq!(&out[..k], &[("c", 0), ("b", 1), ("z", 2), ("a", 0), ("x", 0), ("y", 1)]);
    }

    #[test]
    fn one_layer_and_empty() {
        let e = [("..", 0), (".", 0), ("f", 0)];
        let mut out = [("", 0); 16];
        assert_eq!(run(&e, 0, &mut out), 3);
        assert_eq!(&out[..3], &e);
        assert_eq!(run(&[], 1, &mut out), 0);
    }

    #[test]
    fn collisions_and_prefixes() {
        // Names that differ only by length or by one byte, many in a small
        // table: every name once.
        let e = [("a", 0), ("aa", 0), ("aaa", 0), ("b", 1), ("aa", 1), ("", 1), ("ab", 1)];
        let mut out = [("", 0); 16];
        let k = run(&e, 1, &mut out);
        assert_eq!(&out[..k], &[("b", 1), ("aa", 0), ("", 1), ("ab", 1), ("a", 0), ("aaa", 0)]);
    }

    #[test]
    fn bad_buffers() {
        let mut rep = [0u32; 4];
        let mut out = [0u32; 4];
        let name = |_| &b"n"[..];
        let depth = |_| 0;
        // Table not a power of two, or not bigger than n.
        assert_eq!(merge(4, name, depth, 0, &mut [0u32; 12], &mut rep, &mut out), None);
        assert_eq!(merge(4, name, depth, 0, &mut [0u32; 4], &mut rep, &mut out), None);
        assert_eq!(merge(5, name, depth, 0, &mut [0u32; 16], &mut rep, &mut out), None);
        assert_eq!(table_len(0), Some(16));
        assert_eq!(table_len(30_000), Some(65_536));
        assert_eq!(table_len(usize::MAX), None);
    }

    #[test]
    fn many_names() {
        // 3 layers of 30 names, layer L holding names 20L .. 20L+30: a
        // third of each layer's names are in the layer below too.  Small
        // enough for a kernel stack.
        const N: usize = 90;
        let mut names = [[0u8; 3]; N];
        let mut depths = [0u8; N];
        for (i, (nm, d)) in names.iter_mut().zip(depths.iter_mut()).enumerate() {
            let layer = i / 30;
            let j = i % 30 + layer * 20;
            *nm = [b'n', b'0' + (j / 10) as u8, b'0' + (j % 10) as u8];
            *d = layer as u8;
        }
        let mut table = [0u32; 256];
        let mut rep = [0u32; N];
        let mut out = [0u32; N];
        let k = merge(N, |i| &names[i][..], |i| depths[i].into(), 2, &mut table, &mut rep, &mut out);
        // Names 0..70, each once, from its topmost layer.
        assert_eq!(k, Some(70));
        let mut seen = [false; 70];
        for &i in &out[..70] {
            let nm = names[i as usize];
            let j = (nm[1] - b'0') as usize * 10 + (nm[2] - b'0') as usize;
            assert!(!seen[j]);
            seen[j] = true;
            let top = (0..3).find(|&l| 20 * l <= j && j < 20 * l + 30);
            assert_eq!(Some(depths[i as usize] as usize), top);
        }
        // The lowest layer's 30 names (40 .. 70) come first.
        assert!(out[..30].iter().all(|&i| names[i as usize][1] >= b'4'));
    }
}
