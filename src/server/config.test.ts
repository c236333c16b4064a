import { describe, expect, it } from "vitest";
import { isSynclineError } from "../protocol/errors.js";
import { resolveServerConfig, serverConfig } from "./config.js";

function configError(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isSynclineError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected an error");
}

describe("resolveServerConfig", () => {
  it("uses the documented defaults", () => {
    expect(resolveServerConfig({ flags: {}, env: {} })).toEqual({
      host: "127.0.0.1",
      port: 3030,
      dataDir: "./syncline-data",
      logLevel: "info",
      durability: "flush",
      shutdownTimeoutMs: 4000,
      wsKeepaliveMs: 30_000,
      retainBytes: 64 * 1024 * 1024,
      heartbeatMs: 20_000,
      heartbeatGraceMs: 10_000,
      automergeMemoryBudget: 64 * 1024 * 1024,
      automergeIdleEvictMs: 30_000,
      automergeMaxMessageBytes: 64 * 1024 * 1024,
      automergeMaxDocumentBytes: 256 * 1024 * 1024,
      automergeWorkerThreshold: 256 * 1024,
      shareMaxBodyBytes: 64 * 1024 * 1024,
      shareMaxItemBytes: 16 * 1024 * 1024,
      shareMaxBytes: 256 * 1024 * 1024,
      shareMemoryBudget: 512 * 1024 * 1024,
      shareViewerMaxBufferedBytes: 34 * 1024 * 1024,
      shareViewerFlushMs: 0,
      shareIdleEvictMs: 60_000,
      shareCatchupFrames: 1000,
      shareCatchupBytes: 4 * 1024 * 1024,
      automergeWorkerThreads: expect.any(Number),
      outputMaxBufferedBytes: 16 * 1024 * 1024,
      outputTotalBufferedBytes: 512 * 1024 * 1024,
      outputGraceMs: 30_000,
      retainTotalBytes: 256 * 1024 * 1024,
      spoolBytes: 1024 * 1024 * 1024,
      spoolTotalBytes: 4 * 1024 * 1024 * 1024,
      resumeTtlMs: 600_000,
      relayStallMs: 60_000,
      automergeMaxEphemeralBytes: 64 * 1024,
      httpBodyTotalBytes: 256 * 1024 * 1024,
      httpHeadersTimeoutMs: 10_000,
      httpRequestTimeoutMs: 60_000,
      httpKeepAliveTimeoutMs: 5000,
      httpIdleTimeoutMs: 60_000,
      maxConnections: expect.any(Number),
      maxConnectionsPerAddress: 2000,
      maxUnauthenticatedWebSocketsPerAddress: 1500,
      proxyProtocol: false,
      rateLimits: true,
      rateShareCreateBurst: 60,
      rateShareCreatePerMinute: 30,
      rateAuthFailureBurst: 30,
      rateAuthFailurePerMinute: 30,
      rateDocumentCreateBurst: 20_000,
      rateDocumentCreatePerMinute: 600,
      shareMaxJsonDepth: 256,
      shareTotalMaxBytes: 0,
      shareExpireAfterMs: 0,
      shareTombstoneMs: 30 * 86_400_000,
      shareTombstoneMax: 100_000,
    });
  });

  it("checks the limits' settings, alone and together", () => {
    const flags = { trustedProxies: "10.0.0.0/8, 127.0.0.1 ,unix,::1" };
    expect(resolveServerConfig({ flags, env: {} }).trustedProxies).toBe(
      "10.0.0.0/8, 127.0.0.1 ,unix,::1",
    );
    const bad = (flags: Record<string, unknown>) => () => resolveServerConfig({ flags, env: {} });
    expect(bad({ trustedProxies: "10.0.0.0/8,proxy.example" })).toThrow(/proxy\.example/);
    expect(bad({ trustedProxies: "10.0.0.1/99" })).toThrow(/--trusted-proxies/);
    expect(bad({ proxyProtocol: true })).toThrow(/needs trusted_proxies/);
    expect(bad({ httpHeadersTimeoutMs: "20000", httpRequestTimeoutMs: "10000" })).toThrow(
      /http_headers_timeout_ms 20000 \(from --http-headers-timeout\)/,
    );
    expect(bad({ metricsListen: "localhost" })).toThrow(/HOST:PORT/);
    const env = { SYNCLINE_RATE_LIMITS: "false", SYNCLINE_METRICS_LISTEN: "[::1]:9464" };
    const config = resolveServerConfig({ flags: {}, env });
    expect([config.rateLimits, config.metricsListen]).toEqual([false, "[::1]:9464"]);
  });

  it("reads the share limits and public URL from env and file, naming a bad value", () => {
    const config = resolveServerConfig({
      flags: {},
      env: {
        SYNCLINE_SHARE_MAX_ITEM_BYTES: "2097152",
        SYNCLINE_SHARE_MAX_BYTES: "1048576",
        SYNCLINE_SHARE_PUBLIC_URL: "https://x.example/",
      },
      file: { path: "/f.toml", name: "server", values: { share_idle_evict_ms: 5000 } },
    });
    expect(config).toMatchObject({
      shareMaxItemBytes: 2 * 1024 * 1024,
      shareMaxBytes: 1024 * 1024,
      sharePublicUrl: "https://x.example",
      shareIdleEvictMs: 5000,
    });
    expect(() =>
      resolveServerConfig({ flags: {}, env: { SYNCLINE_SHARE_PUBLIC_URL: "ftp://x" } }),
    ).toThrow(/SYNCLINE_SHARE_PUBLIC_URL must be an http:\/\/ or https:\/\/ URL, got "ftp:\/\/x"/);
  });

  it("reads share_memory_budget and refuses one below share_max_bytes, naming both", () => {
    const fromEnv = resolveServerConfig({
      flags: {},
      env: { SYNCLINE_SHARE_MEMORY_BUDGET: "2097152" },
      file: { path: "/f.toml", name: "server", values: { share_max_bytes: 1048576 } },
    });
    expect(fromEnv).toMatchObject({ shareMemoryBudget: 2 * 1024 * 1024, shareMaxBytes: 1048576 });
    const fromFile = resolveServerConfig({
      flags: {},
      env: {},
      file: { path: "/f.toml", name: "server", values: { share_memory_budget: 1073741824 } },
    });
    expect(fromFile.shareMemoryBudget).toBe(1024 * 1024 * 1024);
    const error = configError(() =>
      resolveServerConfig({ flags: {}, env: { SYNCLINE_SHARE_MEMORY_BUDGET: "1048576" } }),
    );
    expect(error.code).toBe("ERR_INVALID_CONFIG");
    expect(error.message).toBe(
      "config: share_memory_budget 1048576 (from environment variable SYNCLINE_SHARE_MEMORY_BUDGET) is less than share_max_bytes 268435456 (from the default of --share-max-bytes): a share of the largest size could never be loaded; raise the budget or lower the limit",
    );
    expect(() =>
      resolveServerConfig({ flags: {}, env: { SYNCLINE_SHARE_MEMORY_BUDGET: "lots" } }),
    ).toThrow(/SYNCLINE_SHARE_MEMORY_BUDGET must be a whole number/);
  });

  it("reads share_viewer_flush_ms from env and file, refusing one above a second", () => {
    expect(
      resolveServerConfig({ flags: {}, env: { SYNCLINE_SHARE_VIEWER_FLUSH_MS: "15" } })
        .shareViewerFlushMs,
    ).toBe(15);
    expect(
      resolveServerConfig({
        flags: {},
        env: {},
        file: { path: "/f.toml", name: "server", values: { share_viewer_flush_ms: 5 } },
      }).shareViewerFlushMs,
    ).toBe(5);
    expect(() =>
      resolveServerConfig({ flags: {}, env: { SYNCLINE_SHARE_VIEWER_FLUSH_MS: "5000" } }),
    ).toThrow(/SYNCLINE_SHARE_VIEWER_FLUSH_MS/);
  });

  it("reads the automerge token and limits from flags, env and file", () => {
    const config = resolveServerConfig({
      flags: { automergeToken: "s3cret" },
      env: { SYNCLINE_AUTOMERGE_MAX_MESSAGE_BYTES: "2048" },
      file: { path: "/f.toml", name: "server", values: { automerge_memory_budget: 1000 } },
    });
    expect(config).toMatchObject({
      automergeToken: "s3cret",
      automergeMaxMessageBytes: 2048,
      automergeMemoryBudget: 1000,
    });
    expect(() =>
      resolveServerConfig({ flags: { automergeMaxDocumentBytes: "lots" }, env: {} }),
    ).toThrow(/--automerge-max-document/);
    const ephemeral = (env: Record<string, string>) =>
      resolveServerConfig({ flags: {}, env }).automergeMaxEphemeralBytes;
    expect(ephemeral({ SYNCLINE_AUTOMERGE_MAX_EPHEMERAL_BYTES: "0" })).toBe(0);
    expect(() => ephemeral({ SYNCLINE_AUTOMERGE_MAX_EPHEMERAL_BYTES: "-1" })).toThrow(
      /SYNCLINE_AUTOMERGE_MAX_EPHEMERAL_BYTES/,
    );
  });

  it("takes flags over env over file over defaults", () => {
    const file = {
      path: "/etc/syncline.toml",
      name: "server",
      values: { port: 4000, host: "0.0.0.0", data: "/d" },
    };
    const config = resolveServerConfig({
      flags: { port: "5000" },
      env: { PORT: "4500", HOST: "::1" },
      file,
    });
    expect(config.port).toBe(5000);
    expect(config.host).toBe("::1");
    expect(config.dataDir).toBe("/d");
    expect(resolveServerConfig({ flags: {}, env: { PORT: "4500" }, file }).port).toBe(4500);
    expect(resolveServerConfig({ flags: {}, env: {}, file }).port).toBe(4000);
  });

  it("ignores empty environment variables", () => {
    expect(resolveServerConfig({ flags: {}, env: { PORT: "" } }).port).toBe(3030);
  });

  it("names the flag, and the bad value, of an invalid port", () => {
    for (const bad of ["abc", "-1", "65536", "3.5", ""]) {
      const error = configError(() => resolveServerConfig({ flags: { port: bad }, env: {} }));
      expect(error.code).toBe("ERR_INVALID_CONFIG");
      expect(error.message).toContain("--port");
      expect(error.message).toContain(JSON.stringify(bad));
    }
  });

  it("names the environment variable or the file key a bad value came from", () => {
    const fromEnv = configError(() => resolveServerConfig({ flags: {}, env: { PORT: "x" } }));
    expect(fromEnv.message).toContain("PORT");
    const file = { path: "/tmp/c.toml", name: "server", values: { port: 80.5 } };
    const fromFile = configError(() => resolveServerConfig({ flags: {}, env: {}, file }));
    expect(fromFile.message).toContain("server.port in /tmp/c.toml");
  });

  it("rejects an unknown log level and durability", () => {
    expect(
      configError(() => resolveServerConfig({ flags: { logLevel: "loud" }, env: {} })).message,
    ).toContain("--log-level");
    expect(
      configError(() => resolveServerConfig({ flags: { durability: "maybe" }, env: {} })).message,
    ).toContain("--durability");
  });

  it("refuses a file value of the wrong TOML type, naming the key, the value and its type", () => {
    const file = { path: "/tmp/c.toml", name: "server", values: { port: "3040" } };
    const error = configError(() => resolveServerConfig({ flags: {}, env: {}, file }));
    expect(error.code).toBe("ERR_INVALID_CONFIG");
    expect(error.message).toBe(
      'config: server.port in /tmp/c.toml must be an integer, got "3040" (a string)',
    );
    const level = { path: "/tmp/c.toml", name: "server", values: { log_level: 3 } };
    expect(
      configError(() => resolveServerConfig({ flags: {}, env: {}, file: level })).message,
    ).toBe("config: server.log_level in /tmp/c.toml must be a string, got 3 (an integer)");
  });

  it("serverConfig checks overrides like any other source", () => {
    expect(serverConfig({ port: 0 }).port).toBe(0);
    expect(configError(() => serverConfig({ port: 70_000 })).message).toBe(
      "config: --port must be a whole number from 0 to 65535, got 70000",
    );
    expect(configError(() => serverConfig({ shareMemoryBudget: 1024 })).code).toBe(
      "ERR_INVALID_CONFIG",
    );
  });

  it("requires --tls-cert and --tls-key together", () => {
    const error = configError(() =>
      resolveServerConfig({ flags: { tlsCert: "cert.pem" }, env: {} }),
    );
    expect(error.code).toBe("ERR_INVALID_CONFIG");
    expect(error.message).toContain("--tls-key");
  });
});
