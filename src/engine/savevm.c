/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine state file (see savevm.h and docs/state-format.md).
 *
 * A file is a 16-byte header followed by sections, each framed as
 *   "SECT" | u16 name length | name | u32 version | u64 length | payload |
 *   u32 CRC-32 of everything from the name length to the payload's end
 * and ended by the "end" section.  The loader first walks and checks the
 * whole file (framing, checksums, the configuration, the disks), and only
 * then restores the machine, so a bad file leaves a machine that was never
 * started untouched.  Device payloads come from the devices' state tables
 * (state/state.h); every post_load validates its values.
 *
 * Saving is deterministic: the same machine state gives the same bytes.
 */
#include "engine/savevm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "bus/log.h"
#include "state/statefile.h"

#define FP_SPAN (1u << 20) /* disk fingerprint: first and last MiB */

/* ---- the pieces of a machine ---- */

/* A board RAM block as the state file format sees it. */
static StateRamBlock ram_block(const BoardRamBlock *b)
{
    return (StateRamBlock){ .name = b->name, .host = b->host,
                            .size = b->size, .anonymous = b->anonymous };
}

/* The configuration lines a state is bound to; "info." lines are only
   informative and not compared. */
static char *config_text(MimicMachine *m)
{
    GString *s = g_string_new(NULL);
    const MachineConfig *cfg = m->cfg;
    g_string_append_printf(s, "board=%s\n", m->board_info->name);
    g_string_append_printf(s, "cpu=%s\n",
                           m->cpu ? m->cpu->ops->name : "none");
    g_string_append_printf(s, "ram=%" G_GUINT64_FORMAT "\n", cfg->ram_size);
    for (int i = 0; i < m->board.n_ram_blocks; i++) {
        const BoardRamBlock *rb = &m->board.ram_blocks[i];
        g_string_append_printf(s, "ram-block=%s %" G_GUINT64_FORMAT "\n",
                               rb->name, rb->size);
    }
    guint n = device_list_length(m->devices);
    for (guint i = 0; i < n; i++) {
        Device *d = device_list_nth(m->devices, i);
        g_string_append_printf(s, "device=%s %s\n", d->id, d->info->name);
    }
    for (int i = 0; i < m->board.n_roms; i++) {
        g_string_append_printf(s, "rom=%s %s\n", m->board.roms[i].name,
                               m->board.roms[i].sha256);
    }
    for (int i = 0; i < cfg->n_drives; i++) {
        const DriveConfig *d = &cfg->drives[i];
        g_string_append_printf(s, "drive=%d %s %d %s\n", i,
                               d->interface == DRIVE_IF_IDE ? "ide"
                               : d->interface == DRIVE_IF_FLOPPY ? "floppy"
                                                                 : "none",
                               d->index,
                               d->media == DRIVE_MEDIA_CDROM ? "cdrom"
                                                             : "disk");
    }
    g_string_append_printf(s, "info.mimic=%s\n", mimic_version());
    g_string_append_printf(s, "info.icount=%d\n", cfg->icount_shift);
    return g_string_free(s, FALSE);
}

/* size, mtime and a hash of the first and last MiB of an image file. */
static bool disk_fingerprint(BlockDev *blk, GString *out, GError **error)
{
    const char *path = blk_filename(blk);
    struct stat st;
    if (stat(path, &st) < 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "disk '%s': %s", path,
                    g_strerror(errno));
        return false;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "disk '%s': %s", path,
                    g_strerror(errno));
        return false;
    }
    GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
    uint8_t *buf = g_malloc(FP_SPAN);
    off_t offs[2] = { 0, st.st_size > FP_SPAN ? st.st_size - FP_SPAN : 0 };
    for (int i = 0; i < 2; i++) {
        ssize_t r = pread(fd, buf, FP_SPAN, offs[i]);
        if (r > 0) {
            g_checksum_update(ck, buf, r);
        }
    }
    close(fd);
    g_free(buf);
    g_string_append_printf(out, "size=%lld mtime=%lld.%09ld sha256=%s",
                           (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                           (long)st.st_mtim.tv_nsec,
                           g_checksum_get_string(ck));
    g_checksum_free(ck);
    return true;
}

/* The image a resuming process opens for drive i: with -snapshot the
   drive is a temporary overlay (already unlinked, and gone with this
   process), and the resuming process opens the same image under a new
   overlay, so that image is what is fingerprinted.  As in QEMU, the
   guest's writes to the overlay are not part of the state. */
static BlockDev *drive_image(MimicMachine *m, int i)
{
    BlockDev *blk = drives_image(m->drives, i);
    const MachineConfig *cfg = m->cfg;
    bool snapshot = cfg->snapshot || (i < cfg->n_drives &&
                                      cfg->drives[i].snapshot);
    if (blk && snapshot && blk_backing(blk)) {
        return blk_backing(blk);
    }
    return blk;
}

static bool disks_text(MimicMachine *m, bool flush, GString *s,
                       GError **error)
{
    for (int i = 0; i < MIMIC_MAX_DRIVES; i++) {
        BlockDev *blk = drives_image(m->drives, i);
        if (!blk) {
            continue;
        }
        if (flush && !blk_flush(blk, error)) {
            g_prefix_error(error, "flushing disk '%s': ", blk_filename(blk));
            return false;
        }
        g_string_append_printf(s, "drive=%d ", i);
        if (!disk_fingerprint(drive_image(m, i), s, error)) {
            return false;
        }
        g_string_append_c(s, '\n');
    }
    return true;
}

