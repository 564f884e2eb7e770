/**
 * @packageDocumentation
 *
 * The local control API (DESIGN §7): an HTTP server on the home's unix socket and on
 * loopback TCP, guarded by a bearer token, Host and Origin checks, that is a thin shell
 * over the daemon's `DaemonControl`; and the client the CLI talks to it with.
 */
export { ApiServer, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_KEEPALIVE_MS, formatEvent } from './server.js'
export type { ApiServerInit } from './server.js'
export { ApiClient, ApiError, EventStreamParser, apiPath } from './client.js'
export type { ApiClientInit, RequestOptions } from './client.js'
export { ensureApiToken, readApiToken } from './token.js'
export { formatDuration, parseDuration } from './duration.js'
export { API_PREFIX, ROUTES, matchRoute, metricsText } from './routes.js'
export type { Method, Reply, Route, RouteCall, RouteMatch } from './routes.js'
export {
  ForbiddenHostError, ForbiddenOriginError, MethodNotAllowedError, PayloadTooLargeError, UnauthorizedError,
  STATUS_BY_ERROR_NAME, errorBody, statusForError
} from './errors.js'
export { MAX_BODY_BYTES } from './http.js'
export {
  MAX_INVITE_TTL_MS, MAX_INVITE_USES, MAX_TEAM_NAME_LENGTH, MIN_INVITE_TTL_MS, ROLES, parseInviteRequest
} from './validate.js'
export type * from './types.js'
