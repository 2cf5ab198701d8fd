'use strict';
// GET /api/chat (targets/src/app/chat.rs): a WebSocket. Each text message is echoed to its
// sender and broadcast to the other chat clients of the same process; a binary message is
// echoed only; ping/pong is answered by ws.
//
// The room is this process's memory. Persistent deployment: one room for everyone.
// Serverless deployment: a WebSocket needs a long-lived connection to one process, which a
// request/response platform does not offer (coldfront's serverless gateway answers 501
// WEBSOCKETS_UNSUPPORTED itself); even where it does, each instance is its own room.
//
// `ws` is required on the first upgrade, not at start-up: it is not needed to serve anything
// else, and every millisecond of require time is cold-start time.

/** Messages a slow client may fall behind by (bytes) before it skips broadcasts. */
const MAX_BUFFERED = 1 << 20;

let wss = null;
const clients = new Set();

function server() {
  if (!wss) {
    const { WebSocketServer } = require('ws');
    // tungstenite's default message limit; no compression, like the Rust app.
    wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: 64 << 20 });
  }
  return wss;
}

function hasToken(value, token) {
  if (typeof value !== 'string') return false;
  return value.split(',').some((part) => part.trim().toLowerCase() === token);
}

/** A version-13 upgrade request, checked as the Rust app checks it. */
function isUpgrade(req) {
  return hasToken(req.headers.upgrade, 'websocket')
    && hasToken(req.headers.connection, 'upgrade')
    && req.headers['sec-websocket-version'] === '13'
    && typeof req.headers['sec-websocket-key'] === 'string';
}

const NOT_AN_UPGRADE = 'expected a WebSocket upgrade (version 13)';

/** The HTTP server's 'upgrade' event for GET /api/chat. */
function upgrade(req, socket, head) {
  if (!isUpgrade(req)) {
    const body = JSON.stringify({ error: NOT_AN_UPGRADE });
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    return;
  }
  server().handleUpgrade(req, socket, head, converse);
}

function converse(ws) {
  clients.add(ws);
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      ws.send(data, { binary: true });
      return;
    }
    ws.send(data, { binary: false });
    for (const other of clients) {
      if (other !== ws && other.readyState === 1 && other.bufferedAmount < MAX_BUFFERED) {
        other.send(data, { binary: false });
      }
    }
  });
  ws.on('close', () => clients.delete(ws));
  ws.on('error', () => clients.delete(ws));
}

/** Closes every chat connection (shutdown): 1001 "going away". */
function closeAll() {
  for (const ws of clients) ws.close(1001);
  clients.clear();
}

module.exports = { upgrade, closeAll, NOT_AN_UPGRADE };
