#!/usr/bin/env bash
# Make sure a `docker-compose` binary exists so tests/test_docker_compose.py can run
# `docker-compose config` (it parses and validates the file; no container engine is needed).
# Installs Debian's docker-compose package when the binary is missing; does nothing otherwise.
set -euo pipefail

if command -v docker-compose >/dev/null 2>&1; then
    echo "docker-compose present: $(docker-compose version --short 2>/dev/null || echo unknown)"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "docker-compose is missing and apt-get is not available: install docker-compose" \
         "(or Docker's compose plugin and a docker-compose shim) by hand" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "docker-compose is missing and this user cannot install packages (not root, no sudo)" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends docker-compose
echo "installed docker-compose: $(docker-compose version --short 2>/dev/null || echo unknown)"
