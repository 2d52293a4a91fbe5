/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Board registry and firmware lookup.  A board
 * is found by name.  Firmware files
 * are searched in the -L directories, Mimic's data directory, then
 * Debian's /usr/share/seabios and /usr/share/qemu.
 */
#include "hw/board.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mimic-config.h"

G_DEFINE_QUARK(mimic-board-error-quark, board_error)

extern const BoardType pc_board;

static const BoardType *const board_table[] = {
    &pc_board,
};

const BoardType *board_find(const char *name)
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

static const char *file_kind(mode_t mode)
{
    return S_ISDIR(mode) ? "a directory" :
           S_ISCHR(mode) ? "a character device" :
           S_ISBLK(mode) ? "a block device" :
           S_ISFIFO(mode) ? "a FIFO" :
           S_ISSOCK(mode) ? "a socket" : "a special file";
}

bool board_load_file(const char *what, const char *path, size_t max,
                     uint8_t **data, size_t *len, GError **error)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "%s: cannot open '%s': %s", what, path,
                    g_strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG, "%s: '%s': %s",
                    what, path, g_strerror(errno));
        close(fd);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "%s: '%s' is not a regular file (%s)", what, path,
                    file_kind(st.st_mode));
        close(fd);
        return false;
    }
    if ((uint64_t)st.st_size > max) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "%s: '%s' is too large (%" G_GUINT64_FORMAT " bytes; at "
                    "most %zu)", what, path, (guint64)st.st_size, max);
        close(fd);
        return false;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    /* One byte more than the size: a file that grows while we read it is
       seen, and read no further than max. */
    size_t want = MIN((size_t)st.st_size, max) + 1;
    uint8_t *buf = g_malloc(want);
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                        "%s: cannot read '%s': %s", what, path,
                        g_strerror(errno));
            g_free(buf);
            close(fd);
            return false;
        }
        if (n == 0) {
            break;
        }
        got += n;
    }
    close(fd);
    if (got > max || got != (size_t)st.st_size) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "%s: '%s' changed while it was read", what, path);
        g_free(buf);
        return false;
    }
    *data = buf;
    *len = got;
    return true;
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
    g_ptr_array_add(dirs, (gpointer)"/usr/lib/ipxe/qemu"); /* ipxe-qemu */
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

void board_add_ram_block(BoardInstance *ctx, const char *name, uint8_t *host,
                         uint64_t size)
{
    g_assert(ctx->n_ram_blocks < BOARD_MAX_RAM_BLOCKS);
    ctx->ram_blocks[ctx->n_ram_blocks++] =
        (BoardRamBlock){ .name = name, .host = host, .size = size };
}

void board_add_rom(BoardInstance *ctx, const char *name, const void *data,
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
