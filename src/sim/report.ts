/**
 * The figures of one run, as plain JSON (no wall-clock values, so the same seed prints the
 * same bytes) and as text for a person.
 */
import { heartbeatInterval } from '../presence/interval.js'
import type { LoadReport } from './load.js'
import { percentiles, round, type Percentiles } from './metrics.js'
import type { Scenario } from './scenario.js'
import type { WorldResult } from './world.js'

export interface SimReport {
  peers: number
  seed: number
  scenario: { joiners: number, kills: number, slowNodes: number, minority: number, loss: number, latencyMedianMs: number, latencySigma: number, localHealth: boolean, probeIntervalMs: number, daemonHeartbeatMs: number }
  membership: { joinMs: Percentiles, convergedMs: number | null }
  detection: { kills: number, perNodeMs: Percentiles, everywhereMs: Array<number | null> }
  falsePositives: { dead: number, deadAfterHeal: number, deadOfSlowNodes: number, deadBySlowNodes: number, suspicions: number, bySlowNodes: number, ofSlowNodes: number, refutations: number }
  partition: { minority: number, durationMs: number, deadAcrossPartition: number, membershipMs: number | null, stateMs: number | null, digests: number, keys: number }
  load: LoadReport
  run: { virtualMs: number, events: number, messages: number, lost: number }
  doneWhen: { convergeWithin5s: boolean, detectWithin5s: boolean, noFalseDead: boolean, imbalanceAtMost125: boolean }
}

const orNull = (x: number): number | null => Number.isFinite(x) ? round(x) : null

export function buildReport (sc: Scenario, w: WorldResult, load: LoadReport): SimReport {
  const m = w.metrics
  const everywhere = [...m.killedAt].map(([member, at]) => orNull((m.allDetectedAt.get(member) ?? NaN) - at))
  const convergedMs = orNull(w.convergedAt - w.firstJoinAt)
  const worstDetection = everywhere.reduce<number>((a, b) => Math.max(a, b ?? Infinity), 0)
  return {
    peers: sc.peers,
    seed: sc.seed,
    scenario: {
      joiners: sc.joiners,
      kills: m.killedAt.size,
      slowNodes: Math.round(sc.peers * sc.slowFraction),
      minority: w.minority,
      loss: sc.net.loss,
      latencyMedianMs: sc.net.latencyMedianMs,
      latencySigma: sc.net.latencySigma,
      localHealth: sc.swim.localHealth,
      probeIntervalMs: sc.swim.probeIntervalMs,
      // what the daemon's all-to-all heartbeats would need at this size, for comparison
      daemonHeartbeatMs: heartbeatInterval(sc.peers)
    },
    membership: { joinMs: percentiles(w.joinLatencyMs), convergedMs },
    detection: { kills: m.killedAt.size, perNodeMs: percentiles(m.detectionMs), everywhereMs: everywhere },
    falsePositives: { dead: m.falseDead, deadAfterHeal: m.falseDeadAfterHeal, deadOfSlowNodes: m.falseDeadOfSlow, deadBySlowNodes: m.slowFalseDead, suspicions: m.falseSuspicions, bySlowNodes: m.slowFalseSuspicions, ofSlowNodes: m.suspicionsOfSlow, refutations: m.refutations },
    partition: {
      minority: w.minority,
      durationMs: w.minority > 0 ? sc.healAtMs - sc.partitionAtMs : 0,
      deadAcrossPartition: m.partitionDead,
      membershipMs: orNull(w.healConvergedAt - sc.healAtMs),
      stateMs: orNull(w.stateConvergedAt - sc.healAtMs),
      digests: w.digests,
      keys: w.keys
    },
    load,
    run: { virtualMs: round(w.endedAt), events: w.events, messages: w.messages, lost: w.lost },
    doneWhen: {
      convergeWithin5s: convergedMs !== null && convergedMs <= 5000,
      detectWithin5s: everywhere.length > 0 && worstDetection <= 5000,
      noFalseDead: m.falseDead - m.falseDeadAfterHeal === 0,
      imbalanceAtMost125: load.imbalance <= 1.25
    }
  }
}

const ms = (x: number | null): string => x === null ? 'never' : `${(x / 1000).toFixed(2)} s`
const pc = (p: Percentiles): string => p.count === 0 ? 'none' : `p50 ${ms(p.p50)}, p99 ${ms(p.p99)}, max ${ms(p.max)} (n=${p.count})`

export function formatReport (r: SimReport): string {
  const s = r.scenario
  const lines = [
    `paired sim: ${r.peers} peers, seed ${r.seed}`,
    `  network: latency median ${s.latencyMedianMs} ms (σ ${s.latencySigma}), loss ${s.loss * 100} %; ${s.slowNodes} slow nodes; local health ${s.localHealth ? 'on' : 'off'}`,
    `  SWIM probe every ${ms(s.probeIntervalMs)} (the daemon's heartbeat interval at this size: ${ms(s.daemonHeartbeatMs)})`,
    `membership: ${s.joiners} concurrent joins, join ${pc(r.membership.joinMs)}`,
    `  converged (every member lists every member, alive or suspect): ${ms(r.membership.convergedMs)} after the first join`,
    `failure detection: ${r.detection.kills} silent kills, per survivor ${pc(r.detection.perNodeMs)}`,
    `  dead on every survivor after: ${r.detection.everywhereMs.map(ms).join(', ')}`,
    `false positives: ${r.falsePositives.dead} false dead (${r.falsePositives.deadAfterHeal} after the heal, ${r.falsePositives.deadOfSlowNodes} of stalling members, ${r.falsePositives.deadBySlowNodes} of healthy members by stalling ones), ${r.falsePositives.suspicions} false suspicions (refuted; ${r.falsePositives.bySlowNodes} of healthy members raised by slow nodes, ${r.falsePositives.ofSlowNodes} of slow nodes), ${r.falsePositives.refutations} refutations`,
    `partition: ${r.partition.minority} members cut off for ${ms(r.partition.durationMs)} (${r.partition.deadAcrossPartition} dead declared across it)`,
    `  after the heal: membership ${ms(r.partition.membershipMs)}, LWW state ${ms(r.partition.stateMs)} (${r.partition.digests} distinct digest(s) over ${r.partition.keys} keys)`,
    `load: ${r.load.machines} machines × ${r.load.slots} slots, ${r.load.coordinators} coordinators, ${r.load.tasks} tasks, utilisation ${(r.load.utilisation * 100).toFixed(1)} %`,
    `  imbalance (max/mean busy slots): ${r.load.imbalance} (reliable machines ${r.load.imbalanceReliable}); ${r.load.waited} tasks waited for a slot`,
    `run: ${ms(r.run.virtualMs)} simulated, ${r.run.events} events, ${r.run.messages} messages (${r.run.lost} lost)`,
    `done when: converge ≤ 5 s ${yes(r.doneWhen.convergeWithin5s)}, detect ≤ 5 s ${yes(r.doneWhen.detectWithin5s)}, 0 false dead (outside a heal) ${yes(r.doneWhen.noFalseDead)}, imbalance ≤ 1.25 ${yes(r.doneWhen.imbalanceAtMost125)}`
  ]
  return lines.join('\n') + '\n'
}

const yes = (b: boolean): string => b ? 'yes' : 'NO'
