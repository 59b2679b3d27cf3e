#!/usr/bin/env bash
# Makes a minimal Java 25 runtime for the GPU machine in .jre/ (git-ignored): jlink of the JDK 25 that
# bin/gguf4j would use, with only the modules the jars need (jdeps on java/cli/target's jars, plus
# java.management and jdk.unsupported for the JMH benchmarks), stripped and compressed (about 30-40 MiB).
#
#   cuda/make-jre.sh [OUT_DIR]          (EXTRA_MODULES=a,b adds modules)
#
# The GPU machine has no JDK: carry .jre/ with the built jars (see cuda/device-check-java.sh).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
out="${1:-$root/.jre}"
min=25

java_major() { # the major version of the JDK at $1, or nothing (as bin/gguf4j)
  local rel="$1/release" v
  [ -x "$1/bin/java" ] || return 0
  if [ -f "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  fi
  echo "${v:-}"
}

find_jdk() { # JAVA_HOME if 25+, else the newest 25+ under the usual folders (as bin/gguf4j)
  local best="" best_v=0 d v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$min" ]; then echo "$JAVA_HOME"; return; fi
  fi
  for d in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.jdks/* "$HOME"/.sdkman/candidates/java/*; do
    [ -d "$d" ] || continue
    v=$(java_major "$d")
    if [ -n "$v" ] && [ "$v" -ge "$min" ] && [ "$v" -gt "$best_v" ]; then best="$d"; best_v="$v"; fi
  done
  echo "$best"
}

jdk="$(find_jdk)"
[ -n "$jdk" ] || { echo "make-jre: no JDK $min+ found (set JAVA_HOME)" >&2; exit 1; }
[ -d "$jdk/jmods" ] || [ -f "$jdk/lib/modules" ] || { echo "make-jre: $jdk has no jmods to link from" >&2; exit 1; }

modules="java.base,java.logging"
cli="$root/java/cli/target"
if [ -f "$cli/gguf4j-cli.jar" ] && [ -d "$cli/lib" ]; then
  found=$("$jdk/bin/jdeps" --multi-release "$min" --print-module-deps --ignore-missing-deps \
    -cp "$cli/lib/*" "$cli/gguf4j-cli.jar" "$cli"/lib/*.jar)
  modules="$found"
else
  echo "make-jre: $cli not built; linking $modules" >&2
fi
# JMH (java/bench) needs these; its java.desktop use is optional and left out (+10 MiB)
modules="$modules,java.management,jdk.unsupported${EXTRA_MODULES:+,$EXTRA_MODULES}"

rm -rf "$out"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=zip-9 \
  --output "$out"
"$out/bin/java" -version 2>&1 | head -1
echo "make-jre: $out ($(du -sh "$out" | cut -f1)) from $jdk, modules $modules"
