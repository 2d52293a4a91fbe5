/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Big-endian load/store helpers for on-disk image metadata. Image headers
 * and tables (qcow, qcow2) are big-endian; never cast a packed struct over
 * a buffer, go through these byte-wise helpers instead.
 */
#ifndef MIMIC_IMAGES_BE_H
#define MIMIC_IMAGES_BE_H

#include <stdint.h>

static inline uint16_t be16_load(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t be32_load(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t be64_load(const uint8_t *p)
{
    return ((uint64_t)be32_load(p) << 32) | be32_load(p + 4);
}

static inline void be16_store(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static inline void be32_store(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static inline void be64_store(uint8_t *p, uint64_t v)
{
    be32_store(p, v >> 32);
    be32_store(p + 4, (uint32_t)v);
}

#endif
