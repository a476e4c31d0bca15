# about: development scratch for hvmctl run -j (manual)
# option: manual = yes
# step: dev 400
. /etc/hvmd-lib.sh
pv_cfg() {
    cat <<CFG
name = "$1"
type = "pv"
kernel = "/media/guest-vmlinuz"
ramdisk = "/media/guest-initrd.gz"
cmdline = "console=hvc0 $2"
memory = 256
vcpus = 1
tsc_mode = "native"
CFG
}
pv_cfg par-a "quiet hvmd.checks=poweroff" > /tmp/par-a.cfg
pv_cfg par-b "quiet hvmd.checks=poweroff" > /tmp/par-b.cfg
xl info | grep -E "memory|nr_cpus" | sed 's/^/<info> /'
hvmctl run -v -j 2 /tmp/par-a.cfg /tmp/par-b.cfg --step-timeout 170 \
    --expect 'pv:^HVMD-GUEST-UP' --artifacts /tmp/art > /tmp/par.out 2>&1
echo "rc=$?"
sed 's/^/<out> /' /tmp/par.out
for f in /tmp/art/*/hvmctl.log; do sed "s|^|<$f> |" "$f"; done
xl list | sed 's/^/<xl> /'
step dev