GByteArray *machine_state_save(MimicMachine *m, bool with_disks,
                               GError **error)
{
    GByteArray *f = g_byte_array_new();
    unsigned nsect = 0;
    state_file_begin(f);

    g_autofree char *cfg = config_text(m);
    state_section_add(f, "config", 1, (const uint8_t *)cfg, strlen(cfg));
    nsect++;

    GByteArray *b = g_byte_array_new();
    Clock *clk = m->clock;
    g_byte_array_append(b, (const uint8_t[]){ clk->mode, clk->icount_shift },
                        2);
    state_put_u64(b, clk->icount);
    state_put_u64(b, clock_now(clk));
    state_put_u64(b, clk->timer_seq);
    state_section_add(f, "clock", 1, b->data, b->len);
    nsect++;

    for (int i = 0; i < m->board.n_ram_blocks; i++) {
        StateRamBlock rb = ram_block(&m->board.ram_blocks[i]);
        state_ram_save(f, &rb);
        nsect++;
    }

    if (m->cpu && m->cpu->ops->state) {
        g_byte_array_set_size(b, 0);
        state_save(m->cpu->ops->state, m->cpu, b);
        state_section_add(f, "cpu", m->cpu->ops->state->version, b->data,
                          b->len);
        nsect++;
    }

    guint n = device_list_length(m->devices);
    for (guint i = 0; i < n; i++) {
        Device *d = device_list_nth(m->devices, i);
        if (!d->info->state) {
            continue;
        }
        g_byte_array_set_size(b, 0);
        state_save(d->info->state, d, b);
        char name[80];
        g_snprintf(name, sizeof(name), "dev/%s", d->id);
        state_section_add(f, name, d->info->state->version, b->data, b->len);
        nsect++;
    }

    /* Pending timers, last: they override what post_load rearmed. */
    g_byte_array_set_size(b, 0);
    int nt = clock_timer_count(clk);
    state_put_u32(b, nt);
    for (int i = 0; i < nt; i++) {
        Timer *t = clock_timer_nth(clk, i);
        state_put_u64(b, timer_expire_time(t));
        state_put_u64(b, timer_seq(t));
    }
    state_section_add(f, "timers", 1, b->data, b->len);
    nsect++;

    GString *disks = g_string_new(NULL);
    if (with_disks && !disks_text(m, true, disks, error)) {
        g_string_free(disks, TRUE);
        g_byte_array_unref(b);
        g_byte_array_unref(f);
        return NULL;
    }
    state_section_add(f, "disks", 1, (const uint8_t *)disks->str, disks->len);
    nsect++;
    g_string_free(disks, TRUE);

    state_file_finish(f, nsect);
    g_byte_array_unref(b);
    return f;
}

/* ---- loading ---- */

static StateSection *need_section(GArray *secs, const char *name,
                                  GError **error)
{
    StateSection *s = state_section_find(secs, name);
    if (!s) {
        state_invalid(error, "state file has no '%s' section", name);
        return NULL;
    }
    s->used = true;
    return s;
}

static bool check_config(MimicMachine *m, const StateSection *s, GError **error)
{
    if (s->version != 1) {
        return state_bad_version(error, s->name, s->version, 1);
    }
    if (!state_text_check(s, error)) {
        return false;
    }
    g_autofree char *here = config_text(m);
    g_autofree char *saved = g_strndup((const char *)s->data, s->len);
    gchar **a = g_strsplit(saved, "\n", -1);
    gchar **b = g_strsplit(here, "\n", -1);
    int ia = 0, ib = 0;
    bool ok = true;
    for (;;) {
        /* The text ends with a newline: its last piece is empty. */
        while (a[ia] && (!a[ia][0] || g_str_has_prefix(a[ia], "info."))) {
            ia++;
        }
        while (b[ib] && (!b[ib][0] || g_str_has_prefix(b[ib], "info."))) {
            ib++;
        }
        if (!a[ia] || !b[ib]) {
            if (a[ia] || b[ib]) {
                ok = state_invalid(error,
                                   "the state was saved from another machine "
                                   "configuration: %s '%s'",
                                   a[ia] ? "this machine lacks"
                                         : "this machine also has",
                                   a[ia] ? a[ia] : b[ib]);
            }
            break;
        }
        if (strcmp(a[ia], b[ib]) != 0) {
            uint64_t x, y;
            if (sscanf(a[ia], "ram=%" G_GUINT64_FORMAT, &x) == 1 &&
                sscanf(b[ib], "ram=%" G_GUINT64_FORMAT, &y) == 1) {
                ok = state_invalid(error,
                                   "the state was saved from a machine with "
                                   "%" G_GUINT64_FORMAT
                                   " MiB of RAM; this machine "
                                   "has %" G_GUINT64_FORMAT " MiB (-m)",
                                   x >> 20, y >> 20);
            } else if (g_str_has_prefix(a[ia], "rom=") &&
                       g_str_has_prefix(b[ib], "rom=")) {
                ok = state_invalid(error,
                                   "the state was saved with other firmware "
                                   "(saved '%s', here '%s')",
                                   a[ia], b[ib]);
            } else {
                ok = state_invalid(error,
                                   "the state was saved from another machine "
                                   "configuration (saved '%s', here '%s')",
                                   a[ia], b[ib]);
            }
            break;
        }
        ia++;
        ib++;
    }
    g_strfreev(a);
    g_strfreev(b);
    return ok;
}

