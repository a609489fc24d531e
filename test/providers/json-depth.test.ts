import { describe, expect, it } from 'vitest';
import { scanJsonText } from '../../src/providers/shared/input-checks.js';
import { membersOf, rawJsonOf, rawWithModel, replaceJsonString } from '../../src/providers/shared/raw-json.js';
import { seededRandom } from '../../src/core/clock.js';

/** The plain definition: every character looked at, a backslash in a string skipping the next. */
function deepestOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  let isInString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (isInString) {
      if (code === 92) index++;
      else if (code === 34) isInString = false;
    } else if (code === 34) isInString = true;
    else if (code === 123 || code === 91) deepest = Math.max(deepest, ++depth);
    else if (code === 125 || code === 93) depth--;
  }
  return deepest;
}

function refuses(text: string, maxDepth: number): boolean {
  try {
    scanJsonText(text, maxDepth);
    return false;
  } catch {
    return true;
  }
}

describe('JSON depth check', () => {
  it('counts brackets outside strings only, whatever the strings hold', () => {
    const cases = [
      '{"a":"[[[[[["}',
      '{"a":"\\"[[[["}',
      '{"a":"\\\\"}',
      '{"a":"\\\\\\"[[[["}',
      '{"a":"x\\\\\\\\"}',
      '["\\u0022[[[", [[]]]',
      '{"k\\"[":[[["\\\\"]]]}',
      '"unterminated [[[[',
      '[[["a"]]]',
      '{"emoji":"😀[[","deeper":[[[["🙂"]]]]}',
    ];
    for (const text of cases) {
      const deepest = deepestOf(text);
      expect(refuses(text, deepest), text).toBe(false);
      if (deepest > 0) expect(refuses(text, deepest - 1), text).toBe(true);
    }
  });

  it('agrees with the plain definition on random JSON-like text', () => {
    const random = seededRandom(18);
    const alphabet = ['"', '\\', '[', ']', '{', '}', 'a', ',', ':', ' '];
    for (let round = 0; round < 3000; round++) {
      const length = 1 + Math.floor(random() * 40);
      let text = '';
      for (let index = 0; index < length; index++) text += alphabet[Math.floor(random() * alphabet.length)];
      const deepest = deepestOf(text);
      expect(refuses(text, deepest), text).toBe(false);
      if (deepest > 0) expect(refuses(text, deepest - 1), text).toBe(true);
    }
  });

  it('names where the limit is passed', () => {
    expect(() => scanJsonText('{"tools":[{"schema":{"a":{}}}]}', 4)).toThrow(/more than 4 deep \(at tools\[0\]\.schema\.a\)/);
  });
});

describe('a body kept as its text', () => {
  const rawOf = (text: string) => rawJsonOf(text, scanJsonText(text, 64), JSON.parse(text));

  it('is the top-level model replaced, wherever it stands and however it is spaced', () => {
    for (const text of ['{"model":"a","messages":[]}', '{"messages":[{"model":"inner"}], "model" :\n "a"}', ' { "x": {"model": "deep"}, "model": "a" } ']) {
      const raw = rawOf(text);
      expect(raw, text).toBeDefined();
      expect(JSON.parse(rawWithModel(raw!, 'b "q"').toString())).toEqual({ ...JSON.parse(text), model: 'b "q"' });
      expect(JSON.parse(rawWithModel(raw!, 'b', '"extra":1').toString())).toEqual({ ...JSON.parse(text), model: 'b', extra: 1 });
    }
  });

  it('as the client’s UTF-8 bytes gives the same body, byte for byte, whatever characters stand before and after the model', () => {
    const texts = [
      '{"model":"a","messages":[{"role":"user","content":"café 日本 😀"}]}',
      '{"messages":[{"role":"user","content":"é😀\\u00e9"}], "model" : "a" ,"x":"ü"}\n',
      '{"system":"日本語","model":"a"}',
    ];
    for (const text of texts) {
      const bytes = Buffer.from(text);
      const facts = scanJsonText(text, 64);
      const fromText = rawJsonOf(text, facts, JSON.parse(text))!;
      const fromBytes = rawJsonOf(text, facts, JSON.parse(text), bytes)!;
      for (const [model, extra] of [['b "ü"', undefined], ['gpt', '"stream_options":{"include_usage":true}']] as const) {
        const sent = rawWithModel(fromBytes, model, extra);
        expect(Buffer.isBuffer(sent), text).toBe(true);
        expect(sent.toString(), text).toBe(rawWithModel(fromText, model, extra));
      }
    }
  });

  it('is not kept when the text could say something else than its value: a repeated key, a model that is not a plain string', () => {
    for (const text of ['{"model":"a","model":"b"}', '{"model":"a","m":{"k":1,"k":2}}', '{"model":5}', '{"messages":[{"model":"inner"}]}', '{"mod\\u0065l":"a","model":"b"}']) {
      expect(rawOf(text), text).toBeUndefined();
    }
  });
});

describe('members of a parsed value', () => {
  it('counts every object member, however deep (no recursion: max_json_depth may be 10,000)', () => {
    expect(membersOf({ a: 1, b: [{ c: null, d: { e: [] } }, 'x'], f: {} })).toBe(6);
    const deep = JSON.parse(`${'{"a":'.repeat(9999)}1${'}'.repeat(9999)}`);
    expect(membersOf(deep)).toBe(9999);
    const text = `{"model":"m","x":${'['.repeat(9990)}1${']'.repeat(9990)}}`;
    expect(rawJsonOf(text, scanJsonText(text, 10_000), JSON.parse(text))).toBeDefined();
  });
});

describe('replaceJsonString', () => {
  it('replaces every string equal to the value, never a part of a longer one or text inside another string', () => {
    const value = { id: 'resp_up', list: ['resp_up', 'resp_up2', 'x resp_up'], nested: { 'resp_up': 1 }, text: 'said "resp_up" and \\"resp_up\\" and "resp_up', tail: 'ends\\' };
    const text = JSON.stringify(value);
    const replaced = replaceJsonString(text, 'resp_up', 'resp_"new"');
    expect(JSON.parse(replaced)).toEqual({ ...value, id: 'resp_"new"', list: ['resp_"new"', 'resp_up2', 'x resp_up'], nested: { 'resp_"new"': 1 } });
  });

  it('counts the backslashes before a quote: an escaped backslash ends the string before the value', () => {
    const text = JSON.stringify(['a\\', 'resp_up', 'b\\\\', 'resp_up']);
    expect(JSON.parse(replaceJsonString(text, 'resp_up', 'r'))).toEqual(['a\\', 'r', 'b\\\\', 'r']);
    expect(replaceJsonString(text, 'nowhere', 'r')).toBe(text);
  });

  it('replaces nothing for a value that could be the text between two strings', () => {
    for (const [text, value] of [['["a","b"]', ','], ['{"k":"v"}', ':'], ['{"a":"x", "b":1}', ', '], ['["a",true,"b"]', ',true,']] as const) {
      expect(replaceJsonString(text, value, 'X')).toBe(text);
    }
    // Opening or closing otherwise, it cannot span two strings, and is replaced where it is one.
    expect(JSON.parse(replaceJsonString('[",x", "a", ",x"]', ',x', 'y'))).toEqual(['y', 'a', 'y']);
  });
});
