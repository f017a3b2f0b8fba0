// SPDX-License-Identifier: GPL-2.0
/*
 * Workload driver of scripts/bench.sh (see Documentation/benchmark.rst).
 * Built on the host (gcc -O2 -static), run in the benchmark VM.
 *
 *   rovlbench gen ROOT               build the layers ROOT/l0 (top), l1, l2
 *   rovlbench run WORKLOAD MNT N     N passes of WORKLOAD on the mount MNT;
 *                                    one line "OPS NANOSECONDS" per pass
 *                                    (a pass that writes ends with a timed
 *                                    syncfs of MNT)
 *   rovlbench list                   the workloads, one per line: name, unit,
 *                                    "ro" (a lower-only mount) or "rw" (a
 *                                    mount with a fresh upper layer)
 *
 * The stack is fixed (only the large file's size can be changed, with
 * ROVL_BENCH_BIG_MIB), so that "run" knows every name it must find and what
 * it must get back: a pass that finds a wrong size, a missing name, an
 * extra name or a wrong entry count fails (exit status 1), so that speed
 * is never measured on wrong answers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NLAYERS 3

/* PATH-like lists: NPATH directories path/pNN, each with NCMD commands.
 * Directories 0..NPATH_MERGED-1 exist in every layer (merged), the others
 * in one layer only (pure); a merged directory's command i is in layer i%3. */
#define NPATH 25
#define NPATH_MERGED 15
#define NCMD 400		/* NPATH * NCMD = 10,000 names that exist */
#define NMISS 400		/* NPATH * NMISS = 10,000 names that do not */
#define CMD_TEXT "#!/bin/true\n"

/* readdir: rd/ in every layer, RD_PER_LAYER distinct names in each. */
#define RD_PER_LAYER 10000

/* small files: small/dNN in every layer, SMALL_PER_DIR files per directory,
 * file i in layer i%3, 1..8 KiB. */
#define SMALL_DIRS 100
#define SMALL_PER_DIR 100

/* find: tree/aNN (every layer) / bMM (one layer, or every layer when
 * MM%5 == 0) / TREE_FILES files: 1 + 20 + 500 + 500*99 = 50,021 entries. */
#define TREE_A 20
#define TREE_B 25
#define TREE_FILES 99

#define BIG_CHUNK (1 << 20)

/* Workloads that write (on a mount with a fresh upper layer each pass):
 * chown: ch/dNN (every layer) with CHOWN_PER_DIR files each, file i in
 * layer i%3: 100 * 1000 = 100,000 files by default (ROVL_BENCH_CHOWN_DIRS);
 * copy-up of small files: cu/dNN/fNNN, CU_FILE_KIB each, ROVL_BENCH_BIG_MIB
 * MiB in all (as the large file, which the big copy-up row copies up);
 * create/rename/unlink: DIROPS names in the merged directory path/p00;
 * whiteout: unlink of the DIROPS lower files rd/l1-*;
 * untar: a tar of SRC_DIRS * SRC_FILES files (1..16 KiB) made by gen. */
#define CHOWN_PER_DIR 1000
#define CU_FILE_KIB 128
#define CU_PER_DIR 256
#define DIROPS 10000
#define SRC_DIRS 250
#define SRC_FILES 20

static const char *prog = "rovlbench";

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return s;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static long big_mib(void)
{
	const char *s = getenv("ROVL_BENCH_BIG_MIB");
	long v = s ? strtol(s, NULL, 10) : 512;

	if (v <= 0)
		die("bad ROVL_BENCH_BIG_MIB=%s", s);
	return v;
}

static long chown_dirs(void)
{
	const char *s = getenv("ROVL_BENCH_CHOWN_DIRS");
	long v = s ? strtol(s, NULL, 10) : 100;

	if (v <= 0 || v > 10000)
		die("bad ROVL_BENCH_CHOWN_DIRS=%s", s);
	return v;
}

static long cu_files(void)
{
	return big_mib() * 1024 / CU_FILE_KIB;
}

static size_t src_size(int d, int i)
{
	return 1024 + ((unsigned)(d * 7919 + i * 104729) % 15361);	/* 1..16 KiB */
}

/* Workloads that write time only their part after this call (the setup
 * before it is not timed): see main(). */
static uint64_t timed_from;

static size_t small_size(int d, int i)
{
	return 1024 + ((unsigned)(d * 7919 + i * 104729) % 7169);	/* 1..8 KiB */
}

