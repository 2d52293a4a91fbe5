/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine and its worker thread (the public side is engine/mimic.h).
 *
 * One worker thread per machine runs the CPU in slices bounded by the next
 * timer deadline (icount) or a fixed instruction count (real time).
 * Between slices it fires expired timers, polls its GMainContext (character
 * device input, commands from other threads) and carries out requests
 * (reset, power-off, quit).  Every device access therefore happens on the
 * worker thread; other threads only queue commands and wake the worker.
 * Events for the front end are posted to the GMainContext it registered.
 */
#include "engine/machine.h"
#include "engine/network.h"

#include <string.h>

#include "mimic-config.h"
#include "bus/log.h"
#include "engine/qmp.h"
#include "engine/savevm.h"
#include "images/block.h"

G_DEFINE_QUARK(mimic-error-quark, mimic_error)

/* Instructions per slice in real-time mode; timers are checked between. */
#define SLICE_INSNS 200000
/* A slice while timers are behind (real time): enough for the CPU to take
   and handle the interrupt of each catching-up firing (clock.h). */
#define CATCHUP_INSNS 20000
/* How long the speed is measured over. */
#define SPEED_PERIOD_NS 1000000000

typedef enum {
    CMD_PAUSE,
    CMD_RESUME,
    CMD_RESET,
    CMD_POWERDOWN,
    CMD_QUIT,
    CMD_KEY,
    CMD_POINTER,
    CMD_MONITOR,
    CMD_CALL,
} CmdKind;

typedef struct Cmd {
    CmdKind kind;
    unsigned code;
    bool down;
    int dx, dy, dz;
    char *line;
    MimicMonitorReply reply;
    gpointer user_data;
    /* CMD_CALL */
    MachineCallFn fn;
    gpointer args;
    GDestroyNotify free_args;
    MachineCallDone done;
} Cmd;

const char *mimic_version(void)
{
    return MIMIC_VERSION;
}

const char *mimic_image_format(const char *path, GError **error)
{
    return blk_probe_format(path, error);
}

/* ---- events to the front end ---- */

typedef struct EventPost {
    MimicMachine *m;
    MimicEvent ev;
} EventPost;

static gboolean event_dispatch(gpointer data)
{
    EventPost *p = data;
    if (p->m->event_fn) {
        p->m->event_fn(p->m, &p->ev, p->m->event_data);
    }
    return G_SOURCE_REMOVE;
}

void machine_emit(MimicMachine *m, const MimicEvent *ev)
{
    if (m->qmp) {
        qmp_machine_event(m->qmp, ev);
    }
    if (!m->event_fn) {
        return;
    }
    EventPost *p = g_new(EventPost, 1);
    p->m = m;
    p->ev = *ev;
    g_main_context_invoke_full(m->event_ctx, G_PRIORITY_DEFAULT,
                               event_dispatch, p, g_free);
}

static void set_run_state(MimicMachine *m, MimicRunState s)
{
    g_mutex_lock(&m->lock);
    bool changed = m->run_state != s;
    m->run_state = s;
    g_cond_broadcast(&m->cond);
    g_mutex_unlock(&m->lock);
    if (changed) {
        MimicEvent ev = { .kind = MIMIC_EVENT_STATE_CHANGED, .state = s };
        machine_emit(m, &ev);
    }
}

static void display_update(void *opaque, int x, int y, int w, int h)
{
    MimicMachine *m = opaque;
    MimicEvent ev = { .kind = MIMIC_EVENT_DISPLAY_UPDATE, .x = x, .y = y,
                      .w = w, .h = h };
    machine_emit(m, &ev);
}

static void display_resized(void *opaque, int w, int h)
{
    MimicMachine *m = opaque;
    MimicEvent ev = { .kind = MIMIC_EVENT_DISPLAY_RESIZE, .w = w, .h = h };
    machine_emit(m, &ev);
}

static const DisplayListener machine_display_listener = {
    .update = display_update,
    .resize = display_resized,
};

