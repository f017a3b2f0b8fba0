/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel headers that rust/vfs/bindings_generated.rs is made from. */
#include <linux/backing-file.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/exportfs.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_stack.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/uio.h>
#include <linux/xattr.h>
#include <uapi/linux/magic.h>

#include "helpers.h"

/* Constants bindgen cannot see through macros. */
const unsigned long ROVL_OVERLAYFS_SUPER_MAGIC = OVERLAYFS_SUPER_MAGIC;
const int ROVL_FILESYSTEM_MAX_STACK_DEPTH = FILESYSTEM_MAX_STACK_DEPTH;
const unsigned int ROVL_LOOKUP_FOLLOW = LOOKUP_FOLLOW;
const unsigned int ROVL_LOOKUP_DIRECTORY = LOOKUP_DIRECTORY;
const unsigned int ROVL_SB_RDONLY = SB_RDONLY;
const unsigned int ROVL_SB_POSIXACL = SB_POSIXACL;
const int ROVL_O_LARGEFILE = O_LARGEFILE;
const int ROVL_O_NOATIME = O_NOATIME;
const int ROVL_O_RDONLY = O_RDONLY;
const int ROVL_O_DIRECTORY = O_DIRECTORY;
const unsigned short ROVL_S_IFMT = S_IFMT;
const unsigned short ROVL_S_IFDIR = S_IFDIR;
const unsigned short ROVL_S_IFREG = S_IFREG;
const unsigned short ROVL_S_IFLNK = S_IFLNK;
const int ROVL_FS_USERNS_MOUNT = FS_USERNS_MOUNT;
const long long ROVL_MAX_LFS_FILESIZE = MAX_LFS_FILESIZE;
const int ROVL_ENAMETOOLONG = ENAMETOOLONG;
const int ROVL_EOPNOTSUPP = EOPNOTSUPP;
