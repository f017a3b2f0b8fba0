# SPDX-License-Identifier: GPL-2.0
"""Deliberate corruption of a built stack's layers (seeded).

Random bytes, truncated values and values of the wrong type in every overlay
xattr (redirect, origin, metacopy, opaque, whiteout, upper, nlink, impure,
uuid, protattr), redirect loops, origin handles that point nowhere, metacopy
files whose data is gone, 0/0 character-device whiteouts in odd places and
type conflicts between layers.  Both file systems then mount and dump the
stack: what overlayfs returns (errno) is the expected result; the harness
checks the kernel log for WARN/oops/KASAN.
"""
import os
import shutil
import stat

from sysutil import oserr

XATTRS = ["redirect", "origin", "metacopy", "opaque", "whiteout", "upper",
          "nlink", "impure", "uuid", "protattr"]


_cache = {}


def _entries(layer):
    """Sorted (rel, kind) of a layer; cached until _invalidate(layer)."""
    if layer not in _cache:
        import gen
        _cache[layer] = sorted(gen.scan(layer).items())
    return _cache[layer]


def _invalidate(layer):
    _cache.pop(layer, None)


def _ovl_xattrs(full, prefix):
    try:
        names = os.listxattr(full, follow_symlinks=False)
    except OSError:
        return []
    return sorted(n for n in names if n.startswith(prefix))


def _value(rng, name, old):
    """A bad value for overlay xattr `name` (the postfix), given the old value."""
    k = rng.random()
    if old is not None and k < 0.25:
        # truncated (possibly to nothing) or one byte flipped
        if old and rng.random() < 0.6:
            return old[:rng.randrange(len(old))]
        if old:
            i = rng.randrange(len(old))
            return old[:i] + bytes([old[i] ^ (1 << rng.randrange(8))]) + old[i + 1:]
        return b"\xff"
    if name == "redirect":
        return rng.choice([b"", b"/", b"//", b"/a//b", b"a/b", b"..", b".", b"../x",
                           b"/" + b"r" * 300, b"r" * 5000, b"/nowhere/at/all",
                           b"x\x00y", b"/x\x00/y", rng.randbytes(rng.randint(1, 40)),
                           b"/" + rng.choice([b"a", b"b", b"dir", b"sub", b"file"])])
    if name == "metacopy":
        return rng.choice([b"\x00", b"\x00\x04", b"\x00\x04\x00", bytes([1, 4, 0, 0]),
                           bytes([0, 5, 0, 0]), bytes([0, 36, 0, 1]) + rng.randbytes(32),
                           bytes([0, 36, 0, 1]) + rng.randbytes(31),
                           bytes([0, 4, 1, 0]), rng.randbytes(200),
                           rng.randbytes(rng.randint(1, 68))])
    if name == "origin":
        uuid = rng.randbytes(16)
        fid = rng.randbytes(4 * rng.randint(1, 6))
        hdr_len = 21 + len(fid)
        return rng.choice([
            rng.randbytes(rng.randint(1, 60)),
            bytes([0, 0xfb, hdr_len, 0, 1]) + uuid + fid,            # points nowhere
            bytes([0, 0xfb, hdr_len, 2, 0x81]) + uuid + fid,         # any-endian
            bytes([0, 0xfa, hdr_len, 0, 1]) + uuid + fid,            # bad magic
            bytes([1, 0xfb, hdr_len, 0, 1]) + uuid + fid,            # newer version
            bytes([0, 0xfb, hdr_len, 0x80, 1]) + uuid + fid,         # unknown flag
            bytes([0, 0xfb, 255, 0, 1]) + uuid + fid,                # len too big
            bytes([0, 0xfb, 3, 0, 1]),                               # too short
            b""])
    if name == "opaque":
        return rng.choice([b"y", b"x", b"n", b"", b"yes", b"Y", b"z", b"\x00",
                           rng.randbytes(rng.randint(1, 8))])
    if name == "whiteout":
        return rng.choice([b"", b"y", rng.randbytes(5)])
    if name == "nlink":
        return rng.choice([b"U+1", b"L-1", b"U-5", b"L+999999999999", b"", b"X",
                           b"U+", rng.randbytes(6)])
    if name == "impure":
        return rng.choice([b"y", b"", b"n", rng.randbytes(3)])
    if name == "uuid":
        return rng.choice([rng.randbytes(16), rng.randbytes(7), b""])
    return rng.randbytes(rng.randint(0, 30))


def corrupt(stack):
    _cache.clear()
    try:
        _corrupt(stack)
    finally:
        _cache.clear()


