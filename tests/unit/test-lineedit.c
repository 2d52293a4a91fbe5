/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor's line editor: editing keys, history, what it echoes, and
 * hostile input (long lines, broken escape sequences, every byte value).
 */
#include <string.h>

#include "engine/lineedit.h"

/* Feeds s; returns the last finished line (g_strdup) or NULL. */
static char *feed(LineEdit *le, const char *s, GString *echo)
{
    char *last = NULL;
    for (; *s; s++) {
        const char *l = lineedit_feed(le, (uint8_t)*s, echo);
        if (l) {
            g_free(last);
            last = g_strdup(l);
        }
    }
    return last;
}

static void check_line(const char *keys, const char *want)
{
    LineEdit *le = lineedit_new("> ");
    g_autofree char *got = feed(le, keys, NULL);
    g_assert_cmpstr(got, ==, want);
    lineedit_free(le);
}

static void test_editing(void)
{
    check_line("info status\r", "info status");
    check_line("info status\r\n", "info status");
    check_line("\n", "");
    check_line("infx\x7fo\r", "info");
    check_line("info\x08\x08\r", "in");
    /* Cursor keys: insert in the middle, VT100 and SS3 forms. */
    check_line("ifo\033[D\033[Dn\r", "info");
    check_line("ifo\033OD\033ODn\r", "info");
    check_line("nfo\001i\r", "info");                 /* Ctrl-A */
    check_line("nfo\033[Hi\033[F!\r", "info!");
    check_line("nfo\033[1~i\033[4~!\r", "info!");
    check_line("iinfo\033[H\033[3~\r", "info");       /* Delete */
    check_line("iinfo\001\004\r", "info");            /* Ctrl-D */
    check_line("info status\033[D\033[D\033[D\033[D\033[D\033[D\033[D\013\r",
               "info");                                /* Ctrl-K */
    check_line("xx info\033[D\033[D\033[D\033[D\025\r", "info"); /* Ctrl-U */
    check_line("info foo bar\027\027\r", "info ");     /* Ctrl-W */
    check_line("ab\002\002c\006\006d\r", "cabd");      /* Ctrl-B/F */
    /* Moving past either end does nothing. */
    check_line("\033[D\033[Dab\033[C\033[Cc\r", "abc");
    /* Unknown sequences and control bytes are dropped (bytes >= 0x80 are
       not: see test_utf8). */
    check_line("in\033[99~\033[5;5Xfo\r", "info");
    check_line("in\x07\x1c" "fo\r", "info");
}

static void test_history(void)
{
    LineEdit *le = lineedit_new("> ");
    g_free(feed(le, "info status\r", NULL));
    g_free(feed(le, "info block\r", NULL));
    g_free(feed(le, "info block\r", NULL)); /* repeat: one entry */
    g_free(feed(le, "\r", NULL));           /* empty: none */
    g_autofree char *a = feed(le, "\033[A\r", NULL);
    g_assert_cmpstr(a, ==, "info block");
    g_autofree char *b = feed(le, "\033[A\033[A\r", NULL);
    g_assert_cmpstr(b, ==, "info status");
    /* Up past the oldest stays there; Down returns to the new line,
       which keeps what was typed before browsing. */
    g_autofree char *c = feed(le, "\020\020\020\020\r", NULL);
    g_assert_cmpstr(c, ==, "info status");
    g_autofree char *d = feed(le, "sto\033[A\033[B\033[Bp\r", NULL);
    g_assert_cmpstr(d, ==, "stop");
    /* An entry taken from history can be edited. */
    g_autofree char *e = feed(le, "\033[A\033[A\177\177\177\177\177\177"
                              "block\r", NULL);
    g_assert_cmpstr(e, ==, "info block");
    lineedit_free(le);

    /* Only the newest LINEEDIT_HISTORY lines are kept. */
    le = lineedit_new("");
    for (int i = 0; i < LINEEDIT_HISTORY + 10; i++) {
        g_autofree char *cmd = g_strdup_printf("cmd%d\r", i);
        g_free(feed(le, cmd, NULL));
    }
    GString *up = g_string_new(NULL);
    for (int i = 0; i < LINEEDIT_HISTORY + 5; i++) {
        g_string_append(up, "\033[A");
    }
    g_string_append_c(up, '\r');
    g_autofree char *oldest = feed(le, up->str, NULL);
    g_assert_cmpstr(oldest, ==, "cmd10");
    g_string_free(up, TRUE);
    lineedit_free(le);
}