/* ---- requests from the board (worker thread) ---- */

static void host_request_reset(void *opaque)
{
    MimicMachine *m = opaque;
    m->reset_requested = true;
    if (m->cpu) {
        m->cpu->ops->exit_request(m->cpu);
    }
}

static void host_request_poweroff(void *opaque)
{
    MimicMachine *m = opaque;
    m->poweroff_requested = true;
    if (m->cpu) {
        m->cpu->ops->exit_request(m->cpu);
    }
}

/* ---- construction ---- */

/* Every -audiodev, and the default one (PulseAudio, mute when no server
   answers) when a sound card names none. */
static bool open_audio(MimicMachine *m, GError **error)
{
    const MachineConfig *cfg = m->cfg;
    for (int i = 0; i < cfg->n_audiodevs; i++) {
        const AudioDevConfig *ad = &cfg->audiodevs[i];
        Audio *a = audio_new(m->clock, ad->id, ad->driver, ad->path,
                             ad->server, error);
        if (!a) {
            return false;
        }
        m->audio[m->n_audio++] = a;
        if (ad->in_path && !audio_set_input_file(a, ad->in_path, error)) {
            return false;
        }
    }
    if (cfg->n_soundhw > 0 && cfg->n_audiodevs == 0) {
        m->audio[m->n_audio++] = audio_new(m->clock, "audio0", "pa", NULL,
                                           NULL, error);
    }
    return true;
}

static Audio *audio_for_card(MimicMachine *m, int card)
{
    const char *id = m->cfg->soundhw_audiodev[card];
    for (int i = 0; id && i < m->n_audio; i++) {
        if (!strcmp(audio_id(m->audio[i]), id)) {
            return m->audio[i];
        }
    }
    return m->n_audio ? m->audio[0] : NULL;
}

static bool open_chardevs(MimicMachine *m, GError **error)
{
    const MachineConfig *cfg = m->cfg;
    for (int i = 0; i < MIMIC_MAX_SERIAL; i++) {
        if (!cfg->serial[i] || !strcmp(cfg->serial[i], "none")) {
            continue;
        }
        m->serial[i] = chardev_new(cfg->serial[i], m->ctx, error);
        if (!m->serial[i]) {
            g_prefix_error(error, "-serial: ");
            return false;
        }
    }
    if (cfg->monitor && strcmp(cfg->monitor, "none") != 0) {
        /* One terminal named twice is shared; each "vc" is its own. */
        bool vc = !strcmp(cfg->monitor, "vc") ||
                  g_str_has_prefix(cfg->monitor, "vc:");
        if (cfg->serial[0] && !strcmp(cfg->monitor, cfg->serial[0]) &&
            m->serial[0] && !vc) {
            m->monitor_chr = chardev_mux_monitor(m->serial[0]);
        } else {
            m->monitor_chr = chardev_new(cfg->monitor, m->ctx, error);
            m->monitor_chr_owned = true;
            if (!m->monitor_chr) {
                g_prefix_error(error, "-monitor: ");
                return false;
            }
        }
    } else if (m->serial[0] && cfg->serial[0] &&
               g_str_has_prefix(cfg->serial[0], "mon:")) {
        m->monitor_chr = chardev_mux_monitor(m->serial[0]);
    }
    if (cfg->qmp && strcmp(cfg->qmp, "none") != 0) {
        m->qmp_chr = chardev_new(cfg->qmp, m->ctx, error);
        if (!m->qmp_chr) {
            g_prefix_error(error, "-qmp: ");
            return false;
        }
    }
    return true;
}

