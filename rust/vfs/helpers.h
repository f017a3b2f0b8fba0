/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C wrappers for the static inline functions and macros of the kernel
 * headers that the Rust VFS binding layer (rust/vfs) needs.  No file system
 * logic lives here: each helper is a direct call or a field access.
 */
#ifndef ROVL_HELPERS_H
#define ROVL_HELPERS_H

#include <linux/types.h>
#include <linux/uidgid_types.h>

struct cred;
struct dentry;
struct file;
struct file_operations;
struct fs_context;
struct inode;
struct kiocb;
struct kmem_cache;
struct mnt_idmap;
struct name_snapshot;
struct path;
struct posix_acl;
struct super_block;
struct vfsmount;

struct dentry *rovl_h_dget(struct dentry *dentry);
struct inode *rovl_h_d_inode_rcu(const struct dentry *dentry);
bool rovl_h_sb_has_encoding(const struct super_block *sb);
bool rovl_h_d_is_casefolded(const struct dentry *dentry);
void rovl_h_d_set_reval(struct dentry *dentry, unsigned int flags);
int rovl_h_d_op_revalidate(struct dentry *dentry, unsigned int flags, bool rcu);
int rovl_h_d_op_weak_revalidate(struct dentry *dentry, unsigned int flags);
const unsigned char *rovl_h_dentry_name(const struct dentry *dentry,
					unsigned int *len);
const unsigned char *rovl_h_snapshot_name(struct name_snapshot *snap,
					  unsigned int *len);
struct inode *rovl_h_file_inode(const struct file *file);
struct dentry *rovl_h_file_dentry(const struct file *file);
void rovl_h_set_fop(struct inode *inode, const struct file_operations *fop);
void rovl_h_set_reg_aops(struct inode *inode);
bool rovl_h_is_idmapped_mnt(const struct vfsmount *mnt);
void rovl_h_mnt_set_readonly_noatime(struct vfsmount *mnt);
const struct cred *rovl_h_override_creds(const struct cred *cred);
void rovl_h_revert_creds(const struct cred *old);
struct dentry *rovl_h_lookup_positive(struct mnt_idmap *idmap, struct dentry *base,
				      const char *name, unsigned int len, bool drop_negative);
bool rovl_h_inode_is_new(struct inode *inode);
struct dentry *rovl_h_lookup_one(struct dentry *base, const char *name, unsigned int len);
unsigned int rovl_h_i_nlink(const struct inode *inode);
void rovl_h_inode_init_flags(struct inode *inode, bool dont_cache_acl, unsigned int keep,
			     unsigned int extra);
int rovl_h_generic_permission(struct inode *inode, int mask);
void rovl_h_posix_acl_release(struct posix_acl *acl);
struct posix_acl *rovl_h_vfs_get_acl(struct mnt_idmap *idmap, struct dentry *dentry, int type);
struct kmem_cache *rovl_h_inode_cache_create(const char *name,
					     unsigned int size,
					     void (*ctor)(void *));
struct inode *rovl_h_alloc_inode_sb(struct super_block *sb,
				    struct kmem_cache *cache);
void rovl_h_fc_error(struct fs_context *fc, const char *prefix, int plen,
		     const char *msg, int mlen, const char *arg, int alen);
void rovl_h_init_sync_kiocb(struct kiocb *kiocb, struct file *file);
bool rovl_h_capable(int cap, bool noaudit);
bool rovl_h_printk_ratelimit(void);
bool rovl_h_verity_needs_load(struct inode *inode);
int rovl_h_fsverity_get_digest(struct inode *inode, u8 *digest, u8 *alg);
struct work_struct;
struct workqueue_struct;
struct workqueue_struct *rovl_h_alloc_workqueue(const char *name);
void rovl_h_flush_workqueue(struct workqueue_struct *wq);
void rovl_h_init_work(struct work_struct *work, void (*fn)(struct work_struct *));
bool rovl_h_queue_work(struct workqueue_struct *wq, struct work_struct *work);
void rovl_h_cond_resched(void);
loff_t rovl_h_i_size_read(const struct inode *inode);
unsigned int rovl_h_sb_export_ops(const struct super_block *sb);

