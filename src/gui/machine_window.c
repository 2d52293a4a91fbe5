/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine window: a MimicDisplay showing the guest, the monitor and
 * serial consoles in VTE terminals, menus of GActions, a status bar.
 *
 * Everything goes through engine/mimic.h: commands (start, pause, keys)
 * are queued for the machine's worker thread and its events arrive on the
 * GTK main loop.  Keys are sent by hardware keycode: on X11 (and Wayland)
 * the keycode is the Linux evdev code plus 8, which is what the engine
 * takes.  Menu items whose engine side is missing are insensitive with a
 * tooltip saying so; what the machine can do comes from the typed engine
 * API (mimic_machine_capabilities), which also saves, restores snapshots
 * and changes media: no monitor text is written or parsed here.
 */
#include "gui/gui_internal.h"
#include "gui/osdetect.h"

#include <string.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <unistd.h>
#include <vte/vte.h>

/* evdev codes (linux/input-event-codes.h) the window itself needs. */
#define KEY_LEFTCTRL 29
#define KEY_LEFTALT 56
#define KEY_DELETE 111
#define KEY_LEFTSHIFT 42
#define KEY_RIGHTALT 100
/* Machine -> Type Clipboard: one key a TYPE_INTERVAL_MS, at most so many. */
#define TYPE_INTERVAL_MS 15
#define TYPE_MAX_CHARS 65536
#define MAX_KEYCODE 768

typedef struct Console {
    struct MachineWindow *mw;
    char *name;
    int fd;
    GIOChannel *chan;
    guint watch;
    VteTerminal *term;
    int page;
} Console;

typedef struct MachineWindow {
    GtkApplicationWindow *win;
    MachineConfig *cfg;
    char *library_name; /* NULL: a machine from the command line */
    MimicMachine *m;
    MimicRunState state;
    MimicDisplay *display;
    GtkNotebook *notebook;
    GtkWidget *menubar, *statusbar, *grab_revealer;
    GtkLabel *state_label, *grab_label, *speed_label;
    GtkLabel *net_label, *sound_label;
    guint speed_timeout;
    GtkBuilder *builder;
    GPtrArray *consoles; /* Console* */
    bool fullscreen;
    bool grabbed;
    bool pressed[MAX_KEYCODE];
    double last_x, last_y;
    bool have_last;
    unsigned buttons;
    double scroll_acc; /* smooth scrolling, in wheel notches (up > 0) */
    bool quit_after_save;
    bool saving;       /* a `migrate file:` to the saved state is running */
    bool saved;        /* stopped with its state saved (Start resumes) */
    bool was_running;  /* before the save paused it */
    guint banner_timeout;
    bool closing;
    bool shutting_down;   /* Power off -> Shut down: waiting for the guest */
    guint shutdown_timeout;
    GArray *typing;       /* Type Clipboard: evdev codes, bit 15 shift,
                             bit 14 AltGr */
    guint typing_pos, typing_timeout;
    bool sized;           /* the window was fitted to the guest's screen */
    unsigned replayed_lines; /* serial text shown again after a resume */
    bool stats;              /* View -> Statistics */
    unsigned frames;         /* display updates since the last second */
    gint64 stats_wall, stats_cpu; /* host time, process CPU time (us) */
    bool absolute;           /* a USB tablet: the pointer passes as is */
    bool io_pending;         /* a mimic_machine_query_io_status() runs */
    bool have_io;            /* io_last holds a sample */
    MimicIoStatus io_last;   /* the counters a second ago */
    gint64 io_wall;
    char *io_text;           /* the overlay's I/O lines */
} MachineWindow;

static GHashTable *open_windows; /* library name -> MachineWindow */
/*
 * Every MachineWindow not yet freed.  Monitor replies for a machine may
 * still sit in the main loop after its window has gone; they check here.
 */
static GHashTable *live_windows;

static bool mw_alive(gpointer mw)
{
    return live_windows && g_hash_table_contains(live_windows, mw);
}

static gboolean machine_free_idle(gpointer m)
{
    mimic_machine_free(m);
    return G_SOURCE_REMOVE;
}

/*
 * Stop a machine and free it once the events it already posted to the
 * main loop (default priority) have been dispatched to nobody.
 */
static void mw_dispose_machine(MimicMachine *m)
{
    if (!m) {
        return;
    }
    mimic_machine_quit(m);
    mimic_machine_wait(m);
    mimic_machine_set_event_handler(m, NULL, NULL, NULL);
    g_idle_add_full(G_PRIORITY_LOW, machine_free_idle, m, NULL);
}

static void mw_update_actions(MachineWindow *mw);
static void mw_set_grab(MachineWindow *mw, bool on);
static GAction *mw_action(MachineWindow *mw, const char *name);
static void mw_dump(MachineWindow *mw);
static void mw_fit_to_guest(MachineWindow *mw, int w, int h);
static void mw_keep_scrollback(MachineWindow *mw);
static void mw_update_device_labels(MachineWindow *mw);
static void mw_replay_scrollback(MachineWindow *mw, bool resumed);

static GAction *mw_action(MachineWindow *mw, const char *name)
{
    return g_action_map_lookup_action(G_ACTION_MAP(mw->win), name);
}

/*
 * Enable or disable an action; when disabled for want of an engine
 * feature, the menu item says why in its tooltip.
 */
static void mw_enable(MachineWindow *mw, const char *name, bool on,
                      const char *why_not)
{
    g_simple_action_set_enabled(G_SIMPLE_ACTION(mw_action(mw, name)), on);
    g_autofree char *id = g_strdup_printf("item-%s", name);
    GtkWidget *item = GTK_WIDGET(gtk_builder_get_object(mw->builder, id));
    if (item) {
        gtk_widget_set_tooltip_text(item, on ? NULL : why_not);
    }
}

/*
 * A test hook (MIMIC_GUI_WINDOW_DUMP=FILE): the window's title, status
 * bar texts, scaling mode and the accelerators its menus show, written
 * whenever one changes, so that tests under Xvfb read what a person sees.
 */
static void mw_dump(MachineWindow *mw)
{
    const char *path = g_getenv("MIMIC_GUI_WINDOW_DUMP");
    if (!path || !mw->builder) {
        return;
    }
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "title=%s\n",
                           gtk_window_get_title(GTK_WINDOW(mw->win)));
    g_string_append_printf(s, "state=%s\n",
                           gtk_label_get_text(mw->state_label));
    g_string_append_printf(s, "hint=%s\n",
                           gtk_label_get_text(mw->grab_label));
    GVariant *scale = g_action_get_state(mw_action(mw, "scale"));
    g_string_append_printf(s, "scale=%s\n",
                           scale ? g_variant_get_string(scale, NULL) : "");
    g_clear_pointer(&scale, g_variant_unref);
    int dx = 0, dy = 0;
    GtkWidget *dw = GTK_WIDGET(mw->display);
    gtk_widget_translate_coordinates(dw, GTK_WIDGET(mw->win), 0, 0, &dx,
                                     &dy);
    int gw, gh;
    mimic_display_get_guest_size(mw->display, &gw, &gh);
    g_string_append_printf(s, "display=%d,%d,%d,%d guest=%dx%d\n", dx, dy,
                           gtk_widget_get_allocated_width(dw),
                           gtk_widget_get_allocated_height(dw), gw, gh);
    g_string_append_printf(s, "replayed=%u\n", mw->replayed_lines);
    const char *dropq = g_object_get_data(G_OBJECT(mw->win), "drop-question");
    g_string_append_printf(s, "drop=%s\n", dropq ? dropq : "");
    const char *ov = mimic_display_get_overlay(mw->display);
    g_auto(GStrv) ovl = g_strsplit(ov ? ov : "", "\n", -1);
    g_autofree char *ovj = g_strjoinv(" | ", ovl);
    g_string_append_printf(s, "statistics=%s\n", ovj);
    g_string_append_printf(s, "net=%s\n",
                           gtk_widget_get_visible(GTK_WIDGET(mw->net_label))
                               ? gtk_label_get_text(mw->net_label)
                               : "");
    g_string_append_printf(s, "sound=%s\n",
                           gtk_widget_get_visible(
                               GTK_WIDGET(mw->sound_label))
                               ? gtk_label_get_text(mw->sound_label)
                               : "");
    g_string_append_printf(s, "page=%s\n",
                           gtk_notebook_get_tab_label_text(
                               mw->notebook,
                               gtk_notebook_get_nth_page(
                                   mw->notebook,
                                   gtk_notebook_get_current_page(
                                       mw->notebook))));
    GSList *objs = gtk_builder_get_objects(mw->builder);
    for (GSList *l = objs; l; l = l->next) {
        if (!GTK_IS_MENU_ITEM(l->data)) {
            continue;
        }
        GtkWidget *child = gtk_bin_get_child(GTK_BIN(l->data));
        guint key;
        GdkModifierType mods;
        if (!GTK_IS_ACCEL_LABEL(child)) {
            continue;
        }
        gtk_accel_label_get_accel(GTK_ACCEL_LABEL(child), &key, &mods);
        if (key) {
            g_autofree char *acc = gtk_accelerator_get_label(key, mods);
            g_string_append_printf(s, "accel %s=%s\n",
                                   gtk_buildable_get_name(l->data), acc);
        }
    }
    g_slist_free(objs);
    g_file_set_contents(path, s->str, (gssize)s->len, NULL);
    g_string_free(s, TRUE);
}

static const char *state_text(MimicRunState s)
{
    switch (s) {
    case MIMIC_STATE_CREATED:
        return _("Not started");
    case MIMIC_STATE_RUNNING:
        return _("Running");
    case MIMIC_STATE_PAUSED:
        return _("Paused");
    case MIMIC_STATE_STOPPED:
        return _("Powered off");
    }
    return "";
}

/*
 * The status bar's hint: how to capture input while the guest runs,
 * nothing once it is off.
 */
static void mw_update_grab_label(MachineWindow *mw)
{
    bool alive = mw->m && (mw->state == MIMIC_STATE_RUNNING ||
                           mw->state == MIMIC_STATE_PAUSED);
    gtk_label_set_text(mw->grab_label,
                       !alive         ? ""
                       : mw->grabbed ? _("Input captured — Ctrl+Alt+G releases")
                       : mw->absolute
                           ? _("USB tablet: the pointer goes to the guest "
                               "as it is, no capture needed")
                           : _("Click the screen to capture input"));
    mw_dump(mw);
}

static void mw_update_title(MachineWindow *mw)
{
    g_autofree char *t = NULL;
    const char *name = mw->cfg->name;
    const char *st = mw->saving ? _("Saving the state…")
                     : mw->saved && mw->state == MIMIC_STATE_STOPPED
                         ? _("Saved")
                     : mw->shutting_down && mw->state == MIMIC_STATE_RUNNING
                         ? _("Shutting down…")
                         : state_text(mw->state);
    bool plain = mw->state == MIMIC_STATE_RUNNING && !mw->saving &&
                 !mw->shutting_down;
    /* A machine without a name (the command line's) is just "Mimic". */
    if (plain) {
        t = name ? g_strdup_printf("%s — Mimic", name) : g_strdup("Mimic");
    } else {
        t = name ? g_strdup_printf("%s [%s] — Mimic", name, st)
                 : g_strdup_printf("Mimic [%s]", st);
    }
    gtk_window_set_title(GTK_WINDOW(mw->win), t);
    gtk_label_set_text(mw->state_label, st);
    mw_update_grab_label(mw);
}

/* ---- emulation speed (status bar) ---- */

