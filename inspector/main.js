// main.js: Safetensors Inspector, a GTK 4 / libadwaita application on safetensors-glib
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0
//
//   st-inspector [--select=NAME] [FILE]   FILE: a .safetensors file or a model.safetensors.index.json
//   gjs -m _build/inspector/main.js [FILE]       (from a build tree: meson configures window.js)
//
//   --select=NAME                  once FILE is loaded, select the tensor NAME (its values and histogram)
//
// For the test suite (inspector/test-inspector.sh runs it under Xvfb):
//   --self-check=tensors|error     once FILE is loaded, walk the window's own widget tree and check that
//                                  the ColumnView shows every tensor (or, with "error", that the window
//                                  shows the file's error), then quit with status 0 or 1; with --select,
//                                  check that NAME was selected and its values and histogram shown
//   --expect-values=TEXT           ... and that the values shown begin with TEXT
//   --screenshot=PATH              save a PNG of the window (rendered by GTK) before quitting
//   --open-address=ADDRESS         open ADDRESS as a user does: click "Open address…", type it into the
//                                  dialog's entry and press Enter (instead of FILE)

import Adw from 'gi://Adw?version=1';
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Gtk from 'gi://Gtk?version=4.0';
import ST from 'gi://ST?version=1.0';
import System from 'system';

import {InspectorWindow} from './window.js';

const APP_ID = 'org.safetensors_glib.Inspector';

function parseArguments(argv) {
    const options = {files: []};
    for (const arg of argv) {
        const match = /^--([a-z-]+)=(.*)$/s.exec(arg);
        if (match)
            options[match[1]] = match[2];
        else
            options.files.push(arg);
    }
    return options;
}

// Every GtkLabel text under @widget, depth first.
function labelsUnder(widget, out = []) {
    if (widget instanceof Gtk.Label)
        out.push(widget.label);
    for (let child = widget.get_first_child(); child; child = child.get_next_sibling())
        labelsUnder(child, out);
    return out;
}

// Resolves once @check() is true (polled between frames), or rejects after @seconds.
function waitFor(check, what, seconds = 10) {
    return new Promise((resolve, reject) => {
        const start = GLib.get_monotonic_time();
        GLib.timeout_add(GLib.PRIORITY_LOW, 50, () => {
            if (check()) {
                resolve();
                return GLib.SOURCE_REMOVE;
            }
            if (GLib.get_monotonic_time() - start > seconds * 1e6) {
                reject(new Error(`timed out waiting for ${what}`));
                return GLib.SOURCE_REMOVE;
            }
            return GLib.SOURCE_CONTINUE;
        });
    });
}

// The first widget under @widget (depth first) for which @test is true, or null.
function findWidget(widget, test) {
    if (test(widget))
        return widget;
    for (let child = widget.get_first_child(); child; child = child.get_next_sibling()) {
        const found = findWidget(child, test);
        if (found)
            return found;
    }
    return null;
}

// Opens @address through the "Open address…" button and its dialog, as a user does.
async function openAddressAsUser(window, address) {
    const button = findWidget(window, w => w instanceof Gtk.Button && w.label === 'Open address…');
    if (!button)
        throw new Error('no "Open address…" button in the header bar');
    button.emit('clicked');
    let dialog = null;
    await waitFor(() => {
        const toplevels = Gtk.Window.list_toplevels();
        dialog = toplevels.find(w => w !== window && w.title === 'Open address' && w.visible) ?? null;
        return dialog !== null;
    }, 'the "Open address" dialog');
    const entry = findWidget(dialog, w => w instanceof Gtk.Entry);
    if (!entry)
        throw new Error('no entry in the "Open address" dialog');
    entry.text = address;
    entry.emit('activate');
    await waitFor(() => !dialog.visible, 'the dialog to close');
}

