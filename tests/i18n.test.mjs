// Both languages are complete: every key exists in both, no value is empty, and the Chinese
// strings are actually Chinese where the English ones are words.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { STRINGS } from "../www/i18n.js";

test("every key exists in both languages", () => {
  const en = Object.keys(STRINGS.en).sort();
  const zh = Object.keys(STRINGS.zh).sort();
  assert.deepEqual(en.filter((k) => !zh.includes(k)), [], "missing in zh");
  assert.deepEqual(zh.filter((k) => !en.includes(k)), [], "missing in en");
});

test("no empty or untranslated text", () => {
  for (const [key, en] of Object.entries(STRINGS.en)) {
    const zh = STRINGS.zh[key];
    assert.ok(en.trim() && zh.trim(), `${key} is empty`);
    // The same placeholders on both sides.
    const holes = (s) => (s.match(/\{\w+\}/g) ?? []).sort();
    assert.deepEqual(holes(zh), holes(en), `${key}: placeholders differ`);
    // A sentence (several Latin words) must not stay English in zh.
    if ((en.match(/[A-Za-z]{3,}/g) ?? []).length >= 3 && !/^(CPU|GPU)/.test(en)) {
      assert.match(zh, /[\u4e00-\u9fff]/, `${key} is not translated: ${zh}`);
    }
  }
});

// index.html carries the English text, for the first paint and for readers without JS; setLang
// replaces it. Empty elements are filled at start-up only.
const html = readFileSync(new URL("../index.html", import.meta.url), "utf8");
const decode = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
const squeeze = (s) => s.replace(/\s+/g, " ").trim();

test("index.html's English copy is STRINGS.en's", () => {
  const stale = [];
  for (const [, key, text] of html.matchAll(/data-i18n="([^"]+)"[^>]*>([^<]*)</g)) {
    assert.ok(key in STRINGS.en, `index.html: unknown key ${key}`);
    if (squeeze(text) && squeeze(decode(text)) !== squeeze(STRINGS.en[key])) stale.push(key);
  }
  assert.deepEqual(stale, []);
});

test("every aria-label in index.html follows the language", () => {
  const tags = [...html.matchAll(/<[^>]*\saria-label="([^"]*)"[^>]*>/g)];
  assert.ok(tags.length >= 9);
  for (const [tag, label] of tags) {
    const key = tag.match(/data-i18n-label="([^"]+)"/)?.[1];
    assert.ok(key, `no data-i18n-label: ${tag}`);
    assert.equal(decode(label), STRINGS.en[key], tag);
    assert.match(STRINGS.zh[key], /[\u4e00-\u9fff]/, `${key} is not translated`);
  }
});
