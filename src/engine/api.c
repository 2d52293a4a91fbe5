/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The typed engine API (mimic.h): save state, internal snapshots, media
 * changes and capabilities as functions with a GError. Each operation
 * runs on the worker thread through machine_call(); the human monitor and
 * QMP reach the same machine_* functions (savevm.c, the board's block
 * hooks), so the three front ends cannot disagree.
 */
#include "engine/mimic.h"

#include <string.h>

#include "engine/machine.h"
#include "engine/network.h"
#include "engine/savevm.h"
#include "hw/usb/usb_bus.h"
#include "images/block.h"

typedef struct ApiArgs {
    char *a, *b, *c;
    bool flag;
    int n[4];
    MimicIoStatus io;
    MimicIoStatusDone io_done;
    MimicDone done;
    MimicSnapshotsDone list_done;
    GPtrArray *list;
} ApiArgs;

static void args_free(gpointer data)
{
    ApiArgs *x = data;
    g_free(x->a);
    g_free(x->b);
    g_free(x->c);
    if (x->list) {
        g_ptr_array_unref(x->list);
    }
    g_free(x);
}

static void done_simple(MimicMachine *m, const GError *error, gpointer args,
                        gpointer user_data)
{
    ApiArgs *x = args;
    if (x->done) {
        x->done(m, error, user_data);
    }
}

static void call(MimicMachine *m, MachineCallFn fn, ApiArgs *x,
                 MimicDone done, gpointer user_data)
{
    x->done = done;
    machine_call(m, fn, x, args_free, done_simple, user_data);
}

static ApiArgs *args_new(const char *a, const char *b, const char *c)
{
    ApiArgs *x = g_new0(ApiArgs, 1);
    x->a = g_strdup(a);
    x->b = g_strdup(b);
    x->c = g_strdup(c);
    return x;
}

/* ---- save state ---- */

static bool do_save_state(MimicMachine *m, gpointer args, GError **error)
{
    ApiArgs *x = args;
    g_autofree char *uri = g_strconcat("file:", x->a, NULL);
    return machine_migrate(m, uri, error);
}

void mimic_machine_save_state(MimicMachine *m, const char *path,
                              MimicDone done, gpointer user_data)
{
    call(m, do_save_state, args_new(path, NULL, NULL), done, user_data);
}

/* ---- snapshots ---- */

static bool do_snapshot_save(MimicMachine *m, gpointer args, GError **error)
{
    return machine_savevm(m, ((ApiArgs *)args)->a, error);
}

static bool do_snapshot_load(MimicMachine *m, gpointer args, GError **error)
{
    return machine_loadvm(m, ((ApiArgs *)args)->a, error);
}

static bool do_snapshot_delete(MimicMachine *m, gpointer args,
                               GError **error)
{
    return machine_delvm(m, ((ApiArgs *)args)->a, error);
}

void mimic_machine_snapshot_save(MimicMachine *m, const char *name,
                                 MimicDone done, gpointer user_data)
{
    call(m, do_snapshot_save, args_new(name, NULL, NULL), done, user_data);
}

void mimic_machine_snapshot_load(MimicMachine *m, const char *name,
                                 MimicDone done, gpointer user_data)
{
    call(m, do_snapshot_load, args_new(name, NULL, NULL), done, user_data);
}

void mimic_machine_snapshot_delete(MimicMachine *m, const char *name,
                                   MimicDone done, gpointer user_data)
{
    call(m, do_snapshot_delete, args_new(name, NULL, NULL), done,
         user_data);
}

void mimic_snapshot_free(MimicSnapshot *s)
{
    if (s) {
        g_free(s->id);
        g_free(s->name);
        g_free(s);
    }
}

static bool on_every_disk(BlockDev **disks, int n, const char *name)
{
    for (int j = 1; j < n; j++) {
        BlockSnapshotInfo *l;
        int k = blk_snapshot_list(disks[j], &l, NULL);
        bool found = false;
        for (int i = 0; i < k && !found; i++) {
            found = !strcmp(l[i].name, name);
        }
        blk_snapshot_list_free(l, MAX(k, 0));
        if (!found) {
            return false;
        }
    }
    return true;
}

