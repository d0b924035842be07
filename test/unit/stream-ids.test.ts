import { assert, describe, it } from "@effect/vitest"
import * as Ids from "../../src/services/streams/StreamIds.ts"

const id = (ms: bigint | number, seq: bigint | number): Ids.StreamId => ({ ms: BigInt(ms), seq: BigInt(seq) })
const fmt = (x: Ids.StreamId | undefined) => (x === undefined ? undefined : Ids.format(x))
const MAX = "18446744073709551615"

describe("stream ids", () => {
  it("parses ms-seq and ms alone", () => {
    assert.deepStrictEqual(Ids.parse("1700000000000-3"), id(1700000000000, 3))
    assert.deepStrictEqual(Ids.parse("5"), id(5, 0))
    assert.deepStrictEqual(Ids.parse("5", Ids.U64_MAX), id(5n, Ids.U64_MAX))
    assert.strictEqual(fmt(Ids.parse(`${MAX}-${MAX}`)), `${MAX}-${MAX}`)
  })

  it("refuses malformed ids and values past 64 bits", () => {
    for (const bad of ["", "-", "+", "$", ">", "*", "abc", "1-", "-1", "1-2-3", "1.5-0", " 1-0", "1-0 ", "-5-0"]) {
      assert.isUndefined(Ids.parse(bad), bad)
    }
    assert.isUndefined(Ids.parse("18446744073709551616-0"))
    assert.isUndefined(Ids.parse(`1-18446744073709551616`))
    assert.isUndefined(Ids.parse("123456789012345678901"))
  })

  it("orders by ms, then seq, comparing numbers not text", () => {
    assert.strictEqual(Ids.compare(id(2, 0), id(10, 0)), -1)
    assert.strictEqual(Ids.compare(id(5, 10), id(5, 9)), 1)
    assert.strictEqual(Ids.compare(id(5, 1), id(5, 1)), 0)
    assert.isTrue(Ids.equals(Ids.parse("7")!, id(7, 0)))
  })

  it("steps to the next and previous id across the sequence boundary", () => {
    assert.strictEqual(fmt(Ids.next(id(5, 1))), "5-2")
    assert.strictEqual(fmt(Ids.next(id(5n, Ids.U64_MAX))), "6-0")
    assert.isUndefined(Ids.next(Ids.MAX))
    assert.strictEqual(fmt(Ids.prev(id(5, 0))), `4-${MAX}`)
    assert.strictEqual(fmt(Ids.prev(id(5, 2))), "5-1")
    assert.isUndefined(Ids.prev(Ids.ZERO))
  })

  it("normalizes to ms-seq", () => {
    assert.strictEqual(Ids.normalize("42"), "42-0")
    assert.strictEqual(Ids.normalize("42-7"), "42-7")
    assert.isUndefined(Ids.normalize("x"))
  })

  it("reads range bounds: special ids, incomplete ids and exclusive bounds", () => {
    assert.strictEqual(fmt(Ids.parseStart("-")), "0-0")
    assert.strictEqual(fmt(Ids.parseStart("+")), `${MAX}-${MAX}`)
    assert.strictEqual(fmt(Ids.parseStart("5")), "5-0")
    assert.strictEqual(fmt(Ids.parseStart("(5-3")), "5-4")
    assert.strictEqual(fmt(Ids.parseEnd("+")), `${MAX}-${MAX}`)
    assert.strictEqual(fmt(Ids.parseEnd("5")), `5-${MAX}`)
    assert.strictEqual(fmt(Ids.parseEnd("(5-3")), "5-2")
    assert.strictEqual(fmt(Ids.parseEnd("(5-0")), `4-${MAX}`)
    // Exclusive bounds past either end, and "(" on a special id, are invalid (as in Redis).
    assert.isUndefined(Ids.parseStart(`(${MAX}-${MAX}`))
    assert.isUndefined(Ids.parseEnd("(0-0"))
    assert.isUndefined(Ids.parseStart("(-"))
    assert.isUndefined(Ids.parseEnd("(+"))
    assert.isUndefined(Ids.parseStart("$"))
  })

  it("reads XADD ids", () => {
    assert.deepStrictEqual(Ids.parseAddId("*"), { _tag: "Auto" })
    assert.deepStrictEqual(Ids.parseAddId("12-*"), { _tag: "AutoSeq", ms: 12n })
    assert.deepStrictEqual(Ids.parseAddId("12-3"), { _tag: "Explicit", id: id(12, 3) })
    assert.deepStrictEqual(Ids.parseAddId("12"), { _tag: "Explicit", id: id(12, 0) })
    for (const bad of ["", "-*", "x-*", "1-*-*", "$", ">", "-", "+", "1-x"])
      assert.isUndefined(Ids.parseAddId(bad), bad)
  })

  it("gives XADD ids that only grow, as Redis does", () => {
    const next = (last: Ids.StreamId, requested: string, now: number) => {
      const r = Ids.nextAddId(last, Ids.parseAddId(requested)!, BigInt(now))
      return "id" in r ? Ids.format(r.id) : r.error
    }
    // "*": the clock when it moved on, otherwise the next sequence of the last id (clock behind or equal).
    assert.strictEqual(next(Ids.ZERO, "*", 1000), "1000-0")
    assert.strictEqual(next(id(1000, 0), "*", 1000), "1000-1")
    assert.strictEqual(next(id(2000, 4), "*", 1000), "2000-5")
    assert.strictEqual(next(Ids.ZERO, "*", 0), "0-1")
    assert.strictEqual(next(id(5n, Ids.U64_MAX), "*", 1), "6-0")
    assert.strictEqual(next(Ids.MAX, "*", 1), "overflow")
    // "<ms>-*"
    assert.strictEqual(next(Ids.ZERO, "0-*", 0), "0-1")
    assert.strictEqual(next(id(5, 2), "5-*", 0), "5-3")
    assert.strictEqual(next(id(5, 2), "9-*", 0), "9-0")
    assert.strictEqual(next(id(5, 2), "4-*", 0), "notGreater")
    assert.strictEqual(next(id(5n, Ids.U64_MAX), "5-*", 0), "overflow")
    // explicit
    assert.strictEqual(next(Ids.ZERO, "0-0", 0), "zero")
    assert.strictEqual(next(id(5, 5), "5-5", 0), "notGreater")
    assert.strictEqual(next(id(5, 5), "5", 0), "notGreater")
    assert.strictEqual(next(id(5, 5), "5-6", 0), "5-6")
  })
})
