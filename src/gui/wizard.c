/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The new-machine wizard (a GtkAssistant): name and OS preset, memory,
 * hard disk (new image through mimic-img, an existing one, or none),
 * CD/DVD image (file chooser with filters or drag and drop), boot order,
 * a summary; then it creates the disk and the machine file and offers to
 * start the machine.  The choices become a machine through
 * mimic_machine_file_new_from_choices(), which the tests use too.
 */
#include "gui/gui_internal.h"
#include "gui/osdetect.h"

#include <string.h>
#include <glib/gstdio.h>
#include <unistd.h>

enum { DISK_NEW, DISK_EXISTING, DISK_NONE };

typedef struct Wizard {
    GtkAssistant *as;
    GtkEntry *name;
    GtkComboBoxText *os;
    GtkLabel *name_error;
    GtkSpinButton *memory;
    GtkToggleButton *disk_new, *disk_existing, *disk_none;
    GtkComboBoxText *format;
    GtkSpinButton *disk_gib;
    GtkFileChooser *disk_file;
    GtkFileChooser *cdrom;
    GtkComboBoxText *boot;
    GtkComboBoxText *sound, *nic;
    GtkLabel *disk_error, *cdrom_error, *detected_format, *detected_os;
    GtkLabel *detected_os0;     /* the same on the first page */
    GtkWidget *change_os;       /* "Change the system…" under it */
    GCancellable *detect_cancel; /* the identification running, if any */
    MimicOsGuess *guess;        /* what the CD/DVD was found to be */
    char *disk_path, *cdrom_path; /* the last good choices */
    GtkLabel *summary;
    GtkTextBuffer *cmdline;
    GtkWidget *progress_page, *done_page;
    GtkLabel *progress_label;
    GtkSpinner *spinner;
    GtkToggleButton *start_now;
    MimicMachineFile *created;
    bool failed;
} Wizard;

static GtkWidget *page_box(void)
{
    GtkWidget *g = gtk_grid_new();
    gtk_grid_set_row_spacing(GTK_GRID(g), 8);
    gtk_grid_set_column_spacing(GTK_GRID(g), 12);
    gtk_container_set_border_width(GTK_CONTAINER(g), 18);
    return g;
}

static GtkWidget *label(const char *mnemonic, GtkWidget *target)
{
    GtkWidget *l = gtk_label_new_with_mnemonic(mnemonic);
    gtk_label_set_xalign(GTK_LABEL(l), 1);
    if (target) {
        gtk_label_set_mnemonic_widget(GTK_LABEL(l), target);
    }
    return l;
}

/* Where a page says what is wrong with a choice, at once. */
static GtkLabel *error_label(void)
{
    GtkLabel *l = GTK_LABEL(gtk_label_new(""));
    gtk_label_set_xalign(l, 0);
    gtk_label_set_line_wrap(l, TRUE);
    gtk_label_set_max_width_chars(l, 50);
    gtk_style_context_add_class(gtk_widget_get_style_context(GTK_WIDGET(l)),
                                "error");
    return l;
}

static MimicOsType wz_os(Wizard *wz)
{
    int i = gtk_combo_box_get_active(GTK_COMBO_BOX(wz->os));
    return i >= 0 && i < MIMIC_OS_COUNT ? (MimicOsType)i : MIMIC_OS_OTHER;
}

static int wz_disk_mode(Wizard *wz)
{
    if (gtk_toggle_button_get_active(wz->disk_existing)) {
        return DISK_EXISTING;
    }
    if (gtk_toggle_button_get_active(wz->disk_none)) {
        return DISK_NONE;
    }
    return DISK_NEW;
}

static const char *wz_format(Wizard *wz)
{
    const char *f = gtk_combo_box_get_active_id(GTK_COMBO_BOX(wz->format));
    return f ? f : "qcow2";
}

/* Fill choices from the pages; the strings stay owned by *keep. */
static void wz_choices(Wizard *wz, MimicNewMachine *c, GPtrArray *keep)
{
    memset(c, 0, sizeof(*c));
    c->name = gtk_entry_get_text(wz->name);
    c->os = wz_os(wz);
    c->memory_mib = gtk_spin_button_get_value_as_int(wz->memory);
    switch (wz_disk_mode(wz)) {
    case DISK_NEW: {
        char *p = mimic_default_disk_path(c->name, wz_format(wz));
        g_ptr_array_add(keep, p);
        c->disk_path = p;
        c->disk_format = wz_format(wz);
        break;
    }
    case DISK_EXISTING:
        /* An existing image has the format its content says. */
        c->disk_path = wz->disk_path;
        c->disk_format = wz->disk_path
                             ? mimic_image_format(wz->disk_path, NULL)
                             : NULL;
        break;
    default:
        break;
    }
    c->cdrom = wz->cdrom_path ? wz->cdrom_path : "";
    c->boot = gtk_combo_box_get_active_id(GTK_COMBO_BOX(wz->boot));
    c->sound = gtk_combo_box_get_active_id(GTK_COMBO_BOX(wz->sound));
    c->nic = gtk_combo_box_get_active_id(GTK_COMBO_BOX(wz->nic));
    /* The detected system's CPU while that system is chosen. */
    if (wz->guess && wz->guess->os == c->os) {
        c->cpu = wz->guess->cpu;
    }
}

