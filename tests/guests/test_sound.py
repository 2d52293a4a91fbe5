#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: sound from a boot sector, recorded by the WAV backend.

Scenarios (each boots SeaBIOS and a boot sector from tests/guests/asm):
  pcspk  pcspk-tone.asm: PIT channel 2 at 440 Hz, gate and data open for
         18 BIOS ticks.  `-soundhw pcspk -audiodev wav,...`.  The test
         finds the tone's frequency within 1% by counting the periods of
         the recording (crossings with hysteresis), and its length (about 1 s of virtual time).
  sb16   sb16-tone.asm: a 1 kHz sine, peak 16384, 16-bit auto-init DMA at
         48 kHz with the mixer at 0 dB, 11 blocks of 100 ms.
         `-device sb16,audiodev=a0`.  Frequency within 1%, RMS level
         within 3 dB of the sine's -9.03 dBFS, 11 interrupts, length.
  ac97   ac97-tone.asm: the same sine at 24 kHz (VRA) through the AC'97
         controller's PCM out box: 11 buffers of 100 ms from a buffer
         descriptor list, an interrupt per buffer through the PCI INTA#
         routing, `-device AC97,audiodev=a0`.  Same checks.
  opl    opl-tone.asm: the AdLib detection (timer 1 and the status port),
         then an FM channel of the OPL3 at 0x388 with a silent modulator
         holding F-number 0x241 in block 4 (437.71 Hz) at the carrier's
         full scale (-21.07 dBFS) for 18 BIOS ticks.  `-soundhw adlib`.
         Frequency within 1%, level within 3 dB, length.
  ac97-rec  ac97-loop.asm: records 1.1 s through the AC'97's PCM in box
         at 24 kHz and plays it back through PCM out.  The source is a
         440 Hz WAV file at half scale (`in.path=`), or with mode "pa"
         the private daemon's default source: the monitor of a null sink
         that pacat feeds the same tone.  Frequency within 1%, level
         within 3 dB of -9.03 dBFS, length.
Each scenario runs in real time and again with -icount 3 (virtual time
from the instruction count; the recording must be the same length of
tone: audio follows the virtual clock).

Mode "savevm": the machine is stopped as soon as the tone plays, saved
with `migrate file:` and resumed with -incoming in a new process, whose
recording must hold the rest of the tone (same frequency and level).

Mode "pa": the card plays through `-audiodev pa,server=...` to a private
PulseAudio daemon started here (`pulseaudio -n --daemonize=no
--exit-idle-time=-1`, module-null-sink), recorded from the sink's monitor
with parec; the same checks on that recording.  Skips (77) when
pulseaudio/parec are not installed.