/* The disks section's form: "drive=I size=N mtime=S.NS sha256=HEX" lines
   with ascending drive indices (also when the disks are not compared). */
static bool check_disks_form(const StateSection *s, GError **error)
{
    if (s->version != 1) {
        return state_bad_version(error, s->name, s->version, 1);
    }
    if (!state_text_check(s, error)) {
        return false;
    }
    g_autofree char *text = g_strndup((const char *)s->data, s->len);
    gchar **lines = g_strsplit(text, "\n", -1);
    int last = -1;
    bool ok = true;
    for (int i = 0; ok && lines[i] && lines[i][0]; i++) {
        int drive, n = -1;
        long long size, sec;
        long nsec;
        char hash[65];
        if (sscanf(lines[i], "drive=%d size=%lld mtime=%lld.%9ld "
                   "sha256=%64[0-9a-f]%n", &drive, &size, &sec, &nsec, hash,
                   &n) != 5 || n != (int)strlen(lines[i]) ||
            strlen(hash) != 64 || drive <= last ||
            drive >= MIMIC_MAX_DRIVES || size < 0 || nsec < 0) {
            ok = state_invalid(
                error, "state section 'disks' is corrupt: line %d", i + 1);
        }
        last = ok ? drive : last;
    }
    g_strfreev(lines);
    return ok;
}

static bool check_disks(MimicMachine *m, const StateSection *s, unsigned flags,
                        GError **error)
{
    GString *here = g_string_new(NULL);
    if (!disks_text(m, false, here, error)) {
        g_string_free(here, TRUE);
        return false;
    }
    g_autofree char *saved = g_strndup((const char *)s->data, s->len);
    bool ok = true;
    if (strcmp(saved, here->str) != 0) {
        gchar **a = g_strsplit(saved, "\n", -1);
        gchar **b = g_strsplit(here->str, "\n", -1);
        int i = 0;
        while (a[i] && b[i] && !strcmp(a[i], b[i])) {
            i++;
        }
        int drive = -1;
        const char *line = b[i] ? b[i] : a[i];
        if (line) {
            sscanf(line, "drive=%d", &drive);
        }
        const char *file = drive >= 0 && drive < MIMIC_MAX_DRIVES &&
                           drives_image(m->drives, drive)
                               ? blk_filename(drive_image(m, drive))
                               : "?";
        g_autofree char *msg = g_strdup_printf(
            "disk '%s' changed since the state was saved", file);
        if (flags & STATE_LOAD_FORCE) {
            g_printerr("mimic: warning: %s (resuming anyway: "
                       "-incoming-force)\n", msg);
        } else {
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_STATE_DISKS,
                        "%s; the guest would see a different disk "
                        "(use -incoming-force to resume anyway)", msg);
            ok = false;
        }
        g_strfreev(a);
        g_strfreev(b);
    }
    g_string_free(here, TRUE);
    return ok;
}

static bool load_desc(const StateDesc *desc, void *obj, const StateSection *s,
                      GError **error)
{
    size_t used = 0;
    if (!state_load(desc, obj, s->version, s->data, s->len, &used, error)) {
        return false;
    }
    if (used != s->len) {
        return state_invalid(error, "state section '%s' has %" G_GUINT64_FORMAT
                   " bytes; version %u has %zu", s->name, s->len, s->version,
                   used);
    }
    return true;
}

/* The sections this machine writes, in the order it writes them (without
   "end", which state_file_parse checks). */
static GPtrArray *expected_sections(MimicMachine *m)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(names, g_strdup("config"));
    g_ptr_array_add(names, g_strdup("clock"));
    for (int i = 0; i < m->board.n_ram_blocks; i++) {
        g_ptr_array_add(names, g_strdup_printf("ram/%s",
                                               m->board.ram_blocks[i].name));
    }
    if (m->cpu && m->cpu->ops->state) {
        g_ptr_array_add(names, g_strdup("cpu"));
    }
    guint n = device_list_length(m->devices);
    for (guint i = 0; i < n; i++) {
        Device *d = device_list_nth(m->devices, i);
        if (d->info->state) {
            g_ptr_array_add(names, g_strdup_printf("dev/%s", d->id));
        }
    }
    g_ptr_array_add(names, g_strdup("timers"));
    g_ptr_array_add(names, g_strdup("disks"));
    return names;
}

/* Every section must be known, every needed one present, each once (see
   state_file_parse), and in the order this machine writes them. */
