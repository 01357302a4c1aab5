// histogram.js: a histogram of a tensor's first values, drawn with cairo
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0

import GObject from 'gi://GObject';
import Gtk from 'gi://Gtk?version=4.0';

const N_BINS = 32;

/** Counts the finite values of @values into @nBins equal bins between their minimum and maximum. */
export function binValues(values, nBins = N_BINS) {
    let min = Infinity, max = -Infinity, nFinite = 0;
    for (const v of values) {
        if (Number.isFinite(v)) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            nFinite++;
        }
    }
    const counts = new Array(nBins).fill(0);
    if (nFinite === 0)
        return {counts, min: 0, max: 0, nFinite};
    const width = max > min ? (max - min) / nBins : 1;
    for (const v of values) {
        if (Number.isFinite(v))
            counts[Math.min(nBins - 1, Math.floor((v - min) / width))]++;
    }
    return {counts, min, max, nFinite};
}

export const Histogram = GObject.registerClass({
    GTypeName: 'StInspectorHistogram',
}, class Histogram extends Gtk.DrawingArea {
    constructor(params = {}) {
        super({content_height: 120, hexpand: true, ...params});
        this._bins = binValues([]);
        this.set_draw_func((_area, cr, width, height) => {
            this._draw(cr, width, height);
            cr.$dispose();
        });
    }

    /** The bins last drawn from, for the self-check. */
    get bins() {
        return this._bins;
    }

    setValues(values) {
        this._bins = binValues(values);
        this.queue_draw();
    }

    _draw(cr, width, height) {
        const {counts} = this._bins;
        const highest = Math.max(1, ...counts);
        const barWidth = width / counts.length;
        const color = this.get_style_context().get_color();  // Gtk.Widget.get_color is GTK 4.10
        cr.setSourceRGBA(color.red, color.green, color.blue, 0.15);
        cr.rectangle(0, height - 1, width, 1);
        cr.fill();
        cr.setSourceRGBA(0.21, 0.52, 0.89, 1);  // the accent blue of Adwaita
        counts.forEach((count, i) => {
            const barHeight = (height - 4) * count / highest;
            cr.rectangle(i * barWidth + 1, height - barHeight, Math.max(1, barWidth - 2), barHeight);
        });
        cr.fill();
    }
});