MimicMachine *mimic_machine_new(const MachineConfig *cfg, GError **error)
{
    MimicMachine *m = g_new0(MimicMachine, 1);
    m->cfg = machine_config_copy(cfg);
    g_mutex_init(&m->lock);
    g_cond_init(&m->cond);
    m->commands = g_async_queue_new();
    m->ctx = g_main_context_new();
    m->run_state = MIMIC_STATE_CREATED;

    /* -d / -D: process-wide diagnostics, applied before the board and
       the CPU exist (the CPU reads the mask when it starts running). */
    if (cfg->log_items) {
        uint32_t mask;
        if (!mimic_log_parse(cfg->log_items, &mask, error)) {
            mimic_machine_free(m);
            return NULL;
        }
        mimic_log_set_mask(mask);
    }
    if (cfg->log_file && !mimic_log_set_file(cfg->log_file, error)) {
        mimic_machine_free(m);
        return NULL;
    }
    m->board_info = board_find(cfg->machine_type ? cfg->machine_type : "pc");
    if (!m->board_info) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "-machine: unknown machine type '%s' (try -machine help)",
                    cfg->machine_type);
        mimic_machine_free(m);
        return NULL;
    }
    m->mem = memmap_new();
    m->io = ioport_new();
    m->clock = clock_new(cfg->icount_shift >= 0 ? CLOCK_MODE_ICOUNT
                                                : CLOCK_MODE_REALTIME,
                         cfg->icount_shift);
    m->bus = (MachineBuses){ .mem = m->mem, .io = m->io, .clock = m->clock };
    m->icount_stop = -1;
    m->devices = device_list_new();
    m->display = display_new();
    display_add_listener(m->display, &machine_display_listener, m);

    if (!open_chardevs(m, error)) {
        mimic_machine_free(m);
        return NULL;
    }

    if (!open_audio(m, error)) {
        mimic_machine_free(m);
        return NULL;
    }

    m->board = (BoardInstance){
        .cfg = m->cfg,
        .bus = &m->bus,
        .devices = m->devices,
        .display = m->display,
        .host = { .opaque = m, .request_reset = host_request_reset,
                  .request_poweroff = host_request_poweroff },
    };
    m->drives = drives_new(m->cfg);
    m->board.drives = drives_board(m->drives);
    memcpy(m->board.serial, m->serial, sizeof(m->serial));
    for (int i = 0; i < cfg->n_soundhw; i++) {
        m->board.audio[i] = audio_for_card(m, i);
    }
    m->net = machine_net_new(m->cfg, &m->board, error);
    if (!m->net) {
        mimic_machine_free(m);
        return NULL;
    }
    if (!m->board_info->init(&m->board, error)) {
        mimic_machine_free(m);
        return NULL;
    }
    m->cpu = m->board.cpu;
    clock_set_progress(m->clock, &m->cpu->progress);
    m->caps = machine_compute_caps(m);
    if (m->monitor_chr) {
        m->monitor = monitor_new(m, m->monitor_chr);
    }
    if (m->qmp_chr) {
        m->qmp = qmp_new(m, m->qmp_chr, NULL);
    }
    if (cfg->incoming &&
        !machine_incoming(m, cfg->incoming, cfg->incoming_force, error)) {
        /* One code for callers (mimic.h): the state, or its disks. */
        if (error && *error &&
            !g_error_matches(*error, MIMIC_ERROR, MIMIC_ERROR_STATE_DISKS)) {
            (*error)->domain = MIMIC_ERROR;
            (*error)->code = MIMIC_ERROR_STATE;
        }
        mimic_machine_free(m);
        return NULL;
    }
    if (cfg->loadvm && !machine_loadvm(m, cfg->loadvm, error)) {
        g_prefix_error(error, "-loadvm: ");
        mimic_machine_free(m);
        return NULL;
    }
    return m;
}

void mimic_machine_set_event_handler(MimicMachine *m, MimicEventHandler fn,
                                     gpointer user_data, GMainContext *ctx)
{
    m->event_fn = fn;
    m->event_data = user_data;
    m->event_ctx = ctx ? ctx : g_main_context_default();
}

/* ---- worker thread ---- */

static void cmd_free(Cmd *c)
{
    if (c->args && c->free_args) {
        c->free_args(c->args);
    }
    g_free(c->line);
    g_free(c);
}

