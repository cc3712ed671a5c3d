#!/usr/bin/env bash
# Cargoman's Maven repository against nginx serving the same layout (static GET, WebDAV PUT), on
# loopback, in one run (issue 13).
#
#   1. `mvn deploy` of a project of MODULES modules (a jar each, with its POM and checksums,
#      and the parent POM); each run deploys a new version, so every run uploads every file.
#   2. A consumer's cold resolve of those MODULES artifacts (`dependency:resolve` into an empty
#      local repository).
#   3. `maven-metadata.xml` of an artifact with VERSIONS versions: req/s (wrk, 1 and 16
#      connections), Cargoman's rendered document against nginx serving the same bytes.
#
# Targets: deploy and resolve ≥ 0.9× nginx (ratio = nginx's time / Cargoman's); metadata
# ≥ 0.5× static nginx. Writes bench/RESULTS-maven.md and its block in bench/RESULTS.md.
# Cargoman: SQLite + filesystem, the root token as Basic password; nginx: no credentials.
#
# Environment knobs:
#   DURATION=10s      wrk duration per cell
#   MODULES=50        modules of the deployed project
#   VERSIONS=1000     versions of the metadata artifact
#   RUNS=3            deploys and resolves are timed RUNS times; the best counts
#   SKIP_BUILD=1      use the existing target/release/cargoman
#   CARGOMAN_BIN=path use another binary (implies SKIP_BUILD)
#   KEEP_TMP=1        keep the temp dir (logs, storage)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS-maven.md"
DURATION=${DURATION:-10s}
MODULES=${MODULES:-50}
VERSIONS=${VERSIONS:-1000}
RUNS=${RUNS:-3}

apt_ensure wrk nginx
require_tools curl awk mvn wrk xargs
for plugin in maven-deploy-plugin/3.0.0 maven-dependency-plugin/3.5.0 maven-jar-plugin/3.3.0; do
    [ -d "/usr/share/maven-repo/org/apache/maven/plugins/$plugin" ] ||
        die "Debian's $plugin is missing: run scripts/services.sh's services_install"
done

build_cargoman
bench_tmp maven-bench

# ---------------------------------------------------------------- servers
TOKEN="bench-admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
start_cargoman "$TMP/cargoman"
start_nginx application/octet-stream "dav_methods PUT; create_full_put_path on; dav_access user:rw group:r all:r; client_max_body_size 0;"
mkdir -p "$TMP/nginx/www/maven"
# nginx's workers (not root) write the deployed files.
chmod 777 "$TMP/nginx/www" "$TMP/nginx/www/maven"

declare -A URL
URL[cm]="http://127.0.0.1:$CARGOMAN_PORT/api/packages/bench/maven"
URL[ng]="http://127.0.0.1:$NGINX_PORT/maven"

# ---------------------------------------------------------------- projects
PLUGINS='<plugin><artifactId>maven-deploy-plugin</artifactId><version>3.0.0</version></plugin>
<plugin><artifactId>maven-install-plugin</artifactId><version>3.1.0</version></plugin>
<plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.0</version></plugin>
<plugin><artifactId>maven-compiler-plugin</artifactId><version>3.10.1</version></plugin>
<plugin><artifactId>maven-jar-plugin</artifactId><version>3.3.0</version></plugin>
<plugin><artifactId>maven-surefire-plugin</artifactId><version>2.22.3</version></plugin>'

settings() { # file local-repository
    cat >"$1" <<XML
<settings><localRepository>$2</localRepository>
<mirrors><mirror><id>debian</id><mirrorOf>central</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors>
<servers><server><id>bench</id><username>bench</username><password>$TOKEN</password></server></servers>
</settings>
XML
}

module_name() { printf 'm%02d' "$1"; }

# A multi-module project at version $2 deploying to $3.
write_project() { # dir version url
    local dir=$1 version=$2 url=$3 i m modules=""
    rm -rf "$dir"
    for i in $(seq "$MODULES"); do
        m=$(module_name "$i")
        modules+="<module>$m</module>"
        mkdir -p "$dir/$m/src/main/java/bench"
        echo "package bench; public class C$i { public static int n() { return $i; } }" \
            >"$dir/$m/src/main/java/bench/C$i.java"
        cat >"$dir/$m/pom.xml" <<XML
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<parent><groupId>org.bench</groupId><artifactId>parent</artifactId><version>$version</version></parent>
<artifactId>$m</artifactId></project>
XML
    done
    cat >"$dir/pom.xml" <<XML
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>org.bench</groupId><artifactId>parent</artifactId><version>$version</version>
<packaging>pom</packaging><modules>$modules</modules>
<properties><maven.compiler.source>11</maven.compiler.source><maven.compiler.target>11</maven.compiler.target>
<project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
<build><plugins>$PLUGINS</plugins></build>
<distributionManagement><repository><id>bench</id><url>$url</url></repository></distributionManagement>
</project>
XML
}

