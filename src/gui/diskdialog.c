/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Disk images from the GUI: the Create Disk Image dialog and the
 * `mimic-img create` runner the wizard shares.  The GUI never links the
 * images layer; it runs the mimic-img tool (docs/design.md, "Disk
 * images") as a GSubprocess and shows its error output in the dialog.
 */
#include "gui/gui_internal.h"

#include <string.h>

typedef struct ImgJob {
    MimicImgDone done;
    gpointer user_data;
} ImgJob;

static void img_finished(GObject *src, GAsyncResult *res, gpointer data)
{
    ImgJob *job = data;
    GSubprocess *p = G_SUBPROCESS(src);
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    if (g_subprocess_communicate_utf8_finish(p, res, &out, NULL, &err) &&
        !(g_subprocess_get_if_exited(p) &&
          g_subprocess_get_exit_status(p) == 0)) {
        g_strstrip(out);
        g_set_error(&err, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                    out && *out ? out : _("mimic-img failed"));
    }
    job->done(err, job->user_data);
    g_free(job);
}

void mimic_img_create(const char *path, const char *format,
                      guint64 size_bytes, const char *backing,
                      const char *prealloc, GCancellable *cancel,
                      MimicImgDone done, gpointer user_data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *tool = mimic_app_find_tool("mimic-img");
    if (!tool) {
        g_set_error(&err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    _("The mimic-img tool was not found (looked next to "
                      "mimic and in PATH)."));
        done(err, user_data);
        return;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        g_set_error(&err, G_IO_ERROR, g_io_error_from_errno(errno),
                    "%s: %s", dir, g_strerror(errno));
        done(err, user_data);
        return;
    }
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, tool);
    g_ptr_array_add(argv, (char *)"create");
    g_ptr_array_add(argv, (char *)"-f");
    g_ptr_array_add(argv, (char *)format);
    if (backing && *backing) {
        g_ptr_array_add(argv, (char *)"-b");
        g_ptr_array_add(argv, (char *)backing);
    }
    g_autofree char *opt = NULL;
    if (prealloc && *prealloc && strcmp(prealloc, "off")) {
        opt = g_strdup_printf("preallocation=%s", prealloc);
        g_ptr_array_add(argv, (char *)"-o");
        g_ptr_array_add(argv, opt);
    }
    g_ptr_array_add(argv, (char *)path);
    g_autofree char *size = NULL;
    if (size_bytes || !backing || !*backing) {
        size = g_strdup_printf("%" G_GUINT64_FORMAT, size_bytes);
        g_ptr_array_add(argv, size);
    }
    g_ptr_array_add(argv, NULL);
    GSubprocess *p = g_subprocess_newv(
        (const char *const *)argv->pdata,
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
        &err);
    g_ptr_array_free(argv, TRUE);
    if (!p) {
        done(err, user_data);
        return;
    }
    ImgJob *job = g_new0(ImgJob, 1);
    job->done = done;
    job->user_data = user_data;
    g_subprocess_communicate_utf8_async(p, NULL, cancel, img_finished, job);
    g_object_unref(p);
}

/* ---- the dialog ---- */

typedef struct DiskDialog {
    GtkDialog *dialog;
    GtkBuilder *builder;
    GtkComboBoxText *format, *unit, *prealloc;
    GtkSpinButton *size;
    GtkEntry *name;
    GtkFileChooser *folder, *backing;
    GtkCheckButton *use_backing;
    GtkSpinner *spinner;
    GtkLabel *status;
    GMainLoop *loop;
    bool ok;
    char *path;
} DiskDialog;

static void disk_done(GError *error, gpointer data)
{
    DiskDialog *dd = data;
    gtk_spinner_stop(dd->spinner);
    gtk_widget_set_sensitive(GTK_WIDGET(dd->dialog), TRUE);
    if (error) {
        g_autofree char *msg = g_strdup_printf(_("Failed: %s"),
                                               error->message);
        gtk_label_set_text(dd->status, msg);
        gtk_style_context_add_class(
            gtk_widget_get_style_context(GTK_WIDGET(dd->status)), "error");
        return;
    }
    dd->ok = true;
    gtk_dialog_response(dd->dialog, GTK_RESPONSE_ACCEPT);
}

static void update_format(GtkComboBox *c, gpointer data)
{
    DiskDialog *dd = data;
    const char *fmt = gtk_combo_box_get_active_id(GTK_COMBO_BOX(dd->format));
    bool qcow2 = !g_strcmp0(fmt, "qcow2");
    bool cow = qcow2 || !g_strcmp0(fmt, "qcow");
    gtk_widget_set_sensitive(GTK_WIDGET(dd->use_backing), cow);
    gtk_widget_set_sensitive(GTK_WIDGET(dd->backing),
        cow && gtk_toggle_button_get_active(
                   GTK_TOGGLE_BUTTON(dd->use_backing)));
    /* Extension follows the format. */
    const char *name = gtk_entry_get_text(dd->name);
    const char *dot = strrchr(name, '.');
    g_autofree char *stem = dot ? g_strndup(name, dot - name)
                                : g_strdup(name);
    g_autofree char *n = g_strdup_printf("%s.%s", stem,
                                         !g_strcmp0(fmt, "raw") ? "img"
                                                                : fmt);
    gtk_entry_set_text(dd->name, n);
}

