// The per-address rate limits: share creation, failed authentication and new automerge
// documents, each a token bucket per client address (an IPv6 /64 counts as one), all off when
// rate_limits is false. Over a limit: ERR_RATE_LIMITED (HTTP 429 with Retry-After, or close
// 4430 on an automerge socket), counted in syncline_rate_limited_total.

import { createError, type SynclineError } from "../protocol/errors.js";
import { TokenBuckets } from "../util/token-bucket.js";
import type { ServerConfig } from "./config.js";
import type { LimitMetrics } from "./limit-metrics.js";
import { limitKeyOf } from "./trusted-proxies.js";

/** The settings the limits run with, named as in ServerConfig. */
export type RateLimitSettings = Pick<
  ServerConfig,
  | "rateLimits"
  | "rateShareCreateBurst"
  | "rateShareCreatePerMinute"
  | "rateAuthFailureBurst"
  | "rateAuthFailurePerMinute"
  | "rateDocumentCreateBurst"
  | "rateDocumentCreatePerMinute"
>;

/** A rate-limit refusal: HTTP answers carry its wait as `Retry-After`. */
export type RateLimitedError = SynclineError & { readonly retryAfterSeconds: number };

/** The server's rate limits; every method takes the client address (trusted-proxies.ts). */
export class RateLimits {
  readonly #enabled: boolean;
  readonly #metrics: LimitMetrics;
  readonly #shareCreate: TokenBuckets;
  readonly #authFailure: TokenBuckets;
  readonly #documentCreate: TokenBuckets;

  constructor(settings: RateLimitSettings, metrics: LimitMetrics, now?: () => number) {
    this.#enabled = settings.rateLimits;
    this.#metrics = metrics;
    const buckets = (burst: number, perMinute: number) =>
      new TokenBuckets({ burst, perMinute, now });
    this.#shareCreate = buckets(settings.rateShareCreateBurst, settings.rateShareCreatePerMinute);
    this.#authFailure = buckets(settings.rateAuthFailureBurst, settings.rateAuthFailurePerMinute);
    this.#documentCreate = buckets(
      settings.rateDocumentCreateBurst,
      settings.rateDocumentCreatePerMinute,
    );
  }

  /** Takes one share creation of `address`; throws ERR_RATE_LIMITED past the limit. */
  takeShareCreate(address: string, context: string): void {
    if (!this.#enabled) return;
    const wait = this.#shareCreate.take(limitKeyOf(address));
    if (wait > 0) throw this.#refusal("share_create", context, "share creations", address, wait);
  }

  /**
   * Throws ERR_RATE_LIMITED when `address` has used up its failed authentications: it is then
   * not even checked, so guessing costs the server nothing until the budget refills.
   */
  checkAuthAllowed(address: string, context: string): void {
    const error = this.authRefusal(address, context);
    if (error) throw error;
  }

  /** The refusal checkAuthAllowed would throw, or undefined. */
  authRefusal(address: string, context: string): RateLimitedError | undefined {
    if (!this.#enabled) return undefined;
    const wait = this.#authFailure.waitFor(limitKeyOf(address));
    if (wait === 0) return undefined;
    return this.#refusal("auth_failure", context, "failed authentications", address, wait);
  }

  /** Counts a failed authentication (a refused secret or token) of `address`. */
  authFailed(address: string): void {
    if (this.#enabled) this.#authFailure.spend(limitKeyOf(address));
  }

  /** Takes one new automerge document of `address`; the refusal when past the limit. */
  takeDocumentCreate(address: string, documentId: string): SynclineError | undefined {
    if (!this.#enabled) return undefined;
    const wait = this.#documentCreate.take(limitKeyOf(address));
    if (wait === 0) return undefined;
    const context = `automerge sync: document ${documentId}`;
    return this.#refusal("document_create", context, "new documents", address, wait);
  }

  #refusal(
    limit: string,
    context: string,
    what: string,
    address: string,
    waitMs: number,
  ): RateLimitedError {
    this.#metrics.rateLimited.inc({ limit });
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
    const error = createError(
      "ERR_RATE_LIMITED",
      `${context}: too many ${what} from ${address}; retry in ${retryAfterSeconds} s`,
    );
    return Object.assign(error, { retryAfterSeconds });
  }
}