# A consumer of every module at version $2, resolving from $3.
write_consumer() { # dir version url
    local dir=$1 version=$2 url=$3 i deps=""
    rm -rf "$dir"
    mkdir -p "$dir"
    for i in $(seq "$MODULES"); do
        deps+="<dependency><groupId>org.bench</groupId><artifactId>$(module_name "$i")</artifactId><version>$version</version></dependency>"
    done
    cat >"$dir/pom.xml" <<XML
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>org.bench</groupId><artifactId>consumer</artifactId><version>1</version>
<dependencies>$deps</dependencies>
<repositories><repository><id>bench</id><url>$url</url></repository></repositories>
<build><plugins>$PLUGINS</plugins></build>
</project>
XML
}

mvn_quiet() { # dir settings args…
    local dir=$1 settings=$2
    shift 2
    (cd "$dir" && mvn -B -q -s "$settings" "$@") >"$TMP/mvn.log" 2>&1 ||
        { cat "$TMP/mvn.log" >&2; die "mvn $* failed in $dir"; }
}

timed() { # command… -> seconds
    local start
    sync
    start=$(now)
    "$@"
    elapsed "$start" "$(now)"
}

declare -A BEST
keep_best() { # key seconds
    if [ -z "${BEST[$1]:-}" ] || awk -v a="$2" -v b="${BEST[$1]}" 'BEGIN {exit !(a < b)}'; then
        BEST[$1]=$2
    fi
}

# The build's own work (compiling, packaging) is done before the timed deploy, which then only
# finds everything up to date; the plugins come from Debian's repository into a warm local one.
settings "$TMP/build-settings.xml" "$TMP/m2-build"
for run in $(seq "$RUNS"); do
    for side in cm ng; do
        version="1.$run"
        dir="$TMP/project-$side-$run"
        write_project "$dir" "$version" "${URL[$side]}"
        log "run $run of $RUNS: $side: building the $MODULES modules"
        mvn_quiet "$dir" "$TMP/build-settings.xml" package
        log "run $run of $RUNS: $side: mvn deploy"
        keep_best "$side-deploy" "$(timed mvn_quiet "$dir" "$TMP/build-settings.xml" deploy)"
    done
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -u "bench:$TOKEN" "${URL[cm]}/org/bench/m01/1.1/m01-1.1.jar")" = 200 ] ||
    die "Cargoman does not serve what was deployed"
[ -f "$TMP/nginx/www/maven/org/bench/m01/1.1/m01-1.1.jar" ] || die "nginx did not store the deploy"

# Cold resolves: a new, empty local repository each time, but Debian's plugins copied in first,
# so only the MODULES artifacts (and the parent POM) come from the server under test.
mvn_quiet "$TMP" "$TMP/build-settings.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.5.0:help >/dev/null
for run in $(seq "$RUNS"); do
    for side in cm ng; do
        dir="$TMP/consumer-$side"
        write_consumer "$dir" "1.$run" "${URL[$side]}"
        rm -rf "$TMP/m2-cold"
        cp -r "$TMP/m2-build" "$TMP/m2-cold"
        rm -rf "$TMP/m2-cold/org/bench"
        settings "$TMP/cold-settings.xml" "$TMP/m2-cold"
        log "run $run of $RUNS: $side: cold resolve of $MODULES artifacts"
        keep_best "$side-resolve" "$(timed mvn_quiet "$dir" "$TMP/cold-settings.xml" \
            org.apache.maven.plugins:maven-dependency-plugin:3.5.0:resolve)"
    done
done
[ -f "$TMP/m2-cold/org/bench/m50/1.$RUNS/m50-1.$RUNS.jar" ] || [ "$MODULES" -lt 50 ] ||
    die "the cold resolve did not fetch the artifacts"

