/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU's firmware configuration device, as SeaBIOS expects it on a PC:
 * selector port 0x510, data port 0x511, DMA address at 0x514.  The board
 * adds items (numbered keys and named files) before the guest starts.
 */
#ifndef MIMIC_HW_ISA_FW_CFG_H
#define MIMIC_HW_ISA_FW_CFG_H

#include "bus/device.h"

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_KERNEL_ADDR 0x07
#define FW_CFG_KERNEL_SIZE 0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR 0x0a
#define FW_CFG_INITRD_SIZE 0x0b
#define FW_CFG_BOOT_DEVICE 0x0c
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_KERNEL_ENTRY 0x10
#define FW_CFG_KERNEL_DATA 0x11
#define FW_CFG_INITRD_DATA 0x12
#define FW_CFG_CMDLINE_ADDR 0x13
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_SETUP_ADDR 0x16
#define FW_CFG_SETUP_SIZE 0x17
#define FW_CFG_SETUP_DATA 0x18
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_E820_TABLE 0x8003
#define FW_CFG_MAX_ENTRY 0x8010

typedef struct FwCfgItem {
    uint8_t *data;
    uint32_t len;
} FwCfgItem;

typedef struct FwCfg {
    Device dev;
    uint16_t selector;
    uint32_t offset;
    uint64_t dma_addr;
    GHashTable *items; /* key -> FwCfgItem (board-built, not saved) */
    GByteArray *dir;   /* FW_CFG_FILE_DIR contents */
    uint16_t next_file;
} FwCfg;

extern const DeviceInfo fw_cfg_info;

/* The device takes ownership of data (g_free'd). */
void fw_cfg_add(FwCfg *s, uint16_t key, void *data, uint32_t len);
void fw_cfg_add_i16(FwCfg *s, uint16_t key, uint16_t v);
void fw_cfg_add_i32(FwCfg *s, uint16_t key, uint32_t v);
void fw_cfg_add_i64(FwCfg *s, uint16_t key, uint64_t v);
void fw_cfg_add_file(FwCfg *s, const char *name, void *data, uint32_t len);

#endif
