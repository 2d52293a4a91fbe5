/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The GtkApplication (org.mimic.Mimic): entry points for main(),
 * application-wide actions and accelerators, the About dialog and the
 * keyboard-shortcuts window, gettext set-up, and small helpers shared by
 * the windows.  See docs/gui.md.
 */
#include "mimic-config.h"

#include "gui/gui.h"
#include "gui/gui_internal.h"

#include <locale.h>
#include <string.h>

/* From gnome.compile_resources (mimic-resources.c, --manual-register). */
void mimic_register_resource(void);

static GtkApplication *the_app;
static MachineConfig *start_cfg; /* NULL: open the library */
static int app_status;

GtkApplication *mimic_app_get(void)
{
    return the_app;
}

char *mimic_thumbnail_path(const char *name)
{
    g_autofree char *base = g_strdup_printf("%s.png", name);
    return g_build_filename(g_get_user_cache_dir(), "mimic", "thumbnails",
                            base, NULL);
}

/*
 * A helper program of ours: beside the running binary's build tree
 * (build/src/mimic -> build/src/images/mimic-img), beside the binary,
 * then PATH.
 */
char *mimic_app_find_tool(const char *name)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    if (self) {
        g_autofree char *dir = g_path_get_dirname(self);
        char *cands[] = {
            g_build_filename(dir, "images", name, NULL),
            g_build_filename(dir, "..", "images", name, NULL),
            g_build_filename(dir, "..", "..", "src", "images", name, NULL),
            g_build_filename(dir, name, NULL),
        };
        char *found = NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(cands); i++) {
            if (!found && g_file_test(cands[i], G_FILE_TEST_IS_EXECUTABLE) &&
                !g_file_test(cands[i], G_FILE_TEST_IS_DIR)) {
                found = g_strdup(cands[i]);
            }
            g_free(cands[i]);
        }
        if (found) {
            return found;
        }
    }
    return g_find_program_in_path(name);
}

void mimic_add_image_filters(GtkFileChooser *fc, bool cdrom)
{
    GtkFileFilter *f = gtk_file_filter_new();
    if (cdrom) {
        gtk_file_filter_set_name(f, _("CD/DVD images (*.iso)"));
        gtk_file_filter_add_pattern(f, "*.iso");
        gtk_file_filter_add_pattern(f, "*.ISO");
    } else {
        gtk_file_filter_set_name(f, _("Disk images (*.qcow2, *.qcow, "
                                      "*.img, *.raw)"));
        gtk_file_filter_add_pattern(f, "*.qcow2");
        gtk_file_filter_add_pattern(f, "*.qcow");
        gtk_file_filter_add_pattern(f, "*.img");
        gtk_file_filter_add_pattern(f, "*.ima");
        gtk_file_filter_add_pattern(f, "*.raw");
    }
    gtk_file_chooser_add_filter(fc, f);
    GtkFileFilter *all = gtk_file_filter_new();
    gtk_file_filter_set_name(all, _("All files"));
    gtk_file_filter_add_pattern(all, "*");
    gtk_file_chooser_add_filter(fc, all);
}

/*
 * GTK 3's file chooser moves the focus to its location entry (Ctrl+L, or
 * a typed "/") before that entry is realized; keys typed at once then
 * reach gtk_widget_event() on an unrealized widget (a Gtk-CRITICAL, and
 * the key is lost).  Realize the focus widget before the key goes on.
 */
static gboolean chooser_key(GtkWidget *w, GdkEventKey *ev, gpointer data)
{
    GtkWidget *focus = gtk_window_get_focus(GTK_WINDOW(w));
    if (focus && !gtk_widget_get_realized(focus) &&
        gtk_widget_get_visible(focus) && gtk_widget_get_realized(w)) {
        gtk_widget_realize(focus);
    }
    return FALSE;
}