/* The process's CPU time (user + system) in microseconds. */
static gint64 process_cpu_us(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return 0;
    }
    return (gint64)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
           ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/*
 * View -> Statistics: drawn over the screen once a second: the guest's
 * speed, the frames the display sent in that second, the host CPU
 * time Mimic took (100 % = one core), and the disk and network rates
 * (mimic_machine_query_io_status, polled once a second).
 */

static void mw_update_stats(MachineWindow *mw, const MimicSpeed *sp)
{
    gint64 wall = g_get_monotonic_time(), cpu = process_cpu_us();
    gint64 dwall = wall - mw->stats_wall, dcpu = cpu - mw->stats_cpu;
    unsigned frames = mw->frames;
    mw->frames = 0;
    mw->stats_wall = wall;
    mw->stats_cpu = cpu;
    if (!mw->stats) {
        if (mimic_display_get_overlay(mw->display)) {
            mimic_display_set_overlay(mw->display, NULL);
            mw_dump(mw);
        }
        return;
    }
    double secs = dwall > 0 ? dwall / 1e6 : 1.0;
    g_autofree char *speed =
        sp ? g_strdup_printf("%.1f", sp->insns_per_sec / 1e6)
           : g_strdup("—");
    g_autofree char *text = g_strdup_printf(
        _("Guest: %s MIPS\nDisplay: %.0f frames/s\nHost CPU: %.0f %%%s"),
        speed, frames / secs, dwall > 0 ? 100.0 * dcpu / dwall : 0.0,
        mw->io_text ? mw->io_text : "");
    mimic_display_set_overlay(mw->display, text);
    mw_dump(mw);
}

/* A rate for the overlay: "12.3 MB/s" (decimal units, as disks say). */
static char *io_rate(guint64 bytes, double secs)
{
    g_autofree char *size = g_format_size((guint64)(bytes / secs));
    return g_strdup_printf(_("%s/s"), size);
}

/*
 * The once-a-second poll of the engine (worker thread, race-free):
 * whether the guest has a USB tablet now, and the disk and network
 * counters whose rates the Statistics overlay shows.
 */
static void on_io_status(MimicMachine *m, const MimicIoStatus *st,
                         const GError *error, gpointer data)
{
    MachineWindow *mw = data;
    if (!mw_alive(mw) || mw->m != m) {
        return;
    }
    mw->io_pending = false;
    if (!st) {
        return;
    }
    if (st->pointer_absolute != mw->absolute) {
        mw->absolute = st->pointer_absolute;
        if (mw->absolute && mw->grabbed) {
            mw_set_grab(mw, false);
        }
        mw_update_grab_label(mw);
    }
    gint64 wall = g_get_monotonic_time();
    if (mw->have_io && wall > mw->io_wall) {
        double secs = (wall - mw->io_wall) / 1e6;
        g_autofree char *rd = io_rate(
            st->disk_read_bytes - mw->io_last.disk_read_bytes, secs);
        g_autofree char *wr = io_rate(
            st->disk_written_bytes - mw->io_last.disk_written_bytes, secs);
        g_autofree char *net = NULL;
        if (st->have_network) {
            g_autofree char *rx = io_rate(
                st->net_rx_bytes - mw->io_last.net_rx_bytes, secs);
            g_autofree char *tx = io_rate(
                st->net_tx_bytes - mw->io_last.net_tx_bytes, secs);
            net = g_strdup_printf(_("\nNetwork: %s in, %s out"), rx, tx);
        }
        g_free(mw->io_text);
        mw->io_text = g_strdup_printf(_("\nDisk: %s read, %s written%s"),
                                      rd, wr, net ? net : "");
    }
    mw->io_last = *st;
    mw->io_wall = wall;
    mw->have_io = true;
}

static void mw_poll_io(MachineWindow *mw)
{
    bool alive = mw->m && (mw->state == MIMIC_STATE_RUNNING ||
                           mw->state == MIMIC_STATE_PAUSED);
    if (alive && !mw->io_pending) {
        mw->io_pending = true;
        mimic_machine_query_io_status(mw->m, on_io_status, mw);
    } else if (!alive) {
        mw->absolute = false;
        mw->have_io = false;
        mw->io_pending = false;
        g_clear_pointer(&mw->io_text, g_free);
    }
}

static gboolean mw_update_speed(gpointer data)
{
    MachineWindow *mw = data;
    MimicSpeed sp;
    mw_poll_io(mw);
    if (!mw->m || mw->state != MIMIC_STATE_RUNNING ||
        !mimic_machine_get_speed(mw->m, &sp)) {
        mw_update_stats(mw, NULL);
        gtk_label_set_text(mw->speed_label, _("Speed: —"));
        gtk_widget_set_tooltip_text(GTK_WIDGET(mw->speed_label),
                                    _("Guest instructions per second, "
                                      "measured while the machine runs"));
        return G_SOURCE_CONTINUE;
    }
    mw_update_stats(mw, &sp);
    double mips = sp.insns_per_sec / 1e6;
    g_autofree char *text = NULL;
    if (mw->cfg->icount_shift >= 0) {
        /* -icount: virtual time is the instruction count; say its pace. */
        text = g_strdup_printf(_("Speed: %.1f MIPS, %u%% of real time"),
                               mips, sp.realtime_percent);
    } else {
        text = g_strdup_printf(_("Speed: %.1f MIPS"), mips);
    }
    g_autofree char *ips = g_strdup_printf("%" G_GUINT64_FORMAT,
                                           sp.insns_per_sec);
    g_autofree char *tip = g_strdup_printf(
        _("%s guest instructions per second; guest time ran at %u%% of "
          "real time"), ips, sp.realtime_percent);
    gtk_label_set_text(mw->speed_label, text);
    gtk_widget_set_tooltip_text(GTK_WIDGET(mw->speed_label), tip);
    return G_SOURCE_CONTINUE;
}

/* ---- thumbnails for the library ---- */

static void mw_save_thumbnail(MachineWindow *mw)
{
    if (!mw->library_name) {
        return;
    }
    g_autoptr(GdkPixbuf) pb = mimic_display_snapshot(mw->display, 240);
    if (!pb) {
        return;
    }
    g_autofree char *path = mimic_thumbnail_path(mw->library_name);
    g_autofree char *dir = g_path_get_dirname(path);
    g_mkdir_with_parents(dir, 0700);
    g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
    if (gdk_pixbuf_save(pb, tmp, "png", NULL, NULL)) {
        g_rename(tmp, path);
    }
}

/* ---- consoles ---- */

static gboolean console_readable(GIOChannel *ch, GIOCondition cond,
                                 gpointer data)
{
    Console *c = data;
    char buf[4096];
    ssize_t n = read(c->fd, buf, sizeof(buf));
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return G_SOURCE_CONTINUE;
        }
        c->watch = 0;
        return G_SOURCE_REMOVE;
    }
    /* The monitor writes bare newlines; a terminal needs CR LF. */
    GString *out = g_string_sized_new(n + 16);
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) {
            g_string_append_c(out, '\r');
        }
        g_string_append_c(out, buf[i]);
    }
    vte_terminal_feed(c->term, out->str, out->len);
    g_string_free(out, TRUE);
    return G_SOURCE_CONTINUE;
}

static void console_commit(VteTerminal *t, char *text, guint size,
                           gpointer data)
{
    Console *c = data;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(c->fd, text + done, size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* the machine is gone or its buffer is full */
        }
        done += n;
    }
}

/* Terminal keys: Ctrl+Shift+C copies the selection, Ctrl+Shift+A selects
   everything (the scrollback too). */
static gboolean console_key(GtkWidget *w, GdkEventKey *ev, gpointer data)
{
    Console *c = data;
    GdkModifierType mods = ev->state & gtk_accelerator_get_default_mod_mask();
    if (mods != (GDK_CONTROL_MASK | GDK_SHIFT_MASK)) {
        return FALSE;
    }
    guint kv = gdk_keyval_to_lower(ev->keyval);
    if (kv == GDK_KEY_c) {
        vte_terminal_copy_clipboard_format(c->term, VTE_FORMAT_TEXT);
        return TRUE;
    }
    if (kv == GDK_KEY_a) {
        vte_terminal_select_all(c->term);
        return TRUE;
    }
    return FALSE;
}

static void console_free(gpointer data)
{
    Console *c = data;
    if (c->watch) {
        g_source_remove(c->watch);
    }
    if (c->chan) {
        g_io_channel_unref(c->chan);
    }
    g_free(c->name);
    g_free(c);
}

static void mw_add_console(MachineWindow *mw, const char *name,
                           const char *title)
{
    int fd = mimic_machine_console_fd(mw->m, name);
    if (fd < 0) {
        return;
    }
    Console *c = g_new0(Console, 1);
    c->mw = mw;
    c->name = g_strdup(name);
    c->fd = fd;
    c->term = VTE_TERMINAL(vte_terminal_new());
    vte_terminal_set_scrollback_lines(c->term, 10000);
    g_signal_connect(c->term, "commit", G_CALLBACK(console_commit), c);
    g_signal_connect(c->term, "key-press-event", G_CALLBACK(console_key), c);
    GtkWidget *sw = gtk_scrolled_window_new(NULL, NULL);
    gtk_container_add(GTK_CONTAINER(sw), GTK_WIDGET(c->term));
    gtk_widget_show_all(sw);
    c->page = gtk_notebook_append_page(mw->notebook, sw,
                                       gtk_label_new(title));
    c->chan = g_io_channel_unix_new(fd);
    c->watch = g_io_add_watch(c->chan, G_IO_IN | G_IO_HUP | G_IO_ERR,
                              console_readable, c);
    g_ptr_array_add(mw->consoles, c);
}

