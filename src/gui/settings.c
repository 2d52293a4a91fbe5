/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine settings dialog.  It edits a copy of the machine, shows the
 * equivalent `mimic` command line as it changes (selectable, with a Copy
 * button), and saves only a machine that passes the machine file's own
 * validation, so the library never holds a file it would reject.
 */
#include "gui/gui_internal.h"

#include <string.h>

/*
 * The disks and floppies the dialog edits (the CD/DVD, ide1-cd0 = index 2,
 * has its own row): each a check box that attaches it, a file chooser and,
 * for hard disks, a format.
 */
typedef struct DiskRow {
    DriveInterface iface;
    int index;
    /* Hard disks: a check box, with mnemonic.  Floppies: a label whose
       mnemonic opens the chooser, and an "Inserted" check box. */
    const char *label;
    const char *chooser; /* the chooser's title */
    bool has_format;
} DiskRow;

static const DiskRow disk_rows[] = {
    { DRIVE_IF_IDE, 0, N_("_Hard disk"), N_("Choose a Disk Image"), true },
    { DRIVE_IF_IDE, 1, N_("Second hard _disk"), N_("Choose a Disk Image"),
      true },
    { DRIVE_IF_IDE, 3, N_("Thi_rd hard disk"), N_("Choose a Disk Image"),
      true },
    { DRIVE_IF_FLOPPY, 0, N_("Floppy _A image"), N_("Choose a Floppy Image"),
      false },
    { DRIVE_IF_FLOPPY, 1, N_("Floppy B ima_ge"), N_("Choose a Floppy Image"),
      false },
};
#define N_DISK_ROWS G_N_ELEMENTS(disk_rows)

typedef struct Settings {
    GtkDialog *dialog;
    MimicMachineFile *orig;
    GtkComboBoxText *os, *boot;
    GtkSpinButton *memory, *cpus;
    GtkFileChooser *cdrom;
    GtkToggleButton *full_screen, *localtime, *tablet;
    GtkToggleButton *disk_on[N_DISK_ROWS];
    GtkFileChooser *disk[N_DISK_ROWS];
    GtkComboBoxText *disk_format[N_DISK_ROWS]; /* NULL: floppies (raw) */
    GtkComboBoxText *sound, *nic;
    GtkEntry *forwards;
    GtkTextBuffer *cmdline;
    GtkLabel *error;
} Settings;

/* Names people know the emulated devices by (the engine lists them). */
static const struct {
    const char *id;
    const char *label;
} nic_labels[] = {
    { "e1000", N_("Intel PRO/1000 (e1000)") },
    { "rtl8139", N_("Realtek RTL8139") },
    { "ne2k_pci", N_("NE2000 (PCI)") },
    { "ne2k_isa", N_("NE2000 (ISA)") },
    { "virtio-net-pci", N_("VirtIO network (fastest; Linux)") },
};

static const char *nic_label(const char *id)
{
    for (size_t i = 0; i < G_N_ELEMENTS(nic_labels); i++) {
        if (!strcmp(nic_labels[i].id, id)) {
            return _(nic_labels[i].label);
        }
    }
    return id;
}

/*
 * The sound and network choices: "none" and what the engine emulates.  A
 * machine file may name a device this build lacks (written elsewhere):
 * it is listed as such, so the dialog never claims it.
 */
GtkComboBoxText *mimic_device_combo_new(const char *const *ids, bool nic,
                                        const char *active)
{
    GtkComboBoxText *c = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
    gtk_combo_box_text_append(c, "none", nic ? _("None (no network)")
                                             : _("None"));
    for (int i = 0; ids[i]; i++) {
        const char *desc = nic ? nic_label(ids[i])
                               : mimic_sound_card_description(ids[i]);
        gtk_combo_box_text_append(c, ids[i], desc ? desc : ids[i]);
    }
    if (active && !g_strv_contains(ids, active)) {
        g_autofree char *l = g_strdup_printf(
            _("%s (not emulated: the machine runs without it)"), active);
        gtk_combo_box_text_append(c, active, l);
    }
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(c), active ? active : "none");
    return c;
}