static bool do_snapshot_list(MimicMachine *m, gpointer args, GError **error)
{
    ApiArgs *x = args;
    BlockDev *disks[MIMIC_MAX_DRIVES];
    int n = machine_snapshot_disks(m, disks, error);
    if (n < 0) {
        return false;
    }
    BlockSnapshotInfo *l;
    int k = blk_snapshot_list(disks[0], &l, error);
    if (k < 0) {
        return false;
    }
    for (int i = 0; i < k; i++) {
        if (!on_every_disk(disks, n, l[i].name)) {
            continue;
        }
        MimicSnapshot *s = g_new0(MimicSnapshot, 1);
        s->id = g_strdup(l[i].id);
        s->name = g_strdup(l[i].name);
        s->vm_state_size = l[i].vm_state_size;
        s->date_sec = l[i].date_sec;
        s->vm_clock_nsec = l[i].vm_clock_nsec;
        g_ptr_array_add(x->list, s);
    }
    blk_snapshot_list_free(l, k);
    return true;
}

static void done_list(MimicMachine *m, const GError *error, gpointer args,
                      gpointer user_data)
{
    ApiArgs *x = args;
    if (x->list_done) {
        x->list_done(m, x->list, error, user_data);
    }
}

void mimic_machine_snapshot_list(MimicMachine *m, MimicSnapshotsDone done,
                                 gpointer user_data)
{
    ApiArgs *x = args_new(NULL, NULL, NULL);
    x->list = g_ptr_array_new_with_free_func(
        (GDestroyNotify)mimic_snapshot_free);
    x->list_done = done;
    machine_call(m, do_snapshot_list, x, args_free, done_list, user_data);
}

/* ---- removable media ---- */

bool machine_change_media(MimicMachine *m, const char *device,
                          const char *path, const char *format,
                          GError **error)
{
    return drives_change(m->drives, device, path, format, error);
}

bool machine_eject_media(MimicMachine *m, const char *device, bool force,
                         GError **error)
{
    return drives_eject(m->drives, device, force, error);
}

static bool do_change(MimicMachine *m, gpointer args, GError **error)
{
    ApiArgs *x = args;
    return machine_change_media(m, x->a, x->b, x->c, error);
}

static bool do_eject(MimicMachine *m, gpointer args, GError **error)
{
    ApiArgs *x = args;
    return machine_eject_media(m, x->a, x->flag, error);
}

void mimic_machine_change_media(MimicMachine *m, const char *device,
                                const char *path, const char *format,
                                MimicDone done, gpointer user_data)
{
    call(m, do_change, args_new(device, path, format), done, user_data);
}

void mimic_machine_eject_media(MimicMachine *m, const char *device,
                               bool force, MimicDone done,
                               gpointer user_data)
{
    ApiArgs *x = args_new(device, NULL, NULL);
    x->flag = force;
    call(m, do_eject, x, done, user_data);
}

/* ---- sound ---- */

void mimic_machine_set_audio_muted(MimicMachine *m, bool muted)
{
    /* m->audio[] is fixed once the machine is built. */
    for (int i = 0; i < m->n_audio; i++) {
        audio_set_muted(m->audio[i], muted);
    }
}

bool mimic_machine_get_audio_muted(MimicMachine *m)
{
    return m->n_audio > 0 && audio_muted(m->audio[0]);
}

/* ---- capabilities ---- */

MimicCaps mimic_machine_capabilities(MimicMachine *m)
{
    return m->caps;
}

MimicCaps machine_compute_caps(MimicMachine *m)
{
    MimicCaps caps = MIMIC_CAP_SAVE_STATE;
    BlockDev *disks[MIMIC_MAX_DRIVES];
    if (machine_snapshot_disks(m, disks, NULL) > 0) {
        caps |= MIMIC_CAP_SNAPSHOTS;
    }
    if (drives_have_removable(m->drives)) {
        caps |= MIMIC_CAP_CHANGE_MEDIA | MIMIC_CAP_EJECT_MEDIA;
    }
    for (int k = 0; k < m->board.n_nics; k++) {
        if (m->board.nics[k].port) {
            caps |= MIMIC_CAP_NETWORK;
        }
    }
    if (m->n_audio > 0) {
        caps |= MIMIC_CAP_SOUND;
    }
    if (m->board_info->device_add && usb_bus_wanted(m->cfg)) {
        caps |= MIMIC_CAP_USB;
    }
    return caps;
}

/* ---- network link, mute (the machine window's switches) ---- */

static bool do_set_link(MimicMachine *m, gpointer args, GError **error)
{
    ApiArgs *x = args;
    bool any = false;
    for (int k = 0; k < m->board.n_nics; k++) {
        NetPort *p = m->board.nics[k].port;
        if (p && !machine_net_set_link(m->net, &m->board, net_port_name(p),
                                       x->flag, error)) {
            return false;
        }
        any |= p != NULL;
    }
    if (!any) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "this machine has no network card");
    }
    return any;
}

