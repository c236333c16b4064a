// The share-fanout peer users would otherwise pick: socket.io 4 rooms. The publisher's HTTP calls
// are answered as by the raw peer (lib/share-peer-http.ts: no validation, secret or storage);
// every socket.io connection (websocket transport only, perMessageDeflate off) joins the room
// "share", and each update is `io.to("share").emit("update", {key, content, seq})` — socket.io
// encodes the packet once per broadcast and writes it to each socket. Reports its URL.

import { Server } from "socket.io";
import { roleChannel } from "../lib/child.js";
import { sharePeerHttp } from "../lib/share-peer-http.js";

const parent = roleChannel();
const room = "share";
const http = sharePeerHttp((frame) => {
  io.to(room).emit("update", frame);
});
const io = new Server(http, {
  transports: ["websocket"],
  perMessageDeflate: false,
  serveClient: false,
});
io.on("connection", (socket) => {
  void socket.join(room);
});

http.listen(0, "127.0.0.1", () => {
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;
  parent.send({ type: "ready", url: `http://127.0.0.1:${port}` });
});
