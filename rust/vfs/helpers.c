// SPDX-License-Identifier: GPL-2.0
/*
 * C wrappers for static inline functions and macros, called from the Rust
 * VFS binding layer.  Keep this file free of file system logic.
 */
#include <linux/backing-file.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/exportfs.h>
#include <linux/printk.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_stack.h>
#include <linux/fileattr.h>
#include <linux/filelock.h>
#include <linux/fsverity.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/splice.h>
#include <linux/uio.h>
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

/*
 * For a stacking file system: a regular file's mapping has no pages of its own
 * (I/O goes to the real file), but do_dentry_open() allows O_DIRECT only
 * when the mapping has a direct_IO method.
 */
static const struct address_space_operations rovl_reg_aops = {
	.direct_IO = noop_direct_IO,
};

void rovl_h_set_reg_aops(struct inode *inode) { inode->i_mapping->a_ops = &rovl_reg_aops; }
bool rovl_h_is_idmapped_mnt(const struct vfsmount *mnt) { return is_idmapped_mnt(mnt); }

void rovl_h_mnt_set_readonly_noatime(struct vfsmount *mnt)
{
	mnt->mnt_flags |= MNT_READONLY | MNT_NOATIME;
}

const struct cred *rovl_h_override_creds(const struct cred *cred) { return override_creds(cred); }
void rovl_h_revert_creds(const struct cred *old) { revert_creds(old); }

struct dentry *rovl_h_lookup_positive(struct mnt_idmap *idmap,
				      struct dentry *base,
				      const char *name, unsigned int len,
				      bool drop_negative)
{
	/* lookup_one_positive_unlocked; with drop_negative, an unused
	 * negative dentry is also dropped from the dcache (for a caller that
	 * caches the result itself). */
	struct dentry *ret = lookup_one_unlocked(idmap, &QSTR_LEN(name, len), base);

	if (!IS_ERR(ret) && d_flags_negative(smp_load_acquire(&ret->d_flags))) {
		if (drop_negative && ret->d_lockref.count == 1) {
			spin_lock(&ret->d_lock);
			/* Recheck under the lock. */
			if (d_is_negative(ret) && ret->d_lockref.count == 1)
				__d_drop(ret);
			spin_unlock(&ret->d_lock);
		}
		dput(ret);
		ret = ERR_PTR(-ENOENT);
	}
	return ret;
}

