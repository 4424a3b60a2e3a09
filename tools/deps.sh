#!/bin/sh
# Installs the Debian packages parapet needs to build and test, if any are missing.
# Safe to run repeatedly: it calls apt-get only when something is absent.
set -e
PKGS="gcc make pkg-config libutf8proc-dev libyaml-dev libjansson-dev libpcre2-dev libcurl4-openssl-dev libssl-dev clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
