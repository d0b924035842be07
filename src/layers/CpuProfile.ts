/**
 * `--cpu-profile FILE` (REDIS_MCP_CPU_PROFILE): a V8 CPU profile of the whole run,
 * written to FILE when the server shuts down cleanly (stdin closed, SIGINT,
 * SIGTERM). The file opens in Chrome DevTools (Performance → Load profile) or
 * any `.cpuprofile` viewer. Off by default; profiling costs a few percent of CPU.
 */
import { writeFile } from "node:fs/promises"
import { Config, Effect, Layer, Option } from "effect"

const setting = Config.String("REDIS_MCP_CPU_PROFILE").pipe(Config.option, Config.map(Option.getOrUndefined))

/** Profiles from layer build to release; a failure to write is logged, never fatal. */
export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const file = yield* setting
    if (file === undefined || file === "") return
    const { Session } = yield* Effect.promise(() => import("node:inspector/promises"))
    const session = new Session()
    yield* Effect.acquireRelease(
      Effect.promise(async () => {
        session.connect()
        await session.post("Profiler.enable")
        await session.post("Profiler.start")
      }).pipe(Effect.andThen(Effect.logInfo("cpu profile started", { file }))),
      () =>
        Effect.tryPromise(async () => {
          const { profile } = await session.post("Profiler.stop")
          session.disconnect()
          await writeFile(file, JSON.stringify(profile))
        }).pipe(
          Effect.andThen(Effect.logInfo("cpu profile written", { file })),
          Effect.catch((error) => Effect.logError("cpu profile not written", { file, error: String(error) }))
        )
    )
  })
)