// A PNG of the window as GTK renders it.
function saveScreenshot(window, path) {
    const paintable = new Gtk.WidgetPaintable({widget: window});
    const snapshot = new Gtk.Snapshot();
    paintable.snapshot(snapshot, window.get_width(), window.get_height());
    const node = snapshot.to_node();
    const texture = window.get_renderer().render_texture(node, null);
    if (!texture.save_to_png(path))
        throw new Error(`could not write ${path}`);
    print(`screenshot: ${path}`);
}

async function selfCheck(window, options) {
    const loaded = await new Promise((resolve, reject) => {
        window.connect('loaded', (_w, ok) => resolve(ok));
        GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 30, () => reject(new Error('the file did not load in 30 s')));
    });
    if (options['self-check'] === 'error') {
        if (loaded || window.visiblePage !== 'error')
            throw new Error(`expected the error page, got "${window.visiblePage}"`);
        if (!window.errorMessage)
            throw new Error('the error page shows no message');
        print(`error shown: ${window.errorMessage}`);
    } else {
        if (!loaded || window.visiblePage !== 'model')
            throw new Error(`expected the tensors, got the "${window.visiblePage}" page: ${window.errorMessage}`);
        const source = window.source;
        const names = [];
        for (let i = 0; i < source.get_n_items(); i++)
            names.push(source.get_item(i).name);
        // The rows the ColumnView made, read back from its own widgets.
        await waitFor(() => names.every(n => labelsUnder(window.columnView).includes(n)), 'every tensor row');
        const labels = labelsUnder(window.columnView);
        for (let i = 0; i < source.get_n_items(); i++) {
            const item = source.get_item(i);
            for (const text of [item.dtype_name, item.shape_string, String(item.n_bytes)]) {
                if (!labels.includes(text))
                    throw new Error(`row ${item.name}: no cell shows "${text}"`);
            }
        }
        print(`rows shown: ${names.length} (${names.join(', ')})`);
        if (source instanceof ST.Index) {
            if (window.progressReports < source.n_shards + 1 || window.progressFraction !== 1)
                throw new Error(`progress: ${window.progressReports} reports, ended at ${window.progressFraction}`);
            print(`progress: ${window.progressReports} reports for ${source.n_shards} shards`);
        }
        if (options.select) {
            // Selected by --select itself, as in normal use: this only checks what it did.
            if (!names.includes(options.select))
                throw new Error(`no row ${options.select}`);
            await waitFor(() => window.selectedTensorName === options.select, `the selection of ${options.select}`);
            await waitFor(() => window.valuesText !== '', 'the values');
            if (options['expect-values'] && !window.valuesText.startsWith(options['expect-values']))
                throw new Error(`values: expected "${options['expect-values']}…", got "${window.valuesText}"`);
            if (window.histogram.bins.nFinite === 0)
                throw new Error('the histogram has no values');
            print(`values of ${options.select}: ${window.valuesText}`);
        }
    }
    // Let the last frame draw before the screenshot.
    await new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_LOW, 300, () => resolve() ?? GLib.SOURCE_REMOVE));
    if (options.screenshot)
        saveScreenshot(window, options.screenshot);
}

const options = parseArguments(ARGV);
let status = 0;

const app = new Adw.Application({application_id: APP_ID, flags: Gio.ApplicationFlags.NON_UNIQUE});
app.connect('activate', () => {
    const window = new InspectorWindow({application: app});
    window.present();
    if (options['self-check']) {
        selfCheck(window, options).then(() => app.quit(), e => {
            printerr(`self-check failed: ${e.message}`);
            status = 1;
            app.quit();
        });
    }
    if (options.select) {
        const id = window.connect('loaded', (_window, ok) => {
            window.disconnect(id);
            if (ok && !window.selectTensor(options.select))
                printerr(`st-inspector: ${options.files[0]} has no tensor “${options.select}”`);
        });
    }
    if (options['open-address']) {
        openAddressAsUser(window, options['open-address']).catch(e => {
            printerr(`--open-address: ${e.message}`);
            status = 1;
            app.quit();
        });
    } else if (options.files.length > 0) {
        window.open(options.files[0]);
    }
});

const runStatus = app.run([System.programInvocationName]);
System.exit(status || runStatus);
