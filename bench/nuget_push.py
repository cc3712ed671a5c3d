#!/usr/bin/env python3
"""Pushes generated NuGet packages to a feed the way NuGet.exe sends them (one multipart
`PUT {feed}/` per package, the .nupkg as its one part, the key in `X-NuGet-ApiKey`), over one
kept-alive connection, and prints each push's time in seconds, one per line. Used by
bench/nuget.sh.

    nuget_push.py FEED_URL TOKEN versions ID FIRST COUNT    # versions FIRST.. of one package
    nuget_push.py FEED_URL TOKEN packages PREFIX FIRST COUNT  # packages PREFIX.FIRST.. at 1.0.0

Version i is `{i // 100}.{i // 10 % 10}.{i % 10}`.
"""

import http.client
import io
import sys
import time
import urllib.parse
import zipfile


def version_of(i):
    return f"{i // 100}.{i // 10 % 10}.{i % 10}"


def nupkg(package_id, version):
    """A small package: its nuspec and one content file, as `nuget pack` lays them out."""
    nuspec = (
        '<?xml version="1.0"?><package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">'
        f"<metadata><id>{package_id}</id><version>{version}</version><authors>bench</authors>"
        f"<description>{package_id} {version} for the benchmark</description>"
        '<dependencies><group targetFramework="net6.0"><dependency id="Bench.Base" version="[1.0,2.0)" /></group></dependencies>'
        "</metadata></package>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{package_id}.nuspec", nuspec)
        z.writestr("content/readme.txt", f"{package_id} {version}\n" * 20)
    return out.getvalue()


def main():
    feed, token, mode, name, first, count = sys.argv[1:7]
    first, count = int(first), int(count)
    url = urllib.parse.urlsplit(feed.rstrip("/") + "/")
    conn = http.client.HTTPConnection(url.hostname, url.port)
    boundary = "cargoman-bench-boundary"
    for i in range(first, first + count):
        if mode == "versions":
            package_id, version = name, version_of(i)
        else:
            package_id, version = f"{name}.{i}", "1.0.0"
        data = nupkg(package_id, version)
        body = (
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
            f'Content-Disposition: form-data; name="package"; filename="package.nupkg"\r\n\r\n'
        ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
        headers = {
            "X-NuGet-ApiKey": token,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        start = time.perf_counter()
        conn.request("PUT", url.path, body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        took = time.perf_counter() - start
        if response.status != 201:
            sys.exit(f"push {package_id} {version}: {response.status} {answer[:300]!r}")
        print(f"{took:.6f}")


if __name__ == "__main__":
    main()