static bool check_section_list(MimicMachine *m, GArray *secs, GError **error)
{
    g_autoptr(GPtrArray) want = expected_sections(m);
    for (guint i = 0; i < secs->len; i++) {
        const char *name = g_array_index(secs, StateSection, i).name;
        bool known = false;
        for (guint k = 0; k < want->len && !known; k++) {
            known = !strcmp(name, want->pdata[k]);
        }
        if (!known) {
            return state_invalid(error,
                                 "state file has section '%s', which this "
                                 "machine does not have",
                                 name);
        }
    }
    for (guint k = 0; k < want->len; k++) {
        if (!state_section_find(secs, want->pdata[k])) {
            return state_invalid(error, "state file has no '%s' section",
                       (const char *)want->pdata[k]);
        }
    }
    /* Same set, no duplicates: the same length; now the order. */
    for (guint i = 0; i < secs->len; i++) {
        const char *name = g_array_index(secs, StateSection, i).name;
        if (strcmp(name, want->pdata[i]) != 0) {
            return state_invalid(error,
                                 "state file has section '%s' where '%s' "
                                 "belongs (sections out of order)",
                                 name, (const char *)want->pdata[i]);
        }
    }
    return true;
}

/*
 * What a load would change and cannot be changed back from the file:
 * the clock, the CPU's and devices' fields and the timers, as this
 * machine's own serializer writes them.  Taken before anything is
 * committed; when the CPU or a device refuses its section (post_load),
 * it is loaded back, so the machine is left as it was.  RAM needs no
 * copy: it is committed only after every section was accepted.
 */
typedef struct Backup {
    int64_t icount, now;
    uint64_t seq;
    GByteArray *cpu;
    GByteArray **dev;   /* by device index, NULL: no state table */
    int nt;
    int64_t *deadline;
    uint64_t *tseq;
} Backup;

static void backup_take(MimicMachine *m, Backup *b)
{
    Clock *clk = m->clock;
    b->icount = clk->icount;
    b->now = clock_now(clk);
    b->seq = clk->timer_seq;
    if (m->cpu && m->cpu->ops->state) {
        b->cpu = g_byte_array_new();
        state_save(m->cpu->ops->state, m->cpu, b->cpu);
    }
    guint n = device_list_length(m->devices);
    b->dev = g_new0(GByteArray *, n + 1);
    for (guint i = 0; i < n; i++) {
        Device *d = device_list_nth(m->devices, i);
        if (d->info->state) {
            b->dev[i] = g_byte_array_new();
            state_save(d->info->state, d, b->dev[i]);
        }
    }
    b->nt = clock_timer_count(clk);
    b->deadline = g_new(int64_t, b->nt + 1);
    b->tseq = g_new(uint64_t, b->nt + 1);
    for (int i = 0; i < b->nt; i++) {
        Timer *t = clock_timer_nth(clk, i);
        b->deadline[i] = timer_expire_time(t);
        b->tseq[i] = timer_seq(t);
    }
}

static void backup_free(MimicMachine *m, Backup *b)
{
    if (b->cpu) {
        g_byte_array_unref(b->cpu);
    }
    guint n = device_list_length(m->devices);
    for (guint i = 0; i < n; i++) {
        if (b->dev[i]) {
            g_byte_array_unref(b->dev[i]);
        }
    }
    g_free(b->dev);
    g_free(b->deadline);
    g_free(b->tseq);
}

/* Put back what backup_take saw.  The CPU comes last: the devices'
   post_load drive interrupt lines into it again, and its saved input
   state must win, as the interrupt controllers' does over the devices. */
static bool backup_restore(MimicMachine *m, Backup *b, GError **error)
{
    bool ok = true;
    m->clock->icount = b->icount;
    clock_set_now(m->clock, b->now);
    m->clock->timer_seq = b->seq;
    for (guint i = device_list_length(m->devices); i-- > 0;) {
        Device *d = device_list_nth(m->devices, i);
        size_t used;
        if (b->dev[i]) {
            ok &= state_load(d->info->state, d, d->info->state->version,
                             b->dev[i]->data, b->dev[i]->len, &used,
                             ok ? error : NULL);
        }
    }
    if (b->cpu) {
        size_t used;
        if (m->cpu->ops->flush_code) {
            m->cpu->ops->flush_code(m->cpu);
        }
        const StateDesc *d = m->cpu->ops->state;
        ok &= state_load(d, m->cpu, d->version, b->cpu->data, b->cpu->len,
                         &used, ok ? error : NULL);
    }
    for (int i = 0; i < b->nt; i++) {
        timer_restore(clock_timer_nth(m->clock, i), b->deadline[i],
                      b->tseq[i]);
    }
    m->clock->timer_seq = b->seq;
    return ok;
}

/*
 * Loading has two phases.  Check: every rule of docs/state-format.md on
 * the whole file, and the RAM decoded into scratch memory, with nothing
 * of the machine changed.  Commit: the clock, the CPU and the devices
 * (whose post_load may still refuse: then all of them are loaded back
 * from a backup taken just before), and only then RAM and the timers,
 * which cannot fail.  A refused file, wherever it is refused, leaves the
 * machine as it was.
 */
