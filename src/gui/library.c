/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine library window: one card per machine file (name, OS type,
 * state, a thumbnail of its last screen) with Start/Resume, Settings,
 * Clone and Delete.  Files that fail validation are listed in an info bar
 * and left untouched on disk; the other machines show as usual.
 */
#include "gui/gui_internal.h"

#include <string.h>
#include <glib/gstdio.h>

typedef struct Library {
    GtkApplicationWindow *win;
    GtkBuilder *builder;
    GtkFlowBox *cards;
    GtkStack *stack;
    GtkInfoBar *errors_bar;
    GtkLabel *errors_label;
    GPtrArray *machines; /* MimicMachineFile* */
    char *dir;
} Library;

static Library *the_library;

static const char *os_label(MimicOsType os)
{
    switch (os) {
    case MIMIC_OS_LINUX:
        return _("Linux");
    case MIMIC_OS_DOS:
        return _("DOS / FreeDOS");
    case MIMIC_OS_WIN9X:
        return _("Windows 95/98");
    case MIMIC_OS_WINNT:
        return _("Windows 2000/XP");
    default:
        return _("Other");
    }
}

static void lib_error(Library *lib, const char *what, const char *msg)
{
    GtkWidget *d = gtk_message_dialog_new(GTK_WINDOW(lib->win),
                                          GTK_DIALOG_MODAL, GTK_MESSAGE_ERROR,
                                          GTK_BUTTONS_CLOSE, "%s", what);
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s",
                                             msg);
    gtk_dialog_run(GTK_DIALOG(d));
    gtk_widget_destroy(d);
}

static MimicMachineFile *lib_find(Library *lib, const char *name)
{
    for (guint i = 0; i < lib->machines->len; i++) {
        MimicMachineFile *mf = g_ptr_array_index(lib->machines, i);
        if (!strcmp(mf->cfg->name, name)) {
            return mf;
        }
    }
    return NULL;
}

/* ---- card actions (the button's "machine" data names the machine) ---- */

static const char *button_machine(GtkWidget *b)
{
    return g_object_get_data(G_OBJECT(b), "machine");
}

static void on_start(GtkWidget *b, gpointer data)
{
    Library *lib = data;
    const char *name = button_machine(b);
    GtkWindow *w = mimic_machine_window_find(name);
    if (w) {
        if (mimic_machine_window_state(name) == MIMIC_STATE_PAUSED) {
            g_action_group_activate_action(G_ACTION_GROUP(w), "pause", NULL);
        }
        gtk_window_present(w);
        return;
    }
    if (!lib_find(lib, name)) {
        return;
    }
    /* The machine as its file says now (it may have changed since the
       cards were drawn). */
    g_autoptr(GError) err = NULL;
    g_autofree char *path = mimic_machine_file_path(lib->dir, name);
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_load(path, &err);
    if (!mf) {
        lib_error(lib, _("The machine could not start"), err->message);
        mimic_library_refresh();
        return;
    }
    if (!mimic_machine_window_new(mimic_app_get(), mf->cfg, mf->cfg->name,
                                  &err) &&
        !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        lib_error(lib, _("The machine could not start"), err->message);
    }
    mimic_library_refresh();
}

/* Enter on a card (or a double click) starts it, as its Start button. */
static void on_card_activated(GtkFlowBox *fb, GtkFlowBoxChild *child,
                              gpointer data)
{
    GtkWidget *card = gtk_bin_get_child(GTK_BIN(child));
    if (card && button_machine(card)) {
        on_start(card, data);
    }
}

static void on_settings(GtkWidget *b, gpointer data)
{
    Library *lib = data;
    MimicMachineFile *mf = lib_find(lib, button_machine(b));
    GtkWindow *open = mf ? mimic_machine_window_find(mf->cfg->name) : NULL;
    if (open) {
        /* Say why, rather than a greyed-out button that says nothing. */
        GtkWidget *d = gtk_message_dialog_new(
            GTK_WINDOW(lib->win), GTK_DIALOG_MODAL, GTK_MESSAGE_INFO,
            GTK_BUTTONS_NONE, _("The machine is open"));
        gtk_window_set_title(GTK_WINDOW(d), _("Settings"));
        gtk_message_dialog_format_secondary_text(
            GTK_MESSAGE_DIALOG(d),
            _("Its settings can be changed once it is powered off and its "
              "window closed. Media (CD/DVD, floppy) can be changed while "
              "it runs, from its Devices menu."));
        gtk_dialog_add_buttons(GTK_DIALOG(d), _("_Close"),
                               GTK_RESPONSE_CLOSE, _("_Show Machine"),
                               GTK_RESPONSE_ACCEPT, NULL);
        int r = gtk_dialog_run(GTK_DIALOG(d));
        gtk_widget_destroy(d);
        if (r == GTK_RESPONSE_ACCEPT) {
            gtk_window_present(open);
        }
        return;
    }
    if (mf) {
        mimic_settings_run(GTK_WINDOW(lib->win), mf);
        mimic_library_refresh();
    }
}