static int path_layer(int k)	/* the layer of a pure PATH directory */
{
	return k % NLAYERS;
}

static int tree_merged(int b)
{
	return b % 5 == 0;
}

static int tree_layer(int a, int b)
{
	return (a * TREE_B + b) % NLAYERS;
}

/* ---- gen ---------------------------------------------------------------- */

static void mkdirs(const char *path)
{
	char *p = strdup(path), *s;

	if (!p)
		die("out of memory");
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			die("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) && errno != EEXIST)
		die("mkdir %s: %s", p, strerror(errno));
	free(p);
}

static void mkfile(const char *path, mode_t mode, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);

	if (fd < 0)
		die("create %s: %s", path, strerror(errno));
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n <= 0)
			die("write %s: %s", path, n ? strerror(errno) : "short write");
		data += n;
		len -= n;
	}
	if (close(fd))
		die("close %s: %s", path, strerror(errno));
}

static void gen(const char *root)
{
	static char buf[BIG_CHUNK];
	char *l[NLAYERS], *p;
	int k, i, d, a, b, f, fd;
	long m;

	for (k = 0; k < NLAYERS; k++) {
		l[k] = xasprintf("%s/l%d", root, k);
		mkdirs(l[k]);
	}
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = 'a' + i % 26;

	/* PATH-like directories */
	for (k = 0; k < NPATH; k++) {
		for (i = 0; i < NCMD; i++) {
			int layer = k < NPATH_MERGED ? i % NLAYERS : path_layer(k);

			p = xasprintf("%s/path/p%02d", l[layer], k);
			mkdirs(p);
			free(p);
			p = xasprintf("%s/path/p%02d/c%02d-%04d", l[layer], k, k, i);
			mkfile(p, 0755, CMD_TEXT, strlen(CMD_TEXT));
			free(p);
		}
	}
	/* one merged directory, RD_PER_LAYER names in each layer */
	for (k = 0; k < NLAYERS; k++) {
		p = xasprintf("%s/rd", l[k]);
		mkdirs(p);
		free(p);
		for (i = 0; i < RD_PER_LAYER; i++) {
			p = xasprintf("%s/rd/l%d-%05d", l[k], k, i);
			mkfile(p, 0644, NULL, 0);
			free(p);
		}
	}
	/* small files */
	for (d = 0; d < SMALL_DIRS; d++) {
		for (k = 0; k < NLAYERS; k++) {
			p = xasprintf("%s/small/d%02d", l[k], d);
			mkdirs(p);
			free(p);
		}
		for (i = 0; i < SMALL_PER_DIR; i++) {
			p = xasprintf("%s/small/d%02d/f%03d", l[i % NLAYERS], d, i);
			mkfile(p, 0644, buf + i, small_size(d, i));
			free(p);
		}
	}
	/* the tree for find */
	for (a = 0; a < TREE_A; a++) {
		for (b = 0; b < TREE_B; b++) {
			for (k = 0; k < NLAYERS; k++) {
				if (!tree_merged(b) && k != tree_layer(a, b))
					continue;
				p = xasprintf("%s/tree/a%02d/b%02d", l[k], a, b);
				mkdirs(p);
				free(p);
			}
			for (f = 0; f < TREE_FILES; f++) {
				k = tree_merged(b) ? f % NLAYERS : tree_layer(a, b);
				p = xasprintf("%s/tree/a%02d/b%02d/f%02d", l[k], a, b, f);
				mkfile(p, 0644, NULL, 0);
				free(p);
			}
		}
	}
	/* the tree for chown */
	for (d = 0; d < chown_dirs(); d++) {
		for (k = 0; k < NLAYERS; k++) {
			p = xasprintf("%s/ch/d%04d", l[k], d);
			mkdirs(p);
			free(p);
		}
		for (i = 0; i < CHOWN_PER_DIR; i++) {
			p = xasprintf("%s/ch/d%04d/f%04d", l[i % NLAYERS], d, i);
			mkfile(p, 0644, NULL, 0);
			free(p);
		}
	}
	/* small files for copy-up */
	for (i = 0; i < cu_files(); i++) {
		k = i % NLAYERS;
		p = xasprintf("%s/cu/d%03d", l[k], i / CU_PER_DIR);
		mkdirs(p);
		free(p);
		p = xasprintf("%s/cu/d%03d/f%03d", l[k], i / CU_PER_DIR, i % CU_PER_DIR);
		mkfile(p, 0644, buf + i % 26, CU_FILE_KIB * 1024);
		free(p);
	}
	/* the source tree to untar (outside the layers) and its tar */
	for (d = 0; d < SRC_DIRS; d++)
		for (i = 0; i < SRC_FILES; i++) {
			p = xasprintf("%s/src/d%03d", root, d);
			mkdirs(p);
			free(p);
			p = xasprintf("%s/src/d%03d/f%02d.c", root, d, i);
			mkfile(p, 0644, buf + i, src_size(d, i));
			free(p);
		}
	p = xasprintf("tar -C '%s' -cf '%s/src.tar' src", root, root);
	if (system(p))
		die("%s failed", p);
	free(p);
	/* the large file, in the bottom layer */
	p = xasprintf("%s/big", l[NLAYERS - 1]);
	mkdirs(p);
	free(p);
	p = xasprintf("%s/big/file", l[NLAYERS - 1]);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		die("create %s: %s", p, strerror(errno));
	for (m = 0; m < big_mib(); m++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			die("write %s: %s", p, strerror(errno));
	if (close(fd))
		die("close %s: %s", p, strerror(errno));
	free(p);
}

/* ---- workloads ---------------------------------------------------------- */

/* Each returns the number of operations of one pass. */

static long wl_stat_hit(const char *mnt)
{
	char p[4096];
	struct stat st;
	int k, i;

	for (k = 0; k < NPATH; k++)
		for (i = 0; i < NCMD; i++) {
			snprintf(p, sizeof(p), "%s/path/p%02d/c%02d-%04d", mnt, k, k, i);
			if (stat(p, &st))
				die("stat %s: %s", p, strerror(errno));
			if (!S_ISREG(st.st_mode) || st.st_size != (off_t)strlen(CMD_TEXT))
				die("stat %s: mode %o size %lld", p, st.st_mode,
				    (long long)st.st_size);
		}
	return NPATH * NCMD;
}

static long wl_stat_miss(const char *mnt)
{
	char p[4096];
	struct stat st;
	int k, i;

	/* like a shell looking up commands that are nowhere in a long PATH */
	for (i = 0; i < NMISS; i++)
		for (k = 0; k < NPATH; k++) {
			snprintf(p, sizeof(p), "%s/path/p%02d/missing-%04d", mnt, k, i);
			if (!stat(p, &st))
				die("stat %s: exists", p);
			if (errno != ENOENT)
				die("stat %s: %s", p, strerror(errno));
		}
	return NPATH * NMISS;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static long wl_readdir(const char *mnt)
{
	static char buf[32768];
	char *p = xasprintf("%s/rd", mnt);
	long n = 0, pos;
	int fd = open(p, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		die("open %s: %s", p, strerror(errno));
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof(buf));

		if (got < 0)
			die("getdents64 %s: %s", p, strerror(errno));
		if (got == 0)
			break;
		for (pos = 0; pos < got;) {
			struct linux_dirent64 *de = (void *)(buf + pos);

			if (de->d_type != DT_REG && de->d_type != DT_DIR)
				die("%s/%s: d_type %d", p, de->d_name, de->d_type);
			n++;
			pos += de->d_reclen;
		}
	}
	if (close(fd))
		die("close %s: %s", p, strerror(errno));
	if (n != NLAYERS * RD_PER_LAYER + 2)
		die("%s: %ld entries, expected %d", p, n, NLAYERS * RD_PER_LAYER + 2);
	free(p);
	return n;
}

static long wl_small(const char *mnt)
{
	static char buf[65536];
	char p[4096];
	int d, i;

	for (d = 0; d < SMALL_DIRS; d++)
		for (i = 0; i < SMALL_PER_DIR; i++) {
			size_t total = 0;
			ssize_t n;
			int fd;

			snprintf(p, sizeof(p), "%s/small/d%02d/f%03d", mnt, d, i);
			fd = open(p, O_RDONLY);
			if (fd < 0)
				die("open %s: %s", p, strerror(errno));
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				total += n;
			if (n < 0)
				die("read %s: %s", p, strerror(errno));
			if (close(fd))
				die("close %s: %s", p, strerror(errno));
			if (total != small_size(d, i))
				die("%s: read %zu bytes, expected %zu", p, total,
				    small_size(d, i));
		}
	return SMALL_DIRS * SMALL_PER_DIR;
}

static long wl_seqread(const char *mnt)
{
	static char buf[BIG_CHUNK];
	char *p = xasprintf("%s/big/file", mnt);
	long long total = 0;
	ssize_t n;
	int fd = open(p, O_RDONLY);

	if (fd < 0)
		die("open %s: %s", p, strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0)
		die("read %s: %s", p, strerror(errno));
	if (close(fd))
		die("close %s: %s", p, strerror(errno));
	if (total != (long long)big_mib() * BIG_CHUNK)
		die("%s: read %lld bytes, expected %lld", p, total,
		    (long long)big_mib() * BIG_CHUNK);
	free(p);
	return big_mib();	/* operations: MiB */
}

static long wl_find(const char *mnt)
{
	static char buf[65536];
	const long expect = 1 + TREE_A + TREE_A * TREE_B + TREE_A * TREE_B * TREE_FILES;
	char *p = xasprintf("%s/tree", mnt);
	int pfd[2], status;
	long lines = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd))
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execlp("find", "find", p, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	if (n < 0)
		die("read from find: %s", strerror(errno));
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("find %s failed (status %#x)", p, status);
	if (lines != expect)
		die("find %s: %ld entries, expected %ld", p, lines, expect);
	free(p);
	return lines;
}