static Console *mw_console(MachineWindow *mw, const char *name)
{
    for (guint i = 0; i < mw->consoles->len; i++) {
        Console *c = g_ptr_array_index(mw->consoles, i);
        if (!strcmp(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

static void mw_clear_consoles(MachineWindow *mw)
{
    while (gtk_notebook_get_n_pages(mw->notebook) > 1) {
        gtk_notebook_remove_page(mw->notebook, -1);
    }
    g_ptr_array_set_size(mw->consoles, 0);
}

static void mw_update_tabs(MachineWindow *mw)
{
    gtk_notebook_set_show_tabs(mw->notebook,
                               !mw->fullscreen &&
                                   gtk_notebook_get_n_pages(mw->notebook) > 1);
}

/* ---- engine events ---- */

static void mw_end_shutdown_wait(MachineWindow *mw)
{
    mw->shutting_down = false;
    if (mw->shutdown_timeout) {
        g_source_remove(mw->shutdown_timeout);
        mw->shutdown_timeout = 0;
    }
}

/*
 * Open at the guest's size: the screen at one guest pixel per logical
 * pixel (on a HiDPI screen that is a whole multiple of device pixels, so
 * text stays sharp), as long as it fits the monitor's work area; later
 * mode changes resize the window the same way unless it is maximized or
 * full screen.
 */
static void mw_fit_to_guest(MachineWindow *mw, int w, int h)
{
    GtkWindow *win = GTK_WINDOW(mw->win);
    GtkWidget *dw = GTK_WIDGET(mw->display);
    if (mw->fullscreen || gtk_window_is_maximized(win) || w <= 0 ||
        h <= 0 || !gtk_widget_get_realized(GTK_WIDGET(win))) {
        return;
    }
    int ww, wh;
    gtk_window_get_size(win, &ww, &wh);
    int extra_w = ww - gtk_widget_get_allocated_width(dw);
    int extra_h = wh - gtk_widget_get_allocated_height(dw);
    if (extra_w < 0 || extra_h < 0) {
        return;
    }
    GdkMonitor *mon = gdk_display_get_monitor_at_window(
        gtk_widget_get_display(dw), gtk_widget_get_window(GTK_WIDGET(win)));
    if (mon) {
        GdkRectangle area;
        gdk_monitor_get_workarea(mon, &area);
        if (w + extra_w > area.width || h + extra_h > area.height) {
            return; /* too large: Zoom to fit shows it scaled */
        }
    }
    if (ww != w + extra_w || wh != h + extra_h) {
        gtk_window_resize(win, w + extra_w, h + extra_h);
    }
    mw->sized = true;
}

static void mw_on_event(MimicMachine *m, const MimicEvent *ev, gpointer data)
{
    MachineWindow *mw = data;
    if (mw->m != m) {
        return;
    }
    switch (ev->kind) {
    case MIMIC_EVENT_DISPLAY_UPDATE:
        mimic_display_update(mw->display, ev->x, ev->y, ev->w, ev->h);
        mw->frames++;
        return;
    case MIMIC_EVENT_DISPLAY_RESIZE:
        mimic_display_resize(mw->display, ev->w, ev->h);
        mw_fit_to_guest(mw, ev->w, ev->h);
        return;
    case MIMIC_EVENT_STATE_CHANGED:
        mw->state = ev->state;
        if (ev->state == MIMIC_STATE_PAUSED) {
            mw_save_thumbnail(mw);
        }
        break;
    case MIMIC_EVENT_SHUTDOWN:
        mw->state = MIMIC_STATE_STOPPED;
        mw_end_shutdown_wait(mw);
        mw_save_thumbnail(mw);
        mw_set_grab(mw, false);
        if (mw->closing) {
            gtk_widget_destroy(GTK_WIDGET(mw->win));
            return;
        }
        break;
    case MIMIC_EVENT_RESET:
        /* A reset ends a shutdown the guest was asked for. */
        if (mw->shutting_down) {
            mw_end_shutdown_wait(mw);
            break;
        }
        return;
    case MIMIC_EVENT_POWERDOWN:
        return;
    }
    mw_update_title(mw);
    mw_update_actions(mw);
    mimic_library_refresh();
}

/*
 * The engine refused the saved state (message: its reason).  Ask what to
 * do: keep the state and start nothing (0), discard it and boot afresh
 * (1), or, when only the disks changed, resume anyway (2).
 */
static int ask_refused_state(const char *name, const GError *err)
{
    GtkApplication *app = mimic_app_get();
    GtkWindow *parent = app ? gtk_application_get_active_window(app) : NULL;
    GtkWidget *d = gtk_message_dialog_new(
        parent, GTK_DIALOG_MODAL, GTK_MESSAGE_WARNING, GTK_BUTTONS_NONE,
        _("The saved state of “%s” cannot be resumed"), name);
    gtk_window_set_title(GTK_WINDOW(d), _("Resume Saved State"));
    gtk_message_dialog_format_secondary_text(
        GTK_MESSAGE_DIALOG(d), _("%s\n\nThe saved state is kept unless you "
                                 "discard it."), err->message);
    gtk_dialog_add_buttons(GTK_DIALOG(d), _("_Keep the saved state"), 0,
                           _("_Discard it and start afresh"), 1, NULL);
    if (g_error_matches(err, MIMIC_ERROR, MIMIC_ERROR_STATE_DISKS)) {
        gtk_dialog_add_button(GTK_DIALOG(d), _("_Resume anyway"), 2);
    }
    gtk_dialog_set_default_response(GTK_DIALOG(d), 0);
    int r = gtk_dialog_run(GTK_DIALOG(d));
    gtk_widget_destroy(d);
    return r == 1 || r == 2 ? r : 0;
}

/*
 * Build the machine: a library machine with a saved state resumes from
 * it (the state is consumed once the machine runs), otherwise it boots.
 * *resumed says which.  Keeping a refused state fails with
 * G_IO_ERROR_CANCELLED (nothing more to tell the person).
 */
static MimicMachine *mw_build(MachineWindow *mw, bool *resumed,
                              GError **error)
{
    *resumed = false;
    g_autofree char *dir = mimic_library_dir();
    if (!mw->library_name ||
        !mimic_machine_has_state(dir, mw->library_name)) {
        return mimic_machine_new(mw->cfg, error);
    }
    MimicMachineFile here = { .cfg = mw->cfg };
    MachineConfig *rcfg = mimic_machine_resume_config(&here, dir, false);
    g_autoptr(GError) err = NULL;
    MimicMachine *m = mimic_machine_new(rcfg, &err);
    if (!m && (g_error_matches(err, MIMIC_ERROR, MIMIC_ERROR_STATE) ||
               g_error_matches(err, MIMIC_ERROR, MIMIC_ERROR_STATE_DISKS))) {
        int choice = ask_refused_state(mw->library_name, err);
        if (choice == 0) {
            machine_config_free(rcfg);
            g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                _("The saved state was kept."));
            return NULL;
        }
        if (choice == 1) {
            machine_config_free(rcfg);
            if (!mimic_machine_discard_state(dir, mw->library_name, error)) {
                return NULL;
            }
            mw->saved = false;
            return mimic_machine_new(mw->cfg, error);
        }
        rcfg->incoming_force = true;
        g_clear_error(&err);
        m = mimic_machine_new(rcfg, &err);
    }
    machine_config_free(rcfg);
    if (!m) {
        g_propagate_error(error, g_steal_pointer(&err));
        return NULL;
    }
    *resumed = true;
    return m;
}

/* Build (or rebuild after power-off) the machine and start it. */
static bool mw_start_machine(MachineWindow *mw, GError **error)
{
    if (mw->m) {
        mw_clear_consoles(mw);
        mimic_display_set_machine(mw->display, NULL);
        mw_dispose_machine(mw->m);
        mw->m = NULL;
    }
    bool resumed;
    mw->m = mw_build(mw, &resumed, error);
    if (!mw->m) {
        return false;
    }
    mw->state = MIMIC_STATE_CREATED;
    /* A machine built afresh has its cable in and its sound on. */
    g_simple_action_set_state(G_SIMPLE_ACTION(mw_action(mw, "link")),
                              g_variant_new_boolean(TRUE));
    g_simple_action_set_state(G_SIMPLE_ACTION(mw_action(mw, "mute")),
                              g_variant_new_boolean(FALSE));
    mimic_machine_set_event_handler(mw->m, mw_on_event, mw, NULL);
    mimic_display_set_machine(mw->display, mw->m);
    mw_add_console(mw, "monitor", _("Monitor"));
    for (int i = 0; i < MIMIC_MAX_SERIAL; i++) {
        g_autofree char *n = g_strdup_printf("serial%d", i);
        g_autofree char *t = g_strdup_printf(_("Serial %d"), i);
        mw_add_console(mw, n, t);
    }
    mw_update_tabs(mw);
    mw_replay_scrollback(mw, resumed);
    if (!mimic_machine_start(mw->m, error)) {
        return false;
    }
    if (resumed) {
        /* As VirtualBox: a resumed state is used up. */
        g_autofree char *dir = mimic_library_dir();
        g_autoptr(GError) err = NULL;
        if (!mimic_machine_discard_state(dir, mw->library_name, &err)) {
            g_warning("%s", err->message);
        }
    }
    mw->saved = false;
    mw_update_title(mw);
    mw_update_actions(mw);
    return true;
}

static void mw_update_actions(MachineWindow *mw)
{
    bool alive = mw->m && (mw->state == MIMIC_STATE_RUNNING ||
                           mw->state == MIMIC_STATE_PAUSED);
    MimicCaps caps = mw->m ? mimic_machine_capabilities(mw->m) : 0;
    const char *no_engine = _("This machine cannot do this.");
    const char *no_snapshots = _("Snapshots need every writable disk of "
                                 "the machine in the qcow2 format.");
    mw_enable(mw, "start", !mw->m || mw->state == MIMIC_STATE_STOPPED,
              NULL);
    mw_enable(mw, "pause", alive, NULL);
    GtkWidget *pause = GTK_WIDGET(gtk_builder_get_object(mw->builder,
                                                         "item-pause"));
    gtk_menu_item_set_label(GTK_MENU_ITEM(pause),
                            mw->state == MIMIC_STATE_PAUSED ? _("_Resume")
                                                            : _("_Pause"));
    mw_enable(mw, "reset", alive, NULL);
    mw_enable(mw, "ctrl-alt-del", mw->state == MIMIC_STATE_RUNNING, NULL);
    mw_enable(mw, "type-clipboard", mw->state == MIMIC_STATE_RUNNING, NULL);
    mw_enable(mw, "power-off", alive, NULL);
    const char *why_not_save =
        !mw->library_name ? _("Only machines in the library can save "
                              "their state here; the monitor's migrate "
                              "command can.")
                          : no_engine;
    bool can_save = alive && !mw->saving && mw->library_name &&
                    (caps & MIMIC_CAP_SAVE_STATE);
    mw_enable(mw, "save-state", can_save, why_not_save);
    mw_enable(mw, "save-state-quit", can_save, why_not_save);
    mw_enable(mw, "snapshots", alive && (caps & MIMIC_CAP_SNAPSHOTS),
              no_snapshots);
    mw_enable(mw, "screenshot", mw->m != NULL, NULL);
    mw_enable(mw, "change-cd", alive && (caps & MIMIC_CAP_CHANGE_MEDIA),
              no_engine);
    mw_enable(mw, "eject-cd", alive && (caps & MIMIC_CAP_EJECT_MEDIA),
              no_engine);
    mw_enable(mw, "change-floppy", alive && (caps & MIMIC_CAP_CHANGE_MEDIA),
              no_engine);
    mw_enable(mw, "usb-disk", alive && (caps & MIMIC_CAP_USB),
              _("This machine has no USB controller (-usb)."));
    mw_enable(mw, "link", alive && (caps & MIMIC_CAP_NETWORK),
              _("This machine has no network card."));
    mw_enable(mw, "mute", alive && (caps & MIMIC_CAP_SOUND),
              _("This machine has no sound card."));
    mw_update_device_labels(mw);
    mw_enable(mw, "monitor", mw->m && mw_console(mw, "monitor"),
              _("This machine has no monitor console."));
    mw_enable(mw, "serial", mw->m && mw_console(mw, "serial0"),
              _("This machine has no serial console."));
}

/* ---- input ---- */

static void mw_release_keys(MachineWindow *mw)
{
    for (unsigned k = 0; k < MAX_KEYCODE; k++) {
        if (mw->pressed[k]) {
            mw->pressed[k] = false;
            if (mw->m) {
                mimic_machine_send_key(mw->m, k, false);
            }
        }
    }
}

static gboolean mw_hide_banner(gpointer data)
{
    MachineWindow *mw = data;
    mw->banner_timeout = 0;
    gtk_revealer_set_reveal_child(GTK_REVEALER(mw->grab_revealer), FALSE);
    return G_SOURCE_REMOVE;
}

static void mw_set_grab(MachineWindow *mw, bool on)
{
    GdkWindow *gw = gtk_widget_get_window(GTK_WIDGET(mw->display));
    GdkSeat *seat = gdk_display_get_default_seat(gdk_display_get_default());
    if (on && !mw->grabbed && gw && mw->m) {
        g_autoptr(GdkCursor) blank = gdk_cursor_new_for_display(
            gdk_display_get_default(), GDK_BLANK_CURSOR);
        if (gdk_seat_grab(seat, gw, GDK_SEAT_CAPABILITY_ALL, TRUE, blank,
                          NULL, NULL, NULL) == GDK_GRAB_SUCCESS) {
            mw->grabbed = true;
            mw->have_last = false;
        }
    } else if (!on && mw->grabbed) {
        gdk_seat_ungrab(seat);
        mw->grabbed = false;
        /* Buttons held at the release are let go in the guest. */
        if (mw->buttons && mw->m) {
            mimic_machine_send_pointer_rel(mw->m, 0, 0, 0, 0);
        }
        mw->buttons = 0;
        mw->scroll_acc = 0;
    }
    /* The banner says how to get out, then makes room for the guest. */
    gtk_revealer_set_reveal_child(GTK_REVEALER(mw->grab_revealer),
                                  mw->grabbed);
    if (mw->banner_timeout) {
        g_source_remove(mw->banner_timeout);
        mw->banner_timeout = 0;
    }
    if (mw->grabbed) {
        mw->banner_timeout = g_timeout_add_seconds(4, mw_hide_banner, mw);
    }
    mw_update_grab_label(mw);
}

static bool is_ctrl_alt(GdkEventKey *ev)
{
    GdkModifierType mods = ev->state & gtk_accelerator_get_default_mod_mask();
    return (mods & (GDK_CONTROL_MASK | GDK_MOD1_MASK)) ==
           (GDK_CONTROL_MASK | GDK_MOD1_MASK);
}

static void mw_toggle_fullscreen(MachineWindow *mw)
{
    if (mw->fullscreen) {
        gtk_window_unfullscreen(GTK_WINDOW(mw->win));
    } else {
        gtk_window_fullscreen(GTK_WINDOW(mw->win));
    }
}

/*
 * Runs before GtkWindow's own handler, so while the guest screen has the
 * focus no host accelerator (Ctrl+Q...) takes a key from the guest; only
 * Ctrl+Alt+G and Ctrl+Alt+F are the window's.
 */
static gboolean mw_key(GtkWidget *w, GdkEventKey *ev, gpointer data)
{
    MachineWindow *mw = data;
    if (!gtk_widget_has_focus(GTK_WIDGET(mw->display)) && !mw->grabbed) {
        return FALSE;
    }
    bool down = ev->type == GDK_KEY_PRESS;
    guint kv = gdk_keyval_to_lower(ev->keyval);
    if (down && is_ctrl_alt(ev) && (kv == GDK_KEY_g || kv == GDK_KEY_f)) {
        if (kv == GDK_KEY_g) {
            mw_set_grab(mw, !mw->grabbed);
        } else {
            mw_toggle_fullscreen(mw);
        }
        return TRUE;
    }
    if (!mw->m || ev->hardware_keycode < 8) {
        return TRUE;
    }
    unsigned code = ev->hardware_keycode - 8;
    if (code >= MAX_KEYCODE) {
        return TRUE;
    }
    if (!down && !mw->pressed[code]) {
        return TRUE; /* pressed before we had the focus */
    }
    if (down && mw->pressed[code]) {
        /*
         * The host's auto-repeat: the emulated keyboard repeats a held key
         * itself (typematic), so only the first press goes to the guest.
         */
        return TRUE;
    }
    mw->pressed[code] = down;
    mimic_machine_send_key(mw->m, code, down);
    return TRUE;
}

static gboolean mw_focus_out(GtkWidget *w, GdkEventFocus *ev, gpointer data)
{
    mw_release_keys(data);
    return FALSE;
}

/* GDK's button numbers to mimic_machine_send_pointer_rel()'s bits. */
static unsigned button_bit(guint button)
{
    switch (button) {
    case 1:
        return 1; /* left */
    case 3:
        return 2; /* right */
    case 2:
        return 4; /* middle */
    case 8:
        return 8; /* side (back) */
    case 9:
        return 16; /* extra (forward) */
    default:
        return 0; /* 4-7 are the wheel's, sent as scroll events */
    }
}

/* A USB tablet: the pointer's place on the display, in guest pixels. */
static void mw_pointer_abs(MachineWindow *mw, double wx, double wy, int dz)
{
    int gx, gy, gw, gh;
    if (!mw->m) {
        return;
    }
    mimic_display_get_guest_size(mw->display, &gw, &gh);
    if (gw <= 0 || gh <= 0) {
        return;
    }
    /* Outside the picture (Fit's margins): the nearest edge. */
    mimic_display_to_guest(mw->display, wx, wy, &gx, &gy);
    mimic_machine_send_pointer_abs(mw->m, CLAMP(gx, 0, gw - 1),
                                   CLAMP(gy, 0, gh - 1), dz, mw->buttons);
}

static gboolean mw_button(GtkWidget *w, GdkEventButton *ev, gpointer data)
{
    MachineWindow *mw = data;
    gtk_widget_grab_focus(w);
    if (!mw->grabbed && mw->absolute) {
        unsigned b = mw->buttons;
        if (ev->type == GDK_BUTTON_PRESS) {
            b |= button_bit(ev->button);
        } else if (ev->type == GDK_BUTTON_RELEASE) {
            b &= ~button_bit(ev->button);
        }
        mw->buttons = b;
        mw_pointer_abs(mw, ev->x, ev->y, 0);
        return TRUE;
    }
    if (!mw->grabbed) {
        if (ev->type == GDK_BUTTON_PRESS && ev->button == 1) {
            mw_set_grab(mw, true);
        }
        return TRUE;
    }
    unsigned b = mw->buttons;
    if (ev->type == GDK_BUTTON_PRESS) {
        b |= button_bit(ev->button);
    } else if (ev->type == GDK_BUTTON_RELEASE) {
        b &= ~button_bit(ev->button);
    } else {
        return TRUE; /* double and triple clicks: their presses came */
    }
    if (b != mw->buttons && mw->m) {
        mw->buttons = b;
        mimic_machine_send_pointer_rel(mw->m, 0, 0, 0, b);
    }
    return TRUE;
}

static gboolean mw_motion(GtkWidget *w, GdkEventMotion *ev, gpointer data)
{
    MachineWindow *mw = data;
    if (!mw->grabbed && mw->absolute) {
        mw_pointer_abs(mw, ev->x, ev->y, 0);
        return TRUE;
    }
    if (!mw->grabbed) {
        return FALSE;
    }
    if (mw->have_last) {
        int dx = (int)(ev->x_root - mw->last_x);
        int dy = (int)(ev->y_root - mw->last_y);
        if ((dx || dy) && mw->m) {
            mimic_machine_send_pointer_rel(mw->m, dx, dy, 0, mw->buttons);
        }
    }
    mw->last_x = ev->x_root;
    mw->last_y = ev->y_root;
    mw->have_last = true;
    /* Keep the host pointer away from the screen's edges. */
    GdkWindow *gw = gtk_widget_get_window(w);
    GdkMonitor *mon = gdk_display_get_monitor_at_window(
        gdk_display_get_default(), gw);
    GdkRectangle geo;
    gdk_monitor_get_geometry(mon, &geo);
    if (ev->x_root < geo.x + 16 || ev->y_root < geo.y + 16 ||
        ev->x_root > geo.x + geo.width - 16 ||
        ev->y_root > geo.y + geo.height - 16) {
        int cx = geo.x + geo.width / 2, cy = geo.y + geo.height / 2;
        gdk_device_warp(ev->device, gdk_window_get_screen(gw), cx, cy);
        mw->last_x = cx;
        mw->last_y = cy;
    }
    return TRUE;
}

static gboolean mw_scroll(GtkWidget *w, GdkEventScroll *ev, gpointer data)
{
    MachineWindow *mw = data;
    if (!mw->grabbed && !mw->absolute) {
        return FALSE;
    }
    /* The engine's dz > 0 is the wheel turned up (away from the user). */
    if (ev->direction == GDK_SCROLL_UP) {
        mw->scroll_acc += 1;
    } else if (ev->direction == GDK_SCROLL_DOWN) {
        mw->scroll_acc -= 1;
    } else if (ev->direction == GDK_SCROLL_SMOOTH) {
        mw->scroll_acc -= ev->delta_y; /* delta_y < 0: scrolled up */
    }
    int dz = (int)mw->scroll_acc; /* whole notches; the rest waits */
    if (dz && mw->m) {
        mw->scroll_acc -= dz;
        if (mw->grabbed) {
            mimic_machine_send_pointer_rel(mw->m, 0, 0, dz, mw->buttons);
        } else {
            mw_pointer_abs(mw, ev->x, ev->y, dz);
        }
    }
    return TRUE;
}

static gboolean mw_window_state(GtkWidget *w, GdkEventWindowState *ev,
                                gpointer data)
{
    MachineWindow *mw = data;
    mw->fullscreen = ev->new_window_state & GDK_WINDOW_STATE_FULLSCREEN;
    gtk_widget_set_visible(mw->menubar, !mw->fullscreen);
    gtk_widget_set_visible(mw->statusbar, !mw->fullscreen);
    mw_update_tabs(mw);
    return FALSE;
}

/* ---- actions ---- */

static void mw_error(MachineWindow *mw, const char *what, const char *msg)
{
    GtkWidget *d = gtk_message_dialog_new(GTK_WINDOW(mw->win),
                                          GTK_DIALOG_MODAL |
                                              GTK_DIALOG_DESTROY_WITH_PARENT,
                                          GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                          "%s", what);
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s",
                                             msg);
    g_signal_connect(d, "response", G_CALLBACK(gtk_widget_destroy), NULL);
    gtk_widget_show(d);
}

static void act_start(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    g_autoptr(GError) err = NULL;
    if (!mw_start_machine(mw, &err) &&
        !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        mw_error(mw, _("The machine could not start"), err->message);
    }
    mw_update_title(mw);
    mw_update_actions(mw);
}

static void act_pause(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    if (mw->state == MIMIC_STATE_PAUSED) {
        mimic_machine_resume(mw->m);
    } else {
        mimic_machine_pause(mw->m);
    }
}

static void act_reset(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    mimic_machine_reset(mw->m);
}

static void act_cad(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    static const unsigned keys[] = { KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE };
    for (int i = 0; i < 3; i++) {
        mimic_machine_send_key(mw->m, keys[i], true);
    }
    for (int i = 2; i >= 0; i--) {
        mimic_machine_send_key(mw->m, keys[i], false);
    }
}

/* How long a guest gets to shut down before Force off is offered. */
static unsigned shutdown_wait_seconds(void)
{
    const char *s = g_getenv("MIMIC_GUI_SHUTDOWN_WAIT"); /* tests */
    unsigned v = s ? (unsigned)g_ascii_strtoull(s, NULL, 10) : 0;
    return v > 0 && v < 3600 ? v : 20;
}

/* The guest has not shut down in time: offer to force it off. */
static gboolean mw_shutdown_overdue(gpointer data)
{
    MachineWindow *mw = data;
    mw->shutdown_timeout = 0;
    if (!mw->shutting_down || mw->state == MIMIC_STATE_STOPPED) {
        return G_SOURCE_REMOVE;
    }
    GtkWidget *d = gtk_message_dialog_new(
        GTK_WINDOW(mw->win), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
        GTK_MESSAGE_WARNING, GTK_BUTTONS_NONE,
        _("The guest has not shut down"));
    gtk_window_set_title(GTK_WINDOW(d), _("Shut Down"));
    gtk_message_dialog_format_secondary_text(
        GTK_MESSAGE_DIALOG(d),
        _("The power button was pressed %u seconds ago, but the guest is "
          "still running: it may ignore the button (no ACPI support, or "
          "still booting). Force off stops it at once, like pulling the "
          "plug."),
        shutdown_wait_seconds());
    gtk_dialog_add_buttons(GTK_DIALOG(d), _("_Keep waiting"),
                           GTK_RESPONSE_CANCEL, _("_Force off"),
                           GTK_RESPONSE_ACCEPT, NULL);
    int r = gtk_dialog_run(GTK_DIALOG(d));
    gtk_widget_destroy(d);
    if (!mw_alive(mw) || !mw->m || mw->state == MIMIC_STATE_STOPPED) {
        return G_SOURCE_REMOVE;
    }
    if (r == GTK_RESPONSE_ACCEPT) {
        mimic_machine_quit(mw->m);
    } else if (mw->shutting_down) {
        mw->shutdown_timeout = g_timeout_add_seconds(
            shutdown_wait_seconds(), mw_shutdown_overdue, mw);
    }
    return G_SOURCE_REMOVE;
}

/*
 * Machine -> Type Clipboard: the host clipboard's text typed as key
 * presses.  Each character is looked up in the host's keyboard layout
 * (the key and level that produce it, GDK's keymap), which is the layout
 * the guest is assumed to use, as a person's own typing would be; a
 * character no key produces is left out.  One key every
 * TYPE_INTERVAL_MS, so the guest's keyboard buffer never overflows.
 */
#define TYPE_SHIFT 0x8000u
#define TYPE_ALTGR 0x4000u

static gboolean mw_type_next(gpointer data)
{
    MachineWindow *mw = data;
    if (!mw->m || mw->state != MIMIC_STATE_RUNNING ||
        mw->typing_pos >= mw->typing->len) {
        mw->typing_timeout = 0;
        g_array_set_size(mw->typing, 0);
        mw->typing_pos = 0;
        return G_SOURCE_REMOVE;
    }
    unsigned k = g_array_index(mw->typing, unsigned, mw->typing_pos++);
    unsigned code = k & 0x3fffu;
    if (k & TYPE_SHIFT) {
        mimic_machine_send_key(mw->m, KEY_LEFTSHIFT, true);
    }
    if (k & TYPE_ALTGR) {
        mimic_machine_send_key(mw->m, KEY_RIGHTALT, true);
    }
    mimic_machine_send_key(mw->m, code, true);
    mimic_machine_send_key(mw->m, code, false);
    if (k & TYPE_ALTGR) {
        mimic_machine_send_key(mw->m, KEY_RIGHTALT, false);
    }
    if (k & TYPE_SHIFT) {
        mimic_machine_send_key(mw->m, KEY_LEFTSHIFT, false);
    }
    return G_SOURCE_CONTINUE;
}

static void on_clipboard_text(GtkClipboard *cb, const char *text,
                              gpointer data)
{
    MachineWindow *mw = data;
    if (!mw_alive(mw) || !mw->m || !text) {
        return;
    }
    GdkKeymap *km = gdk_keymap_get_for_display(
        gtk_widget_get_display(GTK_WIDGET(mw->win)));
    unsigned skipped = 0, n = 0;
    for (const char *p = text; *p && n < TYPE_MAX_CHARS;
         p = g_utf8_next_char(p), n++) {
        gunichar c = g_utf8_get_char(p);
        guint kv = c == '\n'   ? GDK_KEY_Return
                   : c == '\t' ? GDK_KEY_Tab
                   : c == '\r' ? GDK_KEY_VoidSymbol
                                : gdk_unicode_to_keyval(c);
        if (kv == GDK_KEY_VoidSymbol) {
            continue;
        }
        GdkKeymapKey *keys = NULL;
        int nkeys = 0;
        bool found = false;
        if (gdk_keymap_get_entries_for_keyval(km, kv, &keys, &nkeys)) {
            /* The first group's plain, Shift or AltGr level. */
            for (int i = 0; i < nkeys && !found; i++) {
                if (keys[i].group == 0 && keys[i].level <= 2 &&
                    keys[i].keycode >= 8) {
                    unsigned k = keys[i].keycode - 8;
                    k |= keys[i].level == 1 ? TYPE_SHIFT
                         : keys[i].level == 2 ? TYPE_ALTGR : 0;
                    g_array_append_val(mw->typing, k);
                    found = true;
                }
            }
            g_free(keys);
        }
        skipped += !found;
    }
    if (skipped) {
        g_autofree char *msg = g_strdup_printf(
            ngettext("%u character has no key in this keyboard layout "
                     "and was left out.",
                     "%u characters have no key in this keyboard "
                     "layout and were left out.", skipped),
            skipped);
        gtk_widget_set_tooltip_text(GTK_WIDGET(mw->state_label), msg);
    }
    if (!mw->typing_timeout && mw->typing->len) {
        mw->typing_timeout = g_timeout_add(TYPE_INTERVAL_MS, mw_type_next,
                                           mw);
    }
}

static void act_type_clipboard(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    gtk_clipboard_request_text(
        gtk_widget_get_clipboard(GTK_WIDGET(mw->win),
                                 GDK_SELECTION_CLIPBOARD),
        on_clipboard_text, mw);
}

static void act_power_off(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    GtkWidget *d = gtk_message_dialog_new(
        GTK_WINDOW(mw->win), GTK_DIALOG_MODAL, GTK_MESSAGE_QUESTION,
        GTK_BUTTONS_NONE, _("Power off the machine?"));
    gtk_window_set_title(GTK_WINDOW(d), _("Power Off"));
    gtk_message_dialog_format_secondary_text(
        GTK_MESSAGE_DIALOG(d),
        _("“Shut down” presses the power button and lets the guest shut "
          "down. “Force off” stops it at once, like pulling the plug."));
    gtk_dialog_add_buttons(GTK_DIALOG(d), _("_Cancel"), GTK_RESPONSE_CANCEL,
                           _("_Force off"), 1, _("_Shut down"), 2, NULL);
    int r = gtk_dialog_run(GTK_DIALOG(d));
    gtk_widget_destroy(d);
    if (!mw_alive(mw) || !mw->m) {
        return;
    }
    if (r == 1) {
        mimic_machine_quit(mw->m);
    } else if (r == 2) {
        mw_end_shutdown_wait(mw);
        mw->shutting_down = true;
        mimic_machine_powerdown(mw->m);
        mw->shutdown_timeout = g_timeout_add_seconds(shutdown_wait_seconds(),
                                                     mw_shutdown_overdue, mw);
        mw_update_title(mw);
    }
}

static void on_media_done(MimicMachine *m, const GError *error,
                          gpointer data)
{
    MachineWindow *mw = data;
    if (!mw_alive(mw) || mw->m != m || !error) {
        return;
    }
    mw_error(mw, _("Changing the medium failed"), error->message);
}

/*
 * The state is saved: on success the machine (paused by the save) is
 * turned off, its state kept for Start to resume; "and quit" closes the
 * window then.  On failure the machine goes on as it was and the window
 * stays.
 */
static void on_state_saved(MimicMachine *m, const GError *error,
                           gpointer data)
{
    MachineWindow *mw = data;
    if (!mw_alive(mw) || mw->m != m) {
        return;
    }
    mw->saving = false;
    if (error) {
        mw->quit_after_save = false;
        if (mw->was_running) {
            mimic_machine_resume(m);
        }
        mw_update_title(mw);
        mw_update_actions(mw);
        mw_error(mw, _("Saving the state failed"), error->message);
        return;
    }
    mw->saved = true;
    mw->closing = mw->quit_after_save;
    mw_save_thumbnail(mw);
    mw_keep_scrollback(mw);
    mimic_machine_quit(m);
    mw_update_title(mw);
    mw_update_actions(mw);
    mimic_library_refresh();
}

/*
 * A serial console's text is not in the machine's state: keep it beside
 * the state file (NAME.state.serialN) so that a resumed machine's console
 * shows what was there, then a line saying where the resume begins.
 */
#define SCROLLBACK_KEEP 2000

static char *scrollback_path(const char *library_name, const char *console)
{
    g_autofree char *dir = mimic_library_dir();
    g_autofree char *state = mimic_machine_state_path(dir, library_name);
    return g_strdup_printf("%s.%s", state, console);
}

static void mw_keep_scrollback(MachineWindow *mw)
{
    for (guint i = 0; mw->library_name && i < mw->consoles->len; i++) {
        Console *c = g_ptr_array_index(mw->consoles, i);
        if (!g_str_has_prefix(c->name, "serial")) {
            continue;
        }
        /* The scrollback too: the rows up to the cursor's (absolute row
           numbers), at most the last SCROLLBACK_KEEP of them. */
        glong col = 0, row = 0;
        vte_terminal_get_cursor_position(c->term, &col, &row);
        g_autofree char *text = vte_terminal_get_text_range(
            c->term, MAX(0, row - SCROLLBACK_KEEP), 0, row,
            vte_terminal_get_column_count(c->term) - 1, NULL, NULL, NULL);
        if (!text || !*text) {
            g_free(text);
            text = vte_terminal_get_text(c->term, NULL, NULL, NULL);
        }
        g_autofree char *path = scrollback_path(mw->library_name, c->name);
        g_strchomp(text ? text : (text = g_strdup("")));
        if (*text) {
            g_file_set_contents(path, text, -1, NULL);
        } else {
            g_unlink(path);
        }
    }
}

/* After a resume: show the kept text (and forget it); otherwise drop it. */
static void mw_replay_scrollback(MachineWindow *mw, bool resumed)
{
    mw->replayed_lines = 0;
    for (guint i = 0; mw->library_name && i < mw->consoles->len; i++) {
        Console *c = g_ptr_array_index(mw->consoles, i);
        g_autofree char *path = scrollback_path(mw->library_name, c->name);
        g_autofree char *text = NULL;
        if (resumed && g_file_get_contents(path, &text, NULL, NULL) &&
            *text) {
            g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
            g_autofree char *crlf = g_strjoinv("\r\n", lines);
            vte_terminal_feed(c->term, crlf, -1);
            g_autofree char *mark = g_strdup_printf(
                "\r\n\033[2m%s\033[0m\r\n",
                _("—— resumed from the saved state ——"));
            vte_terminal_feed(c->term, mark, -1);
            mw->replayed_lines += g_strv_length(lines);
        }
        g_unlink(path);
    }
    mw_dump(mw);
}

static void mw_save_state(MachineWindow *mw, bool quit)
{
    if (!mw->m || !mw->library_name || mw->saving) {
        return;
    }
    g_autofree char *dir = mimic_library_dir();
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        int e = errno;
        mw_error(mw, _("Saving the state failed"), g_strerror(e));
        return;
    }
    g_autofree char *path = mimic_machine_state_path(dir, mw->library_name);
    mw->quit_after_save = quit;
    mw->was_running = mw->state == MIMIC_STATE_RUNNING;
    mw->saving = true;
    mw_set_grab(mw, false);
    mw_update_title(mw);
    mw_update_actions(mw);
    mimic_machine_save_state(mw->m, path, on_state_saved, mw);
}

static void act_save_state(GSimpleAction *a, GVariant *p, gpointer data)
{
    mw_save_state(data, false);
}

static void act_save_state_quit(GSimpleAction *a, GVariant *p, gpointer data)
{
    mw_save_state(data, true);
}

static void on_snapshot_done(MimicMachine *m, const GError *error,
                             gpointer data)
{
    MachineWindow *mw = data;
    if (!mw_alive(mw) || mw->m != m || !error) {
        return;
    }
    mw_error(mw, _("The snapshot operation failed"), error->message);
}

/*
 * Snapshot thumbnails: a small PNG of the screen as it was when the
 * snapshot was taken, in the user's cache ($XDG_CACHE_HOME/mimic/
 * snapshots), named by a hash of the machine's first disk (its canonical
 * path), the snapshot's name and its date.  The date makes a snapshot
 * deleted and taken again under the same name (by qemu-img, say) show no
 * stale picture; a missing file only means no picture.  The qcow2 file is
 * left as QEMU's tools expect it (docs/gui.md says why).
 */
static char *snapshot_thumb_path(MachineWindow *mw, const char *name,
                                 gint64 date_sec)
{
    const char *disk = NULL;
    for (int i = 0; i < mw->cfg->n_drives && !disk; i++) {
        const DriveConfig *d = &mw->cfg->drives[i];
        if (d->media == DRIVE_MEDIA_DISK && d->file) {
            disk = d->file;
        }
    }
    if (!disk) {
        return NULL;
    }
    g_autofree char *abs = g_canonicalize_filename(disk, NULL);
    g_autofree char *key = g_strdup_printf("%s\n%s\n%" G_GINT64_FORMAT,
                                           abs, name, date_sec);
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
                                                         key, -1);
    g_autofree char *base = g_strdup_printf("%s.png", sum);
    return g_build_filename(g_get_user_cache_dir(), "mimic", "snapshots",
                            base, NULL);
}

