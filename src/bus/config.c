/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MachineConfig defaults, copy and release (see config.h). */
#include "bus/config.h"

#include <string.h>

void machine_config_init(MachineConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->machine_type = g_strdup("pc");
    cfg->cpu_model = g_strdup("pentium2");
    cfg->ram_size = 128ull << 20;
    cfg->smp = 1;
    cfg->icount_shift = -1;
    cfg->display = DISPLAY_DEFAULT;
    cfg->accel = ACCEL_TCG;
    /* serial0: the GUI's terminal; -nographic turns it into mon:stdio. */
    cfg->serial[0] = g_strdup("vc");
    cfg->n_serial = 1;
}

#define FREE_ARRAY(a, n)                                                      \
    do {                                                                      \
        for (int i_ = 0; i_ < (n); i_++) {                                    \
            g_free((a)[i_]);                                                  \
        }                                                                     \
    } while (0)

void drive_config_clear(DriveConfig *d)
{
    g_free(d->file);
    g_free(d->format);
    g_free(d->id);
    d->file = d->format = d->id = NULL;
}

void machine_config_clear(MachineConfig *cfg)
{
    g_free(cfg->name);
    g_free(cfg->machine_type);
    g_free(cfg->cpu_model);
    for (int i = 0; i < MIMIC_MAX_DRIVES; i++) {
        drive_config_clear(&cfg->drives[i]);
    }
    FREE_ARRAY(cfg->bios_dirs, MIMIC_MAX_BIOS_DIRS);
    g_free(cfg->bios_file);
    g_free(cfg->rtc_base);
    FREE_ARRAY(cfg->soundhw, MIMIC_MAX_SOUNDHW);
    FREE_ARRAY(cfg->soundhw_audiodev, MIMIC_MAX_SOUNDHW);
    for (int i = 0; i < MIMIC_MAX_AUDIODEV; i++) {
        g_free(cfg->audiodevs[i].driver);
        g_free(cfg->audiodevs[i].id);
        g_free(cfg->audiodevs[i].path);
        g_free(cfg->audiodevs[i].server);
        g_free(cfg->audiodevs[i].in_path);
    }
    FREE_ARRAY(cfg->usb_devices, MIMIC_MAX_USBDEV);
    for (int i = 0; i < MIMIC_MAX_NICS; i++) {
        g_free(cfg->nics[i].model);
        g_free(cfg->nics[i].macaddr);
        g_free(cfg->netdevs[i].kind);
        g_free(cfg->netdevs[i].options);
        g_free(cfg->nics[i].netdev);
        g_free(cfg->netdevs[i].id);
        g_free(cfg->filters[i].id);
        g_free(cfg->filters[i].netdev);
        g_free(cfg->filters[i].file);
    }
    FREE_ARRAY(cfg->serial, MIMIC_MAX_SERIAL);
    g_free(cfg->monitor);
    g_free(cfg->qmp);
    g_free(cfg->kernel);
    g_free(cfg->initrd);
    g_free(cfg->append);
    g_free(cfg->incoming);
    g_free(cfg->loadvm);
    g_free(cfg->log_items);
    g_free(cfg->log_file);
    memset(cfg, 0, sizeof(*cfg));
}

void machine_config_nic_clear(NicConfig *nic)
{
    g_free(nic->model);
    g_free(nic->macaddr);
    g_free(nic->netdev);
    memset(nic, 0, sizeof(*nic));
}

#define DUP(f) (c->f = g_strdup(src->f))

MachineConfig *machine_config_copy(const MachineConfig *src)
{
    MachineConfig *c = g_new(MachineConfig, 1);
    *c = *src;
    DUP(name);
    DUP(machine_type);
    DUP(cpu_model);
    for (int i = 0; i < MIMIC_MAX_DRIVES; i++) {
        DUP(drives[i].file);
        DUP(drives[i].format);
        DUP(drives[i].id);
    }
    for (int i = 0; i < MIMIC_MAX_BIOS_DIRS; i++) {
        DUP(bios_dirs[i]);
    }
    DUP(bios_file);
    DUP(rtc_base);
    for (int i = 0; i < MIMIC_MAX_SOUNDHW; i++) {
        DUP(soundhw[i]);
        DUP(soundhw_audiodev[i]);
    }
    for (int i = 0; i < MIMIC_MAX_AUDIODEV; i++) {
        DUP(audiodevs[i].driver);
        DUP(audiodevs[i].id);
        DUP(audiodevs[i].path);
        DUP(audiodevs[i].server);
        DUP(audiodevs[i].in_path);
    }
    for (int i = 0; i < MIMIC_MAX_USBDEV; i++) {
        DUP(usb_devices[i]);
    }
    for (int i = 0; i < MIMIC_MAX_NICS; i++) {
        DUP(nics[i].model);
        DUP(nics[i].macaddr);
        DUP(netdevs[i].kind);
        DUP(netdevs[i].options);
        DUP(nics[i].netdev);
        DUP(netdevs[i].id);
        DUP(filters[i].id);
        DUP(filters[i].netdev);
        DUP(filters[i].file);
    }
    for (int i = 0; i < MIMIC_MAX_SERIAL; i++) {
        DUP(serial[i]);
    }
    DUP(monitor);
    DUP(qmp);
    DUP(kernel);
    DUP(initrd);
    DUP(append);
    DUP(incoming);
    DUP(loadvm);
    DUP(log_items);
    DUP(log_file);
    return c;
}

void machine_config_free(MachineConfig *cfg)
{
    if (cfg) {
        machine_config_clear(cfg);
        g_free(cfg);
    }
}
