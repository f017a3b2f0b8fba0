/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C wrappers for the static inline functions and macros of the kernel
 * headers that the Rust VFS binding layer (rust/vfs) needs.  No file system
 * logic lives here: each helper is a direct call or a field access.
 */
#ifndef ROVL_HELPERS_H
#define ROVL_HELPERS_H

#include <linux/types.h>

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
bool rovl_h_is_idmapped_mnt(const struct vfsmount *mnt);
void rovl_h_mnt_set_readonly_noatime(struct vfsmount *mnt);
const struct cred *rovl_h_override_creds(const struct cred *cred);
void rovl_h_revert_creds(const struct cred *old);
struct dentry *rovl_h_lookup_positive(struct mnt_idmap *idmap,
				      struct dentry *base,
				      const char *name, unsigned int len);
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
bool rovl_h_mnt_has_unseen_wb_err(struct vfsmount *mnt);
struct kstat;
void rovl_h_generic_fill_statx_attr(struct inode *inode, struct kstat *stat);

/* Module parameters by name (rust/module_params.c). */
bool rovl_module_param_bool(const char *name, bool *val);

#endif /* ROVL_HELPERS_H */