bool machine_state_load(MimicMachine *m, const uint8_t *buf, size_t len,
                        unsigned flags, GError **error)
{
    GArray *secs = g_array_new(FALSE, TRUE, sizeof(StateSection));
    StateRamLoad *ram_load = state_ram_load_new();
    guint ndev = device_list_length(m->devices);
    StateSection **devs = g_new0(StateSection *, ndev + 1);
    bool ok = false;
    if (!state_file_parse(buf, len, secs, error)) {
        goto out;
    }
    StateSection *cfg = need_section(secs, "config", error);
    if (!cfg || !check_config(m, cfg, error) ||
        !check_section_list(m, secs, error)) {
        goto out;
    }
    StateSection *clk = need_section(secs, "clock", error);
    if (!clk) {
        goto out;
    }
    if (clk->version != 1) {
        state_bad_version(error, clk->name, clk->version, 1);
        goto out;
    }
    if (clk->len != 2 + 3 * 8) {
        state_invalid(error, "state section 'clock' has an unknown layout");
        goto out;
    }
    int64_t icount = state_get_u64(clk->data + 2),
            now = state_get_u64(clk->data + 10);
    uint64_t seq = state_get_u64(clk->data + 18);
    if (clk->data[0] > CLOCK_MODE_ICOUNT || clk->data[1] > 10 ||
        icount < 0 || now < 0) {
        state_invalid(error, "state section 'clock': values out of range");
        goto out;
    }
    for (int i = 0; i < m->board.n_ram_blocks; i++) {
        char name[64];
        g_snprintf(name, sizeof(name), "ram/%s", m->board.ram_blocks[i].name);
        StateSection *ram = need_section(secs, name, error);
        StateRamBlock rb = ram_block(&m->board.ram_blocks[i]);
        if (!ram || !state_ram_check(ram_load, &rb, ram, error)) {
            goto out;
        }
    }
    StateSection *cpu = NULL;
    if (m->cpu && m->cpu->ops->state) {
        cpu = need_section(secs, "cpu", error);
        if (!cpu) {
            goto out;
        }
        const StateDesc *d = m->cpu->ops->state;
        if (cpu->version < (uint32_t)state_min_version(d) ||
            cpu->version > (uint32_t)d->version ||
            cpu->len != state_size(d, cpu->version)) {
            state_invalid(error, "state section 'cpu': version %u or size "
                "%" G_GUINT64_FORMAT " does not match this Mimic's %s",
                cpu->version, cpu->len, d->name);
            goto out;
        }
    }
    for (guint i = 0; i < ndev; i++) {
        Device *d = device_list_nth(m->devices, i);
        if (!d->info->state) {
            continue;
        }
        char name[80];
        g_snprintf(name, sizeof(name), "dev/%s", d->id);
        devs[i] = need_section(secs, name, error);
        if (!devs[i]) {
            goto out;
        }
        const StateDesc *sd = d->info->state;
        if (devs[i]->version < (uint32_t)state_min_version(sd) ||
            devs[i]->version > (uint32_t)sd->version) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_VERSION,
                        "state section '%s' has version %u; this Mimic reads "
                        "versions %d to %d", name, devs[i]->version,
                        state_min_version(sd), sd->version);
            goto out;
        }
        if (devs[i]->len != state_size(sd, devs[i]->version)) {
            state_invalid(error,
                          "state section '%s' has %" G_GUINT64_FORMAT " bytes; "
                          "version %u has %zu",
                          name, devs[i]->len, devs[i]->version,
                          state_size(sd, devs[i]->version));
            goto out;
        }
    }
    StateSection *tim = need_section(secs, "timers", error);
    int nt = clock_timer_count(m->clock);
    if (!tim) {
        goto out;
    }
    if (tim->version != 1) {
        state_bad_version(error, tim->name, tim->version, 1);
        goto out;
    }
    if (tim->len < 4 || state_get_u32(tim->data) != (uint32_t)nt ||
        tim->len != 4 + 16ull * nt) {
        state_invalid(error,
                      "state section 'timers' does not match this machine's "
                      "%d timers",
                      nt);
        goto out;
    }
    for (int i = 0; i < nt; i++) {
        if (state_get_u64(tim->data + 4 + 16 * i + 8) > seq) {
            state_invalid(error,
                          "state section 'timers': timer %d out of range", i);
            goto out;
        }
    }
    StateSection *disks = need_section(secs, "disks", error);
    if (!disks || !check_disks_form(disks, error)) {
        goto out;
    }
    if ((flags & STATE_LOAD_CHECK_DISKS) &&
        !check_disks(m, disks, flags, error)) {
        goto out;
    }
    /* A machine that is discarded when the load fails (-incoming,
       -loadvm) needs no way back: its RAM is decoded in place, first, as
       fast as a restore can be.  Any other is kept as it was. */
    bool discard = flags & STATE_LOAD_DISCARD_ON_FAILURE;
    if (!discard && !state_ram_decode(ram_load, error)) {
        goto out;
    }

    /* Everything checked: commit, with a way back until RAM is written. */
    Backup backup = { 0 };
    if (!discard) {
        backup_take(m, &backup);
    }
    m->clock->icount = m->clock->mode == CLOCK_MODE_ICOUNT ? icount : 0;
    clock_set_now(m->clock, now);
    m->clock->timer_seq = seq;
    ok = !discard || state_ram_commit(ram_load, error);
    if (ok && cpu) {
        if (m->cpu->ops->flush_code) {
            m->cpu->ops->flush_code(m->cpu);
        }
        ok = load_desc(m->cpu->ops->state, m->cpu, cpu, error);
    }
    /* Reverse creation order: the interrupt controllers, created first,
       come last, so their saved input state wins over the lines that the
       other devices' post_load drive again. */
    for (guint i = ndev; ok && i-- > 0;) {
        Device *d = device_list_nth(m->devices, i);
        if (devs[i]) {
            ok = load_desc(d->info->state, d, devs[i], error);
        }
    }
    if (discard) {
        if (!ok) {
            goto out;
        }
    } else if (!ok) {
        GError *again = NULL;
        if (!backup_restore(m, &backup, &again)) {
            /* Our own state refused by our own devices: a bug. */
            g_critical("savevm: the machine could not be put back after a "
                       "refused state: %s", again->message);
            g_prefix_error(error, "(the machine is damaged: %s) ",
                           again->message);
            g_error_free(again);
        }
        backup_free(m, &backup);
        goto out;
    } else {
        backup_free(m, &backup);
        /* Decoded beforehand: cannot fail. */
        ok = state_ram_commit(ram_load, error);
        g_assert(ok);
    }
    for (int i = 0; i < nt; i++) {
        const uint8_t *p = tim->data + 4 + 16 * i;
        timer_restore(clock_timer_nth(m->clock, i), state_get_u64(p),
                      state_get_u64(p + 8));
    }
    m->clock->timer_seq = seq;
    /* The mixers' timelines restart at the restored time (audio.h). */
    for (int i = 0; i < m->n_audio; i++) {
        audio_resync(m->audio[i]);
    }
