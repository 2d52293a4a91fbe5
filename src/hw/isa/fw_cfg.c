/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Firmware configuration device (see fw_cfg.h).
 * Reference: QEMU's docs/specs/fw_cfg.rst (the interface, not code):
 * a 16-bit selector picks an item, the data port returns its bytes in
 * order (zero past the end), the file directory (key 0x19) lists named
 * items as big-endian {size, select, reserved, name[56]}, and the DMA
 * interface takes the guest address of a big-endian {control, length,
 * address} descriptor written as two 32-bit big-endian halves (the write
 * of the low half at 0x518 starts the transfer).  DMA moves data through
 * the memory map only, so a guest cannot reach outside its RAM.
 */
#include "hw/isa/fw_cfg.h"

#include <string.h>

#include "bus/log.h"

#define DMA_ERROR 0x01
#define DMA_READ 0x02
#define DMA_SKIP 0x04
#define DMA_SELECT 0x08
#define DMA_WRITE 0x10
#define DMA_SIGNATURE 0x51454d5520434647ull /* "QEMU CFG" */

static void item_free(gpointer p)
{
    FwCfgItem *it = p;
    g_free(it->data);
    g_free(it);
}

void fw_cfg_add(FwCfg *s, uint16_t key, void *data, uint32_t len)
{
    FwCfgItem *it = g_new(FwCfgItem, 1);
    it->data = data;
    it->len = len;
    g_hash_table_replace(s->items, GUINT_TO_POINTER(key), it);
}

void fw_cfg_add_i16(FwCfg *s, uint16_t key, uint16_t v)
{
    uint8_t *p = g_malloc(2);
    p[0] = v;
    p[1] = v >> 8;
    fw_cfg_add(s, key, p, 2);
}

void fw_cfg_add_i32(FwCfg *s, uint16_t key, uint32_t v)
{
    uint8_t *p = g_malloc(4);
    for (int i = 0; i < 4; i++) {
        p[i] = v >> (8 * i);
    }
    fw_cfg_add(s, key, p, 4);
}

void fw_cfg_add_i64(FwCfg *s, uint16_t key, uint64_t v)
{
    uint8_t *p = g_malloc(8);
    for (int i = 0; i < 8; i++) {
        p[i] = v >> (8 * i);
    }
    fw_cfg_add(s, key, p, 8);
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        p[i] = v >> (8 * (n - 1 - i));
    }
}

void fw_cfg_add_file(FwCfg *s, const char *name, void *data, uint32_t len)
{
    uint16_t key = s->next_file++;
    fw_cfg_add(s, key, data, len);
    uint32_t count = (s->dir->len - 4) / 64 + 1;
    uint8_t ent[64] = { 0 };
    put_be(ent, len, 4);
    put_be(ent + 4, key, 2);
    g_strlcpy((char *)ent + 8, name, 56);
    g_byte_array_append(s->dir, ent, 64);
    put_be(s->dir->data, count, 4);
    /* Keep the directory item in sync (copy: items own their data). */
    fw_cfg_add(s, FW_CFG_FILE_DIR, g_memdup2(s->dir->data, s->dir->len),
               s->dir->len);
}

static FwCfgItem *current(FwCfg *s)
{
    return g_hash_table_lookup(s->items, GUINT_TO_POINTER(s->selector));
}

static uint8_t read_byte(FwCfg *s)
{
    FwCfgItem *it = current(s);
    if (!it || s->offset >= it->len) {
        return 0;
    }
    return it->data[s->offset++];
}

