/**
 * The key-value routes of the local API (`paired kv`): validation, then one call on the
 * daemon's `KvControl`. A daemon without a key-value store answers 501.
 */
import { NotImplementedError } from './errors.js'
import {
  KV_SET_MANY_MAX_BODY_BYTES, KV_SET_MAX_BODY_BYTES, parseKvDel, parseKvGetQuery, parseKvListQuery, parseKvSet, parseKvSetMany
} from './kv-validate.js'
import type { ApiControl, Reply, Route } from './route-types.js'
import type { KvControl } from '../model/docs.js'

const json = (value: unknown): Reply => ({ kind: 'json', value })

/** the control's key-value store, or `NotImplementedError` when it has none */
export function kvOf (control: ApiControl): KvControl {
  const { kvSet, kvGet, kvList, kvDel } = control
  if (typeof kvSet !== 'function' || typeof kvGet !== 'function' || typeof kvList !== 'function' || typeof kvDel !== 'function') {
    throw new NotImplementedError('this daemon has no key-value store')
  }
  return control as KvControl
}

/** the `kv/*` routes under `prefix` (`/api/v1`); a daemon without a store is a 501 before any validation */
export function kvRoutes (prefix: string): Route[] {
  return [
    {
      method: 'POST',
      path: `${prefix}/kv/set`,
      maxBody: KV_SET_MAX_BODY_BYTES,
      handle: async c => {
        const kv = kvOf(c.control)
        const write = parseKvSet(c.body)
        const [entry] = await kv.kvSet([write])
        if (entry == null) throw new Error(`the daemon wrote key ${write.key} but returned no entry`)
        return json(entry)
      }
    },
    {
      method: 'POST',
      path: `${prefix}/kv/set-many`,
      maxBody: KV_SET_MANY_MAX_BODY_BYTES,
      handle: async c => {
        const kv = kvOf(c.control)
        const writes = parseKvSetMany(c.body)
        await kv.kvSet(writes)
        return json({ count: writes.length })
      }
    },
    { method: 'GET', path: `${prefix}/kv/get`, handle: async c => json(await kvOf(c.control).kvGet(parseKvGetQuery(c.query).key)) },
    { method: 'GET', path: `${prefix}/kv/list`, handle: async c => json(await kvOf(c.control).kvList(parseKvListQuery(c.query).prefix)) },
    { method: 'POST', path: `${prefix}/kv/del`, handle: async c => json(await kvOf(c.control).kvDel(parseKvDel(c.body).key)) }
  ]
}