def _corrupt(stack):
    rng = stack.rng
    prefix = stack.prefix
    log = stack.log
    layers = stack.layers
    alllayers = layers + stack.datalayers

    def pick_entry(kinds=None, layer_range=None):
        idx = layer_range if layer_range is not None else range(len(alllayers))
        cands = []
        for li in idx:
            for rel, k in _entries(alllayers[li]):
                if kinds is None or k in kinds:
                    cands.append((li, rel, k))
        return rng.choice(cands) if cands else None

    def setx(li, rel, name, value):
        full = os.path.join(alllayers[li], rel)
        try:
            os.setxattr(full, name, value, follow_symlinks=False)
            log("corrupt L%s/%s: %s=%r" % (li, rel, name, value[:40]))
        except OSError as e:
            log("corrupt L%s/%s: %s: %s" % (li, rel, name, oserr(e)))

    existing = None   # (layer, rel, name) of overlay xattrs, listed once
    for _ in range(rng.randint(4, 12)):
        kind = rng.choice(["xattr", "xattr", "xattr", "existing", "existing", "loop",
                           "nodata", "deldata", "chardev", "typeswap", "escaped"])
        if kind == "xattr":
            e = pick_entry()
            if not e:
                continue
            li, rel, k = e
            name = rng.choice(XATTRS)
            if k == "d" and rng.random() < 0.5:
                name = rng.choice(["redirect", "opaque", "impure", "origin"])
            elif k == "f" and rng.random() < 0.5:
                name = rng.choice(["metacopy", "redirect", "whiteout", "origin", "nlink"])
            setx(li, rel, prefix + name, _value(rng, name, None))
        elif kind == "existing":
            if existing is None:
                existing = []
                for li, layer in enumerate(alllayers):
                    for n in _ovl_xattrs(layer, prefix):
                        existing.append((li, "", n))
                    for rel, k in _entries(layer):
                        for n in _ovl_xattrs(os.path.join(layer, rel), prefix):
                            existing.append((li, rel, n))
            cands = existing
            if not cands:
                continue
            li, rel, n = rng.choice(cands)
            full = os.path.join(alllayers[li], rel)
            try:
                old = os.getxattr(full, n, follow_symlinks=False)
            except OSError:
                old = b""
            post = n[len(prefix):]
            setx(li, rel, n, _value(rng, post, old))
        elif kind == "loop":
            # /A redirects to /B and /B to /A (or to itself), across layers
            dirs = []
            for li in range(len(layers)):
                for rel, k in _entries(layers[li]):
                    if k == "d":
                        dirs.append((li, rel))
            if len(dirs) < 2:
                continue
            (la, a), (lb, b) = rng.sample(dirs, 2)
            setx(la, a, prefix + "redirect", ("/" + b).encode())
            if rng.random() < 0.7:
                setx(lb, b, prefix + "redirect", ("/" + a).encode())
            else:
                setx(lb, b, prefix + "redirect", ("/" + b).encode())
            if rng.random() < 0.5:
                setx(la, a, prefix + "redirect", os.path.basename(a).encode())
        elif kind == "nodata":
            # a metacopy file with no data anywhere below
            e = pick_entry("f", range(len(layers)))
            if not e:
                continue
            li, rel, k = e
            setx(li, rel, prefix + "metacopy", b"")
            if rng.random() < 0.5:
                setx(li, rel, prefix + "redirect", b"/gone/" + os.path.basename(rel).encode())
        elif kind == "deldata":
            # remove the data of metacopy files (same path below, redirect target)
            cands = []
            for li in range(len(layers)):
                for rel, k in _entries(layers[li]):
                    if k == "f" and prefix + "metacopy" in _ovl_xattrs(
                            os.path.join(layers[li], rel), prefix):
                        cands.append((li, rel))
            if not cands:
                continue
            li, rel = rng.choice(cands)
            try:
                red = os.getxattr(os.path.join(layers[li], rel), prefix + "redirect").decode(
                    errors="replace")
            except OSError:
                red = ""
            targets = {rel}
            if red.startswith("/"):
                targets.add(red.lstrip("/"))
            elif red:
                targets.add(os.path.join(os.path.dirname(rel), red))
            for lj in range(li + 1, len(alllayers)):
                for t in sorted(targets):
                    p = os.path.join(alllayers[lj], t)
                    if os.path.lexists(p) and not os.path.isdir(p):
                        try:
                            os.unlink(p)
                            _invalidate(alllayers[lj])
                            log("corrupt: deleted data L%d/%s of metacopy L%d/%s" % (lj, t, li, rel))
                        except OSError as ex:
                            log("corrupt: delete L%d/%s: %s" % (lj, t, oserr(ex)))
        elif kind == "chardev":
            e = pick_entry(None, range(len(alllayers)))
            if not e:
                continue
            li, rel, k = e
            full = os.path.join(alllayers[li], rel)
            try:
                if k == "d":
                    shutil.rmtree(full)
                else:
                    os.unlink(full)
                os.mknod(full, 0o644 | stat.S_IFCHR, 0)
                _invalidate(alllayers[li])
                log("corrupt: 0/0 whiteout at L%d/%s (was %s)" % (li, rel, k))
            except OSError as ex:
                _invalidate(alllayers[li])
                log("corrupt: chardev L%d/%s: %s" % (li, rel, oserr(ex)))
        elif kind == "typeswap":
            e = pick_entry("fd", range(len(layers)))
            if not e:
                continue
            li, rel, k = e
            full = os.path.join(layers[li], rel)
            try:
                if k == "d":
                    shutil.rmtree(full)
                    with open(full, "wb") as f:
                        f.write(b"was a directory\n")
                    if rng.random() < 0.5:
                        os.setxattr(full, prefix + "opaque", b"y")
                else:
                    os.unlink(full)
                    os.mkdir(full, 0o755)
                    if rng.random() < 0.5:
                        os.setxattr(full, prefix + "metacopy", b"")
                _invalidate(layers[li])
                log("corrupt: type swap at L%d/%s (was %s)" % (li, rel, k))
            except OSError as ex:
                _invalidate(layers[li])
                log("corrupt: typeswap L%d/%s: %s" % (li, rel, oserr(ex)))
        elif kind == "escaped":
            e = pick_entry()
            if not e:
                continue
            li, rel, k = e
            name = rng.choice(XATTRS)
            other = "user.overlay." if prefix.startswith("trusted") else "trusted.overlay."
            setx(li, rel, rng.choice([prefix + "overlay.", other]) + name,
                 _value(rng, name, None))
