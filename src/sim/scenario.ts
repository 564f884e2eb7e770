/**
 * A run's settings, with defaults that scale with the team size. Times are virtual ms from
 * the start of the run.
 *
 * Timeline of the default run: the starting roster (every member knows every other, as a
 * daemon restarted with its roster does) settles for 1 s; then 1 % of the team joins at
 * once (each through one seed); at 6 s three members are killed silently (no connection
 * close, nothing sent); from 10 s members write to the replicated map; from 12 s to 22 s a
 * 1 % minority (at most 20) is cut off, both sides keep writing; at 22 s the partition heals and the
 * writes stop, and the run ends once the team and the map have converged again (or at
 * `endMs`). Throughout: log-normal latency, 1 % loss, and 1 % slow members whose event
 * loop stalls for 0.1–1 s every 5 s or so (timers and messages wait, then timers run
 * first).
 */
import { DEFAULT_SWIM, type SwimConfig } from './swim-config.js'
import type { NetworkConfig } from './network.js'
import type { LoadConfig } from './load.js'

export interface Scenario {
  peers: number
  seed: number
  /** members not in the starting roster, joining at `joinAtMs` (spread over `joinSpreadMs`) */
  joiners: number
  joinAtMs: number
  joinSpreadMs: number
  kills: number
  killAtMs: number
  slowFraction: number
  /** mean time between a slow member's stalls, and each stall's length range (ms) */
  stallGapMs: number
  stallMinMs: number
  stallMaxMs: number
  /** share of the team cut off; 0: no partition */
  partitionFraction: number
  /** at most this many cut off (0: no cap): the heal's catch-up costs minority × team in messages */
  partitionMax: number
  partitionAtMs: number
  healAtMs: number
  /** writes per second over the whole team, from `writeFromMs` until the heal */
  writesPerSec: number
  writeFromMs: number
  writeKeys: number
  endMs: number
  net: NetworkConfig
  swim: SwimConfig
  load: LoadConfig
}

export function defaultScenario (peers: number, seed = 1): Scenario {
  const share = (f: number, min: number): number => Math.min(peers - 1, Math.max(min, Math.round(peers * f)))
  return {
    peers,
    seed,
    joiners: share(0.01, 1),
    joinAtMs: 1000,
    joinSpreadMs: 100,
    kills: Math.min(3, Math.max(1, Math.floor(peers / 10))),
    killAtMs: 6000,
    slowFraction: 0.01,
    stallGapMs: 5000,
    stallMinMs: 100,
    stallMaxMs: 1000,
    partitionFraction: 0.01,
    partitionMax: 20,
    partitionAtMs: 12_000,
    healAtMs: 22_000,
    writesPerSec: 20,
    writeFromMs: 10_000,
    writeKeys: 64,
    endMs: 90_000,
    net: { latencyMedianMs: 10, latencySigma: 0.5, loss: 0.01 },
    swim: { ...DEFAULT_SWIM, detector: { ...DEFAULT_SWIM.detector } },
    load: { machines: Math.min(peers, 500), slots: 4, coordinators: 10, utilisation: 0.8, meanTaskMs: 5000, durationMs: 120_000, warmupMs: 20_000, flakyFraction: 0.05, flakyFailure: 0.3 }
  }
}
