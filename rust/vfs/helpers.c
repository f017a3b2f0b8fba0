// SPDX-License-Identifier: GPL-2.0
/*
 * One-line C wrappers for static inline functions and macros, called from
 * the Rust VFS binding layer, and the module parameter declarations.
 * Keep this file free of logic: each helper is a single call.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_stack.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/slab.h>

#include "helpers.h"

struct dentry *rovl_h_dget(struct dentry *dentry) { return dget(dentry); }
struct inode *rovl_h_d_inode(const struct dentry *dentry) { return d_inode(dentry); }
struct inode *rovl_h_file_inode(const struct file *file) { return file_inode(file); }
struct dentry *rovl_h_file_dentry(const struct file *file) { return file->f_path.dentry; }

void rovl_h_set_fop(struct inode *inode, const struct file_operations *fop)
{
	inode->i_fop = fop;
}

struct mnt_idmap *rovl_h_mnt_idmap(const struct vfsmount *mnt) { return mnt_idmap(mnt); }

const struct cred *rovl_h_override_creds(const struct cred *cred)
{
	return override_creds(cred);
}

void rovl_h_revert_creds(const struct cred *old) { revert_creds(old); }
void rovl_h_put_cred(const struct cred *cred) { put_cred(cred); }

struct dentry *rovl_h_lookup_positive(struct mnt_idmap *idmap,
				      struct dentry *base,
				      const char *name, unsigned int len)
{
	return lookup_one_positive_unlocked(idmap, &QSTR_LEN(name, len), base);
}

bool rovl_h_inode_is_new(struct inode *inode)
{
	return inode_state_read_once(inode) & I_NEW;
}

const unsigned char *rovl_h_dentry_name(const struct dentry *dentry,
					unsigned int *len)
{
	*len = dentry->d_name.len;
	return dentry->d_name.name;
}

loff_t rovl_h_i_size_read(const struct inode *inode) { return i_size_read(inode); }

struct kmem_cache *rovl_h_inode_cache_create(const char *name,
					     unsigned int size,
					     void (*ctor)(void *))
{
	return kmem_cache_create(name, size, 0,
				 SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT, ctor);
}

struct inode *rovl_h_alloc_inode_sb(struct super_block *sb,
				    struct kmem_cache *cache)
{
	return alloc_inode_sb(sb, cache, GFP_KERNEL);
}

void rovl_h_fc_error(struct fs_context *fc, const char *prefix,
		     const char *msg, int msglen, const char *arg)
{
	errorfc(fc, "%s%s%.*s%s%s", prefix ? prefix : "", prefix ? ": " : "",
		msglen, msg, arg ? ": " : "", arg ? arg : "");
}

int rovl_h_inode_permission_open(struct mnt_idmap *idmap,
				 struct inode *inode, int flags)
{
	return inode_permission(idmap, inode, MAY_OPEN | ACC_MODE(flags));
}

void rovl_h_mnt_make_lower(struct vfsmount *mnt)
{
	mnt->mnt_flags |= MNT_READONLY | MNT_NOATIME;
}

void rovl_h_init_sync_kiocb(struct kiocb *kiocb, struct file *file)
{
	init_sync_kiocb(kiocb, file);
}

bool rovl_h_capable_sys_admin(bool noaudit)
{
	return noaudit ? ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN) : capable(CAP_SYS_ADMIN);
}

void rovl_h_copy_attr_times(struct inode *dest, const struct inode *src)
{
	fsstack_copy_attr_times(dest, src);
}

/* Module parameters: the same names, types and meaning as overlayfs's. */
bool rovl_param_redirect_dir = IS_ENABLED(CONFIG_ROVL_FS_REDIRECT_DIR);
module_param_named(redirect_dir, rovl_param_redirect_dir, bool, 0644);
MODULE_PARM_DESC(redirect_dir, "Default to on or off for the redirect_dir feature");

bool rovl_param_redirect_always_follow = true;
module_param_named(redirect_always_follow, rovl_param_redirect_always_follow, bool, 0644);
MODULE_PARM_DESC(redirect_always_follow,
		 "Follow redirects even if redirect_dir feature is turned off");

bool rovl_param_xino_auto = IS_ENABLED(CONFIG_ROVL_FS_XINO_AUTO);
module_param_named(xino_auto, rovl_param_xino_auto, bool, 0644);
MODULE_PARM_DESC(xino_auto, "Auto enable xino feature");

bool rovl_param_index = IS_ENABLED(CONFIG_ROVL_FS_INDEX);
module_param_named(index, rovl_param_index, bool, 0644);
MODULE_PARM_DESC(index, "Default to on or off for the inodes index feature");

bool rovl_param_nfs_export = IS_ENABLED(CONFIG_ROVL_FS_NFS_EXPORT);
module_param_named(nfs_export, rovl_param_nfs_export, bool, 0644);
MODULE_PARM_DESC(nfs_export, "Default to on or off for the NFS export feature");

bool rovl_param_metacopy = IS_ENABLED(CONFIG_ROVL_FS_METACOPY);
module_param_named(metacopy, rovl_param_metacopy, bool, 0644);
MODULE_PARM_DESC(metacopy, "Default to on or off for the metadata only copy up feature");

unsigned short rovl_param_redirect_max = 256;
module_param_named(redirect_max, rovl_param_redirect_max, ushort, 0644);
MODULE_PARM_DESC(redirect_max, "Maximum length of absolute redirect xattr value");
