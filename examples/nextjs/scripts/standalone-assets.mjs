// After `next build`: the standalone server does not serve .next/static or public/ unless
// they are copied next to it (Next.js leaves that to the deployment). This app is API only,
// so they are usually empty or missing; copied anyway so the standalone directory is
// complete, and server.js is checked to exist where coldfront starts it.
import { cpSync, existsSync, rmSync } from "node:fs";

const standalone = ".next/standalone";
if (!existsSync(`${standalone}/server.js`)) {
  console.error(`${standalone}/server.js is missing: is output: "standalone" set?`);
  process.exit(1);
}
for (const [from, to] of [
  [".next/static", `${standalone}/.next/static`],
  ["public", `${standalone}/public`],
]) {
  rmSync(to, { recursive: true, force: true });
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}
console.log(`standalone server ready: node ${standalone}/server.js`);
