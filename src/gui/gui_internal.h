/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Declarations shared by the front end's own files: the display widget,
 * the machine window, the library, the dialogs.  GObject types are
 * prefixed Mimic (docs/gui.md).
 */
#ifndef MIMIC_GUI_GUI_INTERNAL_H
#define MIMIC_GUI_GUI_INTERNAL_H

#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include "engine/mimic.h"
#include "gui/machine_file.h"
#include "gui/scale.h"

/* ---- MimicDisplay: the guest's screen (display.c) ---- */
#define MIMIC_TYPE_DISPLAY (mimic_display_get_type())
G_DECLARE_FINAL_TYPE(MimicDisplay, mimic_display, MIMIC, DISPLAY,
                     GtkDrawingArea)


GtkWidget *mimic_display_new(void);
void mimic_display_set_machine(MimicDisplay *d, MimicMachine *m);
void mimic_display_set_scale_mode(MimicDisplay *d, MimicScaleMode mode);
MimicScaleMode mimic_display_get_scale_mode(MimicDisplay *d);
/* From the machine's events: copy the rectangle, redraw only it. */
void mimic_display_update(MimicDisplay *d, int x, int y, int w, int h);
void mimic_display_resize(MimicDisplay *d, int w, int h);
void mimic_display_get_guest_size(MimicDisplay *d, int *w, int *h);
/* Map a widget position to the guest's screen (false: outside it). */
bool mimic_display_to_guest(MimicDisplay *d, double wx, double wy,
                            int *gx, int *gy);
/* Text drawn over the screen's top-left corner (NULL: none). */
void mimic_display_set_overlay(MimicDisplay *d, const char *text);
const char *mimic_display_get_overlay(MimicDisplay *d);
/* A PNG-able copy of the current screen (NULL when there is none). */
GdkPixbuf *mimic_display_snapshot(MimicDisplay *d, int max_width);

/* ---- the application (app.c) ---- */
GtkApplication *mimic_app_get(void);
/* Resolve the mimic-img tool (next to us in the build tree, or PATH). */
char *mimic_app_find_tool(const char *name);
char *mimic_thumbnail_path(const char *name);

/* ---- machine window (machine_window.c) ---- */
/* mf may be NULL for a machine from the command line (not in the library). */
GtkWindow *mimic_machine_window_new(GtkApplication *app,
                                    const MachineConfig *cfg,
                                    const char *library_name,
                                    GError **error);
/* The open window of a library machine, or NULL. */
GtkWindow *mimic_machine_window_find(const char *library_name);
/* Run state of an open library machine (CREATED when not open). */
MimicRunState mimic_machine_window_state(const char *library_name);

/* ---- library window (library.c) ---- */
GtkWindow *mimic_library_window_new(GtkApplication *app);
void mimic_library_refresh(void);

/* ---- dialogs ---- */
/* New-machine wizard (wizard.c); calls mimic_library_refresh() on success. */
void mimic_wizard_run(GtkWindow *parent);
/* The wizard with a file taken as its CD/DVD (.iso) or existing disk. */
void mimic_wizard_run_with_file(GtkWindow *parent, const char *path);
/*
 * A combo box of "none" and the given emulated devices (settings.c):
 * sound cards, or NIC models when nic; ids are QEMU's names.
 */
GtkComboBoxText *mimic_device_combo_new(const char *const *ids, bool nic,
                                        const char *active);
/* Settings (settings.c): edits mf and saves it on OK. */
void mimic_settings_run(GtkWindow *parent, MimicMachineFile *mf);
/*
 * Create Disk Image dialog (diskdialog.c).  On success *out_path (if given)
 * is the new image; returns true when an image was created.
 */
bool mimic_disk_dialog_run(GtkWindow *parent, const char *suggested_dir,
                           const char *suggested_name, char **out_path,
                           char **out_format);
/*
 * Run `mimic-img create` (async).  done is called on the main loop with
 * an error or NULL.
 */
typedef void (*MimicImgDone)(GError *error, gpointer user_data);
void mimic_img_create(const char *path, const char *format,
                      guint64 size_bytes, const char *backing,
                      const char *prealloc, GCancellable *cancel,
                      MimicImgDone done, gpointer user_data);

/*
 * File choosers (Open) for images: every dialog uses these, which keep
 * keys typed into the location entry from reaching it unrealized.
 */
GtkWidget *mimic_file_chooser_dialog_new(const char *title,
                                         GtkWindow *parent);
GtkFileChooser *mimic_file_chooser_button_new(const char *title);

/* A monospace, selectable command-line box (one option per line). */
GtkWidget *mimic_command_view_new(GtkTextBuffer **buffer);
void mimic_command_view_set(GtkTextBuffer *buffer, const char *cmd);

/* File-chooser filters shared by the dialogs. */
void mimic_add_image_filters(GtkFileChooser *fc, bool cdrom);

#endif
