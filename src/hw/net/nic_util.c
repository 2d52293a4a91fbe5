/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the NIC models (see nic_util.h).
 * Reference: RFC 1071 (the Internet checksum), RFC 791 and RFC 793 (the
 * IPv4 and TCP headers), IEEE 802.3 clause 3.2.9 (the CRC polynomial).
 */
#include "hw/net/nic_util.h"

#include <glib.h>
#include <string.h>

/* Eight bytes at a time into a 64-bit sum: the one's-complement sum of
   big-endian 16-bit words does not depend on how they are grouped, and
   folding the carries back in at the end gives the same 16 bits. */
uint32_t nic_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        acc += (uint64_t)nic_be16(p + i) + nic_be16(p + i + 2) +
               nic_be16(p + i + 4) + nic_be16(p + i + 6);
    }
    for (; i + 1 < len; i += 2) {
        acc += nic_be16(p + i);
    }
    if (len & 1) {
        acc += p[len - 1] << 8;
    }
    acc += sum;
    while (acc >> 32) {
        acc = (acc & 0xffffffffu) + (acc >> 32);
    }
    return nic_csum_fold((uint32_t)acc); /* room for the caller's sums */
}

uint16_t nic_csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

/* The offset of the IPv4 header, or 0 when the frame carries none. */
static size_t ipv4_offset(const uint8_t *p, size_t len)
{
    size_t off = 12;
    if (len >= 18 && nic_be16(p + 12) == 0x8100) {
        off = 16;
    }
    if (len < off + 2 + 20 || nic_be16(p + off) != 0x0800) {
        return 0;
    }
    off += 2;
    if ((p[off] >> 4) != 4 || (p[off] & 15) < 5 ||
        off + (p[off] & 15) * 4u > len) {
        return 0;
    }
    return off;
}

void nic_ipv4_checksums(uint8_t *p, size_t len, bool ip, bool l4)
{
    size_t off = ipv4_offset(p, len);
    if (!off) {
        return;
    }
    size_t ihl = (p[off] & 15) * 4u;
    if (ip) {
        nic_put_be16(p + off + 10, 0);
        nic_put_be16(p + off + 10,
                     ~nic_csum_fold(nic_csum_add(0, p + off, ihl)));
    }
    if (!l4) {
        return;
    }
    size_t tot = nic_be16(p + off + 2);
    if (tot < ihl || off + tot > len) {
        tot = len - off; /* trust the frame, not the header */
    }
    if (nic_be16(p + off + 6) & 0x3fff) {
        return; /* a fragment: no transport header checksum here */
    }
    size_t l4off = off + ihl, l4len = tot - ihl;
    unsigned proto = p[off + 9], cso;
    if (proto == 6 && l4len >= 20) {
        cso = 16;
    } else if (proto == 17 && l4len >= 8) {
        cso = 6;
    } else {
        return;
    }
    nic_put_be16(p + l4off + cso, 0);
    uint32_t sum = nic_csum_add(0, p + off + 12, 8); /* addresses */
    sum += proto + (uint32_t)l4len;
    sum = nic_csum_add(sum, p + l4off, l4len);
    uint16_t c = ~nic_csum_fold(sum);
    if (proto == 17 && c == 0) {
        c = 0xffff;
    }
    nic_put_be16(p + l4off + cso, c);
}

void nic_rx_checksums(const uint8_t *p, size_t len, NicRxCsum *r)
{
    memset(r, 0, sizeof(*r));
    size_t off = ipv4_offset(p, len);
    if (!off) {
        return;
    }
    size_t ihl = (p[off] & 15) * 4u;
    r->ip = true;
    r->ip_ok = nic_csum_fold(nic_csum_add(0, p + off, ihl)) == 0xffff;
    size_t tot = nic_be16(p + off + 2);
    if (tot < ihl || off + tot > len || (nic_be16(p + off + 6) & 0x3fff)) {
        return; /* truncated, or a fragment: no transport checksum here */
    }
    size_t l4off = off + ihl, l4len = tot - ihl;
    unsigned proto = p[off + 9];
    if (!(proto == 6 && l4len >= 20) &&
        !(proto == 17 && l4len >= 8 && nic_be16(p + l4off + 6) != 0)) {
        return;
    }
    r->l4 = true;
    uint32_t sum = nic_csum_add(0, p + off + 12, 8); /* addresses */
    sum += proto + (uint32_t)l4len;
    sum = nic_csum_add(sum, p + l4off, l4len);
    r->l4_ok = nic_csum_fold(sum) == 0xffff;
}

bool nic_tcp_segment(const uint8_t *p, size_t len, unsigned mss,
                     void (*emit)(void *opaque, uint8_t *seg, size_t len),
                     void *opaque)
{
    size_t off = ipv4_offset(p, len);
    if (!off || mss == 0 || p[off + 9] != 6) {
        return false;
    }
    size_t ihl = (p[off] & 15) * 4u;
    size_t tcp = off + ihl;
    if (tcp + 20 > len) {
        return false;
    }
    size_t thl = (p[tcp + 12] >> 4) * 4u;
    if (thl < 20 || tcp + thl > len) {
        return false;
    }
    size_t hdr = tcp + thl, payload = len - hdr;
    uint8_t *seg = g_malloc(hdr + mss);
    uint16_t id = nic_be16(p + off + 4);
    uint32_t seq = (uint32_t)nic_be16(p + tcp + 4) << 16 |
                   nic_be16(p + tcp + 6);
    unsigned i = 0;
    size_t pos = 0;
    do {
        size_t chunk = MIN((size_t)mss, payload - pos);
        bool last = pos + chunk >= payload;
        memcpy(seg, p, hdr);
        memcpy(seg + hdr, p + hdr + pos, chunk);
        nic_put_be16(seg + off + 2, ihl + thl + chunk);
        nic_put_be16(seg + off + 4, id + i);
        uint32_t s = seq + pos;
        nic_put_be16(seg + tcp + 4, s >> 16);
        nic_put_be16(seg + tcp + 6, s);
        if (!last) {
            seg[tcp + 13] &= ~0x09; /* FIN and PSH on the last one only */
        }
        nic_ipv4_checksums(seg, hdr + chunk, true, true);
        emit(opaque, seg, hdr + chunk);
        pos += chunk;
        i++;
    } while (pos < payload);
    g_free(seg);
    return true;
}

uint32_t nic_ether_crc_be(const uint8_t *addr)
{
    uint32_t crc = 0xffffffff;
    for (int i = 0; i < 6; i++) {
        uint8_t b = addr[i];
        for (int k = 0; k < 8; k++, b >>= 1) {
            uint32_t top = crc >> 31;
            crc <<= 1;
            if (top ^ (b & 1)) {
                crc ^= 0x04c11db7;
            }
        }
    }
    return crc;
}
