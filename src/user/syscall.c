/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The system calls of user mode, on generic numbers (syscalls.def): most
 * go to the host kernel with the guest's buffers passed in place (guest
 * memory is host memory at guest_base); structures whose layout or byte
 * order differ are converted (stat, statx, dirents, iovecs, timespecs of
 * 32-bit guests, sigaction); flags whose values differ are translated
 * through the architecture's tables (open, mmap); errors come back as the
 * guest's errno values.  Paths under the -L sysroot win over the host's,
 * and /proc/self/exe, /proc/self/maps and /proc/cpuinfo show the guest.
 *
 * Reference: the Linux man-pages (section 2) for each call; the kernel's
 * uapi headers of each architecture for the layouts.
 */
#include "user/user.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <linux/stat.h>

#include "bus/log.h"

UserProc *user_the_proc;
__thread UserThread *user_self;

static const char *const sys_names[US_count] = {
    [US_none] = "?",
#define USER_SYSCALL(name) [US_##name] = #name,
#include "user/syscalls.def"
#undef USER_SYSCALL
};

const char *user_sys_name(UserSys sys)
{
    return sys > US_none && sys < US_count ? sys_names[sys] : NULL;
}

int user_errno_to_guest(const UserArch *arch, int host)
{
    for (const UserMapEntry *m = arch->errnos; m && m->host; m++) {
        if (m->host == host) {
            return m->guest;
        }
    }
    return host;
}

int user_sig_to_guest(const UserArch *arch, int host)
{
    for (const UserMapEntry *m = arch->signals; m && m->host; m++) {
        if (m->host == host) {
            return m->guest;
        }
    }
    return host;
}

int user_sig_to_host(const UserArch *arch, int guest)
{
    for (const UserMapEntry *m = arch->signals; m && m->host; m++) {
        if (m->guest == guest) {
            return m->host;
        }
    }
    return guest;
}

static int bits_to_host(const UserMapEntry *map, uint64_t g, uint64_t *left)
{
    int h = 0;
    for (const UserMapEntry *m = map; m && m->host; m++) {
        if (g & (uint64_t)(unsigned)m->guest) {
            h |= m->host;
            g &= ~(uint64_t)(unsigned)m->guest;
        }
    }
    if (left) {
        *left = g;
    }
    return h;
}

static uint64_t bits_to_guest(const UserMapEntry *map, int h)
{
    uint64_t g = 0;
    for (const UserMapEntry *m = map; m && m->host; m++) {
        if (h & m->host) {
            g |= (unsigned)m->guest;
            h &= ~m->host;
        }
    }
    return g | (unsigned)h;
}

static int open_flags_to_host(UserProc *p, uint64_t g)
{
    uint64_t left;
    if (!p->arch->open_flags) {
        return (int)g; /* the generic values: the host's */
    }
    int h = bits_to_host(p->arch->open_flags, g & ~3ull, &left);
    return h | (int)(g & 3) | (int)(left & ~0xffffull);
}

/* ---- paths ---- */