static void set_drive(MachineConfig *cfg, DriveInterface iface, int index,
                      DriveMedia media, const char *file, const char *fmt)
{
    int i;
    for (i = 0; i < cfg->n_drives; i++) {
        if (cfg->drives[i].interface == iface &&
            cfg->drives[i].index == index) {
            break;
        }
    }
    if (i == cfg->n_drives) {
        if (!file && media == DRIVE_MEDIA_DISK) {
            return;
        }
        if (cfg->n_drives == MIMIC_MAX_DRIVES) {
            return;
        }
        memset(&cfg->drives[i], 0, sizeof(cfg->drives[i]));
        cfg->n_drives++;
    }
    DriveConfig *d = &cfg->drives[i];
    if (!file && media == DRIVE_MEDIA_DISK) {
        g_free(d->file);
        g_free(d->format);
        cfg->n_drives--;
        memmove(d, d + 1, (cfg->n_drives - i) * sizeof(*d));
        memset(&cfg->drives[cfg->n_drives], 0, sizeof(*d));
        return;
    }
    g_free(d->file);
    g_free(d->format);
    d->file = g_strdup(file);
    d->format = g_strdup(fmt);
    d->interface = iface;
    d->index = index;
    d->media = media;
    d->readonly = media == DRIVE_MEDIA_CDROM;
}

static const DriveConfig *get_drive(const MachineConfig *cfg,
                                    DriveInterface iface, int index)
{
    for (int i = 0; i < cfg->n_drives; i++) {
        if (cfg->drives[i].interface == iface &&
            cfg->drives[i].index == index) {
            return &cfg->drives[i];
        }
    }
    return NULL;
}

/* The dialog's state as a machine file, checked like one read from disk. */
static MimicMachineFile *settings_build(Settings *st, GError **error)
{
    g_autoptr(MimicMachineFile) mf = g_new0(MimicMachineFile, 1);
    mf->cfg = machine_config_copy(st->orig->cfg);
    MachineConfig *cfg = mf->cfg;
    const MimicPreset *p = mimic_preset_find(
        gtk_combo_box_get_active_id(GTK_COMBO_BOX(st->os)));
    mf->os = p ? p->os : MIMIC_OS_OTHER;
    cfg->ram_size = (uint64_t)gtk_spin_button_get_value_as_int(st->memory)
                    << 20;
    cfg->smp = gtk_spin_button_get_value_as_int(st->cpus);
    g_strlcpy(cfg->boot_order,
              gtk_combo_box_get_active_id(GTK_COMBO_BOX(st->boot)),
              sizeof(cfg->boot_order));
    const char *sound = gtk_combo_box_get_active_id(
        GTK_COMBO_BOX(st->sound));
    mimic_machine_set_sound(cfg, g_strcmp0(sound, "none") ? sound : NULL);
    const char *nic = gtk_combo_box_get_active_id(GTK_COMBO_BOX(st->nic));
    g_auto(GStrv) fwd = g_regex_split_simple(
        "[\\s,;]+", gtk_entry_get_text(st->forwards), 0, 0);
    GPtrArray *rules = g_ptr_array_new();
    for (int i = 0; fwd[i]; i++) {
        if (*fwd[i]) {
            g_ptr_array_add(rules, fwd[i]);
        }
    }
    g_ptr_array_add(rules, NULL);
    bool has_nic = nic && strcmp(nic, "none");
    mimic_machine_set_nic(cfg, has_nic ? nic : NULL);
    gtk_widget_set_sensitive(GTK_WIDGET(st->forwards), has_nic);
    bool fwd_ok = !has_nic || mimic_machine_set_port_forwards(
                                  cfg, (const char *const *)rules->pdata,
                                  error);
    g_ptr_array_free(rules, TRUE);
    if (!fwd_ok) {
        return NULL;
    }
    for (size_t i = 0; i < N_DISK_ROWS; i++) {
        const DiskRow *dr = &disk_rows[i];
        bool on = gtk_toggle_button_get_active(st->disk_on[i]);
        g_autofree char *file = on ? gtk_file_chooser_get_filename(
                                         st->disk[i])
                                   : NULL;
        /*
         * A chooser cannot show a file that is missing right now (an
         * unplugged disk): keep the saved path rather than dropping it.
         */
        const DriveConfig *old = get_drive(st->orig->cfg, dr->iface,
                                           dr->index);
        if (!file && on && old && old->file) {
            file = g_strdup(old->file);
        }
        const char *fmt = st->disk_format[i]
                              ? gtk_combo_box_get_active_id(
                                    GTK_COMBO_BOX(st->disk_format[i]))
                              : "raw";
        set_drive(cfg, dr->iface, dr->index, DRIVE_MEDIA_DISK, file, fmt);
    }
    g_autofree char *cd = gtk_file_chooser_get_filename(st->cdrom);
    const DriveConfig *old_cd = get_drive(st->orig->cfg, DRIVE_IF_IDE, 2);
    if (!cd && old_cd && old_cd->file) {
        cd = g_strdup(old_cd->file);
    }
    set_drive(cfg, DRIVE_IF_IDE, 2, DRIVE_MEDIA_CDROM, cd, "raw");
    cfg->full_screen = gtk_toggle_button_get_active(st->full_screen);
    cfg->rtc_localtime = gtk_toggle_button_get_active(st->localtime);
    mimic_machine_config_set_tablet(cfg,
                                    gtk_toggle_button_get_active(st->tablet));
    /* Validate through the file format itself. */
    gsize len;
    g_autofree char *data = mimic_machine_file_to_data(mf, &len);
    MimicMachineFile *checked = mimic_machine_file_from_data(data, len,
                                                             error);
    return checked;
}

