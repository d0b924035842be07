/**
 * RFC 7396 JSON Merge Patch: every example of Appendix A, the example of
 * section 3, and the properties the State service relies on.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Json, mergePatch } from "../../src/services/state/MergePatch.ts"

// Appendix A of RFC 7396: [original, patch, result].
const appendixA: ReadonlyArray<readonly [string, string, string]> = [
  ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
  ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
  ['{"a":"b"}', '{"a":null}', "{}"],
  ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
  ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
  ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
  ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
  ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
  ['["a","b"]', '["c","d"]', '["c","d"]'],
  ['{"a":"b"}', '["c"]', '["c"]'],
  ['{"a":"foo"}', "null", "null"],
  ['{"a":"foo"}', '"bar"', '"bar"'],
  ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
  ["[1,2]", '{"a":"b","c":null}', '{"a":"b"}'],
  ["{}", '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}']
]

const parse = (s: string) => JSON.parse(s) as Json

describe("mergePatch (RFC 7396)", () => {
  for (const [original, patch, result] of appendixA) {
    it(`Appendix A: ${original} + ${patch} = ${result}`, () => {
      assert.deepStrictEqual(mergePatch(parse(original), parse(patch)), parse(result))
    })
  }

  it("section 3 example: the whole document", () => {
    const target = parse(
      '{"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},"tags":["example","sample"],"content":"This will be unchanged"}'
    )
    const patch = parse(
      '{"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},"tags":["example"]}'
    )
    assert.strictEqual(
      JSON.stringify(mergePatch(target, patch)),
      '{"title":"Hello!","author":{"givenName":"John"},"tags":["example"],"content":"This will be unchanged","phoneNumber":"+01-123-456-7890"}'
    )
  })

  it("a missing document is patched as an empty object", () => {
    assert.deepStrictEqual(mergePatch(undefined, parse('{"a":1,"b":null,"c":{"d":null}}')), parse('{"a":1,"c":{}}'))
  })

  it("keeps member order, empty arrays and objects, and numbers exactly", () => {
    const target = parse('{"z":1,"a":[],"m":{},"big":12345678901234567,"f":0.1}')
    const out = mergePatch(target, parse('{"a":[],"n":1e300,"z":-0.000001}'))
    assert.strictEqual(JSON.stringify(out), '{"z":-0.000001,"a":[],"m":{},"big":12345678901234568,"f":0.1,"n":1e+300}')
  })

  it("never modifies its arguments", () => {
    const target = parse('{"a":{"b":1},"c":[1]}')
    const patch = parse('{"a":{"b":null,"x":2},"c":null}')
    const before = [JSON.stringify(target), JSON.stringify(patch)]
    mergePatch(target, patch)
    assert.deepStrictEqual([JSON.stringify(target), JSON.stringify(patch)], before)
  })

  it("treats __proto__ as an ordinary member", () => {
    const out = mergePatch(parse('{"a":1}'), parse('{"__proto__":{"polluted":true}}')) as Record<string, unknown>
    assert.isTrue(Object.hasOwn(out, "__proto__"))
    assert.strictEqual(JSON.stringify(out), '{"a":1,"__proto__":{"polluted":true}}')
    assert.isUndefined(({} as Record<string, unknown>).polluted)
    assert.strictEqual(Object.getPrototypeOf(out), Object.prototype)
  })
})
