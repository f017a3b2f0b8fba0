/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One-line C wrappers for the static inline functions and macros of the
 * kernel headers that the Rust VFS binding layer (rust/vfs) needs, plus the
 * module parameters.  No logic lives here: every function is a direct call.
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
struct path;
struct super_block;
struct vfsmount;

struct dentry *rovl_h_dget(struct dentry *dentry);
struct inode *rovl_h_d_inode(const struct dentry *dentry);
struct inode *rovl_h_file_inode(const struct file *file);
struct mnt_idmap *rovl_h_mnt_idmap(const struct vfsmount *mnt);
const struct cred *rovl_h_override_creds(const struct cred *cred);
void rovl_h_revert_creds(const struct cred *old);
void rovl_h_put_cred(const struct cred *cred);
struct dentry *rovl_h_lookup_positive(struct mnt_idmap *idmap,
				      struct dentry *base,
				      const char *name, unsigned int len);
bool rovl_h_inode_is_new(struct inode *inode);
const unsigned char *rovl_h_dentry_name(const struct dentry *dentry,
					unsigned int *len);
loff_t rovl_h_i_size_read(const struct inode *inode);
struct kmem_cache *rovl_h_inode_cache_create(const char *name,
					     unsigned int size,
					     void (*ctor)(void *));
struct inode *rovl_h_alloc_inode_sb(struct super_block *sb,
				    struct kmem_cache *cache);
void rovl_h_fc_error(struct fs_context *fc, const char *prefix,
		     const char *msg, int msglen, const char *arg);
int rovl_h_inode_permission_open(struct mnt_idmap *idmap,
				 struct inode *inode, int flags);
void rovl_h_mnt_make_lower(struct vfsmount *mnt);
struct dentry *rovl_h_file_dentry(const struct file *file);
void rovl_h_set_fop(struct inode *inode, const struct file_operations *fop);
void rovl_h_init_sync_kiocb(struct kiocb *kiocb, struct file *file);
bool rovl_h_capable_sys_admin(bool noaudit);
void rovl_h_copy_attr_times(struct inode *dest, const struct inode *src);

/* Module parameters (defaults of the mount options), named like overlayfs's. */
extern bool rovl_param_redirect_dir;
extern bool rovl_param_redirect_always_follow;
extern bool rovl_param_index;
extern bool rovl_param_nfs_export;
extern bool rovl_param_xino_auto;
extern bool rovl_param_metacopy;
extern unsigned short rovl_param_redirect_max;

#endif /* ROVL_HELPERS_H */