struct dentry *rovl_h_lookup_noperm_positive(struct dentry *base, const char *name, unsigned int len)
{
	return lookup_noperm_positive_unlocked(&QSTR_LEN(name, len), base);
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

void rovl_h_cond_resched(void) { cond_resched(); }

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

u32 rovl_h_mnt_wb_err_sample(struct vfsmount *mnt)
{
	return errseq_sample(&mnt->mnt_sb->s_wb_err);
}

int rovl_h_mnt_wb_err_check(struct vfsmount *mnt, u32 since)
{
	return errseq_check(&mnt->mnt_sb->s_wb_err, since);
}

/* Times: touch_atime of a path, and times copied between inodes. */
void rovl_h_touch_atime(struct vfsmount *mnt, struct dentry *dentry)
{
	struct path path = { .mnt = mnt, .dentry = dentry };

	touch_atime(&path);
}
void rovl_h_file_touch_atime(struct file *file) { touch_atime(&file->f_path); }
void rovl_h_inode_atime_from(struct inode *inode, const struct inode *real)
{
	inode_set_atime_to_ts(inode, inode_get_atime(real));
}
void rovl_h_inode_cmtime_from(struct inode *inode, const struct inode *real)
{
	struct timespec64 mtime = inode_get_mtime(inode), rmtime = inode_get_mtime(real);
	struct timespec64 ctime = inode_get_ctime(inode), rctime = inode_get_ctime(real);

	/* Only when they differ: called after every read. */
	if (!timespec64_equal(&mtime, &rmtime) || !timespec64_equal(&ctime, &rctime)) {
		inode_set_mtime_to_ts(inode, rmtime);
		inode_set_ctime_to_ts(inode, rctime);
	}
}

/*
 * F_SETFL's flags (those in mask) of another file applied to this one, with
 * the checks of setfl() (fs/fcntl.c).
 */
int rovl_h_file_change_flags(struct file *file, unsigned int flags, unsigned int mask)
{
	struct inode *inode = file_inode(file);
	int err;

	flags &= mask;
	if (((flags ^ file->f_flags) & O_APPEND) && IS_APPEND(inode))
		return -EPERM;
	if ((flags & O_DIRECT) && !(file->f_mode & FMODE_CAN_ODIRECT))
		return -EINVAL;
	if (file->f_op->check_flags) {
		err = file->f_op->check_flags(flags);
		if (err)
			return err;
	}
	spin_lock(&file->f_lock);
	file->f_flags = (file->f_flags & ~mask) | flags;
	file->f_iocb_flags = iocb_flags(file);
	spin_unlock(&file->f_lock);
	return 0;
}

int rovl_h_rw_verify_area(bool write, struct file *file, loff_t pos, loff_t len)
{
	return rw_verify_area(write ? WRITE : READ, file, &pos, (size_t)len);
}

void rovl_h_generic_fill_statx_attr(struct inode *inode, struct kstat *stat)
{
	generic_fill_statx_attr(inode, stat);
}

/* --- Writable overlays: inode operations of ours, copy-up primitives. --- */

void rovl_h_mutex_init(struct mutex *lock) { mutex_init(lock); }
int rovl_h_mutex_lock_killable(struct mutex *lock) { return mutex_lock_killable(lock); }
void rovl_h_mutex_unlock(struct mutex *lock) { mutex_unlock(lock); }

/* ovl_copyattr: owner, mode, times and size from the real inode. */
void rovl_h_copyattr(struct inode *inode, struct vfsmount *mnt, struct inode *realinode)
{
	struct mnt_idmap *real_idmap = mnt_idmap(mnt);
	vfsuid_t vfsuid;
	vfsgid_t vfsgid;

	spin_lock(&inode->i_lock);
	vfsuid = i_uid_into_vfsuid(real_idmap, realinode);
	vfsgid = i_gid_into_vfsgid(real_idmap, realinode);
	inode->i_uid = vfsuid_into_kuid(vfsuid);
	inode->i_gid = vfsgid_into_kgid(vfsgid);
	inode->i_mode = realinode->i_mode;
	inode_set_atime_to_ts(inode, inode_get_atime(realinode));
	inode_set_mtime_to_ts(inode, inode_get_mtime(realinode));
	inode_set_ctime_to_ts(inode, inode_get_ctime(realinode));
	i_size_write(inode, i_size_read(realinode));
	spin_unlock(&inode->i_lock);
}

unsigned short rovl_h_i_mode(const struct inode *inode) { return READ_ONCE(inode->i_mode); }
void rovl_h_inc_nlink(struct inode *inode) { inc_nlink(inode); }
void rovl_h_clear_nlink(struct inode *inode) { clear_nlink(inode); }
void rovl_h_d_instantiate(struct dentry *dentry, struct inode *inode) { d_instantiate(dentry, inode); }
void rovl_h_d_drop(struct dentry *dentry) { d_drop(dentry); }
bool rovl_h_d_unhashed(const struct dentry *dentry) { return d_unhashed(dentry); }
bool rovl_h_is_root(const struct dentry *dentry) { return IS_ROOT(dentry); }
bool rovl_h_d_is_dir(const struct dentry *dentry) { return d_is_dir(dentry); }

/* A copy of the dentry's current name (a snapshot: stable while copied). */
unsigned int rovl_h_dentry_name_copy(struct dentry *dentry, unsigned char *buf, unsigned int size)
{
	struct name_snapshot snap;
	unsigned int len;

	take_dentry_name_snapshot(&snap, dentry);
	len = snap.name.len;
	if (len <= size)
		memcpy(buf, snap.name.name, len);
	release_dentry_name_snapshot(&snap);
	return len;
}

/* inode_init_owner() without an inode: the owner and mode of a new inode
 * made by the current task in dir (mode already stripped by the VFS). */
void rovl_h_init_owner(struct inode *dir, unsigned short *mode, kuid_t *uid, kgid_t *gid)
{
	*uid = current_fsuid();
	if (dir && dir->i_mode & S_ISGID) {
		*gid = dir->i_gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	} else {
		*gid = current_fsgid();
	}
}

/* A copy of the current credentials with fsuid/fsgid replaced. */
const struct cred *rovl_h_creds_as(kuid_t uid, kgid_t gid)
{
	struct cred *cred = prepare_creds();

	if (!cred)
		return ERR_PTR(-ENOMEM);
	cred->fsuid = uid;
	cred->fsgid = gid;
	return cred;
}
void rovl_h_put_cred(const struct cred *cred) { put_cred(cred); }

/* Attributes of the iattr of ->setattr. */
int rovl_h_setattr_prepare(struct dentry *dentry, struct iattr *attr)
{
	return setattr_prepare(&nop_mnt_idmap, dentry, attr);
}
unsigned int rovl_h_iattr_valid(const struct iattr *attr) { return attr->ia_valid; }
void rovl_h_iattr_clear(struct iattr *attr, unsigned int bits) { attr->ia_valid &= ~bits; }
int rovl_h_get_write_access(struct inode *inode) { return get_write_access(inode); }
void rovl_h_put_write_access(struct inode *inode) { put_write_access(inode); }

/* notify_change() with the inode locked. */
int rovl_h_notify_change(struct mnt_idmap *idmap, struct dentry *dentry, struct iattr *attr)
{
	int err;

	inode_lock(d_inode(dentry));
	err = notify_change(idmap, dentry, attr, NULL);
	inode_unlock(d_inode(dentry));
	return err;
}

/* ovl_set_size, ovl_set_attr (mode, owner, times) from a kstat. */
int rovl_h_set_stat_attrs(struct mnt_idmap *idmap, struct dentry *dentry,
			  const struct kstat *stat, bool size, bool attrs)
{
	struct inode *inode = d_inode(dentry);
	int err = 0;

	inode_lock(inode);
	if (size) {
		struct iattr attr = { .ia_valid = ATTR_SIZE, .ia_size = stat->size };

		err = notify_change(idmap, dentry, &attr, NULL);
	}
	if (!err && attrs && !S_ISLNK(stat->mode)) {
		struct iattr attr = { .ia_valid = ATTR_MODE, .ia_mode = stat->mode };

		err = notify_change(idmap, dentry, &attr, NULL);
	}
	if (!err && attrs) {
		struct iattr attr = {
			.ia_valid = ATTR_UID | ATTR_GID,
			.ia_vfsuid = VFSUIDT_INIT(stat->uid),
			.ia_vfsgid = VFSGIDT_INIT(stat->gid),
		};

		err = notify_change(idmap, dentry, &attr, NULL);
	}
	if (!err && attrs) {
		struct iattr attr = {
			.ia_valid = ATTR_ATIME | ATTR_MTIME | ATTR_ATIME_SET | ATTR_MTIME_SET | ATTR_CTIME,
			.ia_atime = stat->atime,
			.ia_mtime = stat->mtime,
		};

		/* best effort, as ovl_set_timestamps */
		notify_change(idmap, dentry, &attr, NULL);
	}
	inode_unlock(inode);
	return err;
}

/* ovl_set_timestamps of a directory, best effort. */
void rovl_h_set_times(struct mnt_idmap *idmap, struct dentry *dentry, const struct kstat *stat)
{
	struct iattr attr = {
		.ia_valid = ATTR_ATIME | ATTR_MTIME | ATTR_ATIME_SET | ATTR_MTIME_SET | ATTR_CTIME,
		.ia_atime = stat->atime,
		.ia_mtime = stat->mtime,
	};

	inode_lock(d_inode(dentry));
	notify_change(idmap, dentry, &attr, NULL);
	inode_unlock(d_inode(dentry));
}

bool rovl_h_kuid_mapped(const struct kstat *stat)
{
	return kuid_has_mapping(current_user_ns(), stat->uid) &&
	       kgid_has_mapping(current_user_ns(), stat->gid);
}
unsigned short rovl_h_stat_mode(const struct kstat *stat) { return stat->mode; }
u32 rovl_h_stat_rdev(const struct kstat *stat) { return stat->rdev; }

int rovl_h_mknod(struct mnt_idmap *idmap, struct dentry *parent, struct dentry *child,
		 unsigned short mode, u32 rdev)
{
	return vfs_mknod(idmap, d_inode(parent), child, mode, rdev, NULL);
}

int rovl_h_symlink(struct mnt_idmap *idmap, struct dentry *parent, struct dentry *child,
		   const char *target)
{
	return vfs_symlink(idmap, d_inode(parent), child, target, NULL);
}

int rovl_h_link(struct mnt_idmap *idmap, struct dentry *old, struct dentry *parent,
		struct dentry *child)
{
	return vfs_link(old, idmap, d_inode(parent), child, NULL);
}

/* Renames: a guard holds the renamedata between start_renaming* and
 * end_renaming. */
int rovl_h_start_renaming(struct renamedata *rd, struct mnt_idmap *idmap,
			  struct dentry *old_parent, const char *oldname, unsigned int oldlen,
			  struct dentry *new_parent, const char *newname, unsigned int newlen,
			  unsigned int flags)
{
	memset(rd, 0, sizeof(*rd));
	rd->mnt_idmap = idmap;
	rd->old_parent = old_parent;
	rd->new_parent = new_parent;
	rd->flags = flags;
	return start_renaming(rd, 0, &QSTR_LEN(oldname, oldlen), &QSTR_LEN(newname, newlen));
}

int rovl_h_start_renaming_dentry(struct renamedata *rd, struct mnt_idmap *idmap,
				 struct dentry *old_parent, struct dentry *old,
				 struct dentry *new_parent, const char *newname,
				 unsigned int newlen, unsigned int flags)
{
	memset(rd, 0, sizeof(*rd));
	rd->mnt_idmap = idmap;
	rd->old_parent = old_parent;
	rd->new_parent = new_parent;
	rd->flags = flags;
	return start_renaming_dentry(rd, 0, old, &QSTR_LEN(newname, newlen));
}

int rovl_h_start_renaming_two(struct renamedata *rd, struct mnt_idmap *idmap,
			      struct dentry *old_parent, struct dentry *old,
			      struct dentry *new_parent, struct dentry *new, unsigned int flags)
{
	memset(rd, 0, sizeof(*rd));
	rd->mnt_idmap = idmap;
	rd->old_parent = old_parent;
	rd->new_parent = new_parent;
	rd->flags = flags;
	return start_renaming_two_dentries(rd, old, new);
}

struct dentry *rovl_h_rd_old(const struct renamedata *rd) { return rd->old_dentry; }
struct dentry *rovl_h_rd_new(const struct renamedata *rd) { return rd->new_dentry; }
int rovl_h_rd_rename(struct renamedata *rd, unsigned int flags)
{
	rd->flags = flags;
	return vfs_rename(rd);
}
void rovl_h_end_renaming(struct renamedata *rd) { end_renaming(rd); }

/* Data copy primitives. */
loff_t rovl_h_clone_file_range(struct file *in, struct file *out, loff_t len)
{
	return vfs_clone_file_range(in, 0, out, 0, len, 0);
}
bool rovl_h_file_can_lseek(const struct file *file) { return file->f_mode & FMODE_LSEEK; }
bool rovl_h_fatal_signal_pending(void) { return signal_pending_state(TASK_KILLABLE, current); }
ssize_t rovl_h_splice_direct(struct file *in, loff_t *ppos, struct file *out, loff_t *opos,
			     size_t len)
{
	return do_splice_direct(in, ppos, out, opos, len, SPLICE_F_MOVE);
}
int rovl_h_fsync(struct file *file, loff_t start, loff_t end, bool datasync)
{
	return vfs_fsync_range(file, start, end, datasync);
}
/* Leases as on a local file (a function of ours: inline without file locking). */
int rovl_h_generic_setlease(struct file *file, int arg, struct file_lease **lease, void **priv)
{
	return generic_setlease(file, arg, lease, priv);
}

int rovl_h_flush(struct file *file, fl_owner_t id)
{
	return file->f_op->flush ? file->f_op->flush(file, id) : 0;
}

int rovl_h_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo, u64 start, u64 len)
{
	if (!inode->i_op->fiemap)
		return -EOPNOTSUPP;
	return inode->i_op->fiemap(inode, fieinfo, start, len);
}