typedef struct MonitorReplyPost {
    MimicMachine *m;
    char *text;
    MimicMonitorReply cb;
    gpointer user_data;
} MonitorReplyPost;

static gboolean monitor_reply_dispatch(gpointer data)
{
    MonitorReplyPost *p = data;
    p->cb(p->m, p->text, p->user_data);
    return G_SOURCE_REMOVE;
}

static void monitor_reply_free(gpointer data)
{
    MonitorReplyPost *p = data;
    g_free(p->text);
    g_free(p);
}

typedef struct CallPost {
    MimicMachine *m;
    bool ok;
    GError *error;
    MachineCallDone done;
    gpointer args;
    GDestroyNotify free_args;
    gpointer user_data;
} CallPost;

static gboolean call_dispatch(gpointer data)
{
    CallPost *p = data;
    if (p->done) {
        p->done(p->m, p->ok ? NULL : p->error, p->args, p->user_data);
    }
    return G_SOURCE_REMOVE;
}

static void call_post_free(gpointer data)
{
    CallPost *p = data;
    g_clear_error(&p->error);
    if (p->free_args) {
        p->free_args(p->args);
    }
    g_free(p);
}

static void run_command(MimicMachine *m, Cmd *c)
{
    switch (c->kind) {
    case CMD_PAUSE:
        machine_do_stop(m);
        break;
    case CMD_RESUME:
        machine_do_cont(m);
        break;
    case CMD_RESET:
        machine_do_reset(m);
        break;
    case CMD_POWERDOWN:
        machine_do_powerdown(m);
        break;
    case CMD_QUIT:
        machine_do_quit(m, 0);
        break;
    case CMD_KEY:
        if (m->board_info->send_key) {
            m->board_info->send_key(&m->board, c->code, c->down);
        }
        break;
    case CMD_POINTER:
        machine_do_pointer(m, c->dx, c->dy, c->dz, c->code);
        break;
    case CMD_MONITOR: {
        GString *out = g_string_new(NULL);
        monitor_execute(m, c->line, out);
        if (c->reply) {
            MonitorReplyPost *p = g_new0(MonitorReplyPost, 1);
            p->m = m;
            p->text = g_string_free(out, FALSE);
            p->cb = c->reply;
            p->user_data = c->user_data;
            g_main_context_invoke_full(m->event_ctx ? m->event_ctx
                                                    : g_main_context_default(),
                                       G_PRIORITY_DEFAULT,
                                       monitor_reply_dispatch, p,
                                       monitor_reply_free);
        } else {
            g_string_free(out, TRUE);
        }
        break;
    }
    case CMD_CALL: {
        CallPost *p = g_new0(CallPost, 1);
        p->m = m;
        p->ok = c->fn(m, c->args, &p->error);
        p->done = c->done;
        p->args = c->args;
        p->free_args = c->free_args;
        p->user_data = c->user_data;
        c->args = NULL;   /* the post owns them now */
        g_main_context_invoke_full(m->event_ctx ? m->event_ctx
                                                : g_main_context_default(),
                                   G_PRIORITY_DEFAULT, call_dispatch, p,
                                   call_post_free);
        break;
    }
    }
}

static void drain_commands(MimicMachine *m)
{
    Cmd *c;
    while ((c = g_async_queue_try_pop(m->commands))) {
        run_command(m, c);
        cmd_free(c);
    }
}

/* The speed is measured afresh from the next slice (start, pause...). */
static void speed_restart(MimicMachine *m)
{
    m->speed_host0 = 0;
    atomic_store(&m->speed_valid, false);
}

