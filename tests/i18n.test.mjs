// Both languages are complete: every key exists in both, no value is empty, and the Chinese
// strings are actually Chinese where the English ones are words.

import { test } from "node:test";
import assert from "node:assert/strict";
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