int rovl_h_fallocate(struct file *file, int mode, loff_t offset, loff_t len)
{
	return vfs_fallocate(file, mode, offset, len);
}

int rovl_h_set_acl_clone(struct mnt_idmap *idmap, struct dentry *dentry, const char *name,
			 struct posix_acl *acl)
{
	struct posix_acl *clone = posix_acl_clone(acl, GFP_KERNEL);
	int err;

	if (!clone)
		return -ENOMEM;
	err = vfs_set_acl(idmap, dentry, name, clone);
	posix_acl_release(clone);
	return err;
}

/* The iocb flags a write passes on (IOCB_DSYNC|IOCB_SYNC dropped when
 * !sync). */
int rovl_h_iocb_flags(const struct kiocb *iocb, bool sync)
{
	int ifl = iocb->ki_flags;

	if (!sync)
		ifl &= ~(IOCB_DSYNC | IOCB_SYNC);
	return ifl;
}
size_t rovl_h_iov_iter_count(const struct iov_iter *iter) { return iov_iter_count(iter); }
void rovl_h_inode_lock(struct inode *inode) { inode_lock(inode); }
void rovl_h_inode_unlock(struct inode *inode) { inode_unlock(inode); }

/* The body of a symlink (vfs_get_link), copied with its NUL into buf. */
int rovl_h_read_link(struct dentry *dentry, char *buf, int size)
{
	DEFINE_DELAYED_CALL(done);
	const char *link = vfs_get_link(dentry, &done);
	int len;

	if (IS_ERR(link))
		return PTR_ERR(link);
	len = strlen(link);
	if (len >= size)
		len = -ENAMETOOLONG;
	else
		memcpy(buf, link, len + 1);
	do_delayed_call(&done);
	return len;
}

