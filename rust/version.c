// SPDX-License-Identifier: GPL-2.0
/*
 * rovl's version: "modinfo -F version rovl", /sys/module/rovl/version (also
 * when built in).  ROVL_VERSION comes from Kbuild: the release and, built
 * from a git checkout, the commit (scripts/version.sh).
 */
#include <linux/module.h>

MODULE_VERSION(ROVL_VERSION);
