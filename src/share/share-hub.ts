// The live-share server as the HTTP routes and the viewer endpoint see it: creates and deletes
// shares, checks secrets, hands syncs to the publish path (share-publisher.ts) and attaches
// viewers. Which shares are in memory, and for how long, is loaded-shares.ts's business. HTTP
// and WebSocket wiring live in server/share-endpoint.ts.

import { ShareCloseCode } from "../protocol/close-codes.js";
import { isSynclineError, type SynclineError } from "../protocol/errors.js";
import { isShareId, type ShareId, shareIdOfSession } from "../protocol/share-items.js";
import type { Store } from "../storage/store.js";
import { KeyedQueue } from "../util/keyed-queue.js";
import { type LiveShare, moveShare, reloadCloseCode, reloadCloseReason } from "./live-share.js";
import { LoadedShares } from "./loaded-shares.js";
import {
  badRequest,
  badSecret,
  shareDeleted,
  shareDeleting,
  shareNotFound,
  storageFailed,
  storeOperation,
} from "./share-errors.js";
import { expireUnwritten } from "./share-expiry.js";
import type { CreatedShare, ShareBody, ViewerJoin } from "./share-hub-answers.js";

export type { CreatedShare, ShareBody, ViewerJoin } from "./share-hub-answers.js";

import { endDeleted, failStale } from "./share-endings.js";
import type { ShareHubOptions, ShareSettings } from "./share-hub-options.js";
import { ShareNodes } from "./share-nodes.js";
import { type PublishResult, SharePublisher } from "./share-publisher.js";
import { generateSecret, hashSecret, verifySecret } from "./share-secret.js";
import { catchUpStart, type ShareSnapshot } from "./share-snapshot.js";
import {
  createOps,
  generateEpoch,
  readMeta,
  type ShareMeta,
  sharePrefix,
} from "./share-storage.js";
import { clearTombstoneOp, ShareTombstones } from "./share-tombstones.js";
import { ShareUsage } from "./share-usage.js";
import { prepareItems, prepareKeyWrite, refuseTooLargeAlone } from "./sync-items.js";
import type { ViewerSocket } from "./viewer-fanout.js";

/**
 * Creates the hub; `close()` it on shutdown. A loaded share has one phase (live-share.ts):
 * `live`, then `deleting` → `deleted`, `failed` (a write or a delete failed), or `evicted` (it
 * left memory while live). A share being read from the store has no object yet, only the
 * registry's pending load.
 *
 * Invariants:
 * 1. A sync is answered only once its writes are durable; a sync that changes nothing waits for
 *    any equal write still in flight and answers as that write ends.
 * 2. A share's viewers get its update frames in seq order, each only once durable and after the
 *    full state (or catch-up frames) they joined with: writes are issued in seq order and
 *    broadcast one after another on the share's tail, and ShareState.commit refuses a gap.
 * 3. Only a `live` share takes a new write or viewer: a `deleting` or `failed` one is answered
 *    "retry" (503, or close 1011; a failed one's viewers were closed with 1011), a `deleted` one
 *    "deleted" (410 while its tombstone is kept, else 404; or close 4410/4404).
 * 4. A delete waits for every write issued before it; its viewers are closed with 4410 only
 *    once the store's delete succeeded, and a failed delete leaves the stored share as it was.
 * 5. A share is `live` only while it is the copy the registry holds under its id, and no write,
 *    delete or viewer is applied to an `evicted` copy (LoadedShares.use loads the share again).
 * 6. A `live` share leaves memory only when idle (no viewer, no HTTP reader being streamed its
 *    state, nothing in flight) or at shutdown: what its readers hold is its own content (but for
 *    keys replaced since they joined), counted in the budget. The memory total is the sum of
 *    `plannedBytes` of the shares the registry holds (writes in flight counted); a load or a sync
 *    that would pass the budget is refused (503) unless idle shares can be evicted to make room;
 *    a delete is never refused for memory.
 * 7. The create and the delete of one share id never interleave, and a share is read from the
 *    store once however many requests ask for it at the same time.
 */