struct dentry *rovl_h_lookup_unlocked(struct mnt_idmap *idmap, struct dentry *base,
				      const char *name, unsigned int len)
{
	return lookup_one_unlocked(idmap, &QSTR_LEN(name, len), base);
}

/* posix_acl_create on our directory: the mode (umask applied when there is
 * no default ACL) and the ACLs a new object in it gets. */
int rovl_h_posix_acl_create(struct inode *dir, unsigned short *mode, struct posix_acl **dflt,
			    struct posix_acl **acl)
{
	umode_t m = *mode;
	int err = posix_acl_create(dir, &m, dflt, acl);

	*mode = m;
	return err;
}
unsigned int rovl_h_file_flags(const struct file *file) { return READ_ONCE(file->f_flags); }
int rovl_h_file_remove_privs(struct file *file) { return file_remove_privs(file); }

static int rovl_h_dummy_open(struct inode *inode, struct file *file) { return 0; }

/* ->tmpfile's end: the dentry of the file gets the inode (one reference
 * given), the file its private data, and the file is opened. */
int rovl_h_finish_tmpfile(struct file *file, struct inode *inode, void *private_data)
{
	struct dentry *dentry = file->f_path.dentry;

	d_mark_tmpfile(file, inode);
	d_instantiate(dentry, inode);
	file->private_data = private_data;
	return finish_open(file, dentry, rovl_h_dummy_open);
}
bool rovl_h_file_opened(const struct file *file) { return file->f_mode & FMODE_OPENED; }

