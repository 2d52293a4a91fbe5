#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: Debian's Linux plays a 1 kHz tone through the AC'97
(snd-intel8x0) or the Sound Blaster 16 (snd-sb16) with its own driver,
recorded by the WAV backend.

The test builds an initramfs of its own from the demo guest's cache
(scripts/guests: Debian's i686 kernel package and busybox-static): the
sound modules of the same kernel package (snd-intel8x0 and what it
depends on, found from each module's `depends=`; snd-pcm-oss for
/dev/dsp), `ossmix` (tests/guests/asm/ossmix.asm: unmutes master and PCM
through /dev/mixer), and 1.2 s of a 1 kHz sine, unsigned 8-bit mono at
8000 Hz (the OSS default format), which /init writes to /dev/dsp.  Then
`poweroff -f` ends the emulator; the recording must hold the tone within
1% and its level within 3 dB of the sine's (-5.15 dBFS: peak 100 of 128,
master and PCM at 0 dB), lasting 1.0-1.4 s (the driver stops the DMA when
the data ran out: a late stop would replay stale buffer contents).  The
guest prints its ALSA hw_params, codec registers and stream status into
the serial log for diagnosis.

`EMU -nographic -m 128 -kernel vmlinuz -initrd snd-initrd.gz
 -append console=ttyS0,115200
 -device AC97,audiodev=a0 -audiodev wav,id=a0,path=out.wav`

For the SB16 the module gets the card's resources (isapnp=0 port=0x220
irq=5 dma8=1 dma16=5) and ossmix sets PCM (the voice volume) to 100%.

