// coldfront runs `node .next/standalone/server.js` from this directory, so the standalone
// output must be rooted here (not at the enclosing Cargo workspace) and put server.js at
// .next/standalone/server.js.
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));

/** @type {import('next').NextConfig} */
const nextConfig = {
  output: "standalone",
  outputFileTracingRoot: here,
  turbopack: { root: here },
  // The Rust application neither compresses nor advertises itself; gzip would also buffer
  // the Server-Sent Events of /api/events.
  compress: false,
  poweredByHeader: false,
  // No image optimisation (the app serves JSON only), so sharp and its libvips binaries
  // (about 19 MB) are left out of the standalone output.
  images: { unoptimized: true },
  outputFileTracingExcludes: { "*": ["node_modules/sharp/**", "node_modules/@img/**"] },
  // `pg` is already in Next's built-in list of server external packages; said explicitly
  // so it is required from node_modules at run time rather than bundled.
  serverExternalPackages: ["pg"],
};

export default nextConfig;