/* Changing other file systems (rust/vfs/write.rs). */
struct iattr;
struct super_block;
bool rovl_h_inuse_trylock(struct dentry *dentry);
void rovl_h_inuse_unlock(struct dentry *dentry);
bool rovl_h_is_inuse(struct dentry *dentry);
bool rovl_h_mnt_is_readonly(struct vfsmount *mnt);
void rovl_h_mnt_clear_atime_flags(struct vfsmount *mnt);
int rovl_h_mnt_want_write(struct vfsmount *mnt);
void rovl_h_mnt_drop_write(struct vfsmount *mnt);
struct dentry *rovl_h_start_creating(struct mnt_idmap *idmap, struct dentry *parent,
				     const char *name, unsigned int len);
void rovl_h_end_dirop(struct dentry *child);
struct dentry *rovl_h_start_removing_dentry(struct dentry *parent, struct dentry *child);
struct dentry *rovl_h_mkdir(struct mnt_idmap *idmap, struct dentry *parent,
			    struct dentry *child, unsigned short mode);
int rovl_h_create(struct mnt_idmap *idmap, struct dentry *child, unsigned short mode);
int rovl_h_whiteout(struct mnt_idmap *idmap, struct dentry *parent, struct dentry *child);
int rovl_h_rmdir(struct mnt_idmap *idmap, struct dentry *parent, struct dentry *child);
int rovl_h_unlink(struct mnt_idmap *idmap, struct dentry *parent, struct dentry *child);
int rovl_h_rename_in_dir(struct mnt_idmap *idmap, struct dentry *dir, struct dentry *child,
			 const char *newname, unsigned int len, unsigned int flags);
int rovl_h_setxattr(struct mnt_idmap *idmap, struct dentry *dentry, const char *name,
		    const void *value, size_t size, int flags);
int rovl_h_removexattr(struct mnt_idmap *idmap, struct dentry *dentry, const char *name);
int rovl_h_remove_acl(struct mnt_idmap *idmap, struct dentry *dentry, bool dflt);
int rovl_h_chmod(struct mnt_idmap *idmap, struct dentry *dentry, unsigned short mode);
struct file *rovl_h_tmpfile_open(struct vfsmount *mnt, struct dentry *dir, unsigned short mode,
				 const struct cred *cred);
struct dentry *rovl_h_decode_fh(struct vfsmount *mnt, const void *fid, int dwords, int type,
				bool connected);
void rovl_h_sb_uuid(const struct super_block *sb, u8 *out);
void rovl_h_uuid_gen(u8 *out);
void rovl_h_super_set_uuid(struct super_block *sb, const u8 *uuid);
bool rovl_h_d_is_remote(const struct dentry *dentry);
int rovl_h_encode_inode_fh(struct inode *inode, u32 *fid, int *dwords);
u32 rovl_h_mnt_wb_err_sample(struct vfsmount *mnt);
int rovl_h_mnt_wb_err_check(struct vfsmount *mnt, u32 since);
void rovl_h_touch_atime(struct vfsmount *mnt, struct dentry *dentry);
void rovl_h_file_touch_atime(struct file *file);
void rovl_h_inode_atime_from(struct inode *inode, const struct inode *real);
void rovl_h_inode_cmtime_from(struct inode *inode, const struct inode *real);
int rovl_h_file_change_flags(struct file *file, unsigned int flags, unsigned int mask);
bool rovl_h_fa_has_sync_noatime(const struct file_kattr *fa);
void rovl_h_fa_copy_sync_noatime(struct file_kattr *to, const struct file_kattr *from);
int rovl_h_security_copy_up(struct dentry *dentry, struct cred **new);
int rovl_h_security_copy_up_xattr(struct dentry *src, const char *name);
struct file_lease;
int rovl_h_generic_setlease(struct file *file, int arg, struct file_lease **lease, void **priv);
int rovl_h_flush(struct file *file, fl_owner_t id);
int rovl_h_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo, u64 start, u64 len);
struct dentry *rovl_h_d_real(struct dentry *dentry, enum d_real_type type);
int rovl_h_rw_verify_area(bool write, struct file *file, loff_t pos, loff_t len);
struct kstat;
void rovl_h_generic_fill_statx_attr(struct inode *inode, struct kstat *stat);

