/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Little-endian loads and stores of guest-format byte buffers (FXSAVE
 * and FSAVE images, descriptor tables, signal frames) for the x86 core.
 */
#ifndef MIMIC_ARCH_X86_LE_H
#define MIMIC_ARCH_X86_LE_H

#include <stdint.h>
#include <string.h>

#include <glib.h>

static inline uint16_t le_get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return GUINT16_FROM_LE(v);
}

static inline uint32_t le_get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return GUINT32_FROM_LE(v);
}

static inline void le_put16(uint8_t *p, uint16_t v)
{
    v = GUINT16_TO_LE(v);
    memcpy(p, &v, 2);
}

static inline void le_put32(uint8_t *p, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, 4);
}

#endif
