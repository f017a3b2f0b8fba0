// SPDX-License-Identifier: GPL-2.0
/*
 * C wrappers for static inline functions and macros, called from the Rust
 * VFS binding layer.  Keep this file free of file system logic.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/exportfs.h>
#include <linux/printk.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_stack.h>
#include <linux/fsverity.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/slab.h>
#include <linux/uuid.h>
#include <linux/workqueue.h>
#include <linux/xattr.h>

#include "helpers.h"

struct dentry *rovl_h_dget(struct dentry *dentry) { return dget(dentry); }
struct inode *rovl_h_d_inode_rcu(const struct dentry *dentry) { return d_inode_rcu(dentry); }
bool rovl_h_sb_has_encoding(const struct super_block *sb) { return sb_has_encoding(sb); }
bool rovl_h_d_is_casefolded(const struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);

	return sb_has_encoding(dentry->d_sb) && inode && IS_CASEFOLDED(inode);
}

void rovl_h_d_set_reval(struct dentry *dentry, unsigned int flags)
{
	const unsigned int mask = DCACHE_OP_REVALIDATE | DCACHE_OP_WEAK_REVALIDATE;

	spin_lock(&dentry->d_lock);
	dentry->d_flags &= ~mask;
	dentry->d_flags |= flags & mask;
	spin_unlock(&dentry->d_lock);
}

/* ->d_revalidate of a dentry of another file system, with its parent and a
 * stable name, as the VFS calls it. */
int rovl_h_d_op_revalidate(struct dentry *d, unsigned int flags, bool rcu)
{
	struct dentry *parent;
	struct inode *dir;
	struct name_snapshot n;
	int ret;

	if (rcu) {
		parent = READ_ONCE(d->d_parent);
		dir = d_inode_rcu(parent);
		if (!dir)
			return -ECHILD;
	} else {
		parent = dget_parent(d);
		dir = d_inode(parent);
	}
	take_dentry_name_snapshot(&n, d);
	ret = d->d_op->d_revalidate(dir, &n.name, d, flags);
	release_dentry_name_snapshot(&n);
	if (!rcu)
		dput(parent);
	return ret;
}

int rovl_h_d_op_weak_revalidate(struct dentry *d, unsigned int flags)
{
	return d->d_op->d_weak_revalidate(d, flags);
}

const unsigned char *rovl_h_dentry_name(const struct dentry *dentry,
					unsigned int *len)
{
	*len = dentry->d_name.len;
	return dentry->d_name.name;
}

const unsigned char *rovl_h_snapshot_name(struct name_snapshot *snap,
					  unsigned int *len)
{
	*len = snap->name.len;
	return snap->name.name;
}

struct inode *rovl_h_file_inode(const struct file *file) { return file_inode(file); }
struct dentry *rovl_h_file_dentry(const struct file *file) { return file->f_path.dentry; }
void rovl_h_set_fop(struct inode *inode, const struct file_operations *fop) { inode->i_fop = fop; }
bool rovl_h_is_idmapped_mnt(const struct vfsmount *mnt) { return is_idmapped_mnt(mnt); }

void rovl_h_mnt_set_readonly_noatime(struct vfsmount *mnt)
{
	mnt->mnt_flags |= MNT_READONLY | MNT_NOATIME;
}

const struct cred *rovl_h_override_creds(const struct cred *cred) { return override_creds(cred); }
void rovl_h_revert_creds(const struct cred *old) { revert_creds(old); }

struct dentry *rovl_h_lookup_positive(struct mnt_idmap *idmap,
				      struct dentry *base,
				      const char *name, unsigned int len)
{
	return lookup_one_positive_unlocked(idmap, &QSTR_LEN(name, len), base);
}

struct dentry *rovl_h_lookup_one(struct dentry *base, const char *name, unsigned int len)
{
	return lookup_one(&nop_mnt_idmap, &QSTR_LEN(name, len), base);
}

bool rovl_h_inode_is_new(struct inode *inode)
{
	return inode_state_read_once(inode) & I_NEW;
}

unsigned int rovl_h_i_nlink(const struct inode *inode) { return READ_ONCE(inode->i_nlink); }

void rovl_h_inode_init_flags(struct inode *inode, bool dont_cache_acl, unsigned int keep,
			     unsigned int extra)
{
	inode->i_flags = (inode->i_flags & keep) | extra | S_NOCMTIME;
#ifdef CONFIG_FS_POSIX_ACL
	if (dont_cache_acl)
		inode->i_acl = inode->i_default_acl = ACL_DONT_CACHE;
#endif
}

int rovl_h_generic_permission(struct inode *inode, int mask)
{
	return generic_permission(&nop_mnt_idmap, inode, mask);
}