static void wz_dump(Wizard *wz);

static void wz_check_name(Wizard *wz)
{
    g_autoptr(GError) err = NULL;
    const char *name = gtk_entry_get_text(wz->name);
    bool ok = mimic_machine_name_valid(name, &err);
    g_autofree char *dir = mimic_library_dir();
    g_autofree char *path = mimic_machine_file_path(dir, name);
    if (ok && g_file_test(path, G_FILE_TEST_EXISTS)) {
        ok = false;
        gtk_label_set_text(wz->name_error,
                           _("A machine of that name exists already."));
    } else {
        /* No complaint before anything is typed. */
        gtk_label_set_text(wz->name_error, ok || !*name ? "" : err->message);
    }
    GtkWidget *page = gtk_assistant_get_nth_page(wz->as, 0);
    gtk_assistant_set_page_complete(wz->as, page, ok);
    wz_dump(wz);
}

static void on_name_changed(GtkEditable *e, gpointer data)
{
    wz_check_name(data);
}

static void on_os_changed(GtkComboBox *c, gpointer data)
{
    Wizard *wz = data;
    const MimicPreset *p = mimic_preset_get(wz_os(wz));
    gtk_spin_button_set_value(wz->memory, p->memory_mib);
    const char *sound = mimic_preset_sound(p), *nic = mimic_preset_nic(p);
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(wz->sound),
                                sound ? sound : "none");
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(wz->nic), nic ? nic : "none");
    gtk_spin_button_set_value(wz->disk_gib, MAX(1, p->disk_mib / 1024));
    if (p->disk_mib < 1024) {
        gtk_spin_button_set_value(wz->disk_gib, 1);
    }
    /* The detected system: the database's resources and devices. */
    MimicOsGuess *g = wz->guess;
    if (g && g->os == wz_os(wz)) {
        if (g->memory_mib) {
            gtk_spin_button_set_value(wz->memory, g->memory_mib);
        }
        if (g->disk_mib) {
            gtk_spin_button_set_value(wz->disk_gib,
                                      MAX(1, (g->disk_mib + 1023) / 1024));
        }
        if (g->sound) {
            gtk_combo_box_set_active_id(GTK_COMBO_BOX(wz->sound), g->sound);
        }
        if (g->nic) {
            gtk_combo_box_set_active_id(GTK_COMBO_BOX(wz->nic), g->nic);
        }
    }
}

static void on_disk_mode(GtkToggleButton *b, gpointer data)
{
    Wizard *wz = data;
    int mode = wz_disk_mode(wz);
    gtk_widget_set_sensitive(GTK_WIDGET(wz->disk_gib), mode == DISK_NEW);
    gtk_widget_set_sensitive(GTK_WIDGET(wz->format), mode == DISK_NEW);
    gtk_widget_set_sensitive(GTK_WIDGET(wz->disk_file),
                             mode == DISK_EXISTING);
    const char *fmt = wz->disk_path ? mimic_image_format(wz->disk_path, NULL)
                                    : NULL;
    g_autofree char *detected =
        fmt ? g_strdup_printf(_("Format: %s (from the image's content)"),
                              fmt)
            : g_strdup("");
    gtk_label_set_text(wz->detected_format, detected);
    GtkWidget *page = gtk_assistant_get_nth_page(wz->as, 2);
    gtk_assistant_set_page_complete(wz->as, page,
                                    mode != DISK_EXISTING ||
                                        wz->disk_path != NULL);
}

/*
 * A file chosen for the disk or the CD/DVD is checked at once: one that
 * is missing or cannot be read (or, for a disk, written) is refused with
 * the reason under the chooser, and the earlier choice stays.
 */
static bool wz_check_file(Wizard *wz, GtkFileChooser *fc, char **keep,
                          GtkLabel *error, bool writable)
{
    g_autofree char *path = gtk_file_chooser_get_filename(fc);
    g_autofree char *uri = path ? NULL : gtk_file_chooser_get_uri(fc);
    const char *what = path ? path : uri;
    const char *why = NULL;
    if (!what) {
        return false;
    }
    if (!path || !g_file_test(path, G_FILE_TEST_EXISTS)) {
        why = _("There is no such file.");
    } else if (!g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
               !g_str_has_prefix(path, "/dev/")) {
        why = _("This is not an image file.");
    } else if (g_access(path, R_OK) != 0) {
        why = _("You may not read this file.");
    } else if (writable && g_access(path, W_OK) != 0) {
        why = _("You may not write to this file; a hard disk must be "
                "writable.");
    }
    if (why) {
        g_autofree char *msg = g_strdup_printf("%s: %s", what, why);
        gtk_label_set_text(error, msg);
        if (*keep) {
            gtk_file_chooser_set_filename(fc, *keep);
        } else {
            gtk_file_chooser_unselect_all(fc);
        }
        return false;
    }
    gtk_label_set_text(error, "");
    g_free(*keep);
    *keep = g_steal_pointer(&path);
    return true;
}

static void on_disk_file_set(GtkFileChooserButton *b, gpointer data)
{
    Wizard *wz = data;
    wz_check_file(wz, wz->disk_file, &wz->disk_path, wz->disk_error, true);
    on_disk_mode(NULL, data);
}