/*
 * win.card-settings (Alt+Return): the settings of the card that has the
 * focus (the card or one of its buttons), unless its machine is open, as
 * the card's Settings button.
 */
static void act_card_settings(GSimpleAction *a, GVariant *p, gpointer data)
{
    Library *lib = data;
    GtkWidget *w = gtk_window_get_focus(GTK_WINDOW(lib->win));
    const char *name = NULL;
    for (; w && !name; w = gtk_widget_get_parent(w)) {
        name = button_machine(w);
        if (!name && GTK_IS_FLOW_BOX_CHILD(w) &&
            gtk_bin_get_child(GTK_BIN(w))) {
            name = button_machine(gtk_bin_get_child(GTK_BIN(w)));
        }
    }
    MimicMachineFile *mf = name ? lib_find(lib, name) : NULL;
    if (mf && !mimic_machine_window_find(name)) {
        mimic_settings_run(GTK_WINDOW(lib->win), mf);
        mimic_library_refresh();
    }
}

static void on_discard_state(GtkWidget *b, gpointer data)
{
    Library *lib = data;
    const char *name = button_machine(b);
    if (!mimic_machine_has_state(lib->dir, name)) {
        return;
    }
    GtkWidget *d = gtk_message_dialog_new(
        GTK_WINDOW(lib->win), GTK_DIALOG_MODAL, GTK_MESSAGE_QUESTION,
        GTK_BUTTONS_NONE, _("Discard the saved state of “%s”?"), name);
    gtk_window_set_title(GTK_WINDOW(d), _("Discard Saved State"));
    gtk_message_dialog_format_secondary_text(
        GTK_MESSAGE_DIALOG(d),
        _("The machine then starts afresh, as if it had been turned off: "
          "whatever was not saved inside the guest is lost."));
    gtk_dialog_add_buttons(GTK_DIALOG(d), _("_Cancel"), GTK_RESPONSE_CANCEL,
                           _("_Discard"), GTK_RESPONSE_OK, NULL);
    GtkWidget *del = gtk_dialog_get_widget_for_response(GTK_DIALOG(d),
                                                        GTK_RESPONSE_OK);
    gtk_style_context_add_class(gtk_widget_get_style_context(del),
                                "destructive-action");
    int r = gtk_dialog_run(GTK_DIALOG(d));
    gtk_widget_destroy(d);
    g_autoptr(GError) err = NULL;
    if (r == GTK_RESPONSE_OK &&
        !mimic_machine_discard_state(lib->dir, name, &err)) {
        lib_error(lib, _("The saved state could not be discarded"),
                  err->message);
    }
    mimic_library_refresh();
}

static char *unique_name(Library *lib, const char *base)
{
    for (int i = 1; i < 1000; i++) {
        g_autofree char *n = i == 1 ? g_strdup_printf("%s copy", base)
                                    : g_strdup_printf("%s copy %d", base, i);
        g_autofree char *path = mimic_machine_file_path(lib->dir, n);
        if (strlen(n) <= 64 && !g_file_test(path, G_FILE_TEST_EXISTS)) {
            return g_steal_pointer(&n);
        }
    }
    return NULL;
}

/* A copy of an image next to it; sparse, and shared blocks if possible. */
static bool copy_image(const char *src, const char *dst, GError **error)
{
    g_autoptr(GSubprocess) p = g_subprocess_new(
        G_SUBPROCESS_FLAGS_STDERR_MERGE, error, "cp", "--sparse=always",
        "--reflink=auto", "--", src, dst, NULL);
    return p && g_subprocess_wait_check(p, NULL, error);
}