void mimic_machine_set_link(MimicMachine *m, bool up, MimicDone done,
                            gpointer user_data)
{
    ApiArgs *x = args_new(NULL, NULL, NULL);
    x->flag = up;
    call(m, do_set_link, x, done, user_data);
}

static bool do_set_mute(MimicMachine *m, gpointer args, GError **error)
{
    ApiArgs *x = args;
    mimic_machine_set_audio_muted(m, x->flag);
    return true;
}

void mimic_machine_set_mute(MimicMachine *m, bool mute, MimicDone done,
                            gpointer user_data)
{
    ApiArgs *x = args_new(NULL, NULL, NULL);
    x->flag = mute;
    call(m, do_set_mute, x, done, user_data);
}

/* ---- absolute pointer, I/O counters, USB disks ---- */

static bool board_pointer_absolute(MimicMachine *m)
{
    return m->board_info->pointer_absolute &&
           m->board_info->send_pointer_abs &&
           m->board_info->pointer_absolute(&m->board);
}

static bool do_pointer_abs(MimicMachine *m, gpointer args, GError **error)
{
    ApiArgs *x = args;
    if (board_pointer_absolute(m)) {
        m->mouse_buttons = (unsigned)x->n[3];
        m->board_info->send_pointer_abs(&m->board, x->n[0], x->n[1],
                                        x->n[2], m->mouse_buttons);
    } else if ((unsigned)x->n[3] != m->mouse_buttons) {
        machine_do_pointer(m, 0, 0, 0, (unsigned)x->n[3]);
    }
    return true;
}

void mimic_machine_send_pointer_abs(MimicMachine *m, int x, int y, int dz,
                                    unsigned buttons)
{
    ApiArgs *a = args_new(NULL, NULL, NULL);
    a->n[0] = x;
    a->n[1] = y;
    a->n[2] = dz;
    a->n[3] = (int)buttons;
    call(m, do_pointer_abs, a, NULL, NULL);
}

static bool do_io_status(MimicMachine *m, gpointer args, GError **error)
{
    MimicIoStatus *st = &((ApiArgs *)args)->io;
    st->pointer_absolute = board_pointer_absolute(m);
    for (int i = 0; i < MIMIC_MAX_DRIVES; i++) {
        BlockDev *blk = drives_image(m->drives, i);
        if (blk) {
            uint64_t rd, wr;
            blk_io_counters(blk, &rd, &wr);
            st->disk_read_bytes += rd;
            st->disk_written_bytes += wr;
        }
    }
    for (int k = 0; k < m->board.n_nics; k++) {
        const NetPort *p = m->board.nics[k].port;
        if (p) {
            const NetStats *ns = net_port_stats(p);
            st->have_network = true;
            st->net_rx_bytes += ns->rx_bytes;
            st->net_tx_bytes += ns->tx_bytes;
        }
    }
    return true;
}

static void done_io(MimicMachine *m, const GError *error, gpointer args,
                    gpointer user_data)
{
    ApiArgs *x = args;
    if (x->io_done) {
        x->io_done(m, error ? NULL : &x->io, error, user_data);
    }
}

void mimic_machine_query_io_status(MimicMachine *m, MimicIoStatusDone done,
                                   gpointer user_data)
{
    ApiArgs *x = args_new(NULL, NULL, NULL);
    x->io_done = done;
    machine_call(m, do_io_status, x, args_free, done_io, user_data);
}

static bool do_usb_disk(MimicMachine *m, gpointer args, GError **error)
{
    ApiArgs *x = args;
    static gint serial; /* every machine's worker thread: atomic */
    if (!m->board_info->device_add) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "this machine cannot add USB devices");
        return false;
    }
    g_autofree char *id = g_strdup_printf("usbdisk%d",
                                      g_atomic_int_add(&serial, 1) + 1);
    DriveConfig d = {
        .file = x->a,
        .format = x->b,
        .interface = DRIVE_IF_NONE,
        .media = DRIVE_MEDIA_DISK,
        .readonly = x->flag,
        .id = id,
    };
    if (!drives_add(m->drives, &d, error)) {
        return false;
    }
    g_autofree char *spec = g_strdup_printf("usb-storage,drive=%s,id=%s",
                                            id, id);
    return m->board_info->device_add(&m->board, spec, error);
}

void mimic_machine_usb_disk_connect(MimicMachine *m, const char *path,
                                    const char *format, bool read_only,
                                    MimicDone done, gpointer user_data)
{
    ApiArgs *x = args_new(path, format, NULL);
    x->flag = read_only;
    call(m, do_usb_disk, x, done, user_data);
}