/*
 * MIMIC_GUI_WIZARD_DUMP=PATH (a test hook, as the library's cards): after
 * each identification and each change of the name the wizard writes the
 * name, what it found and what it proposes, one KEY<TAB>VALUE a line.
 * Unset or empty: nothing.
 */
static void wz_dump(Wizard *wz)
{
    const char *path = g_getenv("MIMIC_GUI_WIZARD_DUMP");
    if (!path || !*path) {
        return;
    }
    g_autofree char *snd = g_strdup(
        gtk_combo_box_get_active_id(GTK_COMBO_BOX(wz->sound)));
    g_autofree char *text = g_strdup_printf(
        "name\t%s\ndetected\t%s\nfirst-page\t%s\ncd-error\t%s\n"
        "system\t%s\n"
        "memory\t%d\ndisk-gib\t%d\nsound\t%s\nnic\t%s\ncpu\t%s\n"
        "libosinfo\t%s\n",
        gtk_entry_get_text(wz->name), gtk_label_get_text(wz->detected_os),
        gtk_label_get_text(wz->detected_os0),
        gtk_label_get_text(wz->cdrom_error),
        gtk_combo_box_get_active_id(GTK_COMBO_BOX(wz->os)),
        gtk_spin_button_get_value_as_int(wz->memory),
        gtk_spin_button_get_value_as_int(wz->disk_gib), snd ? snd : "",
        gtk_combo_box_get_active_id(GTK_COMBO_BOX(wz->nic)),
        wz->guess && wz->guess->cpu ? wz->guess->cpu : "",
        mimic_os_detect_has_osinfo() ? "yes" : "no");
    g_file_set_contents(path, text, -1, NULL);
}

static void wz_show_detected(Wizard *wz, const char *text, const char *first)
{
    gtk_label_set_text(wz->detected_os, text);
    gtk_label_set_text(wz->detected_os0, first);
    gtk_widget_set_visible(wz->change_os, wz->guess != NULL);
}

static void on_identified(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) err = NULL;
    MimicOsGuess *g = mimic_os_identify_finish(res, &err);
    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        return; /* another disc was chosen, or the wizard is gone */
    }
    Wizard *wz = data;
    g_clear_object(&wz->detect_cancel);
    if (!g) {
        g_autofree char *msg =
            g_error_matches(err, MIMIC_OS_DETECT_ERROR,
                            MIMIC_OS_DETECT_ERROR_NOT_ISO)
                ? g_strdup(_("This is not a CD/DVD image (no ISO 9660 "
                             "volume descriptor): a guest may not read it "
                             "as a disc."))
                : g_strdup_printf("%s %s", _("The image could not be read."),
                                  err->message);
        gtk_label_set_text(wz->cdrom_error, msg);
        wz_show_detected(wz, "", "");
        wz_dump(wz);
        return;
    }
    if (g->os == MIMIC_OS_COUNT) {
        g_autofree char *msg =
            g->volume_id
                ? g_strdup_printf(_("No system recognised on the disc "
                                    "“%s”: choose it on the first page."),
                                  g->volume_id)
                : g_strdup(_("No system recognised on this disc: choose "
                             "it on the first page."));
        mimic_os_guess_free(g);
        wz_show_detected(wz, msg, "");
        wz_dump(wz);
        return;
    }
    mimic_os_guess_free(wz->guess);
    wz->guess = g;
    /* The preset, then the database's values over it (on_os_changed). */
    if (wz_os(wz) == g->os) {
        on_os_changed(GTK_COMBO_BOX(wz->os), wz);
    } else {
        gtk_combo_box_set_active(GTK_COMBO_BOX(wz->os), g->os);
    }
    g_autofree char *what = mimic_os_guess_describe(g);
    g_autofree char *from =
        g->from_osinfo
            ? g_strdup_printf(_("libosinfo knows the disc “%s”"),
                              g->volume_id ? g->volume_id : "")
            : g_strdup_printf(_("from the disc's volume ID “%s”"),
                              g->volume_id ? g->volume_id : "");
    g_autofree char *snd = gtk_combo_box_text_get_active_text(wz->sound);
    g_autofree char *nic = gtk_combo_box_text_get_active_text(wz->nic);
    g_autofree char *msg = g_strdup_printf(
        _("Detected: %s (%s).\nProposed: %s settings, %d MiB of memory, "
          "a %d GiB disk, CPU %s, sound %s, network %s."),
        what, from, _(mimic_preset_get(g->os)->label),
        gtk_spin_button_get_value_as_int(wz->memory),
        gtk_spin_button_get_value_as_int(wz->disk_gib),
        g->cpu ? g->cpu : mimic_preset_get(g->os)->cpu, snd, nic);
    g_autofree char *first = g_strdup_printf(
        _("Detected from the CD/DVD image: %s"), what);
    wz_show_detected(wz, msg, first);
    wz_dump(wz);
}

/*
 * OS detection: the chosen CD/DVD image is read in a thread (libosinfo's
 * database, else our volume ID table); the system found proposes its
 * preset with the database's memory, disk, CPU and devices.  The first
 * page's System list changes it.
 */
