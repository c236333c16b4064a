// `syncline sync <automerge:URL | documentId> --file PATH` (or `--new`): syncs one local
// Automerge file with a sync server once — pull, merge, push — and saves it atomically.

import * as Automerge from "@automerge/automerge";
import { type SyncDocumentResult, syncDocument } from "../../automerge/client/sync-client.js";
import type { ErrorCode } from "../../protocol/error-table.js";
import { createError } from "../../protocol/errors.js";
import {
  type DocumentId,
  generateDocumentId,
  hexToUrlHeads,
  parseDocumentRef,
  stringifyAutomergeUrl,
} from "../../util/ids.js";
import { type LocalDocument, loadAutomergeFile, saveAutomergeFile } from "../automerge-file.js";
import { announceRetry } from "../connection.js";
import { interruptedError } from "../exit-error.js";
import { type CliIo, writeJson } from "../io.js";
import { resolveSyncSettings, type SyncSettings } from "../sync-settings.js";

/** Options of `sync`: its settings' flags, and these. */
export interface SyncOptions extends Readonly<Record<string, unknown>> {
  readonly config?: string;
  /** The local Automerge file (created if missing). */
  readonly file: string;
  /** Make a new document id and push the file (or an empty document) under it. */
  readonly new?: boolean;
  /** Handshake and ask whether the server has the document; write and send nothing. */
  readonly dryRun?: boolean;
  /** Merge a local file whose history shares nothing with the server's document. */
  readonly allowUnrelated?: boolean;
  readonly json?: boolean;
}

/** Syncs `target` (a document id or automerge: URL; undefined with --new) and reports. */
export async function syncCommand(
  target: string | undefined,
  options: SyncOptions,
  io: CliIo,
): Promise<void> {
  const started = Date.now();
  const settings = resolveSyncSettings(options, io);
  const documentId = resolveDocumentId(target, options.new === true);
  const dryRun = options.dryRun === true;
  const local = await loadAutomergeFile(options.file, { mustBeWritable: !dryRun });
  const headsBefore = Automerge.getHeads(local.doc);
  // A new document starts with one empty change, as automerge-repo's Repo.create() does, so it
  // has heads and the server stores it even when the file had no content.
  const doc =
    options.new && headsBefore.length === 0 ? Automerge.emptyChange(local.doc) : local.doc;
  // SIGINT/SIGTERM end the sync (exit 130) with the file untouched; during the save they are
  // held off by this handler, so the rename happens or not, never half.
  const interrupt = new AbortController();
  const stopSignal = io.onSignal((signal) => interrupt.abort(signal));
  try {
    await syncAndSave(
      { settings, documentId, doc, local, headsBefore, dryRun, started },
      options,
      io,
      interrupt.signal,
    );
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
    const signal = interrupt.signal.reason as NodeJS.Signals;
    throw interruptedError(
      `sync: ${signal} before ${documentId} was synced; ${options.file} is unchanged`,
      signal,
      error,
    );
  } finally {
    stopSignal();
  }
}

interface SyncPlan {
  readonly settings: SyncSettings;
  readonly documentId: DocumentId;
  readonly doc: Automerge.Doc<unknown>;
  readonly local: LocalDocument;
  readonly headsBefore: readonly string[];
  readonly dryRun: boolean;
  readonly started: number;
}

async function syncAndSave(
  plan: SyncPlan,
  options: SyncOptions,
  io: CliIo,
  signal: AbortSignal,
): Promise<void> {
  const { settings, documentId, doc, local, headsBefore, dryRun, started } = plan;
  const result = await syncDocument({
    server: settings.connection.address,
    token: settings.token,
    ca: settings.connection.ca,
    documentId,
    doc,
    dryRun,
    allowUnrelated: options.allowUnrelated === true,
    timeoutMs: settings.connection.timeoutMs,
    retries: settings.connection.retries,
    signal,
    onRetry: (info) => announceRetry(io, settings.connection.retries, info),
  });
  const headsAfter = Automerge.getHeads(result.doc);
  const changed = !dryRun && (!local.existed || !sameHeads(headsBefore, headsAfter));
  if (changed) await saveAutomergeFile(options.file, result.doc);
  const url = stringifyAutomergeUrl({ documentId });
  const summary = {
    ok: true,
    server: settings.server,
    url,
    documentId,
    peerId: result.peerId,
    serverPeerId: result.serverPeerId,
    protocolVersion: result.protocolVersion,
    heads: hexToUrlHeads(result.heads),
    changesSent: result.changesSent,
    changesReceived: result.changesReceived,
    durationMs: Date.now() - started,
    ...(dryRun ? { dryRun: true, existsOnServer: result.existsOnServer } : {}),
  };
  if (options.json) writeJson(io, summary);
  else
    report(
      io,
      { url, server: settings.server, file: options.file, changed, dryRun },
      result,
      options.new === true,
    );
}

function resolveDocumentId(target: string | undefined, isNew: boolean): DocumentId {
  if (isNew) {
    if (target !== undefined) {
      throw createError(
        "ERR_USAGE",
        `sync: --new makes a new document; do not also give one (${JSON.stringify(target)})`,
      );
    }
    return generateDocumentId();
  }
  if (target === undefined) {
    throw createError(
      "ERR_USAGE",
      "sync: give a document id or automerge: url, or --new for a new document",
    );
  }
  try {
    // Heads in a URL pin a view; a sync always exchanges the whole document, so they are unused.
    return parseDocumentRef(target).documentId;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const known = code === "ERR_INVALID_AUTOMERGE_URL" || code === "ERR_INVALID_DOCUMENT_ID";
    throw createError(
      known ? (code as ErrorCode) : "ERR_INVALID_DOCUMENT_ID",
      `sync: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function report(
  io: CliIo,
  facts: { url: string; server: string; file: string; changed: boolean; dryRun: boolean },
  result: SyncDocumentResult,
  isNew: boolean,
): void {
  const server = `${facts.server} (peer ${result.serverPeerId}, protocol ${result.protocolVersion})`;
  if (facts.dryRun) {
    const exists = result.existsOnServer ? "has" : "does not have";
    io.stdout.write(`dry run: ${server} ${exists} ${facts.url}; nothing sent or written\n`);
    return;
  }
  if (isNew) io.stdout.write(`${facts.url}\n`);
  const saved = facts.changed ? `saved ${facts.file}` : `${facts.file} unchanged`;
  io.stderr.write(
    `synced ${facts.url} with ${server}: ${changes(result.changesReceived)} received, ` +
      `${changes(result.changesSent)} sent; ${saved}\n`,
  );
}

function changes(count: number): string {
  return `${count} change${count === 1 ? "" : "s"}`;
}

function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((head) => b.includes(head));
}
