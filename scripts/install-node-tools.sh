#!/usr/bin/env bash
# Installs the npm tools the e2e tests run against the binary (graphql-js,
# the graphql-http audit, the graphql-ws (with ws) and graphql-sse clients,
# graphql-codegen, Redocly CLI's OpenAPI linter,
# openapi-typescript + openapi-fetch + tsc for a client generated from the
# OpenAPI document) into e2e/node/node_modules, at the
# exact versions and checksums of e2e/node/package-lock.json. Uses the
# machine's Node.js and npm (Debian's nodejs package when absent) and npm's
# cache (~/.npm): a warm run downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/../e2e/node"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	SUDO=""
	if [ "$(id -u)" -ne 0 ]; then
		SUDO="sudo"
	fi
	echo "install-node-tools: installing Debian nodejs and npm" >&2
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends nodejs npm
fi
echo "install-node-tools: node $(node --version), npm $(npm --version)"

# npm ci: exactly the lock file, checksums verified, node_modules replaced.
# The engine warnings of a few codegen dependencies that prefer Node 22 are
# silenced: the tests show the tools work on the machine's Node 20.
npm ci --prefer-offline --no-audit --no-fund --loglevel=error

for pkg in graphql graphql-http @graphql-codegen/cli @graphql-codegen/typescript @redocly/cli openapi-typescript typescript openapi-fetch; do
	if [ ! -f "node_modules/$pkg/package.json" ]; then
		echo "install-node-tools: FAILED: $pkg missing after npm ci" >&2
		exit 1
	fi
done
echo "install-node-tools: installed $(node -p 'const l=require("./package-lock.json").packages; ["graphql","graphql-http","@graphql-codegen/cli","@graphql-codegen/typescript","@redocly/cli","openapi-typescript","typescript","openapi-fetch"].map(n=>n+"@"+l["node_modules/"+n].version).join(" ")')"