/* What a snapshot operation of the dialog still has to do afterwards. */
typedef struct SnapJob {
    MachineWindow *mw;
    char *name;
    GdkPixbuf *thumb; /* Take: the screen when it was asked for */
    char *unlink;     /* Delete: the thumbnail to remove */
} SnapJob;

static void snap_job_free(SnapJob *j)
{
    g_free(j->name);
    g_clear_object(&j->thumb);
    g_free(j->unlink);
    g_free(j);
}

/* After Take: the new snapshot's date names its thumbnail. */
static void on_snapshot_taken_list(MimicMachine *m, GPtrArray *list,
                                   const GError *error, gpointer data)
{
    SnapJob *j = data;
    MachineWindow *mw = j->mw;
    for (guint i = 0; mw_alive(mw) && !error && i < list->len; i++) {
        const MimicSnapshot *s = g_ptr_array_index(list, i);
        if (strcmp(s->name, j->name)) {
            continue;
        }
        g_autofree char *path = snapshot_thumb_path(mw, s->name, s->date_sec);
        if (path && j->thumb) {
            g_autofree char *dir = g_path_get_dirname(path);
            g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
            g_mkdir_with_parents(dir, 0700);
            if (gdk_pixbuf_save(j->thumb, tmp, "png", NULL, NULL)) {
                g_rename(tmp, path);
            }
        }
    }
    snap_job_free(j);
}