GtkWidget *mimic_file_chooser_dialog_new(const char *title,
                                         GtkWindow *parent)
{
    GtkWidget *d = gtk_file_chooser_dialog_new(
        title, parent, GTK_FILE_CHOOSER_ACTION_OPEN, _("_Cancel"),
        GTK_RESPONSE_CANCEL, _("_Open"), GTK_RESPONSE_ACCEPT, NULL);
    gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT);
    g_signal_connect(d, "key-press-event", G_CALLBACK(chooser_key), NULL);
    g_signal_connect(d, "key-release-event", G_CALLBACK(chooser_key), NULL);
    return d;
}

GtkFileChooser *mimic_file_chooser_button_new(const char *title)
{
    GtkWidget *d = mimic_file_chooser_dialog_new(title, NULL);
    gtk_window_set_modal(GTK_WINDOW(d), TRUE);
    return GTK_FILE_CHOOSER(gtk_file_chooser_button_new_with_dialog(d));
}

/*
 * A command line for a person to read and copy: monospace, selectable,
 * never hyphenated or broken inside an argument.  Each option starts a
 * line, continued with a backslash, so the copied text is still one
 * shell command.
 */
GtkWidget *mimic_command_view_new(GtkTextBuffer **buffer)
{
    GtkWidget *tv = gtk_text_view_new();
    gtk_widget_set_name(tv, "command-line");
    gtk_text_view_set_editable(GTK_TEXT_VIEW(tv), FALSE);
    gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(tv), GTK_WRAP_NONE);
    gtk_text_view_set_monospace(GTK_TEXT_VIEW(tv), TRUE);
    GtkWidget *sw = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw),
                                   GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(sw),
                                        GTK_SHADOW_IN);
    gtk_container_add(GTK_CONTAINER(sw), tv);
    gtk_widget_set_size_request(sw, 420, -1);
    *buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(tv));
    return sw;
}

void mimic_command_view_set(GtkTextBuffer *buffer, const char *cmd)
{
    GString *out = g_string_new(NULL);
    bool quoted = false;
    const char *word = cmd ? cmd : "";
    /* Split at spaces outside single quotes (the line is shell-quoted). */
    for (const char *p = word;; p++) {
        if (*p == '\'') {
            quoted = !quoted;
        }
        if ((*p == ' ' && !quoted) || !*p) {
            if (p > word) {
                bool option = *word == '-' && out->len;
                g_string_append(out, option ? " \\\n  " : out->len ? " "
                                                                     : "");
                g_string_append_len(out, word, p - word);
            }
            word = p + 1;
            if (!*p) {
                break;
            }
        }
    }
    gtk_text_buffer_set_text(buffer, out->str, -1);
    g_string_free(out, TRUE);
}

/* ---- application actions ---- */

static void act_about(GSimpleAction *a, GVariant *p, gpointer data)
{
    static const char *authors[] = { "The Mimic authors", NULL };
    gtk_show_about_dialog(gtk_application_get_active_window(the_app),
                          "program-name", "Mimic",
                          "version", mimic_version(),
                          "comments", _("A PC emulator for the desktop"),
                          "license-type", GTK_LICENSE_GPL_2_0,
                          "logo-icon-name", "org.mimic.Mimic",
                          "authors", authors,
                          "translator-credits", _("translator-credits"),
                          NULL);
}

static void act_shortcuts(GSimpleAction *a, GVariant *p, gpointer data)
{
    g_autoptr(GtkBuilder) b = gtk_builder_new_from_resource(
        "/org/mimic/Mimic/ui/shortcuts.ui");
    GtkWindow *w = GTK_WINDOW(gtk_builder_get_object(b, "shortcuts"));
    gtk_window_set_transient_for(w,
        gtk_application_get_active_window(the_app));
    gtk_widget_show(GTK_WIDGET(w));
}

static void act_quit(GSimpleAction *a, GVariant *p, gpointer data)
{
    /* Each machine window asks before turning its machine off. */
    GList *l = g_list_copy(gtk_application_get_windows(the_app));
    for (GList *i = l; i; i = i->next) {
        gtk_window_close(GTK_WINDOW(i->data));
    }
    g_list_free(l);
}