static void on_clone(GtkWidget *b, gpointer data)
{
    Library *lib = data;
    MimicMachineFile *mf = lib_find(lib, button_machine(b));
    if (!mf) {
        return;
    }
    g_autofree char *name = unique_name(lib, mf->cfg->name);
    if (!name) {
        return;
    }
    g_autoptr(MimicMachineFile) copy = g_new0(MimicMachineFile, 1);
    copy->os = mf->os;
    copy->cfg = machine_config_copy(mf->cfg);
    g_free(copy->cfg->name);
    copy->cfg->name = g_strdup(name);
    /* Hard disks are copied: two machines must not write one image. */
    for (int i = 0; i < copy->cfg->n_drives; i++) {
        DriveConfig *d = &copy->cfg->drives[i];
        if (d->interface != DRIVE_IF_IDE || d->media != DRIVE_MEDIA_DISK ||
            !d->file) {
            continue;
        }
        g_autofree char *dir = g_path_get_dirname(d->file);
        g_autofree char *base = g_strdup_printf("%s-%d.%s", name, d->index,
                                                d->format ? d->format
                                                          : "img");
        g_autofree char *dst = g_build_filename(dir, base, NULL);
        g_autoptr(GError) err = NULL;
        if (g_file_test(dst, G_FILE_TEST_EXISTS) ||
            !copy_image(d->file, dst, &err)) {
            lib_error(lib, _("The disk image could not be copied"),
                      err ? err->message : dst);
            return;
        }
        g_free(d->file);
        d->file = g_steal_pointer(&dst);
    }
    g_autoptr(GError) err = NULL;
    if (!mimic_machine_file_save(copy, lib->dir, &err)) {
        lib_error(lib, _("The machine could not be saved"), err->message);
    }
    mimic_library_refresh();
}

static void on_delete(GtkWidget *b, gpointer data)
{
    Library *lib = data;
    MimicMachineFile *mf = lib_find(lib, button_machine(b));
    if (!mf) {
        return;
    }
    if (mimic_machine_window_find(mf->cfg->name)) {
        lib_error(lib, _("The machine is open"),
                  _("Close its window before deleting it."));
        return;
    }
    GtkWidget *d = gtk_message_dialog_new(
        GTK_WINDOW(lib->win), GTK_DIALOG_MODAL, GTK_MESSAGE_QUESTION,
        GTK_BUTTONS_NONE, _("Delete the machine “%s”?"), mf->cfg->name);
    gtk_message_dialog_format_secondary_text(
        GTK_MESSAGE_DIALOG(d),
        mimic_machine_has_state(lib->dir, mf->cfg->name)
            ? _("Its settings and its saved state are removed. Its disk "
                "images are kept unless you tick the box.")
            : _("Its settings are removed. Its disk images are kept unless "
                "you tick the box."));
    GtkWidget *check = gtk_check_button_new_with_mnemonic(
        _("Also delete its hard disk _images"));
    GString *list = g_string_new(NULL);
    for (int i = 0; i < mf->cfg->n_drives; i++) {
        DriveConfig *dr = &mf->cfg->drives[i];
        if (dr->media == DRIVE_MEDIA_DISK &&
            dr->interface == DRIVE_IF_IDE && dr->file) {
            g_string_append_printf(list, "%s\n", dr->file);
        }
    }
    gtk_widget_set_tooltip_text(check, list->str);
    gtk_widget_set_sensitive(check, list->len > 0);
    gtk_container_add(GTK_CONTAINER(gtk_message_dialog_get_message_area(
                          GTK_MESSAGE_DIALOG(d))),
                      check);
    gtk_widget_show(check);
    gtk_dialog_add_buttons(GTK_DIALOG(d), _("_Cancel"), GTK_RESPONSE_CANCEL,
                           _("_Delete"), GTK_RESPONSE_OK, NULL);
    GtkWidget *del = gtk_dialog_get_widget_for_response(GTK_DIALOG(d),
                                                        GTK_RESPONSE_OK);
    gtk_style_context_add_class(gtk_widget_get_style_context(del),
                                "destructive-action");
    int r = gtk_dialog_run(GTK_DIALOG(d));
    bool images = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(check));
    gtk_widget_destroy(d);
    if (r == GTK_RESPONSE_OK) {
        g_autofree char *path = mimic_machine_file_path(lib->dir,
                                                        mf->cfg->name);
        g_autofree char *thumb = mimic_thumbnail_path(mf->cfg->name);
        if (images) {
            for (int i = 0; i < mf->cfg->n_drives; i++) {
                DriveConfig *dr = &mf->cfg->drives[i];
                if (dr->media == DRIVE_MEDIA_DISK &&
                    dr->interface == DRIVE_IF_IDE && dr->file) {
                    g_unlink(dr->file);
                }
            }
        }
        g_unlink(path);
        g_unlink(thumb);
        mimic_machine_discard_state(lib->dir, mf->cfg->name, NULL);
        mimic_library_refresh();
    }
    g_string_free(list, TRUE);
}

