/**
 * All services, backed either by Redis or by the in-memory store. Each service
 * adds its `layer` to `redisServices` and its `layerMemory` to `memoryServices`
 * (one line each).
 */
import { Layer } from "effect"
import { RedisClient } from "../layers/RedisClient.ts"
import { Admin } from "./Admin.ts"
import { Batch } from "./Batch.ts"
import { CommandKeys } from "./CommandKeys.ts"
import { Hashes } from "./Hashes.ts"
import { Kv } from "./Kv.ts"
import { Lists } from "./Lists.ts"
import { MemoryStore } from "./MemoryStore.ts"
import { PubSub } from "./PubSub.ts"
import { Sets } from "./Sets.ts"
import { SortedSets } from "./SortedSets.ts"
import { State } from "./State.ts"
import { Streams } from "./Streams.ts"
import { Tasks } from "./Tasks.ts"

const redisServices = Layer.mergeAll(
  Admin.layer,
  Batch.layer,
  CommandKeys.layer,
  PubSub.layer,
  Kv.layer,
  State.layer,
  Streams.layer,
  Tasks.layer,
  Hashes.layer,
  Lists.layer,
  Sets.layer,
  SortedSets.layer
)

const memoryServices = Layer.mergeAll(
  Admin.layerMemory,
  Batch.layerMemory,
  CommandKeys.layerMemory,
  PubSub.layerMemory,
  Kv.layerMemory,
  State.layerMemory,
  Streams.layerMemory,
  Tasks.layerMemory,
  Hashes.layerMemory,
  Lists.layerMemory,
  Sets.layerMemory,
  SortedSets.layerMemory
)

/** Every service on one Redis connection (needs RedisConfig and ServerConfig). */
export const layerRedis = redisServices.pipe(Layer.provide(RedisClient.layer))

/** Every service on the in-memory store (needs RedisConfig and ServerConfig). */
export const layerMemory = memoryServices.pipe(Layer.provide(MemoryStore.layer))

/** Every service a tool may use. */
export type Services = Layer.Success<typeof layerRedis>