/* Writable overlays (rust/vfs/inode.rs, file.rs, write.rs). */
struct mutex;
struct renamedata;
struct iov_iter;
void rovl_h_mutex_init(struct mutex *lock);
void rovl_h_lockdep_annotate_inode(struct inode *inode, struct mutex *lock);
int rovl_h_mutex_lock_killable(struct mutex *lock);
void rovl_h_mutex_unlock(struct mutex *lock);
void rovl_h_copyattr(struct inode *inode, struct vfsmount *mnt, struct inode *realinode);
unsigned short rovl_h_i_mode(const struct inode *inode);
void rovl_h_inc_nlink(struct inode *inode);
void rovl_h_clear_nlink(struct inode *inode);
void rovl_h_d_instantiate(struct dentry *dentry, struct inode *inode);
void rovl_h_d_drop(struct dentry *dentry);
bool rovl_h_d_unhashed(const struct dentry *dentry);
bool rovl_h_is_root(const struct dentry *dentry);
bool rovl_h_d_is_dir(const struct dentry *dentry);
unsigned int rovl_h_dentry_name_copy(struct dentry *dentry, unsigned char *buf, unsigned int size);
void rovl_h_init_owner(struct inode *dir, unsigned short *mode, kuid_t *uid, kgid_t *gid);
const struct cred *rovl_h_creds_as(kuid_t uid, kgid_t gid);
void rovl_h_put_cred(const struct cred *cred);
int rovl_h_setattr_prepare(struct dentry *dentry, struct iattr *attr);
unsigned int rovl_h_iattr_valid(const struct iattr *attr);
void rovl_h_iattr_clear(struct iattr *attr, unsigned int bits);
int rovl_h_get_write_access(struct inode *inode);
void rovl_h_put_write_access(struct inode *inode);
int rovl_h_notify_change(struct mnt_idmap *idmap, struct dentry *dentry, struct iattr *attr);
int rovl_h_set_stat_attrs(struct mnt_idmap *idmap, struct dentry *dentry,
			  const struct kstat *stat, bool size, bool attrs);
void rovl_h_set_times(struct mnt_idmap *idmap, struct dentry *dentry, const struct kstat *stat);
bool rovl_h_kuid_mapped(const struct kstat *stat);
unsigned short rovl_h_stat_mode(const struct kstat *stat);
u32 rovl_h_stat_rdev(const struct kstat *stat);
int rovl_h_mknod(struct mnt_idmap *idmap, struct dentry *parent, struct dentry *child,
		 unsigned short mode, u32 rdev);
int rovl_h_symlink(struct mnt_idmap *idmap, struct dentry *parent, struct dentry *child,
		   const char *target);
int rovl_h_link(struct mnt_idmap *idmap, struct dentry *old, struct dentry *parent,
		struct dentry *child);
int rovl_h_start_renaming(struct renamedata *rd, struct mnt_idmap *idmap,
			  struct dentry *old_parent, const char *oldname, unsigned int oldlen,
			  struct dentry *new_parent, const char *newname, unsigned int newlen,
			  unsigned int flags);
int rovl_h_start_renaming_dentry(struct renamedata *rd, struct mnt_idmap *idmap,
				 struct dentry *old_parent, struct dentry *old,
				 struct dentry *new_parent, const char *newname,
				 unsigned int newlen, unsigned int flags);
int rovl_h_start_renaming_two(struct renamedata *rd, struct mnt_idmap *idmap,
			      struct dentry *old_parent, struct dentry *old,
			      struct dentry *new_parent, struct dentry *new, unsigned int flags);
