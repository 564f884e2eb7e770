/**
 * The route table of the local API (docs/DESIGN.md §7): a method, a path pattern and a handler
 * that turns a validated request into a call on the `DaemonControl`.
 */
import { InvalidArgumentError } from '../errors.js'
import { kvRoutes } from './kv-routes.js'
import { taskRoutes } from './task-routes.js'
import type { StatusDoc } from '../model/docs.js'
import type { Method, Reply, Route, RouteCall } from './route-types.js'
import { onlyFields, parseConnect, parseInviteRequest, parseInviteRevoke, parseJoin, parseTeamCreate, parseTeamRemove } from './validate.js'
import { protocolViolations } from '../protocol/violations.js'

export const API_PREFIX = '/api/v1'

export type { ApiControl, Method, Reply, Route, RouteCall } from './route-types.js'

const json = (value: unknown): Reply => ({ kind: 'json', value })

function noFields (call: RouteCall): void {
  onlyFields(call.body, [])
}

/** Prometheus text exposition of a few gauges */
export function metricsText (status: StatusDoc, violations: Record<string, number> = protocolViolations()): string {
  const gauge = (name: string, help: string, value: number): string =>
    `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`
  const refused = Object.entries(violations).sort(([a], [b]) => a.localeCompare(b))
    .map(([protocol, n]) => `paired_protocol_violations_total{protocol=${JSON.stringify(protocol)}} ${n}\n`).join('')
  return gauge('paired_connected_peers', 'Peers with an open libp2p connection.', status.connectedPeers) +
    gauge('paired_members', 'Members of this daemon\'s team, itself included.', status.members) +
    gauge('paired_uptime_seconds', 'Seconds since the daemon started.', Math.floor(status.uptimeMs / 1000)) +
    '# HELP paired_protocol_violations_total Frames from peers refused by their schema, per protocol.\n' +
    '# TYPE paired_protocol_violations_total counter\n' + refused
}

export const ROUTES: readonly Route[] = [
  // the API's own addresses are added here, not by the daemon: `query` sends the daemon's
  // status to peers, and where a member's local API listens is none of their business
  { method: 'GET', path: `${API_PREFIX}/status`, handle: async c => json({ ...await c.control.status(), ...(c.api != null ? { api: c.api } : {}) }) },
  { method: 'GET', path: `${API_PREFIX}/peers`, handle: async c => json(await c.control.peers()) },
  { method: 'GET', path: `${API_PREFIX}/peers/:id`, handle: async c => json(await c.control.peer(c.params.id)) },
  {
    method: 'GET',
    path: `${API_PREFIX}/peers/:id/ping`,
    long: true,
    handle: async c => json(await c.control.ping(c.params.id, { signal: c.signal }))
  },
  {
    method: 'GET',
    path: `${API_PREFIX}/peers/:id/status`,
    long: true,
    handle: async c => json(await c.control.query(c.params.id, { signal: c.signal }))
  },
  {
    method: 'POST',
    path: `${API_PREFIX}/connect`,
    long: true,
    handle: async c => json(await c.control.connect(parseConnect(c.body).multiaddr, { signal: c.signal }))
  },
  { method: 'GET', path: `${API_PREFIX}/team`, handle: async c => json(await c.control.team()) },
  { method: 'POST', path: `${API_PREFIX}/team/create`, handle: async c => json(await c.control.teamCreate(parseTeamCreate(c.body).name)) },
  { method: 'POST', path: `${API_PREFIX}/team/invites`, handle: async c => json(await c.control.teamInvite(parseInviteRequest(c.body))) },
  { method: 'POST', path: `${API_PREFIX}/team/invites/revoke`, handle: async c => json(await c.control.teamRevokeInvite(parseInviteRevoke(c.body).inviteId)) },
  { method: 'POST', path: `${API_PREFIX}/team/rotate-key`, long: true, handle: async c => { noFields(c); return json(await c.control.teamRotateKey()) } },
  { method: 'POST', path: `${API_PREFIX}/team/remove`, handle: async c => json(await c.control.teamRemove(parseTeamRemove(c.body).peer)) },
  {
    method: 'POST',
    path: `${API_PREFIX}/team/join`,
    long: true,
    handle: async c => json(await c.control.teamJoin(parseJoin(c.body).token, { signal: c.signal }))
  },
  { method: 'GET', path: `${API_PREFIX}/team/members`, handle: async c => json(await c.control.teamMembers()) },
  {
    method: 'POST',
    path: `${API_PREFIX}/team/leave`,
    handle: async c => {
      noFields(c)
      return json(await c.control.teamLeave())
    }
  },
  ...kvRoutes(API_PREFIX),
  ...taskRoutes(API_PREFIX),
  { method: 'GET', path: `${API_PREFIX}/events`, handle: async () => ({ kind: 'events' }) },
  {
    method: 'GET',
    path: '/metrics',
    handle: async c => ({ kind: 'text', contentType: 'text/plain; version=0.0.4; charset=utf-8', body: metricsText(await c.control.status()) })
  }
]

export type RouteMatch =
  | { found: 'route', route: Route, params: Record<string, string> }
  | { found: 'method', allow: Method[] }
  | { found: 'none' }

function segments (path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
  return trimmed.split('/')
}

function matchPattern (pattern: string, path: string): Record<string, string> | undefined {
  const want = segments(pattern)
  const have = segments(path)
  if (want.length !== have.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      if (have[i] === '') return undefined
      try {
        params[want[i].slice(1)] = decodeURIComponent(have[i])
      } catch {
        throw new InvalidArgumentError(`path segment "${have[i]}" is not valid percent-encoding`)
      }
    } else if (want[i] !== have[i]) {
      return undefined
    }
  }
  return params
}

/** the route for `method` and `path`, else the methods the path allows, else none */
export function matchRoute (routes: readonly Route[], method: string, path: string): RouteMatch {
  const allow: Method[] = []
  for (const route of routes) {
    const params = matchPattern(route.path, path)
    if (params == null) continue
    if (route.method === method) return { found: 'route', route, params }
    if (!allow.includes(route.method)) allow.push(route.method)
  }
  return allow.length > 0 ? { found: 'method', allow } : { found: 'none' }
}