static uint64_t be_load(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void dma_run(FwCfg *s)
{
    MemMap *mem = s->dev.bus->mem;
    uint8_t d[16];
    memmap_read(mem, s->dma_addr, d, 16);
    uint32_t control = be_load(d, 4);
    uint32_t length = be_load(d + 4, 4);
    uint64_t addr = be_load(d + 8, 8);
    if (control & DMA_SELECT) {
        s->selector = control >> 16;
        s->offset = 0;
    }
    FwCfgItem *it = current(s);
    uint32_t status = 0;
    if (control & DMA_READ) {
        /* Only the item's remaining bytes move; a guest asking for more
           (up to 4 GiB) gets the item and nothing else, so it cannot make
           the emulator spin through a huge transfer. */
        uint32_t avail = it && s->offset < it->len ? it->len - s->offset : 0;
        uint32_t n = MIN(length, avail);
        if (n) {
            memmap_write(mem, addr, it->data + s->offset, n);
            s->offset += n;
        }
    } else if (control & DMA_SKIP) {
        uint32_t avail = it && s->offset < it->len ? it->len - s->offset : 0;
        s->offset += MIN(length, avail);
    } else if (control & DMA_WRITE) {
        status = DMA_ERROR; /* all items are read-only */
    }
    uint8_t out[4];
    put_be(out, status, 4);
    memmap_write(mem, s->dma_addr, out, 4);
}

static uint32_t fw_cfg_read(void *opaque, uint16_t off, unsigned size)
{
    FwCfg *s = opaque;
    switch (off) {
    case 0:
    case 1:
        if (off == 1) {
            uint32_t v = 0;
            for (unsigned i = 0; i < size; i++) {
                v |= (uint32_t)read_byte(s) << (8 * i);
            }
            return v;
        }
        return s->selector;
    case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11: {
        /* The DMA register reads back the signature, big-endian. */
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            unsigned b = off - 4 + i;
            if (b < 8) {
                v |= (uint32_t)((DMA_SIGNATURE >> (8 * (7 - b))) & 0xff)
                     << (8 * i);
            }
        }
        return v;
    }
    }
    return 0;
}

static uint32_t bswap32_(uint32_t v)
{
    return __builtin_bswap32(v);
}

static void fw_cfg_write(void *opaque, uint16_t off, uint32_t v,
                         unsigned size)
{
    FwCfg *s = opaque;
    switch (off) {
    case 0:
        if (size == 2) {
            s->selector = v;
            s->offset = 0;
        }
        return;
    case 1:
        return; /* writes through the data port are ignored */
    case 4:
        if (size == 4) {
            s->dma_addr = (uint64_t)bswap32_(v) << 32;
        }
        return;
    case 8:
        if (size == 4) {
            s->dma_addr |= bswap32_(v);
            dma_run(s);
            s->dma_addr = 0;
        }
        return;
    }
}

/* 0x510 selector, 0x511 data, 0x514-0x51b DMA address. */
static const IoRegion fw_cfg_io[] = {
    { .base = 0x510, .len = 12, .min = 1, .max = 4, .read = fw_cfg_read,
      .write = fw_cfg_write, .name = "fw_cfg" },
    { 0 },
};

static bool fw_cfg_realize(Device *dev, GError **error)
{
    FwCfg *s = (FwCfg *)dev;
    s->items = g_hash_table_new_full(NULL, NULL, NULL, item_free);
    s->dir = g_byte_array_new();
    uint8_t zero[4] = { 0 };
    g_byte_array_append(s->dir, zero, 4);
    s->next_file = FW_CFG_FILE_FIRST;
    fw_cfg_add(s, FW_CFG_SIGNATURE, g_memdup2("QEMU", 4), 4);
    fw_cfg_add_i32(s, FW_CFG_ID, 3); /* traditional interface + DMA */
    fw_cfg_add(s, FW_CFG_FILE_DIR, g_memdup2(s->dir->data, 4), 4);
    return true;
}

static void fw_cfg_finalize(Device *dev)
{
    FwCfg *s = (FwCfg *)dev;
    g_hash_table_destroy(s->items);
    g_byte_array_free(s->dir, TRUE);
}

static void fw_cfg_reset(Device *dev)
{
    FwCfg *s = (FwCfg *)dev;
    s->selector = 0;
    s->offset = 0;
    s->dma_addr = 0;
}

static const StateDesc fw_cfg_state = {
    .name = "fw_cfg", .version = 1, .min_version = 1,
    .fields = (const StateField[]) {
        STATE_U16(FwCfg, selector), STATE_U32(FwCfg, offset),
        STATE_U64(FwCfg, dma_addr), STATE_END },
};

const DeviceInfo fw_cfg_info = {
    .name = "fw_cfg", .size = sizeof(FwCfg), .io = fw_cfg_io,
    .state = &fw_cfg_state, .realize = fw_cfg_realize,
    .finalize = fw_cfg_finalize, .reset = fw_cfg_reset,
};

