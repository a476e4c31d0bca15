#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# images/bed.sh: build the nested-Xen test bed and the guest media under build/bed, from
# Debian packages only (apt-get download + dpkg -x; nothing goes into the host's system paths).
#   build/bed/xen.elf            Xen 4.17 (xen-hypervisor-4.17-amd64, gunzipped for QEMU -kernel)
#   build/bed/vmlinuz            Debian's kernel (dom0 and guests)
#   build/bed/dom0-base.cpio     dom0: busybox, bash, Xen's tools + libraries, hvmloader, SeaBIOS,
#                                qemu-system-xen (the anchor), kernel modules
#   build/bed/media/             guest media: linux.iso, guest-initrd.gz, grub-rescue-cdrom.iso, ipxe.iso
#   build/bed/dom0-media.cpio    the media, as /media in dom0
#   build/bed/dom0.cpio          base + media + overlay (the project's init, scenarios and binaries,
#                                repacked on every run: it is the only part that follows project code)
# Usage: images/bed.sh [STAGING]  (STAGING: a `make install DESTDIR=` tree of the project's binaries)
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${HVMD_BED:-$top/build/bed}
staging=${1:-}
root=$out/root
mkdir -p "$out"
log() { echo "bed: $*"; }

# linux-image-amd64 is a metapackage: take the kernel package it points at today.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || { echo "bed: apt-cache knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
"$here/fetch-debs" "$out" \
    xen-hypervisor-4.17-amd64 "$kpkg" busybox bash util-linux mount iproute2 \
    xen-utils-4.17 xen-utils-common xenstore-utils qemu-system-xen qemu-system-data ipxe-qemu \
    seabios isolinux syslinux-common grub-rescue-pc ipxe \
    dnsmasq-base libmnl0 libnftables1 libaio1 libseccomp2 libyajl2 libpng16-16 libvncserver1 \
    libvncclient1
# The guest's initramfs takes busybox-static; dom0 takes Debian's dynamic busybox: under Xen PV
# nested in TCG, the static one has crashed about once in a thousand execs while an HVM guest
# ran (TLS read as zero in __ctype_init), the dynamic one never did (3000 execs).
"$here/fetch-debs" "$out/guest-pkgs" busybox-static
kver=$(cd "$root/lib/modules" && ls | sort -V | tail -1)
[ -n "$kver" ] || { echo "bed: no kernel modules unpacked" >&2; exit 1; }
# The .deb leaves modules.dep to depmod at install time: make it inside the unpacked tree.
[ -s "$root/lib/modules/$kver/modules.dep" ] || depmod -b "$root" "$kver"

newer() { # newer TARGET SOURCES...: true if TARGET is missing or older than a source
    local t=$1; shift
    [ -e "$t" ] || return 0
    for s in "$@"; do [ "$s" -nt "$t" ] && return 0; done
    return 1
}

# Kernel modules NAME... with their dependencies (modules.dep), as paths relative to root.
modclosure() {
    local dep=$root/lib/modules/$kver/modules.dep
    python3 - "$dep" "$kver" "$@" <<'PY'
import sys
dep, kver, names = sys.argv[1], sys.argv[2], sys.argv[3:]
deps, byname = {}, {}
for line in open(dep):
    mod, _, rest = line.partition(":")
    deps[mod] = rest.split()
    byname[mod.rsplit("/", 1)[-1].split(".ko")[0].replace("-", "_")] = mod
builtin = open(dep.replace("modules.dep", "modules.builtin")).read().replace("-", "_")
out, todo = [], []
for n in names:
    key = n.replace("-", "_")
    if key in byname: todo.append(byname[key])
    elif "/" + key + ".ko" not in builtin: sys.exit(f"bed: no kernel module {n}")
while todo:
    m = todo.pop()
    if m in out: continue
    out.append(m); todo += deps[m]
for m in out: print(f"lib/modules/{kver}/{m}")
PY
}

cpio_of() { # cpio_of DIR OUT: a newc archive of DIR, reproducible order
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$2.tmp"
    mv "$2.tmp" "$2"
}

# --- Xen and the kernel -----------------------------------------------------------------------
if newer "$out/xen.elf" "$root/boot/xen-4.17-amd64.gz"; then
    gunzip -c "$root/boot/xen-4.17-amd64.gz" > "$out/xen.elf"
fi
cp -u "$root/boot/vmlinuz-$kver" "$out/vmlinuz"

