/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the declarative state serializer and the device list. */
#include <string.h>

#include "bus/device.h"
#include "state/state.h"

typedef struct Chan {
    uint16_t reload;
    uint8_t mode;
    int64_t load_ns;
} Chan;

typedef struct Dev {
    Device dev;
    Chan ch[3];
    uint32_t regs[4];
    bool flag;
    uint8_t blob[5];
    uint32_t added_v2;
} Dev;

static const StateField chan_fields[] = {
    STATE_U16(Chan, reload), STATE_U8(Chan, mode), STATE_I64(Chan, load_ns),
    STATE_END,
};

static bool dev_post_load(void *obj, GError **error)
{
    Dev *d = obj;
    for (int i = 0; i < 3; i++) {
        if (d->ch[i].mode > 5) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                        "bad mode %u", d->ch[i].mode);
            return false;
        }
    }
    return true;
}

static const StateDesc dev_state = {
    .name = "testdev", .version = 2, .min_version = 1,
    .post_load = dev_post_load,
    .fields = (const StateField[]) {
        STATE_STRUCT_ARRAY(Dev, ch, 3, chan_fields),
        STATE_U32_ARRAY(Dev, regs, 4),
        STATE_BOOL(Dev, flag),
        STATE_BYTES(Dev, blob, 5),
        STATE_U32(Dev, added_v2, STATE_V(2)),
        STATE_END,
    },
};

static void fill(Dev *d)
{
    for (int i = 0; i < 3; i++) {
        d->ch[i].reload = 0x1000 + i;
        d->ch[i].mode = i;
        d->ch[i].load_ns = -5 - i;
    }
    for (int i = 0; i < 4; i++) {
        d->regs[i] = 0xdead0000 + i;
    }
    d->flag = true;
    memcpy(d->blob, "hello", 5);
    d->added_v2 = 77;
}

static void test_round_trip(void)
{
    Dev a = { 0 }, b = { 0 };
    fill(&a);
    GByteArray *out = g_byte_array_new();
    state_save(&dev_state, &a, out);
    g_assert_cmpuint(out->len, ==, state_size(&dev_state, 2));
    size_t used = 0;
    g_assert_true(state_load(&dev_state, &b, 2, out->data, out->len, &used,
                             NULL));
    g_assert_cmpuint(used, ==, out->len);
    g_assert_cmpmem(&a.ch, sizeof(a.ch), &b.ch, sizeof(b.ch));
    g_assert_cmpmem(a.regs, sizeof(a.regs), b.regs, sizeof(b.regs));
    g_assert_true(b.flag);
    g_assert_cmpmem(a.blob, 5, b.blob, 5);
    g_assert_cmpuint(b.added_v2, ==, 77);
    /* Saving again gives identical bytes. */
    GByteArray *again = g_byte_array_new();
    state_save(&dev_state, &b, again);
    g_assert_cmpmem(out->data, out->len, again->data, again->len);
    g_byte_array_free(out, TRUE);
    g_byte_array_free(again, TRUE);
}