struct file *rovl_h_backing_tmpfile_open(const struct file *user, int flags, struct vfsmount *mnt,
					 struct dentry *parent, unsigned short mode,
					 const struct cred *cred)
{
	struct path path = { .mnt = mnt, .dentry = parent };

	return backing_tmpfile_open(user, flags, &path, mode, cred);
}

bool rovl_h_is_posixacl(const struct inode *inode) { return IS_POSIXACL(inode); }
bool rovl_h_has_set_acl(const struct inode *inode) { return inode->i_op->set_acl != NULL; }
bool rovl_h_owner_or_capable(const struct inode *inode) { return inode_owner_or_capable(&nop_mnt_idmap, inode); }
/* The set-group-ID bit must go with a new access ACL (ovl_set_acl). */
bool rovl_h_acl_kills_sgid(const struct inode *inode)
{
	return (inode->i_mode & S_ISGID) && !in_group_p(inode->i_gid) &&
	       !capable_wrt_inode_uidgid(&nop_mnt_idmap, inode, CAP_FSETID);
}
int rovl_h_remove_acl_name(struct mnt_idmap *idmap, struct dentry *dentry, int type)
{
	return vfs_remove_acl(idmap, dentry, posix_acl_xattr_name(type));
}
int rovl_h_set_acl_type(struct mnt_idmap *idmap, struct dentry *dentry, int type, struct posix_acl *acl)
{
	return vfs_set_acl(idmap, dentry, posix_acl_xattr_name(type), acl);
}