static GtkWidget *card_button(Library *lib, const char *icon,
                              const char *tip, const char *name,
                              GCallback cb)
{
    GtkWidget *b = gtk_button_new_from_icon_name(icon, GTK_ICON_SIZE_BUTTON);
    gtk_widget_set_tooltip_text(b, tip);
    g_object_set_data_full(G_OBJECT(b), "machine", g_strdup(name), g_free);
    g_signal_connect(b, "clicked", cb, lib);
    AtkObject *acc = gtk_widget_get_accessible(b);
    atk_object_set_name(acc, tip);
    return b;
}

static GtkWidget *card_new(Library *lib, MimicMachineFile *mf)
{
    const char *name = mf->cfg->name;
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    gtk_style_context_add_class(gtk_widget_get_style_context(box),
                                "machine-card");
    g_object_set_data_full(G_OBJECT(box), "machine", g_strdup(name), g_free);
    g_autofree char *thumb = mimic_thumbnail_path(name);
    g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_file_at_scale(
        thumb, 200, 150, TRUE, NULL);
    GtkWidget *img = pb ? gtk_image_new_from_pixbuf(pb)
                        : gtk_image_new_from_icon_name("org.mimic.Mimic",
                                                       GTK_ICON_SIZE_DIALOG);
    gtk_widget_set_size_request(img, 200, 150);
    gtk_container_add(GTK_CONTAINER(box), img);
    GtkWidget *l = gtk_label_new(name);
    gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
    gtk_style_context_add_class(gtk_widget_get_style_context(l),
                                "machine-name");
    gtk_container_add(GTK_CONTAINER(box), l);
    gtk_container_add(GTK_CONTAINER(box), gtk_label_new(os_label(mf->os)));
    /* What it has: memory, its first disk's size, when it was saved. */
    GString *det = g_string_new(NULL);
    g_string_append_printf(det, _("%u MiB"),
                           (unsigned)(mf->cfg->ram_size >> 20));
    for (int i = 0; i < mf->cfg->n_drives; i++) {
        const DriveConfig *d = &mf->cfg->drives[i];
        GStatBuf sb;
        if (d->media == DRIVE_MEDIA_DISK && d->interface == DRIVE_IF_IDE &&
            d->file && g_stat(d->file, &sb) == 0) {
            g_autofree char *sz = g_format_size((guint64)sb.st_size);
            g_string_append_printf(det, _(" · disk %s"), sz);
            break;
        }
    }
    g_autofree char *state_file = mimic_machine_state_path(lib->dir, name);
    GStatBuf ss;
    if (g_stat(state_file, &ss) == 0) {
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(ss.st_mtime);
        g_autofree char *when = t ? g_date_time_format(t, "%x %H:%M") : NULL;
        if (when) {
            g_string_append_printf(det, _(" · saved %s"), when);
        }
    }
    GtkWidget *dl = gtk_label_new(det->str);
    gtk_style_context_add_class(gtk_widget_get_style_context(dl),
                                "dim-label");
    gtk_container_add(GTK_CONTAINER(box), dl);
    g_object_set_data_full(G_OBJECT(box), "details",
                           g_string_free(det, FALSE), g_free);
    MimicRunState st = mimic_machine_window_state(name);
    bool open = mimic_machine_window_find(name) != NULL;
    bool alive = open && (st == MIMIC_STATE_RUNNING ||
                          st == MIMIC_STATE_PAUSED);
    bool saved = !alive && mimic_machine_has_state(lib->dir, name);
    const char *state = saved ? _("Saved")
                        : !open ? _("Powered off")
                        : st == MIMIC_STATE_RUNNING ? _("Running")
                        : st == MIMIC_STATE_PAUSED  ? _("Paused")
                                                    : _("Open");
    GtkWidget *sl = gtk_label_new(state);
    gtk_style_context_add_class(gtk_widget_get_style_context(sl),
                                "dim-label");
    gtk_container_add(GTK_CONTAINER(box), sl);
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(row), "linked");
    gtk_widget_set_halign(row, GTK_ALIGN_CENTER);
    bool paused = open && st == MIMIC_STATE_PAUSED;
    const char *start = paused || (saved && !open) ? _("Resume")
                        : open                     ? _("Show")
                                                   : _("Start");
    GtkWidget *sb = card_button(lib, "media-playback-start-symbolic", start,
                                name, G_CALLBACK(on_start));
    if (saved && !open) {
        /* Say it on the button too: Start continues where it was. */
        gtk_button_set_label(GTK_BUTTON(sb), start);
        gtk_button_set_always_show_image(GTK_BUTTON(sb), TRUE);
    }
    gtk_container_add(GTK_CONTAINER(row), sb);
    g_object_set_data_full(G_OBJECT(box), "start-label", g_strdup(start),
                           g_free);
    g_object_set_data_full(G_OBJECT(box), "state-label", g_strdup(state),
                           g_free);
    GtkWidget *settings = card_button(
        lib, "emblem-system-symbolic",
        open ? _("Settings (the machine must be powered off to change "
                 "them)")
             : _("Settings"),
        name, G_CALLBACK(on_settings));
    gtk_container_add(GTK_CONTAINER(row), settings);
    gtk_container_add(GTK_CONTAINER(row),
        card_button(lib, "edit-copy-symbolic", _("Clone"), name,
                    G_CALLBACK(on_clone)));
    if (saved) {
        GtkWidget *discard = card_button(lib, "edit-clear-all-symbolic",
                                         _("Discard Saved State"), name,
                                         G_CALLBACK(on_discard_state));
        gtk_widget_set_sensitive(discard, !open);
        gtk_container_add(GTK_CONTAINER(row), discard);
    }
    gtk_container_add(GTK_CONTAINER(row),
        card_button(lib, "user-trash-symbolic", _("Delete"), name,
                    G_CALLBACK(on_delete)));
    gtk_container_add(GTK_CONTAINER(box), row);
    gtk_widget_show_all(box);
    return box;
}