out:
    g_free(devs);
    state_ram_load_free(ram_load);
    g_array_unref(secs);
    return ok;
}

/* ---- files and URIs ---- */

bool state_write_file_atomic(const char *path, const void *data, size_t len,
                             GError **error)
{
    GError *err = NULL;
    if (!state_file_write_atomic(path, data, len, &err)) {
        /* The engine's callers (mimic.h) see an I/O error. */
        g_set_error_literal(error, MIMIC_ERROR, MIMIC_ERROR_IO, err->message);
        g_error_free(err);
        return false;
    }
    return true;
}

static bool spawn_shell(const char *cmd, int *in_fd, int *out_fd, GPid *pid,
                        GError **error)
{
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    return g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, pid,
                                    in_fd, out_fd, NULL, error);
}

static bool wait_shell(const char *cmd, GPid pid, GError **error)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            status = -1;
            break;
        }
    }
    g_spawn_close_pid(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO,
                    "the command failed (%s %d)",
                    WIFEXITED(status) ? "exit status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status)
                                      : WTERMSIG(status));
        return false;
    }
    return true;
}

static bool migrate_exec(const char *cmd, const GByteArray *f, GError **error)
{
    int in_fd;
    GPid pid;
    signal(SIGPIPE, SIG_IGN);
    if (!spawn_shell(cmd, &in_fd, NULL, &pid, error)) {
        return false;
    }
    const uint8_t *p = f->data;
    size_t left = f->len;
    bool ok = true;
    while (left) {
        ssize_t w = write(in_fd, p, MIN(left, (size_t)1 << 20));
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            ok = false;
            break;
        }
        p += w;
        left -= w;
    }
    close(in_fd);
    if (!wait_shell(cmd, pid, error)) {
        return false;
    }
    if (!ok) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO,
                    "the command did not read the whole state");
    }
    return ok;
}

bool machine_migrate(MimicMachine *m, const char *uri, GError **error)
{
    bool file = g_str_has_prefix(uri, "file:");
    bool exec = g_str_has_prefix(uri, "exec:");
    if (!file && !exec) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "migrate: unsupported URI '%s' (use file:PATH or "
                    "exec:COMMAND)", uri);
        return false;
    }
    machine_do_stop(m);
    GByteArray *f = machine_state_save(m, true, error);
    if (!f) {
        g_prefix_error(error, "migrate %s: ", uri);
        return false;
    }
    bool ok = file ? state_write_file_atomic(uri + 5, f->data, f->len, error)
                   : migrate_exec(uri + 5, f, error);
    g_byte_array_unref(f);
    if (!ok) {
        g_prefix_error(error, "migrate %s: ", uri);
    }
    if (ok) {
        m->postmigrate = true; /* as QEMU: stays paused after migration */
    }
    return ok;
}

/* The most a state of this machine can take: its RAM stored as is, a
   record header per run, and the rest (devices, text) far below 64 MiB.
   A stream (FIFO, exec:) longer than this is not a state of it. */
static size_t state_size_cap(MimicMachine *m)
{
    uint64_t ram = 0;
    for (int i = 0; i < m->board.n_ram_blocks; i++) {
        ram += m->board.ram_blocks[i].size;
    }
    /* 16 bytes of record header per MiB (a record is at most 256 pages). */
    return ram + ram / (1u << 20) * 16 + ((size_t)64 << 20);
}

/* Read fd to its end, refusing more than cap bytes. */
static GByteArray *read_stream(int fd, size_t cap, GError **error)
{
    GByteArray *b = g_byte_array_new();
    uint8_t chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "%s",
                        g_strerror(errno));
            g_byte_array_unref(b);
            return NULL;
        }
        if (r == 0) {
            return b;
        }
        if (b->len + (size_t)r > cap) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                        "more than %zu bytes: not a state of this machine",
                        cap);
            g_byte_array_unref(b);
            return NULL;
        }
        g_byte_array_append(b, chunk, r);
    }
}

