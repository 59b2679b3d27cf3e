#!/usr/bin/env bash
# Lays out the container image's own files for `mvn -Pimage package` (jib then packs them onto an empty `scratch`
# base, so that no registry and no Docker daemon is needed): a jlinked Java 25 runtime in /opt/java, libgguf4j.so in
# /opt/gguf4j/lib (taken from the native classifier jar), the host's C libraries that these two need (glibc and
# its loader, found with ldd), /etc/passwd with a non-root user, and /tmp.
# usage: image-root.sh OUT_DIR LIB_DIR [JDK_HOME]   (LIB_DIR: target/lib, the runtime class path)
set -euo pipefail
out=$1
libdir=$2
jdk=${3:-}

if [ -z "$jdk" ] || [ ! -x "$jdk/bin/jlink" ]; then
  jdk=""
  for d in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    [ -n "$d" ] && [ -x "$d/bin/jlink" ] || continue
    if "$d/bin/java" -version 2>&1 | grep -q 'version "25'; then jdk=$d; break; fi
  done
fi
if [ -z "$jdk" ]; then
  echo "[image] no JDK 25 with jlink found (give -Dimage.jdk=DIR, or JAVA_HOME)" >&2
  exit 1
fi
native_jar=$(ls "$libdir"/gguf4j-native-*-linux-x86_64.jar 2>/dev/null | head -1)
if [ -z "$native_jar" ]; then
  echo "[image] no gguf4j-native-*-linux-x86_64.jar in $libdir" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out/opt/gguf4j/lib" "$out/etc" "$out/tmp" "$out/models"

# The Java modules the CLI and its dependencies use (jdeps), plus the HTTP server, TLS curves and zip file system.
modules=$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 \
  --class-path "$libdir/*" "$libdir"/*.jar "$libdir"/../gguf4j-cli.jar 2>/dev/null | tail -1)
modules=$(echo "$modules,jdk.httpserver,jdk.crypto.ec,jdk.zipfs,jdk.unsupported" | tr , "\n" | sort -u | paste -sd,)
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=zip-6 \
  --generate-cds-archive \
  --output "$out/opt/java"

(cd "$out/opt/gguf4j/lib" && "$jdk/bin/jar" xf "$native_jar" && find . -name 'libgguf4j.so' -exec mv {} . \; \
  && find . -mindepth 1 -type d -prune -exec rm -rf {} + && rm -f ./*.MF)
[ -f "$out/opt/gguf4j/lib/libgguf4j.so" ] || { echo "[image] libgguf4j.so not in $native_jar" >&2; exit 1; }

# The C libraries: everything ldd lists for the runtime's binaries and libraries and for libgguf4j.so.
libs=$(find "$out/opt/java" "$out/opt/gguf4j" -type f \( -name '*.so' -o -path '*/bin/*' \) -print0 \
  | xargs -0 ldd 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' | grep -v "^$out" | sort -u)
for l in $libs; do
  [ -e "$l" ] || continue
  mkdir -p "$out$(dirname "$l")"
  cp -L "$l" "$out$l"
done

cat > "$out/etc/passwd" <<'P'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin
P
cat > "$out/etc/group" <<'G'
root:x:0:
nonroot:x:65532:
G
echo "[image] $(du -sh "$out" | cut -f1) in $out: Java runtime ($modules) from $jdk, libgguf4j.so, $(echo "$libs" | wc -w) C libraries"
