// Publishes COUNT versions of one package as `npm publish` would (the same JSON body), one at a
// time, and prints each publish's milliseconds, one per line:
//
//   node npm-publish.mjs REGISTRY_URL TOKEN NAME COUNT
//
// Version i is {1 + i/100}.{(i/10)%10}.{i%10}: 1.0.0 … 1.9.9, 2.0.0 …. The tarball is 2 KiB of
// bytes derived from the name and version (neither server looks inside it); `dependencies` hold a few entries so version
// entries are the size of a typical package's.
import { createHash } from "node:crypto";

const [registry, token, name, countText] = process.argv.slice(2);
const count = Number(countText);
if (!registry || !token || !name || !(count > 0)) {
  console.error("usage: node npm-publish.mjs REGISTRY_URL TOKEN NAME COUNT");
  process.exit(2);
}

for (let i = 0; i < count; i++) {
  const version = `${1 + Math.floor(i / 100)}.${Math.floor(i / 10) % 10}.${i % 10}`;
  // 2 KiB that differ per version and are the same for every server.
  const tarball = Buffer.concat(
    Array.from({ length: 32 }, (_, k) => createHash("sha512").update(`${name}@${version}#${k}`).digest()),
  );
  const file = `${name}-${version}.tgz`;
  const manifest = {
    name,
    version,
    description: `benchmark package ${name}`,
    main: "index.js",
    license: "MIT",
    dependencies: { "left-pad": "^1.3.0", lodash: "^4.17.21", chalk: "^5.3.0" },
    dist: {
      shasum: createHash("sha1").update(tarball).digest("hex"),
      integrity: `sha512-${createHash("sha512").update(tarball).digest("base64")}`,
      tarball: `${registry}${name}/-/${file}`,
    },
  };
  const body = {
    _id: name,
    name,
    description: manifest.description,
    "dist-tags": { latest: version },
    versions: { [version]: manifest },
    _attachments: {
      [file]: {
        content_type: "application/octet-stream",
        data: tarball.toString("base64"),
        length: tarball.length,
      },
    },
  };
  const started = process.hrtime.bigint();
  const response = await fetch(`${registry}${name}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!response.ok) {
    console.error(`publish ${name}@${version}: ${response.status} ${text}`);
    process.exit(1);
  }
  console.log(ms.toFixed(2));
}
