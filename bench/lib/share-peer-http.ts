// The publish side shared by the share-fanout peers (raw `ws` broadcast, socket.io rooms): the
// same HTTP calls the publisher makes to syncline — `POST /api/share {sessionID}` → 201
// `{id, secret, url}` and `POST /api/share/:id/sync {secret, data}` → 200 `{seq, accepted,
// written, ignored}` — with none of syncline's work: no validation beyond JSON.parse, no secret
// check, no storage. Each part item becomes the frame syncline would send, handed to `broadcast`
// before the 200.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** One update as syncline frames it: `{key, content, seq}`. */
export interface PeerFrame {
  readonly key: string;
  readonly content: unknown;
  readonly seq: number;
}

interface PartItem {
  readonly type: string;
  readonly data: { id: string; sessionID: string; messageID: string };
}

/** An HTTP server answering the publisher's calls; `broadcast` gets each part's frame. */
export function sharePeerHttp(broadcast: (frame: PeerFrame) => void): Server {
  let seq = 0;
  return createServer((request, response) => {
    readBody(request).then(
      (body) => answer(request, response, body),
      () => response.destroy(),
    );
  });

  function answer(request: IncomingMessage, response: ServerResponse, body: string): void {
    const reply = (status: number, value: unknown) => {
      const text = JSON.stringify(value);
      response.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
      });
      response.end(text);
    };
    if (request.method === "POST" && request.url === "/api/share") {
      const { sessionID } = JSON.parse(body) as { sessionID: string };
      const id = sessionID.slice(-8);
      reply(201, { id, secret: "peer-secret", url: `http://localhost/s/${id}` });
      return;
    }
    if (request.method === "POST" && /^\/api\/share\/[^/]+\/sync$/.test(request.url ?? "")) {
      const { data } = JSON.parse(body) as { data: PartItem[] };
      for (const item of data) {
        const part = item.data;
        const key = `session/part/${part.sessionID}/${part.messageID}/${part.id}`;
        broadcast({ key, content: part, seq: ++seq });
      }
      reply(200, { seq, accepted: data.length, written: data.length, ignored: [] });
      return;
    }
    reply(404, { error: { code: "ERR_NOT_FOUND", message: "not found" } });
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => resolve(body));
    request.on("error", reject);
  });
}
