/**
 * @packageDocumentation
 *
 * The local control API (docs/DESIGN.md §7): an HTTP server on the home's unix socket and on
 * loopback TCP, guarded by a bearer token, Host and Origin checks, that is a thin shell
 * over the daemon's `DaemonControl`; and the client the CLI talks to it with.
 */
export { ApiServer, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_EVENT_RETAIN_MS, DEFAULT_KEEPALIVE_MS } from './server.js'
export { EventRing, formatEvent, DEFAULT_RING_BYTES, DEFAULT_RING_EVENTS, DEFAULT_COALESCE_BACKLOG_BYTES } from './event-ring.js'
export type { ApiServerInit } from './server.js'
export { ApiClient, ApiError, DEFAULT_RECONNECTS, EventStreamParser, apiPath } from './client.js'
export type { ApiClientInit, EventsOptions, RequestOptions } from './client.js'
export { ensureApiToken, readApiToken } from './token.js'
export { formatDuration, parseDuration } from '../model/duration.js'
export { API_PREFIX, ROUTES, matchRoute, metricsText } from './routes.js'
export type { ApiControl, Method, Reply, Route, RouteCall, RouteMatch } from './routes.js'
export {
  ForbiddenHostError, ForbiddenOriginError, MethodNotAllowedError, NotImplementedError, PayloadTooLargeError,
  UnauthorizedError, ValueTooLargeError, STATUS_BY_ERROR_NAME, errorBody, statusForError
} from './errors.js'
export { MAX_BODY_BYTES } from './http.js'
export {
  MAX_INVITE_TTL_MS, MAX_INVITE_USES, MAX_TEAM_NAME_LENGTH, MIN_INVITE_TTL_MS, ROLES, parseInviteRequest
} from './validate.js'
export { kvOf, kvRoutes } from './kv-routes.js'
export {
  KV_SET_MANY_MAX_BODY_BYTES, KV_SET_MAX_BODY_BYTES, MAX_KV_BATCH, MAX_KV_KEY_BYTES, MAX_KV_VALUE_BYTES,
  checkKey, checkPrefix, checkValue, valueBytes
} from './kv-validate.js'
export type * from '../model/docs.js'