static void speed_account(MimicMachine *m, int64_t insns)
{
    int64_t now = clock_host_ns();
    m->speed_insns += insns;
    int64_t dt = now - m->speed_host0;
    if (dt < SPEED_PERIOD_NS) {
        return;
    }
    int64_t guest = clock_now(m->clock);
    double ips = (double)m->speed_insns * 1e9 / (double)dt;
    double pct = (double)(guest - m->speed_guest0) * 100.0 / (double)dt;
    atomic_store(&m->speed_ips, (uint64_t)ips);
    atomic_store(&m->speed_percent,
                 pct <= 0 ? 0u : (unsigned)MIN(pct + 0.5, 1e6));
    atomic_store(&m->speed_valid, true);
    for (int i = 0; i < m->board.n_nics && i < MIMIC_MAX_NICS; i++) {
        NetPort *p = m->board.nics[i].port;
        if (p) {
            atomic_store(&m->nic_rx[i], net_port_stats(p)->rx_bytes);
            atomic_store(&m->nic_tx[i], net_port_stats(p)->tx_bytes);
        }
    }
    m->speed_host0 = now;
    m->speed_guest0 = guest;
    m->speed_insns = 0;
}

bool mimic_machine_get_nic_traffic(MimicMachine *m, int i, const char **name,
                                   uint64_t *rx_bytes, uint64_t *tx_bytes)
{
    if (i < 0 || i >= m->board.n_nics || i >= MIMIC_MAX_NICS ||
        !m->board.nics[i].port) {
        return false;
    }
    *name = net_port_name(m->board.nics[i].port);
    *rx_bytes = atomic_load(&m->nic_rx[i]);
    *tx_bytes = atomic_load(&m->nic_tx[i]);
    return true;
}

bool mimic_machine_get_speed(MimicMachine *m, MimicSpeed *out)
{
    out->insns_per_sec = atomic_load(&m->speed_ips);
    out->realtime_percent = atomic_load(&m->speed_percent);
    return atomic_load(&m->speed_valid);
}

void machine_do_stop(MimicMachine *m)
{
    speed_restart(m);
    if (m->run_state == MIMIC_STATE_RUNNING) {
        clock_pause(m->clock);
        set_run_state(m, MIMIC_STATE_PAUSED);
    }
}

void machine_do_cont(MimicMachine *m)
{
    if (m->run_state == MIMIC_STATE_PAUSED ||
        m->run_state == MIMIC_STATE_CREATED) {
        m->postmigrate = false;
        clock_resume(m->clock);
        speed_restart(m);
        set_run_state(m, MIMIC_STATE_RUNNING);
    }
}

void machine_do_reset(MimicMachine *m)
{
    device_list_reset(m->devices);
    if (m->cpu) {
        m->cpu->ops->reset(m->cpu);
    }
    if (m->board_info->reset) {
        m->board_info->reset(&m->board);
    }
    MimicEvent ev = { .kind = MIMIC_EVENT_RESET, .state = m->run_state };
    machine_emit(m, &ev);
}

void machine_do_powerdown(MimicMachine *m)
{
    /* As QEMU, the event says the button was pressed, whatever the
       guest makes of it. */
    MimicEvent ev = { .kind = MIMIC_EVENT_POWERDOWN, .state = m->run_state };
    machine_emit(m, &ev);
    if (m->board_info->powerdown) {
        m->board_info->powerdown(&m->board);
    } else {
        /* No ACPI yet: a power button without a listener does nothing. */
        mimic_log_unimp("system_powerdown: this board has no power button");
    }
}

void machine_do_quit(MimicMachine *m, int status)
{
    m->quit_requested = true;
    m->exit_status = status;
    if (m->cpu) {
        m->cpu->ops->exit_request(m->cpu);
    }
}

static void handle_requests(MimicMachine *m)
{
    if (m->poweroff_requested) {
        m->poweroff_requested = false;
        m->guest_request = true;
        if (m->cfg->no_shutdown) {
            machine_do_stop(m);
            m->guest_request = false;
        } else {
            machine_do_quit(m, 0);
        }
    }
    if (m->reset_requested) {
        m->reset_requested = false;
        m->guest_request = true;
        if (m->cfg->no_reboot) {
            machine_do_quit(m, 0);
        } else {
            machine_do_reset(m);
            m->guest_request = false;
        }
    }
}

