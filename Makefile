# SPDX-License-Identifier: GPL-2.0
#
#   make                     build rovl.ko against the project's test kernel
#   make KDIR=<tree>         ... against any Rust-enabled kernel build tree
#   make ROVL_DROPIN=1       build overlay.ko (fs type "overlay") instead
#   make modules_install     install it into /lib/modules/<kernel>/updates and
#                            run depmod (INSTALL_MOD_PATH=<dir>: under <dir>)
#   make check               host unit tests (cargo test)
#   make clean
#
# When the Makefile is run by Kbuild itself (KERNELRELEASE set), Kbuild reads
# the Kbuild file and this file is not used.

SHELL := /bin/bash
ROVL_TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
ENV := . $(ROVL_TOP)/scripts/env.sh

# Default KDIR: the cached test kernel (scripts/build-kernel.sh), built with
# LLVM=1 and the Debian toolchain; those make arguments must match the ones
# the kernel was built with.  With your own KDIR, pass your tree's arguments
# (LLVM=1, RUSTC=..., ...) on the command line yourself.
ifeq ($(origin KDIR),undefined)
KDIR := $(shell $(ENV) && rovl_kdir)
KMAKE_ARGS := $(shell $(ENV) && printf '%s ' "$${ROVL_KMAKE_ARGS[@]}")
endif
export PATH := /usr/lib/llvm-19/bin:$(PATH)

all: modules

modules:
	@test -f "$(KDIR)/Makefile" || { echo "no kernel build tree at KDIR=$(KDIR); run scripts/setup.sh" >&2; exit 1; }
	$(MAKE) -C "$(KDIR)" $(KMAKE_ARGS) M="$(ROVL_TOP)" $(if $(ROVL_DROPIN),ROVL_DROPIN=1) modules

modules_install:
	@test -f "$(KDIR)/Makefile" || { echo "no kernel build tree at KDIR=$(KDIR); run scripts/setup.sh" >&2; exit 1; }
	$(MAKE) -C "$(KDIR)" $(KMAKE_ARGS) M="$(ROVL_TOP)" $(if $(ROVL_DROPIN),ROVL_DROPIN=1) modules_install

check:
	cd "$(ROVL_TOP)" && cargo test

clean:
	@if [ -f "$(KDIR)/Makefile" ]; then $(MAKE) -C "$(KDIR)" $(KMAKE_ARGS) M="$(ROVL_TOP)" clean; fi
	rm -f rust/vfs/bindings_generated.rs rust/vfs/.bindings_generated.rs.cmd

.PHONY: all modules modules_install check clean