/* ---- workloads that write ------------------------------------------------ */

static void run_cmd(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("%s failed (status %#x)", argv[0], status);
}

static void expect_owner(const char *path, uid_t uid)
{
	struct stat st;

	if (lstat(path, &st))
		die("lstat %s: %s", path, strerror(errno));
	if (st.st_uid != uid)
		die("%s: owner %u, expected %u", path, st.st_uid, uid);
}

/* chown -R -h over the chown tree (metadata-only copy-up with metacopy=on) */
static long wl_chown(const char *mnt)
{
	char *p = xasprintf("%s/ch", mnt), *q;
	char *argv[] = { "chown", "-R", "-h", "1000:1000", p, NULL };

	run_cmd(argv);
	q = xasprintf("%s/ch/d%04ld/f%04d", mnt, chown_dirs() - 1, CHOWN_PER_DIR - 1);
	expect_owner(q, 1000);
	free(q);
	free(p);
	return chown_dirs() * (CHOWN_PER_DIR + 1) + 1;
}

/* open for write, which copies the data up; the size is checked */
static void copy_up_open(const char *path, off_t size)
{
	struct stat st;
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		die("open %s for write: %s", path, strerror(errno));
	if (fstat(fd, &st))
		die("fstat %s: %s", path, strerror(errno));
	if (st.st_size != size)
		die("%s: size %lld, expected %lld", path, (long long)st.st_size, (long long)size);
	if (close(fd))
		die("close %s: %s", path, strerror(errno));
}

