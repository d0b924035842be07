/**
 * All services, backed either by Redis or by the in-memory store. Each service
 * adds its `layer` and `layerMemory` here.
 */
import { Layer } from "effect"
import { RedisClient } from "../layers/RedisClient.ts"
import { Admin } from "./Admin.ts"

/** Every service on one Redis connection (needs RedisConfig and ServerConfig). */
export const layerRedis = Layer.mergeAll(Admin.layer).pipe(Layer.provide(RedisClient.layer))

/** Every service on the in-memory store (needs ServerConfig). */
export const layerMemory = Layer.mergeAll(Admin.layerMemory)

/** Every service a tool may use. */
export type Services = Layer.Success<typeof layerRedis>
