/**
 * All services, backed either by Redis or by the in-memory store. Each service
 * adds its `layer` to `redisServices` and its `layerMemory` to `memoryServices`
 * (one line each).
 */
import { Layer } from "effect"
import { RedisClient } from "../layers/RedisClient.ts"
import { Admin } from "./Admin.ts"
import { MemoryStore } from "./MemoryStore.ts"

const redisServices = Layer.mergeAll(
  Admin.layer
  // (one line per service)
)

const memoryServices = Layer.mergeAll(
  Admin.layerMemory
  // (one line per service)
)

/** Every service on one Redis connection (needs RedisConfig and ServerConfig). */
export const layerRedis = redisServices.pipe(Layer.provide(RedisClient.layer))

/** Every service on the in-memory store (needs RedisConfig and ServerConfig). */
export const layerMemory = memoryServices.pipe(Layer.provide(MemoryStore.layer))

/** Every service a tool may use. */
export type Services = Layer.Success<typeof layerRedis>
