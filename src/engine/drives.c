/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine's drives: one table of named drives, the images in them,
 * and "info block", "change", "eject", "drive_add" on it, for any board.
 *
 * A drive comes from the configuration (-drive, -hda, -cdrom, -fda: its
 * index in cfg->drives), from the board (the pc's default empty CD-ROM)
 * or from drive_add at run time.  Its image is opened when the board
 * wires the drive (open) or a USB disk takes it (claim), by one set of
 * rules:
 * - the format is the configuration's; without format= the block layer
 *   guesses as QEMU does: a magic it knows opens that format or fails
 *   (never raw), and a writable image guessed raw refuses guest writes
 *   that would give its first sector a format's magic (the probe_writable
 *   rule of images/block.h, CVE-2008-2004);
 * - read-only, -snapshot overlays, the cache mode and file.locking as the
 *   drive says (image locks are taken unless locking=off, so two
 *   machines, or two drives, never write one image).
 * Names follow QEMU's: "ide<bus>-<hd|cd><unit>", "floppy<n>", and the id
 * of an if=none drive.  The "#blockN" node numbers count opens from 100,
 * as QEMU's.  The board's devices do what a medium change means to the
 * guest through DriveMediaOps (hw/drive.h).
 */
#include <string.h>

#include "engine/drives.h"
#include "engine/mimic.h"

#define DRIVES_MAX (2 * MIMIC_MAX_DRIVES)

typedef struct Drive {
    const DriveConfig *cfg; /* the configuration's, or own */
    DriveConfig *own;       /* drive_add's copy, the board's empty drive */
    int index;              /* in the configuration's drives; -1 */
    char *name;
    BlockDev *blk;
    char *file;             /* as the user named it (not an overlay) */
    int node;
    bool in_use;            /* a USB disk has it */
    /* The board's device, once attached. */
    bool attached;
    char *where;
    const DriveMediaOps *media;
    void *dev;
} Drive;

struct Drives {
    const MachineConfig *cfg;
    GPtrArray *drive;    /* Drive *: the configuration's first, by index */
    GPtrArray *attached; /* Drive *, in the order the board attached them */
    int next_node;
};

static BlockCacheMode cache_mode(DriveCache c)
{
    switch (c) {
    case DRIVE_CACHE_WRITETHROUGH:
        return BLOCK_CACHE_WRITETHROUGH;
    case DRIVE_CACHE_NONE:
        return BLOCK_CACHE_NONE;
    case DRIVE_CACHE_UNSAFE:
        return BLOCK_CACHE_UNSAFE;
    default:
        return BLOCK_CACHE_WRITEBACK;
    }
}

static const char *cache_name(BlockCacheMode c)
{
    switch (c) {
    case BLOCK_CACHE_WRITETHROUGH:
        return "writethrough";
    case BLOCK_CACHE_NONE:
        return "writeback, direct";
    case BLOCK_CACHE_UNSAFE:
        return "writeback, ignore flushes";
    default:
        return "writeback";
    }
}

static char *config_name(const DriveConfig *c, int index)
{
    switch (c->interface) {
    case DRIVE_IF_IDE:
        return g_strdup_printf("ide%d-%s%d", c->index / 2,
                               c->media == DRIVE_MEDIA_CDROM ? "cd" : "hd",
                               c->index % 2);
    case DRIVE_IF_FLOPPY:
        return g_strdup_printf("floppy%d", c->index);
    default:
        return c->id ? g_strdup(c->id) : g_strdup_printf("none%d", index);
    }
}

static Drive *drive_new(Drives *dr, const DriveConfig *c, int index,
                        char *name)
{
    Drive *d = g_new0(Drive, 1);
    d->cfg = c;
    d->index = index;
    d->name = name;
    g_ptr_array_add(dr->drive, d);
    return d;
}

static void drive_free(Drive *d)
{
    blk_close(d->blk);
    g_free(d->file);
    g_free(d->name);
    g_free(d->where);
    if (d->own) {
        drive_config_clear(d->own);
        g_free(d->own);
    }
    g_free(d);
}

