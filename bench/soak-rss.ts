/**
 * RSS over time under steady load (issue 12: flat within ±10% after the first
 * minute). Spawns ours over stdio on its own redis-server, keeps a mix of
 * get / set / state_patch / task cycles running with a few operations in flight,
 * no faults, and samples the server's VmRSS. Numbers only: it never fails on them.
 *
 *   npx node bench/soak-rss.ts [--minutes 5] [--every 10] [--in-flight 4] [--dist DIR] [--era 2025-11-25|2026-07-28]
 */
import { parseArgs } from "node:util"
import { stopAll } from "../test/support/registry.ts"
import { path, requireMain } from "./processes.ts"
import { startBenchRedis } from "./run-redis.ts"
import { connectStdio, type Era } from "./stdio-client.ts"
import { baselineName } from "./systems.ts"
import { writeJson } from "./table.ts"
import { oursOps } from "./workloads.ts"

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" },
    every: { type: "string", default: "10" },
    "in-flight": { type: "string", default: "4" },
    dist: { type: "string" },
    era: { type: "string", default: "2025-11-25" }
  }
})
const minutes = Number(values.minutes)
const everyMs = Number(values.every) * 1000
const inFlight = Number(values["in-flight"])
const era = values.era as Era
const dist = values.dist ?? path("dist")

const { redis } = await startBenchRedis()
const samples: Array<{ t: number; rssMiB: number; operations: number }> = []
try {
  const session = await connectStdio(
    {
      command: process.execPath,
      args: [requireMain(dist)],
      env: { REDIS_URL: redis.url, REDIS_MCP_LOG_LEVEL: "warn" }
    },
    era
  )
  const ops = oursOps(session)
  const mix = [ops.get!, ops.set!, ops.statePatch!, ops.taskCycle!]
  const start = performance.now()
  const end = start + minutes * 60_000
  let operations = 0
  let failures = 0
  const worker = async () => {
    while (performance.now() < end) {
      const i = operations++
      await mix[i % mix.length]!(i).catch(() => failures++)
    }
  }
  const sample = () => {
    const rss = session.rssMiB()
    if (rss === undefined) return
    const t = Math.round((performance.now() - start) / 1000)
    samples.push({ t, rssMiB: rss, operations })
    process.stderr.write(`SOAK-RSS t=${t}s rssMiB=${rss.toFixed(1)} operations=${operations}\n`)
  }
  sample()
  const timer = setInterval(sample, everyMs)
  await Promise.all(Array.from({ length: inFlight }, worker))
  clearInterval(timer)
  await session.close()

  const after = samples.filter((s) => s.t >= 60)
  const atMinute = after[0]?.rssMiB
  const lo = Math.min(...after.map((s) => s.rssMiB))
  const hi = Math.max(...after.map((s) => s.rssMiB))
  const spread =
    atMinute === undefined
      ? "n/a (shorter than a minute)"
      : `${(((hi - lo) / atMinute) * 100).toFixed(1)}% of the 1-minute value (range ${lo.toFixed(0)}–${hi.toFixed(0)} MiB)`
  const summary = {
    server: values.dist === undefined ? "ours" : baselineName(dist),
    era,
    minutes,
    inFlight,
    operations,
    failures,
    rssFirstMiB: samples[0]?.rssMiB,
    rssAtOneMinuteMiB: atMinute,
    rssEndMiB: samples.at(-1)?.rssMiB,
    spreadAfterOneMinute: spread
  }
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
  writeJson(path("bench/results/soak-rss.json"), { summary, samples })
} finally {
  await redis.dispose()
  await stopAll()
}