struct dentry *rovl_h_rd_old(const struct renamedata *rd);
struct dentry *rovl_h_rd_new(const struct renamedata *rd);
int rovl_h_rd_rename(struct renamedata *rd, unsigned int flags);
void rovl_h_end_renaming(struct renamedata *rd);
loff_t rovl_h_clone_file_range(struct file *in, struct file *out, loff_t len);
bool rovl_h_file_can_lseek(const struct file *file);
bool rovl_h_fatal_signal_pending(void);
ssize_t rovl_h_splice_direct(struct file *in, loff_t *ppos, struct file *out, loff_t *opos,
			     size_t len);
int rovl_h_fsync(struct file *file, loff_t start, loff_t end, bool datasync);
int rovl_h_fallocate(struct file *file, int mode, loff_t offset, loff_t len);
int rovl_h_set_acl_clone(struct mnt_idmap *idmap, struct dentry *dentry, const char *name,
			 struct posix_acl *acl);
int rovl_h_iocb_flags(const struct kiocb *iocb, bool sync);
size_t rovl_h_iov_iter_count(const struct iov_iter *iter);
void rovl_h_inode_lock(struct inode *inode);
void rovl_h_inode_unlock(struct inode *inode);
int rovl_h_read_link(struct dentry *dentry, char *buf, int size);
void rovl_h_insert_inode_hash(struct inode *inode, unsigned long hash);
bool rovl_h_inode_unhashed(struct inode *inode);
void rovl_h_drop_nlink_alias(struct inode *inode, struct dentry *dentry);
struct file_kattr;
int rovl_h_fileattr_get(struct dentry *dentry, struct file_kattr *fa);
int rovl_h_fileattr_set(struct mnt_idmap *idmap, struct dentry *dentry, struct file_kattr *fa);
unsigned int rovl_h_fa_prot(const struct file_kattr *fa);
void rovl_h_fa_set_prot(struct file_kattr *fa, unsigned int iflags, bool add);
unsigned int rovl_h_i_flags(const struct inode *inode);
void rovl_h_inode_set_flags(struct inode *inode, unsigned int flags, unsigned int mask);
loff_t rovl_h_copyfile(struct file *in, loff_t pos_in, struct file *out, loff_t pos_out,
		       loff_t len, unsigned int flags, int op);
int rovl_h_sync_mnt_sb(struct vfsmount *mnt);
bool rovl_h_is_posixacl(const struct inode *inode);
bool rovl_h_has_set_acl(const struct inode *inode);
bool rovl_h_owner_or_capable(const struct inode *inode);
bool rovl_h_acl_kills_sgid(const struct inode *inode);
int rovl_h_remove_acl_name(struct mnt_idmap *idmap, struct dentry *dentry, int type);
int rovl_h_set_acl_type(struct mnt_idmap *idmap, struct dentry *dentry, int type, struct posix_acl *acl);
int rovl_h_finish_tmpfile(struct file *file, struct inode *inode, void *private_data);
bool rovl_h_file_opened(const struct file *file);
struct file *rovl_h_backing_tmpfile_open(const struct file *user, int flags, struct vfsmount *mnt,
					 struct dentry *parent, unsigned short mode,
					 const struct cred *cred);
unsigned int rovl_h_file_flags(const struct file *file);
int rovl_h_file_remove_privs(struct file *file);
struct dentry *rovl_h_lookup_unlocked(struct mnt_idmap *idmap, struct dentry *base,
				      const char *name, unsigned int len);
int rovl_h_posix_acl_create(struct inode *dir, unsigned short *mode, struct posix_acl **dflt,
			    struct posix_acl **acl);

/* Module parameters by name (rust/module_params.c). */
bool rovl_module_param_bool(const char *name, bool *val);

/* export.rs, dentry.rs: file handles and disconnected dentries */
struct dentry *rovl_h_lookup_noperm_positive(struct dentry *base, const char *name, unsigned int len);
struct dentry *rovl_h_lookup_noperm_unlocked(const unsigned char *name, unsigned int len, struct dentry *base);

#endif /* ROVL_HELPERS_H */
