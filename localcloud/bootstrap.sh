#!/usr/bin/env bash
# First step of `npm start` and `npm test` on a fresh clone: make sure node modules are
# installed (and match package-lock.json) before any TypeScript runs.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "datacycle: Node.js 20 or newer is required (node not found on PATH)" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "datacycle: Node.js 20 or newer is required (found $(node --version))" >&2
  exit 1
fi

stamp=node_modules/.datacycle-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "› installing node modules"
  # `npm install` rather than `npm ci`: it follows package-lock.json all the same, but
  # tolerates an optional, Windows-only dependency of vite that the registry does not serve.
  npm install --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# The datacycle command, the CDK app and the function code as the package ships them
# (dist/): `npm start` and `npm test` use the same build a team installs.
npm run --silent build >/dev/null
