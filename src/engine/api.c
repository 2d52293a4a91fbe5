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
#include "images/block.h"

typedef struct ApiArgs {
    char *a, *b, *c;
    bool flag;
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
