import { assert, describe, it } from "@effect/vitest"
import { compileGlob, escapeGlob, matcher } from "../../src/services/Glob.ts"

// [pattern, string, matches] as Redis's stringmatchlen answers them (the corpus test checks many more on a real Redis).
const cases: ReadonlyArray<readonly [string, string, boolean]> = [
  ["*", "anything at all", true],
  ["*", "", true], // "*" alone matches everything, as SCAN, KEYS and ACL special-case it
  ["**", "", false], // otherwise stringmatchlen: an empty string matches only the empty pattern
  ["a*", "", false],
  ["", "", true],
  ["user:*", "user:42", true],
  ["user:*", "user:", true],
  ["user:*", "users:42", false],
  ["*:42", "user:42", true],
  ["a**b", "axxb", true],
  ["h?llo", "hello", true],
  ["h?llo", "hllo", false],
  ["h?llo", "heello", false],
  ["?", "é", false], // ? is one byte; é is two
  ["??", "é", true],
  ["h[ae]llo", "hallo", true],
  ["h[ae]llo", "hillo", false],
  ["h[^e]llo", "hallo", true],
  ["h[^e]llo", "hello", false],
  ["h[a-b]llo", "hbllo", true],
  ["h[a-b]llo", "hcllo", false],
  ["h[b-a]llo", "hallo", true], // a reversed range is swapped
  ["[]x", "x", false], // [] matches nothing
  ["[]x", "ax", false],
  ["[^]x", "ax", true], // [^] matches any one byte
  ["a[bc", "ab", true], // an unclosed class runs to the end of the pattern
  ["a[bc", "ac", true],
  ["a[bc", "abc", false],
  ["[a-]", "_", true], // the ] closes nothing: it ends the range a..] instead
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
    assert.isFalse(matcher("abc")("xabcx"))
    assert.isTrue(matcher("abc")("abc"))
  })

  it("nocase folds ASCII letters, except for an escaped class member (as Redis does)", () => {
    assert.isTrue(matcher("KEY:*", { nocase: true })("key:1"))
    assert.isTrue(matcher("[A-C]", { nocase: true })("b"))
    assert.isTrue(matcher("\\K", { nocase: true })("k"))
    assert.isFalse(matcher("[\\K]", { nocase: true })("k"))
    assert.isFalse(matcher("É", { nocase: true })("é"))
  })

  it("matches raw bytes too", () => {
    const g = compileGlob("a?")
    assert.isTrue(g.test(Buffer.from([0x61, 0xff])))
    assert.isFalse(g.test(Buffer.from([0x61, 0xff, 0x00])))
  })

  it("the pathological pattern over long keys finishes, right, in at most (n+1)(m+1) steps", () => {
    const pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b"
    const g = compileGlob(pattern)
    for (const n of [200, 10_000]) {
      const noMatch = "a".repeat(n)
      const match = `${"a".repeat(n)}b`
      const bound = (n + 2) * (pattern.length + 1)
      const miss = g.run(noMatch)
      assert.isFalse(miss.matched)
      assert.isAtMost(miss.steps, bound, `${n} bytes, no match`)
      const hit = g.run(match)
      assert.isTrue(hit.matched)
      assert.isAtMost(hit.steps, bound, `${n} bytes, match`)
    }
  })

  it("a pub/sub-style pattern with many stars over a 10k-byte channel", () => {
    const g = compileGlob("*?*?*?*?*?*?*?*?*?*?*x")
    const run = g.run("y".repeat(10_000))
    assert.isFalse(run.matched)
    assert.isAtMost(run.steps, 10_001 * 23)
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
