#!/usr/bin/env python3
"""Publishes generated versions of an npm package to a registry the way `npm publish` sends
them (one `PUT /{name}` per version: the manifest, `dist` with SHA-1 and sha512 integrity, the
tarball as a base64 attachment), over one kept-alive connection, and prints each publish's
time in seconds, one per line. Used by bench/npm.sh for both Cargoman and Verdaccio.

    npm_publish.py REGISTRY_URL TOKEN NAME FIRST COUNT

Versions are numbered from FIRST: version i is `{i // 100}.{i // 10 % 10}.{i % 10}`.
"""

import base64
import hashlib
import http.client
import io
import json
import sys
import tarfile
import time
import urllib.parse


def version_of(i):
    return f"{i // 100}.{i // 10 % 10}.{i % 10}"


def tarball(name, version):
    """A small package: package.json and index.js under `package/`, as `npm pack` makes."""
    files = {
        "package/package.json": json.dumps({"name": name, "version": version, "main": "index.js"}),
        "package/index.js": f"module.exports = {json.dumps(version)};\n" + "// padding\n" * 40,
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = 499162500  # npm's fixed mtime
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def publish_body(registry, name, version, tgz):
    filename = f"{name.split('/')[-1]}-{version}.tgz"
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
    manifest = {
        "name": name,
        "version": version,
        "description": "benchmark package",
        "main": "index.js",
        "license": "MIT",
        "dependencies": {},
        "_id": f"{name}@{version}",
        "dist": {
            "shasum": hashlib.sha1(tgz).hexdigest(),
            "integrity": integrity,
            "tarball": f"{registry}{name}/-/{filename}",
        },
    }
    return {
        "_id": name,
        "name": name,
        "description": "benchmark package",
        "dist-tags": {"latest": version},
        "versions": {version: manifest},
        "readme": "# benchmark package\n",
        "_attachments": {
            filename: {
                "content_type": "application/octet-stream",
                "data": base64.b64encode(tgz).decode(),
                "length": len(tgz),
            }
        },
    }


def main():
    registry, token, name, first, count = sys.argv[1:6]
    if not registry.endswith("/"):
        registry += "/"
    url = urllib.parse.urlsplit(registry)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    path = url.path + urllib.parse.quote(name, safe="@")
    for i in range(int(first), int(first) + int(count)):
        version = version_of(i)
        body = json.dumps(publish_body(registry, name, version, tarball(name, version))).encode()
        start = time.perf_counter()
        conn.request(
            "PUT",
            path,
            body=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "npm-command": "publish",
            },
        )
        response = conn.getresponse()
        answer = response.read()
        elapsed = time.perf_counter() - start
        if response.status >= 300:
            sys.exit(f"PUT {name}@{version}: {response.status} {answer[:500]!r}")
        print(f"{elapsed:.6f}", flush=True)


if __name__ == "__main__":
    main()
