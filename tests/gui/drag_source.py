#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A drag source for the GUI tests: a small GTK 3 window titled TITLE
that offers FILE as text/uri-list, as a file manager does.  The test
presses the mouse on it and moves (xdotool) to Mimic's window: GTK runs
a real XDND drag between the two programs.  It prints "ready" once
mapped and "dragged" when the target has asked for the data.

Usage: drag_source.py TITLE FILE   (needs python3-gi, gir1.2-gtk-3.0)
"""
import sys

import gi
gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk, Gdk  # noqa: E402


def main():
    title, path = sys.argv[1], sys.argv[2]
    uri = GLib.filename_to_uri(path, None)
    win = Gtk.Window(title=title)
    win.set_default_size(200, 100)
    box = Gtk.EventBox()
    box.add(Gtk.Label(label="drag me"))
    win.add(box)
    box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [],
                        Gdk.DragAction.COPY)
    box.drag_source_add_uri_targets()

    def data_get(widget, ctx, data, info, time):
        data.set_uris([uri])
        print("dragged", flush=True)
    box.connect("drag-data-get", data_get)
    win.connect("map-event", lambda *a: print("ready", flush=True))
    win.connect("destroy", Gtk.main_quit)
    win.show_all()
    Gtk.main()


if __name__ == "__main__":
    main()
