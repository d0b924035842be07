/**
 * One HTTP server: start it on a free port, drive `get` with the raw load
 * generator (sequential, then 16 in flight; `interleave`), read its RSS, stop
 * it. A server that will not start (ours before the HTTP transport lands) is
 * reported n/a.
 */
import { request } from "node:http"
import { freePort } from "../test/support/ports.ts"
import { httpTarget } from "./http-client.ts"
import { rssMiB, spawnNode, waitUntil } from "./processes.ts"
import type { Results } from "./results.ts"
import { firstLine, type Live, runTargets, type Sizes, untilReady } from "./run-targets.ts"
import type { HttpSystem } from "./systems.ts"
import { unprepared } from "./workloads.ts"

export const HTTP_TARGETS = ["httpGet", "httpGet16"] as const

/** True once anything answers HTTP on the port (any status). */
export const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", method: "GET" }, (res) => {
      res.resume()
      resolve(true)
    })
    req.on("error", () => resolve(false))
    req.end()
  })

/** Started and answering, to be measured target by target (`interleave`); undefined when it could not be started or used (skip it in later runs). */
export const startHttp = async (results: Results, system: HttpSystem, sizes: Sizes): Promise<Live | undefined> => {
  const port = await freePort()
  const child = spawnNode(
    system.args.map((a) => (a === "{port}" ? String(port) : a)),
    system.env
  )
  const target = httpTarget(port, system.path, 16)
  const at = { system: system.name, role: system.role, via: "HTTP", section: "raw" as const, pid: child.pid }
  results.declare(at)
  const stop = async () => {
    target.close()
    await child.stop()
  }
  try {
    await waitUntil(child, () => answers(port), 20_000)
    const ops = system.ops(unprepared(target.call))
    await untilReady(ops.httpGet!)
    return {
      name: system.name,
      has: (id) => ops[id] !== undefined,
      measure: (id) => runTargets(results, at, ops, [id], sizes),
      finish: async () => {
        results.value(at, "rss", rssMiB(child.pid))
        await stop()
      }
    }
  } catch (e) {
    results.missing(at, [...HTTP_TARGETS, "rss"], firstLine(e))
    await stop()
    return undefined
  }
}
