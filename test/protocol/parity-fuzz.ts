/**
 * Seeded random `tools/call` shapes for the fast-path parity test: ids, params
 * and `_meta` keys, argument shapes and envelope variants drawn from lists of
 * what matters to the fast path's rules, mostly valid so that many reach it. The
 * same seed gives the same steps, so a difference found can be replayed.
 */

import type { Era, Step } from "./parity.ts"
import { callLine, metaOf } from "./parity-corpus.ts"
import { MODERN_META } from "./raw.ts"

/** mulberry32: a small, good-enough seeded generator. */
export const random = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ABSENT = Symbol("absent")

export const fuzzSteps = (era: Era, seed: number, count: number): ReadonlyArray<Step> => {
  const next = random(seed)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(next() * xs.length)]!
  /** Mostly the first (valid) choice, sometimes any other. */
  const mostly = <A>(valid: A, others: ReadonlyArray<A>, validShare = 0.7): A =>
    next() < validShare ? valid : pick(others)

  const names = ["get", "set", "incr", "exists", "nope", "__proto__", "hasOwnProperty", 5, null, ABSENT] as const
  const argsFor = (name: unknown, n: number): unknown => {
    const key = pick(["f1", "f2", "counter", "task:x", "", "\u00e9\u{1F600}"])
    const valid =
      name === "set"
        ? { key, value: pick(["v", "", "\u2028", "x".repeat(100)]) }
        : name === "incr"
          ? { key: `counter${n % 3}`, by: pick([1, -2, 2 ** 40]) }
          : name === "exists"
            ? { keys: [key, "f1"] }
            : { key }
    return mostly<unknown>(valid, [ABSENT, {}, [], "x", null, 3, { ...valid, extra: 1 }, { key: 5 }, { key: ["a"] }])
  }
  const envelopeVariants: ReadonlyArray<Record<string, unknown>> = [
    {},
    { "io.modelcontextprotocol/clientInfo": { name: "fuzz", version: String(Math.floor(next() * 3)) } },
    { "io.modelcontextprotocol/clientCapabilities": { elicitation: {} } },
    { "io.modelcontextprotocol/logLevel": "info" },
    { "io.modelcontextprotocol/protocolVersion": "2025-11-25" },
    { "io.modelcontextprotocol/clientCapabilities": { sampling: "x" } }
  ]
  const metaExtra = (): Record<string, unknown> => {
    const extra: Record<string, unknown> = {}
    if (next() < 0.3) extra.progressToken = pick(["p", 1, -1, 1.5, {}, null, 2 ** 60])
    if (next() < 0.2) extra.traceparent = pick(["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "bad", 7])
    if (next() < 0.1)
      extra[pick(["tracestate", "baggage", "com.example/x", "io.modelcontextprotocol/other"])] = pick(["s", 1])
    return extra
  }

  const steps: Array<Step> = []
  for (let n = 0; n < count; n++) {
    const name = pick(names)
    const id = mostly<unknown>(1000 + n, [`s${n}`, 1000.5 + n, null, true, -n - 1, 2 ** 54 + n])
    const params: Record<string, unknown> = {}
    if (name !== ABSENT) params.name = name
    const args = argsFor(name, n)
    if (args !== ABSENT) params.arguments = args
    const meta =
      era === "2026-07-28"
        ? { _meta: { ...MODERN_META, ...pick(envelopeVariants), ...metaExtra() } }
        : metaOf(era, metaExtra())
    const metaChoice = mostly<unknown>(meta, [{}, { _meta: 5 }, { _meta: [] }, { _meta: { ...MODERN_META } }])
    Object.assign(params, metaChoice)
    if (next() < 0.05) params[pick(["task", "requestState", "foo"])] = pick([{}, "x"])
    const line =
      next() < 0.05
        ? JSON.stringify({ method: "tools/call", jsonrpc: pick(["2.0", "1.0"]), id, params, extra: 1 })
        : callLine(id, params)
    // The same request twice (a new id): the second may take the fast path the first opened.
    const again = typeof id === "number" && Number.isInteger(id) && next() < 0.5
    steps.push({
      label: `fuzz ${seed}#${n}: ${line.slice(0, 160)}`,
      lines: again ? [line, line.replace(`"id":${id}`, `"id":${id + 1_000_000}`)] : [line],
      answers: again ? 2 : 1,
      atMostMs: 300
    })
  }
  return steps
}