static void act_new_machine(GSimpleAction *a, GVariant *p, gpointer data)
{
    mimic_wizard_run(gtk_application_get_active_window(the_app));
}

static void act_library(GSimpleAction *a, GVariant *p, gpointer data)
{
    GtkWindow *w = mimic_library_window_new(the_app);
    gtk_window_present(w);
}

static void act_create_disk(GSimpleAction *a, GVariant *p, gpointer data)
{
    mimic_disk_dialog_run(gtk_application_get_active_window(the_app), NULL,
                          NULL, NULL, NULL);
}

static const GActionEntry app_actions[] = {
    { "about", act_about, NULL, NULL, NULL, { 0 } },
    { "shortcuts", act_shortcuts, NULL, NULL, NULL, { 0 } },
    { "quit", act_quit, NULL, NULL, NULL, { 0 } },
    { "new-machine", act_new_machine, NULL, NULL, NULL, { 0 } },
    { "library", act_library, NULL, NULL, NULL, { 0 } },
    { "create-disk", act_create_disk, NULL, NULL, NULL, { 0 } },
};

static void app_startup(GApplication *app, gpointer data)
{
    static bool registered;
    if (!registered) {
        mimic_register_resource();
        registered = true;
    }
    g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions,
                                    G_N_ELEMENTS(app_actions), app);
    static const struct {
        const char *action;
        const char *accels[2];
    } accels[] = {
        { "app.quit", { "<Control>q", NULL } },
        { "app.new-machine", { "<Control>n", NULL } },
        { "app.shortcuts", { "<Control>question", NULL } },
        { "app.create-disk", { "<Control>d", NULL } },
        { "win.fullscreen", { "<Control><Alt>f", NULL } },
        { "win.grab", { "<Control><Alt>g", NULL } },
        { "win.card-settings", { "<Alt>Return", NULL } },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(accels); i++) {
        gtk_application_set_accels_for_action(GTK_APPLICATION(app),
                                              accels[i].action,
                                              accels[i].accels);
    }
    gtk_window_set_default_icon_name("org.mimic.Mimic");
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css, "/org/mimic/Mimic/style.css");
    gtk_style_context_add_provider_for_screen(
        gdk_screen_get_default(), GTK_STYLE_PROVIDER(css),
        GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void app_activate(GApplication *app, gpointer data)
{
    if (start_cfg) {
        g_autoptr(GError) err = NULL;
        GtkWindow *w = mimic_machine_window_new(GTK_APPLICATION(app),
                                                start_cfg, NULL, &err);
        start_cfg = NULL;
        if (!w) {
            g_printerr("mimic: %s\n", err->message);
            app_status = 1;
        }
        return;
    }
    GtkWindow *w = mimic_library_window_new(GTK_APPLICATION(app));
    /* Another process may have just added a machine (the demo). */
    mimic_library_refresh();
    gtk_window_present(w);
}

/*
 * Files given to the library instance (`mimic file.iso`, also from a
 * second process when the library already runs): the library, and the
 * wizard for each file.
 */
static void app_open(GApplication *app, GFile **files, int n_files,
                     const char *hint, gpointer data)
{
    GtkWindow *w = mimic_library_window_new(GTK_APPLICATION(app));
    mimic_library_refresh();
    gtk_window_present(w);
    for (int i = 0; i < n_files; i++) {
        g_autofree char *path = g_file_get_path(files[i]);
        if (path) {
            mimic_wizard_run_with_file(w, path);
        }
    }
}

/*
 * `mimic FILE.iso` (one argument, an ISO image): opens it in the app, as a
 * new machine's CD/DVD.  Any other bare argument keeps QEMU's meaning (the
 * first hard disk) and runs that machine.
 */
static bool is_bare_iso(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        return false;
    }
    g_autofree char *lower = g_ascii_strdown(argv[1], -1);
    return g_str_has_suffix(lower, ".iso");
}

/*
 * `make run` (scripts/run-demo.sh) names the demo ISO in MIMIC_DEMO_ISO:
 * the library then offers the demo machine, written on first use.
 */