void rovl_h_posix_acl_release(struct posix_acl *acl) { posix_acl_release(acl); }

struct posix_acl *rovl_h_vfs_get_acl(struct mnt_idmap *idmap, struct dentry *dentry, int type)
{
	return vfs_get_acl(idmap, dentry, posix_acl_xattr_name(type));
}

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

void rovl_h_fc_error(struct fs_context *fc, const char *prefix, int plen,
		     const char *msg, int mlen, const char *arg, int alen)
{
	errorfc(fc, "%.*s%s%.*s%s%.*s", plen, prefix ? prefix : "",
		prefix ? ": " : "", mlen, msg, arg ? ": " : "", alen,
		arg ? arg : "");
}

void rovl_h_init_sync_kiocb(struct kiocb *kiocb, struct file *file)
{
	init_sync_kiocb(kiocb, file);
}

bool rovl_h_capable(int cap, bool noaudit)
{
	return noaudit ? ns_capable_noaudit(&init_user_ns, cap) : capable(cap);
}

bool rovl_h_printk_ratelimit(void) { return printk_ratelimit(); }
loff_t rovl_h_i_size_read(const struct inode *inode) { return i_size_read(inode); }

/* Bit 0: file handles can be decoded; bit 1: the fs has its own encode_fh. */
unsigned int rovl_h_sb_export_ops(const struct super_block *sb)
{
	const struct export_operations *op = sb->s_export_op;

	return (exportfs_can_decode_fh(op) ? 1 : 0) |
	       (op && op->encode_fh == generic_encode_ino32_fh ? 2 : 0);
}

struct workqueue_struct *rovl_h_alloc_workqueue(const char *name)
{
	return alloc_workqueue("%s", WQ_UNBOUND | WQ_MEM_RECLAIM, 0, name);
}

void rovl_h_flush_workqueue(struct workqueue_struct *wq) { flush_workqueue(wq); }

void rovl_h_init_work(struct work_struct *work, void (*fn)(struct work_struct *))
{
	INIT_WORK(work, fn);
}

bool rovl_h_queue_work(struct workqueue_struct *wq, struct work_struct *work)
{
	return queue_work(wq, work);
}

bool rovl_h_verity_needs_load(struct inode *inode)
{
	return !fsverity_active(inode) && IS_VERITY(inode);
}

int rovl_h_fsverity_get_digest(struct inode *inode, u8 *digest, u8 *alg)
{
	return fsverity_get_digest(inode, digest, alg, NULL);
}

/* --- Changing other file systems (rust/vfs/write.rs) ------------------- */

bool rovl_h_inuse_trylock(struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);
	bool locked = false;

	spin_lock(&inode->i_lock);
	if (!(inode_state_read(inode) & I_OVL_INUSE)) {
		inode_state_set(inode, I_OVL_INUSE);
		locked = true;
	}
	spin_unlock(&inode->i_lock);
	return locked;
}

void rovl_h_inuse_unlock(struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);

	spin_lock(&inode->i_lock);
	inode_state_clear(inode, I_OVL_INUSE);
	spin_unlock(&inode->i_lock);
}

bool rovl_h_is_inuse(struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);
	bool inuse;

	spin_lock(&inode->i_lock);
	inuse = inode_state_read(inode) & I_OVL_INUSE;
	spin_unlock(&inode->i_lock);
	return inuse;
}

bool rovl_h_mnt_is_readonly(struct vfsmount *mnt) { return __mnt_is_readonly(mnt); }

void rovl_h_mnt_clear_atime_flags(struct vfsmount *mnt)
{
	mnt->mnt_flags &= ~(MNT_NOATIME | MNT_NODIRATIME | MNT_RELATIME);
}

int rovl_h_mnt_want_write(struct vfsmount *mnt) { return mnt_want_write(mnt); }
void rovl_h_mnt_drop_write(struct vfsmount *mnt) { mnt_drop_write(mnt); }

struct dentry *rovl_h_start_creating(struct mnt_idmap *idmap, struct dentry *parent,
				     const char *name, unsigned int len)
{
	return start_creating(idmap, parent, &QSTR_LEN(name, len));
}

void rovl_h_end_dirop(struct dentry *child) { end_dirop(child); }

struct dentry *rovl_h_start_removing_dentry(struct dentry *parent, struct dentry *child)
{
	return start_removing_dentry(parent, child);
}

struct dentry *rovl_h_mkdir(struct mnt_idmap *idmap, struct dentry *parent,
			    struct dentry *child, umode_t mode)
{
	return vfs_mkdir(idmap, d_inode(parent), child, mode, NULL);
}

