# SPDX-License-Identifier: GPL-2.0
# File handles of an overlay mount, for the NFS export selftests (034, 035;
# 036 imports enc, opn and err): taken with name_to_handle_at(2), opened
# with open_by_handle_at(2).
#
# handles.py MNT save FILE NAME...: handles of MNT/NAME, added to FILE
# handles.py MNT open FILE [NAME...]: open each saved handle (all if none
#   named) and show the object: a file's contents, a directory's path
#   (d_path: how it was reconnected) and entries; or the errno name
# handles.py MNT open-mode FILE [NAME...]: the same, a file with its mode
# handles.py MNT same FILE NAME...: whether the current handle of MNT/NAME
#   is the saved one
# handles.py MNT write FILE NAME TEXT: append TEXT through the handle
# handles.py MNT link FILE NAME NEW: link the object of the handle as
#   MNT/NEW (linkat(2) with AT_EMPTY_PATH)
# handles.py MNT fid FILE NAME...: whether MNT/NAME has a decodable handle
#   and a non-decodable one (AT_HANDLE_FID)
import ctypes, errno, json, os, stat, sys

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_EMPTY_PATH, AT_HANDLE_FID = -100, 0x1000, 0x200


class FH(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_uint), ("type", ctypes.c_int), ("f", ctypes.c_ubyte * 128)]


def enc(path, flags=0):
    fh = FH()
    fh.bytes = 128
    mnt = ctypes.c_int()
    if libc.name_to_handle_at(AT_FDCWD, os.fsencode(path), ctypes.byref(fh), ctypes.byref(mnt), flags) != 0:
        raise OSError(ctypes.get_errno(), "name_to_handle_at")
    return [fh.type, bytes(fh.f[:fh.bytes]).hex()]


def opn(mfd, h, flags):
    fh = FH()
    fh.type = h[0]
    b = bytes.fromhex(h[1])
    fh.bytes = len(b)
    ctypes.memmove(fh.f, b, len(b))
    fd = libc.open_by_handle_at(mfd, ctypes.byref(fh), flags)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "open_by_handle_at")
    return fd


def err(e):
    return errno.errorcode.get(e.errno, "E?")


def show(mnt, mfd, n, h, mode):
    try:
        fd = opn(mfd, h, os.O_RDONLY)
    except OSError as e:
        print(n + ":", err(e))
        return
    try:
        proc = "/proc/self/fd/%d" % fd
        if os.path.isdir(proc):
            print(n + ": dir", os.readlink(proc).replace(mnt, "MNT"), sorted(os.listdir(proc)))
        elif mode:
            print(n + ":", oct(stat.S_IMODE(os.fstat(fd).st_mode)), repr(os.read(fd, 100).decode()))
        else:
            print(n + ": file", repr(os.read(fd, 100).decode()))
    finally:
        os.close(fd)


def main():
    mnt, cmd, file = sys.argv[1:4]
    names = sys.argv[4:]
    if cmd == "save":
        saved = json.load(open(file)) if os.path.exists(file) else {}
        for n in names:
            saved[n] = enc(os.path.join(mnt, n))
        json.dump(saved, open(file, "w"))
        return
    if cmd == "fid":
        for n in names:
            for flags, what in ((0, "handle"), (AT_HANDLE_FID, "fid")):
                try:
                    enc(os.path.join(mnt, n), flags)
                    print(n, what + ": OK")
                except OSError as e:
                    print(n, what + ":", err(e))
        return
    saved = json.load(open(file))
    mfd = os.open(mnt, os.O_RDONLY | os.O_DIRECTORY)
    if cmd == "same":
        for n in names:
            try:
                print(n, "same handle" if enc(os.path.join(mnt, n)) == saved[n] else "other handle")
            except OSError as e:
                print(n, err(e))
    elif cmd in ("open", "open-mode"):
        for n in names or sorted(saved):
            show(mnt, mfd, n, saved[n], cmd == "open-mode")
    elif cmd == "write":
        fd = opn(mfd, saved[names[0]], os.O_WRONLY | os.O_APPEND)
        os.write(fd, names[1].encode())
        os.close(fd)
    elif cmd == "link":
        fd = opn(mfd, saved[names[0]], os.O_PATH)
        if libc.linkat(fd, b"", AT_FDCWD, os.fsencode(os.path.join(mnt, names[1])), AT_EMPTY_PATH) != 0:
            print("linkat:", errno.errorcode.get(ctypes.get_errno(), "E?"))
        os.close(fd)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
