/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registry of CPU cores linked into the binary, looked up by name. */
#include "arch/cpu.h"

#include <string.h>

/* A strong reference: with static libraries a weak one would not pull the
   core's object file into the binary, and cpu_find() would miss it. */
extern const CpuOps x86_cpu_ops;

static const CpuOps *const cpu_table[] = {
    &x86_cpu_ops,
};

const CpuOps *cpu_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cpu_table); i++) {
        if (!cpu_table[i]) {
            continue;
        }
        if (strcmp(cpu_table[i]->name, name) == 0) {
            return cpu_table[i];
        }
        for (const char *const *m = cpu_table[i]->models; m && *m; m++) {
            if (strcmp(*m, name) == 0) {
                return cpu_table[i];
            }
        }
    }
    return NULL;
}

void cpu_list(GString *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cpu_table); i++) {
        if (!cpu_table[i]) {
            continue;
        }
        g_string_append_printf(out, "%-12s %s\n", cpu_table[i]->name,
                               cpu_table[i]->description);
    }
}