static void test_hostile(void)
{
    Dev a = { 0 }, b = { 0 };
    GError *err = NULL;
    fill(&a);
    GByteArray *out = g_byte_array_new();
    state_save(&dev_state, &a, out);
    /* Truncated at every length. */
    for (guint n = 0; n < out->len; n++) {
        g_assert_false(state_load(&dev_state, &b, 2, out->data, n, NULL,
                                  &err));
        g_assert_error(err, STATE_ERROR, STATE_ERROR_TRUNCATED);
        g_clear_error(&err);
    }
    /* Out-of-range value caught by post_load. */
    out->data[2] = 9; /* ch[0].mode */
    g_assert_false(state_load(&dev_state, &b, 2, out->data, out->len, NULL,
                              &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_INVALID);
    g_clear_error(&err);
    out->data[2] = 0;
    /* Non-boolean boolean. */
    size_t flag_pos = 3 * 11 + 16;
    out->data[flag_pos] = 2;
    g_assert_false(state_load(&dev_state, &b, 2, out->data, out->len, NULL,
                              &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_INVALID);
    g_clear_error(&err);
    /* Versions. */
    g_assert_false(state_load(&dev_state, &b, 3, out->data, out->len, NULL,
                              &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_VERSION);
    g_clear_error(&err);
    g_byte_array_free(out, TRUE);
}

static void test_old_version(void)
{
    Dev a = { 0 }, b = { 0 };
    fill(&a);
    GByteArray *v1 = g_byte_array_new();
    state_save(&dev_state, &a, v1);
    g_byte_array_set_size(v1, state_size(&dev_state, 1));
    size_t used;
    b.added_v2 = 5;
    g_assert_true(state_load(&dev_state, &b, 1, v1->data, v1->len, &used,
                             NULL));
    g_assert_cmpuint(used, ==, v1->len);
    g_assert_cmpuint(b.added_v2, ==, 5); /* untouched */
    g_byte_array_free(v1, TRUE);
}

static int resets;
/* STATE_T_BUFFER: a device-allocated buffer behind a pointer (VRAM). */
typedef struct BufDev {
    uint8_t before;
    uint8_t *buf;
    uint16_t after;
} BufDev;

static const StateDesc bufdev_state = {
    .name = "bufdev", .version = 1, .min_version = 1,
    .fields = (const StateField[]) {
        STATE_U8(BufDev, before), STATE_BUFFER(BufDev, buf, 100000),
        STATE_U16(BufDev, after), STATE_END },
};

static void test_buffer(void)
{
    BufDev a = { .before = 7, .buf = g_malloc(100000), .after = 0x1234 };
    for (int i = 0; i < 100000; i++) {
        a.buf[i] = i * 7;
    }
    GByteArray *out = g_byte_array_new();
    state_save(&bufdev_state, &a, out);
    g_assert_cmpuint(out->len, ==, 1 + 100000 + 2);
    g_assert_cmpuint(state_size(&bufdev_state, 1), ==, out->len);
    g_assert_cmpmem(out->data + 1, 100000, a.buf, 100000);
    BufDev b = { .buf = g_malloc0(100000) };
    uint8_t *keep = b.buf;
    size_t used = 0;
    GError *err = NULL;
    g_assert_true(state_load(&bufdev_state, &b, 1, out->data, out->len,
                             &used, &err));
    g_assert_no_error(err);
    g_assert_true(b.buf == keep); /* loaded into, never replaced */
    g_assert_cmpuint(used, ==, out->len);
    g_assert_cmpmem(b.buf, 100000, a.buf, 100000);
    g_assert_cmpuint(b.before, ==, 7);
    g_assert_cmphex(b.after, ==, 0x1234);
    /* Truncated inside the buffer: refused before anything is copied. */
    memset(b.buf, 0, 100000);
    g_assert_false(state_load(&bufdev_state, &b, 1, out->data, 5000, NULL,
                              &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_TRUNCATED);
    g_clear_error(&err);
    g_assert_cmpuint(b.buf[10], ==, 0);
    GString *desc = g_string_new(NULL);
    state_describe(&bufdev_state, desc);
    g_assert_nonnull(strstr(desc->str, "buffer buf[100000]"));
    g_string_free(desc, TRUE);
    g_byte_array_free(out, TRUE);
    g_free(a.buf);
    g_free(b.buf);
}

static void dev_reset(Device *d)
{
    resets++;
}

static const IoRegion dev_io[] = {
    { .base = 0x80, .len = 1, .name = "post" }, { 0 },
};

static const DeviceInfo dev_info = {
    .name = "testdev", .size = sizeof(Dev), .io = dev_io,
    .state = &dev_state, .reset = dev_reset,
};

static void test_device_list(void)
{
    MachineBuses bus = { .io = ioport_new() };
    DeviceList *l = device_list_new();
    Device *d = device_new(l, &dev_info, &bus, "t0");
    g_assert_true(device_realize(d, NULL));
    g_assert_cmpint(resets, ==, 1);
    device_list_reset(l);
    g_assert_cmpint(resets, ==, 2);
    g_assert_true(device_find(l, "t0") == d);
    g_assert_null(device_find(l, "nope"));
    g_assert_cmpuint(device_list_length(l), ==, 1);
    GString *s = g_string_new(NULL);
    state_describe(&dev_state, s);
    g_assert_nonnull(strstr(s->str, "u16 reload[1]"));
    g_string_free(s, TRUE);
    device_list_free(l);
    ioport_free(bus.io);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/state/round-trip", test_round_trip);
    g_test_add_func("/state/hostile", test_hostile);
    g_test_add_func("/state/old-version", test_old_version);
    g_test_add_func("/state/buffer", test_buffer);
    g_test_add_func("/hw/device/list", test_device_list);
    return g_test_run();
}