# ---------------------------------------------------------------- metadata of VERSIONS versions
log "publishing $VERSIONS versions of org.bench:many (POMs)"
export TOKEN
seq "$VERSIONS" | awk '{printf "%d.%d.%d\n", $1 / 100, ($1 / 10) % 10, $1 % 10}' |
    URL_CM="${URL[cm]}" xargs -P 4 -I{} bash -c 'curl -sf -o /dev/null -u "bench:$TOKEN" -X PUT --data-binary "<project><modelVersion>4.0.0</modelVersion><groupId>org.bench</groupId><artifactId>many</artifactId><version>{}</version></project>" "$URL_CM/org/bench/many/{}/many-{}.pom"' ||
    die "publishing the versions failed"
METADATA_PATH="org/bench/many/maven-metadata.xml"
mkdir -p "$TMP/nginx/www/maven/org/bench/many"
curl -sf -u "bench:$TOKEN" "${URL[cm]}/$METADATA_PATH" >"$TMP/nginx/www/maven/$METADATA_PATH" ||
    die "no metadata from Cargoman"
chmod -R a+rX "$TMP/nginx/www"
LISTED=$(grep -c '<version>' "$TMP/nginx/www/maven/$METADATA_PATH")
[ "$LISTED" -eq "$VERSIONS" ] || die "the metadata lists $LISTED versions, not $VERSIONS"
METADATA_BYTES=$(wc -c <"$TMP/nginx/www/maven/$METADATA_PATH")

basic() { printf 'Authorization: Basic %s' "$(printf '%s' "$1" | base64 -w0)"; }
declare -A RPS ERRS P99
for side in cm ng; do
    header=""
    [ "$side" = cm ] && header=$(basic "bench:$TOKEN")
    for conc in 1 16; do
        read -r r e _ p9 < <(wrk_cell "${URL[$side]}/$METADATA_PATH" "$conc" "$header")
        RPS[$side-$conc]=$r ERRS[$side-$conc]=$e P99[$side-$conc]=$p9
    done
done

# ---------------------------------------------------------------- results
ratio() { calc "%.2f" "$1 / $2"; }
{
    echo "# Maven repository: Cargoman against nginx"
    echo
    echo "Generated by \`bench/maven.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) CPUs, loopback, client and"
    echo "servers sharing the cores. Cargoman $GIT_REV$GIT_DIRTY (release, SQLite + filesystem, Basic"
    echo "credentials); nginx $("$NGINX" -v 2>&1 | awk -F/ '{print $2}') (static files, WebDAV PUT, no credentials)."
    echo "$(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g'), Debian's plugins; best of $RUNS; \`sync\` before each."
    echo
    echo "## Deploy and cold resolve (seconds; ratio = nginx's time / Cargoman's)"
    echo
    echo "| Operation | Cargoman | nginx | ratio | Target ≥ 0.9× |"
    echo "|---|---:|---:|---:|---|"
    r=$(ratio "${BEST[ng-deploy]}" "${BEST[cm-deploy]}")
    echo "| \`mvn deploy\` of $MODULES modules (built beforehand) | ${BEST[cm-deploy]} | ${BEST[ng-deploy]} | ${r}× | $(verdict "$r" ">=" 0.9) |"
    r=$(ratio "${BEST[ng-resolve]}" "${BEST[cm-resolve]}")
    echo "| cold \`dependency:resolve\` of $MODULES artifacts | ${BEST[cm-resolve]} | ${BEST[ng-resolve]} | ${r}× | $(verdict "$r" ">=" 0.9) |"
    echo
    echo "Both include Maven's own work (its JVM's start, the lifecycle's up-to-date checks), the same on"
    echo "both sides: the ratio is of whole client runs, as a user sees them."
    echo
    echo "## \`maven-metadata.xml\` of $VERSIONS versions ($METADATA_BYTES bytes; wrk \`-d$DURATION\`)"
    echo
    echo "| Connections | Cargoman req/s | p99 ms | nginx req/s | p99 ms | Cargoman/nginx | Target ≥ 0.5× | Errors |"
    echo "|---:|---:|---:|---:|---:|---:|---|---|"
    for conc in 1 16; do
        r=$(ratio "${RPS[cm-$conc]}" "${RPS[ng-$conc]}")
        echo "| $conc | ${RPS[cm-$conc]} | ${P99[cm-$conc]} | ${RPS[ng-$conc]} | ${P99[ng-$conc]} | ${r}× | $(verdict "$r" ">=" 0.5) | ${ERRS[cm-$conc]}/${ERRS[ng-$conc]} |"
    done
} >"$RESULTS"
results_summary maven "## Maven repository against nginx (\`bench/maven.sh\`)"

log "results written to $RESULTS"
cat "$RESULTS"
