// GET /api/chat: the Rust application's WebSocket echo/broadcast room. A Next.js route
// handler receives a Request and must return a Response: it never gets the socket, so it
// cannot answer 101 Switching Protocols and hold a WebSocket (that needs a custom server,
// which `output: "standalone"` replaces). It answers what the Rust app answers in a runtime
// without WebSockets (serverless): 501 {"error":"WEBSOCKETS_UNSUPPORTED"}.
import { error, notAllowed } from "../../../lib/http.js";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET() {
  return error(501, "WEBSOCKETS_UNSUPPORTED");
}

export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