export class ShareHub {
  readonly #store: Store;
  readonly #settings: ShareSettings;
  readonly #loaded: LoadedShares;
  readonly #publisher: SharePublisher;
  /** Tail of the create and delete of each share id, which must not interleave. */
  readonly #locks = new KeyedQueue<ShareId>();
  /** Sizes and write times of all stored shares, kept when a quota or expiry needs them. */
  readonly #usage: ShareUsage | undefined;
  /** Deleted share ids, answered 410 until created again or forgotten. */
  readonly #tombstones: ShareTombstones;
  readonly #observer: ShareHubOptions["observer"] & {};
  /** Several nodes: how this one takes turns with and hears from the others. */
  readonly #nodes: ShareNodes | undefined;
  #expirySweep: NodeJS.Timeout | undefined;

  constructor(options: ShareHubOptions) {
    const observer = options.observer ?? {};
    const { settings } = options;
    this.#observer = observer;
    this.#store = options.store;
    this.#settings = settings;
    const counted = settings.shareTotalMaxBytes > 0 || settings.shareExpireAfterMs > 0;
    this.#usage = counted ? new ShareUsage((bytes) => observer.storedBytes?.(bytes)) : undefined;
    this.#tombstones = new ShareTombstones(options.store, settings, (count) =>
      observer.tombstones?.(count),
    );
    const usage = this.#usage;
    const withLog = options.bus !== undefined;
    this.#loaded = new LoadedShares({ store: options.store, settings, observer, usage, withLog });
    this.#nodes =
      options.bus === undefined
        ? undefined
        : new ShareNodes(options.bus, {
            store: options.store,
            loaded: this.#loaded,
            keep: settings.shareCatchupFrames,
            observer,
            deletedElsewhere: (id, at) => this.#deletedElsewhere(id, at),
            stale: (share, reason) => failStale(share, reason, this.#loaded, observer),
          });
    this.#publisher = new SharePublisher({
      nodes: this.#nodes,
      store: options.store,
      loaded: this.#loaded,
      maxShareBytes: settings.shareMaxBytes,
      maxTotalBytes: settings.shareTotalMaxBytes,
      usage,
      observer,
    });
  }

  /**
   * Reads what every stored share holds (only when a quota or expiry needs it: one pass over
   * the shares in the store) and starts the expiry sweep. Call once before serving.
   */
  async start(): Promise<void> {
    await this.#nodes?.start();
    await this.#tombstones.load(Date.now(), (error) =>
      this.#observer.error?.(error, "share tombstones: forgetting expired ones"),
    );
    if (!this.#usage) return;
    await this.#usage.scan(this.#store, Date.now());
    const ttl = this.#settings.shareExpireAfterMs;
    if (ttl === 0) return;
    const period = Math.max(250, Math.min(ttl / 4, 60_000));
    const usage = this.#usage;
    const remove = (id: ShareId) => this.removeWithoutSecret(id, "share expiry");
    this.#expirySweep = setInterval(
      () => void expireUnwritten(usage, ttl, remove, this.#observer),
      period,
    );
    this.#expirySweep.unref();
  }

  /** Bytes of content JSON of all stored shares; undefined when not counted. */
  get storedBytes(): number | undefined {
    return this.#usage?.total;
  }

  /** Shares in memory now. */
  get loadedShares(): number {
    return this.#loaded.size;
  }

  /** Bytes of content JSON the shares in memory hold now, writes in flight counted. */
  get loadedBytes(): number {
    return this.#loaded.bytes;
  }

  /** Deleted shares remembered now (410 until created again). */
  get tombstones(): number {
    return this.#tombstones.size;
  }

  /**
   * Creates the share of `sessionID`: its id is the session's last 8 characters. When it exists
   * already, answers it without a secret (only its hash is stored), unless `presented` is its
   * secret: a caller that proved it gets it back. It never makes a new secret for an existing
   * share, so a create can never take a share from its owner.
   */
  async create(sessionID: unknown, presented?: unknown): Promise<CreatedShare> {
    if (typeof sessionID !== "string") {
      throw badRequest(
        `share create: sessionID must be a string, got ${JSON.stringify(sessionID) ?? "undefined"}`,
      );
    }
    const id = shareIdOfSession(sessionID);
    if (!id) {
      throw badRequest(
        `share create: sessionID ${JSON.stringify(sessionID)} is not a session id (8–200 of A-Z a-z 0-9 _ . : -, ending in 8 of A-Z a-z 0-9 _ -)`,
      );
    }
    return this.#locks.run(id, async () => {
      const existing =
        this.#loaded.peek(id)?.meta ??
        (await storeOperation("share create", id, () => this.#readMeta(id)));
      if (existing) {
        const proved = presented !== undefined && verifySecret(presented, existing.secretHash);
        const secretRefused = presented !== undefined && !proved;
        return proved
          ? { id, secret: presented as string, created: false, secretRefused }
          : { id, created: false, secretRefused };
      }
      const secret = generateSecret();
      const meta: ShareMeta = {
        sessionID,
        secretHash: hashSecret(secret),
        createdAt: Date.now(),
        epoch: generateEpoch(),
      };
      const ops = [...createOps(id, meta), clearTombstoneOp(id)];
      await storeOperation("share create", id, () => this.#store.write(ops));
      this.#tombstones.cleared(id);
      this.#usage?.created(id, meta.createdAt);
      return { id, secret, created: true, secretRefused: false };
    });
  }

  /** `POST /api/share/:id/sync`: writes the items durably, then broadcasts them. */
  sync(id: string, secret: unknown, data: readonly unknown[]): Promise<PublishResult> {
    return this.#reloadingOnce(() => this.#sync(id, secret, data));
  }

  /**
   * Runs `attempt` once more when this node's copy of the share proved too far behind the
   * store to catch up (several nodes): the copy was dropped, so the second attempt loads it.
   */
  async #reloadingOnce<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      if (this.#nodes === undefined || !isSynclineError(error, "ERR_STORE_CONFLICT")) throw error;
      return attempt();
    }
  }

  #sync(id: string, secret: unknown, data: readonly unknown[]): Promise<PublishResult> {
    return this.#loaded.use(
      () => this.#authorized("share sync", id, secret),
      (share) =>
        this.#publisher.publish(
          share,
          refuseTooLargeAlone(
            prepareItems(data, share.meta.sessionID, this.#settings.shareMaxItemBytes),
          ),
        ),
    );
  }

  /** The older `POST /share_sync {sessionID, secret, key, content}`: one key. */
  syncKey(id: string, secret: unknown, key: unknown, content: unknown): Promise<PublishResult> {
    return this.#reloadingOnce(() => this.#syncKey(id, secret, key, content));
  }

  #syncKey(id: string, secret: unknown, key: unknown, content: unknown): Promise<PublishResult> {
    return this.#loaded.use(
      () => this.#authorized("share sync", id, secret),
      (share) =>
        this.#publisher.publish(
          share,
          prepareKeyWrite(key, content, share.meta.sessionID, this.#settings.shareMaxItemBytes),
        ),
    );
  }

  /**
   * The durable state of a share now, in key order: the snapshot every reader of this seq shares
   * (its bodies are encoded once, and streamed to each reader as it reads).
   */
  async read(id: string): Promise<ShareSnapshot> {
    return (await this.#readable("share data", id)).state.snapshot();
  }

  /**
   * The durable state of a share now as an HTTP body (`data`: `GET /api/share/:id/data`,
   * `session`: `GET /share_data`), encoded once per seq for all readers. The share counts as in use
   * (it does not leave memory, so its content stays within the memory budget) until the body's
   * `finished` is called, which whoever streams it must do once it is done, whole or not.
   */
  async readBody(id: string, form: "data" | "session"): Promise<ShareBody> {
    const share = await this.#readable("share data", id);
    const snapshot = share.state.snapshot();
    const body = form === "data" ? snapshot.dataBody() : snapshot.sessionBody();
    share.readers++;
    let finished = false;
    return {
      seq: snapshot.seq,
      byteLength: body.byteLength,
      units: () => body.units(),
      finished: () => {
        if (finished) return;
        finished = true;
        share.readers--;
        share.lastUsed = Date.now();
      },
    };
  }

  /** True when the share exists (loads it). */
  async exists(id: string): Promise<boolean> {
    return isShareId(id) && (await this.#loaded.load(id)) !== undefined;
  }

  /**
   * The viewer page's status for `id`: 200 for a share that exists, 410 for a deleted one, 404
   * otherwise. Reads only the share's record, never its content: a page view loads nothing.
   */
  async pageStatus(id: string): Promise<200 | 404 | 410> {
    if (!isShareId(id)) return 404;
    const meta =
      this.#loaded.peek(id)?.meta ??
      (await storeOperation("share viewer", id, () => this.#readMeta(id)));
    if (meta !== undefined) return 200;
    return this.missing("share viewer", id).status === 410 ? 410 : 404;
  }

  /** Deletes a share: storage removed, its viewers closed with 4410. */
  remove(id: string, secret: unknown): Promise<void> {
    return this.#remove("share delete", id, { secret });
  }

  /**
   * Deletes a share without its secret: the admin API, and expiry. Otherwise as `remove`;
   * throws ERR_SHARE_NOT_FOUND when there is no such share.
   */
  removeWithoutSecret(id: string, context: string): Promise<void> {
    return this.#remove(context, id, undefined);
  }

  /**
   * The error for a share that is not there: ERR_SHARE_DELETED (410) while its tombstone is
   * remembered, else ERR_SHARE_NOT_FOUND (404).
   */
  missing(context: string, id: string): SynclineError {
    const deletedAt = isShareId(id) ? this.#tombstones.deletedAt(id, Date.now()) : undefined;
    return deletedAt === undefined
      ? shareNotFound(context, id)
      : shareDeleted(context, id, deletedAt);
  }

  async #remove(context: string, id: string, owner: { secret: unknown } | undefined) {
    if (!isShareId(id)) throw shareNotFound(context, id);
    await this.#locks.run(id, async () => {
      const share = await this.#loaded.use(
        () => this.#authorizedDelete(context, id, owner),
        (share) => {
          moveShare(share, { name: "deleting" });
          // Held in memory until the delete settles: evicted meanwhile, it could be reloaded.
          share.inFlight++;
          return share;
        },
      );
      const deletedAt = Date.now();
      let remembered: Promise<void> | undefined;
      try {
        await share.tail;
        // The tombstone is written in the same turn as the delete, so the store commits the two
        // together: a crash cannot leave the share gone without its 410.
        remembered = this.#tombstones.add(id, deletedAt);
        await this.#store.deletePrefix(sharePrefix(id));
      } catch (error) {
        // Nothing was deleted: viewers reconnect, and the next request reloads the share. A
        // tombstone of a share that exists is never consulted, and its create clears it.
        this.#tombstones.cleared(id);
        void remembered?.catch(() => {});
        moveShare(share, { name: "failed" });
        share.fanout.closeAll(reloadCloseCode, reloadCloseReason);
        this.#loaded.drop(share);
        throw storageFailed(context, id, error);
      } finally {
        share.inFlight--;
      }
      this.#usage?.deleted(id);
      endDeleted(share, deletedAt, this.#loaded);
      this.#nodes?.announceDelete(id, deletedAt);
      await remembered?.catch((error: unknown) => {
        this.#observer.error?.(error, `share ${id} tombstone write`);
      });
    });
  }

  /** Another node deleted share `id` (it stored the tombstone): it ends here too. */
  #deletedElsewhere(id: ShareId, deletedAt: number): void {
    this.#tombstones.remember(id, deletedAt);
    this.#usage?.deleted(id);
    const share = this.#loaded.peek(id);
    if (share?.phase.name !== "live") return;
    share.tail = share.tail.then(() => {
      if (share.phase.name !== "live") return;
      moveShare(share, { name: "deleting" });
      endDeleted(share, deletedAt, this.#loaded);
    });
  }

  /**
   * Attaches a viewer: streams it the full state — or, with `since`, only the frames after it
   * when the log still holds them — then every live frame. `epoch` (from the viewer's last full
   * state) qualifies `since`: when it is not the share's epoch, `since` counted writes of an
   * earlier share under this id (deleted and created again), so the full state is sent. Returns
   * the detach function, or undefined (the socket closed with 4404) when there is no such share.
   */
  async attach(
    id: string,
    socket: ViewerSocket,
    join: ViewerJoin = {},
  ): Promise<(() => void) | undefined> {
    const { since, epoch, version = 1 } = join;
    const load = async () => (isShareId(id) ? await this.#loaded.load(id) : undefined);
    return this.#loaded.use(load, (share) => {
      if (share?.phase.name !== "live") {
        // A failed share is being reloaded, one being deleted may stay: come back; a missing or
        // deleted one will not.
        if (share?.phase.name === "failed" || share?.phase.name === "deleting") {
          socket.close(reloadCloseCode, reloadCloseReason);
        } else if (this.missing("share viewer", id).code === "ERR_SHARE_DELETED") {
          socket.close(ShareCloseCode.deleted, "share deleted");
        } else socket.close(ShareCloseCode.notFound, "no such share");
        return undefined;
      }
      // A share without an epoch (unknown) differs from any given one: the full state is safe.
      const sameShare = epoch === undefined || epoch === share.state.epoch;
      const frames = since === undefined || !sameShare ? undefined : share.state.framesAfter(since);
      share.fanout.add(
        socket,
        frames ? catchUpStart(frames) : share.state.snapshot().viewerStart(version),
      );
      share.lastUsed = Date.now();
      // Several nodes: what another node acknowledged and the bus has not told (yet, or lost in
      // an outage) is in the store; the viewer gets it live once the copy has caught up.
      this.#nodes?.bringCurrent(share).catch((error: unknown) => {
        this.#observer.error?.(error, `share ${share.id}: catching up with other nodes`);
      });
      return () => {
        share.fanout.delete(socket);
        share.lastUsed = Date.now();
      };
    });
  }

  /** Waits for writes in flight, then forgets every share (viewers get 1001). */
  async close(): Promise<void> {
    await this.#nodes?.close();
    this.#loaded.stopSweep();
    clearInterval(this.#expirySweep);
    const shares = this.#loaded.all();
    await Promise.all(shares.map((share) => share.tail));
    for (const share of shares) {
      share.fanout.closeAll(ShareCloseCode.goingAway, "server shutting down");
      this.#loaded.drop(share);
    }
  }

  async #authorized(
    context: string,
    id: string,
    secret: unknown,
    overBudget = false,
  ): Promise<LiveShare> {
    const share = await this.#require(context, id, overBudget);
    if (!verifySecret(secret, share.meta.secretHash)) throw badSecret(context, id, secret);
    return share;
  }

  /**
   * The share to delete, its secret checked. A delete is never refused for memory (its share
   * leaves memory when it is done), so a share not in memory is loaded past the budget if need
   * be — after the secret is checked against the stored one, so that only its owner can.
   */
  async #authorizedDelete(
    context: string,
    id: ShareId,
    owner: { secret: unknown } | undefined,
  ): Promise<LiveShare> {
    if (!this.#loaded.peek(id)) {
      const meta = await storeOperation(context, id, () => this.#readMeta(id));
      if (!meta) throw this.missing(context, id);
      if (owner && !verifySecret(owner.secret, meta.secretHash)) {
        throw badSecret(context, id, owner.secret);
      }
    }
    if (!owner) return this.#require(context, id, true);
    return this.#authorized(context, id, owner.secret, true);
  }

  /**
   * The share to read. Several nodes: its copy is first brought up to every write acknowledged
   * through any of them (share-nodes.ts bringCurrent), so a client that synced through one node
   * and reads through another sees its write; a copy that ended meanwhile is loaded again.
   */
  async #readable(context: string, id: string): Promise<LiveShare> {
    const share = await this.#require(context, id);
    const nodes = this.#nodes;
    if (nodes === undefined) return share;
    await storeOperation(context, id, () => nodes.bringCurrent(share));
    if (share.phase.name === "live") return share;
    const loaded = await this.#require(context, id);
    if (loaded.phase.name === "live") return loaded;
    // Failed with writes still in flight: it leaves memory when they end, and is loaded again.
    throw storageFailed(context, id, "this node's copy of the share is being reloaded");
  }

  async #require(context: string, id: string, overBudget = false): Promise<LiveShare> {
    const share = isShareId(id) ? await this.#loaded.load(id, overBudget) : undefined;
    if (!share || share.phase.name === "deleted") throw this.missing(context, id);
    if (share.phase.name === "deleting") throw shareDeleting(context, id);
    return share;
  }

  #readMeta(id: ShareId): Promise<ShareMeta | undefined> {
    return readMeta((key) => this.#store.get(key), id);
  }
}