static void on_snapshot_job_done(MimicMachine *m, const GError *error,
                                 gpointer data)
{
    SnapJob *j = data;
    MachineWindow *mw = j->mw;
    if (!mw_alive(mw) || mw->m != m) {
        snap_job_free(j);
        return;
    }
    if (error) {
        mw_error(mw, _("The snapshot operation failed"), error->message);
    } else if (j->unlink) {
        g_unlink(j->unlink);
    } else if (j->thumb) {
        mimic_machine_snapshot_list(m, on_snapshot_taken_list, j);
        return;
    }
    snap_job_free(j);
}

/* The Snapshots dialog: the snapshots on every disk, newest last, each
 * with the screen it saved; Restore the selected one, Take a new one, or
 * Delete. */
enum { SNAP_RESTORE = 1, SNAP_TAKE, SNAP_DELETE };

static void on_snapshot_list(MimicMachine *m, GPtrArray *list,
                             const GError *error, gpointer data)
{
    MachineWindow *mw = data;
    if (!mw_alive(mw) || mw->m != m) {
        return;
    }
    if (error) {
        mw_error(mw, _("The snapshots could not be listed"), error->message);
        return;
    }
    GtkWidget *d = gtk_dialog_new_with_buttons(
        _("Snapshots"), GTK_WINDOW(mw->win), GTK_DIALOG_MODAL,
        _("_Delete"), SNAP_DELETE, _("_Take Snapshot"), SNAP_TAKE,
        _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Restore"), SNAP_RESTORE,
        NULL);
    GtkWidget *box = gtk_dialog_get_content_area(GTK_DIALOG(d));
    gtk_container_set_border_width(GTK_CONTAINER(box), 12);
    gtk_box_set_spacing(GTK_BOX(box), 6);
    GtkListStore *store = gtk_list_store_new(5, G_TYPE_STRING, G_TYPE_STRING,
                                             G_TYPE_STRING, GDK_TYPE_PIXBUF,
                                             G_TYPE_STRING);
    for (guint i = 0; i < list->len; i++) {
        const MimicSnapshot *s = g_ptr_array_index(list, i);
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(s->date_sec);
        g_autofree char *date = dt ? g_date_time_format(dt, "%x %X")
                                   : g_strdup("?");
        g_autofree char *size = g_format_size(s->vm_state_size);
        g_autofree char *thumb = snapshot_thumb_path(mw, s->name,
                                                     s->date_sec);
        g_autoptr(GdkPixbuf) pb =
            thumb ? gdk_pixbuf_new_from_file_at_scale(thumb, 120, 90, TRUE,
                                                      NULL)
                  : NULL;
        gtk_list_store_insert_with_values(store, NULL, -1, 0, s->name,
                                          1, date, 2, size, 3, pb,
                                          4, thumb, -1);
    }
    GtkWidget *view = gtk_tree_view_new_with_model(GTK_TREE_MODEL(store));
    g_object_unref(store);
    gtk_widget_set_name(view, "snapshot-list");
    GtkCellRenderer *pr = gtk_cell_renderer_pixbuf_new();
    gtk_cell_renderer_set_fixed_size(pr, 128, 96);
    gtk_tree_view_append_column(
        GTK_TREE_VIEW(view),
        gtk_tree_view_column_new_with_attributes(_("Screen"), pr, "pixbuf",
                                                 3, NULL));
    const char *titles[] = { _("Name"), _("Taken"), _("Machine state") };
    for (int c = 0; c < 3; c++) {
        gtk_tree_view_append_column(
            GTK_TREE_VIEW(view),
            gtk_tree_view_column_new_with_attributes(
                titles[c], gtk_cell_renderer_text_new(), "text", c, NULL));
    }
    /* The newest selected: what Restore most often wants. */
    GtkTreeIter last;
    if (list->len && gtk_tree_model_iter_nth_child(GTK_TREE_MODEL(store),
                                                   &last, NULL,
                                                   (int)list->len - 1)) {
        gtk_tree_selection_select_iter(
            gtk_tree_view_get_selection(GTK_TREE_VIEW(view)), &last);
    }
    GtkWidget *empty = gtk_label_new(_("This machine has no snapshots "
                                       "yet."));
    GtkWidget *entry = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(entry),
                                   _("Name of a new snapshot"));
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *suggest = g_date_time_format(now, "snapshot-%Y%m%d-%H%M%S");
    gtk_entry_set_text(GTK_ENTRY(entry), suggest);
    gtk_container_add(GTK_CONTAINER(box), list->len ? view : empty);
    gtk_container_add(GTK_CONTAINER(box), entry);
    gtk_dialog_set_response_sensitive(GTK_DIALOG(d), SNAP_RESTORE,
                                      list->len > 0);
    gtk_dialog_set_response_sensitive(GTK_DIALOG(d), SNAP_DELETE,
                                      list->len > 0);
    gtk_widget_show_all(d);
    /* Nothing to restore or delete: no such buttons. */
    for (int k = 0; !list->len && k < 2; k++) {
        GtkWidget *b = gtk_dialog_get_widget_for_response(
            GTK_DIALOG(d), k ? SNAP_DELETE : SNAP_RESTORE);
        if (b) {
            gtk_widget_hide(b);
        }
    }
    int r = gtk_dialog_run(GTK_DIALOG(d));
    g_autofree char *chosen = NULL, *chosen_thumb = NULL;
    GtkTreeIter it;
    GtkTreeModel *model;
    if (list->len && gtk_tree_selection_get_selected(
            gtk_tree_view_get_selection(GTK_TREE_VIEW(view)), &model, &it)) {
        gtk_tree_model_get(model, &it, 0, &chosen, 4, &chosen_thumb, -1);
    }
    g_autofree char *name = g_strdup(gtk_entry_get_text(GTK_ENTRY(entry)));
    gtk_widget_destroy(d);
    if (!mw_alive(mw) || mw->m != m) {
        return;
    }
    SnapJob *j = g_new0(SnapJob, 1);
    j->mw = mw;
    if (r == SNAP_RESTORE && chosen) {
        snap_job_free(j);
        mimic_machine_snapshot_load(mw->m, chosen, on_snapshot_done, mw);
    } else if (r == SNAP_DELETE && chosen) {
        j->unlink = g_steal_pointer(&chosen_thumb);
        mimic_machine_snapshot_delete(mw->m, chosen, on_snapshot_job_done, j);
    } else if (r == SNAP_TAKE && *g_strstrip(name)) {
        j->name = g_strdup(name);
        j->thumb = mimic_display_snapshot(mw->display, 240);
        mimic_machine_snapshot_save(mw->m, name, on_snapshot_job_done, j);
    } else {
        snap_job_free(j);
    }
}

