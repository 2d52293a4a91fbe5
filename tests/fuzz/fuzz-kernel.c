/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the -kernel loaders (issue 15, item 12): the input
 * is the kernel file, given to loader_setup() as `-kernel FILE -append
 * ... -initrd MODULE` would give it: Linux bzImage headers (setup size,
 * protocol, command-line limit, initrd placement) and Multiboot headers
 * (a.out-kludge addresses, ELF32 program headers, flags) are all parsed
 * from it.  Every input must give a clean error or a prepared boot,
 * within the RAM it was given.  The fw_cfg device it fills is real.
 */
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>

#include "hw/pc/loader.h"

static char *kernel_path, *module_path;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!kernel_path) {
        g_autofree char *dir = g_dir_make_tmp("mimic-fuzz-kernel-XXXXXX",
                                              NULL);
        kernel_path = g_build_filename(dir, "kernel", NULL);
        module_path = g_build_filename(dir, "module", NULL);
        g_file_set_contents(module_path, "module data", -1, NULL);
    }
    if (!g_file_set_contents(kernel_path, (const char *)data, (gssize)size,
                             NULL)) {
        return 0;
    }
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.ram_size = 32 << 20;
    cfg.kernel = g_strdup(kernel_path);
    cfg.append = g_strdup("console=ttyS0 root=/dev/ram0");
    /* Small inputs name the module as a plain initrd, others as a
       Multiboot module list. */
    cfg.initrd = size & 1 ? g_strdup_printf("%s a,,b,%s", module_path,
                                            module_path)
                          : g_strdup(module_path);
    BoardInstance ctx = { .cfg = &cfg };
    FwCfg *f = g_malloc0(sizeof(FwCfg));
    fw_cfg_info.realize(&f->dev, NULL);
    GError *err = NULL;
    if (!loader_setup(f, &ctx, cfg.ram_size, &err)) {
        g_assert(err && err->message[0]);
        g_clear_error(&err);
    }
    fw_cfg_info.finalize(&f->dev);
    g_free(f);
    machine_config_clear(&cfg);
    return 0;
}