static char *fake_file(const char *text, size_t len)
{
    int fd = memfd_create("mimic", MFD_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    if (write(fd, text, len) != (ssize_t)len) {
        close(fd);
        return NULL;
    }
    lseek(fd, 0, SEEK_SET);
    return g_strdup_printf("/proc/self/fd/%d", fd);
}

/* The host path for a guest path: the sysroot's copy if there is one,
   the guest's view of /proc/self.  Returns a new string. */
static char *host_path(UserProc *p, const char *g, bool follow_proc)
{
    if (!strcmp(g, "/proc/self/exe") ||
        (g_str_has_prefix(g, "/proc/") && g_str_has_suffix(g, "/exe") &&
         atoi(g + 6) == getpid())) {
        return g_strdup(p->exe_path);
    }
    if (follow_proc && !strcmp(g, "/proc/self/maps")) {
        char *t = user_maps_text(p);
        char *r = fake_file(t, strlen(t));
        g_free(t);
        return r ? r : g_strdup(g);
    }
    if (follow_proc && !strcmp(g, "/proc/cpuinfo")) {
        char *r = fake_file(p->arch->cpuinfo, strlen(p->arch->cpuinfo));
        return r ? r : g_strdup(g);
    }
    if (p->sysroot && g[0] == '/' && g[1]) {
        char *s = user_sysroot_path(p, g);
        if (s) {
            return s;
        }
    }
    return g_strdup(g);
}

char *user_sysroot_path(UserProc *p, const char *g)
{
    /* An absolute symbolic link inside the sysroot points into it (the
       loader's /lib64/ld.so.1 -> /lib/.../ld.so.1). */
    g_autofree char *cur = g_strdup(g);
    for (int i = 0; i < 8; i++) {
        char *s = g_build_filename(p->sysroot, cur, NULL);
        struct stat st;
        if (lstat(s, &st) < 0) {
            g_free(s);
            return NULL;
        }
        if (!S_ISLNK(st.st_mode)) {
            return s;
        }
        char *target = g_file_read_link(s, NULL);
        if (!target || target[0] != '/') {
            g_free(target);
            return s;
        }
        g_free(s);
        g_free(cur);
        cur = target;
    }
    return NULL;
}

/* A guest string: NULL if it runs off the window. */
static const char *gstr(UserProc *p, uint64_t addr)
{
    if (!addr || !user_range_ok(p, addr, 1)) {
        return NULL;
    }
    return (const char *)g2h(p, addr);
}

#define GSTR(var, addr)                                                      \
    const char *var = gstr(p, addr);                                         \
    if (!var) {                                                              \
        return -EFAULT;                                                      \
    }

#define HPATH(var, addr)                                                     \
    GSTR(var##_g, addr);                                                     \
    g_autofree char *var = host_path(p, var##_g, true)

static void *gptr(UserProc *p, uint64_t addr, uint64_t len)
{
    if (!addr || !user_range_ok(p, addr, len)) {
        return NULL;
    }
    return g2h(p, addr);
}

static int64_t ret(int64_t r)
{
    return r < 0 ? -errno : r;
}

static int dirfd_host(int64_t fd)
{
    return (int)fd == -100 ? AT_FDCWD : (int)fd;
}

/* ---- stat family ---- */

/* MIPS o32 stat64 and n64 stat share one 104-byte layout. */
static void put_stat_mips(UserProc *p, uint64_t g, const struct stat *st)
{
    memset(g2h(p, g), 0, 104);
    user_put32(p, g + 0, (uint32_t)st->st_dev);
    user_put64(p, g + 16, st->st_ino);
    user_put32(p, g + 24, st->st_mode);
    user_put32(p, g + 28, (uint32_t)st->st_nlink);
    user_put32(p, g + 32, st->st_uid);
    user_put32(p, g + 36, st->st_gid);
    user_put32(p, g + 40, (uint32_t)st->st_rdev);
    user_put64(p, g + 56, (uint64_t)st->st_size);
    user_put32(p, g + 64, (uint32_t)st->st_atim.tv_sec);
    user_put32(p, g + 68, (uint32_t)st->st_atim.tv_nsec);
    user_put32(p, g + 72, (uint32_t)st->st_mtim.tv_sec);
    user_put32(p, g + 76, (uint32_t)st->st_mtim.tv_nsec);
    user_put32(p, g + 80, (uint32_t)st->st_ctim.tv_sec);
    user_put32(p, g + 84, (uint32_t)st->st_ctim.tv_nsec);
    user_put32(p, g + 88, (uint32_t)st->st_blksize);
    user_put64(p, g + 96, (uint64_t)st->st_blocks);
}

/* i386 struct stat64 (96 bytes, packed 4-byte alignment). */
static void put_stat64_i386(UserProc *p, uint64_t g, const struct stat *st)
{
    memset(g2h(p, g), 0, 96);
    user_put64(p, g + 0, st->st_dev);
    user_put32(p, g + 12, (uint32_t)st->st_ino);
    user_put32(p, g + 16, st->st_mode);
    user_put32(p, g + 20, (uint32_t)st->st_nlink);
    user_put32(p, g + 24, st->st_uid);
    user_put32(p, g + 28, st->st_gid);
    user_put64(p, g + 32, st->st_rdev);
    user_put64(p, g + 44, (uint64_t)st->st_size);
    user_put32(p, g + 52, (uint32_t)st->st_blksize);
    user_put64(p, g + 56, (uint64_t)st->st_blocks);
    user_put32(p, g + 64, (uint32_t)st->st_atim.tv_sec);
    user_put32(p, g + 68, (uint32_t)st->st_atim.tv_nsec);
    user_put32(p, g + 72, (uint32_t)st->st_mtim.tv_sec);
    user_put32(p, g + 76, (uint32_t)st->st_mtim.tv_nsec);
    user_put32(p, g + 80, (uint32_t)st->st_ctim.tv_sec);
    user_put32(p, g + 84, (uint32_t)st->st_ctim.tv_nsec);
    user_put64(p, g + 88, st->st_ino);
}

/* x86-64 struct stat (144 bytes). */
static void put_stat_x86_64(UserProc *p, uint64_t g, const struct stat *st)
{
    memset(g2h(p, g), 0, 144);
    static const struct { uint8_t off, size; } f[] = {
        { 0, 8 }, { 8, 8 }, { 16, 8 }, { 24, 4 }, { 28, 4 }, { 32, 4 },
        { 40, 8 }, { 48, 8 }, { 56, 8 }, { 64, 8 }, { 72, 8 }, { 80, 8 },
        { 88, 8 }, { 96, 8 }, { 104, 8 }, { 112, 8 },
    };
    const uint64_t v[] = {
        st->st_dev, st->st_ino, st->st_nlink, st->st_mode, st->st_uid,
        st->st_gid, st->st_rdev, (uint64_t)st->st_size,
        (uint64_t)st->st_blksize, (uint64_t)st->st_blocks,
        (uint64_t)st->st_atim.tv_sec, (uint64_t)st->st_atim.tv_nsec,
        (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
        (uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(f); i++) {
        if (f[i].size == 8) {
            user_put64(p, g + f[i].off, v[i]);
        } else {
            user_put32(p, g + f[i].off, (uint32_t)v[i]);
        }
    }
}

static int64_t put_stat(UserProc *p, uint64_t g, const struct stat *st)
{
    if (!gptr(p, g, p->arch->stat_kind == 2 ? 144 : 104)) {
        return -EFAULT;
    }
    if (p->arch->stat_kind == 2) {
        put_stat_x86_64(p, g, st);
    } else if (p->arch->stat_kind == 1) {
        put_stat64_i386(p, g, st);
    } else {
        put_stat_mips(p, g, st);
    }
    return 0;
}

static void swap_statx(UserProc *p, uint8_t *b)
{
    if (!p->arch->big_endian) {
        return;
    }
    static const uint8_t sizes[] = {
        4, 4, 8, 4, 4, 4, 2, 2, 8, 8, 8, 8,
        8, 4, 4, 8, 4, 4, 8, 4, 4, 8, 4, 4,
        4, 4, 4, 4, 8, 4, 4 };
    size_t off = 0;
    for (size_t i = 0; i < sizeof(sizes); i++) {
        if (sizes[i] == 2) {
            uint16_t v;
            memcpy(&v, b + off, 2);
            v = GUINT16_SWAP_LE_BE(v);
            memcpy(b + off, &v, 2);
        } else if (sizes[i] == 4) {
            uint32_t v;
            memcpy(&v, b + off, 4);
            v = GUINT32_SWAP_LE_BE(v);
            memcpy(b + off, &v, 4);
        } else {
            uint64_t v;
            memcpy(&v, b + off, 8);
            v = GUINT64_SWAP_LE_BE(v);
            memcpy(b + off, &v, 8);
        }
        off += sizes[i];
    }
}

/* 32-bit guests: struct timespec of 32-bit longs (the old calls). */
static bool get_ts(UserProc *p, uint64_t g, bool t64, struct timespec *ts)
{
    if (p->arch->is64 || t64) {
        if (!gptr(p, g, 16)) {
            return false;
        }
        ts->tv_sec = (time_t)user_get64(p, g);
        ts->tv_nsec = (long)(int64_t)user_get64(p, g + 8);
        if (!p->arch->is64) {
            ts->tv_nsec = (long)(int32_t)ts->tv_nsec;
        }
    } else {
        if (!gptr(p, g, 8)) {
            return false;
        }
        ts->tv_sec = (int32_t)user_get32(p, g);
        ts->tv_nsec = (int32_t)user_get32(p, g + 4);
    }
    return true;
}

static int64_t put_ts(UserProc *p, uint64_t g, bool t64,
                      const struct timespec *ts)
{
    if (p->arch->is64 || t64) {
        if (!gptr(p, g, 16)) {
            return -EFAULT;
        }
        user_put64(p, g, (uint64_t)ts->tv_sec);
        user_put64(p, g + 8, (uint64_t)ts->tv_nsec);
    } else {
        if (!gptr(p, g, 8)) {
            return -EFAULT;
        }
        user_put32(p, g, (uint32_t)ts->tv_sec);
        user_put32(p, g + 4, (uint32_t)ts->tv_nsec);
    }
    return 0;
}

/* Guest iovecs to host ones (at most IOV_MAX). */
static int64_t get_iov(UserProc *p, uint64_t g, uint64_t n,
                       struct iovec **out)
{
    unsigned w = p->arch->is64 ? 8 : 4;
    if (n > 1024) {
        return -EINVAL;
    }
    if (!gptr(p, g, n * 2 * w) && n) {
        return -EFAULT;
    }
    struct iovec *v = g_new0(struct iovec, n ? n : 1);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t base = user_get_ulong(p, g + i * 2 * w);
        uint64_t len = user_get_ulong(p, g + i * 2 * w + w);
        if (len && !gptr(p, base, len)) {
            g_free(v);
            return -EFAULT;
        }
        v[i].iov_base = len ? g2h(p, base) : NULL;
        v[i].iov_len = len;
    }
    *out = v;
    return 0;
}

/* ---- ioctl: the terminal ones ---- */

/* MIPS's struct termios: 23 control characters in its own order, and
   three c_lflag bits elsewhere (asm/termbits.h); the other flags are the
   generic values. */
static const int8_t mips_cc[][2] = {
    { VINTR, 0 }, { VQUIT, 1 }, { VERASE, 2 }, { VKILL, 3 }, { VMIN, 4 },
    { VTIME, 5 }, { VEOL2, 6 }, { VSWTC, 7 }, { VSTART, 8 }, { VSTOP, 9 },
    { VSUSP, 10 }, { VREPRINT, 12 }, { VDISCARD, 13 }, { VWERASE, 14 },
    { VLNEXT, 15 }, { VEOF, 16 }, { VEOL, 17 },
};
static const UserMapEntry mips_lflags[] = {
    { ISIG, 01 }, { ICANON, 02 }, { XCASE, 04 }, { ECHO, 010 },
    { ECHOE, 020 }, { ECHOK, 040 }, { ECHONL, 0100 }, { NOFLSH, 0200 },
    { IEXTEN, 0400 }, { ECHOCTL, 01000 }, { ECHOPRT, 02000 },
    { ECHOKE, 04000 }, { FLUSHO, 020000 }, { PENDIN, 040000 },
    { TOSTOP, 0100000 }, { EXTPROC, 0200000 }, { 0, 0 }
};

static void termios_to_guest(UserProc *p, const struct termios *t,
                             uint64_t g, uint8_t *b)
{
    const bool mips = p->arch->e_machine == 8;
    memset(b, 0, mips ? 40 : 36);
    user_put32(p, g, t->c_iflag);
    user_put32(p, g + 4, t->c_oflag);
    user_put32(p, g + 8, t->c_cflag);
    user_put32(p, g + 12, mips ? (uint32_t)bits_to_guest(mips_lflags,
                                                         (int)t->c_lflag)
                               : t->c_lflag);
    b[16] = t->c_line;
    if (mips) {
        for (size_t i = 0; i < G_N_ELEMENTS(mips_cc); i++) {
            b[17 + mips_cc[i][1]] = t->c_cc[mips_cc[i][0]];
        }
    } else {
        memcpy(b + 17, t->c_cc, MIN(sizeof(t->c_cc), 19));
    }
}

static void termios_from_guest(UserProc *p, struct termios *t, uint64_t g,
                               const uint8_t *b)
{
    const bool mips = p->arch->e_machine == 8;
    t->c_iflag = user_get32(p, g);
    t->c_oflag = user_get32(p, g + 4);
    t->c_cflag = user_get32(p, g + 8);
    uint32_t l = user_get32(p, g + 12);
    t->c_lflag = mips ? (tcflag_t)bits_to_host(mips_lflags, l, NULL) : l;
    t->c_line = b[16];
    if (mips) {
        for (size_t i = 0; i < G_N_ELEMENTS(mips_cc); i++) {
            t->c_cc[mips_cc[i][0]] = b[17 + mips_cc[i][1]];
        }
    } else {
        memcpy(t->c_cc, b + 17, MIN(sizeof(t->c_cc), 19));
    }
}

typedef struct IoctlMap {
    uint32_t guest;
    unsigned long host;
} IoctlMap;

static int64_t do_ioctl(UserProc *p, int fd, uint32_t req, uint64_t arg)
{
    const bool mips = p->arch->e_machine == 8;
    /* MIPS numbers its terminal ioctls its own way. */
    static const IoctlMap mips_ioctls[] = {
        { 0x540d, TCGETS }, { 0x540e, TCSETS }, { 0x540f, TCSETSW },
        { 0x5410, TCSETSF }, { 0x40087468, TIOCGWINSZ },
        { 0x80087467, TIOCSWINSZ }, { 0x40047477, TIOCGPGRP },
        { 0x80047476, TIOCSPGRP }, { 0x467f, FIONREAD }, { 0x667e, FIONBIO },
        { 0x5480, TIOCSCTTY }, { 0x5471, TIOCNOTTY }, { 0x5409, TCSBRK },
        { 0x540b, TCFLSH }, { 0x5406, TCXONC }, { 0x7416, TIOCGSID },
        { 0, 0 } };
    unsigned long h = req;
    if (mips) {
        h = 0;
        for (const IoctlMap *m = mips_ioctls; m->guest; m++) {
            if (m->guest == req) {
                h = m->host;
            }
        }
        if (!h) {
            mimic_log_unimp("user: ioctl 0x%x not implemented", req);
            return -ENOTTY;
        }
    }
    switch (h) {
    case TCGETS: {
        struct termios t;
        if (tcgetattr(fd, &t) < 0) {
            return -errno;
        }
        uint8_t *b = gptr(p, arg, mips ? 40 : 36);
        if (!b) {
            return -EFAULT;
        }
        termios_to_guest(p, &t, arg, b);
        return 0;
    }
    case TCSETS: case TCSETSW: case TCSETSF: {
        struct termios t;
        if (tcgetattr(fd, &t) < 0) {
            return -errno;
        }
        uint8_t *b = gptr(p, arg, mips ? 40 : 36);
        if (!b) {
            return -EFAULT;
        }
        termios_from_guest(p, &t, arg, b);
        int act = h == TCSETS ? TCSANOW : h == TCSETSW ? TCSADRAIN
                                                        : TCSAFLUSH;
        return tcsetattr(fd, act, &t) < 0 ? -errno : 0;
    }
    case TIOCGWINSZ: case TIOCSWINSZ: {
        uint16_t *w = gptr(p, arg, 8);
        if (!w) {
            return -EFAULT;
        }
        struct winsize ws;
        if (h == TIOCSWINSZ) {
            ws.ws_row = ug16(p, w[0]);
            ws.ws_col = ug16(p, w[1]);
            ws.ws_xpixel = ug16(p, w[2]);
            ws.ws_ypixel = ug16(p, w[3]);
        }
        if (ioctl(fd, h, &ws) < 0) {
            return -errno;
        }
        if (h == TIOCGWINSZ) {
            w[0] = ug16(p, ws.ws_row);
            w[1] = ug16(p, ws.ws_col);
            w[2] = ug16(p, ws.ws_xpixel);
            w[3] = ug16(p, ws.ws_ypixel);
        }
        return 0;
    }
    case TIOCGPGRP: case TIOCGSID: case FIONREAD: {
        int v;
        if (!gptr(p, arg, 4)) {
            return -EFAULT;
        }
        if (ioctl(fd, h, &v) < 0) {
            return -errno;
        }
        user_put32(p, arg, (uint32_t)v);
        return 0;
    }
    case TIOCSPGRP: case FIONBIO: {
        if (!gptr(p, arg, 4)) {
            return -EFAULT;
        }
        int v = (int)user_get32(p, arg);
        return ioctl(fd, h, &v) < 0 ? -errno : 0;
    }
    case TIOCSCTTY: case TIOCNOTTY: case TCSBRK: case TCFLSH: case TCXONC:
        return ioctl(fd, h, (unsigned long)arg) < 0 ? -errno : 0;
    default:
        mimic_log_unimp("user: ioctl 0x%x not implemented", req);
        return -ENOTTY;
    }
}

/* ---- fcntl ---- */

static int64_t do_fcntl(UserProc *p, int fd, uint32_t cmd, uint64_t arg)
{
    const bool mips = p->arch->e_machine == 8;
    int h = (int)cmd;
    if (mips) {
        switch (cmd) {
        case 14: h = F_GETLK; break;
        case 23: h = F_GETOWN; break;
        case 24: h = F_SETOWN; break;
        case 33: h = F_GETLK; break;
        case 34: h = F_SETLK; break;
        case 35: h = F_SETLKW; break;
        default: break;
        }
    }
    switch (h) {
    case F_DUPFD: case F_DUPFD_CLOEXEC: case F_GETFD: case F_SETFD:
    case F_GETOWN: case F_SETOWN: case F_GETPIPE_SZ: case F_SETPIPE_SZ:
        return ret(fcntl(fd, h, (int)arg));
    case F_GETFL: {
        int r = fcntl(fd, F_GETFL);
        if (r < 0) {
            return -errno;
        }
        return (int64_t)(bits_to_guest(p->arch->open_flags, r & ~3) |
                         (r & 3));
    }
    case F_SETFL:
        return ret(fcntl(fd, F_SETFL, open_flags_to_host(p, arg)));
    case F_GETLK: case F_SETLK: case F_SETLKW:
        /* Record locks: whole-file advisory locks are all busybox takes;
           report success without a lock holder. */
        if (h == F_GETLK && gptr(p, arg, 2)) {
            uint16_t t = ug16(p, F_UNLCK);
            memcpy(g2h(p, arg), &t, 2);
        }
        return 0;
    default:
        mimic_log_unimp("user: fcntl %u not implemented", cmd);
        return -EINVAL;
    }
}

/* ---- getdents64: same layout, fields in guest order ---- */

static int64_t do_getdents64(UserProc *p, int fd, uint64_t g, uint64_t len)
{
    uint8_t *b = gptr(p, g, len);
    if (!b) {
        return -EFAULT;
    }
    long n = syscall(SYS_getdents64, fd, b, (size_t)len);
    if (n < 0) {
        return -errno;
    }
    if (p->arch->big_endian) {
        for (long off = 0; off < n;) {
            uint64_t ino, doff;
            uint16_t rl;
            memcpy(&ino, b + off, 8);
            memcpy(&doff, b + off + 8, 8);
            memcpy(&rl, b + off + 16, 2);
            ino = GUINT64_SWAP_LE_BE(ino);
            doff = GUINT64_SWAP_LE_BE(doff);
            uint16_t rls = GUINT16_SWAP_LE_BE(rl);
            memcpy(b + off, &ino, 8);
            memcpy(b + off + 8, &doff, 8);
            memcpy(b + off + 16, &rls, 2);
            if (!rl) {
                break;
            }
            off += rl;
        }
    }
    return n;
}

/* ---- uname ---- */

static int64_t do_uname(UserProc *p, uint64_t g)
{
    struct utsname u;
    char *b = gptr(p, g, sizeof(u));
    if (!b) {
        return -EFAULT;
    }
    uname(&u);
    const char *machine = p->arch->e_machine == 8
                              ? (p->arch->is64 ? "mips64" : "mips")
                              : "i686";
    g_strlcpy(u.machine, machine, sizeof(u.machine));
    memcpy(b, &u, sizeof(u));
    return 0;
}

/* ---- execve: another guest program runs under a new Mimic ---- */

static int64_t do_execve(UserThread *t, uint64_t gpath, uint64_t gargv,
                         uint64_t genvp)
{
    UserProc *p = t->proc;
    unsigned w = p->arch->is64 ? 8 : 4;
    GSTR(path, gpath);
    g_autofree char *hp = host_path(p, path, false);
    if (access(hp, X_OK) < 0) {
        return -errno;
    }
    GPtrArray *args = g_ptr_array_new();
    GPtrArray *env = g_ptr_array_new();
    g_ptr_array_add(args, (char *)"mimic");
    if (p->sysroot) {
        g_ptr_array_add(args, (char *)"-L");
        g_ptr_array_add(args, p->sysroot);
    }
    if (p->cpu_model) {
        g_ptr_array_add(args, (char *)"-cpu");
        g_ptr_array_add(args, p->cpu_model);
    }
    if (p->strace) {
        g_ptr_array_add(args, (char *)"-strace");
    }
    g_ptr_array_add(args, (char *)"-arch");
    g_ptr_array_add(args, (char *)p->arch->name);
    for (int i = 0; gargv && i < 65536; i++) {
        if (!gptr(p, gargv + i * w, w)) {
            break;
        }
        uint64_t s = user_get_ulong(p, gargv + i * w);
        if (!s) {
            break;
        }
        const char *a = gstr(p, s);
        if (!a) {
            break;
        }
        if (i == 0) {
            g_ptr_array_add(args, (char *)"-0");
            g_ptr_array_add(args, (char *)a);
            g_ptr_array_add(args, (char *)"--");
            g_ptr_array_add(args, hp);
        } else {
            g_ptr_array_add(args, (char *)a);
        }
    }
    if (args->len == 5 + (p->sysroot ? 2 : 0) + (p->cpu_model ? 2 : 0) +
                         (p->strace ? 1 : 0) - 4) {
        g_ptr_array_add(args, (char *)"--");
        g_ptr_array_add(args, hp);
    }
    g_ptr_array_add(args, NULL);
    for (int i = 0; genvp && i < 65536; i++) {
        if (!gptr(p, genvp + i * w, w)) {
            break;
        }
        uint64_t s = user_get_ulong(p, genvp + i * w);
        if (!s) {
            break;
        }
        const char *a = gstr(p, s);
        if (a) {
            g_ptr_array_add(env, (char *)a);
        }
    }
    g_ptr_array_add(env, NULL);
    execve("/proc/self/exe", (char **)args->pdata, (char **)env->pdata);
    int e = errno;
    g_ptr_array_free(args, true);
    g_ptr_array_free(env, true);
    return -e;
}

/* Socket types: MIPS swaps SOCK_DGRAM (1) and SOCK_STREAM (2); the
   NONBLOCK and CLOEXEC flags are the open flags. */
static int sock_type(UserProc *p, uint64_t g)
{
    int type = (int)(g & 0xf);
    uint64_t fl = g & ~0xfull;
    int h = 0;
    if (p->arch->e_machine == 8) {
        type = type == 1 ? SOCK_DGRAM : type == 2 ? SOCK_STREAM : type;
    }
    if (fl) {
        int o = open_flags_to_host(p, fl);
        h |= (o & O_NONBLOCK) ? SOCK_NONBLOCK : 0;
        h |= (o & O_CLOEXEC) ? SOCK_CLOEXEC : 0;
    }
    return type | h;
}

/* struct epoll_event: packed (12 bytes) on x86, 16 bytes (the 64-bit
   data aligned) on MIPS. */
static unsigned epoll_event_size(UserProc *p)
{
    return p->arch->e_machine == 8 ? 16 : 12;
}

static bool get_epoll_event(UserProc *p, uint64_t g, struct epoll_event *e)
{
    if (!gptr(p, g, epoll_event_size(p))) {
        return false;
    }
    e->events = user_get32(p, g);
    e->data.u64 = user_get64(p, g + epoll_event_size(p) - 8);
    return true;
}

static void put_epoll_event(UserProc *p, uint64_t g,
                            const struct epoll_event *e)
{
    user_put32(p, g, e->events);
    user_put64(p, g + epoll_event_size(p) - 8, e->data.u64);
}

/* sendmsg/recvmsg: the guest's msghdr (4- or 8-byte fields) without
   ancillary data on 32-bit guests (their cmsghdr differs). */
static int64_t do_msg(UserProc *p, bool send, int fd, uint64_t g, int flags)
{
    unsigned w = p->arch->is64 ? 8 : 4;
    if (!gptr(p, g, 7 * w)) {
        return -EFAULT;
    }
    uint64_t name = user_get_ulong(p, g);
    uint32_t namelen = user_get32(p, g + w);
    uint64_t iov = user_get_ulong(p, g + 2 * w);
    uint64_t iovlen = user_get_ulong(p, g + 3 * w);
    uint64_t control = user_get_ulong(p, g + 4 * w);
    uint64_t controllen = user_get_ulong(p, g + 5 * w);
    struct msghdr m = { 0 };
    struct iovec *v;
    int64_t r = get_iov(p, iov, iovlen, &v);
    if (r < 0) {
        return r;
    }
    if (controllen && (!p->arch->is64 || p->arch->big_endian)) {
        g_free(v);
        return -EOPNOTSUPP;
    }
    uint8_t sa[128];
    if (name && namelen) {
        if (!gptr(p, name, MIN(namelen, sizeof(sa)))) {
            g_free(v);
            return -EFAULT;
        }
        memcpy(sa, g2h(p, name), MIN(namelen, sizeof(sa)));
        uint16_t fam;
        memcpy(&fam, sa, 2);
        fam = ug16(p, fam);
        memcpy(sa, &fam, 2);
        m.msg_name = sa;
        m.msg_namelen = MIN(namelen, sizeof(sa));
    }
    m.msg_iov = v;
    m.msg_iovlen = iovlen;
    if (controllen) {
        m.msg_control = gptr(p, control, controllen);
        m.msg_controllen = controllen;
        if (!m.msg_control) {
            g_free(v);
            return -EFAULT;
        }
    }
    r = send ? sendmsg(fd, &m, flags) : recvmsg(fd, &m, flags);
    r = r < 0 ? -errno : r;
    if (r >= 0 && !send) {
        if (name && namelen) {
            uint16_t fam;
            memcpy(&fam, sa, 2);
            fam = ug16(p, fam);
            memcpy(sa, &fam, 2);
            memcpy(g2h(p, name), sa, MIN(namelen, m.msg_namelen));
            user_put32(p, g + w, m.msg_namelen);
        }
        user_put_ulong(p, g + 5 * w, m.msg_controllen);
        user_put32(p, g + 6 * w, (uint32_t)m.msg_flags);
    }
    g_free(v);
    return r;
}

/* i386's struct statfs: longs in the generic order; statfs64: 64-bit
   counts after f_type and f_bsize, packed to 4 bytes (84 bytes). */
static int64_t put_statfs_i386(UserProc *p, uint64_t g, bool s64,
                               const struct statfs *sf)
{
    size_t size = s64 ? 84 : 64;
    if (!gptr(p, g, size)) {
        return -EFAULT;
    }
    memset(g2h(p, g), 0, size);
    uint32_t fsid[2];
    memcpy(fsid, &sf->f_fsid, 8);
    uint64_t v[] = { sf->f_blocks, sf->f_bfree, sf->f_bavail, sf->f_files,
                     sf->f_ffree };
    unsigned w = s64 ? 8 : 4;
    user_put32(p, g, (uint32_t)sf->f_type);
    user_put32(p, g + 4, (uint32_t)sf->f_bsize);
    for (int i = 0; i < 5; i++) {
        if (s64) {
            user_put64(p, g + 8 + i * w, v[i]);
        } else {
            user_put32(p, g + 8 + i * w, (uint32_t)v[i]);
        }
    }
    uint64_t t = g + 8 + 5 * w;
    user_put32(p, t, fsid[0]);
    user_put32(p, t + 4, fsid[1]);
    user_put32(p, t + 8, (uint32_t)sf->f_namelen);
    user_put32(p, t + 12, (uint32_t)sf->f_frsize);
    user_put32(p, t + 16, (uint32_t)sf->f_flags);
    return 0;
}

/* MIPS's struct statfs orders its fields its own way (f_frsize third,
   f_bavail after f_ffree); o32's statfs64 has 64-bit counts after a
   padded header, n64's statfs is all longs. */
static int64_t put_statfs(UserProc *p, uint64_t g, bool s64,
                          const struct statfs *sf)
{
    const bool is64 = p->arch->is64;
    unsigned w = is64 ? 8 : 4;
    size_t size = (is64 || !s64) ? 15 * w + 8 : 84;
    if (p->arch->e_machine == 3) {
        return put_statfs_i386(p, g, s64, sf);
    }
    if (p->arch->e_machine == 62) {
        /* x86-64: the generic order, every field a long but f_fsid
           (two ints), four spare longs (120 bytes). */
        if (!gptr(p, g, 120)) {
            return -EFAULT;
        }
        memset(g2h(p, g), 0, 120);
        uint32_t fsid[2];
        memcpy(fsid, &sf->f_fsid, 8);
        uint64_t v[] = { (uint64_t)sf->f_type, (uint64_t)sf->f_bsize,
                         sf->f_blocks, sf->f_bfree, sf->f_bavail,
                         sf->f_files, sf->f_ffree };
        for (int i = 0; i < 7; i++) {
            user_put64(p, g + i * 8, v[i]);
        }
        user_put32(p, g + 56, fsid[0]);
        user_put32(p, g + 60, fsid[1]);
        user_put64(p, g + 64, (uint64_t)sf->f_namelen);
        user_put64(p, g + 72, (uint64_t)sf->f_frsize);
        user_put64(p, g + 80, (uint64_t)sf->f_flags);
        return 0;
    }
    if (p->arch->e_machine != 8) {
        return -ENOSYS;
    }
    if (!gptr(p, g, size)) {
        return -EFAULT;
    }
    memset(g2h(p, g), 0, size);
    uint32_t fsid[2];
    memcpy(fsid, &sf->f_fsid, 8);
    if (is64 || !s64) {
        uint64_t v[] = { (uint64_t)sf->f_type, (uint64_t)sf->f_bsize,
                         (uint64_t)sf->f_frsize, sf->f_blocks, sf->f_bfree,
                         sf->f_files, sf->f_ffree, sf->f_bavail };
        for (int i = 0; i < 8; i++) {
            user_put_ulong(p, g + i * w, v[i]);
        }
        user_put32(p, g + 8 * w, fsid[0]);
        user_put32(p, g + 8 * w + 4, fsid[1]);
        user_put_ulong(p, g + 8 * w + 8, (uint64_t)sf->f_namelen);
        user_put_ulong(p, g + 9 * w + 8, (uint64_t)sf->f_flags);
    } else {
        user_put32(p, g, (uint32_t)sf->f_type);
        user_put32(p, g + 4, (uint32_t)sf->f_bsize);
        user_put32(p, g + 8, (uint32_t)sf->f_frsize);
        user_put64(p, g + 16, sf->f_blocks);
        user_put64(p, g + 24, sf->f_bfree);
        user_put64(p, g + 32, sf->f_files);
        user_put64(p, g + 40, sf->f_ffree);
        user_put64(p, g + 48, sf->f_bavail);
        user_put32(p, g + 56, fsid[0]);
        user_put32(p, g + 60, fsid[1]);
        user_put32(p, g + 64, (uint32_t)sf->f_namelen);
        user_put32(p, g + 68, (uint32_t)sf->f_flags);
    }
    return 0;
}

/* ---- the dispatcher ---- */

static UserSys sys_of(const UserArch *a, uint64_t nr)
{
    if (nr < a->syscall_base) {
        return US_none;
    }
    uint64_t n = nr - a->syscall_base;
    for (size_t i = 0; i < a->n_syscalls; i++) {
        if (a->syscalls[i].nr == n) {
            return (UserSys)a->syscalls[i].sys;
        }
    }
    return US_none;
}

/* A 64-bit value passed in two 32-bit argument registers. */
static uint64_t pair(UserProc *p, uint64_t lo_first, uint64_t second)
{
    if (p->arch->big_endian) {
        return (lo_first << 32) | (uint32_t)second;
    }
    return (second << 32) | (uint32_t)lo_first;
}


static int64_t dispatch(UserThread *t, UserSys sys, const uint64_t *a)
{
    UserProc *p = t->proc;
    const bool m32 = !p->arch->is64;
    /* o32 passes 64-bit values in aligned register pairs. */
    const bool o32 = m32 && p->arch->e_machine == 8;

    switch (sys) {
    case US_read: {
        void *b = gptr(p, a[1], a[2]);
        if (!b && a[2]) {
            return -EFAULT;
        }
        user_code_unprotect(p, a[1], a[2]); /* the kernel would EFAULT */
        return ret(read((int)a[0], b, a[2]));
    }
    case US_write: {
        void *b = gptr(p, a[1], a[2]);
        if (!b && a[2]) {
            return -EFAULT;
        }
        return ret(write((int)a[0], b, a[2]));
    }
    case US_pread64: case US_pwrite64: {
        uint64_t off = m32 ? pair(p, a[o32 ? 4 : 3], a[o32 ? 5 : 4]) : a[3];
        void *b = gptr(p, a[1], a[2]);
        if (!b && a[2]) {
            return -EFAULT;
        }
        if (sys == US_pread64) {
            user_code_unprotect(p, a[1], a[2]);
        }
        return ret(sys == US_pread64 ? pread((int)a[0], b, a[2], (off_t)off)
                                      : pwrite((int)a[0], b, a[2],
                                               (off_t)off));
    }
    case US_readv: case US_writev: {
        struct iovec *v;
        int64_t r = get_iov(p, a[1], a[2], &v);
        if (r < 0) {
            return r;
        }
        r = sys == US_readv ? readv((int)a[0], v, (int)a[2])
                             : writev((int)a[0], v, (int)a[2]);
        r = ret(r);
        g_free(v);
        return r;
    }
    case US_open: {
        HPATH(path, a[0]);
        return ret(open(path, open_flags_to_host(p, a[1]), (int)a[2]));
    }
    case US_openat: {
        HPATH(path, a[1]);
        return ret(openat(dirfd_host((int64_t)a[0]), path,
                          open_flags_to_host(p, a[2]), (int)a[3]));
    }
    case US_close:
        return ret(close((int)a[0]));
    case US_lseek:
        return ret(lseek((int)a[0], m32 ? (int32_t)a[1] : (int64_t)a[1],
                         (int)a[2]));
    case US__llseek: {
        off_t r = lseek((int)a[0], (off_t)((a[1] << 32) | (uint32_t)a[2]),
                        (int)a[4]);
        if (r < 0) {
            return -errno;
        }
        if (!gptr(p, a[3], 8)) {
            return -EFAULT;
        }
        user_put64(p, a[3], (uint64_t)r);
        return 0;
    }
    case US_access: {
        HPATH(path, a[0]);
        return ret(access(path, (int)a[1]));
    }
    case US_faccessat: case US_faccessat2: {
        HPATH(path, a[1]);
        return ret(syscall(SYS_faccessat2, dirfd_host((int64_t)a[0]), path,
                           (int)a[2], sys == US_faccessat2 ? (int)a[3] : 0));
    }
    case US_pipe: case US_pipe2: {
        int fds[2];
        int fl = sys == US_pipe2 ? open_flags_to_host(p, a[1]) : 0;
        if (pipe2(fds, fl) < 0) {
            return -errno;
        }
        if (sys == US_pipe && p->arch->e_machine == 8) {
            /* MIPS returns the pair in v0/v1 */
            t->ret2 = fds[1];
            t->has_ret2 = true;
            return fds[0];
        }
        if (!gptr(p, a[0], 8)) {
            return -EFAULT;
        }
        user_put32(p, a[0], (uint32_t)fds[0]);
        user_put32(p, a[0] + 4, (uint32_t)fds[1]);
        return 0;
    }
    case US_dup:
        return ret(dup((int)a[0]));
    case US_dup2:
        return ret(dup2((int)a[0], (int)a[1]));
    case US_dup3:
        return ret(dup3((int)a[0], (int)a[1], open_flags_to_host(p, a[2])));
    case US_fcntl: case US_fcntl64:
        return do_fcntl(p, (int)a[0], (uint32_t)a[1], a[2]);
    case US_ioctl:
        return do_ioctl(p, (int)a[0], (uint32_t)a[1], a[2]);
    case US_stat: case US_stat64: case US_lstat: case US_lstat64: {
        HPATH(path, a[0]);
        struct stat st;
        int r = (sys == US_lstat || sys == US_lstat64) ? lstat(path, &st)
                                                          : stat(path, &st);
        return r < 0 ? -errno : put_stat(p, a[1], &st);
    }
    case US_fstat: case US_fstat64: {
        struct stat st;
        return fstat((int)a[0], &st) < 0 ? -errno : put_stat(p, a[1], &st);
    }
    case US_fstatat64: case US_newfstatat: {
        HPATH(path, a[1]);
        struct stat st;
        int r = fstatat(dirfd_host((int64_t)a[0]), path, &st, (int)a[3]);
        return r < 0 ? -errno : put_stat(p, a[2], &st);
    }
    case US_statx: {
        HPATH(path, a[1]);
        uint8_t *b = gptr(p, a[4], 256);
        if (!b) {
            return -EFAULT;
        }
        long r = syscall(SYS_statx, dirfd_host((int64_t)a[0]), path,
                         (int)a[2], (unsigned)a[3], b);
        if (r < 0) {
            return -errno;
        }
        swap_statx(p, b);
        return 0;
    }
    case US_getdents64:
        return do_getdents64(p, (int)a[0], a[1], a[2]);
    case US_statfs: case US_fstatfs: case US_statfs64: case US_fstatfs64: {
        struct statfs sf;
        int r;
        bool is64 = sys == US_statfs64 || sys == US_fstatfs64;
        if (sys == US_statfs || sys == US_statfs64) {
            HPATH(path, a[0]);
            r = statfs(path, &sf);
        } else {
            r = fstatfs((int)a[0], &sf);
        }
        if (r < 0) {
            return -errno;
        }
        /* statfs64 takes the size first: the buffer is the third arg */
        return put_statfs(p, is64 ? a[2] : a[1], is64, &sf);
    }
    case US_getcwd: {
        char *b = gptr(p, a[0], a[1]);
        if (!b) {
            return -EFAULT;
        }
        long r = syscall(SYS_getcwd, b, (size_t)a[1]);
        return ret(r);
    }
    case US_chdir: {
        HPATH(path, a[0]);
        return ret(chdir(path));
    }
    case US_fchdir:
        return ret(fchdir((int)a[0]));
    case US_mkdir: {
        HPATH(path, a[0]);
        return ret(mkdir(path, (mode_t)a[1]));
    }
    case US_mkdirat: {
        HPATH(path, a[1]);
        return ret(mkdirat(dirfd_host((int64_t)a[0]), path, (mode_t)a[2]));
    }
    case US_rmdir: {
        HPATH(path, a[0]);
        return ret(rmdir(path));
    }
    case US_unlink: {
        HPATH(path, a[0]);
        return ret(unlink(path));
    }
    case US_unlinkat: {
        HPATH(path, a[1]);
        return ret(unlinkat(dirfd_host((int64_t)a[0]), path, (int)a[2]));
    }
    case US_rename: {
        GSTR(from, a[0]);
        GSTR(to, a[1]);
        return ret(rename(from, to));
    }
    case US_renameat: case US_renameat2: {
        GSTR(from, a[1]);
        GSTR(to, a[3]);
        return ret(syscall(SYS_renameat2, dirfd_host((int64_t)a[0]), from,
                           dirfd_host((int64_t)a[2]), to,
                           sys == US_renameat2 ? (unsigned)a[4] : 0));
    }
    case US_link: {
        GSTR(from, a[0]);
        GSTR(to, a[1]);
        return ret(link(from, to));
    }
    case US_linkat: {
        GSTR(from, a[1]);
        GSTR(to, a[3]);
        return ret(linkat(dirfd_host((int64_t)a[0]), from,
                          dirfd_host((int64_t)a[2]), to, (int)a[4]));
    }
    case US_symlink: {
        GSTR(from, a[0]);
        GSTR(to, a[1]);
        return ret(symlink(from, to));
    }
    case US_symlinkat: {
        GSTR(from, a[0]);
        GSTR(to, a[2]);
        return ret(symlinkat(from, dirfd_host((int64_t)a[1]), to));
    }
    case US_readlink: case US_readlinkat: {
        int d = sys == US_readlink ? AT_FDCWD : dirfd_host((int64_t)a[0]);
        const uint64_t *b = sys == US_readlink ? a : a + 1;
        GSTR(path, b[0]);
        char *buf = gptr(p, b[1], b[2]);
        if (!buf) {
            return -EFAULT;
        }
        g_autofree char *hp = host_path(p, path, false);
        if (strcmp(hp, path) && !strcmp(hp, p->exe_path)) {
            /* /proc/self/exe names the guest program */
            g_autofree char *abs = realpath(p->exe_path, NULL);
            const char *s = abs ? abs : p->exe_path;
            size_t n = MIN(strlen(s), b[2]);
            memcpy(buf, s, n);
            return (int64_t)n;
        }
        return ret(readlinkat(d, hp, buf, b[2]));
    }
    case US_chmod: {
        HPATH(path, a[0]);
        return ret(chmod(path, (mode_t)a[1]));
    }
    case US_fchmod:
        return ret(fchmod((int)a[0], (mode_t)a[1]));
    case US_fchmodat: {
        HPATH(path, a[1]);
        return ret(fchmodat(dirfd_host((int64_t)a[0]), path, (mode_t)a[2],
                            0));
    }
    case US_chown: case US_lchown: {
        HPATH(path, a[0]);
        return ret(sys == US_chown ? chown(path, (uid_t)a[1], (gid_t)a[2])
                                    : lchown(path, (uid_t)a[1],
                                             (gid_t)a[2]));
    }
    case US_fchown:
        return ret(fchown((int)a[0], (uid_t)a[1], (gid_t)a[2]));
    case US_fchownat: {
        HPATH(path, a[1]);
        return ret(fchownat(dirfd_host((int64_t)a[0]), path, (uid_t)a[2],
                            (gid_t)a[3], (int)a[4]));
    }
    case US_umask:
        return umask((mode_t)a[0]);
    case US_truncate: {
        HPATH(path, a[0]);
        return ret(truncate(path, (off_t)a[1]));
    }
    case US_ftruncate:
        return ret(ftruncate((int)a[0], m32 ? (int32_t)a[1] : (off_t)a[1]));
    case US_truncate64: {
        HPATH(path, a[0]);
        return ret(truncate(path, (off_t)pair(p, a[o32 ? 2 : 1],
                                              a[o32 ? 3 : 2])));
    }
    case US_ftruncate64:
        return ret(ftruncate((int)a[0], (off_t)pair(p, a[o32 ? 2 : 1],
                                                     a[o32 ? 3 : 2])));
    case US_fsync:
        return ret(fsync((int)a[0]));
    case US_fdatasync:
        return ret(fdatasync((int)a[0]));
    case US_sync:
        sync();
        return 0;
    case US_utimensat: case US_utimensat_time64: {
        struct timespec ts[2];
        bool t64 = sys == US_utimensat_time64;
        if (a[2] && (!get_ts(p, a[2], t64, &ts[0]) ||
                     !get_ts(p, a[2] + ((m32 && !t64) ? 8 : 16), t64,
                             &ts[1]))) {
            return -EFAULT;
        }
        const char *path = NULL;
        g_autofree char *hp = NULL;
        if (a[1]) {
            GSTR(gp, a[1]);
            hp = host_path(p, gp, false);
            path = hp;
        }
        return ret(syscall(SYS_utimensat, dirfd_host((int64_t)a[0]), path,
                           a[2] ? ts : NULL, (int)a[3]));
    }
    case US_mknod: {
        HPATH(path, a[0]);
        return ret(mknod(path, (mode_t)a[1], (dev_t)a[2]));
    }
    case US_mknodat: {
        HPATH(path, a[1]);
        return ret(mknodat(dirfd_host((int64_t)a[0]), path, (mode_t)a[2],
                           (dev_t)a[3]));
    }
    case US_brk:
        return user_brk(p, a[0]);
    case US_mmap: case US_mmap2: {
        uint64_t left;
        int fl = bits_to_host(p->arch->mmap_flags, a[3], &left);
        uint64_t off = sys == US_mmap2 ? a[5] * 4096 : a[5];
        if (fl & MAP_ANONYMOUS) {
            off = 0;
        }
        int fd = (fl & MAP_ANONYMOUS) ? -1 : (int)a[4];
        return user_mmap(p, a[0], a[1], (int)a[2] & 7, fl, fd, off, NULL);
    }
    case US_munmap:
        return user_munmap(p, a[0], a[1]);
    case US_mprotect:
        return user_mprotect(p, a[0], a[1], (int)a[2] & 7);
    case US_mremap:
        return user_mremap(p, a[0], a[1], a[2], (int)a[3]);
    case US_madvise:
        /* MADV_DONTNEED on private anonymous memory zeroes it. */
        if ((int)a[2] == MADV_DONTNEED && user_range_ok(p, a[0], a[1])) {
            return ret(madvise(g2h(p, a[0]), a[1], MADV_DONTNEED));
        }
        return 0;
    case US_msync: case US_mlock: case US_munlock:
        return 0;
    case US_getpid:
        return getpid();
    case US_getppid:
        return getppid();
    case US_gettid:
        return gettid();
    case US_getuid:
        return getuid();
    case US_geteuid:
        return geteuid();
    case US_getgid:
        return getgid();
    case US_getegid:
        return getegid();
    case US_getresuid: case US_getresgid: {
        unsigned r[3];
        if (sys == US_getresuid) {
            getresuid(&r[0], &r[1], &r[2]);
        } else {
            getresgid(&r[0], &r[1], &r[2]);
        }
        for (int i = 0; i < 3; i++) {
            if (!gptr(p, a[i], 4)) {
                return -EFAULT;
            }
            user_put32(p, a[i], r[i]);
        }
        return 0;
    }
    case US_setuid:
        return ret(syscall(SYS_setuid, (uid_t)a[0]));
    case US_setgid:
        return ret(syscall(SYS_setgid, (gid_t)a[0]));
    case US_setreuid:
        return ret(syscall(SYS_setreuid, (uid_t)a[0], (uid_t)a[1]));
    case US_setregid:
        return ret(syscall(SYS_setregid, (gid_t)a[0], (gid_t)a[1]));
    case US_setresuid:
        return ret(syscall(SYS_setresuid, (uid_t)a[0], (uid_t)a[1],
                           (uid_t)a[2]));
    case US_setresgid:
        return ret(syscall(SYS_setresgid, (gid_t)a[0], (gid_t)a[1],
                           (gid_t)a[2]));
    case US_getgroups: {
        int n = (int)a[0];
        if (n < 0 || n > 65536) {
            return -EINVAL;
        }
        gid_t *g = g_new(gid_t, n ? n : 1);
        int r = getgroups(n, g);
        if (r < 0) {
            g_free(g);
            return -errno;
        }
        if (n) {
            if (!gptr(p, a[1], (uint64_t)r * 4)) {
                g_free(g);
                return -EFAULT;
            }
            for (int i = 0; i < r; i++) {
                user_put32(p, a[1] + i * 4, g[i]);
            }
        }
        g_free(g);
        return r;
    }
    case US_setgroups:
        return -EPERM;
    case US_getpgrp:
        return getpgrp();
    case US_getpgid:
        return ret(getpgid((pid_t)a[0]));
    case US_setpgid:
        return ret(setpgid((pid_t)a[0], (pid_t)a[1]));
    case US_getsid:
        return ret(getsid((pid_t)a[0]));
    case US_setsid:
        return ret(setsid());
    case US_uname:
        return do_uname(p, a[0]);
    case US_sethostname:
        return -EPERM;
    case US_sysinfo: {
        struct sysinfo si;
        sysinfo(&si);
        unsigned w = m32 ? 4 : 8;
        uint64_t g = a[0];
        if (!gptr(p, g, m32 ? 64 : 112)) {
            return -EFAULT;
        }
        memset(g2h(p, g), 0, m32 ? 64 : 112);
        user_put_ulong(p, g, (uint64_t)si.uptime);
        for (int i = 0; i < 3; i++) {
            user_put_ulong(p, g + w * (1 + i), si.loads[i]);
        }
        user_put_ulong(p, g + w * 4, si.totalram);
        user_put_ulong(p, g + w * 5, si.freeram);
        user_put_ulong(p, g + w * 6, si.sharedram);
        user_put_ulong(p, g + w * 7, si.bufferram);
        user_put_ulong(p, g + w * 8, si.totalswap);
        user_put_ulong(p, g + w * 9, si.freeswap);
        uint16_t pr = ug16(p, si.procs);
        memcpy(g2h(p, g + w * 10), &pr, 2);
        user_put32(p, g + (m32 ? 52 : 104), si.mem_unit);
        return 0;
    }
    case US_getrlimit: case US_setrlimit: case US_prlimit64: {
        bool pl = sys == US_prlimit64;
        int res = (int)a[pl ? 1 : 0];
        uint64_t gnew = pl ? a[2] : (sys == US_setrlimit ? a[1] : 0);
        uint64_t gold = pl ? a[3] : (sys == US_getrlimit ? a[1] : 0);
        if (p->arch->e_machine == 8) {
            /* MIPS: NOFILE 5, AS 6, RSS 7, NPROC 8, MEMLOCK 9 */
            static const int mips_res[] = { 0, 1, 2, 3, 4, RLIMIT_NOFILE,
                RLIMIT_AS, RLIMIT_RSS, RLIMIT_NPROC, RLIMIT_MEMLOCK };
            if (res >= 0 && res < 10) {
                res = mips_res[res];
            }
        }
        bool w64 = pl || !m32;
        unsigned w = w64 ? 8 : 4;
        struct rlimit64 nv, ov;
        if (gnew) {
            if (!gptr(p, gnew, 2 * w)) {
                return -EFAULT;
            }
            nv.rlim_cur = w64 ? user_get64(p, gnew) : user_get32(p, gnew);
            nv.rlim_max = w64 ? user_get64(p, gnew + w)
                              : user_get32(p, gnew + w);
            if (!w64) {
                if (nv.rlim_cur == 0xffffffffu || nv.rlim_cur == 0x7fffffffu) {
                    nv.rlim_cur = RLIM64_INFINITY;
                }
                if (nv.rlim_max == 0xffffffffu || nv.rlim_max == 0x7fffffffu) {
                    nv.rlim_max = RLIM64_INFINITY;
                }
            }
            if (res == RLIMIT_AS || res == RLIMIT_DATA ||
                res == RLIMIT_STACK) {
                gnew = 0; /* limits on the emulator itself: not applied */
            }
        }
        if (prlimit64(pl ? (pid_t)a[0] : 0, res, gnew ? &nv : NULL,
                      &ov) < 0) {
            return -errno;
        }
        if (gold) {
            if (!gptr(p, gold, 2 * w)) {
                return -EFAULT;
            }
            if (w64) {
                user_put64(p, gold, ov.rlim_cur);
                user_put64(p, gold + 8, ov.rlim_max);
            } else {
                user_put32(p, gold, ov.rlim_cur > 0x7fffffff ? 0x7fffffffu
                                                            : ov.rlim_cur);
                user_put32(p, gold + 4, ov.rlim_max > 0x7fffffff
                                            ? 0x7fffffffu : ov.rlim_max);
            }
        }
        return 0;
    }
    case US_getrusage: {
        struct rusage ru;
        if (getrusage((int)a[0], &ru) < 0) {
            return -errno;
        }
        unsigned w = m32 ? 4 : 8;
        if (!gptr(p, a[1], 18 * w)) {
            return -EFAULT;
        }
        memset(g2h(p, a[1]), 0, 18 * w);
        user_put_ulong(p, a[1], (uint64_t)ru.ru_utime.tv_sec);
        user_put_ulong(p, a[1] + w, (uint64_t)ru.ru_utime.tv_usec);
        user_put_ulong(p, a[1] + 2 * w, (uint64_t)ru.ru_stime.tv_sec);
        user_put_ulong(p, a[1] + 3 * w, (uint64_t)ru.ru_stime.tv_usec);
        user_put_ulong(p, a[1] + 4 * w, (uint64_t)ru.ru_maxrss);
        return 0;
    }
    case US_times: {
        struct tms tm;
        clock_t c = times(&tm);
        if (a[0]) {
            unsigned w = m32 ? 4 : 8;
            if (!gptr(p, a[0], 4 * w)) {
                return -EFAULT;
            }
            user_put_ulong(p, a[0], (uint64_t)tm.tms_utime);
            user_put_ulong(p, a[0] + w, (uint64_t)tm.tms_stime);
            user_put_ulong(p, a[0] + 2 * w, (uint64_t)tm.tms_cutime);
            user_put_ulong(p, a[0] + 3 * w, (uint64_t)tm.tms_cstime);
        }
        return (int64_t)c;
    }
    case US_time: {
        time_t now = time(NULL);
        if (a[0]) {
            if (!gptr(p, a[0], m32 ? 4 : 8)) {
                return -EFAULT;
            }
            user_put_ulong(p, a[0], (uint64_t)now);
        }
        return now;
    }
    case US_gettimeofday: {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        if (a[0]) {
            unsigned w = m32 ? 4 : 8;
            if (!gptr(p, a[0], 2 * w)) {
                return -EFAULT;
            }
            user_put_ulong(p, a[0], (uint64_t)tv.tv_sec);
            user_put_ulong(p, a[0] + w, (uint64_t)tv.tv_usec);
        }
        if (a[1] && gptr(p, a[1], 8)) {
            memset(g2h(p, a[1]), 0, 8);
        }
        return 0;
    }
    case US_clock_gettime: case US_clock_gettime64:
    case US_clock_getres: case US_clock_getres_time64: {
        struct timespec ts;
        bool res = sys == US_clock_getres || sys == US_clock_getres_time64;
        int r = res ? clock_getres((clockid_t)a[0], &ts)
                    : clock_gettime((clockid_t)a[0], &ts);
        if (r < 0) {
            return -errno;
        }
        if (!a[1]) {
            return 0;
        }
        return put_ts(p, a[1], sys == US_clock_gettime64 ||
                                   sys == US_clock_getres_time64, &ts);
    }
    case US_nanosleep: {
        struct timespec ts, rem;
        if (!get_ts(p, a[0], false, &ts)) {
            return -EFAULT;
        }
        int r = nanosleep(&ts, &rem);
        if (r < 0 && a[1]) {
            put_ts(p, a[1], false, &rem);
        }
        return r < 0 ? -errno : 0;
    }
    case US_clock_nanosleep: case US_clock_nanosleep_time64: {
        struct timespec ts, rem;
        bool t64 = sys == US_clock_nanosleep_time64;
        if (!get_ts(p, a[2], t64, &ts)) {
            return -EFAULT;
        }
        int r = clock_nanosleep((clockid_t)a[0], (int)a[1], &ts, &rem);
        if (r && a[3]) {
            put_ts(p, a[3], t64, &rem);
        }
        return -r;
    }
    case US_getrandom: {
        void *b = gptr(p, a[0], a[1]);
        if (!b && a[1]) {
            return -EFAULT;
        }
        return ret(getrandom(b, a[1], (unsigned)a[2]));
    }
    case US_set_tid_address:
        t->clear_child_tid = a[0];
        return gettid();
    case US_set_robust_list: case US_rseq:
        return -ENOSYS;
    case US_get_robust_list:
        return -ENOSYS;
    case US_sched_yield:
        return sched_yield();
    case US_sched_getaffinity: {
        /* One CPU per host CPU, in the guest's word size. */
        uint8_t *b = gptr(p, a[2], a[1]);
        if (!b) {
            return -EFAULT;
        }
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof(set), &set) < 0) {
            return -errno;
        }
        size_t n = MIN(a[1], sizeof(set));
        memset(b, 0, a[1]);
        for (size_t i = 0; i < n * 8; i++) {
            if (CPU_ISSET(i, &set)) {
                size_t word = i / (m32 ? 32 : 64);
                size_t bit = i % (m32 ? 32 : 64);
                uint64_t addr = a[2] + word * (m32 ? 4 : 8);
                user_put_ulong(p, addr, user_get_ulong(p, addr) |
                                            (1ull << bit));
            }
        }
        return (int64_t)n;
    }
    case US_sched_setaffinity:
        return 0;
    case US_getcpu:
        if (a[0] && gptr(p, a[0], 4)) {
            user_put32(p, a[0], 0);
        }
        if (a[1] && gptr(p, a[1], 4)) {
            user_put32(p, a[1], 0);
        }
        return 0;
    case US_prctl:
        if (a[0] == PR_SET_NAME || a[0] == PR_GET_NAME) {
            char *b = gptr(p, a[1], 16);
            if (!b) {
                return -EFAULT;
            }
            return ret(prctl((int)a[0], b, 0, 0, 0));
        }
        return -EINVAL;
    case US_personality:
        return 0;
    case US_execve:
        return do_execve(t, a[0], a[1], a[2]);
    case US_wait4: case US_waitpid: {
        int status;
        pid_t r = wait4((pid_t)(int32_t)a[0], a[1] ? &status : NULL,
                        (int)a[2], NULL);
        if (r < 0) {
            return -errno;
        }
        if (r > 0 && a[1]) {
            if (!gptr(p, a[1], 4)) {
                return -EFAULT;
            }
            if (WIFSIGNALED(status)) {
                status = (status & ~0x7f) |
                         user_sig_to_guest(p->arch, WTERMSIG(status));
            } else if (WIFSTOPPED(status)) {
                status = (status & 0xff) |
                         (user_sig_to_guest(p->arch, WSTOPSIG(status)) << 8);
            }
            user_put32(p, a[1], (uint32_t)status);
        }
        if (sys == US_wait4 && a[3]) {
            unsigned w = m32 ? 4 : 8;
            if (gptr(p, a[3], 18 * w)) {
                memset(g2h(p, a[3]), 0, 18 * w);
            }
        }
        return r;
    }
    case US_poll: case US_ppoll: case US_ppoll_time64: {
        struct pollfd *f = gptr(p, a[0], a[1] * 8);
        if (!f && a[1]) {
            return -EFAULT;
        }
        if (a[1] > 65536) {
            return -EINVAL;
        }
        struct pollfd *h = g_new0(struct pollfd, a[1] ? a[1] : 1);
        for (uint64_t i = 0; i < a[1]; i++) {
            h[i].fd = (int)user_get32(p, a[0] + i * 8);
            h[i].events = (short)ug16(p, f[i].events);
        }
        int timeout = -1;
        if (sys == US_poll) {
            timeout = (int)a[2];
        } else if (a[2]) {
            struct timespec ts;
            if (!get_ts(p, a[2], sys == US_ppoll_time64, &ts)) {
                g_free(h);
                return -EFAULT;
            }
            timeout = (int)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        }
        int r = poll(h, a[1], timeout);
        if (r >= 0) {
            for (uint64_t i = 0; i < a[1]; i++) {
                f[i].revents = (short)ug16(p, (uint16_t)h[i].revents);
            }
        }
        g_free(h);
        return r < 0 ? -errno : r;
    }
    case US__newselect: case US_pselect6: case US_pselect6_time64: {
        /* fd_sets are arrays of longs: the same bits for little-endian
           guests; 32-bit big-endian words otherwise. */
        unsigned w = m32 ? 4 : 8;
        int n = (int)a[0];
        if (n < 0 || n > FD_SETSIZE) {
            return -EINVAL;
        }
        fd_set sets[3];
        fd_set *ps[3];
        unsigned words = (n + w * 8 - 1) / (w * 8);
        for (int i = 0; i < 3; i++) {
            ps[i] = NULL;
            FD_ZERO(&sets[i]);
            if (!a[1 + i]) {
                continue;
            }
            if (!gptr(p, a[1 + i], words * w)) {
                return -EFAULT;
            }
            for (unsigned j = 0; j < words; j++) {
                uint64_t v = user_get_ulong(p, a[1 + i] + j * w);
                for (unsigned b = 0; b < w * 8; b++) {
                    int fd = j * w * 8 + b;
                    if (fd < n && (v >> b) & 1) {
                        FD_SET(fd, &sets[i]);
                    }
                }
            }
            ps[i] = &sets[i];
        }
        struct timespec ts;
        struct timespec *pts = NULL;
        if (a[4]) {
            if (sys == US__newselect) {
                ts.tv_sec = (time_t)(m32 ? (int32_t)user_get32(p, a[4])
                                         : (int64_t)user_get64(p, a[4]));
                ts.tv_nsec = 1000 * (long)(m32 ? (int32_t)user_get32(p, a[4] + 4)
                                              : (int64_t)user_get64(p, a[4] + 8));
            } else if (!get_ts(p, a[4], sys == US_pselect6_time64, &ts)) {
                return -EFAULT;
            }
            pts = &ts;
        }
        int r = pselect(n, ps[0], ps[1], ps[2], pts, NULL);
        if (r < 0) {
            return -errno;
        }
        for (int i = 0; i < 3; i++) {
            if (!ps[i]) {
                continue;
            }
            for (unsigned j = 0; j < words; j++) {
                uint64_t v = 0;
                for (unsigned b = 0; b < w * 8; b++) {
                    int fd = j * w * 8 + b;
                    if (fd < n && FD_ISSET(fd, &sets[i])) {
                        v |= 1ull << b;
                    }
                }
                user_put_ulong(p, a[1 + i] + j * w, v);
            }
        }
        return r;
    }
    case US_socket:
        return ret(socket((int)a[0], sock_type(p, a[1]), (int)a[2]));
    case US_socketpair: {
        int sv[2];
        if (socketpair((int)a[0], sock_type(p, a[1]), (int)a[2], sv) < 0) {
            return -errno;
        }
        if (!gptr(p, a[3], 8)) {
            return -EFAULT;
        }
        user_put32(p, a[3], (uint32_t)sv[0]);
        user_put32(p, a[3] + 4, (uint32_t)sv[1]);
        return 0;
    }
    case US_bind: case US_connect: {
        void *sa = gptr(p, a[1], a[2]);
        if (!sa) {
            return -EFAULT;
        }
        /* sa_family is host-order on the wire of the syscall. */
        uint8_t buf[128];
        size_t n = MIN(a[2], sizeof(buf));
        memcpy(buf, sa, n);
        uint16_t fam;
        memcpy(&fam, buf, 2);
        fam = ug16(p, fam);
        memcpy(buf, &fam, 2);
        return ret(sys == US_bind ? bind((int)a[0], (void *)buf, n)
                                   : connect((int)a[0], (void *)buf, n));
    }
    case US_listen:
        return ret(listen((int)a[0], (int)a[1]));
    case US_shutdown:
        return ret(shutdown((int)a[0], (int)a[1]));
    case US_accept: case US_accept4: case US_getsockname:
    case US_getpeername: {
        uint8_t buf[128];
        socklen_t len = sizeof(buf);
        int r;
        if (sys == US_getsockname) {
            r = getsockname((int)a[0], (void *)buf, &len);
        } else if (sys == US_getpeername) {
            r = getpeername((int)a[0], (void *)buf, &len);
        } else {
            r = accept4((int)a[0], (void *)buf, &len,
                        sys == US_accept4 ? open_flags_to_host(p, a[3]) : 0);
        }
        if (r < 0) {
            return -errno;
        }
        if (a[1] && a[2] && gptr(p, a[2], 4)) {
            uint32_t glen = user_get32(p, a[2]);
            uint16_t fam;
            memcpy(&fam, buf, 2);
            fam = ug16(p, fam);
            memcpy(buf, &fam, 2);
            if (gptr(p, a[1], MIN(glen, len))) {
                memcpy(g2h(p, a[1]), buf, MIN(glen, len));
            }
            user_put32(p, a[2], len);
        }
        return r;
    }
    case US_sendto: case US_recvfrom: {
        void *b = gptr(p, a[1], a[2]);
        if (!b && a[2]) {
            return -EFAULT;
        }
        if (sys == US_sendto) {
            return ret(sendto((int)a[0], b, a[2], (int)a[3],
                              a[4] ? gptr(p, a[4], a[5]) : NULL,
                              (socklen_t)a[5]));
        }
        uint8_t sa[128];
        socklen_t sl = sizeof(sa);
        ssize_t r = recvfrom((int)a[0], b, a[2], (int)a[3],
                             a[4] ? (void *)sa : NULL, a[4] ? &sl : NULL);
        if (r >= 0 && a[4] && a[5] && gptr(p, a[5], 4)) {
            uint32_t glen = user_get32(p, a[5]);
            uint16_t fam;
            memcpy(&fam, sa, 2);
            fam = ug16(p, fam);
            memcpy(sa, &fam, 2);
            if (gptr(p, a[4], MIN(glen, sl))) {
                memcpy(g2h(p, a[4]), sa, MIN(glen, sl));
            }
            user_put32(p, a[5], sl);
        }
        return ret(r);
    }
    case US_setsockopt: {
        void *v = gptr(p, a[3], a[4]);
        int lvl = (int)a[1], opt = (int)a[2];
        if (p->arch->e_machine == 8 && lvl == 0xffff) {
            lvl = SOL_SOCKET;
            if (opt == 4) {
                opt = SO_REUSEADDR;
            } else if (opt == 8) {
                opt = SO_KEEPALIVE;
            } else {
                return 0;
            }
        }
        if (a[4] == 4 && v) {
            int iv = (int)user_get32(p, a[3]);
            return ret(setsockopt((int)a[0], lvl, opt, &iv, 4));
        }
        return ret(setsockopt((int)a[0], lvl, opt, v, (socklen_t)a[4]));
    }
    case US_getsockopt: {
        int lvl = (int)a[1], opt = (int)a[2];
        if (p->arch->e_machine == 8 && lvl == 0xffff) {
            /* MIPS SOL_SOCKET options: SO_ERROR 0x1007, SO_TYPE 0x1008 */
            lvl = SOL_SOCKET;
            opt = opt == 0x1007 ? SO_ERROR : opt == 0x1008 ? SO_TYPE
                  : opt == 4 ? SO_REUSEADDR : opt == 8 ? SO_KEEPALIVE : -1;
        }
        if (opt < 0 || !gptr(p, a[4], 4) || !gptr(p, a[3], 4)) {
            return opt < 0 ? -ENOPROTOOPT : -EFAULT;
        }
        int v = 0;
        socklen_t len = sizeof(v);
        if (getsockopt((int)a[0], lvl, opt, &v, &len) < 0) {
            return -errno;
        }
        if (opt == SO_TYPE && p->arch->e_machine == 8) {
            v = v == SOCK_DGRAM ? 1 : v == SOCK_STREAM ? 2 : v;
        }
        user_put32(p, a[3], (uint32_t)v);
        user_put32(p, a[4], 4);
        return 0;
    }
    case US_sendfile: case US_sendfile64: {
        off_t off = 0;
        if (a[2]) {
            if (!gptr(p, a[2], 8)) {
                return -EFAULT;
            }
            off = (off_t)(sys == US_sendfile64 || !m32
                              ? user_get64(p, a[2])
                              : (int32_t)user_get32(p, a[2]));
        }
        ssize_t r = sendfile((int)a[0], (int)a[1], a[2] ? &off : NULL,
                             a[3]);
        if (r >= 0 && a[2]) {
            if (sys == US_sendfile64 || !m32) {
                user_put64(p, a[2], (uint64_t)off);
            } else {
                user_put32(p, a[2], (uint32_t)off);
            }
        }
        return ret(r);
    }
    case US_sendmsg: case US_recvmsg:
        return do_msg(p, sys == US_sendmsg, (int)a[0], a[1], (int)a[2]);
    case US_eventfd2:
        return ret(eventfd((unsigned)a[0], open_flags_to_host(p, a[1])));
    case US_epoll_create:
        return ret(epoll_create((int)a[0]));
    case US_epoll_create1:
        return ret(epoll_create1(open_flags_to_host(p, a[0])));
    case US_epoll_ctl: {
        struct epoll_event ev = { 0 };
        if (a[3]) {
            if (!get_epoll_event(p, a[3], &ev)) {
                return -EFAULT;
            }
        }
        return ret(epoll_ctl((int)a[0], (int)a[1], (int)a[2],
                             a[3] ? &ev : NULL));
    }
    case US_epoll_wait: case US_epoll_pwait: {
        int n = (int)a[2];
        if (n <= 0 || n > 4096) {
            return -EINVAL;
        }
        unsigned esz = epoll_event_size(p);
        if (!gptr(p, a[1], (uint64_t)n * esz)) {
            return -EFAULT;
        }
        struct epoll_event *ev = g_new(struct epoll_event, n);
        int r = epoll_wait((int)a[0], ev, n, (int)a[3]);
        for (int i = 0; i < r; i++) {
            put_epoll_event(p, a[1] + (uint64_t)i * esz, &ev[i]);
        }
        g_free(ev);
        return r < 0 ? -errno : r;
    }
    case US_copy_file_range:
        return -ENOSYS;
    case US_fadvise64:
        return 0;
    case US_flock:
        return ret(flock((int)a[0], (int)a[1]));
    case US_cacheflush: case US_membarrier:
        return 0;
    case US_close_range:
        return -ENOSYS;
    case US_sysmips:
        return -EINVAL;
    default:
        break;
    }
    int64_t r = user_sys_signal(t, sys, a);
    if (r != USER_NOT_MINE) {
        return r;
    }
    r = user_sys_thread(t, sys, a);
    if (r != USER_NOT_MINE) {
        return r;
    }
    return -ENOSYS;
}

static void strace_log(UserThread *t, uint64_t nr, UserSys sys,
                       const uint64_t *a, int64_t r)
{
    const UserArch *arch = t->proc->arch;
    if (r < 0 && r > -4096) {
        fprintf(stderr, "%d %s(0x%" G_GINT64_MODIFIER "x,0x%"
                G_GINT64_MODIFIER "x,0x%" G_GINT64_MODIFIER "x,0x%"
                G_GINT64_MODIFIER "x) = -1 errno=%d (%s)\n",
                getpid(), sys ? sys_names[sys] : "unknown", a[0], a[1], a[2],
                a[3], user_errno_to_guest(arch, (int)-r),
                g_strerror((int)-r));
    } else {
        fprintf(stderr, "%d %s(0x%" G_GINT64_MODIFIER "x,0x%"
                G_GINT64_MODIFIER "x,0x%" G_GINT64_MODIFIER "x,0x%"
                G_GINT64_MODIFIER "x) = %" G_GINT64_FORMAT "\n", getpid(),
                sys ? sys_names[sys] : "unknown", a[0], a[1], a[2], a[3], r);
    }
    (void)nr;
}

/* -d unimp: each unsupported call once. */
static void log_unimp(UserProc *p, uint64_t nr, UserSys sys)
{
    uint64_t n = nr - p->arch->syscall_base;
    if (!mimic_log_enabled(LOG_UNIMP) || nr < p->arch->syscall_base ||
        n >= sizeof(p->unimp_seen) * 8 ||
        (p->unimp_seen[n / 8] & (1u << (n % 8)))) {
        return;
    }
    p->unimp_seen[n / 8] |= 1u << (n % 8);
    if (sys == US_none) {
        mimic_log("user: unsupported syscall %" G_GUINT64_FORMAT "\n", nr);
    } else {
        mimic_log("user: syscall %s (%" G_GUINT64_FORMAT ") returns "
                  "ENOSYS\n", sys_names[sys], nr);
    }
}

int64_t user_syscall(UserThread *t, uint64_t nr, const uint64_t a[8])
{
    UserProc *p = t->proc;
    const volatile UserSys sys = sys_of(p->arch, nr);
    int64_t r;

    if (p->strace && (sys == US_exit_group || sys == US_exit ||
                      sys == US_execve)) {
        /* calls that do not come back are logged before they run */
        fprintf(stderr, "%d %s(0x%" G_GINT64_MODIFIER "x,0x%"
                G_GINT64_MODIFIER "x,0x%" G_GINT64_MODIFIER "x)\n",
                getpid(), sys_names[sys], a[0], a[1], a[2]);
    }
    if (sys == US_none) {
        r = -ENOSYS;
    } else if (sigsetjmp(t->syscall_jmp, 0)) {
        /* a guest buffer on an unmapped page */
        t->in_syscall = false;
        r = -EFAULT;
    } else {
        t->in_syscall = true;
        r = dispatch(t, sys, a);
        t->in_syscall = false;
    }
    if (r == -ENOSYS) {
        log_unimp(p, nr, sys);
    }
    if (p->strace) {
        strace_log(t, nr, sys, a, r);
    }
    return r;
}
