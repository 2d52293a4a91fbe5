/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A line editor for the human monitor on a terminal: the cursor keys,
 * Home/End, Delete, the usual Emacs-style control keys and a history of
 * the last LINEEDIT_HISTORY lines (Up/Down, Ctrl-P/Ctrl-N).
 *
 * Bytes go in one at a time; what the terminal must show goes out as
 * VT100 sequences appended to a GString (NULL when nothing is echoed).
 * No I/O of its own, so it is tested byte by byte.
 */
#ifndef MIMIC_ENGINE_LINEEDIT_H
#define MIMIC_ENGINE_LINEEDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define LINEEDIT_MAX 1024    /* bytes in a line, the terminator included */
#define LINEEDIT_HISTORY 64

typedef struct LineEdit LineEdit;

/* prompt: what precedes the line on the screen (redraws repeat it). */
LineEdit *lineedit_new(const char *prompt);
void lineedit_free(LineEdit *le);

/*
 * Feeds one byte.  Returns the finished line (without its end) when c is
 * CR or LF, NULL otherwise; the string stays valid until the next call.
 * A CR LF pair ends one line.  Non-empty lines enter the history, except
 * a repeat of the newest entry.
 */
const char *lineedit_feed(LineEdit *le, uint8_t c, GString *echo);

/* Forgets the line being typed and any half-received key sequence (the
   history stays): a new client starts from a clean line. */
void lineedit_reset(LineEdit *le);

/* The line being edited and the cursor's offset in it (tests). */
const char *lineedit_text(const LineEdit *le);
int lineedit_cursor(const LineEdit *le);

#endif
