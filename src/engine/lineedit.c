/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor's line editor (see lineedit.h).  Keys understood, as a
 * terminal (xterm, VTE, the Linux console) sends them:
 *   printable ASCII      insert at the cursor
 *   BS, DEL              delete before the cursor
 *   ESC [ 3 ~, Ctrl-D    delete at the cursor
 *   ESC [ D / C, Ctrl-B / Ctrl-F, and the ESC O forms: left / right
 *   ESC [ H / F, ESC [ 1 ~ / 4 ~ (7 ~ / 8 ~), Ctrl-A / Ctrl-E: home / end
 *   ESC [ A / B, Ctrl-P / Ctrl-N: previous / next history line
 *   Ctrl-K  delete to the end; Ctrl-U  delete to the start;
 *   Ctrl-W  delete the word before the cursor
 * Bytes >= 0x80 are part of the line as they come (UTF-8, or junk the
 * command parser refuses): never dropped, so "q\xbe" cannot become "q".
 * The cursor keys, BS and Delete step over whole UTF-8 characters (a lead
 * byte and its continuation bytes), and cursor moves count one column a
 * character (double-width characters are not special-cased).
 * Anything else (other control bytes, unknown sequences) is ignored.
 * Screen updates are VT100: CR, BS, ESC [ K, ESC [ n C/D.
 */
#include <string.h>

#include "engine/lineedit.h"

enum { ST_NORMAL, ST_ESC, ST_CSI, ST_SS3 };

struct LineEdit {
    char *prompt;
    char buf[LINEEDIT_MAX];
    int len, cur;
    char done[LINEEDIT_MAX];
    char saved[LINEEDIT_MAX]; /* the new line while browsing history */
    char *hist[LINEEDIT_HISTORY]; /* [0] the oldest */
    int n_hist, hist_pos;         /* hist_pos == n_hist: the new line */
    int state;
    int param; /* of ESC [ n ~; -1 none yet */
    bool skip_lf;
};

LineEdit *lineedit_new(const char *prompt)
{
    LineEdit *le = g_new0(LineEdit, 1);
    le->prompt = g_strdup(prompt ? prompt : "");
    return le;
}

void lineedit_free(LineEdit *le)
{
    if (!le) {
        return;
    }
    for (int i = 0; i < le->n_hist; i++) {
        g_free(le->hist[i]);
    }
    g_free(le->prompt);
    g_free(le);
}

void lineedit_reset(LineEdit *le)
{
    le->len = le->cur = 0;
    le->buf[0] = '\0';
    le->hist_pos = le->n_hist;
    le->state = ST_NORMAL;
    le->param = -1;
    le->skip_lf = false;
}

const char *lineedit_text(const LineEdit *le)
{
    return le->buf;
}

int lineedit_cursor(const LineEdit *le)
{
    return le->cur;
}

static bool is_cont(char c)
{
    return ((uint8_t)c & 0xc0) == 0x80;
}

/* Where the character before / after byte offset at starts. */
static int char_before(const LineEdit *le, int at)
{
    if (at > 0) {
        at--;
    }
    while (at > 0 && is_cont(le->buf[at])) {
        at--;
    }
    return at;
}

static int char_after(const LineEdit *le, int at)
{
    if (at < le->len) {
        at++;
    }
    while (at < le->len && is_cont(le->buf[at])) {
        at++;
    }
    return at;
}

/* Terminal columns of buf[from, to): one a character. */
static int columns(const LineEdit *le, int from, int to)
{
    int n = 0;
    for (int i = from; i < to; i++) {
        n += !is_cont(le->buf[i]);
    }
    return n;
}

static void move_left(GString *echo, int n)
{
    if (echo && n > 0) {
        g_string_append_printf(echo, "\033[%dD", n);
    }
}

/* Rewrites the whole line and puts the cursor back where it belongs. */
static void redraw(LineEdit *le, GString *echo)
{
    if (!echo) {
        return;
    }
    g_string_append_c(echo, '\r');
    g_string_append(echo, le->prompt);
    g_string_append_len(echo, le->buf, le->len);
    g_string_append(echo, "\033[K");
    move_left(echo, columns(le, le->cur, le->len));
}

static void set_line(LineEdit *le, const char *s, GString *echo)
{
    g_strlcpy(le->buf, s, sizeof(le->buf));
    le->len = le->cur = strlen(le->buf);
    redraw(le, echo);
}

static void insert(LineEdit *le, char c, GString *echo)
{
    if (le->len >= LINEEDIT_MAX - 1) {
        return;
    }
    memmove(le->buf + le->cur + 1, le->buf + le->cur, le->len - le->cur);
    le->buf[le->cur++] = c;
    le->buf[++le->len] = '\0';
    if (!echo) {
        return;
    }
    if (le->cur == le->len) {
        g_string_append_c(echo, c);
    } else if ((uint8_t)c >= 0x80) {
        /* Half a character in the middle: a terminal would mangle the
           tail, so the whole line again (once more per byte). */
        redraw(le, echo);
    } else {
        g_string_append_len(echo, le->buf + le->cur - 1,
                            le->len - le->cur + 1);
        move_left(echo, columns(le, le->cur, le->len));
    }
}

/* Removes n bytes at offset at, the cursor ending at at. */
static void erase(LineEdit *le, int at, int n, GString *echo)
{
    if (n <= 0) {
        return;
    }
    bool at_end = le->cur == le->len && at + n == le->cur &&
                  columns(le, at, at + n) == 1;
    memmove(le->buf + at, le->buf + at + n, le->len - at - n + 1);
    le->len -= n;
    le->cur = at;
    if (echo && at_end) {
        g_string_append(echo, "\b \b");
    } else {
        redraw(le, echo);
    }
}

static void history_add(LineEdit *le, const char *s)
{
    if (!*s || (le->n_hist && !strcmp(le->hist[le->n_hist - 1], s))) {
        return;
    }
    if (le->n_hist == LINEEDIT_HISTORY) {
        g_free(le->hist[0]);
        memmove(le->hist, le->hist + 1,
                (LINEEDIT_HISTORY - 1) * sizeof(le->hist[0]));
        le->n_hist--;
    }
    le->hist[le->n_hist++] = g_strdup(s);
}

static void history_move(LineEdit *le, int dir, GString *echo)
{
    int to = le->hist_pos + dir;
    if (to < 0 || to > le->n_hist) {
        return;
    }
    if (le->hist_pos == le->n_hist) {
        memcpy(le->saved, le->buf, le->len + 1);
    }
    le->hist_pos = to;
    set_line(le, to == le->n_hist ? le->saved : le->hist[to], echo);
}

static void key_left(LineEdit *le, GString *echo)
{
    if (le->cur > 0) {
        le->cur = char_before(le, le->cur);
        move_left(echo, 1);
    }
}

static void key_right(LineEdit *le, GString *echo)
{
    if (le->cur < le->len) {
        le->cur = char_after(le, le->cur);
        if (echo) {
            g_string_append(echo, "\033[C");
        }
    }
}

static void key_home(LineEdit *le, GString *echo)
{
    move_left(echo, columns(le, 0, le->cur));
    le->cur = 0;
}

static void key_end(LineEdit *le, GString *echo)
{
    if (echo && le->cur < le->len) {
        g_string_append_printf(echo, "\033[%dC",
                               columns(le, le->cur, le->len));
    }
    le->cur = le->len;
}

static void key_delete(LineEdit *le, GString *echo)
{
    if (le->cur < le->len) {
        erase(le, le->cur, char_after(le, le->cur) - le->cur, echo);
    }
}

/* The final byte of ESC [ ... or ESC O ... */
static void sequence(LineEdit *le, uint8_t c, GString *echo)
{
    switch (c) {
    case 'A':
        history_move(le, -1, echo);
        break;
    case 'B':
        history_move(le, 1, echo);
        break;
    case 'C':
        key_right(le, echo);
        break;
    case 'D':
        key_left(le, echo);
        break;
    case 'H':
        key_home(le, echo);
        break;
    case 'F':
        key_end(le, echo);
        break;
    case '~':
        if (le->param == 1 || le->param == 7) {
            key_home(le, echo);
        } else if (le->param == 4 || le->param == 8) {
            key_end(le, echo);
        } else if (le->param == 3) {
            key_delete(le, echo);
        }
        break;
    }
}

static const char *finish(LineEdit *le)
{
    memcpy(le->done, le->buf, le->len + 1);
    history_add(le, le->done);
    le->hist_pos = le->n_hist;
    le->len = le->cur = 0;
    le->buf[0] = '\0';
    return le->done;
}

const char *lineedit_feed(LineEdit *le, uint8_t c, GString *echo)
{
    if (c == '\n' && le->skip_lf) {
        le->skip_lf = false;
        return NULL;
    }
    le->skip_lf = c == '\r';

    switch (le->state) {
    case ST_ESC:
        le->state = c == '[' ? ST_CSI : c == 'O' ? ST_SS3 : ST_NORMAL;
        le->param = -1;
        return NULL;
    case ST_CSI:
        if (c >= '0' && c <= '9') {
            le->param = (le->param < 0 ? 0 : le->param) * 10 + (c - '0');
            if (le->param > 1000) {
                le->param = 1000;
            }
            return NULL;
        }
        if (c == ';') {
            return NULL; /* modifiers: ignored */
        }
        le->state = ST_NORMAL;
        if (c >= 0x40 && c <= 0x7e) {
            sequence(le, c, echo);
        }
        return NULL;
    case ST_SS3:
        le->state = ST_NORMAL;
        le->param = -1;
        sequence(le, c, echo);
        return NULL;
    }

    switch (c) {
    case '\r':
    case '\n':
        return finish(le);
    case 0x1b:
        le->state = ST_ESC;
        break;
    case 0x7f:
    case 0x08:
        if (le->cur > 0) {
            int at = char_before(le, le->cur);
            erase(le, at, le->cur - at, echo);
        }
        break;
    case 0x01: /* Ctrl-A */
        key_home(le, echo);
        break;
    case 0x05: /* Ctrl-E */
        key_end(le, echo);
        break;
    case 0x02: /* Ctrl-B */
        key_left(le, echo);
        break;
    case 0x06: /* Ctrl-F */
        key_right(le, echo);
        break;
    case 0x04: /* Ctrl-D */
        key_delete(le, echo);
        break;
    case 0x10: /* Ctrl-P */
        history_move(le, -1, echo);
        break;
    case 0x0e: /* Ctrl-N */
        history_move(le, 1, echo);
        break;
    case 0x0b: /* Ctrl-K */
        le->buf[le->len = le->cur] = '\0';
        if (echo) {
            g_string_append(echo, "\033[K");
        }
        break;
    case 0x15: /* Ctrl-U */
        erase(le, 0, le->cur, echo);
        break;
    case 0x17: { /* Ctrl-W */
        int at = le->cur;
        while (at > 0 && le->buf[at - 1] == ' ') {
            at--;
        }
        while (at > 0 && le->buf[at - 1] != ' ') {
            at--;
        }
        erase(le, at, le->cur - at, echo);
        break;
    }
    default:
        if (c >= 0x20 && c != 0x7f) {
            insert(le, (char)c, echo);
        }
        break;
    }
    return NULL;
}