usage: test_sound.py EMULATOR SCENARIO BOOT.BIN [icount|savevm|pa]
"""
import math
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


class PulseDaemon:
    """A private PulseAudio daemon with a null sink, recorded by parec."""

    def __init__(self, tmp, sine_source=False):
        self.tmp = tmp
        self.sock = os.path.join(tmp, 'pa.sock')
        env = dict(os.environ, XDG_RUNTIME_DIR=tmp, HOME=tmp)
        env.pop('PULSE_SERVER', None)
        self.env = env
        self.log = open(os.path.join(tmp, 'pulseaudio.log'), 'w')
        self.daemon = subprocess.Popen(
            ['pulseaudio', '-n', '--daemonize=no', '--exit-idle-time=-1',
             '--use-pid-file=no', '--disable-shm=yes', '--log-target=stderr',
             '-L', 'module-native-protocol-unix socket=%s auth-anonymous=1'
             % self.sock,
             '-L', 'module-null-sink sink_name=mimic rate=48000 channels=2']
            + (['-L', 'module-null-sink sink_name=src rate=48000 channels=2']
               if sine_source else []),
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.rec = None
        self.feed = None
        for _ in range(100):
            if os.path.exists(self.sock) and subprocess.run(
                    ['pactl', '-s', 'unix:' + self.sock, 'info'], env=env,
                    capture_output=True).returncode == 0:
                if sine_source:
                    self.feed_sine()
                return
            time.sleep(0.1)
        self.close()
        raise RuntimeError('the private PulseAudio daemon did not start')

    def server(self):
        return 'unix:' + self.sock

    def feed_sine(self):
        """The default source: the monitor of a second null sink that
        pacat feeds with 440 Hz at half scale at low latency (a source of
        its own, module-sine-source, renders in 2 s blocks)."""
        raw = os.path.join(self.tmp, 'sine.raw')
        with open(raw, 'wb') as f:
            f.write(b''.join(struct.pack('<hh', *(2 * [round(
                16383.5 * math.sin(2 * math.pi * 440 * i / 48000))]))
                for i in range(48000 * 30)))
        self.feed = subprocess.Popen(
            ['pacat', '-s', self.server(), '-d', 'src', '--raw',
             '--format=s16le', '--rate=48000', '--channels=2',
             '--latency-msec=20', raw],
            env=self.env, stdout=self.log, stderr=self.log)
        subprocess.run(['pactl', '-s', self.server(), 'set-default-source',
                        'src.monitor'], env=self.env, check=True)

    def record(self, path):
        self.raw = path
        self.rec_file = open(path, 'wb')
        self.rec = subprocess.Popen(
            ['parec', '-s', self.server(), '-d', 'mimic.monitor',
             '--format=s16le', '--rate=48000', '--channels=2', '--raw'],
            env=self.env, stdout=self.rec_file, stderr=self.log)
        time.sleep(0.5)

    def close(self):
        for p in (self.rec, self.feed, self.daemon):
            if p and p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.rec:
            self.rec_file.close()
        self.log.close()


def read_raw(path, rate=48000):
    with open(path, 'rb') as f:
        raw = f.read()
    n = len(raw) // 4
    frames = struct.unpack('<%dh' % (2 * n), raw[:4 * n])
    return rate, frames[0::2], frames[1::2]


def read_wav(path):
    with wave.open(path, 'rb') as w:
        if (w.getnchannels(), w.getsampwidth()) != (2, 2):
            raise ValueError('not 16-bit stereo: %r' % (w.getparams(),))
        rate = w.getframerate()
        raw = w.readframes(w.getnframes())
    n = len(raw) // 4
    frames = struct.unpack('<%dh' % (2 * n), raw[:4 * n])
    left = frames[0::2]
    right = frames[1::2]
    return rate, left, right


def loud_runs(x, rate, threshold=300):
    """Runs of loud 10 ms windows: [(first sample, end sample)]."""
    win = rate // 100
    runs = []
    for i in range(0, len(x) - win, win):
        if max(abs(v) for v in x[i:i + win]) > threshold:
            if runs and runs[-1][1] == i:
                runs[-1][1] = i + win
            else:
                runs.append([i, i + win])
    return runs


def tone_segment(x, rate, threshold=300):
    """From the first to the last run of at least 5 loud 10 ms windows
    (shorter runs are clicks: the speaker's cone moving once); None if
    there is no such run."""
    win = rate // 100
    runs = [r for r in loud_runs(x, rate, threshold)
            if (r[1] - r[0]) // win >= 5]
    if not runs:
        return None
    return runs[0][0], runs[-1][1]


def frequency(x, rate):
    """Rising crossings of +T after the signal was below -T (hysteresis,
    T = 30% of the peak, so that the ringing of a band-limited square wave
    near its edges is not counted), interpolated, first to last."""
    t = 0.3 * max(abs(v) for v in x)
    cross = []
    low = False
    for i in range(1, len(x)):
        if x[i] < -t:
            low = True
        elif low and x[i - 1] < t <= x[i]:
            frac = (t - x[i - 1]) / (x[i] - x[i - 1])
            cross.append(i - 1 + frac)
            low = False
    if len(cross) < 3:
        return 0.0
    return (len(cross) - 1) * rate / (cross[-1] - cross[0])


def median_frequency(x, rate):
    """The frequency from the median interval between rising crossings
    (the same hysteresis as frequency())."""
    t = 0.3 * max([abs(v) for v in x] + [1])
    cross, low = [], False
    for i in range(1, len(x)):
        if x[i] < -t:
            low = True
        elif low and x[i - 1] < t <= x[i]:
            cross.append(i - 1 + (t - x[i - 1]) / (x[i] - x[i - 1]))
            low = False
    iv = sorted(b - a for a, b in zip(cross, cross[1:]))
    return rate / iv[len(iv) // 2] if len(iv) > 20 else 0.0


def loud(x, rate):
    """The samples of the 10 ms windows that are not silent (a gap left
    by a starved real-time backend is not the tone's level)."""
    win = rate // 100
    out = []
    for i in range(0, len(x) - win + 1, win):
        w = x[i:i + win]
        if max(abs(v) for v in w) > 300:
            out += w
    return out


def rms_dbfs(x):
    if not x:
        return -200.0
    r = math.sqrt(sum(v * v for v in x) / len(x))
    return 20 * math.log10(max(r, 1e-9) / 32768)


SCEN = {
    # argv, ready/done markers, expected frequency, level (None: any above
    # -30 dBFS), tone seconds (min, max)
    'pcspk': (['-soundhw', 'pcspk'], 'SPK-ON', 'SPK-OFF', 439.97, None,
              (0.8, 1.3)),
    'sb16': (['-device', 'sb16,audiodev=a0'], 'SB-PLAY', 'SB-DONE 0B',
             1000.0, 20 * math.log10(16384 / math.sqrt(2) / 32768),
             (1.0, 1.25)),
    'ac97': (['-device', 'AC97,audiodev=a0'], 'AC97-PLAY', 'AC97-DONE 0B',
             1000.0, 20 * math.log10(16384 / math.sqrt(2) / 32768),
             (1.0, 1.25)),
    'opl': (['-soundhw', 'adlib'], 'OPL-ON', 'OPL-OFF', 437.71,
            20 * math.log10(4096 / math.sqrt(2) / 32768), (0.8, 1.3)),
    'ac97-rec': (['-device', 'AC97,audiodev=a0'], 'AC97-PLAY',
                 'AC97-LOOP-DONE', 440.0, 20 * math.log10(0.5 / math.sqrt(2)),
                 (1.0, 1.25)),
}


def write_input(path, hz=440.0, amp=0.5, secs=3.0, rate=44100):
    """The recording source of ac97-rec: a sine, 16-bit stereo."""
    with wave.open(path, 'wb') as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b''.join(
            struct.pack('<hh', *(2 * [round(32767 * amp * math.sin(
                2 * math.pi * hz * i / rate))])) for i in range(int(secs *
                                                                    rate))))


REPLIES = []  # monitor replies of the runs, for the checks


XP_REC = 'xp /19200xh 0x19600'  # ac97-rec: 0.4 s of the recorded buffer


def check_pa_recording(reply, want_hz, want_db):
    """ac97-rec through PulseAudio: what the guest recorded, read from its
    memory (0.4 s from 0.4 s into the 24 kHz stereo buffer).  The looped
    playback is not measured here: the source, the sink and the guest run
    on three clocks (the host's twice, the virtual one), and on a loaded
    host the playback ring drops frames to keep its latency, which the
    other pa scenarios already cover."""
    vals = []
    for ln in reply.split('\n'):
        if ':' in ln:
            vals += [int(t, 16) for t in ln.split(':', 1)[1].split()
                     if t.startswith('0x')]
    left = [v - 65536 if v >= 32768 else v for v in vals[0::2]]
    # The period as the median of the rising crossings' intervals, and
    # the level without runs of silence: a host that starved the
    # recording for a moment (a gap of silence, or a jump where the
    # input ring dropped its oldest frames) moves neither.
    hz = median_frequency(left, 24000)
    gaps = set()
    for i in range(len(left) - 8):
        if not any(left[i:i + 8]):
            gaps.update(range(i, i + 8))
    sound = [v for i, v in enumerate(left) if i not in gaps]
    db = rms_dbfs(sound)
    print('recorded in the guest: %d frames, %.2f Hz (median period), '
          '%.2f dBFS, %d frames in gaps' % (len(left), hz, db, len(gaps)))
    ok = len(left) == 9600 and abs(hz - want_hz) <= want_hz * 0.01 and \
        abs(db - want_db) <= 3 and len(sound) >= len(left) // 2
    print(('PASS' if ok else 'FAIL') + ': ac97-rec pa')
    return 0 if ok else 1


def loud_secs(path, threshold=300):
    """Seconds of loud 10 ms windows (48 kHz S16 stereo, left) in a WAV
    file being written (its header's sizes may not be patched yet)."""
    try:
        with open(path, 'rb') as f:
            raw = f.read()[44:]
    except OSError:
        return 0.0
    n = len(raw) // 4
    left = struct.unpack('<%dh' % (2 * n), raw[:4 * n])[0::2]
    return sum(1 for i in range(0, n - 480, 480)
               if max(abs(v) for v in left[i:i + 480]) > threshold) / 100


def run(argv, tmp, name, waits, monitor_cmds, start_delay=0, settle=0,
        until=None):
    """Run the emulator until the serial markers came, then give the
    monitor commands (the last one ends the run); None when all went.
    start_delay: start paused (-S) and continue that many seconds later.
    until: then also wait (at most 60 s) until until() is true."""
    sock = os.path.join(tmp, name + '.sock')
    emu = boottest.Emulator(
        argv + ['-monitor', 'unix:%s,server=on,wait=off' % sock] +
        (['-S'] if start_delay else []),
        os.path.join(tmp, name + '.log'))
    try:
        mon = None
        if start_delay:
            time.sleep(0.2)
            mon = boottest.Monitor(sock)
            time.sleep(start_delay)
            mon.cmd('cont')
        for w in waits:
            emu.wait_for(w, 60)
        time.sleep(settle)
        deadline = time.monotonic() + 60
        while until and not until() and time.monotonic() < deadline:
            time.sleep(0.01)
        mon = mon or boottest.Monitor(sock)
        for c in monitor_cmds[:-1]:
            reply = mon.cmd(c)
            REPLIES.append(reply)
            print('(%s) %s' % (c, reply.strip()[:300]))
        try:
            mon.cmd(monitor_cmds[-1])
        except Exception:
            pass
        rc = emu.wait_exit(30)
        if rc != 0:
            return 'exit status %d' % rc
    except boottest.BootError as e:
        print(emu.tail())
        return str(e)
    finally:
        emu.close()
    return None


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    scen = sys.argv[2]
    boot = sys.argv[3]
    mode = sys.argv[4] if len(sys.argv) == 5 else ''
    args, ready, done, want_hz, want_db, length = SCEN[scen]
    tmp = tempfile.mkdtemp(prefix='sound-')
    img = os.path.join(tmp, 'disk.img')
    with open(boot, 'rb') as f:
        sector = f.read()
    if len(sector) != 512 or sector[510:] != b'\x55\xaa':
        print('FAIL: the boot sector is not 512 bytes with a signature')
        return 1
    with open(img, 'wb') as f:
        f.write(sector)
        f.truncate(1 << 20)
    wav = os.path.join(tmp, 'out.wav')
    # ac97-rec records from a WAV input (in.path=) unless through pa.
    rec_in = ''
    if scen == 'ac97-rec':
        inwav = os.path.join(tmp, 'in.wav')
        write_input(inwav)
        rec_in = ',in.path=' + inwav
    base = [exe, '-nographic', '-m', '32', '-net', 'none',
            '-drive', 'file=%s,format=raw,if=ide' % img] + args
    if mode == 'icount':
        base += ['-icount', '3']
    if mode == 'savevm':
        # Stop the machine once 0.15 s of the tone is in the recording,
        # save it, resume it in a new process recording to the WAV file:
        # the tone goes on, with its interrupts, to the end, without a
        # gap.  A host too loaded to stop the machine within the second
        # of tone left makes the attempt void, not failed: up to three.
        state = os.path.join(tmp, 'state')
        first = os.path.join(tmp, 'first.wav')
        for attempt in range(3):
            err = run(base + ['-audiodev', 'wav,id=a0,path=%s' % first], tmp,
                      'save', [ready],
                      ['stop', 'migrate file:%s' % state, 'quit'],
                      until=lambda: loud_secs(first) >= 0.15)
            if err:
                print('FAIL: saving run: %s' % err)
                return 1
            with open(os.path.join(tmp, 'save.log'), errors='replace') as f:
                if done.split()[0] not in f.read():
                    break
            print('note: the tone ended before the machine was saved '
                  '(attempt %d): again' % (attempt + 1))
        err = run(base + ['-audiodev', 'wav,id=a0,path=%s' % wav,
                          '-incoming', 'file:%s' % state], tmp, 'resume',
                  [done], ['info audio', 'quit'])
        if err:
            print('FAIL: resumed run: %s' % err)
            return 1
        with open(os.path.join(tmp, 'save.log'), errors='replace') as f:
            if done.split()[0] in f.read():
                print('FAIL: the tone ended before the machine was saved')
                return 1
        with open(os.path.join(tmp, 'resume.log'), errors='replace') as f:
            if ready in f.read():
                print('FAIL: the resumed machine started the guest afresh')
                return 1
        r1, l1, _ = read_wav(first)
        seg1 = tone_segment(l1, r1)
        before = (seg1[1] - seg1[0]) / r1 if seg1 else 0.0
        print('tone before the save: %.3f s' % before)
        if before < 0.05:
            print('FAIL: the machine was saved before the tone played')
            return 1
        length = (1.0 - before, 1.25 - before)
    elif mode == 'pa':
        # QEMU's spelling with the server given; the card plays to the
        # private daemon's null sink, whose monitor parec records.
        for tool in ('pulseaudio', 'parec', 'pactl', 'pacat'):
            if not shutil.which(tool):
                print('SKIP: %s is not installed (make test-deps)' % tool)
                return 77
        pa = PulseDaemon(tmp, sine_source=scen == 'ac97-rec')
        try:
            raw = os.path.join(tmp, 'rec.raw')
            pa.record(raw)
            # Started paused for 2.5 s: an idle null sink renders in 2 s
            # blocks and takes that long to notice a new low-latency
            # stream (the backend would drop that backlog to keep its
            # latency, and with it the start of the tone).
            err = run(base + ['-audiodev', 'pa,id=a0,server=%s' % pa.server()],
                      tmp, 'run', [ready, done],
                      ['info audio'] +
                      ([XP_REC] if scen == 'ac97-rec' else []) + ['quit'],
                      start_delay=2.5)
            time.sleep(1.0)  # the tail of the recording reaches parec
        finally:
            pa.close()
        if err:
            print('FAIL: %s' % err)
            return 1
    else:
        err = run(base + ['-audiodev', 'wav,id=a0,path=%s%s' % (wav, rec_in)],
                  tmp,
                  'run', [ready, done], ['info audio', 'quit'])
        if err:
            print('FAIL: %s' % err)
            return 1

    if mode == 'pa':
        rate, left, right = read_raw(raw)
    else:
        rate, left, right = read_wav(wav)
    print('recording: %d frames at %d Hz (%.2f s)' % (len(left), rate,
                                                       len(left) / rate))
    if scen == 'ac97-rec' and mode == 'pa':
        return check_pa_recording(REPLIES[-1], want_hz, want_db)
    seg = tone_segment(left, rate)
    if not seg:
        print('FAIL: the recording is silent')
        return 1
    a, b = seg
    secs = (b - a) / rate
    # Skip the edges (onset, resampler ramp) for the measurements.
    edge = rate // 20
    body_l = left[a + edge:b - edge]
    body_r = right[a + edge:b - edge]
    # Host stalls the mixer counted (real time on a loaded host): each
    # may leave a gap, cut the tone short (a timeline restarted after a
    # second) or lengthen it (the guest saw block interrupts merged).
    stalls = [(int(n), int(ms)) for r in REPLIES for n, ms in
              re.findall(r'(\d+) host stalls \((\d+) ms\)', r)]
    stall_ms = sum(ms for _, ms in stalls)
    if mode in ('', 'pa'):
        # Real time: the period as the median of the crossing intervals
        # and the level over the sounding windows, which a gap or a jump
        # (a ring that dropped frames) move not.
        body_l = loud(body_l, rate) or body_l
        body_r = loud(body_r, rate) or body_r
        hz = median_frequency(body_l, rate)
    else:
        hz = frequency(body_l, rate)
    db = rms_dbfs(body_l)
    db_r = rms_dbfs(body_r)
    print('tone: %.3f s, %.2f Hz, %.2f dBFS left, %.2f dBFS right' %
          (secs, hz, db, db_r))
    ok = True
    if abs(hz - want_hz) > want_hz * 0.01:
        print('FAIL: frequency %.2f Hz, want %.2f Hz +- 1%%' % (hz, want_hz))
        ok = False
    if want_db is not None:
        for side, d in (('left', db), ('right', db_r)):
            if abs(d - want_db) > 3:
                print('FAIL: %s level %.2f dBFS, want %.2f +- 3 dB' %
                      (side, d, want_db))
                ok = False
    elif db < -30:
        print('FAIL: level %.2f dBFS is too quiet' % db)
        ok = False
    win = rate // 100
    for ra, rb in loud_runs(left, rate):
        if (rb - ra) // win < 5:
            print('note: a click of %d ms at %.2f s' % (10 * (rb - ra) // win,
                                                      ra / rate))
    quiet = sum(1 for i in range(a, b - win, win)
                if max(abs(v) for v in left[i:i + win]) <= 300)
    # Through PulseAudio in real time a starved server (the host too busy
    # to run the emulator for tens of ms) plays silence: allowed only as
    # far as the backend counted those underruns (at most 100 ms each).
    underruns = sum(int(n) for r in REPLIES
                    for n in re.findall(r'(\d+) underruns', r))
    allowed = 10 * underruns if mode == 'pa' else 0
    if mode in ('', 'pa'):
        # Real time on a loaded host: a stall of the emulator over a
        # second restarts the mixer's timeline and may leave one empty
        # tick (a known glitch, see docs/design.md), and a counted stall
        # its length in silence; -icount and the savevm run allow none.
        allowed += 2 + stall_ms // 10
        length = (length[0] - stall_ms / 1000, length[1] + stall_ms / 1000)
        print('host stalls: %s (%d ms in all)' % (stalls, stall_ms))
    if quiet > allowed:
        print('FAIL: the tone has a gap (%d silent 10 ms windows; %d '
              'allowed by %d counted underruns)' % (quiet, allowed,
                                                    underruns))
        ok = False
    elif quiet:
        print('note: %d silent 10 ms windows inside the tone, explained by '
              '%d counted PulseAudio underruns' % (quiet, underruns))
    if not length[0] <= secs <= length[1]:
        print('FAIL: tone lasts %.3f s, want %.2f..%.2f s' %
              (secs, length[0], length[1]))
        ok = False
    if ok:
        print('PASS: %s %s' % (scen, mode))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