/* Wait for fd events or commands, at most timeout_ns (-1: forever).  The
   network back ends' sockets are polled in the same call, so slirp runs
   here, on the worker thread, and never makes the CPU wait. */
static void poll_context(MimicMachine *m, int64_t timeout_ns)
{
    GMainContext *ctx = m->ctx;
    gint max_prio, timeout_ms, nfds;
    if (!m->pollfds) {
        m->pollfds = g_array_sized_new(FALSE, TRUE, sizeof(GPollFD), 32);
    }
    GArray *fds = m->pollfds;
    g_array_set_size(fds, 0);
    g_main_context_prepare(ctx, &max_prio);
    for (;;) {
        g_array_set_size(fds, MAX(fds->len, 32));
        nfds = g_main_context_query(ctx, max_prio, &timeout_ms,
                                    (GPollFD *)fds->data, fds->len);
        if (nfds <= (gint)fds->len) {
            break;
        }
        g_array_set_size(fds, nfds);
    }
    g_array_set_size(fds, nfds);
    int ours = timeout_ns < 0 ? -1 : (int)MIN((timeout_ns + 999999) / 1000000,
                                              1000);
    if (timeout_ms < 0 || (ours >= 0 && ours < timeout_ms)) {
        timeout_ms = ours;
    }
    machine_net_fill(m->net, fds, &timeout_ms);
    int r = g_poll((GPollFD *)fds->data, fds->len, timeout_ms);
    machine_net_dispatch(m->net, fds, r < 0);
    if (g_main_context_check(ctx, max_prio, (GPollFD *)fds->data, nfds)) {
        g_main_context_dispatch(ctx);
    }
}

static void run_slice(MimicMachine *m)
{
    Clock *clk = m->clock;
    int64_t deadline = clock_next_deadline(clk);
    int64_t budget = SLICE_INSNS;
    if (clk->mode == CLOCK_MODE_ICOUNT && deadline != CLOCK_NEVER) {
        int64_t ns = deadline - clock_now(clk);
        int64_t insns = ns > 0 ? (ns >> clk->icount_shift) + 1 : 1;
        budget = MIN(budget, insns);
    } else if (clk->mode == CLOCK_MODE_REALTIME && deadline != CLOCK_NEVER &&
               deadline <= clock_now(clk)) {
        budget = MIN(budget, CATCHUP_INSNS);
    }
    if (m->icount_stop >= 0 && clk->mode == CLOCK_MODE_ICOUNT) {
        /* icount_stop: the slice ends exactly at the requested count
           (the CPU trims its last block in icount mode); a slice
           boundary changes nothing the guest can see. */
        if (clk->icount >= m->icount_stop) {
            m->icount_stop = -1;
            machine_do_stop(m);
            return;
        }
        budget = MIN(budget, m->icount_stop - clk->icount);
    }
    if (!m->speed_host0) {
        m->speed_host0 = clock_host_ns();
        m->speed_guest0 = clock_now(clk);
        m->speed_insns = 0;
    }
    CpuExit why = CPU_EXIT_BUDGET;
    int64_t done = m->cpu->ops->run(m->cpu, budget, &why);
    if (clk->mode == CLOCK_MODE_ICOUNT) {
        clk->icount += done;
    }
    speed_account(m, done);
    clock_run_timers(clk);
    handle_requests(m);
    if (m->quit_requested) {
        return;
    }
    if (why == CPU_EXIT_HALTED && done == 0) {
        /* Idle: sleep until the next timer or an outside event. */
        deadline = clock_next_deadline(clk);
        if (clk->mode == CLOCK_MODE_ICOUNT) {
            if (deadline != CLOCK_NEVER) {
                clock_warp_to(clk, deadline);
                clock_run_timers(clk);
                poll_context(m, 0);
            } else {
                poll_context(m, -1);
            }
        } else {
            int64_t wait = deadline == CLOCK_NEVER ? -1
                                                   : deadline - clock_now(clk);
            poll_context(m, wait < 0 && deadline != CLOCK_NEVER ? 0 : wait);
            clock_run_timers(clk);
        }
    } else {
        poll_context(m, 0);
    }
    /* Show the guest's screen (devices flush their own dirty areas). */
}

