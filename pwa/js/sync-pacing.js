/**
 * Pure pacing rules for a link that keeps dropping (no DOM, no timers): how many records the
 * next sync request carries, how many residents a pull page may bring, how large a photo
 * chunk is, and how long to wait before retrying. One link estimate drives them all: `size`,
 * records per request, halved on a cut and doubled on a success (docs/phone-app.md).
 */
import { MAX_BATCH } from "./outbox-rules.js";

/** The server's default pull page (sync/pull.py DEFAULT_PAGE_SIZE); never asked above it. */
export const MAX_PAGE = 200;
/** Photo chunk bounds: a full-speed chunk, and the smallest worth a request of its own. */
export const MAX_CHUNK = 64 * 1024;
export const MIN_CHUNK = 2 * 1024;
/** Retry delays: 2 s doubling per failure up to a minute (equal jitter: half fixed). */
export const BACKOFF_BASE_MS = 2000;
export const BACKOFF_MAX_MS = 60000;

/** Records for the next request after a success that carried `sent`: double, up to the max. */
export function grow(size, sent = size) {
  return Math.min(MAX_BATCH, Math.max(size, 2 * Math.max(1, sent)));
}

/** Records after a cut request that carried `sent` (0: a pull or a photo): half, at least 1. */
export function shrink(size, sent = size) {
  return Math.max(1, Math.ceil(Math.min(size, sent || size) / 2));
}

/** Residents per pull page for the link estimate: half the records, within 1..MAX_PAGE. */
export function pageSizeFor(size) {
  return Math.max(1, Math.min(MAX_PAGE, Math.ceil(size / 2)));
}

/** Photo bytes per PUT: 128 B per record of the estimate, within MIN_CHUNK..MAX_CHUNK. */
export function chunkSizeFor(size) {
  return Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, 128 * 2 ** Math.ceil(Math.log2(Math.max(1, size)))));
}

/**
 * Wait before retry number `failures` (1 = after the first failure): the cap is
 * BACKOFF_BASE_MS × 2^(failures − 1), at most BACKOFF_MAX_MS; the delay lies in [cap/2, cap]
 * (equal jitter, so phones cut together do not come back together). `random` is in [0, 1).
 */
export function backoffMs(failures, random = Math.random) {
  const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(failures - 1, 10)));
  return Math.round(cap / 2 + random() * (cap / 2));
}