/*
 * MIMIC_GUI_CARDS_DUMP=PATH (for tests that drive the real application):
 * after each refresh, PATH holds one line per card, "NAME<TAB>STATE<TAB>
 * START BUTTON", written atomically.
 */
static void lib_dump_cards(Library *lib)
{
    const char *path = g_getenv("MIMIC_GUI_CARDS_DUMP");
    if (!path || !*path) {
        return;
    }
    GString *s = g_string_new(NULL);
    GList *children = gtk_container_get_children(GTK_CONTAINER(lib->cards));
    for (GList *l = children; l; l = l->next) {
        GtkWidget *card = gtk_bin_get_child(GTK_BIN(l->data));
        if (!card) {
            continue;
        }
        GObject *o = G_OBJECT(card);
        g_string_append_printf(s, "%s\t%s\t%s\n",
                               (char *)g_object_get_data(o, "machine"),
                               (char *)g_object_get_data(o, "state-label"),
                               (char *)g_object_get_data(o, "start-label"));
    }
    /* The cards' detail lines, beside it (PATH.details). */
    GString *d = g_string_new(NULL);
    for (GList *l = children; l; l = l->next) {
        GtkWidget *card = gtk_bin_get_child(GTK_BIN(l->data));
        if (card) {
            g_string_append_printf(
                d, "%s\t%s\n",
                (char *)g_object_get_data(G_OBJECT(card), "machine"),
                (char *)g_object_get_data(G_OBJECT(card), "details"));
        }
    }
    g_list_free(children);
    g_autofree char *dpath = g_strconcat(path, ".details", NULL);
    g_file_set_contents(dpath, d->str, d->len, NULL);
    g_string_free(d, TRUE);
    g_file_set_contents(path, s->str, s->len, NULL);
    g_string_free(s, TRUE);
}

