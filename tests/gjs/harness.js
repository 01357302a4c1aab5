// harness.js: a small TAP test runner for the GJS suite
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0
//
// gjs -m exits 0 on an unhandled promise rejection, so run() catches everything and exits with
// System.exit(1) when any test failed: a broken test can never pass silently.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';
import ST from 'gi://ST?version=1.0';

const tests = [];

/**
 * Registers a test. @fn may be async.
 *
 * @param {string} name - what the test shows
 * @param {Function} fn - the test body; it throws to fail
 */
export function test(name, fn) {
    tests.push({name, fn});
}

export class AssertionError extends Error {}

export function assert(condition, message = 'assertion failed') {
    if (!condition)
        throw new AssertionError(message);
}

function show(value) {
    if (typeof value === 'bigint')
        return `${value}n`;
    if (ArrayBuffer.isView(value))
        return `${value.constructor.name}[${Array.from(value, show).join(', ')}]`;
    if (Array.isArray(value))
        return `[${value.map(show).join(', ')}]`;
    return JSON.stringify(value) ?? String(value);
}

export function assertEqual(actual, expected, what = 'value') {
    if (actual !== expected)
        throw new AssertionError(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

export function assertArrayEqual(actual, expected, what = 'array') {
    const a = Array.from(actual), e = Array.from(expected);
    if (a.length !== e.length || a.some((v, i) => v !== e[i]))
        throw new AssertionError(`${what}: expected ${show(e)}, got ${show(a)}`);
}

function describeError(e) {
    if (e instanceof GLib.Error)
        return `GLib.Error ${e.domain}:${e.code}: ${e.message}`;
    return `${e?.name}: ${e?.message}`;
}

/**
 * Asserts that @fn throws a GLib.Error of @domain (and of @code, when given), and returns it.
 */
export function assertGError(fn, domain, code, what = 'call') {
    try {
        fn();
    } catch (e) {
        checkGError(e, domain, code, what);
        return e;
    }
    throw new AssertionError(`${what}: expected an error, but it succeeded`);
}

/**
 * Asserts that the Promise @promise rejects with a GLib.Error of @domain (and @code), and returns it.
 */
export async function assertRejects(promise, domain, code, what = 'promise') {
    try {
        await promise;
    } catch (e) {
        checkGError(e, domain, code, what);
        return e;
    }
    throw new AssertionError(`${what}: expected a rejection, but it resolved`);
}

function checkGError(e, domain, code, what) {
    if (!(e instanceof GLib.Error))
        throw new AssertionError(`${what}: expected a GLib.Error, got ${describeError(e)}`);
    const ok = code === undefined ? e.domain === quarkOf(domain) : e.matches(domain, code);
    if (!ok)
        throw new AssertionError(`${what}: expected error ${domainName(domain)}:${code ?? '*'}, got ${describeError(e)}`);
    if (!e.message)
        throw new AssertionError(`${what}: the error has no message`);
}

function quarkOf(domain) {
    if (domain === ST.Error)
        return ST.error_quark();
    if (domain === Gio.IOErrorEnum)
        return Gio.io_error_quark();
    throw new Error('harness: unknown error domain');
}

function domainName(domain) {
    return GLib.quark_to_string(quarkOf(domain));
}

/** A temporary directory, removed with its files at exit. */
export function tempDir() {
    const dir = GLib.dir_make_tmp('st-gjs-XXXXXX');
    tempDirs.push(dir);
    return dir;
}
const tempDirs = [];

function removeTree(path) {
    const dir = Gio.File.new_for_path(path);
    const children = dir.enumerate_children('standard::name,standard::type',
        Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, null);
    for (let info; (info = children.next_file(null)) !== null;) {
        const child = dir.get_child(info.get_name());
        if (info.get_file_type() === Gio.FileType.DIRECTORY)
            removeTree(child.get_path());
        else
            child.delete(null);
    }
    children.close(null);
    dir.delete(null);
}

/** Runs the registered tests in order, prints TAP, and exits 1 when any failed. */
export async function run() {
    let failed = 0;
    print(`1..${tests.length}`);
    for (const [i, {name, fn}] of tests.entries()) {
        try {
            await fn();
            print(`ok ${i + 1} - ${name}`);
        } catch (e) {
            failed++;
            print(`not ok ${i + 1} - ${name}`);
            for (const line of `${describeError(e)}\n${e?.stack ?? ''}`.trimEnd().split('\n'))
                print(`# ${line}`);
        }
    }
    for (const dir of tempDirs) {
        try {
            removeTree(dir);
        } catch (e) {
            print(`# could not remove ${dir}: ${e.message}`);
        }
    }
    System.exit(failed ? 1 : 0);
}

/** Runs @main (an async function) and exits 1 if it throws: for files that are not test lists. */
export function guard(promise) {
    promise.catch(e => {
        printerr(describeError(e));
        printerr(e?.stack ?? '');
        System.exit(1);
    });
}
