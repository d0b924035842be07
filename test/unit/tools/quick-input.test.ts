/**
 * Quick input checks (Tool.quickInput, src/tools/quick.ts): whatever one accepts, the
 * tool's input schema accepts and decodes to the same value; the plain inputs of the
 * hot calls are accepted (so the schema decode is really skipped); the rest is left to
 * the schema, which words the error.
 */
import { assert, describe, it } from "@effect/vitest"
import { Exit, Schema } from "effect"
import { allTools } from "../../../src/tools/index.ts"

const q = "research"
const id = "t12"
const token = "abcdefgh12345678.1"
const lone = "\ud800"

/** Inputs each tool's quick check must accept (the plain shapes of its hot calls). */
const plain: Record<string, ReadonlyArray<unknown>> = {
  get: [{ key: "user:1" }, { key: "", offset: 0, length: 1 }, { key: "é".repeat(100), offset: 2 ** 40 }],
  set: [
    { key: "user:1", value: "v" },
    { key: "k", value: "", encoding: "base64", ttlSeconds: 1, condition: "ifAbsent" },
    { key: "k", value: lone, encoding: "utf8", condition: "always", keepTtl: true },
    { key: "k", value: "v", ttlSeconds: 315_360_000, condition: "ifPresent", keepTtl: false }
  ],
  pipeline: [
    { commands: [["SET", "a", "1"]] },
    {
      commands: [
        ["SET", "a", 1],
        ["INCR", "a"],
        ["GET", "a"]
      ],
      atomic: true
    },
    { commands: [["SET", lone, -1.5e300]], atomic: false }
  ],
  task_create: [
    { queue: q, payload: { n: 1 } },
    { queue: q, payload: [1, "x", null, true, { a: [] }], priority: 1, delaySeconds: 0, maxAttempts: 100 },
    { queue: q, payload: null, backoffSeconds: 86400, idempotencyKey: "k", dependsOn: [id, "t1"] }
  ],
  task_claim: [
    { queue: q, worker: "w" },
    { queue: q, worker: "w".repeat(200), leaseSeconds: 60, count: 100 }
  ],
  task_heartbeat: [
    { queue: q, taskId: id, leaseToken: token },
    { queue: q, taskId: id, leaseToken: token, leaseSeconds: 86400 }
  ],
  task_complete: [
    { queue: q, taskId: id, leaseToken: token },
    { queue: q, taskId: id, leaseToken: token, result: { ok: true } }
  ],
  task_fail: [
    { queue: q, taskId: id, leaseToken: token, error: "boom" },
    { queue: q, taskId: id, leaseToken: token, error: "boom", retry: false }
  ]
}

/** Inputs some schema refuses or that are odd: a quick check must leave them to the schema (or agree with it). */
const odd: ReadonlyArray<unknown> = [
  {},
  [],
  null,
  "x",
  { commands: [] },
  { commands: [[]] },
  { commands: [["SET", "a", null]] },
  { commands: [["SET", "a", true]] },
  { commands: [["SET", "a", ["nested"]]] },
  { commands: [["SET", "a", Number.NaN]] },
  { commands: ["SET a 1"] },
  { commands: { 0: ["GET", "a"] } },
  { commands: [["GET", "a"]], atomic: "yes" },
  { commands: [["GET", "a"]], atomic: undefined },
  { commands: [["GET", "a"]], extra: 1 },
  { queue: "", payload: 1 },
  { queue: "-x", payload: 1 },
  { queue: "x".repeat(101), payload: 1 },
  { queue: q },
  { queue: q, payload: Number.POSITIVE_INFINITY },
  { queue: q, payload: { d: new Date(0) } },
  { queue: q, payload: 1, priority: 0 },
  { queue: q, payload: 1, priority: 11 },
  { queue: q, payload: 1, priority: 1.5 },
  { queue: q, payload: 1, priority: "1" },
  { queue: q, payload: 1, idempotencyKey: "" },
  { queue: q, payload: 1, idempotencyKey: lone },
  { queue: q, payload: 1, dependsOn: ["bad id"] },
  { queue: q, payload: 1, dependsOn: Array.from({ length: 101 }, (_, i) => `t${i}`) },
  { queue: q, payload: 1, extra: true },
  { queue: q, worker: "" },
  { queue: q, worker: "w".repeat(201) },
  { queue: q, worker: lone },
  { queue: q, worker: "w", leaseSeconds: 0 },
  { queue: q, worker: "w", count: 101 },
  { queue: q, taskId: "bad id", leaseToken: token },
  { queue: q, taskId: id, leaseToken: "bad token!" },
  { queue: q, taskId: id, leaseToken: token, leaseSeconds: 86401 },
  { queue: q, taskId: id, leaseToken: token, error: "" },
  { queue: q, taskId: id, leaseToken: token, error: lone },
  { queue: q, taskId: id, leaseToken: token, error: "e", retry: 0 },
  { queue: q, taskId: id, leaseToken: token, result: () => 1 },
  { key: lone },
  { key: 1 },
  { key: "k".repeat(65_537) },
  { key: "é".repeat(32_769) },
  { key: "k", offset: -1 },
  { key: "k", offset: 1.5 },
  { key: "k", offset: 2 ** 53 },
  { key: "k", length: 0 },
  { key: "k", length: "1" },
  { key: "k", extra: 1 },
  { key: "k", value: 1 },
  { key: "k", value: "v", encoding: "hex" },
  { key: "k", value: "v", ttlSeconds: 0 },
  { key: "k", value: "v", ttlSeconds: 315_360_001 },
  { key: "k", value: "v", ttlSeconds: 1.5 },
  { key: "k", value: "v", condition: "never" },
  { key: "k", value: "v", keepTtl: "yes" },
  { key: "k", value: "v", encoding: undefined }
]

describe("quick input checks", () => {
  const quick = allTools.filter((t) => t.quickInput !== undefined)

  it("are on the hot tools", () => {
    assert.deepStrictEqual(quick.map((t) => t.name).sort(), Object.keys(plain).sort())
  })

  for (const tool of quick) {
    it(`${tool.name}: accepts its plain inputs and nothing its schema refuses or would change`, () => {
      const decode = Schema.decodeUnknownExit(Schema.toCodecJson(tool.input))
      for (const input of [...(plain[tool.name] ?? []), ...odd]) {
        if (tool.quickInput!(input) === undefined) continue
        const full = decode(input, { errors: "all", onExcessProperty: "error" })
        assert.isTrue(Exit.isSuccess(full), `${tool.name} ${JSON.stringify(input)}`)
        if (Exit.isSuccess(full)) assert.deepStrictEqual(tool.quickInput!(input), full.value)
      }
      for (const input of plain[tool.name] ?? [])
        assert.isDefined(tool.quickInput!(input), `${tool.name} ${JSON.stringify(input)}`)
    })
  }
})
