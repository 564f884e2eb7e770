/**
 * The shapes of the local API's route table: what a handler gets and answers. Apart from
 * `routes.ts` so the route groups (`kv-routes.ts`, `task-routes.ts`) and the table import
 * them without importing each other.
 */
import type { DaemonControl, KvControl, TaskControl } from '../model/docs.js'

export type Method = 'GET' | 'POST'

/**
 * What the API serves: the daemon's control, and its key-value store and task system when
 * it has them (the `kv/*` and `tasks*` routes answer 501 `NotImplementedError` without).
 */
export type ApiControl = DaemonControl & Partial<KvControl> & Partial<TaskControl>

/** what a handler gets */
export interface RouteCall {
  control: ApiControl
  /** where this API answers: its HTTP URL and its unix socket */
  api?: { url: string, socket: string }
  params: Record<string, string>
  query: URLSearchParams
  /** the JSON object body of a POST; `{}` for a GET */
  body: Record<string, unknown>
  /** aborts when the client goes away, on the deadline of long calls, or on stop */
  signal: AbortSignal
}

/** what a handler answers: a JSON document, plain text, or "open the event stream" */
export type Reply =
  | { kind: 'json', value: unknown }
  | { kind: 'text', contentType: string, body: string }
  | { kind: 'events' }

export interface Route {
  method: Method
  /** full path; `:name` segments are parameters */
  path: string
  /** long calls (network round trips) get a deadline */
  long?: boolean
  /** largest request body in bytes. @default MAX_BODY_BYTES (1 MiB) */
  maxBody?: number
  handle: (call: RouteCall) => Promise<Reply>
}