static void on_response(GtkDialog *d, int response, gpointer data)
{
    DiskDialog *dd = data;
    if (response != GTK_RESPONSE_OK) {
        if (dd->loop) {
            g_main_loop_quit(dd->loop);
        }
        return;
    }
    g_signal_stop_emission_by_name(d, "response");
    const char *fmt = gtk_combo_box_get_active_id(GTK_COMBO_BOX(dd->format));
    const char *unit = gtk_combo_box_get_active_id(GTK_COMBO_BOX(dd->unit));
    const char *pre = gtk_combo_box_get_active_id(
        GTK_COMBO_BOX(dd->prealloc));
    guint64 mult = !g_strcmp0(unit, "G") ? 1ull << 30 : 1ull << 20;
    guint64 size = (guint64)gtk_spin_button_get_value(dd->size) * mult;
    g_autofree char *folder = gtk_file_chooser_get_filename(dd->folder);
    const char *name = gtk_entry_get_text(dd->name);
    if (!folder || !*name || strchr(name, '/')) {
        gtk_label_set_text(dd->status, _("Choose a folder and a file name."));
        return;
    }
    g_free(dd->path);
    dd->path = g_build_filename(folder, name, NULL);
    if (g_file_test(dd->path, G_FILE_TEST_EXISTS)) {
        gtk_label_set_text(dd->status, _("A file of that name exists "
                                         "already."));
        return;
    }
    g_autofree char *backing = NULL;
    if (gtk_widget_get_sensitive(GTK_WIDGET(dd->use_backing)) &&
        gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(dd->use_backing))) {
        backing = gtk_file_chooser_get_filename(dd->backing);
        if (!backing) {
            gtk_label_set_text(dd->status, _("Choose the backing file."));
            return;
        }
    }
    gtk_label_set_text(dd->status, _("Creating the image…"));
    gtk_spinner_start(dd->spinner);
    gtk_widget_set_sensitive(GTK_WIDGET(dd->dialog), FALSE);
    mimic_img_create(dd->path, fmt, size, backing, pre, NULL, disk_done, dd);
}

static void on_backing_toggled(GtkToggleButton *b, gpointer data)
{
    update_format(NULL, data);
}

bool mimic_disk_dialog_run(GtkWindow *parent, const char *suggested_dir,
                           const char *suggested_name, char **out_path,
                           char **out_format)
{
    DiskDialog dd = { 0 };
    dd.builder = gtk_builder_new_from_resource(
        "/org/mimic/Mimic/ui/disk-dialog.ui");
#define OBJ(n) gtk_builder_get_object(dd.builder, n)
    dd.dialog = GTK_DIALOG(OBJ("disk-dialog"));
    dd.format = GTK_COMBO_BOX_TEXT(OBJ("format"));
    dd.unit = GTK_COMBO_BOX_TEXT(OBJ("unit"));
    dd.prealloc = GTK_COMBO_BOX_TEXT(OBJ("prealloc"));
    dd.size = GTK_SPIN_BUTTON(OBJ("size"));
    dd.name = GTK_ENTRY(OBJ("name"));
    dd.folder = GTK_FILE_CHOOSER(OBJ("folder"));
    dd.backing = GTK_FILE_CHOOSER(OBJ("backing"));
    dd.use_backing = GTK_CHECK_BUTTON(OBJ("use-backing"));
    dd.spinner = GTK_SPINNER(OBJ("spinner"));
    dd.status = GTK_LABEL(OBJ("status"));
#undef OBJ
    gtk_window_set_transient_for(GTK_WINDOW(dd.dialog), parent);
    g_autofree char *dflt = g_build_filename(g_get_user_data_dir(), "mimic",
                                             "disks", NULL);
    g_mkdir_with_parents(dflt, 0700);
    gtk_file_chooser_set_filename(dd.folder,
                                  suggested_dir ? suggested_dir : dflt);
    gtk_file_chooser_set_current_folder(dd.folder,
                                        suggested_dir ? suggested_dir : dflt);
    gtk_entry_set_text(dd.name, suggested_name ? suggested_name
                                               : "disk.qcow2");
    mimic_add_image_filters(dd.backing, false);
    g_signal_connect(dd.format, "changed", G_CALLBACK(update_format), &dd);
    g_signal_connect(dd.use_backing, "toggled",
                     G_CALLBACK(on_backing_toggled), &dd);
    g_signal_connect(dd.dialog, "response", G_CALLBACK(on_response), &dd);
    update_format(NULL, &dd);
    dd.loop = g_main_loop_new(NULL, FALSE);
    gtk_window_set_modal(GTK_WINDOW(dd.dialog), TRUE);
    g_signal_connect_swapped(dd.dialog, "delete-event",
                             G_CALLBACK(g_main_loop_quit), dd.loop);
    gtk_widget_show(GTK_WIDGET(dd.dialog));
    /* on_response quits the loop on Cancel; disk_done sends ACCEPT. */
    g_signal_connect_swapped(dd.dialog, "response",
                             G_CALLBACK(g_main_loop_quit), dd.loop);
    g_main_loop_run(dd.loop);
    if (dd.ok && out_format) {
        *out_format = g_strdup(gtk_combo_box_get_active_id(
            GTK_COMBO_BOX(dd.format)));
    }
    gtk_widget_destroy(GTK_WIDGET(dd.dialog));
    g_main_loop_unref(dd.loop);
    g_object_unref(dd.builder);
    if (dd.ok && out_path) {
        *out_path = g_steal_pointer(&dd.path);
    }
    g_free(dd.path);
    return dd.ok;
}