static void settings_changed(Settings *st)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(MimicMachineFile) mf = settings_build(st, &err);
    g_autofree char *cmd = mf ? mimic_machine_file_command_line(mf) : NULL;
    mimic_command_view_set(st->cmdline, cmd);
    gtk_label_set_text(st->error, mf ? "" : err->message);
    gtk_dialog_set_response_sensitive(st->dialog, GTK_RESPONSE_OK,
                                      mf != NULL);
}

static void on_changed(GtkWidget *w, gpointer data)
{
    settings_changed(data);
}

static void on_disk_chosen(GtkToggleButton *attached)
{
    gtk_toggle_button_set_active(attached, TRUE);
}

static void on_copy(GtkButton *b, gpointer data)
{
    Settings *st = data;
    GtkTextIter s, e;
    gtk_text_buffer_get_bounds(st->cmdline, &s, &e);
    g_autofree char *text = gtk_text_buffer_get_text(st->cmdline, &s, &e,
                                                     FALSE);
    gtk_clipboard_set_text(gtk_clipboard_get(GDK_SELECTION_CLIPBOARD), text,
                           -1);
}

static GtkComboBoxText *combo(const char *const *ids,
                              const char *const *labels, const char *active)
{
    GtkComboBoxText *c = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
    for (int i = 0; ids[i]; i++) {
        gtk_combo_box_text_append(c, ids[i], _(labels[i]));
    }
    if (!active || !gtk_combo_box_set_active_id(GTK_COMBO_BOX(c), active)) {
        gtk_combo_box_set_active(GTK_COMBO_BOX(c), 0);
    }
    return c;
}

static void row(GtkGrid *g, int r, const char *text, GtkWidget *w)
{
    GtkWidget *l = gtk_label_new_with_mnemonic(text);
    gtk_label_set_mnemonic_widget(GTK_LABEL(l), w);
    gtk_label_set_xalign(GTK_LABEL(l), 1);
    gtk_widget_set_hexpand(w, TRUE);
    gtk_grid_attach(g, l, 0, r, 1, 1);
    gtk_grid_attach(g, w, 1, r, 1, 1);
}