static void wz_detect(Wizard *wz, const char *path)
{
    if (wz->detect_cancel) {
        g_cancellable_cancel(wz->detect_cancel);
        g_clear_object(&wz->detect_cancel);
    }
    mimic_os_guess_free(wz->guess);
    wz->guess = NULL;
    wz->detect_cancel = g_cancellable_new();
    wz_show_detected(wz, _("Reading the disc…"), "");
    mimic_os_identify_async(path, wz->detect_cancel, on_identified, wz);
}

static void on_change_os(GtkButton *b, gpointer data)
{
    Wizard *wz = data;
    gtk_assistant_set_current_page(wz->as, 0);
    gtk_widget_grab_focus(GTK_WIDGET(wz->os));
}

static void on_cdrom_file_set(GtkFileChooserButton *b, gpointer data)
{
    Wizard *wz = data;
    if (wz_check_file(wz, wz->cdrom, &wz->cdrom_path, wz->cdrom_error,
                      false)) {
        wz_detect(wz, wz->cdrom_path);
    }
}

/*
 * A file given to the wizard (dropped on it or on the library, or named on
 * the command line): an .iso becomes the CD/DVD, any other image the
 * existing hard disk, its format from its content (what the engine would
 * find); a file without a known magic is raw. Never from the name: a
 * qcow2 image called .img attached as raw would be destroyed by its guest.
 */
static bool wz_take_file(Wizard *wz, const char *path)
{
    g_autofree char *lower = g_ascii_strdown(path, -1);
    if (g_str_has_suffix(lower, ".iso")) {
        if (!gtk_file_chooser_set_filename(wz->cdrom, path) ||
            !wz_check_file(wz, wz->cdrom, &wz->cdrom_path, wz->cdrom_error,
                           false)) {
            return false;
        }
        wz_detect(wz, wz->cdrom_path);
        return true;
    }
    if (!gtk_file_chooser_set_filename(wz->disk_file, path) ||
        !wz_check_file(wz, wz->disk_file, &wz->disk_path, wz->disk_error,
                       true)) {
        return false;
    }
    if (!mimic_image_format(path, NULL)) {
        return false;
    }
    gtk_toggle_button_set_active(wz->disk_existing, TRUE);
    on_disk_mode(NULL, wz);
    return true;
}

static void on_drop(GtkWidget *w, GdkDragContext *ctx, int x, int y,
                    GtkSelectionData *sel, guint info, guint time,
                    gpointer data)
{
    Wizard *wz = data;
    g_auto(GStrv) uris = gtk_selection_data_get_uris(sel);
    bool ok = false;
    if (uris && uris[0]) {
        g_autofree char *path = g_filename_from_uri(uris[0], NULL, NULL);
        if (path) {
            ok = wz_take_file(wz, path);
        }
    }
    gtk_drag_finish(ctx, ok, FALSE, time);
}

static void wz_fill_summary(Wizard *wz)
{
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    MimicNewMachine c;
    wz_choices(wz, &c, keep);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, _("Name: %s\n"), c.name);
    g_string_append_printf(s, _("System: %s\n"),
                           gtk_combo_box_text_get_active_text(wz->os));
    g_string_append_printf(s, _("Memory: %u MiB\n"), c.memory_mib);
    switch (wz_disk_mode(wz)) {
    case DISK_NEW:
        g_string_append_printf(s, _("Hard disk: new %s image of %d GiB\n"
                                    "    %s\n"), c.disk_format,
                               gtk_spin_button_get_value_as_int(wz->disk_gib),
                               c.disk_path);
        break;
    case DISK_EXISTING:
        g_string_append_printf(s, _("Hard disk: %s (%s)\n"),
                               c.disk_path ? c.disk_path : "?",
                               c.disk_format);
        break;
    default:
        g_string_append(s, _("Hard disk: none\n"));
    }
    g_string_append_printf(s, _("CD/DVD: %s\n"),
                           *c.cdrom ? c.cdrom : _("empty drive"));
    g_string_append_printf(s, _("Boot order: %s\n"),
                           gtk_combo_box_text_get_active_text(wz->boot));
    g_autofree char *snd = gtk_combo_box_text_get_active_text(wz->sound);
    g_autofree char *net = gtk_combo_box_text_get_active_text(wz->nic);
    g_string_append_printf(s, _("Sound card: %s\n"), snd);
    if (g_strcmp0(c.nic, "none")) {
        g_string_append_printf(s, _("Network: %s, user networking (NAT)\n"),
                               net);
    } else {
        g_string_append_printf(s, _("Network: none\n"));
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_new_from_choices(
        &c, &err);
    g_autofree char *cmd = mf ? mimic_machine_file_command_line(mf) : NULL;
    mimic_command_view_set(wz->cmdline, cmd);
    if (!mf) {
        g_string_append_printf(s, _("\nProblem: %s\n"), err->message);
    }
    gtk_label_set_text(wz->summary, s->str);
    GtkWidget *page = gtk_assistant_get_nth_page(wz->as, 5);
    gtk_assistant_set_page_complete(wz->as, page, mf != NULL);
    g_string_free(s, TRUE);
}