static GByteArray *read_exec(const char *cmd, size_t cap, GError **error)
{
    int out_fd;
    GPid pid;
    if (!spawn_shell(cmd, NULL, &out_fd, &pid, error)) {
        return NULL;
    }
    GByteArray *b = read_stream(out_fd, cap, error);
    close(out_fd);
    if (!b) {
        kill(pid, SIGTERM);
        int status;
        waitpid(pid, &status, 0);
        g_spawn_close_pid(pid);
        return NULL;
    }
    if (!wait_shell(cmd, pid, error)) {
        g_byte_array_unref(b);
        return NULL;
    }
    return b;
}

/*
 * -incoming file:PATH.  A regular file is mapped.  A FIFO is read as a
 * stream, as QEMU reads one: the open waits for a writer, so Mimic says
 * so on stderr first.  Anything else (a directory, a device, a socket)
 * is refused.
 */
static GByteArray *read_incoming_file(MimicMachine *m, const char *path,
                                      GMappedFile **mapped, GError **error)
{
    struct stat st;
    *mapped = NULL;
    if (stat(path, &st) < 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "%s",
                    g_strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO,
                    "'%s' is a directory, not a state file", path);
        return NULL;
    }
    if (S_ISREG(st.st_mode)) {
        GError *err = NULL;
        *mapped = g_mapped_file_new(path, FALSE, &err);
        if (!*mapped) {
            /* GLib's message repeats the path in odd quotes. */
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "cannot read "
                        "'%s'", path);
            g_error_free(err);
        }
        return NULL;
    }
    if (!S_ISFIFO(st.st_mode)) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO,
                    "'%s' is not a regular file or a FIFO", path);
        return NULL;
    }
    g_printerr("mimic: -incoming file:%s: waiting for a writer on the FIFO "
               "'%s' (e.g. migrate \"exec:cat > %s\" in the saving "
               "Mimic)\n", path, path, path);
    int fd;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "%s",
                    g_strerror(errno));
        return NULL;
    }
    GByteArray *b = read_stream(fd, state_size_cap(m), error);
    close(fd);
    return b;
}

bool machine_incoming(MimicMachine *m, const char *uri, bool force,
                      GError **error)
{
    GByteArray *b = NULL;
    GMappedFile *mf = NULL;
    const uint8_t *data;
    size_t len;
    if (g_str_has_prefix(uri, "file:")) {
        b = read_incoming_file(m, uri + 5, &mf, error);
        if (!b && !mf) {
            g_prefix_error(error, "-incoming %s: ", uri);
            return false;
        }
    } else if (g_str_has_prefix(uri, "exec:")) {
        b = read_exec(uri + 5, state_size_cap(m), error);
        if (!b) {
            g_prefix_error(error, "-incoming %s: ", uri);
            return false;
        }
    } else {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "-incoming: unsupported URI '%s' (use file:PATH or "
                    "exec:COMMAND)", uri);
        return false;
    }
    if (mf) {
        /* Mapped, not read: no copy and no fresh buffer to fault in. */
        data = (const uint8_t *)g_mapped_file_get_contents(mf);
        len = g_mapped_file_get_length(mf);
    } else {
        data = b->data;
        len = b->len;
    }
    /* mimic_machine_new() frees a machine whose -incoming failed. */
    bool ok = machine_state_load(m, data, len,
                                 STATE_LOAD_CHECK_DISKS |
                                     STATE_LOAD_DISCARD_ON_FAILURE |
                                     (force ? STATE_LOAD_FORCE : 0),
                                 error);
    if (!ok) {
        g_prefix_error(error, "-incoming %s: ", uri);
    }
    if (mf) {
        g_mapped_file_unref(mf);
    } else {
        g_byte_array_unref(b);
    }
    return ok;
}

/* ---- named snapshots (qcow2) ---- */

/* The disks that take part; the first qcow2 one holds the VM state.
   Refuses when a writable disk cannot take snapshots. */
int machine_snapshot_disks(MimicMachine *m, BlockDev **out, GError **error)
{
    int n = 0;
    for (int i = 0; i < MIMIC_MAX_DRIVES; i++) {
        BlockDev *blk = drives_image(m->drives, i);
        if (!blk) {
            continue;
        }
        bool qcow2 = !strcmp(blk_format_name(blk), "qcow2");
        if (!qcow2) {
            if (!blk_is_read_only(blk)) {
                g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                            "Device '%s' is writable but does not support "
                            "snapshots (format %s; only qcow2 does)",
                            blk_filename(blk), blk_format_name(blk));
                return -1;
            }
            continue;
        }
        out[n++] = blk;
    }
    if (n == 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "no disk can hold snapshots (a qcow2 disk is needed)");
        return -1;
    }
    return n;
}

static bool snapshot_exists(BlockDev *blk, const char *name,
                            BlockSnapshotInfo *info_out)
{
    BlockSnapshotInfo *l;
    int n = blk_snapshot_list(blk, &l, NULL);
    bool found = false;
    for (int i = 0; i < n; i++) {
        if (!strcmp(l[i].name, name) || !strcmp(l[i].id, name)) {
            found = true;
            if (info_out) {
                *info_out = l[i];
                info_out->id = g_strdup(l[i].id);
                info_out->name = g_strdup(l[i].name);
            }
            break;
        }
    }
    if (n > 0) {
        blk_snapshot_list_free(l, n);
    }
    return found;
}

