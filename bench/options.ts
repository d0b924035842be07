/**
 * `npm run bench -- [flags]`: how big a run is and where it writes.
 */
import { parseArgs } from "node:util"
import { requireMain } from "./processes.ts"

export interface Options {
  readonly calls: number
  readonly warmup: number
  readonly runs: number
  /** Samples of spawn → first tools/list per server and era (each measured run gives one). */
  readonly spawns: number
  /** JSON goes to bench/results/latest.json and, when given, here too. */
  readonly out: string | undefined
  readonly baselineDist: string | undefined
  readonly quick: boolean
  /** Interleaved rounds of ours' audit/metrics variants (0: not measured). */
  readonly variantRounds: number
  /** The parts of the run to do (default all). */
  readonly only: ReadonlyArray<Part>
}

/** raw: the ratio rows (raw stdio driver, ioredis, HTTP); sdk: the stdio rows by the SDK clients; variants: ours with audit on / metrics off. */
export const PARTS = ["raw", "sdk", "variants", "http"] as const
export type Part = (typeof PARTS)[number]

export const USAGE = `usage: npm run bench -- [--quick] [--runs N] [--calls N] [--warmup N] [--spawns N]
                       [--variant-rounds N] [--only PARTS] [--out FILE] [--baseline-dist DIR]
  --quick              200 calls after 20 warm-up, 1 run, 2 spawns, 2 variant rounds (under a minute)
  --runs N             measured runs per server; the table shows the median (default 3)
  --calls N            timed calls per target and run (default 2000; task cycles N/3, pipelines N/20)
  --warmup N           untimed calls first (default 200)
  --spawns N           spawn → first tools/list samples per server (default 5)
  --variant-rounds N   interleaved rounds of ours with audit on / metrics off beside its defaults
                       (default 6; 0 skips them)
  --only PARTS         some of raw,sdk,variants,http (default all): raw = the ratio rows (raw stdio
                       driver, ioredis, HTTP), sdk = the stdio rows by the SDK clients,
                       variants = ours with audit on / metrics off beside its defaults,
                       http = the HTTP rows alone
  --out FILE           also write the JSON here (always: bench/results/latest.json)
  --baseline-dist DIR  also measure another build of ours: a dist/ with its node_modules beside it
`

const whole = (name: string, raw: string | undefined, fallback: number, min = 1): number => {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number from ${min}, got ${raw}`)
  return n
}

const parts = (raw: string | undefined): ReadonlyArray<Part> => {
  if (raw === undefined) return PARTS
  const words = raw.split(",").map((w) => w.trim())
  const bad = words.filter((w) => !(PARTS as ReadonlyArray<string>).includes(w))
  if (bad.length > 0 || words.length === 0) throw new Error(`--only takes some of ${PARTS.join(",")}, got ${raw}`)
  return PARTS.filter((p) => words.includes(p))
}

/** The options, or the usage on stderr and exit 2. */
export const parseOptions = (argv: ReadonlyArray<string>): Options => {
  try {
    return parse(argv)
  } catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`)
    process.exit(2)
  }
}

const parse = (argv: ReadonlyArray<string>): Options => {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: "boolean" },
      runs: { type: "string" },
      calls: { type: "string" },
      warmup: { type: "string" },
      spawns: { type: "string" },
      "variant-rounds": { type: "string" },
      only: { type: "string" },
      out: { type: "string" },
      "baseline-dist": { type: "string" },
      help: { type: "boolean", short: "h" }
    }
  })
  if (values.help === true) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  const quick = values.quick === true
  const baselineDist = values["baseline-dist"]
  if (baselineDist !== undefined) requireMain(baselineDist)
  return {
    quick,
    calls: whole("calls", values.calls, quick ? 200 : 2000),
    warmup: whole("warmup", values.warmup, quick ? 20 : 200),
    runs: whole("runs", values.runs, quick ? 1 : 3),
    spawns: whole("spawns", values.spawns, quick ? 2 : 5),
    variantRounds: whole("variant-rounds", values["variant-rounds"], quick ? 2 : 6, 0),
    only: parts(values.only),
    out: values.out,
    baselineDist
  }
}