static void test_echo(void)
{
    LineEdit *le = lineedit_new("(m) ");
    GString *echo = g_string_new(NULL);
    g_free(feed(le, "ab", echo));
    g_assert_cmpstr(echo->str, ==, "ab");
    g_string_truncate(echo, 0);
    g_free(feed(le, "\177", echo));
    g_assert_cmpstr(echo->str, ==, "\b \b");
    g_string_truncate(echo, 0);
    /* Insert before the cursor's end: the tail is rewritten and the
       cursor moved back over it. */
    g_free(feed(le, "c\033[Dx", echo));
    g_assert_cmpstr(echo->str, ==, "c\033[1Dxc\033[1D");
    g_assert_cmpstr(lineedit_text(le), ==, "axc");
    g_assert_cmpint(lineedit_cursor(le), ==, 2);
    g_string_truncate(echo, 0);
    /* History recall redraws the whole line after the prompt. */
    g_free(feed(le, "\r", echo));
    g_string_truncate(echo, 0);
    g_free(feed(le, "\033[A", echo));
    g_assert_cmpstr(echo->str, ==, "\r(m) axc\033[K");
    g_string_free(echo, TRUE);
    lineedit_free(le);
}

static void test_hostile(void)
{
    LineEdit *le = lineedit_new("> ");
    /* A line longer than the buffer is cut, not overflowed. */
    GString *big = g_string_new(NULL);
    for (int i = 0; i < 3 * LINEEDIT_MAX; i++) {
        g_string_append_c(big, 'a' + i % 26);
    }
    g_string_append_c(big, '\r');
    GString *echo = g_string_new(NULL);
    g_autofree char *l = feed(le, big->str, echo);
    g_assert_cmpint(strlen(l), ==, LINEEDIT_MAX - 1);
    /* A huge numeric parameter and every byte value, twice. */
    g_free(feed(le, "\033[99999999999999999999~x\r", echo));
    for (int round = 0; round < 2; round++) {
        for (int c = 1; c < 256; c++) {
            lineedit_feed(le, (uint8_t)c, echo);
            g_assert_cmpint(lineedit_cursor(le), <=, LINEEDIT_MAX - 1);
            g_assert_cmpint(strlen(lineedit_text(le)), <, LINEEDIT_MAX);
        }
    }
    g_string_free(big, TRUE);
    g_string_free(echo, TRUE);
    lineedit_free(le);
}

/* Issue 15 item 8: bytes >= 0x80 are part of the line, never dropped (so
   "q\xbe" is not "q"), and the editing keys step over whole UTF-8
   characters. */
static void test_utf8(void)
{
    check_line("q\xbe\r", "q\xbe");
    check_line("\xffquit\r", "\xffquit");
    check_line("quit\x80\r", "quit\x80");
    check_line("echo caf\xc3\xa9\r", "echo caf\xc3\xa9");
    /* Backspace and Delete remove a whole character. */
    check_line("caf\xc3\xa9\x7f\r", "caf");
    check_line("a\xe2\x82\xac\033[D\033[3~\r", "a");
    /* Left over a two-byte character, then insert before it. */
    check_line("ab\xc3\xa9\033[Dx\r", "abx\xc3\xa9");
    check_line("\xc3\xa9" "b\033[D\033[Dx\r", "x\xc3\xa9" "b");
    check_line("\xc3\xa9\033[D\033[Cx\r", "\xc3\xa9x");
    /* Ctrl-W takes a word made of multibyte characters. */
    check_line("info \xc3\xa9\xc3\xa9\x17status\r", "info status");

    /* The echo counts columns in characters, not bytes. */
    LineEdit *le = lineedit_new("> ");
    GString *echo = g_string_new(NULL);
    g_free(feed(le, "\xc3\xa9\xc3\xa9", echo));
    g_assert_cmpstr(echo->str, ==, "\xc3\xa9\xc3\xa9");
    g_string_truncate(echo, 0);
    g_free(feed(le, "\x7f", echo));
    g_assert_cmpstr(echo->str, ==, "\b \b");
    g_string_truncate(echo, 0);
    g_free(feed(le, "\x01", echo)); /* Ctrl-A: home, one column back */
    g_assert_cmpstr(echo->str, ==, "\033[1D");
    g_assert_cmpint(lineedit_cursor(le), ==, 0);
    g_string_truncate(echo, 0);
    g_free(feed(le, "x", echo));
    g_assert_cmpstr(echo->str, ==, "x\xc3\xa9\033[1D");
    g_string_free(echo, TRUE);
    lineedit_free(le);
}

/* A new client starts on a clean line: lineedit_reset forgets the half
   line and a half-received escape sequence. */
static void test_reset(void)
{
    LineEdit *le = lineedit_new("> ");
    g_free(feed(le, "he\033[", NULL));
    lineedit_reset(le);
    g_autofree char *l = feed(le, "Ainfo\r", NULL);
    g_assert_cmpstr(l, ==, "Ainfo");
    lineedit_free(le);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/lineedit/editing", test_editing);
    g_test_add_func("/engine/lineedit/history", test_history);
    g_test_add_func("/engine/lineedit/echo", test_echo);
    g_test_add_func("/engine/lineedit/hostile", test_hostile);
    g_test_add_func("/engine/lineedit/utf8", test_utf8);
    g_test_add_func("/engine/lineedit/reset", test_reset);
    return g_test_run();
}
