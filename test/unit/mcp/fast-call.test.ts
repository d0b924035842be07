/**
 * The envelope string the fast paths key accepted envelopes by: made once for a
 * client that repeats its envelope, and for any other envelope exactly what it
 * would be made fresh (the values' JSON text, key order included; absent keys apart).
 */
import { assert, describe, it } from "@effect/vitest"
import { envelopeOf } from "../../../src/mcp/FastCall.ts"

const VERSION = "io.modelcontextprotocol/protocolVersion"
const INFO = "io.modelcontextprotocol/clientInfo"
const CAPS = "io.modelcontextprotocol/clientCapabilities"

/** The envelope string made from scratch, as envelopeOf makes it on a miss. */
const fresh = (meta: Record<string, unknown>) => {
  let key: string | undefined
  for (const k of [VERSION, INFO, CAPS, "io.modelcontextprotocol/logLevel"])
    if (Object.hasOwn(meta, k)) key = `${key ?? ""}${k}=${JSON.stringify(meta[k])}\n`
  return key
}

/** A parsed request's `_meta`, as the wire gives it (new objects every time). */
const parsed = (text: string) => JSON.parse(text) as Record<string, unknown>

describe("envelopeOf", () => {
  const base = `{"${VERSION}":"2026-07-28","${INFO}":{"name":"c","version":"1"},"${CAPS}":{"a":[1,{"b":null}]}}`

  it("gives the same string for the same envelope sent again", () => {
    const first = envelopeOf(parsed(base))
    assert.strictEqual(first, fresh(parsed(base)))
    assert.strictEqual(envelopeOf(parsed(base)), first)
    assert.strictEqual(envelopeOf({ ...parsed(base), traceparent: "00-x" }), first)
  })

  it("tells apart every change the string would show", () => {
    const variants = [
      `{"${VERSION}":"2026-07-28","${INFO}":{"name":"c","version":"2"},"${CAPS}":{"a":[1,{"b":null}]}}`,
      `{"${VERSION}":"2026-07-28","${INFO}":{"version":"1","name":"c"},"${CAPS}":{"a":[1,{"b":null}]}}`,
      `{"${VERSION}":"2026-07-28","${INFO}":{"name":"c","version":"1"},"${CAPS}":{"a":[1,{"b":false}]}}`,
      `{"${VERSION}":"2026-07-28","${INFO}":{"name":"c","version":"1"},"${CAPS}":{"a":[1]}}`,
      `{"${VERSION}":"2026-07-28","${INFO}":{"name":"c","version":"1"},"${CAPS}":{"a":{"0":1}}}`,
      `{"${VERSION}":"2026-07-28","${INFO}":{"name":"c","version":"1"}}`,
      `{"${VERSION}":"2026-07-28","${INFO}":{"name":"c","version":"1"},"${CAPS}":null}`,
      `{"${INFO}":{"name":"c","version":"1"},"${CAPS}":{"a":[1,{"b":null}]}}`,
      `{"traceparent":"00-x"}`,
      base
    ]
    const seen = new Set<string | undefined>()
    for (const v of variants) {
      envelopeOf(parsed(base))
      const got = envelopeOf(parsed(v))
      assert.strictEqual(got, fresh(parsed(v)), v)
      seen.add(got)
    }
    assert.strictEqual(seen.size, variants.length)
  })

  it("is not fooled by a request's objects changed after it was read", () => {
    const meta = parsed(base)
    const first = envelopeOf(meta)
    ;(meta[INFO] as Record<string, unknown>).version = "9"
    assert.strictEqual(envelopeOf(meta), fresh(meta))
    assert.notStrictEqual(envelopeOf(meta), first)
  })
})