static long wl_copyup_big(const char *mnt)
{
	char *p = xasprintf("%s/big/file", mnt);

	copy_up_open(p, (off_t)big_mib() * BIG_CHUNK);
	free(p);
	return big_mib();	/* MiB */
}

static long wl_copyup_small(const char *mnt)
{
	char p[4096];
	long i;

	for (i = 0; i < cu_files(); i++) {
		snprintf(p, sizeof(p), "%s/cu/d%03ld/f%03ld", mnt, i / CU_PER_DIR, i % CU_PER_DIR);
		copy_up_open(p, CU_FILE_KIB * 1024);
	}
	return big_mib();	/* MiB */
}

static void create_names(const char *mnt, const char *prefix)
{
	char p[4096];
	int i, fd;

	for (i = 0; i < DIROPS; i++) {
		snprintf(p, sizeof(p), "%s/path/p00/%s%05d", mnt, prefix, i);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("create %s: %s", p, strerror(errno));
		if (close(fd))
			die("close %s: %s", p, strerror(errno));
	}
}

static long wl_create(const char *mnt)
{
	create_names(mnt, "w");
	return DIROPS;
}

static long wl_rename(const char *mnt)
{
	char p[4096], q[4096];
	int i;

	create_names(mnt, "w");
	timed_from = now_ns();
	for (i = 0; i < DIROPS; i++) {
		snprintf(p, sizeof(p), "%s/path/p00/w%05d", mnt, i);
		snprintf(q, sizeof(q), "%s/path/p00/v%05d", mnt, i);
		if (rename(p, q))
			die("rename %s: %s", p, strerror(errno));
	}
	return DIROPS;
}