Drives *drives_new(const MachineConfig *cfg)
{
    Drives *dr = g_new0(Drives, 1);
    dr->cfg = cfg;
    dr->drive = g_ptr_array_new_with_free_func((GDestroyNotify)drive_free);
    dr->attached = g_ptr_array_new();
    dr->next_node = 100;
    for (int i = 0; i < cfg->n_drives; i++) {
        drive_new(dr, &cfg->drives[i], i, config_name(&cfg->drives[i], i));
    }
    return dr;
}

void drives_free(Drives *dr)
{
    if (!dr) {
        return;
    }
    g_ptr_array_free(dr->attached, TRUE);
    g_ptr_array_free(dr->drive, TRUE);
    g_free(dr);
}

static Drive *nth(Drives *dr, guint i)
{
    return g_ptr_array_index(dr->drive, i);
}

/* What the monitor can name: the board's drives and the if=none ones. */
static bool visible(const Drive *d)
{
    return d->attached || d->cfg->interface == DRIVE_IF_NONE;
}

static Drive *find(Drives *dr, const char *name)
{
    for (guint i = 0; dr && i < dr->drive->len; i++) {
        Drive *d = nth(dr, i);
        if (visible(d) && !strcmp(d->name, name)) {
            return d;
        }
    }
    return NULL;
}

/*
 * Open file as drive d's medium.  changing: a medium change of a running
 * machine, where a read-only drive (a CD-ROM) takes no -snapshot overlay.
 */
static BlockDev *open_image(Drives *dr, Drive *d, const char *file,
                            const char *format, bool changing,
                            GError **error)
{
    const DriveConfig *c = d->cfg;
    bool read_only = c->readonly || (changing &&
                                     c->media == DRIVE_MEDIA_CDROM);
    bool snapshot = (c->snapshot || dr->cfg->snapshot) &&
                    !(changing && read_only);
    if (!format && c->media == DRIVE_MEDIA_DISK && !read_only &&
        !snapshot) {
        const char *g = blk_probe_format(file, NULL);
        if (g && !strcmp(g, "raw")) {
            g_printerr("mimic: warning: image format was not specified for "
                       "'%s'; probing guessed raw: writes to its first "
                       "sector that would make it look like another format "
                       "are refused (write format=raw to allow them)\n",
                       file);
        }
    }
    BlockOpenOptions o = {
        .format = format, .probe_writable = !format,
        .read_only = read_only, .snapshot = snapshot,
        .cache = cache_mode(c->cache), .no_locking = c->no_locking,
    };
    return blk_open(file, &o, error);
}

static void set_medium(Drives *dr, Drive *d, BlockDev *blk,
                       const char *file)
{
    blk_close(d->blk);
    g_free(d->file);
    d->blk = blk;
    d->file = g_strdup(file);
    if (blk) {
        d->node = dr->next_node++;
    }
}

/* ---- the board's side (BoardDrives) ---- */

static bool hook_open(void *opaque, int index, BlockDev **blk,
                      GError **error)
{
    Drives *dr = opaque;
    *blk = NULL;
    if (index < 0 || index >= dr->cfg->n_drives) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "drive %d is not in the configuration", index);
        return false;
    }
    Drive *d = nth(dr, index);
    if (!d->blk && d->cfg->file) {
        BlockDev *b = open_image(dr, d, d->cfg->file, d->cfg->format, false,
                                 error);
        if (!b) {
            return false;
        }
        set_medium(dr, d, b, d->cfg->file);
    }
    *blk = d->blk;
    return true;
}

