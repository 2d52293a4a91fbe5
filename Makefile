# SPDX-License-Identifier: GPL-2.0-or-later
# Top-level convenience targets.  `make run` and `make check` do all the
# set-up on a fresh Debian 12 machine: missing packages, meson, the build,
# and the guest images (fetched from Debian's archive into a cache).

BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
MESON_OPTS ?=

# Build dependencies.
BUILD_PKGS := gcc meson ninja-build pkg-config python3 libglib2.0-dev \
	libgtk-3-dev libvte-2.91-dev libpulse-dev zlib1g-dev libzstd-dev \
	libdeflate-dev libslirp-dev libcapstone-dev libspeexdsp-dev gettext nasm \
	libosinfo-1.0-dev
# Firmware the PC board runs; the wizard's OS detection reads osinfo-db.
RUN_PKGS := seabios osinfo-db
# Guest images, oracles and GUI test drivers.
TEST_PKGS := qemu-utils qemu-system-x86 ipxe-qemu xorriso isolinux syslinux \
	syslinux-common syslinux-utils mtools dosfstools cpio gzip \
	xvfb xauth xdotool openbox x11-utils x11-apps xclip desktop-file-utils \
	appstream ca-certificates dpkg-dev libunicorn-dev qemu-user gcc-multilib \
	clang libclang-rt-dev pulseaudio pulseaudio-utils python3-gi \
	gir1.2-gtk-3.0 gdb-multiarch

FUZZERS := fuzz-pc fuzz-qcow2 fuzz-hmp fuzz-qmp fuzz-machine-file \
	fuzz-kernel fuzz-state
.PHONY: all deps test-deps build run check clean $(FUZZERS)

all: build

deps:
	@sh scripts/ensure-deps.sh $(BUILD_PKGS) $(RUN_PKGS)

test-deps: deps
	@sh scripts/ensure-deps.sh $(TEST_PKGS)

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: test-deps build
	@sh scripts/run-demo.sh $(BUILD)

check: test-deps build
	@sh scripts/check.sh $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# Long fuzzing runs (FUZZ_TIME seconds, default 8 hours); new inputs are
# kept in $(FUZZ_BUILD)/corpus-NAME, crashes in $(FUZZ_BUILD)/crash-*.
FUZZ_TIME ?= 28800
$(FUZZERS): test-deps
	@sh scripts/fuzz.sh $(FUZZ_BUILD) $(@:fuzz-%=%) $(FUZZ_TIME) keep

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