static void act_snapshots(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    mimic_machine_snapshot_list(mw->m, on_snapshot_list, mw);
}

static void act_screenshot(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    GtkFileChooserNative *fc = gtk_file_chooser_native_new(
        _("Save Screenshot"), GTK_WINDOW(mw->win),
        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
    GtkFileChooser *ch = GTK_FILE_CHOOSER(fc);
    gtk_file_chooser_set_do_overwrite_confirmation(ch, TRUE);
    g_autofree char *name = g_strdup_printf("%s.png", mw->cfg->name
                                                          ? mw->cfg->name
                                                          : "screen");
    gtk_file_chooser_set_current_name(ch, name);
    if (gtk_native_dialog_run(GTK_NATIVE_DIALOG(fc)) ==
        GTK_RESPONSE_ACCEPT) {
        g_autofree char *path = gtk_file_chooser_get_filename(ch);
        g_autoptr(GError) err = NULL;
        if (path && !mimic_machine_screendump(mw->m, path, &err)) {
            mw_error(mw, _("The screenshot could not be saved"),
                     err->message);
        }
    }
    g_object_unref(fc);
}

static void mw_change_media(MachineWindow *mw, const char *device,
                            bool cdrom)
{
    GtkWidget *fc = mimic_file_chooser_dialog_new(
        cdrom ? _("Choose a CD/DVD Image") : _("Choose a Floppy Image"),
        GTK_WINDOW(mw->win));
    mimic_add_image_filters(GTK_FILE_CHOOSER(fc), cdrom);
    if (gtk_dialog_run(GTK_DIALOG(fc)) == GTK_RESPONSE_ACCEPT &&
        mw_alive(mw) && mw->m) {
        g_autofree char *path =
            gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(fc));
        if (path) {
            /* The format the content has, never a guess by name. */
            const char *fmt = mimic_image_format(path, NULL);
            mimic_machine_change_media(mw->m, device, path,
                                       fmt ? fmt : "raw", on_media_done, mw);
        }
    }
    gtk_widget_destroy(fc);
}

/*
 * Devices -> Network cable connected / Mute sound: stateful actions whose
 * state follows the engine (set once the engine has done it); the status
 * bar says the same.
 */
static void mw_update_device_labels(MachineWindow *mw)
{
    MimicCaps caps = mw->m ? mimic_machine_capabilities(mw->m) : 0;
    GVariant *link = g_action_get_state(mw_action(mw, "link"));
    GVariant *mute = g_action_get_state(mw_action(mw, "mute"));
    gtk_label_set_text(mw->net_label,
                       g_variant_get_boolean(link)
                           ? _("Network: connected")
                           : _("Network: cable unplugged"));
    gtk_label_set_text(mw->sound_label, g_variant_get_boolean(mute)
                                            ? _("Sound: muted")
                                            : _("Sound: on"));
    gtk_widget_set_visible(GTK_WIDGET(mw->net_label),
                           caps & MIMIC_CAP_NETWORK);
    gtk_widget_set_visible(GTK_WIDGET(mw->sound_label),
                           caps & MIMIC_CAP_SOUND);
    g_variant_unref(link);
    g_variant_unref(mute);
    mw_dump(mw);
}

