/**
 * Raw commands on the in-memory keyspace, one after another (nothing else runs
 * in between: the store is this process's own). A reply there points at the
 * stored bytes, so its size is known before anything is copied: past the budget
 * the outcome is `Over`, as on Redis, and nothing is encoded.
 */
import { Effect } from "effect"
import type { RedisError } from "../../Errors.ts"
import { runMemoryCommand } from "../MemoryCommands.ts"
import type { MemoryStoreShape } from "../MemoryStore.ts"
import { respSize } from "../ReplySize.ts"
import type { Backend, Sent } from "./Backend.ts"

export const memoryBackend = (store: MemoryStoreShape, budget: number): Backend => ({
  send: (commands) =>
    Effect.map(
      Effect.forEach(commands, ({ args }) =>
        runMemoryCommand(store, args).pipe(
          Effect.match({
            onFailure: (error: RedisError): Sent => ({ ok: false, error }),
            onSuccess: (reply): Sent => ({ ok: true, reply })
          })
        )
      ),
      (results) => {
        const size = results.reduce((n, r) => n + (r.ok ? respSize(r.reply) : respSize(r.error.message)), 0)
        return size > budget ? { _tag: "Over" as const } : { _tag: "Done" as const, results }
      }
    )
})
