/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the physical address map and the I/O port space. */
#include <string.h>

#include "bus/ioport.h"
#include "bus/memory.h"

static uint64_t mmio_last_off;
static unsigned mmio_last_size;
static uint64_t mmio_reg[4];

static uint64_t test_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    mmio_last_off = off;
    mmio_last_size = size;
    return mmio_reg[(off / 4) & 3];
}

static void test_mmio_write(void *opaque, uint64_t off, uint64_t v,
                            unsigned size)
{
    mmio_last_off = off;
    mmio_last_size = size;
    mmio_reg[(off / 4) & 3] = v;
}

static const MemOps mmio_ops = {
    .read = test_mmio_read, .write = test_mmio_write, .min = 4, .max = 4,
};

static void test_ram_rom_unassigned(void)
{
    MemMap *map = memmap_new();
    uint8_t *ram = g_malloc0(64 * 1024);
    uint8_t *rom = g_malloc0(4096);
    memset(rom, 0xab, 4096);
    memmap_add_ram(map, "ram", 0, 64 * 1024, ram, 0);
    memmap_add_rom(map, "rom", 0x100000, 4096, rom, 0);

    memmap_write_sized(map, 0x10, 0x11223344, 4);
    g_assert_cmphex(ram[0x10], ==, 0x44);
    g_assert_cmphex(memmap_read_sized(map, 0x12, 2), ==, 0x1122);
    /* Across a page boundary. */
    memmap_write_sized(map, 0xffe, 0xaabbccdd, 4);
    g_assert_cmphex(memmap_read_sized(map, 0xffe, 4), ==, 0xaabbccdd);
    /* ROM: writes dropped. */
    memmap_write_sized(map, 0x100000, 0, 4);
    g_assert_cmphex(memmap_read_sized(map, 0x100000, 4), ==, 0xabababab);
    g_assert_null(memmap_page_write_ptr(map, 0x100000));
    g_assert_nonnull(memmap_page_read_ptr(map, 0x100000));
    /* Unassigned: all ones, writes ignored, beyond the physical limit too. */
    g_assert_cmphex(memmap_read_sized(map, 0x200000, 4), ==, 0xffffffff);
    g_assert_cmphex(memmap_read_sized(map, MEM_PHYS_LIMIT + 5, 2), ==,
                    0xffff);
    memmap_write_sized(map, MEM_PHYS_LIMIT + 5, 1, 8);
    uint8_t buf[8];
    memmap_read(map, 64 * 1024 - 4, buf, 8);
    g_assert_cmphex(buf[4], ==, 0xff);
    memmap_free(map);
    g_free(ram);
    g_free(rom);
}

static void test_mmio_sizes(void)
{
    MemMap *map = memmap_new();
    memmap_add_mmio(map, "dev", 0x1000, 0x1000, &mmio_ops, NULL, 0);
    memmap_write_sized(map, 0x1004, 0x12345678, 4);
    g_assert_cmphex(mmio_reg[1], ==, 0x12345678);
    g_assert_cmpuint(mmio_last_size, ==, 4);
    /* A byte read is widened to the device's 4-byte minimum. */
    g_assert_cmphex(memmap_read_sized(map, 0x1006, 1), ==, 0x34);
    g_assert_cmpuint(mmio_last_size, ==, 4);
    g_assert_cmphex(mmio_last_off, ==, 4);
    /* An 8-byte write is split. */
    memmap_write_sized(map, 0x1008, 0x0000000200000001ull, 8);
    g_assert_cmphex(mmio_reg[2], ==, 1);
    g_assert_cmphex(mmio_reg[3], ==, 2);
    memmap_free(map);
}