static void hook_attach(void *opaque, int index, const char *name,
                        const char *where, const DriveMediaOps *media,
                        void *dev)
{
    Drives *dr = opaque;
    Drive *d;
    if (index >= 0 && index < dr->cfg->n_drives) {
        d = nth(dr, index);
    } else {
        /* A drive of the board's own: empty, with default settings. */
        DriveConfig *c = g_new0(DriveConfig, 1);
        c->media = media ? DRIVE_MEDIA_CDROM : DRIVE_MEDIA_DISK;
        c->readonly = media != NULL;
        d = drive_new(dr, c, -1, g_strdup(name ? name : "drive"));
        d->own = c;
    }
    if (name && index >= 0) {
        g_free(d->name);
        d->name = g_strdup(name);
    }
    g_free(d->where);
    d->where = g_strdup(where);
    d->media = media;
    d->dev = dev;
    if (!d->attached) {
        g_ptr_array_add(dr->attached, d);
    }
    d->attached = true;
}

static bool hook_claim(void *opaque, const char *id, BlockDev **blk,
                       bool *read_only, GError **error)
{
    Drives *dr = opaque;
    Drive *d = find(dr, id);
    if (!d || d->cfg->interface != DRIVE_IF_NONE) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "drive '%s' not found (define it with -drive if=none,"
                    "id=%s,file=... or drive_add)", id, id);
        return false;
    }
    if (d->in_use) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "drive '%s' is in use", id);
        return false;
    }
    if (!d->blk) {
        if (!d->cfg->file) {
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                        "drive '%s' has no image", id);
            return false;
        }
        BlockDev *b = open_image(dr, d, d->cfg->file, d->cfg->format, false,
                                 error);
        if (!b) {
            return false;
        }
        set_medium(dr, d, b, d->cfg->file);
    }
    d->in_use = true;
    *blk = d->blk;
    *read_only = d->cfg->readonly;
    return true;
}

/* A USB disk unplugged: its image closes (and opens again if the drive
   is plugged in again). */
static void hook_release(void *opaque, BlockDev *blk)
{
    Drives *dr = opaque;
    for (guint i = 0; blk && i < dr->drive->len; i++) {
        Drive *d = nth(dr, i);
        if (d->blk == blk) {
            set_medium(dr, d, NULL, NULL);
            d->in_use = false;
        }
    }
}

BoardDrives drives_board(Drives *dr)
{
    return (BoardDrives){
        .opaque = dr, .open = hook_open, .attach = hook_attach,
        .claim = hook_claim, .release = hook_release,
    };
}

BlockDev *drives_image(Drives *dr, int index)
{
    if (!dr || index < 0 || index >= dr->cfg->n_drives) {
        return NULL;
    }
    return nth(dr, index)->blk;
}

bool drives_have_removable(Drives *dr)
{
    for (guint i = 0; dr && i < dr->attached->len; i++) {
        if (((Drive *)g_ptr_array_index(dr->attached, i))->media) {
            return true;
        }
    }
    return false;
}

/* ---- the monitor's side ---- */

static void info_one(Drive *d, GString *out)
{
    if (d->blk) {
        g_string_append_printf(out, "%s (#block%d): %s (%s%s)\n", d->name,
                               d->node, d->file, blk_format_name(d->blk),
                               blk_is_read_only(d->blk) ? ", read-only"
                                                        : "");
    } else if (!d->attached && d->cfg->file) {
        /* An if=none drive opens when a device takes it. */
        g_string_append_printf(out, "%s: %s (closed: no device uses it)\n",
                               d->name, d->cfg->file);
    } else {
        g_string_append_printf(out, "%s: [not inserted]\n", d->name);
    }
    if (d->where) {
        g_string_append_printf(out, "    Attached to:      %s\n", d->where);
    }
    if (d->media) {
        bool locked = d->media->locked && d->media->locked(d->dev);
        bool open = d->media->tray_open ? d->media->tray_open(d->dev)
                                        : !d->blk;
        g_string_append_printf(out, "    Removable device: %slocked, "
                               "tray %s\n", locked ? "" : "not ",
                               open ? "open" : "closed");
    }
    if (d->blk) {
        g_string_append_printf(out, "    Cache mode:       %s\n",
                               cache_name(cache_mode(d->cfg->cache)));
    }
}

