/**
 * The JSON size estimate that pages are cut by (Budget.ts): an upper bound of
 * the JSON a value becomes, however it is encoded, and cuts that fit exactly.
 */
import { randomBytes } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { cutToFit, jsonBound } from "../../src/services/Budget.ts"
import { fromBuffer } from "../../src/services/Values.ts"

const samples = (): Array<Buffer> => {
  const out = [
    Buffer.alloc(0),
    Buffer.from("plain"),
    Buffer.from('"quotes" and \\ backslashes'),
    Buffer.from("\n\t\r\b\f\u0001\u001f"),
    Buffer.from("ünïcødé ✓ 🚀"),
    Buffer.from([0xff, 0xfe, 0x00, 0x22, 0x5c]),
    Buffer.from([0xe2, 0x82])
  ]
  for (let i = 0; i < 300; i++) out.push(randomBytes(Math.floor(Math.random() * 64)))
  for (let i = 0; i < 100; i++) {
    const chars = Array.from({ length: 40 }, () => String.fromCodePoint(Math.floor(Math.random() * 0x2fff)))
    out.push(Buffer.from(chars.join(""), "utf8"))
  }
  return out
}

const jsonOf = (raw: Buffer) => Buffer.byteLength(JSON.stringify(fromBuffer(raw).value))

describe("Budget", () => {
  it("jsonBound is never below the JSON the value becomes (text or base64)", () => {
    for (const raw of samples()) assert.isAtLeast(jsonBound(raw), jsonOf(raw), raw.toString("hex"))
  })

  it("cutToFit returns the longest fitting prefix, text kept text", () => {
    for (const raw of samples()) {
      for (const room of [2, 7, 20, 50]) {
        const part = cutToFit(raw, room)
        assert.isAtMost(Buffer.byteLength(JSON.stringify(part.value)), Math.max(room, 2))
        const bytes = Buffer.from(part.value, part.encoding === "base64" ? "base64" : "utf8")
        assert.strictEqual(bytes.length, part.bytes)
        assert.isTrue(raw.subarray(0, part.bytes).equals(bytes))
      }
    }
    const text = cutToFit(Buffer.from("ééé"), 6)
    assert.deepStrictEqual(text, { value: "éé", encoding: "utf8", bytes: 4 })
  })
})