usage: test_sound_linux.py EMULATOR OSSMIX [ac97|sb16]
"""
import glob
import math
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402
import test_sound  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
CARDS = {
    # card: (modules wanted, module arguments, ossmix PCM %, -device list)
    'ac97': (['snd-intel8x0', 'snd-pcm-oss'], {}, '75', ['AC97']),
    'sb16': (['snd-sb16', 'snd-pcm-oss'],
             {'snd-sb16': 'isapnp=0 port=0x220 irq=5 dma8=1 dma16=5'},
             '100', ['sb16']),
    # Intel HDA with our generic codec: Linux's generic parser (loaded
    # first: nothing in the initramfs answers the kernel's request_module).
    'hda': (['snd-hda-codec-generic', 'snd-hda-intel', 'snd-pcm-oss'], {},
            '100', ['intel-hda', 'hda-duplex']),
}

INIT = '''#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read m args; do
    insmod /lib/modules/$m.ko $args || echo "SND-INSMOD-FAIL $m"
done < /modules.order
cat /proc/asound/cards
echo SND-LOADED
/ossmix $(cat /pcm-volume) || echo SND-MIXER-FAIL
echo SND-PLAY
(cat /sine.u8 > /dev/dsp && echo SND-PLAYED) &
sleep 0.3
cat /proc/asound/card0/pcm0p/sub0/hw_params
grep -E '^0:(02|18|2a|2c)' /proc/asound/card0/codec97#0/ac97#0-0+regs
grep -E 'state|hw_ptr|appl_ptr' /proc/asound/card0/pcm0p/sub0/status
wait
busybox poweroff -f
'''


def depends(ko):
    with open(ko, 'rb') as f:
        data = f.read()
    i = data.find(b'\0depends=')
    if i < 0:
        return []
    dep = data[i + 9:data.index(b'\0', i + 9)].decode()
    return [d.replace('_', '-') for d in dep.split(',') if d]


def module_paths(kdir):
    paths = {}
    for ko in glob.glob(os.path.join(kdir, '**', '*.ko'), recursive=True):
        name = os.path.basename(ko)[:-3].replace('_', '-')
        paths[name] = ko
    return paths


def load_order(paths, wanted):
    order = []

    def visit(n):
        if n in order:
            return
        for d in depends(paths[n]):
            visit(d)
        order.append(n)
    for w in wanted:
        visit(w)
    return order


def build_initrd(tmp, ossmix, card):
    wanted, margs, pcm, _ = CARDS[card]
    cache = boottest.CACHE
    # The package of the kernel we boot (fetch.sh records its version).
    with open(os.path.join(cache, 'root', 'kernel-version')) as f:
        kver = f.read().strip()
    debs = glob.glob(os.path.join(cache, 'debs',
                                  'linux-image-%s_*.deb' % kver))
    if not debs:
        raise RuntimeError('no package of kernel %s in %s' % (kver, cache))
    k = os.path.join(tmp, 'k')
    os.makedirs(k)
    p1 = subprocess.Popen(['dpkg-deb', '--fsys-tarfile', debs[0]],
                          stdout=subprocess.PIPE)
    # (snd-hda-codec-generic needs ledtrig-audio from drivers/leds.)
    subprocess.run(['tar', '-x', '-C', k, '--wildcards',
                    './lib/modules/*/kernel/sound/*',
                    './lib/modules/*/kernel/drivers/leds/*'], stdin=p1.stdout,
                   check=True)
    p1.wait()
    paths = module_paths(os.path.join(k, 'lib', 'modules'))
    order = load_order(paths, wanted)
    print('modules: ' + ' '.join(order))
    st = os.path.join(tmp, 'stage')
    for d in ('bin', 'dev', 'proc', 'sys', 'lib/modules'):
        os.makedirs(os.path.join(st, d))
    shutil.copy(os.path.join(cache, 'root', 'busybox'),
                os.path.join(st, 'bin', 'busybox'))
    os.symlink('busybox', os.path.join(st, 'bin', 'sh'))
    for n in order:
        shutil.copy(paths[n], os.path.join(st, 'lib', 'modules', n + '.ko'))
    with open(os.path.join(st, 'modules.order'), 'w') as f:
        for n in order:
            f.write(('%s %s' % (n, margs.get(n, ''))).strip() + '\n')
    with open(os.path.join(st, 'pcm-volume'), 'w') as f:
        f.write(pcm + '\n')
    with open(os.path.join(st, 'init'), 'w') as f:
        f.write(INIT)
    shutil.copy(ossmix, os.path.join(st, 'ossmix'))
    # 1.2 s of 1 kHz at 8000 Hz, unsigned 8-bit, peak 100.
    period = bytes(round(128 + 100 * math.sin(2 * math.pi * i / 8))
                   for i in range(8))
    with open(os.path.join(st, 'sine.u8'), 'wb') as f:
        f.write(period * 1200)
    for f in ('init', 'ossmix', 'bin/busybox'):
        os.chmod(os.path.join(st, f), 0o755)
    out = os.path.join(tmp, 'snd-initrd.gz')
    subprocess.run([sys.executable,
                    os.path.join(SRC, 'scripts', 'guests', 'mkcpio.py'),
                    st, out, '--node', '/dev/console:600:c:5:1',
                    '--node', '/dev/null:666:c:1:3',
                    '--node', '/dev/ttyS0:660:c:4:64'], check=True)
    return out


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    ossmix = sys.argv[2]
    card = sys.argv[3] if len(sys.argv) == 4 else 'ac97'
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='sound-linux-')
    initrd = build_initrd(tmp, ossmix, card)
    wav = os.path.join(tmp, 'out.wav')
    emu = boottest.Emulator(
        [exe, '-nographic', '-m', '128', '-net', 'none',
         '-kernel', os.path.join(boottest.CACHE, 'vmlinuz'),
         '-initrd', initrd,
         '-append', 'console=ttyS0,115200',
         ] + [a for d in CARDS[card][3][:-1] for a in ('-device', d)] + [
         '-device', '%s,audiodev=a0' % CARDS[card][3][-1],
         '-audiodev', 'wav,id=a0,path=%s' % wav],
        os.path.join(tmp, 'serial.log'))
    try:
        emu.wait_for('SND-LOADED', 600)
        emu.wait_for('SND-PLAY', 60)
        emu.wait_for('SND-PLAYED', 120)
        rc = emu.wait_exit(60)
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        print(emu.tail())
        return 1
    finally:
        emu.close()
    with open(os.path.join(tmp, 'serial.log'), errors='replace') as f:
        log = f.read()
    for bad in ('SND-INSMOD-FAIL', 'SND-MIXER-FAIL'):
        if bad in log:
            print('FAIL: %s in the guest' % bad)
            print(log[-3000:])
            return 1
    if rc != 0:
        print('FAIL: exit status %d' % rc)
        return 1
    rate, left, right = test_sound.read_wav(wav)
    seg = test_sound.tone_segment(left, rate)
    if not seg:
        print('FAIL: the recording is silent')
        return 1
    a, b = seg
    secs = (b - a) / rate
    edge = rate // 20
    hz = test_sound.frequency(left[a + edge:b - edge], rate)
    db_l = test_sound.rms_dbfs(left[a + edge:b - edge])
    db_r = test_sound.rms_dbfs(right[a + edge:b - edge])
    want_db = 20 * math.log10(100 * 256 / math.sqrt(2) / 32768)
    print('tone: %.3f s, %.2f Hz, %.2f / %.2f dBFS (want 1000 Hz, %.2f '
          'dBFS)' % (secs, hz, db_l, db_r, want_db))
    ok = abs(hz - 1000) <= 10 and abs(db_l - want_db) <= 3 and \
        abs(db_r - want_db) <= 3 and 1.0 <= secs <= 1.4
    print('PASS' if ok else 'FAIL')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
