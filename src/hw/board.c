/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Board registry and firmware lookup.  A board
 * is found by name.  Firmware files
 * are searched in the -L directories, Mimic's data directory, then
 * Debian's /usr/share/seabios and /usr/share/qemu.
 */
#include "hw/board.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mimic-config.h"

G_DEFINE_QUARK(mimic-board-error-quark, board_error)

extern const BoardInfo pc_board;

static const BoardInfo *const board_table[] = {
    &pc_board,
};

const BoardInfo *board_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(board_table); i++) {
        if (board_table[i] && strcmp(board_table[i]->name, name) == 0) {
            return board_table[i];
        }
    }
    return NULL;
}

void board_list(GString *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(board_table); i++) {
        if (board_table[i]) {
            g_string_append_printf(out, "%-8s %s\n", board_table[i]->name,
                                   board_table[i]->description);
        }
    }
}

char *board_find_firmware(const MachineConfig *cfg, const char *name,
                          GError **error)
{
    if (strchr(name, '/')) {
        if (access(name, R_OK) == 0) {
            return g_strdup(name);
        }
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_FIRMWARE,
                    "cannot read firmware '%s': %s", name, g_strerror(errno));
        return NULL;
    }
    GPtrArray *dirs = g_ptr_array_new();
    for (int i = 0; i < cfg->n_bios_dirs; i++) {
        g_ptr_array_add(dirs, cfg->bios_dirs[i]);
    }
    g_ptr_array_add(dirs, (gpointer)MIMIC_DATADIR);
    g_ptr_array_add(dirs, (gpointer)"/usr/share/seabios");
    g_ptr_array_add(dirs, (gpointer)"/usr/share/qemu");
    char *found = NULL;
    for (guint i = 0; i < dirs->len && !found; i++) {
        char *p = g_build_filename(g_ptr_array_index(dirs, i), name, NULL);
        if (access(p, R_OK) == 0) {
            found = p;
        } else {
            g_free(p);
        }
    }
    g_ptr_array_free(dirs, TRUE);
    if (!found) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_FIRMWARE,
                    "cannot find firmware '%s' (searched -L directories, "
                    "%s, /usr/share/seabios, /usr/share/qemu; install "
                    "Debian's seabios package)", name, MIMIC_DATADIR);
    }
    return found;
}

void board_add_ram_block(BoardContext *ctx, const char *name, uint8_t *host,
                         uint64_t size)
{
    g_assert(ctx->n_ram_blocks < BOARD_MAX_RAM_BLOCKS);
    ctx->ram_blocks[ctx->n_ram_blocks++] =
        (BoardRamBlock){ .name = name, .host = host, .size = size };
}

void board_add_rom(BoardContext *ctx, const char *name, const void *data,
                   size_t len)
{
    g_assert(ctx->n_roms < BOARD_MAX_ROMS);
    BoardRom *r = &ctx->roms[ctx->n_roms++];
    r->name = name;
    r->size = len;
    g_autofree char *h = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
                                                      data, len);
    g_strlcpy(r->sha256, h, sizeof(r->sha256));
}
