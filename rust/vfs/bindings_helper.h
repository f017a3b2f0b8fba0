/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel headers that rust/vfs/bindings_generated.rs is made from. */
#include <linux/backing-file.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/exportfs.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_stack.h>
#include <linux/fileattr.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/posix_acl.h>
#include <linux/capability.h>
#include <linux/namei.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/uio.h>
#include <linux/xattr.h>
#include <linux/workqueue.h>
#include <uapi/linux/magic.h>

#include "helpers.h"

/* Constants bindgen cannot see through macros. */
const int ROVL_FILESYSTEM_MAX_STACK_DEPTH = FILESYSTEM_MAX_STACK_DEPTH;
const unsigned int ROVL_LOOKUP_FOLLOW = LOOKUP_FOLLOW;
const unsigned int ROVL_LOOKUP_DIRECTORY = LOOKUP_DIRECTORY;
const unsigned int ROVL_NAME_MAX = NAME_MAX;
const unsigned int ROVL_DCACHE_DISCONNECTED = DCACHE_DISCONNECTED;
const unsigned int ROVL_LOOKUP_RCU = LOOKUP_RCU;
const unsigned int ROVL_LOOKUP_BENEATH_STRICT = LOOKUP_BENEATH | LOOKUP_NO_SYMLINKS | LOOKUP_NO_XDEV;
const unsigned int ROVL_SB_RDONLY = SB_RDONLY;
const unsigned int ROVL_SB_POSIXACL = SB_POSIXACL;
const unsigned int ROVL_DCACHE_OP_REVALIDATE = DCACHE_OP_REVALIDATE;
const unsigned int ROVL_DCACHE_OP_WEAK_REVALIDATE = DCACHE_OP_WEAK_REVALIDATE;
const unsigned int ROVL_DCACHE_REVAL = DCACHE_OP_REVALIDATE | DCACHE_OP_WEAK_REVALIDATE;
const unsigned int ROVL_DCACHE_MANAGED = DCACHE_NEED_AUTOMOUNT | DCACHE_MANAGE_TRANSIT;
const unsigned int ROVL_DCACHE_CUSTOM_NAMES = DCACHE_OP_HASH | DCACHE_OP_COMPARE;
const unsigned int ROVL_DCACHE_ENTRY_TYPE = DCACHE_ENTRY_TYPE;
const unsigned int ROVL_DCACHE_DIRECTORY_TYPE = DCACHE_DIRECTORY_TYPE;
const unsigned int ROVL_DCACHE_REGULAR_TYPE = DCACHE_REGULAR_TYPE;
const unsigned int ROVL_DCACHE_SPECIAL_TYPE = DCACHE_SPECIAL_TYPE;
const unsigned int ROVL_DCACHE_SYMLINK_TYPE = DCACHE_SYMLINK_TYPE;
const unsigned short ROVL_S_IFMT = S_IFMT;
const unsigned short ROVL_S_IFDIR = S_IFDIR;
const unsigned short ROVL_S_IFREG = S_IFREG;
const unsigned short ROVL_S_IFLNK = S_IFLNK;
const unsigned short ROVL_S_IFCHR = S_IFCHR;
const unsigned short ROVL_S_IFBLK = S_IFBLK;
const unsigned short ROVL_S_IFIFO = S_IFIFO;
const unsigned short ROVL_S_IFSOCK = S_IFSOCK;
const int ROVL_MAY_EXEC = MAY_EXEC;
const int ROVL_MAY_WRITE = MAY_WRITE;
const int ROVL_MAY_READ = MAY_READ;
const int ROVL_MAY_APPEND = MAY_APPEND;
const int ROVL_MAY_NOT_BLOCK = MAY_NOT_BLOCK;
const int ROVL_MAY_OPEN = MAY_OPEN;
const unsigned int ROVL_STATX_INO = STATX_INO;
const unsigned int ROVL_STATX_BLOCKS = STATX_BLOCKS;
const unsigned int ROVL_STATX_NLINK = STATX_NLINK;
const unsigned int ROVL_O_RDONLY = O_RDONLY;
const unsigned int ROVL_O_LARGEFILE = O_LARGEFILE;
const unsigned int ROVL_O_NOATIME = O_NOATIME;
const unsigned int ROVL_O_APPEND = O_APPEND;
const unsigned int ROVL_O_ACCMODE = O_ACCMODE;
const int ROVL_CAP_SYS_ADMIN = CAP_SYS_ADMIN;
const int ROVL_CAP_DAC_READ_SEARCH = CAP_DAC_READ_SEARCH;
const int ROVL_ENAMETOOLONG = ENAMETOOLONG;
const int ROVL_EOPNOTSUPP = EOPNOTSUPP;
const int ROVL_ESTALE = ESTALE;
const int ROVL_EREMOTE = EREMOTE;
const int ROVL_ENODATA = ENODATA;
const int ROVL_ECHILD = ECHILD;
const int ROVL_ELOOP = ELOOP;
const unsigned int ROVL_RENAME_WHITEOUT = RENAME_WHITEOUT;
const unsigned int ROVL_DCACHE_OP_REAL = DCACHE_OP_REAL;
const unsigned int ROVL_DT_UNKNOWN = DT_UNKNOWN;
const unsigned int ROVL_S_SYNC = S_SYNC;
const unsigned int ROVL_S_NOATIME = S_NOATIME;
const unsigned int ROVL_S_APPEND = S_APPEND;
const unsigned int ROVL_S_IMMUTABLE = S_IMMUTABLE;
const unsigned int ROVL_S_CASEFOLD = S_CASEFOLD;
/* Writable overlays. */
const unsigned int ROVL_O_WRONLY = O_WRONLY;
const unsigned int ROVL_O_RDWR = O_RDWR;
const unsigned int ROVL_O_TRUNC = O_TRUNC;
const unsigned int ROVL_O_CREAT = O_CREAT;
const unsigned int ROVL_RENAME_EXCHANGE = RENAME_EXCHANGE;
const unsigned int ROVL_RENAME_NOREPLACE = RENAME_NOREPLACE;
const unsigned int ROVL_ATTR_SIZE = ATTR_SIZE;
const unsigned int ROVL_ATTR_MODE = ATTR_MODE;
const unsigned int ROVL_ATTR_KILL_SUID_SGID = ATTR_KILL_SUID | ATTR_KILL_SGID;
const unsigned int ROVL_ATTR_FILE_OPEN = ATTR_FILE | ATTR_OPEN;
const unsigned int ROVL_WHITEOUT_DEV = WHITEOUT_DEV;
const int ROVL_EXDEV = EXDEV;
const int ROVL_ENOTEMPTY = ENOTEMPTY;
const int ROVL_EMLINK = EMLINK;
const int ROVL_EINTR = EINTR;
const int ROVL_EOVERFLOW = EOVERFLOW;
const int ROVL_ENXIO = ENXIO;
const int ROVL_SEEK_DATA = SEEK_DATA;
const unsigned int ROVL_STATX_BASIC_STATS = STATX_BASIC_STATS;
const unsigned int ROVL_STATX_TIMES = STATX_ATIME | STATX_MTIME;
const int ROVL_ACL_TYPE_ACCESS = ACL_TYPE_ACCESS;
const int ROVL_ACL_TYPE_DEFAULT = ACL_TYPE_DEFAULT;
const unsigned int ROVL_O_EXCL = O_EXCL;
const unsigned int ROVL_O_NOCTTY = O_NOCTTY;
const unsigned short ROVL_S_ISGID = S_ISGID;
const unsigned int ROVL_REMAP_FILE_DEDUP = REMAP_FILE_DEDUP;
const unsigned int ROVL_REMAP_FILE_ADVISORY = REMAP_FILE_ADVISORY;
const unsigned int ROVL_IOCB_NOWAIT = IOCB_NOWAIT;
const int ROVL_ECANCELED = ECANCELED;
const unsigned int ROVL_O_SETFL_PASSED = O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT;