typedef struct SwitchDone {
    MachineWindow *mw;
    char *action;
    bool value;
} SwitchDone;

static void on_switch_done(MimicMachine *m, const GError *error,
                           gpointer data)
{
    SwitchDone *sd = data;
    MachineWindow *mw = sd->mw;
    if (mw_alive(mw) && mw->m == m) {
        if (error) {
            mw_error(mw, _("The device could not be switched"),
                     error->message);
        } else {
            g_simple_action_set_state(
                G_SIMPLE_ACTION(mw_action(mw, sd->action)),
                g_variant_new_boolean(sd->value));
        }
        mw_update_device_labels(mw);
    }
    g_free(sd->action);
    g_free(sd);
}

static void mw_switch(MachineWindow *mw, const char *action, bool value)
{
    if (!mw->m) {
        return;
    }
    SwitchDone *sd = g_new0(SwitchDone, 1);
    sd->mw = mw;
    sd->action = g_strdup(action);
    sd->value = value;
    if (!strcmp(action, "link")) {
        mimic_machine_set_link(mw->m, value, on_switch_done, sd);
    } else {
        mimic_machine_set_mute(mw->m, value, on_switch_done, sd);
    }
}

static void act_link(GSimpleAction *a, GVariant *v, gpointer data)
{
    mw_switch(data, "link", g_variant_get_boolean(v));
}

static void act_mute(GSimpleAction *a, GVariant *v, gpointer data)
{
    mw_switch(data, "mute", g_variant_get_boolean(v));
}

static void on_usb_disk_done(MimicMachine *m, const GError *error,
                             gpointer data)
{
    MachineWindow *mw = data;
    if (!mw_alive(mw) || mw->m != m || !error) {
        return;
    }
    mw_error(mw, _("The USB disk could not be connected"), error->message);
}

/*
 * A file dropped on the screen (text/uri-list): an ISO 9660 image (by its
 * name or its content) goes into the CD/DVD drive, a floppy-sized image
 * (up to 2.88 MB) into drive A, any other disk image is hot-plugged as a
 * USB disk when the machine has a USB controller, each after a question.
 * All through the typed engine API (mimic_machine_change_media(),
 * mimic_machine_usb_disk_connect()).  A hard disk cannot join a running
 * machine without USB: the dialog says where to attach one.
 */
typedef enum { DROP_CD, DROP_FLOPPY, DROP_USB, DROP_NONE } DropKind;

typedef struct Drop {
    MachineWindow *mw;
    char *path;
    DropKind kind;
} Drop;

static bool file_is_iso(const char *path)
{
    g_autofree char *lower = g_ascii_strdown(path, -1);
    return g_str_has_suffix(lower, ".iso") || mimic_file_has_iso_pvd(path);
}

static void drop_free(gpointer data)
{
    Drop *drop = data;
    g_free(drop->path);
    g_free(drop);
}

static void on_drop_response(GtkDialog *d, int response, gpointer data)
{
    /* Freed with the dialog (also when the window goes first). */
    Drop *drop = g_object_steal_data(G_OBJECT(d), "drop");
    MachineWindow *mw = drop->mw;
    gtk_widget_destroy(GTK_WIDGET(d));
    if (mw_alive(mw)) {
        g_object_set_data(G_OBJECT(mw->win), "drop-question", NULL);
        mw_dump(mw);
    }
    if (response == GTK_RESPONSE_ACCEPT && mw_alive(mw) && mw->m) {
        GError *err = NULL;
        const char *fmt = mimic_image_format(drop->path, &err);
        if (drop->kind == DROP_USB && fmt) {
            mimic_machine_usb_disk_connect(mw->m, drop->path, fmt, false,
                                           on_usb_disk_done, mw);
        } else if (drop->kind == DROP_USB) {
            mw_error(mw, _("The USB disk could not be connected"),
                     err ? err->message : "");
        } else {
            mimic_machine_change_media(
                mw->m, drop->kind == DROP_CD ? "ide1-cd0" : "floppy0",
                drop->path,
                drop->kind == DROP_CD ? "raw" : (fmt ? fmt : "raw"),
                on_media_done, mw);
        }
        g_clear_error(&err);
    }
    drop_free(drop);
}

static void on_display_drop(GtkWidget *w, GdkDragContext *ctx, int x, int y,
                            GtkSelectionData *sel, guint info, guint time,
                            gpointer data)
{
    MachineWindow *mw = data;
    g_auto(GStrv) uris = gtk_selection_data_get_uris(sel);
    g_autofree char *path = uris && uris[0]
                                ? g_filename_from_uri(uris[0], NULL, NULL)
                                : NULL;
    gtk_drag_finish(ctx, path != NULL, FALSE, time);
    bool alive = mw->m && (mw->state == MIMIC_STATE_RUNNING ||
                           mw->state == MIMIC_STATE_PAUSED);
    if (!path || !alive) {
        return;
    }
    MimicCaps caps = mimic_machine_capabilities(mw->m);
    GStatBuf sb;
    bool file = g_stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
                g_access(path, R_OK) == 0;
    DropKind kind = DROP_NONE;
    if (file && file_is_iso(path)) {
        kind = caps & MIMIC_CAP_CHANGE_MEDIA ? DROP_CD : DROP_NONE;
    } else if (file && sb.st_size <= 2949120 &&
               !g_strcmp0(mimic_image_format(path, NULL), "raw") &&
               (caps & MIMIC_CAP_CHANGE_MEDIA)) {
        /* A raw image of a floppy's size (a small qcow2 file is a disk
           of any size). */
        kind = DROP_FLOPPY;
    } else if (file && (caps & MIMIC_CAP_USB)) {
        kind = DROP_USB;
    }
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *question =
        kind == DROP_CD
            ? g_strdup_printf(_("Insert “%s” into the CD/DVD drive?"), base)
        : kind == DROP_FLOPPY
            ? g_strdup_printf(_("Insert “%s” into floppy drive A?"), base)
        : kind == DROP_USB
            ? g_strdup_printf(_("Attach “%s” as a USB disk?"), base)
            : g_strdup_printf(_("“%s” cannot be attached now"), base);
    GtkWidget *d = gtk_message_dialog_new(
        GTK_WINDOW(mw->win), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
        GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", question);
    gtk_window_set_title(GTK_WINDOW(d), _("Dropped Image"));
    const char *detail =
        kind == DROP_CD || kind == DROP_FLOPPY
            ? _("The disc or floppy now in the drive is taken out.")
        : kind == DROP_USB
            ? _("The guest sees a new USB disk; it stays attached until "
                "the machine is turned off.")
        : !file ? _("It is not a file Mimic may read.")
                : _("A hard disk is attached in the machine's settings "
                    "while it is powered off.");
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s",
                                             detail);
    if (kind != DROP_NONE) {
        gtk_dialog_add_buttons(GTK_DIALOG(d), _("_Cancel"),
                               GTK_RESPONSE_CANCEL,
                               kind == DROP_USB ? _("_Attach") : _("_Insert"),
                               GTK_RESPONSE_ACCEPT, NULL);
        gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT);
    } else {
        gtk_dialog_add_buttons(GTK_DIALOG(d), _("_Close"),
                               GTK_RESPONSE_CANCEL, NULL);
    }
    Drop *drop = g_new0(Drop, 1);
    drop->mw = mw;
    drop->path = g_steal_pointer(&path);
    drop->kind = kind;
    g_object_set_data_full(G_OBJECT(d), "drop", drop, drop_free);
    g_signal_connect(d, "response", G_CALLBACK(on_drop_response), NULL);
    gtk_widget_show(d);
    /* For the window dump (tests): the question being asked. */
    g_object_set_data_full(G_OBJECT(mw->win), "drop-question",
                           g_steal_pointer(&question), g_free);
    mw_dump(mw);
}

/* Devices -> Connect USB Disk Image…: hot-plugged as usb-storage. */
static void act_usb_disk(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    GtkWidget *fc = mimic_file_chooser_dialog_new(
        _("Choose a Disk Image to Connect over USB"), GTK_WINDOW(mw->win));
    mimic_add_image_filters(GTK_FILE_CHOOSER(fc), false);
    GtkWidget *ro = gtk_check_button_new_with_mnemonic(_("_Read-only"));
    gtk_file_chooser_set_extra_widget(GTK_FILE_CHOOSER(fc), ro);
    if (gtk_dialog_run(GTK_DIALOG(fc)) == GTK_RESPONSE_ACCEPT &&
        mw_alive(mw) && mw->m) {
        g_autofree char *path =
            gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(fc));
        GError *err = NULL;
        const char *fmt = path ? mimic_image_format(path, &err) : NULL;
        if (fmt) {
            mimic_machine_usb_disk_connect(
                mw->m, path, fmt,
                gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(ro)),
                on_usb_disk_done, mw);
        } else if (err) {
            mw_error(mw, _("The USB disk could not be connected"),
                     err->message);
            g_error_free(err);
        }
    }
    gtk_widget_destroy(fc);
}

static void act_change_cd(GSimpleAction *a, GVariant *p, gpointer data)
{
    mw_change_media(data, "ide1-cd0", true);
}

static void act_change_floppy(GSimpleAction *a, GVariant *p, gpointer data)
{
    mw_change_media(data, "floppy0", false);
}

static void act_eject(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    mimic_machine_eject_media(mw->m, "ide1-cd0", false, on_media_done, mw);
}

static void act_fullscreen(GSimpleAction *a, GVariant *p, gpointer data)
{
    mw_toggle_fullscreen(data);
}

static void act_grab(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    mw_set_grab(mw, !mw->grabbed);
}

static void mw_scale(MachineWindow *mw, MimicScaleMode mode)
{
    mimic_display_set_scale_mode(mw->display, mode);
    if (mode == MIMIC_SCALE_ONE && !mw->fullscreen) {
        gtk_window_resize(GTK_WINDOW(mw->win), 1, 1);
    }
}

/* View -> scaling: one stateful action, so the menu marks the mode. */
static void act_scale(GSimpleAction *a, GVariant *p, gpointer data)
{
    const char *mode = g_variant_get_string(p, NULL);
    MimicScaleMode m = !strcmp(mode, "one")       ? MIMIC_SCALE_ONE
                       : !strcmp(mode, "integer") ? MIMIC_SCALE_INTEGER
                                                  : MIMIC_SCALE_FIT;
    g_simple_action_set_state(a, g_variant_new_string(
                                     m == MIMIC_SCALE_ONE       ? "one"
                                     : m == MIMIC_SCALE_INTEGER ? "integer"
                                                                : "fit"));
    mw_scale(data, m);
    mw_dump(data);
}

/* A console page hides the screen: a captured input goes back to the
   host, so keys reach the terminal the user now sees. */
static void mw_page_switched(GtkNotebook *nb, GtkWidget *page, guint num,
                             gpointer data)
{
    MachineWindow *mw = data;
    if (page != GTK_WIDGET(mw->display) && mw->grabbed) {
        mw_set_grab(mw, false);
    }
}

static void mw_show_page(MachineWindow *mw, const char *console)
{
    Console *c = console ? mw_console(mw, console) : NULL;
    gtk_notebook_set_current_page(mw->notebook, c ? c->page : 0);
    gtk_widget_grab_focus(c ? GTK_WIDGET(c->term) : GTK_WIDGET(mw->display));
}

static void act_statistics(GSimpleAction *a, GVariant *v, gpointer data)
{
    MachineWindow *mw = data;
    g_simple_action_set_state(a, v);
    mw->stats = g_variant_get_boolean(v);
    mw_update_speed(mw);
}