static void on_prepare(GtkAssistant *as, GtkWidget *page, gpointer data)
{
    Wizard *wz = data;
    if (gtk_assistant_get_current_page(as) == 5) {
        wz_fill_summary(wz);
    }
}

static void wz_finish(Wizard *wz, const char *error)
{
    gtk_spinner_stop(wz->spinner);
    if (error) {
        wz->failed = true;
        g_autofree char *msg = g_strdup_printf(
            _("The machine was not created:\n%s"), error);
        gtk_label_set_text(wz->progress_label, msg);
        gtk_assistant_commit(wz->as);
        return;
    }
    gtk_assistant_set_page_complete(wz->as, wz->progress_page, TRUE);
    gtk_assistant_next_page(wz->as);
    gtk_assistant_commit(wz->as);
    mimic_library_refresh();
}

static void wz_save(Wizard *wz)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = mimic_library_dir();
    if (!mimic_machine_file_save(wz->created, dir, &err)) {
        wz_finish(wz, err->message);
        return;
    }
    wz_finish(wz, NULL);
}

static void on_disk_created(GError *error, gpointer data)
{
    Wizard *wz = data;
    if (error) {
        wz_finish(wz, error->message);
        return;
    }
    wz_save(wz);
}

static void on_apply(GtkAssistant *as, gpointer data)
{
    Wizard *wz = data;
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    MimicNewMachine c;
    wz_choices(wz, &c, keep);
    g_autoptr(GError) err = NULL;
    wz->created = mimic_machine_file_new_from_choices(&c, &err);
    if (!wz->created) {
        wz_finish(wz, err->message);
        return;
    }
    gtk_spinner_start(wz->spinner);
    if (wz_disk_mode(wz) == DISK_NEW) {
        if (g_file_test(c.disk_path, G_FILE_TEST_EXISTS)) {
            g_autofree char *msg = g_strdup_printf(
                _("%s exists already; it is left alone."), c.disk_path);
            wz_finish(wz, msg);
            return;
        }
        gtk_label_set_text(wz->progress_label, _("Creating the disk image…"));
        guint64 size = (guint64)gtk_spin_button_get_value_as_int(wz->disk_gib)
                       << 30;
        mimic_img_create(c.disk_path, c.disk_format, size, NULL, NULL, NULL,
                         on_disk_created, wz);
    } else {
        wz_save(wz);
    }
}

static void wz_free(Wizard *wz)
{
    if (wz->detect_cancel) {
        g_cancellable_cancel(wz->detect_cancel);
        g_object_unref(wz->detect_cancel);
    }
    mimic_os_guess_free(wz->guess);
    g_free(wz->disk_path);
    g_free(wz->cdrom_path);
    mimic_machine_file_free(wz->created);
    g_free(wz);
}

static void on_close(GtkAssistant *as, gpointer data)
{
    Wizard *wz = data;
    if (wz->created && !wz->failed &&
        gtk_toggle_button_get_active(wz->start_now)) {
        g_autoptr(GError) err = NULL;
        if (!mimic_machine_window_new(mimic_app_get(), wz->created->cfg,
                                      wz->created->cfg->name, &err)) {
            GtkWidget *d = gtk_message_dialog_new(
                NULL, 0, GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s",
                _("The machine could not start"));
            gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d),
                                                     "%s", err->message);
            g_signal_connect(d, "response", G_CALLBACK(gtk_widget_destroy),
                             NULL);
            gtk_widget_show(d);
        }
        mimic_library_refresh();
    }
    gtk_widget_destroy(GTK_WIDGET(as));
}

static void on_cancel(GtkAssistant *as, gpointer data)
{
    gtk_widget_destroy(GTK_WIDGET(as));
}

/*
 * GtkAssistant titles the window with the page's title; keep the
 * dialog's own name first, the page after it.
 */
static void on_title(GObject *obj, GParamSpec *ps, gpointer data)
{
    GtkWindow *w = GTK_WINDOW(obj);
    const char *t = gtk_window_get_title(w);
    const char *name = _("New Machine");
    if (t && g_str_has_prefix(t, name)) {
        return;
    }
    g_autofree char *full = t && *t ? g_strdup_printf("%s — %s", name, t)
                                    : g_strdup(name);
    gtk_window_set_title(w, full);
}

/*
 * GtkAssistant shows its Finish ("last") button on content pages only
 * when every later page is complete, so it comes and goes as the pages
 * change; the wizard walks its pages with Next and Apply on the summary,
 * so that button never shows.
 */
static void keep_hidden(GObject *obj, GParamSpec *ps, gpointer data)
{
    if (gtk_widget_get_visible(GTK_WIDGET(obj))) {
        gtk_widget_hide(GTK_WIDGET(obj));
    }
}

static void hide_finish_button(GtkWidget *w, gpointer data)
{
    if (GTK_IS_CONTAINER(w)) {
        gtk_container_forall(GTK_CONTAINER(w), hide_finish_button, data);
    }
    if (GTK_IS_BUTTON(w)) {
        const char *l = gtk_button_get_label(GTK_BUTTON(w));
        if (l && !strcmp(l, g_dgettext("gtk30", "_Finish"))) {
            gtk_widget_hide(w);
            g_signal_connect(w, "notify::visible", G_CALLBACK(keep_hidden),
                             NULL);
        }
    }
}