static void test_priority_and_access(void)
{
    MemMap *map = memmap_new();
    uint8_t *ram = g_malloc0(8192), *rom = g_malloc0(8192);
    memset(rom, 0x5a, 8192);
    MemRegion *r = memmap_add_ram(map, "shadow", 0xe0000, 8192, ram, 1);
    MemRegion *o = memmap_add_rom(map, "bios", 0xe0000, 8192, rom, 0);
    (void)o;
    /* RAM (higher priority) wins. */
    memmap_write_sized(map, 0xe0000, 0x77, 1);
    g_assert_cmphex(memmap_read_sized(map, 0xe0000, 1), ==, 0x77);
    /* PAM "write RAM, read ROM". */
    memmap_set_access(map, r, MEM_ACCESS_WRITE);
    g_assert_cmphex(memmap_read_sized(map, 0xe0000, 1), ==, 0x5a);
    memmap_write_sized(map, 0xe0001, 0x66, 1);
    g_assert_cmphex(ram[1], ==, 0x66);
    memmap_set_access(map, r, MEM_ACCESS_RW);
    g_assert_cmphex(memmap_read_sized(map, 0xe0001, 1), ==, 0x66);
    /* Alias. */
    memmap_add_alias(map, "alias", 0x200000, 4096, r, 4096, 0);
    ram[4096 + 3] = 0x99;
    g_assert_cmphex(memmap_read_sized(map, 0x200003, 1), ==, 0x99);
    memmap_free(map);
    g_free(ram);
    g_free(rom);
}

static int code_hits;
static void on_code_write(void *opaque, uint64_t paddr, unsigned len)
{
    code_hits++;
}

static void test_code_pages(void)
{
    MemMap *map = memmap_new();
    uint8_t *ram = g_malloc0(16384);
    memmap_add_ram(map, "ram", 0, 16384, ram, 0);
    memmap_set_code_write_hook(map, on_code_write, NULL);
    memmap_mark_code(map, 0x1000);
    g_assert_null(memmap_page_write_ptr(map, 0x1234));
    g_assert_nonnull(memmap_page_write_ptr(map, 0x2000));
    memmap_write_sized(map, 0x1010, 1, 1);
    g_assert_cmpint(code_hits, ==, 1);
    memmap_write(map, 0xff0, "0123456789abcdefXYZ", 19);
    g_assert_cmpint(code_hits, ==, 2);
    memmap_unmark_code(map, 0x1000);
    memmap_write_sized(map, 0x1010, 1, 1);
    g_assert_cmpint(code_hits, ==, 2);
    memmap_free(map);
    g_free(ram);
}

static uint32_t io_val;
static unsigned io_size;
static uint32_t io_read(void *opaque, uint16_t off, unsigned size)
{
    io_size = size;
    return io_val >> (8 * off);
}
static void io_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    io_size = size;
    io_val = v;
}
static const IoRegion io_table[] = {
    { .base = 0x60, .len = 1, .min = 1, .max = 1, .read = io_read,
      .write = io_write, .name = "byte" },
    { .base = 0x70, .len = 4, .min = 4, .max = 4, .read = io_read,
      .write = io_write, .name = "dword" },
    { 0 },
};

static void test_ioport(void)
{
    IoSpace *io = ioport_new();
    ioport_register_table(io, io_table, NULL);
    g_assert_cmphex(ioport_read(io, 0x1234, 2), ==, 0xffff);
    ioport_write(io, 0x60, 0x5a, 1);
    g_assert_cmphex(io_val, ==, 0x5a);
    /* A word access to a byte-wide port is split. */
    ioport_write(io, 0x60, 0x1234, 2);
    g_assert_cmpuint(io_size, ==, 1);
    ioport_write(io, 0x70, 0xdeadbeef, 4);
    g_assert_cmphex(ioport_read(io, 0x70, 4), ==, 0xdeadbeef);
    /* A byte read of a dword port is widened. */
    g_assert_cmphex(ioport_read(io, 0x70, 1), ==, 0xef);
    g_assert_cmpuint(io_size, ==, 4);
    /* Port 0xffff with a dword access must not wrap into chaos. */
    (void)ioport_read(io, 0xffff, 4);
    ioport_write(io, 0xffff, 1, 4);
    GString *s = g_string_new(NULL);
    ioport_dump(io, s);
    g_assert_nonnull(strstr(s->str, "0070-0073: dword"));
    g_string_free(s, TRUE);
    ioport_free(io);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/memory/ram-rom-unassigned",
                    test_ram_rom_unassigned);
    g_test_add_func("/engine/memory/mmio-sizes", test_mmio_sizes);
    g_test_add_func("/engine/memory/priority-and-access",
                    test_priority_and_access);
    g_test_add_func("/engine/memory/code-pages", test_code_pages);
    g_test_add_func("/engine/ioport/dispatch", test_ioport);
    return g_test_run();
}