static void act_monitor(GSimpleAction *a, GVariant *p, gpointer data)
{
    mw_show_page(data, "monitor");
}

static void act_serial(GSimpleAction *a, GVariant *p, gpointer data)
{
    mw_show_page(data, "serial0");
}

static void act_screen(GSimpleAction *a, GVariant *p, gpointer data)
{
    mw_show_page(data, NULL);
}

static void act_close(GSimpleAction *a, GVariant *p, gpointer data)
{
    MachineWindow *mw = data;
    gtk_window_close(GTK_WINDOW(mw->win));
}

static const GActionEntry mw_actions[] = {
    { "start", act_start, NULL, NULL, NULL, { 0 } },
    { "pause", act_pause, NULL, NULL, NULL, { 0 } },
    { "reset", act_reset, NULL, NULL, NULL, { 0 } },
    { "ctrl-alt-del", act_cad, NULL, NULL, NULL, { 0 } },
    { "type-clipboard", act_type_clipboard, NULL, NULL, NULL, { 0 } },
    { "power-off", act_power_off, NULL, NULL, NULL, { 0 } },
    { "save-state", act_save_state, NULL, NULL, NULL, { 0 } },
    { "save-state-quit", act_save_state_quit, NULL, NULL, NULL, { 0 } },
    { "snapshots", act_snapshots, NULL, NULL, NULL, { 0 } },
    { "screenshot", act_screenshot, NULL, NULL, NULL, { 0 } },
    { "close", act_close, NULL, NULL, NULL, { 0 } },
    { "fullscreen", act_fullscreen, NULL, NULL, NULL, { 0 } },
    { "grab", act_grab, NULL, NULL, NULL, { 0 } },
    { "scale", act_scale, "s", "'fit'", NULL, { 0 } },
    { "statistics", NULL, NULL, "false", act_statistics, { 0 } },
    { "monitor", act_monitor, NULL, NULL, NULL, { 0 } },
    { "serial", act_serial, NULL, NULL, NULL, { 0 } },
    { "screen", act_screen, NULL, NULL, NULL, { 0 } },
    { "change-cd", act_change_cd, NULL, NULL, NULL, { 0 } },
    { "eject-cd", act_eject, NULL, NULL, NULL, { 0 } },
    { "change-floppy", act_change_floppy, NULL, NULL, NULL, { 0 } },
    { "usb-disk", act_usb_disk, NULL, NULL, NULL, { 0 } },
    { "link", NULL, NULL, "true", act_link, { 0 } },
    { "mute", NULL, NULL, "false", act_mute, { 0 } },
};

/* ---- life cycle ---- */

static void mw_display_allocated(GtkWidget *w, GdkRectangle *alloc,
                                 gpointer data)
{
    mw_dump(data);
}

static gboolean mw_delete(GtkWidget *w, GdkEvent *ev, gpointer data)
{
    MachineWindow *mw = data;
    if (!mw->m || mw->state == MIMIC_STATE_STOPPED ||
        mw->state == MIMIC_STATE_CREATED) {
        return FALSE;
    }
    GtkWidget *d = gtk_message_dialog_new(
        GTK_WINDOW(mw->win), GTK_DIALOG_MODAL, GTK_MESSAGE_QUESTION,
        GTK_BUTTONS_NONE, _("The machine is still running"));
    gtk_window_set_title(GTK_WINDOW(d), _("Close Machine"));
    gtk_message_dialog_format_secondary_text(
        GTK_MESSAGE_DIALOG(d),
        _("Closing the window turns it off at once; unsaved work in the "
          "guest is lost."));
    gtk_dialog_add_buttons(GTK_DIALOG(d), _("_Cancel"), GTK_RESPONSE_CANCEL,
                           _("_Turn off and close"), GTK_RESPONSE_OK, NULL);
    if (g_action_get_enabled(mw_action(mw, "save-state-quit"))) {
        gtk_dialog_add_button(GTK_DIALOG(d), _("_Save state and close"),
                              GTK_RESPONSE_ACCEPT);
    }
    int r = gtk_dialog_run(GTK_DIALOG(d));
    gtk_widget_destroy(d);
    if (r == GTK_RESPONSE_ACCEPT && mw_alive(mw) && mw->m) {
        mw_save_state(mw, true);
    } else if (r == GTK_RESPONSE_OK) {
        mw->closing = true;
        mw_save_thumbnail(mw);
        mimic_machine_quit(mw->m);
    }
    return TRUE; /* closed on MIMIC_EVENT_SHUTDOWN */
}

static void mw_destroy(GtkWidget *w, gpointer data)
{
    MachineWindow *mw = data;
    mw_set_grab(mw, false);
    if (mw->banner_timeout) {
        g_source_remove(mw->banner_timeout);
    }
    if (mw->speed_timeout) {
        g_source_remove(mw->speed_timeout);
    }
    mw_end_shutdown_wait(mw);
    if (mw->typing_timeout) {
        g_source_remove(mw->typing_timeout);
    }
    g_array_unref(mw->typing);
    mw_save_thumbnail(mw);
    if (mw->library_name && open_windows) {
        g_hash_table_remove(open_windows, mw->library_name);
    }
    mw_clear_consoles(mw);
    mimic_display_set_machine(mw->display, NULL);
    mw_dispose_machine(mw->m);
    g_hash_table_remove(live_windows, mw);
    g_ptr_array_unref(mw->consoles);
    g_object_unref(mw->builder);
    g_free(mw->io_text);
    machine_config_free(mw->cfg);
    g_free(mw->library_name);
    g_free(mw);
    mimic_library_refresh();
}

GtkWindow *mimic_machine_window_find(const char *library_name)
{
    if (!open_windows || !library_name) {
        return NULL;
    }
    MachineWindow *mw = g_hash_table_lookup(open_windows, library_name);
    return mw ? GTK_WINDOW(mw->win) : NULL;
}

MimicRunState mimic_machine_window_state(const char *library_name)
{
    if (!open_windows || !library_name) {
        return MIMIC_STATE_CREATED;
    }
    MachineWindow *mw = g_hash_table_lookup(open_windows, library_name);
    return mw ? mw->state : MIMIC_STATE_CREATED;
}

GtkWindow *mimic_machine_window_new(GtkApplication *app,
                                    const MachineConfig *cfg,
                                    const char *library_name, GError **error)
{
    MachineWindow *mw = g_new0(MachineWindow, 1);
    if (!live_windows) {
        live_windows = g_hash_table_new(NULL, NULL);
    }
    g_hash_table_add(live_windows, mw);
    mw->cfg = machine_config_copy(cfg);
    /* The GUI supplies the terminals for the monitor and first serial. */
    if (!mw->cfg->monitor) {
        mw->cfg->monitor = g_strdup("vc");
    }
    if (!mw->cfg->serial[0] && mw->cfg->n_serial == 0) {
        mw->cfg->serial[0] = g_strdup("vc");
        mw->cfg->n_serial = 1;
    }
    mw->library_name = g_strdup(library_name);
    mw->consoles = g_ptr_array_new_with_free_func(console_free);
    mw->typing = g_array_new(FALSE, FALSE, sizeof(unsigned));
    mw->win = GTK_APPLICATION_WINDOW(gtk_application_window_new(app));
    gtk_application_window_set_show_menubar(mw->win, FALSE);
    gtk_window_set_icon_name(GTK_WINDOW(mw->win), "org.mimic.Mimic");
    mw->builder = gtk_builder_new_from_resource(
        "/org/mimic/Mimic/ui/machine-window.ui");
#define OBJ(n) gtk_builder_get_object(mw->builder, n)
    gtk_container_add(GTK_CONTAINER(mw->win), GTK_WIDGET(OBJ("content")));
    mw->menubar = GTK_WIDGET(OBJ("menubar"));
    mw->statusbar = GTK_WIDGET(OBJ("statusbar"));
    mw->grab_revealer = GTK_WIDGET(OBJ("grab-revealer"));
    mw->notebook = GTK_NOTEBOOK(OBJ("notebook"));
    mw->state_label = GTK_LABEL(OBJ("state-label"));
    mw->grab_label = GTK_LABEL(OBJ("grab-label"));
    mw->speed_label = GTK_LABEL(OBJ("speed-label"));
    mw->net_label = GTK_LABEL(OBJ("net-label"));
    mw->sound_label = GTK_LABEL(OBJ("sound-label"));
    /* Shortcuts the window handles itself, shown in its menus. */
    GtkWidget *fs = gtk_bin_get_child(GTK_BIN(OBJ("item-fullscreen")));
    if (GTK_IS_ACCEL_LABEL(fs)) {
        gtk_accel_label_set_accel(GTK_ACCEL_LABEL(fs), GDK_KEY_f,
                                  GDK_CONTROL_MASK | GDK_MOD1_MASK);
    }
#undef OBJ
    mw->display = MIMIC_DISPLAY(mimic_display_new());
    gtk_widget_show(GTK_WIDGET(mw->display));
    gtk_notebook_append_page(mw->notebook, GTK_WIDGET(mw->display),
                             gtk_label_new(_("Screen")));
    g_signal_connect(mw->notebook, "switch-page",
                     G_CALLBACK(mw_page_switched), mw);
    g_action_map_add_action_entries(G_ACTION_MAP(mw->win), mw_actions,
                                    G_N_ELEMENTS(mw_actions), mw);
    g_signal_connect(mw->win, "key-press-event", G_CALLBACK(mw_key), mw);
    g_signal_connect(mw->win, "key-release-event", G_CALLBACK(mw_key), mw);
    g_signal_connect(mw->win, "focus-out-event", G_CALLBACK(mw_focus_out),
                     mw);
    g_signal_connect(mw->win, "window-state-event",
                     G_CALLBACK(mw_window_state), mw);
    g_signal_connect(mw->win, "delete-event", G_CALLBACK(mw_delete), mw);
    g_signal_connect(mw->win, "destroy", G_CALLBACK(mw_destroy), mw);
    g_signal_connect(mw->display, "button-press-event",
                     G_CALLBACK(mw_button), mw);
    g_signal_connect(mw->display, "button-release-event",
                     G_CALLBACK(mw_button), mw);
    g_signal_connect(mw->display, "motion-notify-event",
                     G_CALLBACK(mw_motion), mw);
    g_signal_connect(mw->display, "scroll-event", G_CALLBACK(mw_scroll), mw);
    gtk_drag_dest_set(GTK_WIDGET(mw->display), GTK_DEST_DEFAULT_ALL, NULL, 0,
                      GDK_ACTION_COPY);
    gtk_drag_dest_add_uri_targets(GTK_WIDGET(mw->display));
    g_signal_connect(mw->display, "drag-data-received",
                     G_CALLBACK(on_display_drop), mw);
    g_signal_connect(mw->display, "size-allocate",
                     G_CALLBACK(mw_display_allocated), mw);
    if (library_name) {
        if (!open_windows) {
            open_windows = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                 g_free, NULL);
        }
        g_hash_table_replace(open_windows, g_strdup(library_name), mw);
    }
    mw_update_title(mw);
    mw_update_actions(mw);
    mw_update_speed(mw);
    mw->speed_timeout = g_timeout_add_seconds(1, mw_update_speed, mw);
    if (!mw_start_machine(mw, error)) {
        /* The caller shows the error; the window goes (mw with it). */
        gtk_widget_destroy(GTK_WIDGET(mw->win));
        return NULL;
    }
    if (mw->cfg->full_screen) {
        gtk_window_fullscreen(GTK_WINDOW(mw->win));
    }
    gtk_widget_show(GTK_WIDGET(mw->win));
    gtk_widget_grab_focus(GTK_WIDGET(mw->display));
    return GTK_WINDOW(mw->win);
}