static void ensure_demo(void)
{
    const char *iso = g_getenv("MIMIC_DEMO_ISO");
    if (!iso || !*iso) {
        return;
    }
    g_autofree char *abs = g_canonicalize_filename(iso, NULL);
    g_autofree char *dir = mimic_library_dir();
    g_autoptr(GError) err = NULL;
    if (!mimic_library_ensure_demo(dir, abs, NULL, &err)) {
        g_printerr("mimic: the demo machine: %s\n", err->message);
    }
}

bool mimic_gui_available(void)
{
    if (!g_getenv("DISPLAY") && !g_getenv("WAYLAND_DISPLAY")) {
        return false;
    }
    return gtk_init_check(NULL, NULL);
}

/* dir holds a catalogue of ours (LANG/LC_MESSAGES/mimic.mo) */
static bool has_catalogue(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *lang;
    while (d && (lang = g_dir_read_name(d))) {
        g_autofree char *mo = g_build_filename(
            dir, lang, "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
        if (g_file_test(mo, G_FILE_TEST_IS_REGULAR)) {
            return true;
        }
    }
    return false;
}

/*
 * Where the translations are: MIMIC_LOCALEDIR when set; else beside the
 * program: the build tree's po/ (build/src/mimic -> build/po, what
 * `make run` starts) or a relocated install's share/locale; else the
 * configured locale directory.
 */
static char *find_localedir(void)
{
    const char *env = g_getenv("MIMIC_LOCALEDIR");
    if (env && *env) {
        return g_strdup(env);
    }
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe) {
        g_autofree char *bin = g_path_get_dirname(exe);
        const char *const rel[] = { "../po", "../share/locale" };
        for (size_t i = 0; i < G_N_ELEMENTS(rel); i++) {
            g_autofree char *dir = g_build_filename(bin, rel[i], NULL);
            g_autofree char *canon = g_canonicalize_filename(dir, NULL);
            if (has_catalogue(canon)) {
                return g_steal_pointer(&canon);
            }
        }
    }
    return g_strdup(MIMIC_LOCALEDIR);
}

static void setup_gettext(void)
{
    g_autofree char *dir = find_localedir();
    if (g_getenv("MIMIC_GUI_PRINT_LOCALEDIR")) { /* tests */
        g_print("localedir %s\n", dir);
    }
    bindtextdomain(GETTEXT_PACKAGE, dir);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
}

int mimic_gui_main(int argc, char **argv, MachineConfig *cfg_or_null)
{
    setlocale(LC_ALL, "");
    setup_gettext();
    g_set_application_name("Mimic");
    g_set_prgname("org.mimic.Mimic");
    /*
     * A machine from the command line is its own process, as with QEMU;
     * the library is one instance per session.
     */
    bool open_iso = is_bare_iso(argc, argv);
    if (open_iso) {
        cfg_or_null = NULL;
    }
    GApplicationFlags flags = cfg_or_null ? G_APPLICATION_NON_UNIQUE
                                          : G_APPLICATION_HANDLES_OPEN;
    if (!cfg_or_null) {
        ensure_demo();
    }
    the_app = gtk_application_new("org.mimic.Mimic", flags);
    start_cfg = cfg_or_null;
    app_status = 0;
    g_signal_connect(the_app, "startup", G_CALLBACK(app_startup), NULL);
    g_signal_connect(the_app, "activate", G_CALLBACK(app_activate), NULL);
    g_signal_connect(the_app, "open", G_CALLBACK(app_open), NULL);
    /*
     * The command line is main()'s (QEMU syntax); GApplication gets none,
     * but for the ISO it opens.
     */
    char *args[] = { argc > 0 ? argv[0] : (char *)"mimic",
                     open_iso ? argv[1] : NULL, NULL };
    int status = g_application_run(G_APPLICATION(the_app), open_iso ? 2 : 1,
                                   args);
    g_clear_object(&the_app);
    return status ? status : app_status;
}