bool machine_savevm(MimicMachine *m, const char *name, GError **error)
{
    BlockDev *disks[MIMIC_MAX_DRIVES];
    int n = machine_snapshot_disks(m, disks, error);
    if (n < 0) {
        return false;
    }
    bool was_running = m->run_state == MIMIC_STATE_RUNNING;
    machine_do_stop(m);
    GByteArray *f = machine_state_save(m, false, error);
    bool ok = f != NULL;
    for (int i = 0; ok && i < n; i++) {
        ok = blk_flush(disks[i], error);
        if (ok && snapshot_exists(disks[i], name, NULL)) {
            ok = blk_snapshot_delete(disks[i], name, error);
        }
    }
    if (ok) {
        ok = blk_vmstate_write(disks[0], 0, f->data, f->len, error);
    }
    for (int i = 0; ok && i < n; i++) {
        ok = blk_snapshot_create(disks[i], name, clock_now(m->clock),
                                 i == 0 ? f->len : 0, error) &&
             blk_flush(disks[i], error);
    }
    if (f) {
        g_byte_array_unref(f);
    }
    if (was_running) {
        machine_do_cont(m);
    }
    return ok;
}

bool machine_loadvm(MimicMachine *m, const char *name, GError **error)
{
    BlockDev *disks[MIMIC_MAX_DRIVES];
    int n = machine_snapshot_disks(m, disks, error);
    if (n < 0) {
        return false;
    }
    BlockSnapshotInfo info = { 0 };
    if (!snapshot_exists(disks[0], name, &info)) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "Snapshot '%s' does not exist in device '%s'", name,
                    blk_filename(disks[0]));
        return false;
    }
    g_free(info.id);
    g_free(info.name);
    for (int i = 1; i < n; i++) {
        if (!snapshot_exists(disks[i], name, NULL)) {
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                        "Snapshot '%s' does not exist in device '%s'", name,
                        blk_filename(disks[i]));
            return false;
        }
    }
    if (info.vm_state_size == 0 || info.vm_state_size > ((uint64_t)1 << 40)) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "snapshot '%s' has no VM state", name);
        return false;
    }
    bool was_running = m->run_state == MIMIC_STATE_RUNNING;
    machine_do_stop(m);
    bool ok = true;
    for (int i = 0; ok && i < n; i++) {
        ok = blk_snapshot_apply(disks[i], name, error);
    }
    uint8_t *buf = ok ? g_try_malloc(info.vm_state_size) : NULL;
    if (ok && !buf) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO,
                    "snapshot '%s': cannot allocate its VM state", name);
        ok = false;
    }
    ok = ok && blk_vmstate_read(disks[0], 0, buf, info.vm_state_size, error);
    ok = ok && machine_state_load(m, buf, info.vm_state_size, 0, error);
    g_free(buf);
    if (!ok) {
        g_prefix_error(error, "loadvm %s: ", name);
        return false; /* the machine stays paused */
    }
    if (was_running) {
        machine_do_cont(m);
    }
    return true;
}

bool machine_delvm(MimicMachine *m, const char *name, GError **error)
{
    BlockDev *disks[MIMIC_MAX_DRIVES];
    int n = machine_snapshot_disks(m, disks, error);
    if (n < 0) {
        return false;
    }
    bool any = false;
    for (int i = 0; i < n; i++) {
        if (snapshot_exists(disks[i], name, NULL)) {
            if (!blk_snapshot_delete(disks[i], name, error)) {
                return false;
            }
            any = true;
        }
    }
    if (!any) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "Snapshot '%s' not found", name);
    }
    return any;
}

void machine_info_snapshots(MimicMachine *m, GString *out)
{
    BlockDev *disks[MIMIC_MAX_DRIVES];
    GError *err = NULL;
    int n = machine_snapshot_disks(m, disks, &err);
    if (n < 0) {
        g_string_append_printf(out, "%s\n", err->message);
        g_error_free(err);
        return;
    }
    BlockSnapshotInfo *l;
    int k = blk_snapshot_list(disks[0], &l, NULL);
    if (k <= 0) {
        g_string_append(out, "There is no snapshot available.\n");
        return;
    }
    g_string_append(out, "List of snapshots present on all disks:\n");
    g_string_append_printf(out, "%-10s%-17s%8s%20s%15s\n", "ID", "TAG",
                           "VM SIZE", "DATE", "VM CLOCK");
    for (int i = 0; i < k; i++) {
        bool everywhere = true;
        for (int j = 1; j < n; j++) {
            everywhere &= snapshot_exists(disks[j], l[i].name, NULL);
        }
        if (!everywhere) {
            continue;
        }
        g_autoptr(GDateTime) dt =
            g_date_time_new_from_unix_local(l[i].date_sec);
        g_autofree char *date = dt ? g_date_time_format(dt, "%F %T")
                                   : g_strdup("?");
        uint64_t ns = l[i].vm_clock_nsec;
        g_autofree char *size = g_format_size_full(l[i].vm_state_size,
                                                   G_FORMAT_SIZE_IEC_UNITS);
        g_string_append_printf(out, "%-10s%-17s%8s%20s %02u:%02u:%02u.%03u\n",
                               "--", l[i].name, size, date,
                               (unsigned)(ns / 3600000000000ull),
                               (unsigned)(ns / 60000000000ull % 60),
                               (unsigned)(ns / 1000000000ull % 60),
                               (unsigned)(ns / 1000000ull % 1000));
    }
    blk_snapshot_list_free(l, k);
}
