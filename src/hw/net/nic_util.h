/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the NIC models: byte order, the Internet checksum
 * (RFC 1071) and the receive address filter every Ethernet card applies.
 */
#ifndef MIMIC_HW_NET_NIC_UTIL_H
#define MIMIC_HW_NET_NIC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint16_t nic_be16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

static inline void nic_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static inline uint16_t nic_le16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

static inline uint32_t nic_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t nic_le64(const uint8_t *p)
{
    return nic_le32(p) | (uint64_t)nic_le32(p + 4) << 32;
}

static inline void nic_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static inline void nic_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

/* One's-complement sum of len bytes (big-endian words) added to sum. */
uint32_t nic_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t nic_csum_fold(uint32_t sum);

/* Fill in the checksums of an IPv4 frame (Ethernet header at p, an
   optional 802.1Q tag skipped): the IP header's when ip, the TCP or UDP
   one when l4 (computed from scratch over the pseudo-header).  Frames
   that are not IPv4, or are truncated, are left alone. */
void nic_ipv4_checksums(uint8_t *p, size_t len, bool ip, bool l4);

/* Split an IPv4/TCP frame of len bytes into segments of at most mss
   payload bytes each, with fixed-up lengths, IDs, sequence numbers, flags
   and checksums, calling emit for each one.  Returns false (nothing sent)
   when the frame is not IPv4/TCP or mss is 0. */
bool nic_tcp_segment(const uint8_t *p, size_t len, unsigned mss,
                     void (*emit)(void *opaque, uint8_t *seg, size_t len),
                     void *opaque);

/* Receive checksum offload: what a card that checks an incoming frame's
   checksums reports.  ip: an IPv4 header was found (ip_ok: its checksum
   is right); l4: a whole (unfragmented) TCP or UDP datagram with a
   checksum was found after it (l4_ok: that checksum is right). */
typedef struct NicRxCsum {
    bool ip, ip_ok, l4, l4_ok;
} NicRxCsum;
void nic_rx_checksums(const uint8_t *p, size_t len, NicRxCsum *r);

/* Big-endian CRC-32 of the destination address, as the multicast hash
   filters of the 8390 and the 8139 index it (upper 6 bits). */
uint32_t nic_ether_crc_be(const uint8_t *addr);

#endif