void mimic_library_refresh(void)
{
    Library *lib = the_library;
    if (!lib) {
        return;
    }
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_unref(lib->machines);
    lib->machines = mimic_library_load(lib->dir, errors);
    GList *children = gtk_container_get_children(GTK_CONTAINER(lib->cards));
    for (GList *l = children; l; l = l->next) {
        gtk_widget_destroy(l->data);
    }
    g_list_free(children);
    for (guint i = 0; i < lib->machines->len; i++) {
        gtk_flow_box_insert(lib->cards,
                            card_new(lib, g_ptr_array_index(lib->machines, i)),
                            -1);
    }
    gtk_stack_set_visible_child_name(lib->stack,
                                     lib->machines->len ? "cards" : "empty");
    lib_dump_cards(lib);
    if (errors->len) {
        g_ptr_array_add(errors, NULL);
        g_autofree char *joined = g_strjoinv("\n", (char **)errors->pdata);
        g_autofree char *msg = g_strdup_printf(
            _("These machine files were not loaded (they are left as they "
              "are):\n%s"), joined);
        gtk_label_set_text(lib->errors_label, msg);
        gtk_widget_show(GTK_WIDGET(lib->errors_bar));
    } else {
        gtk_widget_hide(GTK_WIDGET(lib->errors_bar));
    }
}

static void lib_destroy(GtkWidget *w, gpointer data)
{
    Library *lib = data;
    if (the_library == lib) {
        the_library = NULL;
    }
    g_ptr_array_unref(lib->machines);
    g_object_unref(lib->builder);
    g_free(lib->dir);
    g_free(lib);
}

static void on_errors_response(GtkInfoBar *bar, int response, gpointer data)
{
    gtk_widget_hide(GTK_WIDGET(bar));
}

/* An ISO or disk image dropped on the library: a new machine for it. */
static void on_lib_drop(GtkWidget *w, GdkDragContext *ctx, int x, int y,
                        GtkSelectionData *sel, guint info, guint time,
                        gpointer data)
{
    Library *lib = data;
    g_auto(GStrv) uris = gtk_selection_data_get_uris(sel);
    g_autofree char *path = uris && uris[0]
                                ? g_filename_from_uri(uris[0], NULL, NULL)
                                : NULL;
    gtk_drag_finish(ctx, path != NULL, FALSE, time);
    if (path) {
        mimic_wizard_run_with_file(GTK_WINDOW(lib->win), path);
    }
}

GtkWindow *mimic_library_window_new(GtkApplication *app)
{
    if (the_library) {
        return GTK_WINDOW(the_library->win);
    }
    Library *lib = g_new0(Library, 1);
    the_library = lib;
    lib->dir = mimic_library_dir();
    lib->machines = g_ptr_array_new();
    lib->win = GTK_APPLICATION_WINDOW(gtk_application_window_new(app));
    gtk_window_set_title(GTK_WINDOW(lib->win), _("Mimic"));
    gtk_window_set_default_size(GTK_WINDOW(lib->win), 800, 560);
    lib->builder = gtk_builder_new_from_resource(
        "/org/mimic/Mimic/ui/library.ui");
#define OBJ(n) gtk_builder_get_object(lib->builder, n)
    gtk_window_set_titlebar(GTK_WINDOW(lib->win), GTK_WIDGET(OBJ("headerbar")));
    gtk_container_add(GTK_CONTAINER(lib->win), GTK_WIDGET(OBJ("content")));
    lib->cards = GTK_FLOW_BOX(OBJ("cards"));
    lib->stack = GTK_STACK(OBJ("stack"));
    lib->errors_bar = GTK_INFO_BAR(OBJ("errors-bar"));
    lib->errors_label = GTK_LABEL(OBJ("errors-label"));
#undef OBJ
    g_signal_connect(lib->cards, "child-activated",
                     G_CALLBACK(on_card_activated), lib);
    g_signal_connect(lib->errors_bar, "response",
                     G_CALLBACK(on_errors_response), NULL);
    g_signal_connect(lib->win, "destroy", G_CALLBACK(lib_destroy), lib);
    static const GActionEntry win_actions[] = {
        { "card-settings", act_card_settings, NULL, NULL, NULL, { 0 } },
    };
    g_action_map_add_action_entries(G_ACTION_MAP(lib->win), win_actions,
                                    G_N_ELEMENTS(win_actions), lib);
    gtk_drag_dest_set(GTK_WIDGET(lib->win), GTK_DEST_DEFAULT_ALL, NULL, 0,
                      GDK_ACTION_COPY);
    gtk_drag_dest_add_uri_targets(GTK_WIDGET(lib->win));
    g_signal_connect(lib->win, "drag-data-received", G_CALLBACK(on_lib_drop),
                     lib);
    mimic_library_refresh();
    gtk_widget_show(GTK_WIDGET(lib->win));
    return GTK_WINDOW(lib->win);
}