void mimic_settings_run(GtkWindow *parent, MimicMachineFile *mf)
{
    static const char *const os_ids[] = { "linux", "dos", "win9x", "winnt",
                                          "other", NULL };
    static const char *const os_labels[] = {
        N_("Linux"), N_("DOS / FreeDOS"), N_("Windows 95/98"),
        N_("Windows 2000/XP"), N_("Other"), NULL };
    static const char *const boot_ids[] = { "dc", "cd", "c", "d", "acd",
                                            "cad", NULL };
    static const char *const boot_labels[] = {
        N_("CD/DVD, then hard disk"), N_("Hard disk, then CD/DVD"),
        N_("Hard disk only"), N_("CD/DVD only"),
        N_("Floppy, hard disk, then CD/DVD"),
        N_("Hard disk, floppy, then CD/DVD"), NULL };
    static const char *const fmt_ids[] = { "qcow2", "qcow", "raw", NULL };
    static const char *const fmt_labels[] = { N_("QCOW2"),
                                              N_("QCOW version 1"),
                                              N_("Raw"), NULL };

    Settings st = { 0 };
    st.orig = mf;
    const MachineConfig *cfg = mf->cfg;
    g_autofree char *title = g_strdup_printf(_("Settings of “%s”"),
                                             cfg->name);
    st.dialog = GTK_DIALOG(gtk_dialog_new_with_buttons(
        title, parent, GTK_DIALOG_MODAL | GTK_DIALOG_USE_HEADER_BAR,
        _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Save"), GTK_RESPONSE_OK,
        NULL));
    GtkGrid *g = GTK_GRID(gtk_grid_new());
    gtk_grid_set_row_spacing(g, 8);
    gtk_grid_set_column_spacing(g, 12);
    gtk_container_set_border_width(GTK_CONTAINER(g), 18);
    st.os = combo(os_ids, os_labels, mimic_preset_get(mf->os)->id);
    unsigned host_mib = mimic_host_memory_mib();
    unsigned max_mib = host_mib ? MIN(65536, host_mib) : 65536;
    st.memory = GTK_SPIN_BUTTON(gtk_spin_button_new_with_range(1, max_mib,
                                                               1));
    gtk_spin_button_set_numeric(st.memory, TRUE);
    gtk_spin_button_set_value(st.memory, (double)(cfg->ram_size >> 20));
    st.cpus = GTK_SPIN_BUTTON(gtk_spin_button_new_with_range(1, 16, 1));
    gtk_spin_button_set_value(st.cpus, cfg->smp > 0 ? cfg->smp : 1);
    st.boot = combo(boot_ids, boot_labels, cfg->boot_order);
    if (cfg->boot_order[0] &&
        g_strcmp0(gtk_combo_box_get_active_id(GTK_COMBO_BOX(st.boot)),
                  cfg->boot_order)) {
        /* An order the list lacks (written by hand): keep it, as is. */
        gtk_combo_box_text_append(st.boot, cfg->boot_order,
                                  cfg->boot_order);
        gtk_combo_box_set_active_id(GTK_COMBO_BOX(st.boot), cfg->boot_order);
    }
    for (size_t i = 0; i < N_DISK_ROWS; i++) {
        const DiskRow *dr = &disk_rows[i];
        const DriveConfig *d = get_drive(cfg, dr->iface, dr->index);
        st.disk_on[i] = GTK_TOGGLE_BUTTON(
            dr->has_format ? gtk_check_button_new_with_mnemonic(_(dr->label))
                           : gtk_check_button_new_with_label(_("Inserted")));
        gtk_toggle_button_set_active(st.disk_on[i], d && d->file);
        st.disk[i] = mimic_file_chooser_button_new(_(dr->chooser));
        mimic_add_image_filters(st.disk[i], false);
        if (d && d->file) {
            gtk_file_chooser_set_filename(st.disk[i], d->file);
        }
        if (dr->has_format) {
            st.disk_format[i] = combo(fmt_ids, fmt_labels,
                                      d ? d->format : NULL);
        }
    }
    const DriveConfig *cd = get_drive(cfg, DRIVE_IF_IDE, 2);
    st.cdrom = mimic_file_chooser_button_new(_("Choose a CD/DVD Image"));
    mimic_add_image_filters(st.cdrom, true);
    if (cd && cd->file) {
        gtk_file_chooser_set_filename(st.cdrom, cd->file);
    }
    st.full_screen = GTK_TOGGLE_BUTTON(gtk_check_button_new_with_mnemonic(
        _("Start in f_ull screen")));
    gtk_toggle_button_set_active(st.full_screen, cfg->full_screen);
    st.localtime = GTK_TOGGLE_BUTTON(gtk_check_button_new_with_mnemonic(
        _("Clock in _local time (Windows, DOS)")));
    gtk_toggle_button_set_active(st.localtime, cfg->rtc_localtime);
    st.tablet = GTK_TOGGLE_BUTTON(gtk_check_button_new_with_mnemonic(
        _("USB tabl_et: the pointer needs no capture (Linux, Windows XP)")));
    gtk_toggle_button_set_active(st.tablet,
                                 mimic_machine_config_has_tablet(cfg));
    st.sound = mimic_device_combo_new(mimic_sound_cards(), false,
                            cfg->n_soundhw > 0 ? cfg->soundhw[0] : NULL);
    gtk_widget_set_name(GTK_WIDGET(st.sound), "sound-card");
    st.nic = mimic_device_combo_new(mimic_nic_models(), true,
                          cfg->n_nics > 0 && !cfg->net_none
                              ? cfg->nics[0].model
                              : NULL);
    gtk_widget_set_name(GTK_WIDGET(st.nic), "network-card");
    st.forwards = GTK_ENTRY(gtk_entry_new());
    gtk_widget_set_name(GTK_WIDGET(st.forwards), "port-forwards");
    gtk_entry_set_placeholder_text(st.forwards, _("e.g. tcp::2222-:22"));
    gtk_widget_set_tooltip_text(
        GTK_WIDGET(st.forwards),
        _("User networking (NAT, the guest is 10.0.2.15): host ports "
          "forwarded to the guest, separated by spaces, each "
          "tcp|udp:[host address]:host port-[guest address]:guest port"));
    g_auto(GStrv) fwd = mimic_machine_port_forwards(cfg);
    g_autofree char *fwd_text = g_strjoinv(" ", fwd);
    gtk_entry_set_text(st.forwards, fwd_text);

    int r = 0;
    g_autofree char *dir = mimic_library_dir();
    bool saved = mimic_machine_has_state(dir, cfg->name);
    if (saved) {
        GtkWidget *warn = gtk_label_new(
            _("This machine has a saved state. Changing its settings "
              "(other than full screen) discards that state: the machine "
              "then starts afresh."));
        gtk_label_set_line_wrap(GTK_LABEL(warn), TRUE);
        gtk_label_set_max_width_chars(GTK_LABEL(warn), 60);
        gtk_label_set_xalign(GTK_LABEL(warn), 0);
        gtk_widget_set_name(warn, "saved-state-warning");
        gtk_grid_attach(g, warn, 0, r++, 2, 1);
    }
    row(g, r++, _("Sys_tem"), GTK_WIDGET(st.os));
    row(g, r++, _("_Memory (MiB)"), GTK_WIDGET(st.memory));
    g_autofree char *limits =
        host_mib ? g_strdup_printf(_("1 to %u MiB: this host has %u MiB"),
                                   max_mib, host_mib)
                 : g_strdup_printf(_("1 to %u MiB"), max_mib);
    GtkWidget *lim = gtk_label_new(limits);
    gtk_label_set_xalign(GTK_LABEL(lim), 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(lim),
                                "dim-label");
    gtk_grid_attach(g, lim, 1, r++, 1, 1);
    row(g, r++, _("_Processors"), GTK_WIDGET(st.cpus));
    for (size_t i = 0; i < N_DISK_ROWS; i++) {
        if (disk_rows[i].iface == DRIVE_IF_FLOPPY &&
            disk_rows[i].index == 0) {
            row(g, r++, _("_CD/DVD image"), GTK_WIDGET(st.cdrom));
        }
        /* A disk's chooser and its format share a row. */
        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
        gtk_widget_set_hexpand(GTK_WIDGET(st.disk[i]), TRUE);
        gtk_box_pack_start(GTK_BOX(box), GTK_WIDGET(st.disk[i]), TRUE, TRUE,
                           0);
        if (st.disk_format[i]) {
            gtk_widget_set_tooltip_text(GTK_WIDGET(st.disk_format[i]),
                                        _("Disk format"));
            gtk_box_pack_start(GTK_BOX(box), GTK_WIDGET(st.disk_format[i]),
                               FALSE, FALSE, 0);
            gtk_grid_attach(g, GTK_WIDGET(st.disk_on[i]), 0, r, 1, 1);
            gtk_grid_attach(g, box, 1, r++, 1, 1);
        } else {
            gtk_box_pack_start(GTK_BOX(box), GTK_WIDGET(st.disk_on[i]),
                               FALSE, FALSE, 0);
            GtkWidget *l = gtk_label_new_with_mnemonic(_(disk_rows[i].label));
            gtk_label_set_mnemonic_widget(GTK_LABEL(l),
                                          GTK_WIDGET(st.disk[i]));
            gtk_label_set_xalign(GTK_LABEL(l), 1);
            gtk_grid_attach(g, l, 0, r, 1, 1);
            gtk_grid_attach(g, box, 1, r++, 1, 1);
        }
    }
    row(g, r++, _("_Boot from"), GTK_WIDGET(st.boot));
    row(g, r++, _("Sou_nd card"), GTK_WIDGET(st.sound));
    row(g, r++, _("Net_work card"), GTK_WIDGET(st.nic));
    row(g, r++, _("Port _forwards"), GTK_WIDGET(st.forwards));
    gtk_grid_attach(g, GTK_WIDGET(st.localtime), 1, r++, 1, 1);
    gtk_grid_attach(g, GTK_WIDGET(st.tablet), 1, r++, 1, 1);
    gtk_grid_attach(g, GTK_WIDGET(st.full_screen), 1, r++, 1, 1);

    GtkWidget *cl = gtk_label_new(_("Equivalent command line:"));
    gtk_label_set_xalign(GTK_LABEL(cl), 0);
    gtk_grid_attach(g, cl, 0, r++, 2, 1);
    GtkWidget *tv = mimic_command_view_new(&st.cmdline);
    gtk_grid_attach(g, tv, 0, r++, 2, 1);
    GtkWidget *copy = gtk_button_new_with_mnemonic(_("Cop_y command line"));
    gtk_widget_set_halign(copy, GTK_ALIGN_END);
    g_signal_connect(copy, "clicked", G_CALLBACK(on_copy), &st);
    gtk_grid_attach(g, copy, 0, r++, 2, 1);
    st.error = GTK_LABEL(gtk_label_new(""));
    gtk_label_set_line_wrap(st.error, TRUE);
    gtk_style_context_add_class(gtk_widget_get_style_context(
                                    GTK_WIDGET(st.error)), "error");
    gtk_grid_attach(g, GTK_WIDGET(st.error), 0, r++, 2, 1);
    /* Scrolled, so the dialog fits a small screen (the rows grew). */
    GtkWidget *sw = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw),
                                   GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(sw),
                                                     TRUE);
    gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(sw), 560);
    gtk_container_add(GTK_CONTAINER(sw), GTK_WIDGET(g));
    gtk_container_set_focus_vadjustment(
        GTK_CONTAINER(g),
        gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(sw)));
    gtk_widget_set_vexpand(sw, TRUE);
    gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(st.dialog)),
                      sw);

    GtkWidget *combos[] = { GTK_WIDGET(st.os), GTK_WIDGET(st.boot),
                            GTK_WIDGET(st.sound), GTK_WIDGET(st.nic),
                            GTK_WIDGET(st.forwards) };
    for (size_t i = 0; i < G_N_ELEMENTS(combos); i++) {
        g_signal_connect(combos[i], "changed", G_CALLBACK(on_changed), &st);
    }
    for (size_t i = 0; i < N_DISK_ROWS; i++) {
        /* Choosing a file attaches the drive (which updates the rest). */
        g_signal_connect_swapped(st.disk[i], "file-set",
                                 G_CALLBACK(on_disk_chosen), st.disk_on[i]);
        g_signal_connect(st.disk[i], "file-set", G_CALLBACK(on_changed),
                         &st);
        g_signal_connect(st.disk_on[i], "toggled", G_CALLBACK(on_changed),
                         &st);
        if (st.disk_format[i]) {
            g_signal_connect(st.disk_format[i], "changed",
                             G_CALLBACK(on_changed), &st);
        }
    }
    g_signal_connect(st.memory, "value-changed", G_CALLBACK(on_changed), &st);
    g_signal_connect(st.cpus, "value-changed", G_CALLBACK(on_changed), &st);
    g_signal_connect(st.cdrom, "file-set", G_CALLBACK(on_changed), &st);
    GtkWidget *toggles[] = { GTK_WIDGET(st.full_screen),
                             GTK_WIDGET(st.localtime),
                             GTK_WIDGET(st.tablet) };
    for (size_t i = 0; i < G_N_ELEMENTS(toggles); i++) {
        g_signal_connect(toggles[i], "toggled", G_CALLBACK(on_changed), &st);
    }
    settings_changed(&st);
    gtk_widget_show_all(GTK_WIDGET(st.dialog));
    while (gtk_dialog_run(st.dialog) == GTK_RESPONSE_OK) {
        g_autoptr(GError) err = NULL;
        g_autoptr(MimicMachineFile) next = settings_build(&st, &err);
        if (next && mimic_machine_has_state(dir, cfg->name) &&
            mimic_machine_file_changes_state(mf, next)) {
            /* The engine would refuse the state for the new settings. */
            GtkWidget *d = gtk_message_dialog_new(
                GTK_WINDOW(st.dialog), GTK_DIALOG_MODAL,
                GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                _("Discard the saved state?"));
            gtk_window_set_title(GTK_WINDOW(d), _("Discard Saved State"));
            gtk_message_dialog_format_secondary_text(
                GTK_MESSAGE_DIALOG(d),
                _("The machine's state was saved with the old settings and "
                  "cannot be resumed with the new ones."));
            gtk_dialog_add_buttons(GTK_DIALOG(d), _("_Cancel"),
                                   GTK_RESPONSE_CANCEL,
                                   _("_Discard State and Save"),
                                   GTK_RESPONSE_OK, NULL);
            int r2 = gtk_dialog_run(GTK_DIALOG(d));
            gtk_widget_destroy(d);
            if (r2 != GTK_RESPONSE_OK) {
                continue;
            }
            if (!mimic_machine_discard_state(dir, cfg->name, &err)) {
                gtk_label_set_text(st.error, err->message);
                continue;
            }
        }
        if (next && mimic_machine_file_save(next, dir, &err)) {
            /* Take over the saved values. */
            MachineConfig *tmp = mf->cfg;
            mf->cfg = next->cfg;
            next->cfg = tmp;
            mf->os = next->os;
            break;
        }
        gtk_label_set_text(st.error, err->message);
    }
    gtk_widget_destroy(GTK_WIDGET(st.dialog));
}