bool machine_run_to_icount(MimicMachine *m, int64_t until)
{
    if (m->clock->mode != CLOCK_MODE_ICOUNT || !m->cpu || m->thread ||
        until <= m->clock->icount) {
        return false;
    }
    m->icount_stop = until;
    machine_do_cont(m);
    while (!m->quit_requested && m->run_state == MIMIC_STATE_RUNNING) {
        run_slice(m);
    }
    return m->clock->icount == until;
}

static gpointer worker_main(gpointer data)
{
    MimicMachine *m = data;
    g_main_context_push_thread_default(m->ctx);
    if (!m->cfg->start_paused) {
        machine_do_cont(m);
    } else {
        set_run_state(m, MIMIC_STATE_PAUSED);
    }
    while (!m->quit_requested) {
        drain_commands(m);
        if (m->quit_requested) {
            break;
        }
        if (m->run_state == MIMIC_STATE_RUNNING && m->cpu) {
            run_slice(m);
        } else {
            poll_context(m, -1);
        }
    }
    clock_pause(m->clock);
    speed_restart(m);
    set_run_state(m, MIMIC_STATE_STOPPED);
    MimicEvent ev = { .kind = MIMIC_EVENT_SHUTDOWN,
                      .state = MIMIC_STATE_STOPPED };
    machine_emit(m, &ev);
    g_main_context_pop_thread_default(m->ctx);
    return NULL;
}

bool mimic_machine_start(MimicMachine *m, GError **error)
{
    if (m->thread) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_FAILED,
                    "the machine is already started");
        return false;
    }
    if (!m->event_ctx) {
        m->event_ctx = g_main_context_default();
    }
    m->thread = g_thread_try_new("mimic-worker", worker_main, m, error);
    return m->thread != NULL;
}

static void push(MimicMachine *m, Cmd *c)
{
    g_async_queue_push(m->commands, c);
    if (m->cpu) {
        m->cpu->ops->exit_request(m->cpu);
    }
    g_main_context_wakeup(m->ctx);
}

static void push_simple(MimicMachine *m, CmdKind kind)
{
    Cmd *c = g_new0(Cmd, 1);
    c->kind = kind;
    push(m, c);
}

void mimic_machine_pause(MimicMachine *m)
{
    push_simple(m, CMD_PAUSE);
}

void mimic_machine_resume(MimicMachine *m)
{
    push_simple(m, CMD_RESUME);
}

void mimic_machine_reset(MimicMachine *m)
{
    push_simple(m, CMD_RESET);
}

void mimic_machine_powerdown(MimicMachine *m)
{
    push_simple(m, CMD_POWERDOWN);
}

void mimic_machine_quit(MimicMachine *m)
{
    push_simple(m, CMD_QUIT);
}

void mimic_machine_send_key(MimicMachine *m, unsigned code, bool down)
{
    Cmd *c = g_new0(Cmd, 1);
    c->kind = CMD_KEY;
    c->code = code;
    c->down = down;
    push(m, c);
}

void mimic_machine_send_pointer_rel(MimicMachine *m, int dx, int dy, int dz,
                                    unsigned buttons)
{
    Cmd *c = g_new0(Cmd, 1);
    c->kind = CMD_POINTER;
    c->dx = dx;
    c->dy = dy;
    c->dz = dz;
    c->code = buttons;
    push(m, c);
}

void machine_do_pointer(MimicMachine *m, int dx, int dy, int dz,
                        unsigned buttons)
{
    m->mouse_buttons = buttons;
    if (m->board_info->send_pointer) {
        m->board_info->send_pointer(&m->board, dx, dy, dz, buttons);
    }
}

