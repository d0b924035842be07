/**
 * Redis replies WRONGTYPE without saying what the key holds. This asks (TYPE) so
 * the error can name the actual type and the tool to use instead.
 */
import { Effect } from "effect"
import { WrongType } from "../Errors.ts"
import type { RedisClientShape } from "../layers/RedisClient.ts"
import { type RedisType, toolsFor, wrongType } from "./MemoryStore.ts"

const known = new Set<string>(Object.keys(toolsFor))

/** On WrongType, look up the key's actual type and fail with a WrongType that names it. */
export const explainWrongType =
  (redis: RedisClientShape, key: string, wanted: RedisType) =>
  <A, E, R>(self: Effect.Effect<A, E | WrongType, R>): Effect.Effect<A, E | WrongType, R> =>
    Effect.catchTag(self as Effect.Effect<A, WrongType, R>, "WrongType", (e) =>
      redis
        .run("TYPE", (c) => c.type(key), { idempotent: true })
        .pipe(
          Effect.orElseSucceed(() => "unknown"),
          Effect.flatMap((actual) =>
            Effect.fail(
              known.has(actual)
                ? wrongType(key, actual as RedisType, wanted)
                : new WrongType({ message: e.message, key, actualType: actual })
            )
          )
        )
    ) as Effect.Effect<A, E | WrongType, R>