static void add_page(Wizard *wz, GtkWidget *w, const char *title,
                     GtkAssistantPageType type, bool complete)
{
    gtk_widget_show_all(w);
    gtk_assistant_append_page(wz->as, w);
    gtk_assistant_set_page_title(wz->as, w, title);
    gtk_assistant_set_page_type(wz->as, w, type);
    gtk_assistant_set_page_complete(wz->as, w, complete);
}

void mimic_wizard_run(GtkWindow *parent)
{
    mimic_wizard_run_with_file(parent, NULL);
}

void mimic_wizard_run_with_file(GtkWindow *parent, const char *path)
{
    Wizard *wz = g_new0(Wizard, 1);
    wz->as = GTK_ASSISTANT(gtk_assistant_new());
    gtk_window_set_title(GTK_WINDOW(wz->as), _("New Machine"));
    gtk_window_set_transient_for(GTK_WINDOW(wz->as), parent);
    gtk_window_set_modal(GTK_WINDOW(wz->as), TRUE);
    gtk_window_set_position(GTK_WINDOW(wz->as),
                            parent ? GTK_WIN_POS_CENTER_ON_PARENT
                                   : GTK_WIN_POS_CENTER);
    g_signal_connect(wz->as, "notify::title", G_CALLBACK(on_title), NULL);
    gtk_window_set_default_size(GTK_WINDOW(wz->as), 640, 420);
    g_object_set_data_full(G_OBJECT(wz->as), "wizard", wz,
                           (GDestroyNotify)wz_free);

    /* 0: name and system */
    GtkWidget *g = page_box();
    wz->name = GTK_ENTRY(gtk_entry_new());
    gtk_widget_set_hexpand(GTK_WIDGET(wz->name), TRUE);
    gtk_widget_set_name(GTK_WIDGET(wz->name), "machine-name");
    wz->os = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
    for (int i = 0; i < MIMIC_OS_COUNT; i++) {
        const MimicPreset *p = mimic_preset_get(i);
        gtk_combo_box_text_append(wz->os, p->id, _(p->label));
    }
    wz->name_error = GTK_LABEL(gtk_label_new(""));
    gtk_label_set_xalign(wz->name_error, 0);
    gtk_label_set_line_wrap(wz->name_error, TRUE);
    gtk_grid_attach(GTK_GRID(g), label(_("N_ame"), GTK_WIDGET(wz->name)),
                    0, 0, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->name), 1, 0, 1, 1);
    gtk_grid_attach(GTK_GRID(g), label(_("_System"), GTK_WIDGET(wz->os)),
                    0, 1, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->os), 1, 1, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->name_error), 1, 2, 1, 1);
    wz->detected_os0 = GTK_LABEL(gtk_label_new(""));
    gtk_label_set_xalign(wz->detected_os0, 0);
    gtk_label_set_line_wrap(wz->detected_os0, TRUE);
    gtk_label_set_max_width_chars(wz->detected_os0, 50);
    gtk_style_context_add_class(
        gtk_widget_get_style_context(GTK_WIDGET(wz->detected_os0)),
        "dim-label");
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->detected_os0), 1, 3, 1, 1);
    add_page(wz, g, _("Name and System"), GTK_ASSISTANT_PAGE_INTRO, false);

    /* 1: memory */
    g = page_box();
    unsigned host_mib = mimic_host_memory_mib();
    unsigned max_mib = host_mib ? MIN(65536, host_mib) : 65536;
    wz->memory = GTK_SPIN_BUTTON(gtk_spin_button_new_with_range(1, max_mib,
                                                                1));
    gtk_spin_button_set_numeric(wz->memory, TRUE);
    gtk_grid_attach(GTK_GRID(g), label(_("_Memory (MiB)"),
                                       GTK_WIDGET(wz->memory)), 0, 0, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->memory), 1, 0, 1, 1);
    g_autofree char *limits =
        host_mib ? g_strdup_printf(_("1 to %u MiB: this host has %u MiB"),
                                   max_mib, host_mib)
                 : g_strdup_printf(_("1 to %u MiB"), max_mib);
    GtkWidget *lim = gtk_label_new(limits);
    gtk_label_set_xalign(GTK_LABEL(lim), 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(lim),
                                "dim-label");
    gtk_grid_attach(GTK_GRID(g), lim, 1, 1, 1, 1);
    wz->sound = mimic_device_combo_new(mimic_sound_cards(), false, NULL);
    wz->nic = mimic_device_combo_new(mimic_nic_models(), true, NULL);
    gtk_grid_attach(GTK_GRID(g), label(_("_Sound card"),
                                       GTK_WIDGET(wz->sound)), 0, 2, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->sound), 1, 2, 1, 1);
    gtk_grid_attach(GTK_GRID(g), label(_("Net_work card"),
                                       GTK_WIDGET(wz->nic)), 0, 3, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->nic), 1, 3, 1, 1);
    GtkWidget *devs = gtk_label_new(_("The lists hold the devices Mimic "
                                      "emulates. The network card reaches "
                                      "the host's network through user "
                                      "networking (NAT); port forwards are "
                                      "in the machine's settings."));
    gtk_label_set_line_wrap(GTK_LABEL(devs), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(devs), 50);
    gtk_label_set_xalign(GTK_LABEL(devs), 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(devs),
                                "dim-label");
    gtk_grid_attach(GTK_GRID(g), devs, 1, 4, 1, 1);
    add_page(wz, g, _("Memory and Devices"), GTK_ASSISTANT_PAGE_CONTENT,
             true);

    /* 2: hard disk */
    g = page_box();
    GtkWidget *rnew = gtk_radio_button_new_with_mnemonic(NULL,
        _("Create a ne_w disk image"));
    GtkWidget *rold = gtk_radio_button_new_with_mnemonic_from_widget(
        GTK_RADIO_BUTTON(rnew), _("Use an _existing image"));
    GtkWidget *rnone = gtk_radio_button_new_with_mnemonic_from_widget(
        GTK_RADIO_BUTTON(rnew), _("N_o hard disk"));
    wz->disk_new = GTK_TOGGLE_BUTTON(rnew);
    wz->disk_existing = GTK_TOGGLE_BUTTON(rold);
    wz->disk_none = GTK_TOGGLE_BUTTON(rnone);
    wz->format = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
    gtk_combo_box_text_append(wz->format, "qcow2", _("QCOW2"));
    gtk_combo_box_text_append(wz->format, "qcow", _("QCOW version 1"));
    gtk_combo_box_text_append(wz->format, "raw", _("Raw"));
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(wz->format), "qcow2");
    wz->disk_gib = GTK_SPIN_BUTTON(gtk_spin_button_new_with_range(1, 2048,
                                                                  1));
    wz->disk_file = mimic_file_chooser_button_new(_("Choose a Disk Image"));
    mimic_add_image_filters(wz->disk_file, false);
    wz->disk_error = error_label();
    wz->detected_format = GTK_LABEL(gtk_label_new(""));
    gtk_grid_attach(GTK_GRID(g), rnew, 0, 0, 2, 1);
    gtk_grid_attach(GTK_GRID(g), label(_("_Size (GiB)"),
                                       GTK_WIDGET(wz->disk_gib)), 0, 1, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->disk_gib), 1, 1, 1, 1);
    gtk_grid_attach(GTK_GRID(g), label(_("_Format"), GTK_WIDGET(wz->format)),
                    0, 2, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->format), 1, 2, 1, 1);
    gtk_grid_attach(GTK_GRID(g), rold, 0, 3, 2, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->disk_file), 1, 4, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->detected_format), 1, 5, 1,
                    1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->disk_error), 1, 6, 1, 1);
    gtk_grid_attach(GTK_GRID(g), rnone, 0, 7, 2, 1);
    gtk_widget_set_hexpand(GTK_WIDGET(wz->disk_file), TRUE);
    add_page(wz, g, _("Hard Disk"), GTK_ASSISTANT_PAGE_CONTENT, true);

    /* 3: CD/DVD */
    g = page_box();
    wz->cdrom = mimic_file_chooser_button_new(_("Choose a CD/DVD Image"));
    mimic_add_image_filters(wz->cdrom, true);
    gtk_widget_set_hexpand(GTK_WIDGET(wz->cdrom), TRUE);
    GtkWidget *drop = gtk_label_new(_("Choose an installation image, or "
                                      "drop an .iso file here. Leave it "
                                      "empty for an empty drive."));
    gtk_label_set_line_wrap(GTK_LABEL(drop), TRUE);
    gtk_drag_dest_set(g, GTK_DEST_DEFAULT_ALL, NULL, 0, GDK_ACTION_COPY);
    gtk_drag_dest_add_uri_targets(g);
    g_signal_connect(g, "drag-data-received", G_CALLBACK(on_drop), wz);
    gtk_grid_attach(GTK_GRID(g), drop, 0, 0, 2, 1);
    gtk_grid_attach(GTK_GRID(g), label(_("CD/DVD _image"),
                                       GTK_WIDGET(wz->cdrom)), 0, 1, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->cdrom), 1, 1, 1, 1);
    wz->cdrom_error = error_label();
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->cdrom_error), 1, 2, 1, 1);
    wz->detected_os = GTK_LABEL(gtk_label_new(""));
    gtk_label_set_xalign(wz->detected_os, 0);
    gtk_label_set_line_wrap(wz->detected_os, TRUE);
    gtk_label_set_max_width_chars(wz->detected_os, 50);
    gtk_widget_set_name(GTK_WIDGET(wz->detected_os), "detected-os");
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->detected_os), 1, 3, 1, 1);
    wz->change_os = gtk_button_new_with_mnemonic(_("C_hange the System…"));
    gtk_widget_set_halign(wz->change_os, GTK_ALIGN_START);
    gtk_widget_set_no_show_all(wz->change_os, TRUE);
    g_signal_connect(wz->change_os, "clicked", G_CALLBACK(on_change_os), wz);
    gtk_grid_attach(GTK_GRID(g), wz->change_os, 1, 4, 1, 1);
    add_page(wz, g, _("CD/DVD"), GTK_ASSISTANT_PAGE_CONTENT, true);

    /* 4: boot order */
    g = page_box();
    wz->boot = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
    gtk_combo_box_text_append(wz->boot, "dc", _("CD/DVD, then hard disk"));
    gtk_combo_box_text_append(wz->boot, "cd", _("Hard disk, then CD/DVD"));
    gtk_combo_box_text_append(wz->boot, "c", _("Hard disk only"));
    gtk_combo_box_text_append(wz->boot, "acd",
                              _("Floppy, hard disk, then CD/DVD"));
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(wz->boot), "dc");
    gtk_grid_attach(GTK_GRID(g), label(_("Boot _from"), GTK_WIDGET(wz->boot)),
                    0, 0, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->boot), 1, 0, 1, 1);
    add_page(wz, g, _("Boot Order"), GTK_ASSISTANT_PAGE_CONTENT, true);

    /* 5: summary */
    wz->summary = GTK_LABEL(gtk_label_new(""));
    gtk_label_set_xalign(wz->summary, 0);
    gtk_label_set_yalign(wz->summary, 0);
    gtk_label_set_line_wrap(wz->summary, TRUE);
    gtk_label_set_line_wrap_mode(wz->summary, PANGO_WRAP_WORD);
    GtkWidget *sbox = page_box();
    gtk_grid_attach(GTK_GRID(sbox), GTK_WIDGET(wz->summary), 0, 0, 1, 1);
    GtkWidget *cl = gtk_label_new(_("Command line:"));
    gtk_label_set_xalign(GTK_LABEL(cl), 0);
    gtk_grid_attach(GTK_GRID(sbox), cl, 0, 1, 1, 1);
    GtkWidget *cmdview = mimic_command_view_new(&wz->cmdline);
    gtk_widget_set_hexpand(cmdview, TRUE);
    gtk_grid_attach(GTK_GRID(sbox), cmdview, 0, 2, 1, 1);
    add_page(wz, sbox, _("Summary"), GTK_ASSISTANT_PAGE_CONFIRM, true);

    /* 6: progress */
    g = page_box();
    wz->spinner = GTK_SPINNER(gtk_spinner_new());
    wz->progress_label = GTK_LABEL(gtk_label_new(_("Creating the machine…")));
    gtk_label_set_line_wrap(wz->progress_label, TRUE);
    gtk_label_set_selectable(wz->progress_label, TRUE);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->spinner), 0, 0, 1, 1);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->progress_label), 1, 0, 1, 1);
    wz->progress_page = g;
    add_page(wz, g, _("Creating"), GTK_ASSISTANT_PAGE_PROGRESS, false);

    /* 7: done */
    g = page_box();
    gtk_grid_attach(GTK_GRID(g), gtk_label_new(_("The machine is ready.")),
                    0, 0, 1, 1);
    wz->start_now = GTK_TOGGLE_BUTTON(gtk_check_button_new_with_mnemonic(
        _("_Start the machine now")));
    gtk_toggle_button_set_active(wz->start_now, TRUE);
    gtk_grid_attach(GTK_GRID(g), GTK_WIDGET(wz->start_now), 0, 1, 1, 1);
    wz->done_page = g;
    add_page(wz, g, _("Done"), GTK_ASSISTANT_PAGE_SUMMARY, true);

    g_signal_connect(wz->name, "changed", G_CALLBACK(on_name_changed), wz);
    g_signal_connect(wz->os, "changed", G_CALLBACK(on_os_changed), wz);
    g_signal_connect(rnew, "toggled", G_CALLBACK(on_disk_mode), wz);
    g_signal_connect(rold, "toggled", G_CALLBACK(on_disk_mode), wz);
    g_signal_connect(rnone, "toggled", G_CALLBACK(on_disk_mode), wz);
    g_signal_connect(wz->disk_file, "file-set", G_CALLBACK(on_disk_file_set),
                     wz);
    g_signal_connect(wz->cdrom, "file-set", G_CALLBACK(on_cdrom_file_set),
                     wz);
    g_signal_connect(wz->as, "prepare", G_CALLBACK(on_prepare), wz);
    g_signal_connect(wz->as, "apply", G_CALLBACK(on_apply), wz);
    g_signal_connect(wz->as, "close", G_CALLBACK(on_close), wz);
    g_signal_connect(wz->as, "cancel", G_CALLBACK(on_cancel), wz);

    gtk_combo_box_set_active(GTK_COMBO_BOX(wz->os), MIMIC_OS_LINUX);
    on_disk_mode(NULL, wz);
    wz_check_name(wz);
    /* Drops anywhere in the wizard, not only on its CD/DVD page. */
    gtk_drag_dest_set(GTK_WIDGET(wz->as), GTK_DEST_DEFAULT_ALL, NULL, 0,
                      GDK_ACTION_COPY);
    gtk_drag_dest_add_uri_targets(GTK_WIDGET(wz->as));
    g_signal_connect(wz->as, "drag-data-received", G_CALLBACK(on_drop), wz);
    gtk_container_forall(GTK_CONTAINER(wz->as), hide_finish_button, NULL);
    if (path && !wz_take_file(wz, path)) {
        g_printerr("mimic: %s: cannot use this file\n", path);
    }
    gtk_widget_show(GTK_WIDGET(wz->as));
}