void machine_call(MimicMachine *m, MachineCallFn fn, gpointer args,
                  GDestroyNotify free_args, MachineCallDone done,
                  gpointer user_data)
{
    Cmd *c = g_new0(Cmd, 1);
    c->kind = CMD_CALL;
    c->fn = fn;
    c->args = args;
    c->free_args = free_args;
    c->done = done;
    c->user_data = user_data;
    push(m, c);
}

void mimic_machine_monitor_command(MimicMachine *m, const char *cmdline,
                                   MimicMonitorReply cb, gpointer user_data)
{
    Cmd *c = g_new0(Cmd, 1);
    c->kind = CMD_MONITOR;
    c->line = g_strdup(cmdline);
    c->reply = cb;
    c->user_data = user_data;
    push(m, c);
}

MimicRunState mimic_machine_get_state(MimicMachine *m)
{
    g_mutex_lock(&m->lock);
    MimicRunState s = m->run_state;
    g_mutex_unlock(&m->lock);
    return s;
}

int mimic_machine_exit_status(MimicMachine *m)
{
    return m->exit_status;
}

int mimic_machine_wait(MimicMachine *m)
{
    if (m->thread) {
        g_thread_join(m->thread);
        m->thread = NULL;
    }
    return m->exit_status;
}

const MachineConfig *mimic_machine_config(MimicMachine *m)
{
    return m->cfg;
}

bool mimic_machine_display_lock(MimicMachine *m, MimicSurface *out)
{
    const DisplaySurface *s = display_lock(m->display);
    out->data = s->data;
    out->width = s->width;
    out->height = s->height;
    out->stride = s->stride;
    return true;
}

void mimic_machine_display_unlock(MimicMachine *m)
{
    display_unlock(m->display);
}

bool mimic_machine_screendump(MimicMachine *m, const char *path,
                              GError **error)
{
    return display_save(m->display, path, error);
}

int mimic_machine_console_fd(MimicMachine *m, const char *name)
{
    if (!strcmp(name, "monitor")) {
        return m->monitor_chr ? chardev_vc_fd(m->monitor_chr) : -1;
    }
    for (int i = 0; i < MIMIC_MAX_SERIAL; i++) {
        g_autofree char *n = g_strdup_printf("serial%d", i);
        if (!strcmp(name, n)) {
            return m->serial[i] ? chardev_vc_fd(m->serial[i]) : -1;
        }
    }
    return -1;
}

void mimic_machine_free(MimicMachine *m)
{
    if (!m) {
        return;
    }
    if (m->thread) {
        mimic_machine_quit(m);
        mimic_machine_wait(m);
    }
    if (m->monitor) {
        monitor_free(m->monitor);
    }
    timer_free(m->sendkey_timer);
    qmp_free(m->qmp);
    chardev_free(m->qmp_chr);
    if (m->clock) {
        clock_set_progress(m->clock, NULL); /* the CPU goes first */
    }
    if (m->board_info && m->board_info->destroy && m->board.board) {
        m->board_info->destroy(&m->board);
    } else if (m->cpu) {
        m->cpu->ops->destroy(m->cpu);
    }
    device_list_free(m->devices);
    drives_free(m->drives); /* after the devices that read them */
    for (int i = 0; i < m->n_audio; i++) {
        audio_free(m->audio[i]);
    }
    machine_net_free(m->net);
    if (m->pollfds) {
        g_array_free(m->pollfds, TRUE);
    }
    if (m->monitor_chr && m->monitor_chr_owned) {
        chardev_free(m->monitor_chr);
    }
    for (int i = 0; i < MIMIC_MAX_SERIAL; i++) {
        chardev_free(m->serial[i]);
    }
    display_free(m->display);
    clock_free(m->clock);
    ioport_free(m->io);
    memmap_free(m->mem);
    Cmd *c;
    while ((c = g_async_queue_try_pop(m->commands))) {
        cmd_free(c);
    }
    g_async_queue_unref(m->commands);
    g_main_context_unref(m->ctx);
    machine_config_free(m->cfg);
    g_mutex_clear(&m->lock);
    g_cond_clear(&m->cond);
    g_free(m);
}
