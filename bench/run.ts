/**
 * `npm run bench`: ours beside the reference Redis MCP server and the
 * ceilings (SDK echo servers, raw ioredis, a bare node:http echo), over stdio
 * in both protocol eras and over HTTP, on one redis-server started here.
 * The ratio rows are driven by raw load generators (stdio: raw-stdio.ts), the
 * same stdio rows again by the MCP SDK clients, then ours with audit on and
 * metrics off beside its defaults. Prints the tables with ratios and writes
 * them as JSON. Numbers only: nothing fails on speed; a wrong answer fails the
 * run (exit 1). See `npm run bench -- --help`.
 */
import { loadavg } from "node:os"
import { resolve } from "node:path"
import { stopAll } from "../test/support/registry.ts"
import { type Part, parseOptions } from "./options.ts"
import { path } from "./processes.ts"
import { makeReport, renderReport } from "./report.ts"
import { Results, type Section } from "./results.ts"
import { HTTP_TARGETS, startHttp } from "./run-http.ts"
import { startBenchRedis, startIoredis } from "./run-redis.ts"
import { runSpawnOnly, STDIO_TARGETS, startStdio } from "./run-stdio.ts"
import { interleave } from "./run-targets.ts"
import type { Era } from "./stdio-client.ts"
import { httpSystems, type StdioSystem, stdioSystems } from "./systems.ts"
import { writeJson } from "./table.ts"
import { runVariants, type VariantRow } from "./variants.ts"

const options = parseOptions(process.argv.slice(2))
const started = performance.now()
const log = (line: string) =>
  process.stderr.write(`bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s  ${line}\n`)

const loadBefore = loadavg()[0]!
const { redis, version } = await startBenchRedis()
const results = new Results()
let variants: Array<VariantRow> = []
try {
  const stdio = stdioSystems(redis.url, options.baselineDist)
  const http = httpSystems(redis.url, options.baselineDist)
  const sessions: Array<{ system: StdioSystem; era: Era }> = stdio.flatMap((system) =>
    system.eras.map((era) => ({ system, era }))
  )
  // Servers (by section: each client notes its own n/a) that cannot be used, skipped from then on.
  const unusable = new Set<unknown>()
  const unusableVia: Record<Section, Set<unknown>> = { raw: unusable, sdk: new Set() }
  // Each round starts every server, then measures target by target across them (run-targets.ts: interleave).
  const stdioRound = (run: number, section: Section) => {
    const starters = sessions
      .filter((s) => !unusableVia[section].has(s))
      .map((s) => async () => {
        log(`run ${run}/${options.runs}: start ${s.system.name}, stdio ${s.era}, ${section} client`)
        const started = await startStdio(results, s.system, s.era, section, options)
        if (started === undefined) unusableVia[section].add(s)
        return started
      })
    // Raw ioredis, the Redis ceiling of the ratio rows, in the same turns.
    if (section === "raw") starters.push(async () => startIoredis(results, redis.url, options))
    return interleave(starters, STDIO_TARGETS, run, (line) =>
      log(`run ${run}/${options.runs}, stdio ${section}: ${line}`)
    )
  }
  const doing = (part: Part) => options.only.includes(part)
  for (let run = 1; run <= options.runs; run++) {
    if (doing("raw")) {
      await stdioRound(run, "raw")
    }
    if (doing("raw") || doing("http")) {
      const starters = http
        .filter((h) => !unusable.has(h))
        .map((h) => async () => {
          log(`run ${run}/${options.runs}: start ${h.name}, HTTP`)
          const started = await startHttp(results, h, options)
          if (started === undefined) unusable.add(h)
          return started
        })
      await interleave(starters, HTTP_TARGETS, run, (line) => log(`run ${run}/${options.runs}, HTTP: ${line}`))
    }
    if (doing("sdk")) await stdioRound(run, "sdk")
  }
  for (let k = options.runs; doing("raw") && k < options.spawns; k++) {
    log(`spawn → first tools/list, sample ${k + 1}/${options.spawns}`)
    for (const s of sessions) if (!unusable.has(s)) await runSpawnOnly(results, s.system, s.era, "raw")
  }
  if (doing("variants") && options.variantRounds > 0) {
    const v = await runVariants(redis.url, options, options.variantRounds, log)
    variants = v.rows
    results.wrongAnswers.push(...v.wrongAnswers)
  }
} finally {
  await redis.dispose()
  await stopAll()
}

const report = makeReport(options, version, loadBefore, results.rows(), variants, results.wrongAnswers)
process.stdout.write(renderReport(report))
const files = [path("bench/results/latest.json"), ...(options.out === undefined ? [] : [resolve(options.out)])]
for (const file of files) writeJson(file, report)
process.stdout.write(`JSON: ${files.join(", ")}\n`)
if (report.wrongAnswers.length > 0) process.exitCode = 1
