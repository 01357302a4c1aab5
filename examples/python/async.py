#!/usr/bin/python3
# async.py: load a file in a worker thread from a GLib main loop, and cancel a load
#
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
#
# Run: python3 async.py [PATH]
# The ST API through PyGObject: ST.File.new_from_path_async runs the load in a thread and calls
# back in the main loop; a Gio.Cancellable stops it.

import os
import sys
import tempfile

import gi

# Only needed where pip installed safetensors_glib into a venv: the import makes its bundled
# typelib and library findable (a system install needs nothing).
import safetensors_glib  # noqa: E402,F401

gi.require_version("ST", "1.0")
from gi.repository import GLib, Gio, ST  # noqa: E402

import numpy as np  # noqa: E402


def make_example_file(directory):
    path = os.path.join(directory, "async.safetensors")
    values = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float64)
    stfile = ST.File.new()
    # Shares the array's memory (the override's ST.Tensor.new_from_array): no copy.
    stfile["matrix"] = ST.Tensor.new_from_array(values)
    stfile.save_to_path(path)
    return path


def main():
    directory = None
    if len(sys.argv) > 1:
        path = sys.argv[1]
    else:
        directory = tempfile.mkdtemp(prefix="st-example-")
        path = make_example_file(directory)

    loop = GLib.MainLoop()
    outcome = {"status": 0, "pending": 2}

    def finished():
        outcome["pending"] -= 1
        if outcome["pending"] == 0:
            loop.quit()

    def on_loaded(_source, result):
        try:
            stfile = ST.File.new_from_path_finish(result)
        except GLib.Error as e:
            print("first load failed:", e.message, file=sys.stderr)
            outcome["status"] = 1
        else:
            print(f"first load: {len(stfile)} tensors: {' '.join(stfile)}")
            for name in stfile:
                print(f"  {name}: {np.asarray(stfile[name]).tolist()}")  # zero-copy view
        finished()

    def on_cancelled_load(_source, result):
        try:
            ST.File.new_from_path_finish(result)
            print("second load: finished before the cancellation reached it")
        except GLib.Error as e:
            if e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
                print(f"second load: cancelled, as asked ({e.message})")
            else:
                print("second load failed:", e.message, file=sys.stderr)
                outcome["status"] = 1
        finished()

    ST.File.new_from_path_async(path, None, on_loaded)

    # Start another load and cancel it straight away.
    cancellable = Gio.Cancellable()
    ST.File.new_from_path_async(path, cancellable, on_cancelled_load)
    cancellable.cancel()

    loop.run()

    if directory is not None:
        os.unlink(path)
        os.rmdir(directory)
    return outcome["status"]


if __name__ == "__main__":
    sys.exit(main())