/* syncfs(2) of a file system that writes to another: that one is synced. */
int rovl_h_sync_mnt_sb(struct vfsmount *mnt)
{
	struct super_block *sb = mnt->mnt_sb;
	int ret;

	down_read(&sb->s_umount);
	ret = sync_filesystem(sb);
	up_read(&sb->s_umount);
	return ret;
}

/* Copy, clone or dedupe between two real files (ovl_copyfile). */
loff_t rovl_h_copyfile(struct file *in, loff_t pos_in, struct file *out, loff_t pos_out,
		       loff_t len, unsigned int flags, int op)
{
	switch (op) {
	case 0:
		return vfs_copy_file_range(in, pos_in, out, pos_out, len, flags);
	case 1:
		return vfs_clone_file_range(in, pos_in, out, pos_out, len, flags);
	default:
		return vfs_dedupe_file_range_one(in, pos_in, out, pos_out, len, flags);
	}
}

/* fileattr (chattr/lsattr) of a real dentry. */
int rovl_h_fileattr_get(struct dentry *dentry, struct file_kattr *fa)
{
	int err = vfs_fileattr_get(dentry, fa);

	return err == -ENOIOCTLCMD ? -ENOTTY : err;
}
int rovl_h_fileattr_set(struct mnt_idmap *idmap, struct dentry *dentry, struct file_kattr *fa)
{
	return vfs_fileattr_set(idmap, dentry, fa);
}
/* The append-only/immutable bits of a fileattr, as S_APPEND/S_IMMUTABLE. */
unsigned int rovl_h_fa_prot(const struct file_kattr *fa)
{
	return (fa->flags & FS_APPEND_FL ? S_APPEND : 0) |
	       (fa->flags & FS_IMMUTABLE_FL ? S_IMMUTABLE : 0);
}
/* The FS_SYNC_FL/FS_NOATIME_FL flags (and FS_XFLAG_ twins) of a fileattr. */
#define ROVL_FA_SN (FS_SYNC_FL | FS_NOATIME_FL)
#define ROVL_FA_XSN (FS_XFLAG_SYNC | FS_XFLAG_NOATIME)
bool rovl_h_fa_has_sync_noatime(const struct file_kattr *fa) { return fa->flags & ROVL_FA_SN; }
void rovl_h_fa_copy_sync_noatime(struct file_kattr *to, const struct file_kattr *from)
{
	to->flags = (to->flags & ~ROVL_FA_SN) | (from->flags & ROVL_FA_SN);
	to->fsx_xflags = (to->fsx_xflags & ~ROVL_FA_XSN) | (from->fsx_xflags & ROVL_FA_XSN);
}
/* Adds (add) or masks out (!add) the protection flags in S_* form. */
void rovl_h_fa_set_prot(struct file_kattr *fa, unsigned int iflags, bool add)
{
	if (!add) {
		fa->flags &= ~(FS_APPEND_FL | FS_IMMUTABLE_FL);
		fa->fsx_xflags &= ~(FS_XFLAG_APPEND | FS_XFLAG_IMMUTABLE);
		return;
	}
	if (iflags & S_APPEND) {
		fa->flags |= FS_APPEND_FL;
		fa->fsx_xflags |= FS_XFLAG_APPEND;
	}
	if (iflags & S_IMMUTABLE) {
		fa->flags |= FS_IMMUTABLE_FL;
		fa->fsx_xflags |= FS_XFLAG_IMMUTABLE;
	}
}
unsigned int rovl_h_i_flags(const struct inode *inode) { return READ_ONCE(inode->i_flags); }
void rovl_h_inode_set_flags(struct inode *inode, unsigned int flags, unsigned int mask)
{
	inode_set_flags(inode, flags, mask);
}