# --- guest media ------------------------------------------------------------------------------
media=$out/media
mkdir -p "$media"
guest_src=("$here/guest/init" "$here/guest/pattern" "$here/guest/diskbench.c" "$here/guest/vgabench.c" "$here/guest/hammer.c" "$here/guest/freestanding.h" "$here/guest/checks"/* "$here/bed.sh" "$root.stamp")
guest_src+=("$here/guest/portbench.c")
if newer "$media/guest-initrd.gz" "${guest_src[@]}"; then
    log "guest initramfs"
    g=$out/guest-root; rm -rf "$g"; mkdir -p "$g"/{bin,sbin,etc,proc,sys,dev,tmp,checks}
    cp "$out/guest-pkgs/root/bin/busybox" "$g/bin/busybox"; ln -s busybox "$g/bin/sh"
    cp "$here/guest/init" "$g/init"
    cp "$here/guest/pattern" "$g/bin/hvmd-pattern"
    # a freestanding O_DIRECT disk benchmark (a few KiB: no libc) for the disk-speed check
    ${CC:-gcc} -Os -static -nostdlib -ffreestanding -fno-stack-protector -fno-builtin \
        -fno-tree-loop-distribute-patterns -fno-pie -no-pie -o "$g/bin/hvmd-diskbench" "$here/guest/diskbench.c"
    ${CC:-gcc} -Os -static -nostdlib -ffreestanding -fno-stack-protector -fno-builtin \
        -fno-tree-loop-distribute-patterns -fno-pie -no-pie -o "$g/bin/hvmd-vgabench" "$here/guest/vgabench.c"
    # issue 16's hostile guest (the check "hammer", the manual scenario hvmd-hammer)
    ${CC:-gcc} -Os -static -nostdlib -ffreestanding -fno-stack-protector -fno-builtin \
        -fno-tree-loop-distribute-patterns -fno-pie -no-pie -o "$g/bin/hvmd-hammer" "$here/guest/hammer.c"
    # issue 20's port timer (the check "port-speed", make bench's hvmd-floor / qemu-floor)
    ${CC:-gcc} -Os -static -nostdlib -ffreestanding -fno-stack-protector -fno-builtin \
        -fno-tree-loop-distribute-patterns -fno-pie -no-pie -o "$g/bin/hvmd-portbench" "$here/guest/portbench.c"
    cp "$here/guest/checks"/* "$g/checks/"
    guest_mods="ata_piix sd_mod sr_mod e1000 8139cp 8139too xen-blkfront xen-netfront"
    echo "$guest_mods" > "$g/etc/modules"
    # in the image, loaded by the checks that need them: the USB tablet's drivers, bochs DRM
    guest_extra_mods="uhci-hcd usbhid hid-generic evdev bochs"
    for m in $(modclosure $guest_mods $guest_extra_mods); do
        mkdir -p "$g/$(dirname "$m")"; cp "$root/$m" "$g/$m"
    done
    cp "$root/lib/modules/$kver"/modules.{dep,builtin,order} "$g/lib/modules/$kver/"
    (cd "$g" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -9 > "$media/guest-initrd.gz"
fi
cp -u "$out/vmlinuz" "$media/guest-vmlinuz"
if newer "$media/linux.iso" "$media/guest-initrd.gz" "$out/vmlinuz" "$here/bed.sh"; then
    log "linux.iso (isolinux + xorriso)"
    iso=$out/iso-root; rm -rf "$iso"; mkdir -p "$iso/isolinux"
    cp "$root/usr/lib/ISOLINUX/isolinux.bin" "$root/usr/lib/syslinux/modules/bios/ldlinux.c32" "$iso/isolinux/"
    cp "$out/vmlinuz" "$iso/vmlinuz"; cp "$media/guest-initrd.gz" "$iso/initrd.gz"
    cat > "$iso/isolinux/isolinux.cfg" <<'CFG'
SERIAL 0 115200
SAY isolinux: booting the hvmd test ISO (loading /vmlinuz and /initrd.gz from the CD)
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  APPEND initrd=/initrd.gz console=ttyS0,115200 xen_emul_unplug=never quiet
CFG
    xorriso -as mkisofs -quiet -o "$media/linux.iso.tmp" -V HVMD_TEST \
        -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 \
        -boot-info-table "$iso" 2>/dev/null
    mv "$media/linux.iso.tmp" "$media/linux.iso"
fi
cp -u "$root/usr/lib/grub-rescue/grub-rescue-cdrom.iso" "$media/grub-rescue-cdrom.iso"
cp -u "$root/usr/lib/ipxe/ipxe.iso" "$media/ipxe.iso"
if newer "$out/dom0-media.cpio" "$media"/*; then
    log "dom0-media.cpio"
    m=$out/media-stage; rm -rf "$m"; mkdir -p "$m"; cp -al "$media" "$m/media"
    cpio_of "$m" "$out/dom0-media.cpio"; rm -rf "$m"
fi

# --- dom0 base --------------------------------------------------------------------------------
dom0_bins=(bin/busybox bin/bash usr/bin/flock sbin/losetup bin/ip usr/sbin/dnsmasq
    usr/lib/xen-4.17/bin/xl usr/lib/xen-4.17/bin/xenstored usr/lib/xen-4.17/bin/xenconsoled
    usr/lib/xen-4.17/bin/xenconsole usr/lib/xen-4.17/bin/xen-init-dom0
    usr/lib/xen-4.17/bin/libxl-save-helper usr/lib/xen-4.17/bin/xentrace
    usr/bin/xenstore-read usr/bin/xenstore-write usr/bin/xenstore-ls usr/bin/xenstore-rm
    usr/bin/xenstore-exists usr/bin/xenstore-list usr/bin/xenstore-chmod usr/bin/xenstore-watch
    usr/bin/xenstore
    usr/libexec/xen-qemu-system-i386)
# xenalyze: make profile's summary of a xentrace of the guest's exits (tests/bench/profile)
dom0_bins+=(usr/bin/xenalyze)
dom0_mods="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs bridge tun loop xen-blkback
    xen-netback virtio_pci virtio_blk crc32c_generic nf_tables nft_chain_nat nft_masq nft_nat
    nft_fib_ipv4"
if newer "$out/dom0-base.cpio" "$root.stamp" "$here/bed.sh" "$here/elfclosure.py"; then
    log "dom0-base.cpio"
    b=$out/dom0-base; rm -rf "$b"; mkdir -p "$b"
    {
        python3 "$here/elfclosure.py" "$root" "${dom0_bins[@]}"
        modclosure $dom0_mods
        echo "lib/modules/$kver/modules.dep"; echo "lib/modules/$kver/modules.builtin"
        echo "lib/modules/$kver/modules.order"
        echo usr/lib/xen-4.17/boot/hvmloader
        (cd "$root" && find etc/xen usr/share/seabios usr/share/qemu/keymaps usr/lib/ipxe/qemu \
            -type f -o -type l)
        (cd "$root" && ls usr/share/qemu/*.bin usr/share/qemu/*.rom 2>/dev/null)
    } | sort -u | (cd "$root" && cpio --quiet -pdm "$b")
    # Debian's xenstore-utils ships one binary under several names: keep the links.
    cpio_of "$b" "$out/dom0-base.cpio"
    du -sh "$b" | sed 's/^/bed: dom0 base /'
    rm -rf "$b"
fi

# --- libvirt: an extra for the scenarios that run libvirtd's libxl driver ---------------------
# (`# option: dom0-extra = libvirt`: the runner boots dom0.cpio + dom0-libvirt.cpio; the others
# do not carry its 29 packages). libvirtd, virsh and the libxl connection driver with what they
# need beyond dom0's base, and libvirt's data (schemas, CPU map).
lv=$out/libvirt-pkgs
"$here/fetch-debs" "$lv" libvirt-daemon-driver-xen libvirt-daemon libvirt-clients libvirt0 \
    dpkg libc-bin tar
# The same extra carries the project's Debian package (make deb) and dpkg to install it: dpkg,
# dpkg-deb, dpkg-split, dpkg-query, GNU tar (dpkg-deb runs it with options busybox's lacks) and
# ldconfig (dpkg wants it in PATH), and a dpkg database that
# lists the packages dom0 was made of (the bed's and this extra's), so that dpkg checks the
# .deb's dependencies against them. Without build/deb's .deb, the scenarios that install it fail
# and say so.
hdeb=$(ls -t "$top"/build/deb/hvmd_*_amd64.deb 2>/dev/null | head -1 || true)
if newer "$out/dom0-libvirt.cpio" "$lv/root.stamp" "$out/dom0-base.cpio" "$here/bed.sh" $hdeb; then
    log "dom0-libvirt.cpio"
    cpio -t --quiet < "$out/dom0-base.cpio" | sed 's|^\./||' | sort > "$out/base.list"
    e=$out/dom0-libvirt; rm -rf "$e"; mkdir -p "$e"
    {
        python3 "$here/elfclosure.py" "$lv/root" usr/sbin/libvirtd usr/bin/virsh \
            usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so
        (cd "$lv/root" && find usr/share/libvirt etc/libvirt -type f -o -type l 2>/dev/null)
        python3 "$here/elfclosure.py" "$lv/root" usr/bin/dpkg usr/bin/dpkg-deb usr/bin/dpkg-split \
            usr/bin/dpkg-query sbin/ldconfig bin/tar
    } | sort -u | comm -23 - "$out/base.list" | (cd "$lv/root" && cpio --quiet -pdm "$e")
    # The bed's CPU (QEMU TCG) has no VME, and Xen clears SEP on AMD CPUs: libvirt 9.0 then finds
    # no model in its cpu_map that the host's hw_caps hold (each x86 model names vme or sep), and
    # its libxl driver does not start ("Cannot find suitable CPU model for given data"). Real
    # CPUs have VME; the bed's copy of the map lists its oldest model, 486, without it.
    sed -i "/<feature name='vme'\/>/d" "$e/usr/share/libvirt/cpu_map/x86_486.xml"
    mkdir -p "$e"/var/lib/dpkg/{info,updates,triggers} "$e/etc/dpkg/dpkg.cfg.d" "$e/media/deb"
    : > "$e/var/lib/dpkg/available"
    declare -A listed=()
    for d in $(ls -t "$out"/debs/*.deb "$lv"/debs/*.deb); do   # the newest of each package
        c=$(dpkg-deb -f "$d")
        n=$(sed -n 's/^Package: //p' <<< "$c"); [ -z "${listed[$n]:-}" ] || continue; listed[$n]=1
        awk '/^(Package|Version|Architecture|Multi-Arch|Maintainer|Provides|Description):/ { p = 1; print; next }
             /^ / && p { print; next } { p = 0 }' <<< "$c"
        printf 'Status: install ok installed\n\n'
        # its files list: empty (dom0 holds only the files the bed needs of it)
        grep -qx 'Multi-Arch: same' <<< "$c" && n=$n:$(sed -n 's/^Architecture: //p' <<< "$c")
        : > "$e/var/lib/dpkg/info/$n.list"
    done > "$e/var/lib/dpkg/status"
    if [ -n "$hdeb" ]; then cp "$hdeb" "$e/media/deb/"; else log "no build/deb/hvmd_*_amd64.deb (make deb): the scenarios that install it will fail"; fi
    cpio_of "$e" "$out/dom0-libvirt.cpio"
    du -sh "$e" | sed 's/^/bed: libvirt extra /'
    rm -rf "$e"
fi

# --- overlay: the project's init, scenario scripts and binaries ------------------------------
o=$out/overlay; rm -rf "$o"; mkdir -p "$o"/{scenarios,bin,etc}
ln -s busybox "$o/bin/sh"
cp "$here/dom0-init" "$o/init"
echo $dom0_mods > "$o/etc/dom0-modules"
cp "$top/tests/boot/lib.sh" "$o/etc/hvmd-lib.sh"
cp "$top/tests/boot/between.sh" "$o/etc/hvmd-between.sh"
cp "$top"/tests/boot/scenarios/*.sh "$o/scenarios/"
cp "$here/guest/pattern" "$o/bin/hvmd-pattern"
# README's "On your Xen host" xl.cfg snippet (the first code block after it names xl.cfg), as it
# stands, for the scenario that boots a guest with it (hvmd-libvirt)
sed -n '/^## On your Xen host/,/^## [^O]/p' "$top/README.md" |
    awk '/xl\.cfg/ && !f { f = 1 } f && /^```/ { n++; if (n == 2) exit; next } f && n == 1' > "$o/etc/readme-xl-snippet"
${CC:-gcc} -O2 -static -o "$o/bin/hvmd-qmp" "$here/hvmd-qmp.c"   # QMP from dom0's scripts
# the users dnsmasq drops to (nobody, group dip): hvmctl's NAT networks run it
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$o/etc/passwd"
printf 'root:x:0:\ndip:x:30:\nnogroup:x:65534:\n' > "$o/etc/group"
# dm_restrict (hvmctl's default for hvmd guests): libxl runs the device model of domain D as
# uid 131072 + D, group 131072, the range xen-qemuuser-range-base starts (dm/RESTRICT.md)
echo 'xen-qemuuser-range-base:x:131072:131072:device models (dm_restrict):/nonexistent:/bin/false' >> "$o/etc/passwd"
echo 'xen-qemuuser-range-base:x:131072:' >> "$o/etc/group"
if [ -n "$staging" ] && [ -d "$staging" ]; then
    cp -a "$staging"/. "$o/"
    # the libraries the project's binaries need (libmnl, libnftables, libaio, ...), from the
    # Debian packages: those the base already has are skipped
    elfs=$(find "$staging" -type f -exec sh -c 'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
    if [ -n "$elfs" ]; then
        cpio -t --quiet < "$out/dom0-base.cpio" | sed 's|^\./||' | sort > "$out/base.list"
        python3 "$here/elfclosure.py" "$root" $elfs | sort | comm -23 - "$out/base.list" |
            (cd "$root" && cpio --quiet -pdm "$o")
    fi
fi
cpio_of "$o" "$out/dom0-overlay.cpio"
cat "$out/dom0-base.cpio" "$out/dom0-media.cpio" "$out/dom0-overlay.cpio" > "$out/dom0.cpio.tmp"
mv "$out/dom0.cpio.tmp" "$out/dom0.cpio"
log "ready: $(du -h "$out/dom0.cpio" | cut -f1) dom0 initramfs, kernel $kver"