void drives_info(Drives *dr, const char *device, GString *out)
{
    bool first = true;
    if (!dr) {
        return; /* a machine without drives */
    }
    /* The board's drives as it attached them, then the if=none ones. */
    GPtrArray *list = g_ptr_array_new();
    for (guint i = 0; i < dr->attached->len; i++) {
        g_ptr_array_add(list, g_ptr_array_index(dr->attached, i));
    }
    for (guint i = 0; i < dr->drive->len; i++) {
        Drive *d = nth(dr, i);
        if (!d->attached && d->cfg->interface == DRIVE_IF_NONE) {
            g_ptr_array_add(list, d);
        }
    }
    for (guint i = 0; i < list->len; i++) {
        Drive *d = g_ptr_array_index(list, i);
        if (device && strcmp(device, d->name)) {
            continue;
        }
        if (!first) {
            g_string_append_c(out, '\n');
        }
        first = false;
        info_one(d, out);
    }
    g_ptr_array_free(list, TRUE);
}

static Drive *removable(Drives *dr, const char *device, GError **error)
{
    Drive *d = find(dr, device);
    if (!d) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "Device '%s' not found", device);
        return NULL;
    }
    if (!d->media) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "Device '%s' is not removable", device);
        return NULL;
    }
    return d;
}

static bool locked_error(GError **error, const char *device)
{
    g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                "Device '%s' is locked and force was not specified, wait "
                "for tray to open and try again", device);
    return false;
}

bool drives_eject(Drives *dr, const char *device, bool force,
                  GError **error)
{
    Drive *d = removable(dr, device, error);
    if (!d) {
        return false;
    }
    if (!d->media->eject(d->dev, force)) {
        return locked_error(error, device);
    }
    set_medium(dr, d, NULL, NULL);
    return true;
}

bool drives_change(Drives *dr, const char *device, const char *file,
                   const char *format, GError **error)
{
    Drive *d = removable(dr, device, error);
    if (!d) {
        return false;
    }
    if (d->media->locked && d->media->locked(d->dev)) {
        if (d->media->eject_request) {
            d->media->eject_request(d->dev); /* ask the guest */
        }
        return locked_error(error, device);
    }
    /* The new medium opens first: on failure the old one stays in. */
    BlockDev *blk = open_image(dr, d, file, format, true, error);
    if (!blk) {
        return false;
    }
    if (!d->media->insert(d->dev, blk, error)) {
        blk_close(blk);
        return false;
    }
    set_medium(dr, d, blk, file);
    return true;
}

bool drives_add(Drives *dr, const DriveConfig *c, GError **error)
{
    if (!dr) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "this machine has no drives");
        return false;
    }
    if (c->interface != DRIVE_IF_NONE) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "only if=none drives can be added to a running machine "
                    "(then device_add usb-storage,drive=ID)");
        return false;
    }
    if (!c->id || !c->id[0]) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "a drive added at run time needs id=");
        return false;
    }
    for (guint i = 0; i < dr->drive->len; i++) {
        if (!strcmp(nth(dr, i)->name, c->id)) {
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                        "Duplicate ID '%s' for drive", c->id);
            return false;
        }
    }
    if (dr->drive->len >= DRIVES_MAX) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "too many drives (%d)", DRIVES_MAX);
        return false;
    }
    if (!c->file) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "a drive added at run time needs file=");
        return false;
    }
    DriveConfig *own = g_new0(DriveConfig, 1);
    *own = *c;
    own->file = g_strdup(c->file);
    own->format = g_strdup(c->format);
    own->id = g_strdup(c->id);
    Drive *d = drive_new(dr, own, -1, g_strdup(c->id));
    d->own = own;
    BlockDev *blk = open_image(dr, d, own->file, own->format, false, error);
    if (!blk) {
        g_ptr_array_remove(dr->drive, d);
        return false;
    }
    set_medium(dr, d, blk, own->file);
    return true;
}