/* Hashes an inode that was not hashed (new_inode) under hash/key. */
void rovl_h_insert_inode_hash(struct inode *inode, unsigned long hash)
{
	__insert_inode_hash(inode, hash);
}
bool rovl_h_inode_unhashed(struct inode *inode) { return inode_unhashed(inode); }

/* drop_nlink, unless that would take the link count of an inode with
 * another hashed alias than dentry to 0 (a link count out of sync with the
 * file systems below must not make a live name look unlinked). */
void rovl_h_drop_nlink_alias(struct inode *inode, struct dentry *dentry)
{
	struct dentry *alias;
	bool other = false;

	spin_lock(&inode->i_lock);
	for_each_alias(alias, inode) {
		if (alias != dentry && !d_unhashed(alias)) {
			other = true;
			break;
		}
	}
	spin_unlock(&inode->i_lock);
	if (inode->i_nlink > (other ? 1 : 0))
		drop_nlink(inode);
}

/* The LSM's say in a copy-up (no-ops without CONFIG_SECURITY). */
int rovl_h_security_copy_up(struct dentry *dentry, struct cred **new)
{
	return security_inode_copy_up(dentry, new);
}
int rovl_h_security_copy_up_xattr(struct dentry *src, const char *name)
{
	return security_inode_copy_up_xattr(src, name);
}

struct dentry *rovl_h_d_real(struct dentry *dentry, enum d_real_type type)
{
	return d_real(dentry, type);
}

/* A child of `base` by name, without permission checks (`lookup_noperm_unlocked`). */
struct dentry *rovl_h_lookup_noperm_unlocked(const unsigned char *name, unsigned int len, struct dentry *base)
{
	struct qstr q = QSTR_LEN((const char *)name, len);

	return lookup_noperm_unlocked(&q, base);
}

/*
 * A stacking file system takes the locks of its own inodes at several
 * depths (a mount on top of another stacking mount of the same type):
 * one lockdep class per stacking depth (s_stack_depth) for the inode lock
 * and for the file system's per-inode mutex, as in-tree stacking file
 * systems annotate them.
 */
void rovl_h_lockdep_annotate_inode(struct inode *inode, struct mutex *lock)
{
#ifdef CONFIG_LOCKDEP
	static struct lock_class_key i_mutex_key[FILESYSTEM_MAX_STACK_DEPTH];
	static struct lock_class_key i_mutex_dir_key[FILESYSTEM_MAX_STACK_DEPTH];
	static struct lock_class_key i_lock_key[FILESYSTEM_MAX_STACK_DEPTH];
	int depth = inode->i_sb->s_stack_depth - 1;

	if (depth < 0 || depth >= FILESYSTEM_MAX_STACK_DEPTH)
		depth = 0;
	if (S_ISDIR(inode->i_mode))
		lockdep_set_class(&inode->i_rwsem, &i_mutex_dir_key[depth]);
	else
		lockdep_set_class(&inode->i_rwsem, &i_mutex_key[depth]);
	lockdep_set_class(lock, &i_lock_key[depth]);
#endif
}