static long wl_unlink(const char *mnt)
{
	char p[4096];
	int i;

	create_names(mnt, "w");
	timed_from = now_ns();
	for (i = 0; i < DIROPS; i++) {
		snprintf(p, sizeof(p), "%s/path/p00/w%05d", mnt, i);
		if (unlink(p))
			die("unlink %s: %s", p, strerror(errno));
	}
	return DIROPS;
}

/* unlink of lower files: a whiteout each */
static long wl_whiteout(const char *mnt)
{
	char p[4096];
	int i;

	for (i = 0; i < DIROPS && i < RD_PER_LAYER; i++) {
		snprintf(p, sizeof(p), "%s/rd/l1-%05d", mnt, i);
		if (unlink(p))
			die("unlink %s: %s", p, strerror(errno));
	}
	return i;
}

static long wl_untar(const char *mnt)
{
	const char *tar = getenv("ROVL_BENCH_TAR");
	char *argv[] = { "tar", "-xf", (char *)tar, "-C", (char *)mnt, NULL };
	char *p;
	struct stat st;

	if (!tar)
		die("ROVL_BENCH_TAR is not set (the tar made by gen)");
	run_cmd(argv);
	p = xasprintf("%s/src/d%03d/f%02d.c", mnt, SRC_DIRS - 1, SRC_FILES - 1);
	if (lstat(p, &st))
		die("lstat %s: %s", p, strerror(errno));
	if ((size_t)st.st_size != src_size(SRC_DIRS - 1, SRC_FILES - 1))
		die("%s: wrong size %lld", p, (long long)st.st_size);
	free(p);
	return 1 + SRC_DIRS * (SRC_FILES + 1);	/* entries */
}

static const struct workload {
	const char *name;
	const char *unit;
	long (*fn)(const char *mnt);
	const char *mount;	/* "ro": lower layers only; "rw": a fresh upper */
} workloads[] = {
	{ "stat-hit", "stat", wl_stat_hit, "ro" },
	{ "stat-miss", "stat", wl_stat_miss, "ro" },
	{ "readdir", "entry", wl_readdir, "ro" },
	{ "small-read", "file", wl_small, "ro" },
	{ "seq-read", "MiB", wl_seqread, "ro" },
	{ "find", "entry", wl_find, "ro" },
	{ "chown-meta", "entry", wl_chown, "rw" },
	{ "copyup-big", "MiB", wl_copyup_big, "rw" },
	{ "copyup-small", "MiB", wl_copyup_small, "rw" },
	{ "create", "file", wl_create, "rw" },
	{ "rename", "file", wl_rename, "rw" },
	{ "unlink", "file", wl_unlink, "rw" },
	{ "whiteout", "file", wl_whiteout, "rw" },
	{ "untar", "entry", wl_untar, "rw" },
};

int main(int argc, char **argv)
{
	const struct workload *w = NULL;
	size_t i;
	int pass, n, rw, fd = -1;

	if (argc == 3 && !strcmp(argv[1], "gen")) {
		gen(argv[2]);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
			printf("%s %s %s\n", workloads[i].name, workloads[i].unit, workloads[i].mount);
		return 0;
	}
	if (argc != 5 || strcmp(argv[1], "run"))
		die("usage: rovlbench gen ROOT | run WORKLOAD MNT PASSES | list");
	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (!strcmp(argv[2], workloads[i].name))
			w = &workloads[i];
	if (!w)
		die("unknown workload %s", argv[2]);
	n = atoi(argv[4]);
	if (n <= 0)
		die("bad pass count %s", argv[4]);
	rw = !strcmp(w->mount, "rw");
	if (rw) {
		fd = open(argv[3], O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			die("open %s: %s", argv[3], strerror(errno));
	}
	for (pass = 0; pass < n; pass++) {
		long ops;
		uint64_t t1;

		timed_from = now_ns();
		ops = w->fn(argv[3]);
		/*
		 * A pass that writes ends with its work written out (timed):
		 * else the upper file system's journal commit or writeback of
		 * it falls inside a pass or after it by chance of a timer.
		 */
		if (rw && syncfs(fd))
			die("syncfs %s: %s", argv[3], strerror(errno));
		t1 = now_ns();
		printf("%ld %llu\n", ops, (unsigned long long)(t1 - timed_from));
		fflush(stdout);
	}
	return 0;
}
