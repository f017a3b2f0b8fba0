// SPDX-License-Identifier: GPL-2.0
/*
 * rovl's module parameters: the defaults of the overlay feature options, with
 * the same names, types and meaning as overlayfs's.  The Rust code reads
 * them by name through rovl_module_param_bool/ushort (rust/vfs binds these
 * two lookups without knowing what the parameters mean).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

static bool param_redirect_dir = IS_ENABLED(CONFIG_ROVL_FS_REDIRECT_DIR);
module_param_named(redirect_dir, param_redirect_dir, bool, 0644);
MODULE_PARM_DESC(redirect_dir, "Default to on or off for the redirect_dir feature");

static bool param_redirect_always_follow = true;
module_param_named(redirect_always_follow, param_redirect_always_follow, bool, 0644);
MODULE_PARM_DESC(redirect_always_follow,
		 "Follow redirects even if redirect_dir feature is turned off");

static bool param_xino_auto = IS_ENABLED(CONFIG_ROVL_FS_XINO_AUTO);
module_param_named(xino_auto, param_xino_auto, bool, 0644);
MODULE_PARM_DESC(xino_auto, "Auto enable xino feature");

static bool param_index = IS_ENABLED(CONFIG_ROVL_FS_INDEX);
module_param_named(index, param_index, bool, 0644);
MODULE_PARM_DESC(index, "Default to on or off for the inodes index feature");

static bool param_nfs_export = IS_ENABLED(CONFIG_ROVL_FS_NFS_EXPORT);
module_param_named(nfs_export, param_nfs_export, bool, 0644);
MODULE_PARM_DESC(nfs_export, "Default to on or off for the NFS export feature");

static bool param_metacopy = IS_ENABLED(CONFIG_ROVL_FS_METACOPY);
module_param_named(metacopy, param_metacopy, bool, 0644);
MODULE_PARM_DESC(metacopy, "Default to on or off for the metadata only copy up feature");

static unsigned short param_redirect_max = 256;
module_param_named(redirect_max, param_redirect_max, ushort, 0644);
MODULE_PARM_DESC(redirect_max, "Maximum length of absolute redirect xattr value");

bool rovl_module_param_bool(const char *name, bool *val);

static const struct {
	const char *name;
	bool *val;
} bool_params[] = {
	{ "redirect_dir", &param_redirect_dir },
	{ "redirect_always_follow", &param_redirect_always_follow },
	{ "xino_auto", &param_xino_auto },
	{ "index", &param_index },
	{ "nfs_export", &param_nfs_export },
	{ "metacopy", &param_metacopy },
};

bool rovl_module_param_bool(const char *name, bool *val)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(bool_params); i++) {
		if (!strcmp(name, bool_params[i].name)) {
			*val = READ_ONCE(*bool_params[i].val);
			return true;
		}
	}
	return false;
}