int rovl_h_create(struct mnt_idmap *idmap, struct dentry *child, umode_t mode)
{
	return vfs_create(idmap, child, mode, NULL);
}

int rovl_h_whiteout(struct mnt_idmap *idmap, struct dentry *parent, struct dentry *child)
{
	return vfs_whiteout(idmap, d_inode(parent), child);
}

int rovl_h_rmdir(struct mnt_idmap *idmap, struct dentry *parent, struct dentry *child)
{
	return vfs_rmdir(idmap, d_inode(parent), child, NULL);
}

int rovl_h_unlink(struct mnt_idmap *idmap, struct dentry *parent, struct dentry *child)
{
	return vfs_unlink(idmap, d_inode(parent), child, NULL);
}

int rovl_h_rename_in_dir(struct mnt_idmap *idmap, struct dentry *dir, struct dentry *child,
			 const char *newname, unsigned int len, unsigned int flags)
{
	struct renamedata rd = {};
	int err;

	rd.mnt_idmap = idmap;
	rd.old_parent = dir;
	rd.new_parent = dir;
	rd.flags = flags;
	err = start_renaming_dentry(&rd, 0, child, &QSTR_LEN(newname, len));
	if (err)
		return err;
	err = vfs_rename(&rd);
	end_renaming(&rd);
	return err;
}

int rovl_h_setxattr(struct mnt_idmap *idmap, struct dentry *dentry, const char *name,
		    const void *value, size_t size, int flags)
{
	return vfs_setxattr(idmap, dentry, name, value, size, flags);
}

int rovl_h_removexattr(struct mnt_idmap *idmap, struct dentry *dentry, const char *name)
{
	return vfs_removexattr(idmap, dentry, name);
}

int rovl_h_remove_acl(struct mnt_idmap *idmap, struct dentry *dentry, bool dflt)
{
	return vfs_remove_acl(idmap, dentry,
			      dflt ? XATTR_NAME_POSIX_ACL_DEFAULT : XATTR_NAME_POSIX_ACL_ACCESS);
}

int rovl_h_chmod(struct mnt_idmap *idmap, struct dentry *dentry, umode_t mode)
{
	struct iattr attr = { .ia_valid = ATTR_MODE, .ia_mode = mode };
	int err;

	inode_lock(d_inode(dentry));
	err = notify_change(idmap, dentry, &attr, NULL);
	inode_unlock(d_inode(dentry));
	return err;
}

struct file *rovl_h_tmpfile_open(struct vfsmount *mnt, struct dentry *dir, umode_t mode,
				 const struct cred *cred)
{
	struct path path = { .mnt = mnt, .dentry = dir };

	return kernel_tmpfile_open(mnt_idmap(mnt), &path, mode, O_LARGEFILE | O_WRONLY, cred);
}

/* exportfs "acceptable": any non-directory; a directory only when hashed and
 * below the root of the mount it is decoded on. */
static int rovl_h_acceptable(void *ctx, struct dentry *dentry)
{
	if (!d_is_dir(dentry))
		return 1;
	if (d_unhashed(dentry))
		return 0;
	return is_subdir(dentry, ((struct vfsmount *)ctx)->mnt_root);
}

struct dentry *rovl_h_decode_fh(struct vfsmount *mnt, const void *fid, int dwords, int type,
				bool connected)
{
	return exportfs_decode_fh(mnt, (struct fid *)fid, dwords, type,
				  connected ? rovl_h_acceptable : NULL, mnt);
}

void rovl_h_sb_uuid(const struct super_block *sb, u8 *out) { memcpy(out, sb->s_uuid.b, 16); }
void rovl_h_uuid_gen(u8 *out) { uuid_gen((uuid_t *)out); }
void rovl_h_super_set_uuid(struct super_block *sb, const u8 *uuid) { super_set_uuid(sb, uuid, 16); }
bool rovl_h_d_is_remote(const struct dentry *dentry) { return dentry->d_flags & DCACHE_OP_REVALIDATE ? true : (dentry->d_flags & DCACHE_OP_WEAK_REVALIDATE); }

int rovl_h_encode_inode_fh(struct inode *inode, u32 *fid, int *dwords)
{
	return exportfs_encode_inode_fh(inode, (struct fid *)fid, dwords, NULL, 0);
}

bool rovl_h_mnt_has_unseen_wb_err(struct vfsmount *mnt)
{
	errseq_t since = errseq_sample(&mnt->mnt_sb->s_wb_err);

	return errseq_check(&mnt->mnt_sb->s_wb_err, since) != 0;
}

void rovl_h_generic_fill_statx_attr(struct inode *inode, struct kstat *stat)
{
	generic_fill_statx_attr(inode, stat);
}
