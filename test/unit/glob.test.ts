import { assert, describe, it } from "@effect/vitest"
import { escapeGlob, globToRegExp, matcher } from "../../src/services/Glob.ts"

// [pattern, string, matches] as Redis's stringmatchlen answers them.
const cases: ReadonlyArray<readonly [string, string, boolean]> = [
  ["*", "", true],
  ["*", "anything at all", true],
  ["user:*", "user:42", true],
  ["user:*", "users:42", false],
  ["*:42", "user:42", true],
  ["a**b", "axxb", true],
  ["h?llo", "hello", true],
  ["h?llo", "hllo", false],
  ["h?llo", "heello", false],
  ["h[ae]llo", "hallo", true],
  ["h[ae]llo", "hillo", false],
  ["h[^e]llo", "hallo", true],
  ["h[^e]llo", "hello", false],
  ["h[a-b]llo", "hbllo", true],
  ["h[a-b]llo", "hcllo", false],
  ["h[b-a]llo", "hallo", true], // a reversed range is swapped
  ["[]x", "x", false], // [] matches nothing
  ["[]x", "ax", false],
  ["[^]x", "ax", true], // [^] matches any one character
  ["a[bc", "ab", true], // an unclosed class runs to the end of the pattern
  ["a[bc", "ac", true],
  ["a[bc", "abc", false],
  ["[\\]]", "]", true],
  ["[\\-a]", "-", true],
  ["\\*", "*", true],
  ["\\*", "x", false],
  ["a\\?", "a?", true],
  ["a\\?", "ab", false],
  ["trailing\\", "trailing\\", true],
  ["a.b", "a.b", true],
  ["a.b", "axb", false], // regex specials are literal
  ["(x)+{1}|$^", "(x)+{1}|$^", true],
  ["line*", "line1\nline2", true], // * crosses newlines
  ["é?", "éa", true],
  ["Key", "key", false] // case-sensitive
]

describe("Glob", () => {
  it("matches as Redis's stringmatchlen does", () => {
    for (const [pattern, text, expected] of cases) {
      assert.strictEqual(matcher(pattern)(text), expected, `${JSON.stringify(pattern)} vs ${JSON.stringify(text)}`)
    }
  })

  it("anchors the whole string", () => {
    assert.isFalse(globToRegExp("abc").test("xabcx"))
    assert.isTrue(globToRegExp("abc").test("abc"))
  })

  it("escapeGlob makes a prefix match only itself", () => {
    for (const prefix of ["app:", "a*b", "q?[x]\\", ""]) {
      const m = matcher(`${escapeGlob(prefix)}*`)
      assert.isTrue(m(`${prefix}rest`), prefix)
      assert.isTrue(m(prefix), prefix)
      if (prefix !== "") assert.isFalse(m(`X${prefix}`), prefix)
    }
    assert.isFalse(matcher(`${escapeGlob("a*b")}`)("axxb"))
  })
})
